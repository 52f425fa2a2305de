//! "Is this element on screen (or nearly)?" as a signal, from an IntersectionObserver: thumbnails
//! load when their tile comes into view, and the next page when the end of a list does.

use leptos::html::ElementType;
use leptos::prelude::*;

/// Whether an observed element is within a margin of the viewport.
#[derive(Clone, Copy)]
pub struct InView {
    visible: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    watch: StoredValue<Option<browser::Watch>, LocalStorage>,
}

impl InView {
    pub fn get(self) -> bool {
        self.visible.get()
    }

    /// Forgets the last answer until the observer has looked again, after the next layout. Call
    /// it when the list above the element changed: until the browser has laid the new items
    /// out, the old answer ("the end of the list is on screen") is stale and would load another
    /// page at once.
    pub fn recheck(self) {
        self.visible.set(false);
        #[cfg(feature = "hydrate")]
        self.watch.with_value(|watch| {
            if let Some(watch) = watch {
                watch.restart();
            }
        });
    }
}

/// Starts observing `node` once it is in the document; true while the element is within
/// `margin` (CSS, e.g. `"200px 0px"`) of the viewport. The observer goes with the owner.
#[cfg(feature = "hydrate")]
pub fn in_view<E>(node: NodeRef<E>, margin: &'static str) -> InView
where
    E: ElementType + 'static,
    E::Output: wasm_bindgen::JsCast + Clone + 'static,
{
    use wasm_bindgen::JsCast;
    let visible = RwSignal::new(false);
    let watch = StoredValue::new_local(None::<browser::Watch>);
    node.on_load(move |element| {
        let element: &web_sys::Element = element.unchecked_ref();
        let watch_now = browser::watch(element, margin, move |on_screen| {
            visible.try_set(on_screen);
        });
        watch.set_value(watch_now);
    });
    // Disconnects the observer before its callback could touch a disposed signal.
    on_cleanup(move || {
        watch.try_update_value(|watch| watch.take());
    });
    InView { visible, watch }
}

/// On the server nothing is on screen.
#[cfg(not(feature = "hydrate"))]
pub fn in_view<E>(_node: NodeRef<E>, _margin: &'static str) -> InView
where
    E: ElementType + 'static,
    E::Output: 'static,
{
    InView {
        visible: RwSignal::new(false),
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::Array;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

    /// An observer, its element and its callback; dropping it stops the observing.
    pub struct Watch {
        observer: IntersectionObserver,
        element: web_sys::Element,
        _callback: Closure<dyn FnMut(Array)>,
    }

    impl Watch {
        /// Observing anew makes the browser report the element's position after the next
        /// layout, whether or not it changed.
        pub fn restart(&self) {
            self.observer.unobserve(&self.element);
            self.observer.observe(&self.element);
        }
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            self.observer.disconnect();
        }
    }

    pub fn watch(
        element: &web_sys::Element,
        margin: &str,
        mut on_change: impl FnMut(bool) + 'static,
    ) -> Option<Watch> {
        let callback = Closure::<dyn FnMut(Array)>::new(move |entries: Array| {
            // Entries come oldest first; the last says where the element is now.
            let newest = entries
                .iter()
                .rev()
                .find_map(|entry| entry.dyn_into::<IntersectionObserverEntry>().ok());
            if let Some(entry) = newest {
                on_change(entry.is_intersecting());
            }
        });
        let options = IntersectionObserverInit::new();
        options.set_root_margin(margin);
        let observer =
            IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &options)
                .ok()?;
        observer.observe(element);
        Some(Watch {
            observer,
            element: element.clone(),
            _callback: callback,
        })
    }
}
