//! Where signing in sends a person back to: the page they were on when they were asked to sign in
//! (a shared `/videos/:id` link, say), carried as `/login?next=<path>`.
//!
//! The address comes from the URL, which anyone can write, so it is accepted only as a path on this
//! site: an absolute URL, `//host` (a scheme-relative URL, another site), a backslash (which
//! browsers read as a slash) or any control character or space (browsers drop tabs and newlines
//! from URLs, so `/<tab>/host` becomes `//host`) makes it fall back to the library. Anything else
//! would be an open redirect: a link to our login page that lands on someone else's site.

/// The query parameter of `/login` that holds the return address.
pub const PARAM: &str = "next";

/// Longest return address kept; a real page's path is far shorter.
const MAX_LEN: usize = 2048;

/// `raw` if it is a path on this site worth returning to, else `None` (go to the library).
pub fn safe_return_path(raw: &str) -> Option<&str> {
    let rest = raw.strip_prefix('/')?;
    let same_site = raw.len() <= MAX_LEN
        && !rest.starts_with('/')
        // Printable ASCII only: no controls, spaces or non-ASCII look-alikes; no backslash.
        && raw.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    let pointless = raw == "/" || is_login(raw);
    (same_site && !pointless).then_some(raw)
}

/// Where a "Sign in" link on the page at `path` (with its `?query`, if any) should point.
pub fn login_href(path: &str, query: &str) -> String {
    let here = if query.is_empty() || query == "?" {
        path.to_owned()
    } else if query.starts_with('?') {
        format!("{path}{query}")
    } else {
        format!("{path}?{query}")
    };
    match safe_return_path(&here) {
        Some(next) => format!("/login?{PARAM}={}", encode_component(next)),
        None => "/login".to_owned(),
    }
}

fn is_login(path: &str) -> bool {
    path == "/login" || path.starts_with("/login?") || path.starts_with("/login/")
}

/// Percent-encodes everything but unreserved characters and `/` (allowed in a query, and keeps
/// the address readable).
fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_on_this_site_are_kept() {
        let video = "/videos/0123456789abcdef0123456789abcdef";
        assert_eq!(safe_return_path(video), Some(video));
        assert_eq!(safe_return_path("/upload"), Some("/upload"));
        assert_eq!(safe_return_path("/admin?tab=jobs"), Some("/admin?tab=jobs"));
        // Percent-escapes stay escapes: `%2F` is not a slash to a URL parser.
        assert_eq!(
            safe_return_path("/%2F%2Fevil.example"),
            Some("/%2F%2Fevil.example")
        );
    }

    #[test]
    fn other_sites_are_refused() {
        for raw in [
            "https://evil.example/videos/x",
            "http:evil.example",
            "javascript:alert(1)",
            "//evil.example",
            "//evil.example/videos/x",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/videos\\..\\\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/vidéos",
            "videos/x",
            "",
        ] {
            assert_eq!(safe_return_path(raw), None, "{raw:?} must be refused");
        }
        assert_eq!(safe_return_path(&format!("/{}", "a".repeat(MAX_LEN))), None);
    }

    #[test]
    fn the_library_and_the_login_page_are_not_return_addresses() {
        for raw in ["/", "/login", "/login?next=/videos/x", "/login/"] {
            assert_eq!(safe_return_path(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn sign_in_links_carry_the_page_encoded() {
        assert_eq!(
            login_href("/videos/0123456789abcdef0123456789abcdef", ""),
            "/login?next=/videos/0123456789abcdef0123456789abcdef"
        );
        // The query as the browser has it (already percent-encoded), encoded once more.
        assert_eq!(
            login_href("/admin", "tab=jobs&x=a%20b"),
            "/login?next=/admin%3Ftab%3Djobs%26x%3Da%2520b"
        );
        assert_eq!(
            login_href("/admin", "?tab=jobs"),
            "/login?next=/admin%3Ftab%3Djobs"
        );
        assert_eq!(login_href("/", ""), "/login");
        assert_eq!(login_href("/login", "?next=/upload"), "/login");
        assert_eq!(login_href("//evil.example", ""), "/login");
    }
}
