//! Facts about the request that depend on how the server is deployed: the client's address and
//! whether the browser reached us over HTTPS. Proxy headers count only with `--trust-proxy`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;

use crate::config::AccountsConfig;
use crate::error::AppError;
use crate::state::AppState;

/// The client's IP address, for throttling sign-in attempts.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            state.config.accounts.trust_proxy,
        )))
    }
}

/// The peer address, or with a trusted proxy the last X-Forwarded-For entry (the one our proxy
/// appended; earlier entries are whatever the client claimed). Without connection info (requests
/// driven in process) the address is loopback.
pub fn client_ip(peer: Option<IpAddr>, headers: &HeaderMap, trust_proxy: bool) -> IpAddr {
    if trust_proxy {
        // Only the rightmost entry: if it is not an address, nothing further left is trusted.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .and_then(|entry| entry.trim().parse::<IpAddr>().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// Whether the browser talks to us over HTTPS: the configured public URL says so, or a trusted
/// proxy says it terminated TLS.
pub fn served_over_https(headers: &HeaderMap, config: &AccountsConfig) -> bool {
    let public_https = config.public_url.as_deref().is_some_and(|url| {
        url.get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    });
    let proxied_https = config.trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"));
    public_https || proxied_https
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header"));
        }
        map
    }

    #[test]
    fn forwarded_for_is_ignored_unless_the_proxy_is_trusted() {
        let peer = Some(IpAddr::from([10, 0, 0, 9]));
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 5.6.7.8")]);
        assert_eq!(client_ip(peer, &h, false), IpAddr::from([10, 0, 0, 9]));
        assert_eq!(client_ip(peer, &h, true), IpAddr::from([5, 6, 7, 8]));
        assert_eq!(
            client_ip(None, &HeaderMap::new(), true),
            IpAddr::from([127, 0, 0, 1])
        );
    }
}
