//! The player: a `<video>` fed by the engine once Play is pressed (nothing is fetched before), a
//! spinner until the first segment is in, "Buffered 12 s / 30 s" while it plays, and the reason
//! when it stops.

use std::sync::Arc;

use leptos::prelude::*;

use super::plan::buffered_label;
use super::Source;

/// Where the player is.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Phase {
    /// Nothing fetched yet.
    Idle,
    /// Play was pressed; the first segment is on its way.
    Starting,
    Playing,
    Stopped {
        message: String,
        /// A network failure: Try again carries on.
        can_retry: bool,
    },
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Starting => "starting",
            Self::Playing => "playing",
            Self::Stopped { .. } => "stopped",
        }
    }
}

#[component]
pub fn Player(source: Arc<Source>, title: String) -> impl IntoView {
    let phase = RwSignal::new(Phase::Idle);
    let ahead = RwSignal::new(None::<f64>);
    let note = RwSignal::new(None::<&'static str>);
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let (width, height) = (source.manifest.width.max(1), source.manifest.height.max(1));
    let controls = controls::Controls::new(source, video_ref, phase, ahead, note);

    let started = move || !matches!(phase.get(), Phase::Idle);
    let stopped = move || match phase.get() {
        Phase::Stopped { message, can_retry } => Some((message, can_retry)),
        _ => None,
    };
    view! {
        <div class="player" data-testid="player" data-phase=move || phase.get().name()>
            <div class="player-frame" style=format!("aspect-ratio: {width} / {height}")>
                <video
                    node_ref=video_ref
                    class="player-video"
                    data-testid="video"
                    aria-label=format!("Video: {title}")
                    playsinline=true
                    preload="none"
                    tabindex="0"
                    controls=started
                ></video>
                <Show when=move || phase.get() == Phase::Idle>
                    <button class="play-button" data-testid="play" on:click=move |_| controls.play()>
                        <span aria-hidden="true">"▶ "</span>"Play"
                    </button>
                </Show>
                <Show when=move || phase.get() == Phase::Starting>
                    <div class="player-spinner" role="status" data-testid="player-spinner">
                        <span class="spinner" aria-hidden="true"></span>
                        <span class="visually-hidden">"Loading the video…"</span>
                    </div>
                </Show>
            </div>
            <div class="player-status">
                <Show when=move || matches!(phase.get(), Phase::Playing) && ahead.get().is_some()>
                    <span class="buffered" data-testid="buffered">
                        {move || buffered_label(ahead.get().unwrap_or_default())}
                    </span>
                </Show>
                <Show when=move || note.get().is_some()>
                    <span class="muted" role="status">{move || note.get().unwrap_or_default()}</span>
                </Show>
            </div>
            {move || stopped().map(|(message, can_retry)| view! {
                <p class="error" role="alert" data-testid="player-error">{message}</p>
                <Show when=move || can_retry>
                    <button class="button secondary" on:click=move |_| controls.retry()>"Try again"</button>
                </Show>
            })}
        </div>
    }
}

/// What the buttons and the keyboard do. In the browser they drive the engine; on the server,
/// where nothing is clicked, they do nothing.
mod controls {
    use super::*;

    #[derive(Clone, Copy)]
    pub struct Controls {
        #[cfg(feature = "hydrate")]
        inner: browser::Inner,
    }

    impl Controls {
        pub fn new(
            source: Arc<Source>,
            video: NodeRef<leptos::html::Video>,
            phase: RwSignal<Phase>,
            ahead: RwSignal<Option<f64>>,
            note: RwSignal<Option<&'static str>>,
        ) -> Self {
            #[cfg(feature = "hydrate")]
            {
                Self {
                    inner: browser::Inner::new(source, video, phase, ahead, note),
                }
            }
            #[cfg(not(feature = "hydrate"))]
            {
                let _ = (source, video, phase, ahead, note);
                Self {}
            }
        }

        pub fn play(self) {
            #[cfg(feature = "hydrate")]
            self.inner.play();
        }

        pub fn retry(self) {
            #[cfg(feature = "hydrate")]
            self.inner.retry();
        }
    }

    #[cfg(feature = "hydrate")]
    mod browser {
        use std::rc::Rc;

        use wasm_bindgen::JsCast;

        use super::*;
        use crate::player::engine::{request_play, Playback, Report};
        use crate::player::media::check_supported;
        use crate::player::Failure;

        #[derive(Clone, Copy)]
        pub struct Inner {
            source: StoredValue<Arc<Source>>,
            video: NodeRef<leptos::html::Video>,
            phase: RwSignal<Phase>,
            ahead: RwSignal<Option<f64>>,
            note: RwSignal<Option<&'static str>>,
            playback: StoredValue<Option<Playback>, LocalStorage>,
            /// The first segment was appended once.
            played: StoredValue<bool>,
        }

        impl Inner {
            pub fn new(
                source: Arc<Source>,
                video: NodeRef<leptos::html::Video>,
                phase: RwSignal<Phase>,
                ahead: RwSignal<Option<f64>>,
                note: RwSignal<Option<&'static str>>,
            ) -> Self {
                let inner = Self {
                    source: StoredValue::new(source),
                    video,
                    phase,
                    ahead,
                    note,
                    playback: StoredValue::new_local(None),
                    played: StoredValue::new(false),
                };
                // Closing the view stops the feed and frees the browser's media buffer.
                on_cleanup(move || {
                    inner.playback.try_update_value(|playback| {
                        if let Some(playback) = playback.take() {
                            playback.stop();
                        }
                    });
                });
                // Space plays and pauses wherever focus is in the view, except on controls that
                // use Space themselves.
                let keys = window_event_listener(leptos::ev::keydown, move |ev| {
                    if ev.key() == " " && !ev.repeat() && !uses_space(ev.target()) {
                        ev.prevent_default();
                        inner.toggle();
                    }
                });
                on_cleanup(move || keys.remove());
                inner
            }

            pub fn play(self) {
                if self.phase.get_untracked() != Phase::Idle {
                    return;
                }
                let Some(video) = self.video.get_untracked() else {
                    return;
                };
                let source = self.source.get_value();
                if let Err(message) = check_supported(&source.manifest.mime_codec) {
                    self.phase.set(Phase::Stopped {
                        message,
                        can_retry: false,
                    });
                    return;
                }
                match Playback::start(video.clone(), source, Rc::new(move |r| self.heard(r))) {
                    Ok(playback) => {
                        self.playback.set_value(Some(playback));
                        self.phase.set(Phase::Starting);
                        request_play(&video);
                        // The Play button goes away: keep the keyboard on the video.
                        let _ = video.focus();
                    }
                    Err(failure) => self.phase.set(Phase::Stopped {
                        message: failure.message(),
                        can_retry: false,
                    }),
                }
            }

            pub fn retry(self) {
                self.playback.with_value(|playback| {
                    if let Some(playback) = playback {
                        playback.retry();
                    }
                });
            }

            fn toggle(self) {
                let Some(video) = self.video.get_untracked() else {
                    return;
                };
                match self.phase.get_untracked() {
                    Phase::Idle => self.play(),
                    Phase::Starting | Phase::Playing if video.paused() => request_play(&video),
                    Phase::Starting | Phase::Playing => {
                        let _ = video.pause();
                    }
                    Phase::Stopped { .. } => {}
                }
            }

            /// The engine's reports. The view may be gone by the time one arrives: `try_`.
            fn heard(self, report: Report) {
                match report {
                    Report::Buffered(seconds) => {
                        self.ahead.try_set(Some(seconds));
                        self.note.try_set(None);
                    }
                    Report::FirstSegment => {
                        self.played.try_set_value(true);
                        self.phase.try_set(Phase::Playing);
                    }
                    Report::Retrying => {
                        self.note.try_set(Some("Connection trouble: trying again…"));
                    }
                    Report::Failed(failure) => {
                        self.note.try_set(None);
                        self.phase.try_set(Phase::Stopped {
                            message: failure.message(),
                            can_retry: failure == Failure::Unreachable,
                        });
                    }
                    Report::Resumed => {
                        let resumed = if self.played.try_get_value().unwrap_or(false) {
                            Phase::Playing
                        } else {
                            Phase::Starting
                        };
                        self.phase.try_set(resumed);
                    }
                }
            }
        }

        /// Buttons, links, fields and the video itself handle Space on their own.
        fn uses_space(target: Option<web_sys::EventTarget>) -> bool {
            let Some(element) = target.and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                return false;
            };
            matches!(
                element.tag_name().to_ascii_lowercase().as_str(),
                "button" | "a" | "input" | "textarea" | "select" | "video" | "summary"
            ) || element.has_attribute("contenteditable")
        }
    }
}
