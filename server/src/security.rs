//! Request-level protections that apply to every route: the cross-site
//! request check (CSRF) and the security headers.

use axum::body::Body;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::http::{Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses state-changing requests that a browser sent on behalf of another site.
///
/// Leptos server functions do no CSRF check of their own, so this runs in front
/// of everything. Modern browsers say where a request comes from in
/// `Sec-Fetch-Site`; older ones at least send `Origin` on POST, which must then
/// name this host. Requests with neither come from scripts and tools, not from
/// a browser a victim is using, and are let through — they still need a session.
pub async fn refuse_cross_site(request: Request<Body>, next: Next) -> Response {
    if is_cross_site_write(&request) {
        tracing::warn!(
            method = %request.method(),
            path = %request.uri().path(),
            "refused a cross-site request"
        );
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site and was refused. Open Tsudoi directly and try again.",
        )
            .into_response();
    }
    next.run(request).await
}

fn is_cross_site_write(request: &Request<Body>) -> bool {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return false;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        // "none" is the user typing a URL or using a bookmark.
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
        // `Origin: null` (sandboxed frames, some redirects) or no Host: refuse.
        _ => true,
    }
}

/// For everything that is not a page (assets, JSON, health checks).
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Headers every response carries unless the handler set its own.
pub fn default_headers(https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        (
            // The camera is for the door check-in page; nothing else is needed.
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(headers: &[(&str, &str)]) -> Request<Body> {
        let mut builder = Request::post("/api/auth/login");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).unwrap()
    }

    #[test]
    fn cross_site_writes_are_recognised() {
        let host = ("host", "events.example.co.jp");
        assert!(!is_cross_site_write(&post(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!is_cross_site_write(&post(&[
            host,
            ("sec-fetch-site", "none")
        ])));
        assert!(is_cross_site_write(&post(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(is_cross_site_write(&post(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(!is_cross_site_write(&post(&[
            host,
            ("origin", "https://events.example.co.jp")
        ])));
        assert!(is_cross_site_write(&post(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(is_cross_site_write(&post(&[host, ("origin", "null")])));
        assert!(!is_cross_site_write(&post(&[host])));
        let get = Request::get("/")
            .header("sec-fetch-site", "cross-site")
            .body(Body::empty())
            .unwrap();
        assert!(!is_cross_site_write(&get));
    }
}
