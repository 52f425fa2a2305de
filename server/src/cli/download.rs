//! `cloister download ID [-o FILE]`: fetches the sealed original and decrypts it on this machine,
//! chunk by chunk (memory stays at about one chunk whatever the size). The server never needs the
//! video's key for this.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use cloister_shared::api::downloads::clean_file_name;
use cloister_shared::crypto::stream::{chunk_count, open_all, sealed_chunk_len, HEADER_LEN};
use cloister_shared::{Purpose, StreamHeader, StreamOpener, VideoId};
use indicatif::{ProgressBar, ProgressStyle};

use super::remote::sign_in_and_unlock;
use super::ClientArgs;

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// The video's id (as `cloister ls` shows it).
    pub id: String,
    /// Where to write the decrypted video (default: its title, in the current directory).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

pub async fn run(args: DownloadArgs) -> anyhow::Result<()> {
    let video = VideoId::parse(&args.id)
        .map_err(|_| anyhow::anyhow!("{} is not a video id; `cloister ls` lists them.", args.id))?;
    let (client, unlocked) = sign_in_and_unlock(&args.client).await?;
    let key = &unlocked.library_key;
    let summary = client.video(&video).await?;
    let dek = unlocked
        .unwrap_dek(&video, &summary.wrapped_dek)
        .map_err(|_| anyhow::anyhow!("Unable to decrypt the video's key. Check passphrase."))?;
    let title = hex::decode(&summary.title_sealed)
        .ok()
        .and_then(|sealed| open_all(&dek, &video, &Purpose::Title, &sealed).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|| video.to_string());
    // The name the file was uploaded with, else its title.
    let default_name = summary.open_file_name(key).unwrap_or_else(|| title.clone());
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(clean_file_name(&default_name)));
    if output.exists() && !args.force {
        bail!(
            "{} already exists; choose another name with -o, or pass --force.",
            output.display()
        );
    }

    let size = summary.size_bytes;
    let mut response = client.sealed_original(&video).await?;
    let partial = partial_path(&output);
    let mut file = fs_err::File::create(&partial)?;
    let bar = progress_bar(size);

    // Bytes arrive in network-sized pieces; each sealed chunk is opened as soon as it is whole.
    let mut buffer: Vec<u8> = Vec::new();
    let mut opener: Option<(StreamOpener, u32)> = None;
    let mut index = 0u64;
    let mut chunks = u64::MAX;
    let mut failure = None;
    while let Some(piece) = response
        .chunk()
        .await
        .context("the download was interrupted; run the command again")?
    {
        buffer.extend_from_slice(&piece);
        if opener.is_none() && buffer.len() >= HEADER_LEN {
            let header = StreamHeader::parse(&buffer)
                .map_err(|_| anyhow::anyhow!("The stored file is not a Cloister sealed stream."))?;
            chunks = chunk_count(size, header.chunk_size);
            opener = Some((
                StreamOpener::new(&dek, &video, &Purpose::Original, &header)?,
                header.chunk_size,
            ));
            buffer.drain(..HEADER_LEN);
        }
        let Some((opener, chunk_size)) = &opener else {
            continue;
        };
        while index < chunks {
            let want = sealed_chunk_len(size, *chunk_size, index).unwrap_or(0) as usize;
            if want == 0 || buffer.len() < want {
                break;
            }
            match opener.open_chunk(index, &buffer[..want], index + 1 == chunks) {
                Ok(plain) => {
                    file.write_all(&plain)?;
                    bar.inc(plain.len() as u64);
                }
                Err(_) => {
                    failure = Some(index);
                    break;
                }
            }
            buffer.drain(..want);
            index += 1;
        }
        if failure.is_some() {
            break;
        }
    }
    bar.finish_and_clear();
    if let Some(bad) = failure {
        let _ = fs_err::remove_file(&partial);
        // Counted from 1, as the browser says it.
        bail!(
            "Unable to decrypt segment {} of the original. Check passphrase; if it is right, the stored file is damaged.",
            bad + 1
        );
    }
    if index != chunks || !buffer.is_empty() {
        let _ = fs_err::remove_file(&partial);
        bail!("The download ended early or had extra bytes ({index} of {chunks} chunks); nothing was written. Run the command again.");
    }
    file.sync_all()?;
    drop(file);
    fs_err::rename(&partial, &output)?;
    println!("Saved \"{title}\" to {} ({size} bytes).", output.display());
    Ok(())
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    output.with_file_name(name)
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "decrypting [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
