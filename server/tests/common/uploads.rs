//! Helpers for upload tests: a file sealed as the browser and the CLI seal it, and raw chunk PUTs.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use cloister_shared::crypto::stream::{chunk_count, DEFAULT_CHUNK_SIZE};
use cloister_shared::crypto::upload::{resume_mac, LocalFile};
use cloister_shared::{
    sample_ranges, upload_fingerprint, wrap_dek, ContentSample, Dek, LibraryKey, Purpose,
    StreamSealer, VideoId,
};
use serde_json::{json, Value};

use super::TestApp;

pub const CHUNK: usize = DEFAULT_CHUNK_SIZE as usize;

/// A plaintext file, its DEK and sealer, as a client holds them during an upload.
pub struct SealedFile {
    pub id: VideoId,
    pub dek: Dek,
    pub library_key: LibraryKey,
    pub plain: Vec<u8>,
    pub sealer: StreamSealer,
    pub name: String,
}

impl SealedFile {
    /// `len` bytes of a pattern that differs per chunk.
    pub fn new(len: usize) -> Self {
        let plain: Vec<u8> = (0..len)
            .map(|i| (i % 251) as u8 ^ (i / CHUNK) as u8)
            .collect();
        Self::from_plain(plain)
    }

    pub fn from_plain(plain: Vec<u8>) -> Self {
        let id = VideoId::random().expect("id");
        let dek = Dek::generate().expect("dek");
        let sealer =
            StreamSealer::new(&dek, &id, &Purpose::Original, DEFAULT_CHUNK_SIZE).expect("sealer");
        Self {
            id,
            dek,
            library_key: LibraryKey::from_bytes([7; 32]),
            plain,
            sealer,
            name: format!("clip-{id}.mp4"),
        }
    }

    pub fn chunk_count(&self) -> u64 {
        chunk_count(self.plain.len() as u64, DEFAULT_CHUNK_SIZE)
    }

    pub fn chunk(&self, index: u64) -> Vec<u8> {
        let n = self.chunk_count();
        let start = index as usize * CHUNK;
        let end = (start + CHUNK).min(self.plain.len());
        self.sealer
            .seal_chunk(index, &self.plain[start..end], index + 1 == n)
            .expect("seal")
    }

    /// What a client knows of this file: its size and fingerprint.
    pub fn local(&self) -> LocalFile {
        let size = self.plain.len() as u64;
        let samples = sample_ranges(size).map(|r| &self.plain[r.start as usize..r.end as usize]);
        let content = ContentSample::of(size, samples).expect("samples");
        LocalFile {
            size,
            fingerprint: upload_fingerprint(
                &self.library_key,
                &self.name,
                size,
                1_700_000_000_000,
                &content,
            ),
        }
    }

    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.local().fingerprint)
    }

    fn sealed_text(&self, text: &str, purpose: Purpose) -> String {
        let sealed = cloister_shared::crypto::stream::seal_all(
            &self.dek,
            &self.id,
            &purpose,
            DEFAULT_CHUNK_SIZE,
            text.as_bytes(),
        )
        .expect("seal");
        hex::encode(sealed)
    }

    /// The `POST /api/uploads` body.
    pub fn create_body(&self) -> Value {
        json!({
            "video_id": self.id.to_string(),
            "size_bytes": self.plain.len(),
            "chunk_count": self.chunk_count(),
            "stream_header": hex::encode(self.sealer.header().to_bytes()),
            "wrapped_dek": wrap_dek(&self.library_key, &self.id, &self.dek).expect("wrap").to_hex(),
            "title_sealed": self.sealed_text("My holiday", Purpose::Title),
            "description_sealed": self.sealed_text("At the sea", Purpose::Description),
            "file_name_sealed": self.sealed_text(&self.name, Purpose::FileName),
            "fingerprint": self.fingerprint_hex(),
            "key_generation": 1,
            "resume_mac": hex::encode(
                resume_mac(&self.library_key, &self.id, self.sealer.header(), &self.local())
                    .expect("mac")
            ),
        })
    }

    pub fn dek_hex(&self) -> String {
        hex::encode(self.dek.as_bytes())
    }
}

impl TestApp {
    /// `PUT` raw bytes; `content_length` adds that header (a real client always sends one).
    pub async fn put_bytes(
        &self,
        uri: &str,
        cookie: Option<&str>,
        bytes: Vec<u8>,
        content_length: Option<usize>,
    ) -> (StatusCode, Value) {
        let mut builder = Request::builder()
            .method(Method::PUT)
            .uri(uri)
            .header("host", "localhost:3000")
            .header("x-cloister-request", "1")
            .header(header::CONTENT_TYPE, "application/octet-stream");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, cookie);
        }
        if let Some(len) = content_length {
            builder = builder.header(header::CONTENT_LENGTH, len);
        }
        let (status, _, body) = self
            .send(builder.body(Body::from(bytes)).expect("request"))
            .await;
        let value = if body.is_empty() {
            Value::Null
        } else {
            super::json(&body)
        };
        (status, value)
    }

    /// Creates the upload of `file` and answers status and body.
    pub async fn create_upload(&self, cookie: &str, file: &SealedFile) -> (StatusCode, Value) {
        let (status, _, body) = self
            .call(
                Method::POST,
                "/api/uploads",
                Some(cookie),
                Some(file.create_body()),
            )
            .await;
        (status, body)
    }

    /// Sends chunk `index` of `file` with its true length.
    pub async fn put_chunk(
        &self,
        cookie: &str,
        file: &SealedFile,
        index: u64,
    ) -> (StatusCode, Value) {
        let bytes = file.chunk(index);
        let len = bytes.len();
        self.put_bytes(
            &format!("/api/uploads/{}/chunks/{index}", file.id),
            Some(cookie),
            bytes,
            Some(len),
        )
        .await
    }

    pub async fn complete_upload(
        &self,
        cookie: &str,
        id: &VideoId,
        dek_hex: &str,
    ) -> (StatusCode, Value) {
        let (status, _, body) = self
            .call(
                Method::POST,
                &format!("/api/uploads/{id}/complete"),
                Some(cookie),
                Some(json!({ "dek": dek_hex })),
            )
            .await;
        (status, body)
    }
}
