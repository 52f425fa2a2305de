//! The feed behind Play: the init segment, then media segments in order, each fetched, checked
//! against the manifest, opened and appended ahead of the playhead; media far from the playhead
//! removed; seeks followed. One loop per Play, stopped when the view closes.
//!
//! The same loop feeds Safari's `ManagedMediaSource` (see `support`): it fetches only while the
//! source says it wants data, and it plans from what the buffer really holds, so media the browser
//! dropped on its own (it tells with `bufferedchange`) is fetched again when needed.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;

use cloister_shared::crypto::webcrypto;
use cloister_shared::manifest::SealedFile;
use cloister_shared::{CryptoError, Purpose};
use futures::channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender};
use futures::future::{select, Either};
use futures::StreamExt;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{
    AbortController, HtmlVideoElement, MediaSource, MediaSourceReadyState, SourceBuffer,
};

use super::media::{self, AppendRefused};
use super::plan::{self, Span};
use super::retry::{with_retries, FetchError};
use super::sealed::{has_named_length, is_named_file};
use super::support::{self, Streaming};
use super::{Failure, Source};
use crate::api;
use crate::browser::sleep_ms;

/// What the feed tells the page.
pub enum Report {
    /// Seconds buffered ahead of the playhead, and what remains of the video, after every step.
    Ahead {
        ahead_s: f64,
        remaining_s: f64,
    },
    /// Playing whole: this many of the video's files (init segment first) are in.
    Preparing {
        done: usize,
        total: usize,
    },
    /// The first media segment is in (or the whole file): the picture can start.
    FirstSegment,
    /// A fetch failed for a network reason and is tried again.
    Retrying,
    Failed(Failure),
    /// Carrying on after Try again.
    Resumed,
}

pub type Reporter = Rc<dyn Fn(Report)>;

/// State shared between the loop, the `seeking` listener and the page.
struct Shared {
    stopped: Cell<bool>,
    /// Counts seeks: a change tells the loop to plan afresh.
    seeks: Cell<u64>,
    retry_asked: Cell<bool>,
    in_flight: RefCell<Option<InFlight>>,
    wake: UnboundedSender<()>,
    /// Calls `wake`: the listener for the media source's events that call for planning afresh.
    waker: js_sys::Function,
    /// Where `waker` listens, so that stopping removes it everywhere.
    listening: RefCell<Vec<(web_sys::EventTarget, &'static str)>>,
}

/// The fetch under way.
struct InFlight {
    /// `None` for the init segment, which is always needed.
    segment: Option<usize>,
    controller: Option<AbortController>,
    superseded: bool,
}

impl Shared {
    /// A seek: the segment being fetched is dropped (its request aborted) unless the new
    /// playhead still wants it, and the loop wakes to plan from there. Appends in progress are
    /// let finish: they are whole segments, which the buffer places by their own timestamps.
    fn seeked(&self, source: &Source, now_s: f64) {
        self.seeks.set(self.seeks.get() + 1);
        if let Some(fetch) = self.in_flight.borrow_mut().as_mut() {
            if let Some(index) = fetch.segment {
                if !plan::still_wanted(&source.manifest, index, now_s) {
                    fetch.superseded = true;
                    if let Some(controller) = &fetch.controller {
                        controller.abort();
                    }
                }
            }
        }
        let _ = self.wake.unbounded_send(());
    }

    /// Wakes the loop on every `name` event of `target`, until playback stops.
    fn wake_on(&self, target: &web_sys::EventTarget, name: &'static str) {
        if target
            .add_event_listener_with_callback(name, &self.waker)
            .is_ok()
        {
            self.listening.borrow_mut().push((target.clone(), name));
        }
    }

    fn abandoned(&self) -> bool {
        self.stopped.get()
            || self
                .in_flight
                .borrow()
                .as_ref()
                .is_some_and(|fetch| fetch.superseded)
    }
}

/// The page's handle on a running playback. Dropping it stops it.
pub struct Playback {
    shared: Rc<Shared>,
    video: HtmlVideoElement,
    object_url: String,
    on_seeking: Closure<dyn FnMut()>,
    /// Owns the function behind `Shared::waker`.
    _on_wake: Closure<dyn FnMut()>,
    detached: Cell<bool>,
}

impl Playback {
    /// Attaches a new `MediaSource` to `video` and starts feeding it. Call `video.play()` right
    /// after, while the click that asked for it still counts as the user's.
    pub fn start(
        video: HtmlVideoElement,
        source: Arc<Source>,
        kind: Streaming,
        report: Reporter,
    ) -> Result<Self, Failure> {
        let unplayable =
            |_| Failure::Unplayable("This browser could not start a media stream.".to_owned());
        let media_source = support::new_media_source(kind).map_err(unplayable)?;
        support::prepare_element(&video, kind);
        let object_url =
            web_sys::Url::create_object_url_with_source(&media_source).map_err(unplayable)?;
        let (wake, woken) = unbounded();
        let on_wake = {
            let wake = wake.clone();
            Closure::<dyn FnMut()>::new(move || {
                let _ = wake.unbounded_send(());
            })
        };
        let shared = Rc::new(Shared {
            stopped: Cell::new(false),
            seeks: Cell::new(0),
            retry_asked: Cell::new(false),
            in_flight: RefCell::new(None),
            wake,
            waker: on_wake.as_ref().unchecked_ref::<js_sys::Function>().clone(),
            listening: RefCell::new(Vec::new()),
        });
        // Data wanted again: fetch at once rather than at the next tick.
        shared.wake_on(&media_source, "startstreaming");
        let on_seeking = {
            let (shared, video, source) = (shared.clone(), video.clone(), source.clone());
            Closure::<dyn FnMut()>::new(move || shared.seeked(&source, video.current_time()))
        };
        video
            .add_event_listener_with_callback("seeking", on_seeking.as_ref().unchecked_ref())
            .map_err(unplayable)?;
        video.set_src(&object_url);
        let feed = Feed {
            video: video.clone(),
            media_source,
            source,
            shared: shared.clone(),
            woken,
            report,
        };
        leptos::task::spawn_local(feed.run_to_end());
        Ok(Self {
            shared,
            video,
            object_url,
            on_seeking,
            _on_wake: on_wake,
            detached: Cell::new(false),
        })
    }

    /// Carries on after the network failure the page showed.
    pub fn retry(&self) {
        self.shared.retry_asked.set(true);
        let _ = self.shared.wake.unbounded_send(());
    }

    /// Stops fetching and detaches the media from the element (freeing its buffer).
    pub fn stop(&self) {
        self.shared.stopped.set(true);
        if let Some(fetch) = self.shared.in_flight.borrow().as_ref() {
            if let Some(controller) = &fetch.controller {
                controller.abort();
            }
        }
        let _ = self.shared.wake.unbounded_send(());
        if self.detached.replace(true) {
            return;
        }
        let _ = self.video.remove_event_listener_with_callback(
            "seeking",
            self.on_seeking.as_ref().unchecked_ref(),
        );
        for (target, name) in self.shared.listening.borrow_mut().drain(..) {
            let _ = target.remove_event_listener_with_callback(name, &self.shared.waker);
        }
        let _ = self.video.pause();
        let _ = self.video.remove_attribute("src");
        self.video.load();
        let _ = web_sys::Url::revoke_object_url(&self.object_url);
    }
}

impl Drop for Playback {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asks the element to play; a refusal (e.g. paused again before any data came) is not an error
/// worth an unhandled rejection.
pub fn request_play(video: &HtmlVideoElement) {
    if let Ok(promise) = video.play() {
        leptos::task::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// Why the loop ended.
enum Stop {
    /// The page stopped it.
    Stopped,
    /// The browser's buffer is full for now.
    Full,
    Failed(Failure),
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Self {
        Self::Failed(failure)
    }
}

struct Feed {
    video: HtmlVideoElement,
    media_source: MediaSource,
    source: Arc<Source>,
    shared: Rc<Shared>,
    woken: UnboundedReceiver<()>,
    report: Reporter,
}

impl Feed {
    async fn run_to_end(mut self) {
        let failure = match self.run().await {
            Ok(()) | Err(Stop::Stopped) => return,
            Err(Stop::Full) => Failure::Unplayable(
                "This browser ran out of room for the video. Close other tabs and try again."
                    .to_owned(),
            ),
            Err(Stop::Failed(failure)) => failure,
        };
        // Nothing more is fetched; what was buffered stays on screen, paused.
        let _ = self.video.pause();
        (self.report)(Report::Failed(failure));
    }

    async fn run(&mut self) -> Result<(), Stop> {
        let source = self.source.clone();
        let manifest = &source.manifest;
        if self.media_source.ready_state() != MediaSourceReadyState::Open {
            self.until_event(self.media_source.clone().into(), "sourceopen")
                .await?;
        }
        let buffer = self
            .media_source
            .add_source_buffer(&manifest.mime_codec)
            .map_err(|_| {
                Failure::Unplayable(format!(
                    "This browser cannot play this video's format ({}).",
                    manifest.mime_codec
                ))
            })?;
        // A `ManagedSourceBuffer` tells when the browser dropped media on its own.
        self.shared.wake_on(&buffer, "bufferedchange");
        // The whole timeline is seekable before it is buffered.
        self.media_source
            .set_duration(manifest.duration_ms as f64 / 1000.0);

        let init_url = source.init_url();
        let sealed = loop {
            if let Some(sealed) = self.fetch(&init_url, None).await? {
                break sealed;
            }
        };
        let mut init = self
            .open(&manifest.init, Purpose::init(&manifest.rendition), sealed)
            .await?;
        self.append(&buffer, &mut init).await?;
        drop(init);

        // Appended since the last seek, yet not where the manifest puts them (see `plan::held`).
        let mut misplaced = BTreeSet::new();
        let mut seeks_seen = self.shared.seeks.get();
        let mut started = false;
        loop {
            if self.shared.stopped.get() {
                return Err(Stop::Stopped);
            }
            if self.shared.seeks.get() != seeks_seen {
                seeks_seen = self.shared.seeks.get();
                misplaced.clear();
            }
            let now = self.video.current_time();
            let mut buffered = media::spans(&buffer);
            (self.report)(Report::Ahead {
                ahead_s: plan::ahead_of(now, &buffered),
                remaining_s: manifest.duration_ms as f64 / 1000.0 - now,
            });

            let removals = plan::to_remove(manifest, now, &buffered);
            if !removals.is_empty() {
                for span in removals {
                    self.remove(&buffer, span).await?;
                    for index in plan::segments_in(manifest, span) {
                        misplaced.remove(&index);
                    }
                }
                buffered = media::spans(&buffer);
            }

            let next = plan::next_segment(manifest, now, &buffered, &misplaced);
            // A `ManagedMediaSource` that has enough (or is saving power) says so: wait for its
            // `startstreaming`, which wakes this loop.
            if next.is_some() && !support::wants_data(&self.media_source) {
                self.idle(1_000).await;
                continue;
            }
            if let Some(index) = next {
                let Ok(number) = u32::try_from(index) else {
                    return Err(Failure::Undecryptable.into());
                };
                let url = source.segment_url(number);
                // `None`: a seek made it unwanted, or the connection came back: plan again.
                let Some(sealed) = self.fetch(&url, Some(index)).await? else {
                    continue;
                };
                let purpose = Purpose::segment(&manifest.rendition, number);
                let mut segment = self
                    .open(&manifest.segments[index].file, purpose, sealed)
                    .await?;
                match self.append(&buffer, &mut segment).await {
                    Ok(()) => {}
                    // Playback frees room as it moves on.
                    Err(Stop::Full) => {
                        self.idle(1_000).await;
                        continue;
                    }
                    Err(stop) => return Err(stop),
                }
                if !plan::in_buffer(manifest, index, &media::spans(&buffer)) {
                    misplaced.insert(index);
                }
                if !started {
                    started = true;
                    (self.report)(Report::FirstSegment);
                }
                continue;
            }

            if plan::complete(manifest, now, &buffered, &misplaced)
                && self.media_source.ready_state() == MediaSourceReadyState::Open
                && !buffer.updating()
            {
                // Lets the element end; a later append (after seeking back) reopens the source.
                let _ = self.media_source.end_of_stream();
            }
            self.idle(250).await;
        }
    }

    /// The sealed file at `url`, retried through network trouble. `Ok(None)` when a seek made
    /// the segment unwanted, or after the page's Try again.
    async fn fetch(&mut self, url: &str, segment: Option<usize>) -> Result<Option<Vec<u8>>, Stop> {
        *self.shared.in_flight.borrow_mut() = Some(InFlight {
            segment,
            controller: None,
            superseded: false,
        });
        let shared = self.shared.clone();
        let report = self.report.clone();
        let outcome = with_retries(
            || {
                let controller = AbortController::new().ok();
                let signal = controller.as_ref().map(AbortController::signal);
                if let Some(fetch) = shared.in_flight.borrow_mut().as_mut() {
                    fetch.controller = controller;
                }
                let url = url.to_owned();
                async move { api::sealed_file(&url, signal.as_ref()).await }
            },
            || shared.abandoned(),
            |_| report(Report::Retrying),
        )
        .await;
        let superseded = self
            .shared
            .in_flight
            .borrow_mut()
            .take()
            .is_some_and(|fetch| fetch.superseded);
        if self.shared.stopped.get() {
            return Err(Stop::Stopped);
        }
        match outcome {
            Ok(_) | Err(FetchError::Abandoned) if superseded => Ok(None),
            Ok(sealed) => Ok(Some(sealed)),
            Err(FetchError::Abandoned) => Ok(None),
            Err(FetchError::Refused(message)) => Err(Failure::Refused(message).into()),
            Err(FetchError::Unreachable) => {
                (self.report)(Report::Failed(Failure::Unreachable));
                self.until_retry().await?;
                (self.report)(Report::Resumed);
                Ok(None)
            }
        }
    }

    /// Checks `sealed` is the file `entry` names, then opens it. Any failure is the same
    /// "Unable to decrypt segment", and stops playback.
    async fn open(
        &self,
        entry: &SealedFile,
        purpose: Result<Purpose, CryptoError>,
        sealed: Vec<u8>,
    ) -> Result<Vec<u8>, Stop> {
        let undecryptable = || Stop::Failed(Failure::Undecryptable);
        let purpose = purpose.map_err(|_| undecryptable())?;
        if !is_named_file(entry, &sealed) {
            return Err(undecryptable());
        }
        let plain = webcrypto::open_all(&self.source.dek, &self.source.video, &purpose, &sealed)
            .await
            .map_err(|_| undecryptable())?;
        if !has_named_length(entry, &plain) {
            return Err(undecryptable());
        }
        Ok(plain)
    }

    async fn append(&mut self, buffer: &SourceBuffer, bytes: &mut [u8]) -> Result<(), Stop> {
        match media::start_append(buffer, bytes) {
            Ok(()) => {}
            Err(AppendRefused::Full) => return Err(Stop::Full),
            Err(AppendRefused::Other) => {
                return Err(Failure::Unplayable(
                    "This browser refused the video's data.".to_owned(),
                )
                .into())
            }
        }
        self.until_updated(buffer).await?;
        if let Some(error) = self.video.error() {
            return Err(Failure::Unplayable(format!(
                "This browser could not decode the video (media error {}).",
                error.code()
            ))
            .into());
        }
        Ok(())
    }

    async fn remove(&mut self, buffer: &SourceBuffer, span: Span) -> Result<(), Stop> {
        // Refused (e.g. the span is no longer inside the duration): nothing to free.
        if span.end > span.start && buffer.remove(span.start, span.end).is_ok() {
            self.until_updated(buffer).await?;
        }
        Ok(())
    }

    async fn until_updated(&mut self, buffer: &SourceBuffer) -> Result<(), Stop> {
        if buffer.updating() {
            self.until_event(buffer.clone().into(), "updateend").await?;
        }
        Ok(())
    }

    /// Waits for an event of `target`, or until the page stops playback.
    async fn until_event(&mut self, target: web_sys::EventTarget, name: &str) -> Result<(), Stop> {
        let mut event = std::pin::pin!(media::next_event(&target, name));
        loop {
            let tick = std::pin::pin!(sleep_ms(250));
            if let Either::Left(_) = select(event.as_mut(), tick).await {
                return Ok(());
            }
            if self.shared.stopped.get() {
                return Err(Stop::Stopped);
            }
        }
    }

    /// Waits until the page's Try again, or until it stops playback.
    async fn until_retry(&mut self) -> Result<(), Stop> {
        self.shared.retry_asked.set(false);
        loop {
            if self.shared.stopped.get() {
                return Err(Stop::Stopped);
            }
            if self.shared.retry_asked.replace(false) {
                return Ok(());
            }
            self.idle(1_000).await;
        }
    }

    /// Sleeps up to `ms`, waking early for a seek, a retry or a stop.
    async fn idle(&mut self, ms: u32) {
        let sleep = std::pin::pin!(sleep_ms(ms));
        let _ = select(self.woken.next(), sleep).await;
    }
}
