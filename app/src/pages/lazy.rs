//! Pages a first visit does not need, as lazy routes: with `cargo leptos build --split` their
//! code (the admin console, the upload engine, the player and the download panel) is a separate
//! WebAssembly file that the browser fetches when the page is first opened, keeping the first
//! visit's download small (docs/decisions.md, "The first visit"). Without `--split` they are
//! ordinary routes.

use leptos::prelude::*;
use leptos_router::{lazy_route, LazyRoute};

#[derive(Debug)]
pub struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::AdminPage/> }.into_any()
    }
}

#[derive(Debug)]
pub struct UploadRoute;

#[lazy_route]
impl LazyRoute for UploadRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::UploadPage/> }.into_any()
    }
}

#[derive(Debug)]
pub struct VideoRoute;

#[lazy_route]
impl LazyRoute for VideoRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::VideoView/> }.into_any()
    }
}

/// `/s/:id`: a shared video's page, for people without an account.
#[derive(Debug)]
pub struct ShareRoute;

#[lazy_route]
impl LazyRoute for ShareRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::SharePage/> }.into_any()
    }
}

/// `/trash`: videos deleted to the trash, to restore or delete for good.
#[derive(Debug)]
pub struct TrashRoute;

#[lazy_route]
impl LazyRoute for TrashRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::TrashPage/> }.into_any()
    }
}

/// `/setup#<secret>`: the first run (key making, the recovery sheet), needed once per server.
#[derive(Debug)]
pub struct SetupRoute;

#[lazy_route]
impl LazyRoute for SetupRoute {
    fn data() -> Self {
        Self
    }

    fn view(_this: Self) -> AnyView {
        view! { <super::SetupPage/> }.into_any()
    }
}
