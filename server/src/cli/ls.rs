//! `cloister ls`: the library with titles decrypted on this machine.

use clap::Args;
use cloister_shared::api::VideoSummary;
use cloister_shared::LibraryKey;

use super::remote::sign_in_and_unlock;
use cloister_shared::api::utc_date;

use super::user::human_bytes;
use super::ClientArgs;

const PAGE: u32 = 200;

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

/// The title, or a placeholder when it does not open (it never should under the right key).
fn title(key: &LibraryKey, video: &VideoSummary) -> String {
    match video.open_title(key) {
        Some(title) => title,
        None => "(title does not decrypt)".to_owned(),
    }
}

pub async fn run(args: LsArgs) -> anyhow::Result<()> {
    let (client, unlocked) = sign_in_and_unlock(&args.client).await?;
    let key = unlocked.library_key;
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
