//! The phone's camera at the door: frames go through a canvas to a QR decoder
//! written in Rust (rqrr) inside the page's wasm, a few times a second, so
//! scanning needs neither the network nor a JavaScript library.
//!
//! A code held in front of the camera counts once: the same code is read
//! again only after it has been out of sight for a moment.

use leptos::html::Video;
use leptos::prelude::*;

use crate::i18n::use_texts;

/// The camera view and its start/stop button. `on_code` gets each new code
/// with the page-clock time of the frame it was read from; while `paused`
/// (an answer is on its way) frames are not read, so no scan is lost.
#[component]
pub fn Camera(on_code: Callback<(String, f64)>, paused: Signal<bool>) -> impl IntoView {
    let t = use_texts();
    let video = NodeRef::<Video>::new();
    let running = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            if running.get_untracked() {
                scanner::stop();
                running.set(false);
            } else if let Some(element) = video.get_untracked() {
                failed.set(false);
                leptos::task::spawn_local(async move {
                    match scanner::start(element, on_code, paused).await {
                        Ok(()) => running.set(true),
                        Err(()) => failed.set(true),
                    }
                });
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (on_code, paused);
    };
    on_cleanup(|| {
        #[cfg(feature = "hydrate")]
        scanner::stop();
    });
    view! {
        <div class="door-camera" class:running=running>
            <video node_ref=video muted=true playsinline=true data-testid="door-video"></video>
            <p class="hint" class:visually-hidden=move || !running.get()>{t.door.camera_hint}</p>
            <button class="button" type="button" on:click=toggle data-testid="door-camera">
                {move || if running.get() { t.door.stop_camera } else { t.door.start_camera }}
            </button>
            {move || failed.get().then(|| view! { <p class="error" role="alert">{t.door.camera_failed}</p> })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod scanner {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MediaStream};

    use super::super::browser;

    /// Frames are read this often; a decode takes a few milliseconds.
    const FRAME_GAP_MS: i32 = 60;
    /// A code must be out of sight this long to count again.
    const REPEAT_GAP_MS: f64 = 1500.0;
    /// Frames are scaled down to this longest side before decoding: enough
    /// for a ticket held at arm's length, and quick.
    const LONGEST_SIDE: u32 = 640;

    struct Scanning {
        stream: MediaStream,
        video: HtmlVideoElement,
        stopped: Rc<Cell<bool>>,
    }

    thread_local! {
        static CURRENT: RefCell<Option<Scanning>> = const { RefCell::new(None) };
    }

    pub async fn start(
        video: HtmlVideoElement,
        on_code: Callback<(String, f64)>,
        paused: Signal<bool>,
    ) -> Result<(), ()> {
        stop();
        let stream = open_camera().await.map_err(|err| {
            leptos::logging::warn!("camera: {err:?}");
        })?;
        video.set_muted(true);
        video.set_src_object(Some(&stream));
        if let Ok(playing) = video.play() {
            let _ = JsFuture::from(playing).await;
        }
        let stopped = Rc::new(Cell::new(false));
        CURRENT.with(|current| {
            *current.borrow_mut() = Some(Scanning {
                stream,
                video: video.clone(),
                stopped: stopped.clone(),
            });
        });
        leptos::task::spawn_local(read_frames(video, on_code, paused, stopped));
        Ok(())
    }

    pub fn stop() {
        if let Some(scanning) = CURRENT.with(|current| current.borrow_mut().take()) {
            scanning.stopped.set(true);
            for track in scanning.stream.get_tracks().iter() {
                if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                    track.stop();
                }
            }
            scanning.video.set_src_object(None);
        }
    }

    async fn open_camera() -> Result<MediaStream, JsValue> {
        let devices = web_sys::window()
            .ok_or(JsValue::NULL)?
            .navigator()
            .media_devices()?;
        // The back camera on a phone; any camera elsewhere.
        let video = js_sys::Object::new();
        js_sys::Reflect::set(&video, &"facingMode".into(), &"environment".into())?;
        let constraints = web_sys::MediaStreamConstraints::new();
        constraints.set_video(&video);
        constraints.set_audio(&false.into());
        JsFuture::from(devices.get_user_media_with_constraints(&constraints)?)
            .await?
            .dyn_into()
    }

    async fn read_frames(
        video: HtmlVideoElement,
        on_code: Callback<(String, f64)>,
        paused: Signal<bool>,
        stopped: Rc<Cell<bool>>,
    ) {
        let Some((canvas, context)) = canvas() else {
            return;
        };
        let mut last: Option<(String, f64)> = None;
        while !stopped.get() {
            browser::sleep(FRAME_GAP_MS).await;
            if stopped.get() || paused.get_untracked() {
                continue;
            }
            let frame_at = browser::monotonic_ms();
            let Some(text) = read_frame(&video, &canvas, &context) else {
                continue;
            };
            let seen_at = browser::monotonic_ms();
            if let Some((code, at)) = &mut last
                && *code == text
                && seen_at - *at < REPEAT_GAP_MS
            {
                *at = seen_at;
                continue;
            }
            last = Some((text.clone(), seen_at));
            on_code.run((text, frame_at));
        }
    }

    fn canvas() -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
        let canvas: HtmlCanvasElement =
            document().create_element("canvas").ok()?.dyn_into().ok()?;
        // Frames are read back every time: tell the browser to keep them in memory.
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"willReadFrequently".into(), &true.into()).ok()?;
        let context = canvas
            .get_context_with_context_options("2d", &options)
            .ok()??
            .dyn_into()
            .ok()?;
        Some((canvas, context))
    }

    fn read_frame(
        video: &HtmlVideoElement,
        canvas: &HtmlCanvasElement,
        context: &CanvasRenderingContext2d,
    ) -> Option<String> {
        let (width, height) = (video.video_width(), video.video_height());
        if width == 0 || height == 0 {
            return None;
        }
        let scale = (f64::from(LONGEST_SIDE) / f64::from(width.max(height))).min(1.0);
        let (w, h) = (
            (f64::from(width) * scale) as u32,
            (f64::from(height) * scale) as u32,
        );
        if canvas.width() != w || canvas.height() != h {
            canvas.set_width(w);
            canvas.set_height(h);
        }
        context
            .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w.into(), h.into())
            .ok()?;
        let rgba = context
            .get_image_data(0.0, 0.0, w.into(), h.into())
            .ok()?
            .data();
        decode(w as usize, h as usize, &rgba)
    }

    /// The text of the first QR code found in an RGBA frame.
    fn decode(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
        let luma = |x: usize, y: usize| {
            let i = (y * width + x) * 4;
            match rgba.get(i..i + 3) {
                // ITU-R BT.601 weights, in integers.
                Some(&[r, g, b]) => {
                    ((u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8) as u8
                }
                _ => 255,
            }
        };
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
        image
            .detect_grids()
            .into_iter()
            .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
    }
}
