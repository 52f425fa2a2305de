//! What both clients (the browser and the CLI) share about talking to the server: when a failed request is worth trying again and how long to wait, and how a byte count
//! is written for people. Each client keeps only its transport (fetch, reqwest).

pub mod retry;
