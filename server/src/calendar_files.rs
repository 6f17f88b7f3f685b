//! `.ics` files: one event to download, and each person's subscribable feed.
//! Plain routes rather than server functions, because calendar apps want a
//! `text/calendar` body at a stable URL.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SubsecRound, Utc};
use tsudoi_app::i18n::lang_from_headers;

use crate::http::AppState;

/// A calendar file, or `304 Not Modified` when the client already holds
/// these bytes: calendar apps poll every feed every hour, and most polls
/// find nothing new. The entity tag is weak, as the bytes may travel
/// compressed; `Last-Modified` only where one time stamp covers the whole
/// file (an event's file; a feed also changes when a seat is given up).
fn calendar(
    request: &HeaderMap,
    body: String,
    file_name: &str,
    last_modified: Option<DateTime<Utc>>,
) -> Response {
    let tag = entity_tag(&body);
    // Whole seconds: HTTP dates have no finer grain.
    let last_modified = last_modified.map(|at| std::time::SystemTime::from(at.trunc_subsecs(0)));
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, header_value(&tag));
    if let Some(at) = last_modified {
        headers.insert(
            header::LAST_MODIFIED,
            header_value(&httpdate::fmt_http_date(at)),
        );
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    // An event's file is in the language the browser asks for.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Language"));
    if unchanged(request, &tag, last_modified) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/calendar; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(&format!("attachment; filename=\"{file_name}\"")),
    );
    (headers, body).into_response()
}

/// A weak entity tag of the bytes: the same on every instance and after a
/// restart, so a poll that reaches another instance still matches.
fn entity_tag(body: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// RFC 9110 §13.1: `If-None-Match` decides when present (weak comparison,
/// any of a list, or `*`); otherwise `If-Modified-Since`, when the file has
/// a modification time not later than it.
fn unchanged(request: &HeaderMap, tag: &str, last_modified: Option<std::time::SystemTime>) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    if let Some(wanted) = request.get(header::IF_NONE_MATCH) {
        let Ok(wanted) = wanted.to_str() else {
            return false;
        };
        return wanted
            .split(',')
            .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(tag));
    }
    match (request.get(header::IF_MODIFIED_SINCE), last_modified) {
        (Some(since), Some(modified)) => since
            .to_str()
            .ok()
            .and_then(|since| httpdate::parse_http_date(since).ok())
            .is_some_and(|since| modified <= since),
        _ => false,
    }
}

fn failure(err: tsudoi::Error) -> Response {
    let status = StatusCode::from_u16(tsudoi_app::error::http_status(&err))
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, err.to_string()).into_response()
}

/// `GET /events/{id}/calendar.ics` — published events only, like the event page.
pub async fn event_file(
    State(state): State<AppState>,
    Path(file): Path<(i64, String)>,
    headers: HeaderMap,
) -> Response {
    let (id, name) = file;
    if name != "calendar.ics" {
        return failure(tsudoi::Error::NotFound);
    }
    let ctx = &state.context;
    match tsudoi::events::detail(&ctx.db, ctx.time_zone, id, None, false, Utc::now()).await {
        Ok(detail) => calendar(
            &headers,
            tsudoi::calendar::event_ics(&detail, &state.public_url, lang_from_headers(&headers)),
            &format!("tsudoi-event-{id}.ics"),
            Some(detail.updated_at),
        ),
        Err(err) => failure(err),
    }
}

/// `GET /calendar/{token}.ics` — the secret token is the only credential, as
/// calendar apps cannot log in; renewing it on My events revokes the old one.
pub async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return failure(tsudoi::Error::NotFound);
    };
    match tsudoi::calendar::feed_ics(&state.context.db, token, &state.public_url, Utc::now()).await
    {
        Ok(body) => calendar(&headers, body, "tsudoi.ics", None),
        Err(err) => failure(err),
    }
}
