//! What the door page asks of the browser: its clock, its storage, whether
//! it believes it is online, vibration. Only in the hydrated bundle; the
//! server never runs these (it renders no answers).

use chrono::{DateTime, FixedOffset, Utc};
use tsudoi::checkin::DoorDevice;
use wasm_bindgen::JsValue;

fn storage_key(event_id: i64) -> String {
    format!("tsudoi.door.v1.{event_id}")
}

/// The device's clock (the wasm target has none of its own).
pub fn now() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Milliseconds on the page's monotonic clock, for timing scans.
pub fn monotonic_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_default()
}

/// The device's own UTC offset at `at`: door staff read times as their
/// watch shows them.
pub fn local_offset(at: DateTime<Utc>) -> FixedOffset {
    let date = js_sys::Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
    // getTimezoneOffset is minutes *behind* UTC.
    let seconds = -(date.get_timezone_offset() as i32) * 60;
    FixedOffset::east_opt(seconds).unwrap_or(FixedOffset::east_opt(0).expect("zero offset"))
}

pub fn navigator_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

pub fn vibrate(milliseconds: u32) {
    if let Some(window) = web_sys::window() {
        // Phones without a vibrator, and desktops, just say no.
        let _ = window.navigator().vibrate_with_duration(milliseconds);
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// What this device kept for the event, if anything (and readable).
pub fn load(event_id: i64) -> Option<DoorDevice> {
    let text = local_storage()?.get_item(&storage_key(event_id)).ok()??;
    serde_json::from_str::<DoorDevice>(&text)
        .ok()
        .filter(|device| device.event_id() == event_id)
}

/// Keeps the device's memory across reloads and a dead battery. A full
/// storage leaves it in memory only, which the page keeps using.
pub fn save(device: &DoorDevice) {
    let Some(storage) = local_storage() else {
        return;
    };
    match serde_json::to_string(device) {
        Ok(text) => {
            if storage
                .set_item(&storage_key(device.event_id()), &text)
                .is_err()
            {
                leptos::logging::warn!("the door list did not fit in this browser's storage");
            }
        }
        Err(err) => leptos::logging::warn!("door state not saved: {err}"),
    }
}

/// Resolves after `milliseconds`.
pub async fn sleep(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
