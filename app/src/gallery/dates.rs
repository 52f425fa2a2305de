//! Dates and times as the viewer reads them: their own locale and time zone, through the
//! browser's `Intl.DateTimeFormat` (one formatter each, made once). The server never renders a
//! tile (titles need the library key), so its fallback is only a plain UTC date.

/// A day, e.g. "7 Dec 2026" or "Dec 7, 2026".
pub fn local_date(unix_seconds: i64) -> String {
    imp::format(unix_seconds, false)
}

/// A day and a time of day, e.g. "15 Jun 2021, 10:30".
pub fn local_date_time(unix_seconds: i64) -> String {
    imp::format(unix_seconds, true)
}

#[cfg(feature = "hydrate")]
mod imp {
    use js_sys::{Array, Date, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;

    thread_local! {
        static DATE: Intl::DateTimeFormat = formatter(false);
        static DATE_TIME: Intl::DateTimeFormat = formatter(true);
    }

    /// The viewer's default locale and time zone (no `locales`, no `timeZone`).
    fn formatter(with_time: bool) -> Intl::DateTimeFormat {
        let options = Object::new();
        let _ = Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        if with_time {
            let _ = Reflect::set(&options, &"timeStyle".into(), &"short".into());
        }
        Intl::DateTimeFormat::new(&Array::new(), &options)
    }

    pub fn format(unix_seconds: i64, with_time: bool) -> String {
        let date = Date::new(&JsValue::from_f64(unix_seconds as f64 * 1000.0));
        if date.get_time().is_nan() {
            return "unknown date".to_owned();
        }
        let formatted = |f: &Intl::DateTimeFormat| {
            f.format()
                .call1(f, &date)
                .ok()
                .and_then(|s| s.as_string())
                .unwrap_or_else(|| "unknown date".to_owned())
        };
        if with_time {
            DATE_TIME.with(formatted)
        } else {
            DATE.with(formatted)
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    pub fn format(unix_seconds: i64, _with_time: bool) -> String {
        cloister_shared::api::utc_date(unix_seconds)
    }
}
