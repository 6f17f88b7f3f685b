//! The error every server function returns.
//!
//! It carries the domain error (already stripped of internal detail) or a
//! transport problem, serializes as JSON, and sets the matching HTTP status.

use leptos::prelude::{FromServerFnError, ServerFnErrorErr};
use leptos::server_fn::codec::JsonEncoding;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error(transparent)]
    Domain(tsudoi::Error),
    /// The request never reached our code in a usable shape (network, encoding).
    #[error("{0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let (status, message) = match &value {
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => (
                500,
                "The server could not be reached. Check your connection and try again.".to_string(),
            ),
            // On the server these are the client's mistakes: arguments that
            // are missing, repeated or of the wrong type. Monitoring counts
            // 5xx as our faults only. (Bodies over the size limit never get
            // here: the binary answers them with 413 before reading on.)
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::MissingArg(detail)
            | ServerFnErrorErr::Deserialization(detail) => (
                400,
                format!(
                    "The request's fields are missing or malformed ({}). Reload the page and try again.",
                    short_detail(detail)
                ),
            ),
            ServerFnErrorErr::UnsupportedRequestMethod(_) => (
                405,
                "This request method is not supported here.".to_string(),
            ),
            _ => (500, "The request could not be processed.".to_string()),
        };
        #[cfg(feature = "ssr")]
        {
            if status >= 500 {
                tracing::error!(error = %value, "server function failed outside our code");
            } else {
                tracing::debug!(error = %value, status, "malformed server function call");
            }
            if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
                && let Ok(status) = axum::http::StatusCode::from_u16(status)
                && !is_plain_form_post()
            {
                response.set_status(status);
            }
        }
        #[cfg(not(feature = "ssr"))]
        let _ = status;
        AppError::Transport(message)
    }
}

/// What the decoder said, for the caller to fix their request: one line,
/// bounded, without anything that could not be shown.
fn short_detail(detail: &str) -> String {
    detail
        .chars()
        .filter(|c| !c.is_control())
        .take(160)
        .collect()
}

impl AppError {
    /// The form field this error is about, when a rule names one.
    pub fn field(&self) -> Option<tsudoi::Field> {
        match self {
            AppError::Domain(tsudoi::Error::Invalid(reason) | tsudoi::Error::Conflict(reason)) => {
                reason.field()
            }
            _ => None,
        }
    }
}

impl From<tsudoi::Error> for AppError {
    fn from(err: tsudoi::Error) -> Self {
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = axum::http::StatusCode::from_u16(http_status(&err))
            && !is_plain_form_post()
        {
            response.set_status(status);
        }
        AppError::Domain(err)
    }
}

/// The HTTP status that fits a domain error, for pages, server functions
/// and the binary's own routes alike.
pub fn http_status(err: &tsudoi::Error) -> u16 {
    use tsudoi::Error;
    match err {
        Error::Invalid(_) => 422,
        Error::NotFound => 404,
        // A refusal of who is asking, with its reason: not a conflict of state.
        Error::Conflict(tsudoi::Reason::SurveyOnlyForAttendees) => 403,
        Error::Conflict(_) => 409,
        Error::Unauthenticated | Error::LoginRequired => 401,
        Error::Forbidden => 403,
        Error::TooManyAttempts { .. } | Error::TooManyWrongCodes { .. } => 429,
        Error::Unavailable => 503,
        Error::Internal => 500,
    }
}

/// A form posted by a browser without JavaScript is answered with a redirect
/// back to the form (the error travels in the URL); an error status would
/// replace that redirect.
#[cfg(feature = "ssr")]
pub fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.method == axum::http::Method::POST
            && parts
                .headers
                .get(axum::http::header::ACCEPT)
                .and_then(|accept| accept.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
    })
}

#[cfg(test)]
mod tests {
    use super::http_status;
    use tsudoi::{Error, Reason};

    #[test]
    fn each_kind_of_error_has_its_status() {
        let cases = [
            (Error::Invalid(Reason::PasswordUnchanged), 422),
            (Error::NotFound, 404),
            (Error::Conflict(Reason::AlreadyCancelled), 409),
            (Error::Unauthenticated, 401),
            (Error::LoginRequired, 401),
            (Error::Forbidden, 403),
            (
                Error::TooManyAttempts {
                    retry_after_secs: 5,
                },
                429,
            ),
            (
                Error::TooManyWrongCodes {
                    retry_after_secs: 5,
                },
                429,
            ),
            (Error::Unavailable, 503),
            (Error::Internal, 500),
        ];
        for (error, status) in cases {
            assert_eq!(http_status(&error), status, "{error:?}");
        }
    }
}
