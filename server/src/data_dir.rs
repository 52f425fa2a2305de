//! The data directory's layout (docs/architecture.md) and the server key that wraps DEKs held for jobs.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

// fs-err: every error names its operation and path and keeps its kind (docs/decisions.md).
use fs_err as fs;
use zeroize::Zeroizing;

pub const SERVER_KEY_LEN: usize = 32;
/// The key that wraps DEKs held for jobs.
pub const SERVER_KEY_FILE: &str = "server.key";
/// Sealed files, one directory per video.
pub const VIDEOS_DIR: &str = "videos";
/// Plaintext while a job runs: never backed up.
pub const TMP_DIR: &str = "tmp";

/// Paths inside the data directory. Nothing here is built from request input.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the directory tree if needed, with `tmp/` private to the server's user.
    pub fn prepare(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join(VIDEOS_DIR))?;
        let tmp = root.join(TMP_DIR);
        fs::create_dir_all(&tmp)?;
        set_mode(&tmp, 0o700)?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tmp(&self) -> PathBuf {
        self.root.join(TMP_DIR)
    }

    pub fn videos(&self) -> PathBuf {
        self.root.join(VIDEOS_DIR)
    }

    /// Reads `server.key`, making it (32 random bytes, mode 0600) on first start. `serve` and
    /// `cloister worker` may start together: exactly one key is ever created, and every process
    /// answers the key on disk, never one it generated but lost the race with.
    pub fn load_or_create_server_key(&self) -> io::Result<Zeroizing<[u8; SERVER_KEY_LEN]>> {
        let path = self.root.join(SERVER_KEY_FILE);
        match read_server_key(&path) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; SERVER_KEY_LEN]);
                getrandom::fill(key.as_mut()).map_err(io::Error::other)?;
                match create_private_exclusively(&path, key.as_ref()) {
                    Err(err) if err.kind() != io::ErrorKind::AlreadyExists => Err(err),
                    // Made here, or by another process meanwhile: either way, the file decides.
                    _ => read_server_key(&path),
                }
            }
            other => other,
        }
    }
}

fn read_server_key(path: &Path) -> io::Result<Zeroizing<[u8; SERVER_KEY_LEN]>> {
    let bytes = Zeroizing::new(fs::read(path)?);
    let key: [u8; SERVER_KEY_LEN] = bytes.as_slice().try_into().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{} must hold exactly {SERVER_KEY_LEN} bytes",
                path.display()
            ),
        )
    })?;
    Ok(Zeroizing::new(key))
}

/// Publishes `bytes` as `path` (mode 0600) only if `path` does not exist yet; `AlreadyExists`
/// otherwise. The bytes go to a temp file of this call's own (unique name, `create_new`), synced,
/// then hard-linked to `path`: the link either fails or makes the whole file appear at once, so
/// no reader ever sees a half-written key and no writer replaces another's. The directory is
/// synced so the new name survives a crash.
fn create_private_exclusively(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a file to create has no directory"))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::other("a file to create has no name"))?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(io::Error::other)?;
    let tmp = dir.join(format!(
        ".{name}.{}-{}.partial",
        std::process::id(),
        hex::encode(nonce)
    ));
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let linked = options
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .and_then(|()| fs::hard_link(&tmp, path));
    // The temp name goes whether or not the link was made; the key lives on under `path`.
    let removed = fs::remove_file(&tmp);
    linked?;
    removed?;
    fs::File::open(dir)?.sync_all()
}

/// Creates `dir` with mode 0700 (and its parents when `recursive`). std's `DirBuilder` has no
/// fs-err counterpart, so its error is given the operation and the path here, in fs-err's words,
/// keeping its kind.
pub fn create_private_dir(dir: &Path, recursive: bool) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|err| {
        io::Error::new(
            err.kind(),
            format!("failed to create directory `{}`: {err}", dir.display()),
        )
    })
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_key_is_made_once_private_and_then_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::prepare(dir.path()).expect("prepare");
        let first = data.load_or_create_server_key().expect("create");
        let second = data.load_or_create_server_key().expect("load");
        assert_eq!(*first, *second);
        assert_ne!(*first, [0u8; SERVER_KEY_LEN]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key_mode = fs::metadata(dir.path().join("server.key"))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(key_mode & 0o777, 0o600);
            let tmp_mode = fs::metadata(data.tmp()).expect("meta").permissions().mode();
            assert_eq!(tmp_mode & 0o777, 0o700);
        }
    }

    #[test]
    fn processes_starting_together_all_use_the_one_key_on_disk() {
        // Several rounds, each on a fresh directory: the race is in the first instants.
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("temp dir");
            let data = DataDir::prepare(dir.path()).expect("prepare");
            let start = std::sync::Barrier::new(12);
            let keys: Vec<[u8; SERVER_KEY_LEN]> = std::thread::scope(|scope| {
                let openers: Vec<_> = (0..12)
                    .map(|_| {
                        scope.spawn(|| {
                            start.wait();
                            *data.load_or_create_server_key().expect("key")
                        })
                    })
                    .collect();
                openers
                    .into_iter()
                    .map(|t| t.join().expect("opener"))
                    .collect()
            });
            let on_disk = fs::read(dir.path().join("server.key")).expect("read");
            for key in &keys {
                assert_eq!(
                    key.as_slice(),
                    on_disk.as_slice(),
                    "a key that is not the file's"
                );
            }
            let names: Vec<_> = fs::read_dir(dir.path())
                .expect("list")
                .map(|e| e.expect("entry").file_name())
                .collect();
            assert!(
                names
                    .iter()
                    .all(|n| !n.to_string_lossy().contains("partial")),
                "temp files left behind: {names:?}"
            );
        }
    }

    #[test]
    fn a_private_directory_is_0700_and_its_error_names_the_path_and_keeps_its_kind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let made = dir.path().join("a");
        create_private_dir(&made, false).expect("create");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&made).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        let orphan = dir.path().join("missing").join("b");
        let err = create_private_dir(&orphan, false).expect_err("no parent");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let message = err.to_string();
        assert!(message.contains("create directory"), "{message}");
        assert!(message.contains(&orphan.display().to_string()), "{message}");
        create_private_dir(&orphan, true).expect("with its parents");
    }

    #[test]
    fn a_server_key_of_the_wrong_length_is_refused_not_replaced() {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir::prepare(dir.path()).expect("prepare");
        fs::write(dir.path().join("server.key"), b"short").expect("write");
        let err = data.load_or_create_server_key().expect_err("must refuse");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            fs::read(dir.path().join("server.key")).expect("read"),
            b"short"
        );
    }
}
