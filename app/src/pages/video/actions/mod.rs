//! What an owner or an admin can do with an open video: delete it (to the trash), edit its title
//! and description, share it outside the group. Each action is its own component; members who
//! may not act see none of them.

mod delete;
mod edit;
mod share;

use std::sync::Arc;

use leptos::prelude::*;

use super::details::Opened;
use delete::DeleteAction;
use edit::EditAction;
use share::ShareAction;

#[component]
pub fn VideoActions(opened: Arc<Opened>) -> impl IntoView {
    view! {
        <EditAction opened=opened.clone()/>
        <ShareAction opened=opened.clone()/>
        <DeleteAction opened/>
    }
}
