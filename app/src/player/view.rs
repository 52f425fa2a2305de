//! The player: a `<video>` fed by the engine once Play is pressed (nothing is fetched before), a
//! spinner until the first segment is in, "12 s ready ahead" while it plays, and the reason when it
//! stops. The element and its native controls show only once something can play, so a failure
//! before that leaves no empty controls behind.

use std::sync::Arc;

use leptos::prelude::*;

use super::plan::lookahead_label;
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
        /// Too large to play in this browser: "Save (decrypt here)" is offered.
        can_save: bool,
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

/// What the player shows beside the picture.
#[derive(Clone, Copy)]
struct Shown {
    phase: RwSignal<Phase>,
    /// Seconds ready ahead of the playhead, and what remains of the video.
    ahead: RwSignal<Option<(f64, f64)>>,
    note: RwSignal<Option<String>>,
    /// Something can play: the element and its controls show.
    playable: RwSignal<bool>,
}

/// `on_save` starts the Download section's "Save (decrypt here)", offered when this browser cannot
/// play the video.
#[component]
pub fn Player(
    source: Arc<Source>,
    title: String,
    #[prop(optional)] on_save: Option<Callback<()>>,
) -> impl IntoView {
    let shown = Shown {
        phase: RwSignal::new(Phase::Idle),
        ahead: RwSignal::new(None),
        note: RwSignal::new(None),
        playable: RwSignal::new(false),
    };
    let Shown {
        phase,
        ahead,
        note,
        playable,
    } = shown;
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let (width, height) = (source.manifest.width.max(1), source.manifest.height.max(1));
    let controls = controls::Controls::new(source, video_ref, shown);

    let stopped = move || match phase.get() {
        Phase::Stopped {
            message,
            can_retry,
            can_save,
        } => Some((message, can_retry, can_save)),
        _ => None,
    };
    let label = move || {
        ahead
            .get()
            .and_then(|(ahead, left)| lookahead_label(ahead, left))
    };
    // Nothing can play after a failure before playback: no picture frame, no empty controls.
    let unplayable = move || !playable.get() && matches!(phase.get(), Phase::Stopped { .. });
    view! {
        <div class="player" data-testid="player" data-phase=move || phase.get().name()>
            <div class="player-frame" style=format!("aspect-ratio: {width} / {height}")
                hidden=unplayable>
                <video
                    node_ref=video_ref
                    class="player-video"
                    data-testid="video"
                    aria-label=format!("Video: {title}")
                    playsinline=true
                    preload="none"
                    tabindex="0"
                    controls=move || playable.get()
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
                <Show when=move || matches!(phase.get(), Phase::Playing) && label().is_some()>
                    <span class="buffered" data-testid="buffered">{move || label().unwrap_or_default()}</span>
                </Show>
                <Show when=move || note.get().is_some()>
                    <span class="muted" role="status" data-testid="player-note">
                        {move || note.get().unwrap_or_default()}
                    </span>
                </Show>
            </div>
            {move || stopped().map(|(message, can_retry, can_save)| view! {
                // Too large to play here is no fault: said calmly, beside the way to watch it.
                <p class=if can_save { "player-notice" } else { "error" } role="alert" data-testid="player-error">
                    {message}
                </p>
                <Show when=move || can_retry>
                    <button class="button secondary" on:click=move |_| controls.retry()>"Try again"</button>
                </Show>
                {(can_save && on_save.is_some()).then(|| view! {
                    <button class="button" data-testid="player-save"
                        on:click=move |_| { if let Some(save) = on_save { save.run(()) } }>
                        "Save (decrypt here)"
                    </button>
                })}
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
        pub fn new(source: Arc<Source>, video: NodeRef<leptos::html::Video>, shown: Shown) -> Self {
            #[cfg(feature = "hydrate")]
            {
                Self {
                    inner: browser::Inner::new(source, video, shown),
                }
            }
            #[cfg(not(feature = "hydrate"))]
            {
                let _ = (source, video, shown);
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
        use crate::player::support;
        use crate::player::whole::{self, Decision};
        use crate::player::whole_feed::WholePlayback;
        use crate::player::Failure;

        /// A running playback: streamed, or played whole.
        enum Running {
            Streamed(Playback),
            Whole(WholePlayback),
        }

        impl Running {
            fn retry(&self) {
                match self {
                    Self::Streamed(playback) => playback.retry(),
                    Self::Whole(playback) => playback.retry(),
                }
            }

            fn stop(&self) {
                match self {
                    Self::Streamed(playback) => playback.stop(),
                    Self::Whole(playback) => playback.stop(),
                }
            }
        }

        #[derive(Clone, Copy)]
        pub struct Inner {
            source: StoredValue<Arc<Source>>,
            video: NodeRef<leptos::html::Video>,
            shown: Shown,
            running: StoredValue<Option<Running>, LocalStorage>,
        }

        impl Inner {
            pub fn new(
                source: Arc<Source>,
                video: NodeRef<leptos::html::Video>,
                shown: Shown,
            ) -> Self {
                let inner = Self {
                    source: StoredValue::new(source),
                    video,
                    shown,
                    running: StoredValue::new_local(None),
                };
                // Closing the view stops the feed and frees the browser's media buffer.
                on_cleanup(move || {
                    inner.running.try_update_value(|running| {
                        if let Some(running) = running.take() {
                            running.stop();
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

            fn fail(self, failure: Failure) {
                self.shown.phase.set(Phase::Stopped {
                    message: failure.message(),
                    can_retry: false,
                    can_save: matches!(failure, Failure::TooLarge { .. }),
                });
            }

            /// Streams where the browser can; else plays the video whole if it is small enough,
            /// or says it cannot and offers to save it.
            pub fn play(self) {
                if self.shown.phase.get_untracked() != Phase::Idle {
                    return;
                }
                let Some(video) = self.video.get_untracked() else {
                    return;
                };
                let source = self.source.get_value();
                let mime_codec = source.manifest.mime_codec.clone();
                let unsupported = || {
                    Failure::Unplayable(format!(
                        "This browser cannot play this video's format ({mime_codec})."
                    ))
                };
                let report = Rc::new(move |r| self.heard(r));
                let running = match support::streaming() {
                    Some(kind) if !support::is_type_supported(kind, &mime_codec) => {
                        return self.fail(unsupported());
                    }
                    Some(kind) => match Playback::start(video.clone(), source, kind, report) {
                        Ok(playback) => Running::Streamed(playback),
                        Err(failure) => return self.fail(failure),
                    },
                    None if !support::plays_natively(&video, &mime_codec) => {
                        return self.fail(unsupported());
                    }
                    None => match whole::decide(&source.manifest, support::device_memory_gb()) {
                        Decision::Fits => {
                            Running::Whole(WholePlayback::start(video.clone(), source, report))
                        }
                        Decision::TooLarge { size, limit } => {
                            return self.fail(Failure::TooLarge { size, limit });
                        }
                    },
                };
                self.running.set_value(Some(running));
                self.shown.phase.set(Phase::Starting);
                request_play(&video);
                // The Play button goes away: keep the keyboard on the video.
                let _ = video.focus();
            }

            pub fn retry(self) {
                self.running.with_value(|running| {
                    if let Some(running) = running {
                        running.retry();
                    }
                });
            }

            fn toggle(self) {
                let Some(video) = self.video.get_untracked() else {
                    return;
                };
                match self.shown.phase.get_untracked() {
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
                let Shown {
                    phase,
                    ahead,
                    note,
                    playable,
                } = self.shown;
                match report {
                    Report::Ahead {
                        ahead_s,
                        remaining_s,
                    } => {
                        ahead.try_set(Some((ahead_s, remaining_s)));
                        note.try_set(None);
                    }
                    Report::Preparing { done, total } => {
                        note.try_set(Some(format!(
                            "Opening the video in this browser: {}%",
                            done * 100 / total.max(1)
                        )));
                    }
                    Report::FirstSegment => {
                        note.try_set(None);
                        playable.try_set(true);
                        phase.try_set(Phase::Playing);
                    }
                    Report::Retrying => {
                        note.try_set(Some("Connection trouble: trying again…".to_owned()));
                    }
                    Report::Failed(failure) => {
                        note.try_set(None);
                        phase.try_set(Phase::Stopped {
                            message: failure.message(),
                            can_retry: failure == Failure::Unreachable,
                            can_save: false,
                        });
                    }
                    Report::Resumed => {
                        let resumed = if playable.try_get_untracked().unwrap_or(false) {
                            Phase::Playing
                        } else {
                            Phase::Starting
                        };
                        phase.try_set(resumed);
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
