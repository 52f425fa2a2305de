//! A tile's thumbnail: fetched and decrypted only once the tile comes near the viewport, shown
//! from an object URL that is revoked when the tile goes. The manifest is not fetched for tiles,
//! so the sealed thumbnail is opened as it is (its salt is checked against nothing).

use cloister_shared::api::{VideoStatus, VideoSummary};
use leptos::prelude::*;

use super::viewport::in_view;
use crate::live::words::tile_stage;
use crate::live::{LiveJobs, Stage};

/// How far below (and above) the viewport a tile starts loading its thumbnail: about one row,
/// so scrolling finds pictures ready, while a long gallery loads only what is near the screen.
const THUMB_MARGIN: &str = "200px 0px";

#[derive(Debug, Clone, PartialEq)]
// Only the browser loads pictures.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
enum Picture {
    /// Not near the screen yet.
    Waiting,
    Loading,
    /// An object URL of the decrypted JPEG.
    Shown(String),
    /// The video has no thumbnail (not ready, or processing could not make one).
    None,
    /// Fetching or decrypting failed: a neutral placeholder, not an error.
    Unavailable,
}

impl Picture {
    fn state_name(&self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Loading => "loading",
            Self::Shown(_) => "shown",
            Self::None => "none",
            Self::Unavailable => "unavailable",
        }
    }
}

/// `duration` is shown over the picture; a `portrait` video gets a portrait-shaped box, the
/// picture letterboxed inside it (never cropped or stretched).
#[component]
pub fn Thumbnail(video: VideoSummary, duration: Option<String>, portrait: bool) -> impl IntoView {
    let live = LiveJobs::get();
    let id = video.video_id;
    let listed = video.status;
    let thumb_url = RwSignal::new(video.thumb_url());
    let picture = RwSignal::new(if video.thumb_url().is_some() {
        Picture::Waiting
    } else {
        Picture::None
    });
    let node = NodeRef::<leptos::html::Div>::new();
    let visible = in_view(node, THUMB_MARGIN);
    // Listed before it was ready, and ready now (over the WebSocket): the listing did not say
    // whether there is a thumbnail, so the video is asked once, when its tile is on screen.
    let became_ready = Memo::new(move |_| {
        listed != VideoStatus::Ready
            && matches!(
                tile_stage(listed, live.stage(&id).as_ref()),
                Some(Stage::Ready)
            )
    });

    #[cfg(feature = "hydrate")]
    browser::load_when_visible(
        id,
        video.wrapped_dek.clone(),
        visible,
        became_ready,
        thumb_url,
        picture,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (visible, became_ready, thumb_url);

    view! {
        <div class=if portrait { "tile-thumb portrait" } else { "tile-thumb" } node_ref=node data-testid="thumb"
            data-state=move || picture.with(Picture::state_name)
            data-shape=if portrait { "portrait" } else { "landscape" }
            title=move || picture.with(|p| (*p == Picture::Unavailable).then_some("Thumbnail unavailable"))>
            {move || match picture.get() {
                Picture::Shown(src) => Some(view! { <img src=src alt="" decoding="async"/> }),
                _ => None,
            }}
            {duration.map(|d| view! {
                <span class="tile-duration" data-testid="tile-duration" aria-label=format!("Duration {d}")>{d.clone()}</span>
            })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use cloister_shared::crypto::keys::WrappedKey;
    use cloister_shared::crypto::webcrypto;
    use cloister_shared::{Purpose, VideoId};
    use leptos::task::spawn_local;

    use super::*;
    use crate::api;
    use crate::gallery::viewport::InView;
    use crate::session::Session;

    /// Revokes the object URL when dropped: with the tile, or when a newer picture replaces it.
    struct ObjectUrl(String);

    impl Drop for ObjectUrl {
        fn drop(&mut self) {
            let _ = web_sys::Url::revoke_object_url(&self.0);
        }
    }

    pub fn load_when_visible(
        id: VideoId,
        wrapped_dek: WrappedKey,
        visible: InView,
        became_ready: Memo<bool>,
        thumb_url: RwSignal<Option<String>>,
        picture: RwSignal<Picture>,
    ) {
        let session = Session::get();
        let held = StoredValue::new_local(None::<ObjectUrl>);
        on_cleanup(move || {
            held.try_update_value(|url| url.take());
        });
        let asked_for_video = StoredValue::new(false);
        Effect::new(move |_| {
            if !visible.get() || !became_ready.get() || asked_for_video.get_value() {
                return;
            }
            asked_for_video.set_value(true);
            spawn_local(async move {
                if let Ok(summary) = api::video(&id).await {
                    if let Some(url) = summary.thumb_url() {
                        picture.try_set(Picture::Waiting);
                        thumb_url.try_set(Some(url));
                    }
                }
            });
        });
        Effect::new(move |_| {
            let Some(url) = thumb_url.get() else { return };
            if !visible.get() || picture.get_untracked() != Picture::Waiting {
                return;
            }
            let Some(key) = session.key.get_untracked() else {
                picture.set(Picture::Unavailable);
                return;
            };
            picture.set(Picture::Loading);
            let wrapped_dek = wrapped_dek.clone();
            spawn_local(async move {
                let shown = match fetch_and_open(id, &key, &wrapped_dek, &url).await {
                    Some(object_url) => {
                        let src = object_url.0.clone();
                        // If the tile is gone meanwhile, the URL is dropped (revoked) right here.
                        held.try_update_value(move |held| *held = Some(object_url));
                        Picture::Shown(src)
                    }
                    None => Picture::Unavailable,
                };
                picture.try_set(shown);
            });
        });
    }

    /// The thumbnail decrypted into an object URL; `None` for any failure (the tile shows a
    /// placeholder either way).
    async fn fetch_and_open(
        id: VideoId,
        key: &crate::keyring::Unlocked,
        wrapped_dek: &WrappedKey,
        url: &str,
    ) -> Option<ObjectUrl> {
        let dek = key.unwrap_dek(&id, wrapped_dek).ok()?;
        let sealed = api::sealed_file(url, None).await.ok()?;
        let jpeg = webcrypto::open_all(&dek, &id, &Purpose::Thumb, &sealed)
            .await
            .ok()?;
        object_url(&jpeg, "image/jpeg").map(ObjectUrl)
    }

    fn object_url(bytes: &[u8], mime: &str) -> Option<String> {
        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(mime);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
        web_sys::Url::create_object_url_with_blob(&blob).ok()
    }
}
