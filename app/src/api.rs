//! Calls from the browser to the server's JSON API.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    pub database: String,
}

/// `GET /api/health`, or a sentence saying why it could not be reached.
#[cfg(feature = "hydrate")]
pub async fn health() -> Result<Health, String> {
    let response = gloo_net::http::Request::get("/api/health")
        .send()
        .await
        .map_err(|_| "The server could not be reached. Check your connection.".to_owned())?;
    if !response.ok() {
        return Err(format!(
            "The server answered with status {}.",
            response.status()
        ));
    }
    response
        .json::<Health>()
        .await
        .map_err(|_| "The server sent an answer this page does not understand.".to_owned())
}

/// On the server there is no browser to call from; pages only call this after hydration.
#[cfg(not(feature = "hydrate"))]
pub async fn health() -> Result<Health, String> {
    Err("Only available in the browser.".to_owned())
}
