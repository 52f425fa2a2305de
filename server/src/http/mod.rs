//! HTTP plumbing shared by every resource's router.

pub mod json;
pub mod security_headers;
