use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};

use crate::api;
use crate::return_to::login_href;
use crate::session::{Auth, Session};
use cloister_shared::api::Role;

/// The top bar: who is signed in, the lock button while the library is open, and sign out.
///
/// On a phone the links fold into a menu behind one button (docs/decisions.md, "Phones and the
/// visual pass"): until the page has hydrated the button cannot work, so the stylesheet folds the
/// links only once `<html data-hydrated>` is set; before that they wrap onto a second row.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let location = use_location();
    let (pathname, search) = (location.pathname, location.search);
    let menu_open = RwSignal::new(false);
    let toggle = NodeRef::<leptos::html::Button>::new();
    // Escape closes the open menu and puts the focus back on its button.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && menu_open.get_untracked() {
            menu_open.set(false);
            if let Some(button) = toggle.get_untracked() {
                let _ = button.focus();
            }
        }
    };
    // Following a link (or Back) closes the menu.
    Effect::new(move |_| {
        pathname.track();
        menu_open.set(false);
    });
    // Signing in from here comes back here (a shared video link, say).
    let sign_in_href = move || login_href(&pathname.get(), &search.get());
    let sign_out = move |_| {
        let navigate = navigate.clone();
        menu_open.set(false);
        spawn_local(async move {
            // Whatever the server says, this tab forgets the key and the signed-in state.
            let _ = api::logout().await;
            session.signed_out();
            navigate("/login", Default::default());
        });
    };
    let signed_in = move || matches!(session.auth.get(), Auth::SignedIn(_));
    // The link to the page on screen says so (and is marked for the eye).
    let current = move |path: &'static str| move || (pathname.get() == path).then_some("page");
    // A shared video's page is for people without an account: no sign-in button there either.
    let no_sign_in_button = move || pathname.get() == "/login" || pathname.get().starts_with("/s/");
    view! {
        <header class="site-header" class:menu-open=move || menu_open.get() on:keydown=on_key>
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true"></span>
                "Cloister"
            </a>
            <Show when=signed_in>
                <button
                    class="menu-toggle"
                    type="button"
                    node_ref=toggle
                    aria-controls="site-nav"
                    aria-expanded=move || menu_open.get().to_string()
                    data-testid="menu-toggle"
                    on:click=move |_| menu_open.update(|open| *open = !*open)
                >
                    <span class="menu-icon" aria-hidden="true"></span>
                    "Menu"
                </button>
            </Show>
            <nav id="site-nav" class="site-nav" class:has-menu=signed_in aria-label="Main">
                {move || match session.auth.get() {
                    Auth::SignedIn(me) => {
                        let is_admin = me.role == Role::Admin;
                        view! {
                            <span class="who" data-testid="signed-in-as">{me.username.clone()}</span>
                            <a class="nav-link" href="/" aria-current=current("/")>"Library"</a>
                            <a class="nav-link" href="/upload" aria-current=current("/upload")>"Upload"</a>
                            <a class="nav-link" href="/trash" aria-current=current("/trash")>"Trash"</a>
                            <Show when=move || is_admin>
                                <a class="nav-link" href="/admin" aria-current=current("/admin")>"Admin"</a>
                            </Show>
                            <Show when=move || session.unlocked()>
                                <button
                                    class="button secondary"
                                    on:click=move |_| {
                                        menu_open.set(false);
                                        session.forget_key();
                                    }
                                >
                                    "Lock"
                                </button>
                            </Show>
                            <button class="button secondary" on:click=sign_out.clone()>"Sign out"</button>
                        }
                            .into_any()
                    }
                    // On the sign-in page itself the form is the way in; a shared video needs no account.
                    Auth::SignedOut if no_sign_in_button() => ().into_any(),
                    Auth::SignedOut => {
                        view! { <a class="button secondary" href=sign_in_href>"Sign in"</a> }.into_any()
                    }
                    _ => ().into_any(),
                }}
            </nav>
        </header>
    }
}
