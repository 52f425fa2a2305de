//! Plays a video whole where the browser cannot stream (see `whole`): the init segment and every
//! media segment fetched in order, each checked against the manifest and opened, collected into
//! one `Blob`, and played natively through an object URL, revoked when the view closes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;

use cloister_shared::crypto::webcrypto;
use cloister_shared::Purpose;
use futures::future::{select, Either};
use js_sys::{Array, Uint8Array};
use web_sys::{Blob, BlobPropertyBag, HtmlVideoElement};

use super::engine::{request_play, Report, Reporter};
use super::init_length;
use super::media;
use super::retry::{with_retries, FetchError};
use super::sealed::{has_named_length, is_named_file};
use super::whole::file_type;
use super::{Failure, Source};
use crate::api;
use crate::browser::sleep_ms;

struct Shared {
    stopped: Cell<bool>,
    retry_asked: Cell<bool>,
    object_url: RefCell<Option<String>>,
}

/// The page's handle on a video being played whole. Dropping it stops it.
pub struct WholePlayback {
    shared: Rc<Shared>,
    video: HtmlVideoElement,
}

impl WholePlayback {
    /// Starts fetching and opening. Call `request_play` on `video` right away too: on iPhones an
    /// element played once from a tap may be played again later without one.
    pub fn start(video: HtmlVideoElement, source: Arc<Source>, report: Reporter) -> Self {
        let shared = Rc::new(Shared {
            stopped: Cell::new(false),
            retry_asked: Cell::new(false),
            object_url: RefCell::new(None),
        });
        let load = Load {
            shared: shared.clone(),
            video: video.clone(),
            source,
            report,
        };
        leptos::task::spawn_local(load.run_to_end());
        Self { shared, video }
    }

    /// Carries on after the network failure the page showed.
    pub fn retry(&self) {
        self.shared.retry_asked.set(true);
    }

    /// Stops fetching, detaches the file from the element and frees it.
    pub fn stop(&self) {
        if self.shared.stopped.replace(true) {
            return;
        }
        if let Some(url) = self.shared.object_url.borrow_mut().take() {
            let _ = self.video.pause();
            let _ = self.video.remove_attribute("src");
            self.video.load();
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    }
}

impl Drop for WholePlayback {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Why loading ended early.
enum Stop {
    Stopped,
    Failed(Failure),
}

struct Load {
    shared: Rc<Shared>,
    video: HtmlVideoElement,
    source: Arc<Source>,
    report: Reporter,
}

impl Load {
    async fn run_to_end(self) {
        match self.run().await {
            Ok(()) | Err(Stop::Stopped) => {}
            Err(Stop::Failed(failure)) => (self.report)(Report::Failed(failure)),
        }
    }

    async fn run(&self) -> Result<(), Stop> {
        let source = &self.source;
        let manifest = &source.manifest;
        let total = manifest.segments.len() + 1;
        let parts = Array::new();
        for part in 0..total {
            let (url, entry, purpose) = if part == 0 {
                (
                    source.init_url(),
                    &manifest.init,
                    Purpose::init(&manifest.rendition),
                )
            } else {
                let index = part - 1;
                let number = u32::try_from(index).map_err(|_| undecryptable())?;
                (
                    source.segment_url(number),
                    &manifest.segments[index].file,
                    Purpose::segment(&manifest.rendition, number),
                )
            };
            let sealed = self.fetch(&url).await?;
            let purpose = purpose.map_err(|_| undecryptable())?;
            if !is_named_file(entry, &sealed) {
                return Err(undecryptable());
            }
            let plain = webcrypto::open_all(&source.dek, &source.video, &purpose, &sealed)
                .await
                .map_err(|_| undecryptable())?;
            if !has_named_length(entry, &plain) {
                return Err(undecryptable());
            }
            // A whole file's length comes from its init segment, which says 0 (see init_length).
            let plain = if part == 0 {
                init_length::with_length(plain, manifest.duration_ms)
            } else {
                plain
            };
            parts.push(&Uint8Array::from(plain.as_slice()));
            (self.report)(Report::Preparing {
                done: part + 1,
                total,
            });
        }
        if self.shared.stopped.get() {
            return Err(Stop::Stopped);
        }
        let unplayable = |_| {
            Stop::Failed(Failure::Unplayable(
                "This browser could not hold the video in memory.".to_owned(),
            ))
        };
        let options = BlobPropertyBag::new();
        options.set_type(file_type(&manifest.mime_codec));
        let blob =
            Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(unplayable)?;
        parts.set_length(0);
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(unplayable)?;
        *self.shared.object_url.borrow_mut() = Some(url.clone());
        self.video.set_src(&url);
        (self.report)(Report::FirstSegment);
        request_play(&self.video);
        // The browser opens the file only now: say so if it cannot play it.
        let error = std::pin::pin!(media::next_event(&self.video, "error"));
        let loaded = std::pin::pin!(media::next_event(&self.video, "loadedmetadata"));
        if let Either::Left(_) = select(error, loaded).await {
            if !self.shared.stopped.get() {
                return Err(Stop::Failed(Failure::Unplayable(
                    "This browser could not play this video.".to_owned(),
                )));
            }
        }
        Ok(())
    }

    /// The sealed file at `url`, retried through network trouble and after the page's Try again.
    async fn fetch(&self, url: &str) -> Result<Vec<u8>, Stop> {
        loop {
            let shared = self.shared.clone();
            let report = self.report.clone();
            let outcome = with_retries(
                || api::sealed_file(url, None),
                || shared.stopped.get(),
                |_| report(Report::Retrying),
            )
            .await;
            if self.shared.stopped.get() {
                return Err(Stop::Stopped);
            }
            match outcome {
                Ok(sealed) => return Ok(sealed),
                Err(FetchError::Abandoned) => return Err(Stop::Stopped),
                Err(FetchError::Refused(message)) => {
                    return Err(Stop::Failed(Failure::Refused(message)))
                }
                Err(FetchError::Unreachable) => {
                    (self.report)(Report::Failed(Failure::Unreachable));
                    self.until_retry().await?;
                    (self.report)(Report::Resumed);
                }
            }
        }
    }

    async fn until_retry(&self) -> Result<(), Stop> {
        self.shared.retry_asked.set(false);
        loop {
            if self.shared.stopped.get() {
                return Err(Stop::Stopped);
            }
            if self.shared.retry_asked.replace(false) {
                return Ok(());
            }
            sleep_ms(500).await;
        }
    }
}

fn undecryptable() -> Stop {
    Stop::Failed(Failure::Undecryptable)
}
