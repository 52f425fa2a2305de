//! HTTP plumbing shared by every resource's router.

pub mod compression;
pub mod csrf;
pub mod json;
pub mod page_session;
pub mod precompress;
pub mod request_info;
pub mod security_headers;
pub mod serve;
pub mod static_files;

use crate::config::AccountsConfig;

/// Run by Leptos before it renders any page: the page's Content-Security-Policy and caching.
pub fn page_context(accounts: &AccountsConfig) {
    security_headers::set_page_policy(accounts);
    static_files::set_page_caching();
}
