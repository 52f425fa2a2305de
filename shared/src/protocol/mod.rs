//! What both clients (the browser and the CLI) share about talking to the server: the API's
//! paths, and when a failed request is worth trying again and how long to wait. Each client keeps
//! only its transport (fetch, reqwest).

pub mod paths;
pub mod retry;
