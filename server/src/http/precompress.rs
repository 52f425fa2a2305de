//! `cloister compress-site`: writes a Brotli (`.br`) and a gzip (`.gz`) copy beside every
//! compressible file of the built site, once, after `cargo leptos build`. The server then sends
//! the copy the browser accepts (`static_files`) and never compresses a file per request. Done by
//! the server binary itself (with the `brotli` and `flate2` crates) so building needs no other
//! tool (docs/decisions.md, "The first visit").

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct CompressSiteArgs {
    /// The built site (what `serve --site-root` serves).
    #[arg(long, env = "CLOISTER_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// Types worth compressing; images and video are compressed already.
const COMPRESSIBLE: &[&str] = &[
    "wasm",
    "js",
    "mjs",
    "css",
    "html",
    "json",
    "webmanifest",
    "svg",
    "txt",
    "map",
];

/// What one run wrote, for the summary line.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub plain_bytes: u64,
    pub brotli_bytes: u64,
}

pub fn run(args: CompressSiteArgs) -> anyhow::Result<()> {
    let summary = compress_site(&args.site_root)?;
    println!(
        "compressed {} files of {}: {} bytes, {} with Brotli",
        summary.files,
        args.site_root.display(),
        summary.plain_bytes,
        summary.brotli_bytes
    );
    Ok(())
}

/// Compresses every compressible file under `root`, replacing copies from an earlier build.
pub fn compress_site(root: &Path) -> anyhow::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs_err::read_dir(&dir)?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if is_compressible(&path) {
                let (plain, brotli) = compress_file(&path)?;
                summary.files += 1;
                summary.plain_bytes += plain;
                summary.brotli_bytes += brotli;
            }
        }
    }
    Ok(summary)
}

fn is_compressible(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| COMPRESSIBLE.contains(&ext))
}

/// Writes `<file>.br` (quality 11, the smallest) and `<file>.gz` (level 9); returns the plain and
/// Brotli sizes.
fn compress_file(path: &Path) -> anyhow::Result<(u64, u64)> {
    let plain = fs_err::read(path)?;

    let mut brotli = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 24,
            size_hint: plain.len(),
            ..Default::default()
        };
        let mut writer = brotli::CompressorWriter::with_params(&mut brotli, 64 * 1024, &params);
        writer.write_all(&plain)?;
        writer.flush()?;
    }

    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&plain)?;
    let gzip = gzip.finish()?;

    write_beside(path, "br", &brotli)?;
    write_beside(path, "gz", &gzip)?;
    Ok((plain.len() as u64, brotli.len() as u64))
}

fn write_beside(path: &Path, extension: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(extension);
    Ok(fs_err::write(&name, bytes)?)
}
