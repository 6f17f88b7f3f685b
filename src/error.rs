//! The domain error: what can go wrong, in terms a user or an operator understands.
//!
//! Storage errors are logged where they happen and reduced to [`Error::Internal`]
//! or [`Error::Unavailable`], so no SQL text or driver message can reach a browser.

use serde::{Deserialize, Serialize};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// Input that breaks a rule; the message is meant for the person who typed it.
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    /// The request was valid but the current state forbids it (e.g. event full, already cancelled).
    #[error("{0}")]
    Conflict(String),
    /// Login failed. One message for every reason, so it reveals nothing.
    #[error("the e-mail address or password is not correct")]
    Unauthenticated,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// A dependency (database, Redis, SMTP) is down or overloaded; retrying later can work.
    #[error("the service is temporarily unavailable, please try again shortly")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("something went wrong on our side")]
    Internal,
}

impl Error {
    /// The HTTP status that fits the error, for routes and server functions alike.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Invalid(_) => 422,
            Error::NotFound => 404,
            Error::Conflict(_) => 409,
            Error::Unauthenticated => 401,
            Error::Forbidden => 403,
            Error::Unavailable => 503,
            Error::Internal => 500,
        }
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                tracing::warn!(error = %err, "database unavailable");
                Error::Unavailable
            }
            _ => {
                tracing::error!(error = %err, "database error");
                Error::Internal
            }
        }
    }
}
