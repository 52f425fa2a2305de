// The views of lazy routes hydrate asynchronously; laying out those nested futures needs more
// than the default query depth.
#![recursion_limit = "512"]
//! The Cloister web application. The same components render on the server (`ssr`) and hydrate in
//! the browser (`hydrate`); browser-only code sits behind `hydrate`.

pub mod api;
pub mod browser;
pub mod comments;
pub mod components;
pub mod gallery;
pub mod keyring;
pub mod live;
pub mod notify;
pub mod pages;
pub mod player;
pub mod pwa;
pub mod return_to;
pub mod session;
pub mod upload;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{Lazy, ParamSegment, StaticSegment};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Who is signed in, as the server found it: the browser's first render starts from it.
    let known_session =
        session::ServerSession::current().and_then(|known| serde_json::to_string(&known).ok());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/png" href="/favicon.png"/>
                <meta name=session::SESSION_META content=known_session/>
                // The stylesheet and scripts by their content-hashed names (docs/decisions.md,
                // "The first visit").
                <HashedStylesheet options=options.clone() id="leptos"/>
                <link rel="manifest" href="/manifest.webmanifest"/>
                <meta name="theme-color" content="#2f5d8a"/>
                <link rel="apple-touch-icon" href="/icons/apple-touch-icon.png"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let session = session::Session::provide();
    let notices = notify::Notices::provide(session);
    live::LiveJobs::provide(session, notices);
    // Effects run only in the browser, once the page is hydrated.
    Effect::new(|_| browser::mark_hydrated());
    Effect::new(|_| pwa::register_service_worker());
    view! {
        <Title text="Cloister"/>
        <Router>
            <components::SiteHeader/>
            <notify::ServerBusyBanner/>
            <notify::AccessWaitingBanner/>
            <notify::KeyChangeBanner/>
            <main class="site-main">
                <Routes fallback=pages::NotFound>
                    // The video view opens over the library: one parent route, so the gallery
                    // stays mounted while `/videos/:id` comes and goes. Lazy routes load their
                    // code when first opened (pages/lazy.rs).
                    <ParentRoute path=StaticSegment("") view=pages::LibraryWithVideo>
                        <Route path=StaticSegment("") view=|| ()/>
                        <Route path=(StaticSegment("videos"), ParamSegment("id")) view={Lazy::<pages::VideoRoute>::new()}/>
                    </ParentRoute>
                    <Route path=StaticSegment("login") view=pages::LoginPage/>
                    <Route path=StaticSegment("invite") view=pages::InvitePage/>
                    <Route path=StaticSegment("setup") view={Lazy::<pages::SetupRoute>::new()}/>
                    <Route path=StaticSegment("admin") view={Lazy::<pages::AdminRoute>::new()}/>
                    <Route path=StaticSegment("upload") view={Lazy::<pages::UploadRoute>::new()}/>
                    <Route path=(StaticSegment("s"), ParamSegment("id")) view={Lazy::<pages::ShareRoute>::new()}/>
                    <Route path=StaticSegment("trash") view={Lazy::<pages::TrashRoute>::new()}/>
                </Routes>
            </main>
            <notify::Toasts/>
        </Router>
    }
}
