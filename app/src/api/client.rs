//! The one place that speaks HTTP: JSON in and out, the CSRF header on every mutating request, and
//! the server's `{"error": {...}}` bodies turned into messages.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A failed call: the HTTP status (0 when the server was not reached) and a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiError {
    fn local(message: &str) -> Self {
        Self {
            status: 0,
            code: "network".to_owned(),
            message: message.to_owned(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

const UNREACHABLE: &str = "The server could not be reached. Check your connection and try again.";

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use cloister_shared::api::{ErrorBody, REQUEST_HEADER, REQUEST_HEADER_VALUE};
    use gloo_net::http::{Request, RequestBuilder, Response};

    pub async fn send<T: DeserializeOwned>(
        request: Result<Request, gloo_net::Error>,
    ) -> Result<T, ApiError> {
        let request = request.map_err(|_| ApiError::local("The request could not be prepared."))?;
        let response = request
            .send()
            .await
            .map_err(|_| ApiError::local(UNREACHABLE))?;
        decode(response).await
    }

    pub fn mutating(builder: RequestBuilder) -> RequestBuilder {
        builder.header(REQUEST_HEADER, REQUEST_HEADER_VALUE)
    }

    async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ApiError> {
        let status = response.status();
        if response.ok() {
            let text = response
                .text()
                .await
                .map_err(|_| ApiError::local(UNREACHABLE))?;
            // Endpoints that answer "204 No Content" decode as JSON null.
            let text = if text.is_empty() {
                "null".to_owned()
            } else {
                text
            };
            return serde_json::from_str(&text).map_err(|_| ApiError {
                status,
                code: "bad_response".to_owned(),
                message:
                    "The server sent an answer this page does not understand. Reload the page."
                        .to_owned(),
            });
        }
        match response.json::<ErrorBody>().await {
            Ok(body) => Err(ApiError {
                status,
                code: body.error.code,
                message: body.error.message,
            }),
            Err(_) => Err(ApiError {
                status,
                code: "http".to_owned(),
                message: format!(
                    "The server answered with status {status}. Try again in a moment."
                ),
            }),
        }
    }
}

#[cfg(feature = "hydrate")]
pub async fn get<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    browser::send(gloo_net::http::Request::get(url).build()).await
}

#[cfg(feature = "hydrate")]
pub async fn post<B: Serialize, T: DeserializeOwned>(url: &str, body: &B) -> Result<T, ApiError> {
    browser::send(browser::mutating(gloo_net::http::Request::post(url)).json(body)).await
}

#[cfg(feature = "hydrate")]
pub async fn put<B: Serialize, T: DeserializeOwned>(url: &str, body: &B) -> Result<T, ApiError> {
    browser::send(browser::mutating(gloo_net::http::Request::put(url)).json(body)).await
}

#[cfg(feature = "hydrate")]
pub async fn patch<B: Serialize, T: DeserializeOwned>(url: &str, body: &B) -> Result<T, ApiError> {
    browser::send(browser::mutating(gloo_net::http::Request::patch(url)).json(body)).await
}

/// PUT of raw bytes (a sealed chunk).
#[cfg(feature = "hydrate")]
pub async fn put_bytes<T: DeserializeOwned>(url: &str, body: &[u8]) -> Result<T, ApiError> {
    let request = browser::mutating(gloo_net::http::Request::put(url))
        .header("content-type", "application/octet-stream")
        .body(js_sys::Uint8Array::from(body));
    browser::send(request).await
}

#[cfg(feature = "hydrate")]
pub async fn delete(url: &str) -> Result<(), ApiError> {
    browser::send::<serde_json::Value>(
        browser::mutating(gloo_net::http::Request::delete(url)).build(),
    )
    .await
    .map(|_| ())
}

/// DELETE that answers a JSON body.
#[cfg(feature = "hydrate")]
pub async fn delete_json<T: DeserializeOwned>(url: &str) -> Result<T, ApiError> {
    browser::send(browser::mutating(gloo_net::http::Request::delete(url)).build()).await
}

// On the server nothing calls these: pages only call the API from event handlers and effects,
// which run in the browser after hydration.
#[cfg(not(feature = "hydrate"))]
pub async fn get<T: DeserializeOwned>(_url: &str) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn post<B: Serialize, T: DeserializeOwned>(_url: &str, _body: &B) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn put<B: Serialize, T: DeserializeOwned>(_url: &str, _body: &B) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn patch<B: Serialize, T: DeserializeOwned>(
    _url: &str,
    _body: &B,
) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn put_bytes<T: DeserializeOwned>(_url: &str, _body: &[u8]) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn delete(_url: &str) -> Result<(), ApiError> {
    Err(ApiError::local(UNREACHABLE))
}

#[cfg(not(feature = "hydrate"))]
pub async fn delete_json<T: DeserializeOwned>(_url: &str) -> Result<T, ApiError> {
    Err(ApiError::local(UNREACHABLE))
}
