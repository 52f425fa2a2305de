//! (Placeholder: the share action is being built.)

use std::sync::Arc;

use leptos::prelude::*;

use crate::pages::video::details::Opened;

#[component]
pub fn ShareAction(opened: Arc<Opened>) -> impl IntoView {
    let _ = opened;
}
