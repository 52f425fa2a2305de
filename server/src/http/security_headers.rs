//! Response headers every page and API answer carries, and the Content-Security-Policy of pages.

use axum::http::request::Parts;
use axum::http::uri::Authority;
use axum::http::{header, HeaderName, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::config::AccountsConfig;
use crate::http::request_info::served_over_https;

/// Everything but pages (API answers, built assets): nothing may load or run.
pub const NON_PAGE_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The service worker (`/sw.js`): a worker's own fetches obey the policy its script came with, and
/// it fetches pages and built files from this server to keep them (docs/decisions.md, "Installable
/// app"). Nothing else may load.
pub const WORKER_POLICY: &str =
    "default-src 'none'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Gives `/sw.js` the worker policy instead of the strictest one (set before `layers`, which only
/// fill in what is missing).
pub async fn worker_policy(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_worker = request.uri().path() == "/sw.js";
    let mut response = next.run(request).await;
    if is_worker {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(WORKER_POLICY),
        );
    }
    response
}

/// Layers that forbid framing and MIME sniffing, keep URLs out of Referer headers, and give
/// every response without a policy of its own (all but pages) the strictest one.
pub fn layers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    [
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        set(header::X_FRAME_OPTIONS, "DENY"),
        set(header::REFERRER_POLICY, "no-referrer"),
        set(header::CONTENT_SECURITY_POLICY, NON_PAGE_POLICY),
    ]
}

/// What a page needs and nothing more: our own scripts plus Leptos's inline hydration and
/// resource scripts, which carry this response's nonce; WebAssembly compilation; our stylesheet
/// and the `style` attributes of progress bars; decrypted thumbnails and video as `blob:` URLs;
/// fetches and the `/api/events` WebSocket to this server only.
pub fn page_policy(nonce: &str, websocket_origin: Option<&str>) -> String {
    let websocket = websocket_origin
        .map(|origin| format!(" {origin}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; \
         script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; style-src-attr 'unsafe-inline'; \
         img-src 'self' blob:; media-src 'self' blob:; \
         connect-src 'self'{websocket}; \
         manifest-src 'self'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Run by Leptos before it renders a page (the nonce and the response exist then): sets the
/// page's policy with this response's nonce. Does nothing for a static file.
pub fn set_page_policy(accounts: &AccountsConfig) {
    let (Some(nonce), Some(response)) =
        (leptos::nonce::use_nonce(), use_context::<ResponseOptions>())
    else {
        return;
    };
    let websocket = use_context::<Parts>().and_then(|parts| websocket_origin(&parts, accounts));
    match HeaderValue::from_str(&page_policy(&nonce, websocket.as_deref())) {
        Ok(value) => response.insert_header(header::CONTENT_SECURITY_POLICY, value),
        Err(err) => tracing::error!(error = %err, "the page policy is not a header value"),
    }
}

/// `ws://host:port` (or `wss://`) of the page, for browsers whose `'self'` does not cover
/// WebSockets. Only a Host that parses as an authority is used, so it cannot add directives.
fn websocket_origin(parts: &Parts, accounts: &AccountsConfig) -> Option<String> {
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let authority: Authority = host.parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let scheme = if served_over_https(&parts.headers, accounts) {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(host: &str) -> Parts {
        let (parts, ()) = axum::http::Request::get("/")
            .header(header::HOST, host)
            .body(())
            .expect("request")
            .into_parts();
        parts
    }

    #[test]
    fn the_websocket_origin_comes_only_from_a_well_formed_host() {
        let accounts = crate::config::Config::with_data_dir("/nonexistent").accounts;
        assert_eq!(
            websocket_origin(&parts("videos.example.org:8443"), &accounts).as_deref(),
            Some("ws://videos.example.org:8443")
        );
        assert_eq!(websocket_origin(&parts("h; script-src *"), &accounts), None);
        assert_eq!(websocket_origin(&parts("user@h"), &accounts), None);
    }
}
