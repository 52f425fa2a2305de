//! Sealed files on the local filesystem: `videos/<id>/original.sealed(.partial)`.

use std::io;
use std::path::{Path, PathBuf};

// fs-err: every error names its operation and path and keeps its kind (docs/decisions.md).
use fs_err::os::unix::fs::FileExt;
use fs_err::{self as fs, File, OpenOptions};

use cloister_shared::VideoId;

use super::{PartialOriginal, RenditionId, StoredObject, VideoStorage};

/// A video's finished sealed original, in `videos/<id>/`.
pub const ORIGINAL_FILE: &str = "original.sealed";
/// The same while its upload is unfinished: chunks land here, and it is renamed on completion.
pub const PARTIAL_FILE: &str = "original.sealed.partial";

#[derive(Debug, Clone)]
pub struct FsStorage {
    videos: PathBuf,
}

impl FsStorage {
    /// `videos` is the data directory's `videos/`, which must exist.
    pub fn new(videos: PathBuf) -> Self {
        Self { videos }
    }

    /// `videos/<id>`: the id's Display is 32 hex digits, so this cannot leave `videos/`.
    pub fn video_dir(&self, video: &VideoId) -> PathBuf {
        self.videos.join(video.to_string())
    }

    pub fn original_path(&self, video: &VideoId) -> PathBuf {
        self.video_dir(video).join(ORIGINAL_FILE)
    }

    pub fn partial_path(&self, video: &VideoId) -> PathBuf {
        self.video_dir(video).join(PARTIAL_FILE)
    }

    /// The partial if it exists, else the finished original.
    fn current(&self, video: &VideoId) -> io::Result<File> {
        match File::open(self.partial_path(video)) {
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                File::open(self.original_path(video))
            }
            other => other,
        }
    }
}

struct FsPartial(File);

impl PartialOriginal for FsPartial {
    fn write_at(&self, bytes: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(bytes, offset)
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_data()
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Up to `len` bytes at `offset`; fewer only at the end of the file.
fn read_at_most(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut filled = 0;
    while filled < len {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match file.read_at(rest, offset + filled as u64)? {
            0 => break,
            n => filled += n,
        }
    }
    buf.truncate(filled);
    Ok(buf)
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

impl VideoStorage for FsStorage {
    fn begin_original(&self, video: &VideoId, header: &[u8]) -> io::Result<()> {
        let dir = self.video_dir(video);
        fs::create_dir_all(&dir)?;
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(self.partial_path(video))?;
        file.write_all_at(header, 0)?;
        file.sync_all()?;
        // The new directory entry must survive a crash too.
        sync_dir(&dir)?;
        sync_dir(&self.videos)
    }

    fn open_partial(&self, video: &VideoId) -> io::Result<Box<dyn PartialOriginal>> {
        let file = OpenOptions::new()
            .write(true)
            .open(self.partial_path(video))?;
        Ok(Box::new(FsPartial(file)))
    }

    fn read_original(&self, video: &VideoId, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        read_at_most(&self.current(video)?, offset, len)
    }

    fn original_len(&self, video: &VideoId) -> io::Result<u64> {
        Ok(self.current(video)?.metadata()?.len())
    }

    fn finish_original(&self, video: &VideoId) -> io::Result<()> {
        let partial = self.partial_path(video);
        let file = match File::open(&partial) {
            Ok(file) => file,
            // Already finished by an earlier call that failed later on.
            Err(err)
                if err.kind() == io::ErrorKind::NotFound && self.original_path(video).exists() =>
            {
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        file.sync_all()?;
        drop(file);
        fs::rename(&partial, self.original_path(video))?;
        sync_dir(&self.video_dir(video))
    }

    fn remove_video(&self, video: &VideoId) -> io::Result<()> {
        ignore_missing(fs::remove_dir_all(self.video_dir(video)))
    }

    fn import_object(&self, video: &VideoId, object: &StoredObject, from: &Path) -> io::Result<()> {
        let to = self.video_dir(video).join(object.relative_path());
        let dir = to
            .parent()
            .ok_or_else(|| io::Error::other("an object path has no directory"))?
            .to_path_buf();
        fs::create_dir_all(&dir)?;
        File::open(from)?.sync_all()?;
        fs::rename(from, &to)?;
        sync_dir(&dir)
    }

    fn read_object(
        &self,
        video: &VideoId,
        object: &StoredObject,
        offset: u64,
        len: usize,
    ) -> io::Result<Vec<u8>> {
        let file = File::open(self.video_dir(video).join(object.relative_path()))?;
        read_at_most(&file, offset, len)
    }

    fn object_len(&self, video: &VideoId, object: &StoredObject) -> io::Result<u64> {
        Ok(fs::metadata(self.video_dir(video).join(object.relative_path()))?.len())
    }

    fn renditions(&self, video: &VideoId) -> io::Result<Vec<RenditionId>> {
        let entries = match fs::read_dir(self.video_dir(video)) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_dir() {
                if let Some(id) = entry
                    .file_name()
                    .to_str()
                    .and_then(RenditionId::from_dir_name)
                {
                    found.push(id);
                }
            }
        }
        Ok(found)
    }

    fn remove_rendition(&self, video: &VideoId, rendition: &RenditionId) -> io::Result<()> {
        ignore_missing(fs::remove_dir_all(
            self.video_dir(video).join(rendition.dir_name()),
        ))
    }

    fn video_bytes(&self, video: &VideoId) -> io::Result<u64> {
        super::tree_bytes(&self.video_dir(video))
    }

    fn rendition_bytes(&self, video: &VideoId, rendition: &RenditionId) -> io::Result<u64> {
        super::tree_bytes(&self.video_dir(video).join(rendition.dir_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_written_out_of_order_finish_into_one_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = FsStorage::new(dir.path().to_path_buf());
        let video = VideoId::from_bytes([1; 16]);
        storage.begin_original(&video, b"HEAD").expect("begin");
        let partial = storage.open_partial(&video).expect("open");
        partial.write_at(b"world", 9).expect("write");
        partial.write_at(b"hello", 4).expect("write");
        partial.sync().expect("sync");
        storage.finish_original(&video).expect("finish");
        storage
            .finish_original(&video)
            .expect("finish twice is fine");
        assert_eq!(
            fs::read(storage.original_path(&video)).expect("read"),
            b"HEADhelloworld"
        );
        assert!(!storage.partial_path(&video).exists());
        assert_eq!(
            storage.read_original(&video, 4, 100).expect("read"),
            b"helloworld"
        );
        storage.remove_video(&video).expect("remove");
        storage.remove_video(&video).expect("remove twice is fine");
        assert!(!storage.video_dir(&video).exists());
    }

    #[test]
    fn an_io_error_names_its_operation_and_path_and_keeps_its_kind() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = FsStorage::new(dir.path().to_path_buf());
        let video = VideoId::from_bytes([2; 16]);
        let object = StoredObject::Manifest;
        let missing = storage.video_dir(&video).join(object.relative_path());

        let err = storage
            .read_object(&video, &object, 0, 16)
            .expect_err("nothing is stored");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let message = err.to_string();
        assert!(message.contains("open file"), "{message}");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );
        assert!(message.contains("No such file or directory"), "{message}");

        let err = storage
            .object_len(&video, &object)
            .expect_err("nothing is stored");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );

        // The original: the partial is looked for first, then the finished file is named.
        let err = storage
            .read_original(&video, 0, 16)
            .expect_err("nothing is stored");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string()
                .contains(&storage.original_path(&video).display().to_string()),
            "{err}"
        );
    }
}
