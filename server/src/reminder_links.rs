//! The one-click stop of the day-before reminders (RFC 8058): a mail client
//! POSTs `List-Unsubscribe=One-Click` to the address in a reminder's
//! `List-Unsubscribe` header, on its reader's behalf, and reads no page. A
//! GET of the same address is the app's page, which asks first.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tsudoi_app::AppError;
use tsudoi_app::i18n::{lang_from_headers, texts_for};

use crate::http::AppState;

/// `POST /reminders/stop/{token}`: the link is the only credential, as a
/// mail client has no session. Stopping twice is no error.
pub async fn stop_with_one_click(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let texts = texts_for(lang_from_headers(&headers));
    let plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    match tsudoi::users::reminder_preference::stop_with_link(&state.context.db, &token).await {
        Ok(holder) => (
            StatusCode::OK,
            plain,
            (texts.reminders.stopped)(&holder.email),
        )
            .into_response(),
        Err(err) => {
            let status = StatusCode::from_u16(tsudoi_app::error::http_status(&err))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, plain, texts.error(&AppError::from(err))).into_response()
        }
    }
}
