//! The data directory's layout (DESIGN.md §3) and the server key that wraps DEKs held for jobs.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

pub const SERVER_KEY_LEN: usize = 32;

/// Paths inside the data directory. Nothing here is built from request input.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Creates the directory tree if needed, with `tmp/` private to the server's user.
    pub fn prepare(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root.join("videos"))?;
        let tmp = root.join("tmp");
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
        self.root.join("tmp")
    }

    pub fn videos(&self) -> PathBuf {
        self.root.join("videos")
    }

    /// Reads `server.key`, making it (32 random bytes, mode 0600) on first start.
    pub fn load_or_create_server_key(&self) -> io::Result<Zeroizing<[u8; SERVER_KEY_LEN]>> {
        let path = self.root.join("server.key");
        match fs::read(&path) {
            Ok(bytes) => {
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
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let mut key = Zeroizing::new([0u8; SERVER_KEY_LEN]);
                getrandom::fill(key.as_mut()).map_err(io::Error::other)?;
                write_private_atomically(&path, key.as_ref())?;
                Ok(key)
            }
            Err(err) => Err(err),
        }
    }
}

/// Writes `bytes` to a 0600 temp file beside `path`, syncs it, then renames it into place, so a
/// crash never leaves a half-written file under the real name.
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension("partial");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
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
