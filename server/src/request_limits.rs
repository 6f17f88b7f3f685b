//! Bounds every request must stay within, whatever a client sends: the
//! methods we answer, the size and shape of bodies, the time to answer, and a
//! last line against panics.
//!
//! Each answers a client's mistake with a 4xx and a sentence saying what was
//! wrong, so that a 5xx always means a fault of ours and monitoring can trust it.

use std::any::Any;
use std::time::Duration;
use tracing::Instrument;

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use leptos::server_fn::ServerFn;
use tsudoi_app::pages::admin::users::{ImportUsers, MAX_IMPORT_BYTES};

/// Larger than any form or JSON body Tsudoi's own pages send (the door's
/// offline queue of a few thousand check-ins is the largest).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The CSV upload: the file plus room for the multipart framing.
const MAX_UPLOAD_BYTES: usize = MAX_IMPORT_BYTES + 64 * 1024;

/// A refused body up to this size is read to its end before the 413 goes out.
const MAX_DRAINED_BYTES: u64 = 16 * 1024 * 1024;
const DRAIN_TIME_LIMIT: Duration = Duration::from_secs(10);

/// An import of tens of thousands of people writes each of them: it is given
/// minutes, where everything else has the configured bound.
const UPLOAD_TIME_LIMIT: Duration = Duration::from_secs(300);

fn is_upload(request: &Request<Body>) -> bool {
    request.uri().path() == <ImportUsers as ServerFn>::PATH
}

fn refusal(status: StatusCode, message: &'static str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        message,
    )
        .into_response()
}

/// GET, HEAD and POST are all Tsudoi answers; anything else (CONNECT with an
/// authority instead of a path, TRACE, PUT …) is refused before routing,
/// where some of them would otherwise reach code that expects a path.
pub async fn allow_known_methods(request: Request<Body>, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::POST | Method::OPTIONS
    ) && request.uri().path().starts_with('/')
    {
        return next.run(request).await;
    }
    let mut response = refusal(
        StatusCode::METHOD_NOT_ALLOWED,
        "This method is not supported here.",
    );
    response.headers_mut().insert(
        header::ALLOW,
        HeaderValue::from_static("GET, HEAD, POST, OPTIONS"),
    );
    response
}

/// Reads the whole body before the handler runs, refusing one larger than
/// the endpoint takes with 413.
///
/// Reading it all first, rather than letting each handler stream it, means
/// no answer ever goes out over a body still unread: a handler that answers
/// early (an unknown server function, a refusal) would otherwise leave the
/// connection to be closed under a client that then reports a reset instead
/// of the answer. Every body Tsudoi takes is small enough to hold (the CSV
/// upload is the largest), and a client that sends slowly is bounded by the
/// request time limit around this.
pub async fn read_body_within_limit(request: Request<Body>, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let limit = if is_upload(&request) {
        MAX_UPLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().parse::<u64>());
    let too_large = || {
        refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            "The request is larger than this server accepts.",
        )
    };
    match announced {
        Some(Ok(length)) if length > limit as u64 => {
            // A body of modest size is read and dropped, so the answer
            // arrives; a huge one is not worth the bandwidth.
            if length <= MAX_DRAINED_BYTES {
                drain(request.into_body()).await;
            }
            return too_large();
        }
        Some(Err(_)) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "The Content-Length is not a number.",
            );
        }
        _ => {}
    }
    let (parts, body) = request.into_parts();
    let mut body = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else {
            return refusal(
                StatusCode::BAD_REQUEST,
                "The request body could not be read.",
            );
        };
        if bytes.len() + chunk.len() > limit {
            drain(Body::from_stream(body)).await;
            return too_large();
        }
        bytes.extend_from_slice(&chunk);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// Reads and drops what is left of a refused body, within bounds.
async fn drain(body: Body) {
    let rest = http_body_util::BodyExt::collect(http_body_util::Limited::new(
        body,
        MAX_DRAINED_BYTES as usize,
    ));
    let _ = tokio::time::timeout(DRAIN_TIME_LIMIT, rest).await;
}

/// The upload endpoint reads multipart form data; a request that is not (no
/// boundary, another content type) is refused here with 400, before the
/// multipart reader, which cannot answer it otherwise.
pub async fn require_multipart_uploads(request: Request<Body>, next: Next) -> Response {
    if request.method() == Method::POST && is_upload(&request) && !has_multipart_boundary(&request)
    {
        return refusal(
            StatusCode::BAD_REQUEST,
            "Send the file as multipart/form-data with a boundary.",
        );
    }
    next.run(request).await
}

fn has_multipart_boundary(request: &Request<Body>) -> bool {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == mime::MULTIPART
                && mime.subtype() == mime::FORM_DATA
                && mime.get_param(mime::BOUNDARY).is_some_and(|boundary| {
                    !boundary.as_str().is_empty() && boundary.as_str().len() <= 70
                })
        })
}

/// Every request is answered within `limit`, also when the database stalls
/// without refusing (packets held, a lock that never comes): the work is
/// dropped and the client gets 503 with a Retry-After. Only the time to the
/// response's head counts; a streamed export may take longer to finish.
///
/// tower-http's TimeoutLayer would answer with an empty body; people and
/// scripts get a sentence here.
pub async fn answer_within(limit: Duration, request: Request<Body>, next: Next) -> Response {
    let limit = if is_upload(&request) {
        UPLOAD_TIME_LIMIT.max(limit)
    } else {
        limit
    };
    // The route pattern, never the path: a password link's secret is in it.
    let route = crate::metrics::route_of(&request).to_string();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(%route, limit_ms = limit.as_millis() as u64, "request timed out");
            let mut response = refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server could not answer in time. Please try again in a moment.",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

/// A request whose client hangs up is still answered to its end, into
/// nothing. Dropped halfway, a page's rendering disposes of its reactive
/// values under tasks that still use them, and those panic; a write whose
/// client left should end as it would have anyway. The time limit, inside
/// this step, bounds how long an abandoned request can run on.
pub async fn finish_even_if_abandoned(request: Request<Body>, next: Next) -> Response {
    let answering = next.run(request).instrument(tracing::Span::current());
    match tokio::spawn(answering).await {
        Ok(response) => response,
        Err(failed) => match failed.try_into_panic() {
            Ok(panic) => panic_response(panic),
            Err(_) => refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is shutting down. Please try again in a moment.",
            ),
        },
    }
}

/// The last line: a handler that panics answers 500 and is logged, instead of
/// the connection closing without an answer.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = detail, "a request handler panicked");
    refusal(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong on our side. Please try again.",
    )
}
