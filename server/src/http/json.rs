//! A JSON extractor whose rejections are `AppError`s, so malformed bodies get the same JSON error
//! shape and a message a person understands instead of axum's plain-text default.
//!
//! Every request body of the API is a JSON object: an array or a bare value is refused (400) even
//! where every field is optional, and a body over the limit is a 413, not a 400.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::AppError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => return Err(rejected(&rejection)),
        };
        if !value.is_object() {
            return Err(AppError::BadRequest(
                "The request body must be a JSON object ({...}).".to_owned(),
            ));
        }
        // The path names the field at fault, e.g. "role: unknown variant `superuser`".
        serde_path_to_error::deserialize(value)
            .map(Self)
            .map_err(|err| {
                AppError::BadRequest(format!("The request body has the wrong shape: {err}"))
            })
    }
}

fn rejected(rejection: &JsonRejection) -> AppError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return AppError::PayloadTooLarge("The request body is too large.".to_owned());
    }
    AppError::BadRequest(match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Send the request body as JSON (Content-Type: application/json).".to_owned()
        }
        JsonRejection::JsonSyntaxError(_) => "The request body is not valid JSON.".to_owned(),
        JsonRejection::JsonDataError(err) => {
            format!("The request body has the wrong shape: {}", err.body_text())
        }
        _ => "The request body could not be read.".to_owned(),
    })
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}
