//! What both clients (the browser and the CLI) share about talking to the server: the API's
//! paths, when a failed request is worth trying again and how long to wait, and how a byte count
//! is written for people. Each client keeps only its transport (fetch, reqwest).

pub mod paths;
pub mod retry;

/// A byte count as people read it, in binary units with one decimal ("512 B", "1.5 KiB",
/// "50.0 GiB"): file sizes, quotas and storage are all written this one way.
pub fn human_bytes(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_counts_read_in_binary_units_with_one_decimal() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(100 * 1024 * 1024), "100.0 MiB");
        assert_eq!(human_bytes(50 * 1024 * 1024 * 1024), "50.0 GiB");
    }
}
