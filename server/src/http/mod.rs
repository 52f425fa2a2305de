//! HTTP plumbing shared by every resource's router.

pub mod csrf;
pub mod json;
pub mod request_info;
pub mod security_headers;
pub mod serve;
