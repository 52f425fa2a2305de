//! `cloister rm ID…` (to the trash, or `--purge` for good), `cloister trash` (list) and
//! `cloister restore ID…` (docs/api.md, "Trash").

use anyhow::bail;
use clap::Args;
use cloister_shared::api::trash::{days_left, TrashedVideo};
use cloister_shared::api::utc_date;
use cloister_shared::{LibraryKey, VideoId};

use super::remote::{sign_in, sign_in_and_unlock};
use super::user::human_bytes;
use super::ClientArgs;

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Ids of the videos (32 hex digits, as `cloister ls` shows them).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Delete for good instead of moving to the trash: there is no undo.
    #[arg(long)]
    pub purge: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Ids of the videos in the trash.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct TrashArgs {
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Every id parsed before anything is sent: a typo deletes nothing.
fn parse_ids(raw: &[String]) -> anyhow::Result<Vec<VideoId>> {
    raw.iter()
        .map(|id| {
            VideoId::parse(id.trim()).map_err(|_| {
                anyhow::anyhow!("{id} is not a video id: ids are 32 lowercase hex digits.")
            })
        })
        .collect()
}

/// Acts on each id in turn, saying what happened; fails at the end if any failed.
async fn each<F, Fut>(ids: &[VideoId], mut act: F) -> anyhow::Result<()>
where
    F: FnMut(VideoId) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let mut failed = 0;
    for id in ids {
        match act(*id).await {
            Ok(done) => println!("{id}: {done}"),
            Err(err) => {
                failed += 1;
                eprintln!("{id}: {err}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} failed", ids.len());
    }
    Ok(())
}

pub async fn rm(args: RmArgs) -> anyhow::Result<()> {
    let ids = parse_ids(&args.ids)?;
    let (client, _) = sign_in(&args.client).await?;
    let client = &client;
    each(&ids, |id| async move {
        if args.purge {
            client.purge_video(&id).await?;
            return Ok("deleted for good".to_owned());
        }
        let state = client.trash_video(&id).await?;
        Ok(if state.purged {
            "unfinished upload removed".to_owned()
        } else {
            format!(
                "moved to the trash (kept {} days; `cloister restore {id}` brings it back)",
                state.retention_days
            )
        })
    })
    .await
}

pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let ids = parse_ids(&args.ids)?;
    let (client, _) = sign_in(&args.client).await?;
    let client = &client;
    each(&ids, |id| async move {
        client.restore_video(&id).await?;
        Ok("restored".to_owned())
    })
    .await
}

fn title(key: &LibraryKey, video: &TrashedVideo) -> String {
    video
        .video
        .open_title(key)
        .unwrap_or_else(|| "(title does not decrypt)".to_owned())
}

pub async fn list(args: TrashArgs) -> anyhow::Result<()> {
    let (client, unlocked) = sign_in_and_unlock(&args.client).await?;
    let key = unlocked.library_key;
    let trash = client.trash().await?;
    if trash.videos.is_empty() {
        println!("The trash is empty.");
        return Ok(());
    }
    let now = crate::accounts::unix_now();
    println!(
        "{:<10}  {:>10}  {:<12}  {:<12}  {:>9}  {:<32}  title",
        "deleted", "size", "owner", "deleted by", "days left", "id"
    );
    for video in &trash.videos {
        println!(
            "{:<10}  {:>10}  {:<12}  {:<12}  {:>9}  {}  {}",
            utc_date(video.trashed_at),
            human_bytes(video.video.size_bytes),
            video.video.owner,
            video.trashed_by.as_deref().unwrap_or("-"),
            days_left(video.purge_at, now),
            video.video.video_id,
            title(&key, video)
        );
    }
    Ok(())
}
