//! (Placeholder: the edit action is being built.)

use std::sync::Arc;

use leptos::prelude::*;

use crate::pages::video::details::Opened;

#[component]
pub fn EditAction(opened: Arc<Opened>) -> impl IntoView {
    let _ = opened;
}
