//! Large JSON answers (the library listing, the admin tables) travel compressed; nothing else
//! does: sealed media and downloads are ciphertext (incompressible, and compressing them would
//! only cost CPU), the live events are a WebSocket, and static files are compressed at build time
//! (docs/decisions.md, "The first visit").

use axum::http::{header, Response};
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};

/// Below this many bytes an answer fits in a packet or two anyway.
pub const MIN_COMPRESSED_JSON_BYTES: u16 = 1024;

/// Compresses `application/json` answers of at least `MIN_COMPRESSED_JSON_BYTES` (or of unknown
/// length) with Brotli or gzip, whichever the client prefers.
pub fn json_layer() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .no_deflate()
        .no_zstd()
        // A quick level: the answers are made per request on a small server.
        .quality(CompressionLevel::Precise(4))
        .compress_when(SizeAbove::new(MIN_COMPRESSED_JSON_BYTES).and(JsonOnly))
}

#[derive(Clone, Copy, Debug)]
struct JsonOnly;

impl Predicate for JsonOnly {
    fn should_compress<B>(&self, response: &Response<B>) -> bool
    where
        B: axum::body::HttpBody,
    {
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"))
    }
}
