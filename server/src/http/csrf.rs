//! Cross-site request forgery defence for the API, on top of the SameSite=Strict cookie: every
//! mutating request must carry `X-Cloister-Request: 1` (a cross-site form cannot send it, and a
//! cross-origin fetch that sets it needs a CORS preflight we never grant), and an `Origin` header,
//! when present, must be our own origin.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use cloister_shared::api::{REQUEST_HEADER, REQUEST_HEADER_VALUE};

use crate::config::AccountsConfig;
use crate::error::AppError;
use crate::state::AppState;

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_safe(request.method()) {
        return next.run(request).await;
    }
    match check(request.headers(), request.uri(), &state.config.accounts) {
        Ok(()) => next.run(request).await,
        Err(err) => err.into_response(),
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn check(headers: &HeaderMap, uri: &Uri, config: &AccountsConfig) -> Result<(), AppError> {
    let marked = headers
        .get(REQUEST_HEADER)
        .is_some_and(|value| value.as_bytes() == REQUEST_HEADER_VALUE.as_bytes());
    if !marked {
        return Err(AppError::Forbidden(
            "This request was refused: it lacks the X-Cloister-Request: 1 header that Cloister's \
             own pages and command-line client send, so it may come from another site."
                .to_owned(),
        ));
    }
    same_origin(headers, uri, config)
}

/// An `Origin` header, when present, must be our own, scheme included: `--public-url`, or the
/// Host the request was sent to with the scheme it arrived over (plain HTTP, unless a trusted
/// proxy says otherwise in X-Forwarded-Proto). (WebSocket handshakes are GETs, which the guard
/// lets through, so the events route calls this itself: a page on another site must not open a
/// socket with our cookie.)
pub fn same_origin(
    headers: &HeaderMap,
    uri: &Uri,
    config: &AccountsConfig,
) -> Result<(), AppError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Same-origin requests from older browsers, and the CLI, send no Origin.
        return Ok(());
    };
    let origin = origin.to_str().ok().and_then(Origin::parse);
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let scheme = request_scheme(headers, config.trust_proxy);
    let public = config.public_url.as_deref().and_then(Origin::parse);
    let ours = origin.as_ref().is_some_and(|origin| {
        public.as_ref() == Some(origin) || host.is_some_and(|host| origin.is(scheme, host))
    });
    if ours {
        return Ok(());
    }
    if let (Some(origin), Some(host)) = (&origin, host) {
        if origin.scheme != scheme && origin.is(&origin.scheme, host) {
            // Most likely a TLS proxy we were not told about: say what to set.
            tracing::warn!(
                origin = %origin.scheme,
                "refused a request whose Origin names this host over another scheme; behind a \
                 TLS proxy, set --public-url (or --trust-proxy with X-Forwarded-Proto)"
            );
        }
    }
    Err(AppError::Forbidden(
        "This request came from another website (its Origin is not this server), so it was \
         refused."
            .to_owned(),
    ))
}

/// The scheme the browser used: what a trusted proxy says it terminated, else plain HTTP, the
/// only thing Cloister itself speaks.
fn request_scheme(headers: &HeaderMap, trust_proxy: bool) -> &'static str {
    let forwarded_https = trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    if forwarded_https {
        "https"
    } else {
        "http"
    }
}

/// `scheme://host:port`, lowercased, with the scheme's default port filled in.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn parse(value: &str) -> Option<Self> {
        let uri: Uri = value.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = default_port(&scheme)?;
        let authority = uri.authority()?;
        Some(Self {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    /// Whether this origin is `scheme` and the Host header's host and port.
    fn is(&self, scheme: &str, host: &str) -> bool {
        let Ok(authority) = host.parse::<axum::http::uri::Authority>() else {
            return false;
        };
        let port = authority.port_u16().or_else(|| default_port(scheme));
        self.scheme == scheme
            && authority.host().eq_ignore_ascii_case(&self.host)
            && port == Some(self.port)
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("header"));
        }
        map
    }

    fn config(public_url: Option<&str>, trust_proxy: bool) -> AccountsConfig {
        let mut config = crate::config::Config::with_data_dir("/nonexistent").accounts;
        config.public_url = public_url.map(str::to_owned);
        config.trust_proxy = trust_proxy;
        config
    }

    fn allowed(pairs: &[(&'static str, &'static str)], public_url: Option<&str>) -> bool {
        let config = config(public_url, false);
        check(&headers(pairs), &Uri::from_static("/api/x"), &config).is_ok()
    }

    #[test]
    fn an_origin_with_another_scheme_is_refused() {
        let mark = ("x-cloister-request", "1");
        let uri = Uri::from_static("/api/x");
        let https_origin = [mark, ("host", "h:3000"), ("origin", "https://h:3000")];
        assert!(!allowed(&https_origin, None), "a plain-HTTP server");
        assert!(!allowed(
            &[mark, ("host", "h"), ("origin", "https://h")],
            None
        ));
        // X-Forwarded-Proto counts only from a trusted proxy.
        let proxied = [
            mark,
            ("host", "h"),
            ("origin", "https://h"),
            ("x-forwarded-proto", "https"),
        ];
        assert!(check(&headers(&proxied), &uri, &config(None, false)).is_err());
        assert!(check(&headers(&proxied), &uri, &config(None, true)).is_ok());
        // ... and then plain http is no longer ours.
        let downgraded = [
            mark,
            ("host", "h"),
            ("origin", "http://h"),
            ("x-forwarded-proto", "https"),
        ];
        assert!(check(&headers(&downgraded), &uri, &config(None, true)).is_err());
    }

    #[test]
    fn origins_are_compared_by_scheme_host_and_port() {
        let mark = ("x-cloister-request", "1");
        assert!(allowed(&[mark, ("host", "h:3000")], None));
        assert!(allowed(
            &[mark, ("host", "H:3000"), ("origin", "http://h:3000")],
            None
        ));
        assert!(allowed(
            &[mark, ("host", "h"), ("origin", "http://h")],
            None
        ));
        assert!(!allowed(
            &[mark, ("host", "h:3000"), ("origin", "http://evil:3000")],
            None
        ));
        assert!(!allowed(
            &[mark, ("host", "h:3000"), ("origin", "http://h:3001")],
            None
        ));
        assert!(!allowed(&[mark, ("host", "h"), ("origin", "null")], None));
        let public = Some("https://videos.example.org");
        assert!(allowed(
            &[
                mark,
                ("host", "127.0.0.1:3000"),
                ("origin", "https://videos.example.org")
            ],
            public
        ));
        assert!(!allowed(
            &[
                mark,
                ("host", "127.0.0.1:3000"),
                ("origin", "http://videos.example.org")
            ],
            public
        ));
        assert!(!allowed(&[("host", "h")], None));
        assert!(!allowed(
            &[("x-cloister-request", "yes"), ("host", "h")],
            None
        ));
    }
}
