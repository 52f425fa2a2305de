//! `cloister backup --data-dir DATA --to DEST`: a consistent copy of a data directory, taken while
//! the server runs (docs/operations.md, "Backups").
//!
//! 1. The database first, as one snapshot: `VACUUM INTO` reads it inside a single read transaction
//!    (WAL lets the server keep writing meanwhile) and writes a compact, self-contained copy.
//!    sqlx does not expose SQLite's online-backup API; `VACUUM INTO` needs nothing beyond SQL.
//! 2. `server.key`.
//! 3. Then, for every video *the snapshot* lists, its directory under `videos/`. Sealed files are
//!    written once under their final name (a retried job writes a new rendition), so everything
//!    the snapshot refers to already exists and cannot change before it is copied — unless the
//!    video is deleted, or processed again, in the meantime. Each copied video is checked for what
//!    its row needs (the original, and for a ready video its manifest and rendition); a video
//!    that lost files is reported and the command fails, asking for another run. Videos created
//!    after the snapshot are not copied: the restored database would not know them.
//! 4. An unfinished upload is copied as it stands, partial file and all: the snapshot records
//!    which chunks it holds (each was synced before it was recorded), so after a restore the
//!    client resumes it like any interrupted upload (docs/operations.md, "Backups").
//!
//! `tmp/` (plaintext while a job runs) is never copied. File names come from the modules that
//! write them, never restated here.
//!
//! On PostgreSQL (`--database-url` / `CLOISTER_DATABASE_URL`) the database is not copied: it is
//! backed up with `pg_dump`, taken *before* this command so the files copied here cover every
//! video the dump lists (docs/operations.md, "Backing up on PostgreSQL"). Steps 2 to 4 are the
//! same, for the videos the database lists when the command runs.

mod store;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use cloister_shared::VideoId;
use fs_err as fs;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::DataDirArgs;
use crate::data_dir::{create_private_dir, SERVER_KEY_FILE as SERVER_KEY, VIDEOS_DIR as VIDEOS};
use crate::db::{Backend, DATABASE_FILE as DATABASE};
use crate::storage::{
    RenditionId, StoredObject, ORIGINAL_FILE as ORIGINAL, PARTIAL_FILE as PARTIAL,
};

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub data: DataDirArgs,
    /// Where to write the backup: a directory that does not exist yet or is empty, outside the
    /// data directory.
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
}

/// A video as the database snapshot has it.
struct VideoRow {
    id: VideoId,
    status: String,
    rendition: Option<RenditionId>,
}

#[derive(Default)]
struct Copied {
    videos: u64,
    files: u64,
    bytes: u64,
    /// What makes this backup incomplete, for people.
    problems: Vec<String>,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    if let Some(url) = &args.data.database_url {
        if Backend::of_url(url).map_err(anyhow::Error::msg)? == Backend::Postgres {
            return files_only(&args.data.data_dir, &args.to, url).await;
        }
    }
    let source = args.data.data_dir;
    let dest = args.to;
    let database = source.join(DATABASE);
    if !database.is_file() {
        bail!(
            "there is no {DATABASE} in {}: is --data-dir the server's data directory?",
            source.display()
        );
    }
    prepare_destination(&source, &dest)?;

    snapshot_database(&database, &dest.join(DATABASE)).await?;
    let (videos, mut problems) = videos_in(&dest.join(DATABASE)).await?;
    let (from, to) = (source.clone(), dest.clone());
    let mut copied = tokio::task::spawn_blocking(move || copy_files(&from, &to, &videos))
        .await
        .context("the copy stopped unexpectedly")??;
    problems.append(&mut copied.problems);

    println!(
        "Backed up {} to {}: the database, {SERVER_KEY} and {} video{} ({} files, {}).",
        source.display(),
        dest.display(),
        copied.videos,
        if copied.videos == 1 { "" } else { "s" },
        copied.files,
        super::user::human_bytes(copied.bytes)
    );
    report(problems, &dest)
}

/// The backup beside a PostgreSQL database: `server.key` and the files of every video the
/// database lists; the database itself is `pg_dump`'s.
async fn files_only(source: &Path, dest: &Path, url: &str) -> anyhow::Result<()> {
    if !source.join(SERVER_KEY).is_file() && !source.join(VIDEOS).is_dir() {
        bail!(
            "there is no {SERVER_KEY} or {VIDEOS}/ in {}: is --data-dir the server's data directory?",
            source.display()
        );
    }
    let (shown, left_out) = super::migrate_db::without_password(url);
    println!(
        "The database is on PostgreSQL and is not in this backup: back it up with pg_dump, run \
         before this command so these files cover every video in the dump:"
    );
    println!("  pg_dump --format=custom --file=cloister.pgdump '{shown}'");
    if left_out {
        println!("(The password is left out: pg_dump reads it from ~/.pgpass or PGPASSWORD.)");
    }
    let db = crate::db::connect(url)
        .await
        .with_context(|| format!("cannot connect to {shown}"))?;
    let rows = store::videos(&db)
        .await
        .with_context(|| format!("cannot list the videos in {shown}"))?;
    db.close().await;
    prepare_destination(source, dest)?;
    let (videos, mut problems) = parse_videos(rows);
    let (from, to) = (source.to_path_buf(), dest.to_path_buf());
    let mut copied = tokio::task::spawn_blocking(move || copy_files(&from, &to, &videos))
        .await
        .context("the copy stopped unexpectedly")??;
    problems.append(&mut copied.problems);
    println!(
        "Backed up the files of {} to {}: {SERVER_KEY} and {} video{} ({} files, {}).",
        source.display(),
        dest.display(),
        copied.videos,
        if copied.videos == 1 { "" } else { "s" },
        copied.files,
        super::user::human_bytes(copied.bytes)
    );
    report(problems, dest)
}

/// Warns of each problem; an error when there is any.
fn report(problems: Vec<String>, dest: &Path) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    for problem in &problems {
        eprintln!("warning: {problem}");
    }
    bail!(
        "the backup in {} is incomplete ({} problem(s) above); run `cloister backup` again into \
         a new directory",
        dest.display(),
        problems.len()
    );
}

/// Creates `dest` (mode 0700) or checks it is an empty directory, and that it is not inside the
/// data directory (a backup there would be copied into the next one, or worse, into `videos/`).
fn prepare_destination(source: &Path, dest: &Path) -> anyhow::Result<()> {
    let created = match fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "{} is not empty: back up into a new or empty directory",
                    dest.display()
                );
            }
            false
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            create_private_dir(dest, true)
                .with_context(|| format!("cannot create {}", dest.display()))?;
            true
        }
        Err(err) => {
            return Err(err).with_context(|| format!("cannot use {} for a backup", dest.display()))
        }
    };
    // Compared once both exist, so symlinks and `..` cannot hide where `dest` really is.
    let inside = fs::canonicalize(dest)
        .and_then(|d| Ok(d.starts_with(fs::canonicalize(source)?)))
        .with_context(|| format!("cannot resolve {}", dest.display()))?;
    if inside {
        if created {
            let _ = fs::remove_dir(dest);
        }
        bail!(
            "{} is inside the data directory {}: keep backups outside it",
            dest.display(),
            source.display()
        );
    }
    set_private(dest, 0o700)
}

/// `VACUUM INTO` a temporary name beside `into`, made private and synced, then renamed into place.
async fn snapshot_database(database: &Path, into: &Path) -> anyhow::Result<()> {
    let partial = into.with_extension("db.partial");
    let target = partial
        .to_str()
        .context("the backup directory's path must be valid UTF-8 (SQLite is given it as text)")?;
    // No migrations and no creating: this only reads the server's database.
    let mut db: sqlx::SqliteConnection = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(false)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| format!("cannot open {}", database.display()))?;
    store::vacuum_into(&mut db, target)
        .await
        .with_context(|| format!("cannot snapshot {}", database.display()))?;
    db.close().await.ok();
    set_private(&partial, 0o600)?;
    fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("cannot sync {}", partial.display()))?;
    fs::rename(&partial, into).with_context(|| format!("cannot write {}", into.display()))?;
    Ok(())
}

/// Every video of the snapshot. Ids and renditions are parsed before they name any path; a row
/// whose id does not parse is reported, not copied.
async fn videos_in(snapshot: &Path) -> anyhow::Result<(Vec<VideoRow>, Vec<String>)> {
    let mut db: sqlx::SqliteConnection = SqliteConnectOptions::new()
        .filename(snapshot)
        .read_only(true)
        .connect()
        .await
        .with_context(|| format!("cannot open the snapshot {}", snapshot.display()))?;
    let rows = store::snapshot_videos(&mut db)
        .await
        .context("cannot list the snapshot's videos")?;
    db.close().await.ok();
    Ok(parse_videos(rows))
}

/// The videos of `rows` (id, status, rendition), and a problem for each row whose id does not
/// parse.
fn parse_videos(rows: Vec<(String, String, Option<String>)>) -> (Vec<VideoRow>, Vec<String>) {
    let mut videos = Vec::with_capacity(rows.len());
    let mut problems = Vec::new();
    for (raw_id, status, rendition) in rows {
        let Ok(id) = VideoId::parse(&raw_id) else {
            problems.push(format!(
                "the database lists a video whose id is not valid ({raw_id:?}); its files were not copied"
            ));
            continue;
        };
        let rendition = rendition.as_deref().and_then(RenditionId::parse);
        videos.push(VideoRow {
            id,
            status,
            rendition,
        });
    }
    (videos, problems)
}

fn copy_files(source: &Path, dest: &Path, videos: &[VideoRow]) -> anyhow::Result<Copied> {
    let mut copied = Copied::default();
    let key = source.join(SERVER_KEY);
    match copy_file(&key, &dest.join(SERVER_KEY)) {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound => copied.problems.push(format!(
            "there is no {SERVER_KEY} in {}: jobs queued in this backup cannot be processed after a restore",
            source.display()
        )),
        Err(err) => return Err(err).with_context(|| format!("cannot copy {}", key.display())),
    }
    let dest_videos = dest.join(VIDEOS);
    create_private_dir(&dest_videos, false)
        .with_context(|| format!("cannot create {}", dest_videos.display()))?;
    for video in videos {
        let name = video.id.to_string();
        let from = source.join(VIDEOS).join(&name);
        let to = dest_videos.join(&name);
        let (files, bytes) = copy_tree(&from, &to)
            .with_context(|| format!("cannot copy video {name} from {}", from.display()))?;
        copied.videos += 1;
        copied.files += files;
        copied.bytes += bytes;
        if video.status == "uploading" {
            keep_unfinished(&to)
                .with_context(|| format!("cannot restore video {name}'s partial upload"))?;
        }
        if let Some(missing) = missing_for(video, &to) {
            copied.problems.push(format!(
                "video {name} changed while the backup ran (deleted or processed again): {missing}"
            ));
        }
    }
    sync_dir(&dest_videos)
        .and_then(|()| sync_dir(dest))
        .with_context(|| format!("cannot sync {}", dest.display()))?;
    Ok(copied)
}

/// An upload the snapshot has unfinished but that was completed before its files were copied:
/// its original goes back under the partial name, where the resumed upload will write and
/// complete it again.
fn keep_unfinished(dir: &Path) -> io::Result<()> {
    let (original, partial) = (dir.join(ORIGINAL), dir.join(PARTIAL));
    if original.is_file() && !partial.exists() {
        fs::rename(original, partial)?;
        sync_dir(dir)?;
    }
    Ok(())
}

/// What the copy of `video` in `dir` lacks that its database row needs, if anything.
fn missing_for(video: &VideoRow, dir: &Path) -> Option<String> {
    let has = |name: &str| dir.join(name).is_file();
    let manifest = StoredObject::Manifest.relative_path();
    if video.status == "uploading" {
        // The upload goes on after a restore: the client resumes it.
        return (!has(PARTIAL) && !has(ORIGINAL)).then(|| "its partial upload is missing".into());
    }
    if !has(ORIGINAL) {
        return Some("its original is missing".into());
    }
    if video.status == "ready" {
        let Some(rendition) = &video.rendition else {
            return Some("the database names no rendition for a ready video".into());
        };
        if !has(&manifest) || !dir.join(rendition.dir_name()).is_dir() {
            return Some(format!("its manifest or rendition {rendition} is missing"));
        }
    }
    None
}

/// Copies the directory `from` into `to` (created 0700): regular files and subdirectories only.
/// A file that disappears meanwhile is skipped (the caller checks what matters); a missing `from`
/// copies nothing. Answers (files, bytes).
fn copy_tree(from: &Path, to: &Path) -> io::Result<(u64, u64)> {
    let entries = match fs::read_dir(from) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(err) => return Err(err),
    };
    create_private_dir(to, false)?;
    let (mut files, mut bytes) = (0, 0);
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        // The name comes from our own directory listing, never from input; `join` of one entry
        // name cannot leave `to`.
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = match entry.file_type() {
            Ok(kind) => kind,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        if kind.is_dir() {
            let (f, b) = copy_tree(&source, &target)?;
            files += f;
            bytes += b;
        } else if kind.is_file() {
            match copy_file(&source, &target) {
                Ok(n) => {
                    files += 1;
                    bytes += n;
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(err),
            }
        }
        // Anything else (a symlink, a socket) is not something the server writes: not followed.
    }
    sync_dir(to)?;
    Ok((files, bytes))
}

/// Copies one file (keeping its mode) and syncs it to disk.
fn copy_file(from: &Path, to: &Path) -> io::Result<u64> {
    let bytes = fs::copy(from, to)?;
    fs::File::open(to)?.sync_all()?;
    Ok(bytes)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// The backup holds password hashes, wrapped keys and `server.key`: the server's user only.
fn set_private(path: &Path, mode: u32) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, rendition: Option<&RenditionId>) -> VideoRow {
        VideoRow {
            id: VideoId::parse("0123456789abcdef0123456789abcdef").expect("id"),
            status: status.to_owned(),
            rendition: rendition.cloned(),
        }
    }

    #[test]
    fn a_ready_video_needs_its_original_manifest_and_the_rendition_its_row_names() {
        let dir = tempfile::tempdir().expect("dir");
        let rendition = RenditionId::parse("0123456789abcdef").expect("rendition");
        let ready = row("ready", Some(&rendition));
        assert!(missing_for(&ready, dir.path()).is_some(), "nothing copied");
        fs::write(dir.path().join(ORIGINAL), b"o").expect("write");
        fs::write(
            dir.path().join(StoredObject::Manifest.relative_path()),
            b"m",
        )
        .expect("write");
        assert!(missing_for(&ready, dir.path()).is_some(), "no rendition");
        // Another run's rendition does not stand in for the one the row names.
        fs::create_dir(dir.path().join("rfedcba9876543210")).expect("mkdir");
        assert!(missing_for(&ready, dir.path()).is_some(), "wrong rendition");
        fs::create_dir(dir.path().join(rendition.dir_name())).expect("mkdir");
        assert_eq!(missing_for(&ready, dir.path()), None);
        assert!(missing_for(&row("ready", None), dir.path()).is_some());
        assert_eq!(missing_for(&row("failed", None), dir.path()), None);
    }

    #[test]
    fn an_upload_in_progress_needs_its_partial_or_finished_original() {
        let dir = tempfile::tempdir().expect("dir");
        let uploading = row("uploading", None);
        assert!(missing_for(&uploading, dir.path()).is_some());
        fs::write(dir.path().join(PARTIAL), b"p").expect("write");
        assert_eq!(missing_for(&uploading, dir.path()), None);
        assert!(missing_for(&row("uploaded", None), dir.path()).is_some());
    }

    #[test]
    fn a_video_deleted_after_the_snapshot_is_reported_and_the_rest_copied() {
        let source = tempfile::tempdir().expect("source");
        let dest = tempfile::tempdir().expect("dest");
        fs::write(source.path().join(SERVER_KEY), [7u8; 32]).expect("key");
        let kept = VideoId::parse("11111111111111111111111111111111").expect("id");
        let gone = VideoId::parse("22222222222222222222222222222222").expect("id");
        let kept_dir = source.path().join(VIDEOS).join(kept.to_string());
        fs::create_dir_all(&kept_dir).expect("mkdir");
        fs::write(kept_dir.join(ORIGINAL), b"sealed bytes").expect("write");
        // Not in the snapshot: created after it, so not copied.
        let later = source
            .path()
            .join(VIDEOS)
            .join("33333333333333333333333333333333");
        fs::create_dir_all(&later).expect("mkdir");
        fs::write(source.path().join("tmp-plaintext"), b"never copied").expect("write");
        let videos = [kept, gone].map(|id| VideoRow {
            id,
            status: "uploaded".to_owned(),
            rendition: None,
        });
        let copied = copy_files(source.path(), dest.path(), &videos).expect("copy");
        assert_eq!((copied.files, copied.bytes), (1, 12));
        assert_eq!(copied.problems.len(), 1, "{:?}", copied.problems);
        assert!(copied.problems[0].contains(&gone.to_string()));
        assert_eq!(
            fs::read(
                dest.path()
                    .join(VIDEOS)
                    .join(kept.to_string())
                    .join(ORIGINAL)
            )
            .expect("copied"),
            b"sealed bytes"
        );
        assert!(!dest
            .path()
            .join(VIDEOS)
            .join("33333333333333333333333333333333")
            .exists());
        assert!(!dest.path().join("tmp-plaintext").exists());
        assert_eq!(
            fs::read(dest.path().join(SERVER_KEY)).expect("key"),
            [7u8; 32]
        );
    }
}
