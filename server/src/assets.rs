//! The compiled site, embedded in the binary so that it runs alone.

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site"]
struct Site;

/// Serves an embedded file, answering `If-None-Match` with 304; `None` if no such file.
pub fn serve(request: &Request<Body>) -> Option<Response> {
    let path = request.uri().path().trim_start_matches('/');
    let file = Site::get(path).filter(|_| !path.is_empty())?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = file.metadata.mimetype();
        let mut response = Body::from(file.data.into_owned()).into_response();
        if let Ok(value) = HeaderValue::from_str(mime) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // File names carry no hash, so browsers revalidate; the ETag makes that a cheap 304.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when the hydration bundle was embedded (a site build ran before this binary was compiled).
pub fn has_hydration_bundle() -> bool {
    Site::get(&format!("pkg/{}.wasm", tsudoi_app::OUTPUT_NAME)).is_some()
}
