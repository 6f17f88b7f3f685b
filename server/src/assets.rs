//! The compiled site, embedded in the binary so that it runs alone.

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "../target/site"]
struct Site;

/// Serves an embedded file, answering `If-None-Match` with 304; `None` if no such file.
///
/// The build stores Brotli and gzip copies of the bundle (`FILE.br`, `FILE.gz`);
/// the best one the browser accepts is sent as is, so nothing is compressed per request.
pub fn serve(request: &Request<Body>) -> Option<Response> {
    let path = request.uri().path().trim_start_matches('/');
    let original = Site::get(path).filter(|_| !path.is_empty())?;
    let mime = original.metadata.mimetype().to_string();
    let accepted = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let precompressed = [("br", "br"), ("gzip", "gz")]
        .into_iter()
        .filter(|(encoding, _)| accepts(accepted, encoding))
        .find_map(|(encoding, suffix)| {
            Site::get(&format!("{path}.{suffix}")).map(|file| (file, encoding))
        });
    let has_variants = Site::get(&format!("{path}.gz")).is_some();
    let (file, encoding) = match precompressed {
        Some((file, encoding)) => (file, Some(encoding)),
        None => (original, None),
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let fresh = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Body::from(file.data.into_owned()).into_response();
        if let Ok(value) = HeaderValue::from_str(&mime) {
            response.headers_mut().insert(header::CONTENT_TYPE, value);
        }
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let headers = response.headers_mut();
    if has_variants {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    // File names carry no hash, so browsers revalidate; the ETag makes that a cheap 304.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

/// Whether an Accept-Encoding header value allows `encoding` (absent, or with q > 0).
fn accepts(header: &str, encoding: &str) -> bool {
    header.split(',').any(|item| {
        let mut parts = item.split(';').map(str::trim);
        parts
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case(encoding))
            && parts.all(|param| {
                param
                    .strip_prefix("q=")
                    .is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0))
            })
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// True when the hydration bundle was embedded (a site build ran before this binary was compiled).
pub fn has_hydration_bundle() -> bool {
    Site::get(&format!("pkg/{}.wasm", tsudoi_app::OUTPUT_NAME)).is_some()
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_read_with_quality_values() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip;q=0.8, br;q=1.0", "gzip"));
        assert!(!accepts("gzip;q=0, deflate", "gzip"));
        assert!(!accepts("", "br"));
        assert!(!accepts("brotli", "br"));
    }
}
