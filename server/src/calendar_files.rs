//! `.ics` files: one event to download, and each person's subscribable feed.
//! Plain routes rather than server functions, because calendar apps want a
//! `text/calendar` body at a stable URL.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use tsudoi_app::i18n::lang_from_headers;

use crate::http::AppState;

fn calendar(body: String, file_name: &str) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        body,
    )
        .into_response()
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
            tsudoi::calendar::event_ics(&detail, &state.public_url, lang_from_headers(&headers)),
            &format!("tsudoi-event-{id}.ics"),
        ),
        Err(err) => failure(err),
    }
}

/// `GET /calendar/{token}.ics` — the secret token is the only credential, as
/// calendar apps cannot log in; renewing it on My events revokes the old one.
pub async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return failure(tsudoi::Error::NotFound);
    };
    match tsudoi::calendar::feed_ics(&state.context.db, token, &state.public_url, Utc::now()).await
    {
        Ok(body) => calendar(body, "tsudoi.ics"),
        Err(err) => failure(err),
    }
}
