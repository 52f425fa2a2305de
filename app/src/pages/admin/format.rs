//! Numbers for people: sizes, durations, ages.

/// "512 B", "12.0 KiB", "300.0 MiB", "1.5 GiB".
pub use cloister_shared::protocol::human_bytes as bytes;

pub use cloister_shared::api::admin::describe_span as span;

/// Unix seconds now (0 without a browser; the admin page renders only in one).
pub fn unix_now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    0
}

/// "3 min ago", or "–" when there is no time.
pub fn ago(at: Option<i64>, now: i64) -> String {
    at.map_or_else(
        || "–".to_owned(),
        |at| format!("{} ago", span(u64::try_from(now - at).unwrap_or(0))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times_read_at_a_glance() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
        assert_eq!(ago(Some(100), 160), "60 s ago");
        assert_eq!(ago(None, 160), "–");
    }
}
