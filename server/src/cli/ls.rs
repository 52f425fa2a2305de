//! `cloister ls`: the library with titles decrypted on this machine.

use clap::Args;
use cloister_shared::api::VideoSummary;
use cloister_shared::crypto::stream::open_all;
use cloister_shared::{unwrap_dek, LibraryKey, Purpose};

use super::remote::sign_in_and_unlock;
use super::user::{human_bytes, utc_date};
use super::ClientArgs;

const PAGE: u32 = 200;

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

/// The title, or a placeholder when it does not open (it never should under the right key).
fn title(key: &LibraryKey, video: &VideoSummary) -> String {
    let opened = unwrap_dek(key, &video.video_id, &video.wrapped_dek)
        .ok()
        .and_then(|dek| {
            let sealed = hex::decode(&video.title_sealed).ok()?;
            open_all(&dek, &video.video_id, &Purpose::Title, &sealed).ok()
        });
    match opened {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => "(title does not decrypt)".to_owned(),
    }
}

pub async fn run(args: LsArgs) -> anyhow::Result<()> {
    let (client, key) = sign_in_and_unlock(&args.client).await?;
    let mut cursor: Option<String> = None;
    let mut any = false;
    loop {
        let page = client.videos(PAGE, cursor.as_deref()).await?;
        if !any && !page.videos.is_empty() {
            println!(
                "{:<10}  {:<10}  {:>10}  {:<12}  {:<32}  title",
                "date", "status", "size", "owner", "id"
            );
        }
        for video in &page.videos {
            any = true;
            println!(
                "{:<10}  {:<10}  {:>10}  {:<12}  {}  {}",
                utc_date(video.created_at),
                video.status,
                human_bytes(video.size_bytes),
                video.owner,
                video.video_id,
                title(&key, video)
            );
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    if !any {
        println!("The library is empty. Upload with `cloister upload FILE`.");
    }
    Ok(())
}
