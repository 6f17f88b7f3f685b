//! The domain error: what can go wrong, in terms a user or an operator understands.
//!
//! Storage errors are logged where they happen and reduced to [`Error::Internal`]
//! or [`Error::Unavailable`], so no SQL text or driver message can reach a browser.
//! The core knows no HTTP: the app maps each error to a status.

use serde::{Deserialize, Serialize};

pub use crate::reason::{Field, Reason};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum Error {
    /// Input that breaks a rule; the reason is for the person who typed it.
    #[error("{0}")]
    Invalid(Reason),
    #[error("not found")]
    NotFound,
    /// The request was valid but the current state forbids it (e.g. event full, already cancelled).
    #[error("{0}")]
    Conflict(Reason),
    /// Login failed. One message for every reason, so it reveals nothing.
    #[error("the e-mail address or password is not correct")]
    Unauthenticated,
    /// The action needs a logged-in user and there is none (or the login expired).
    #[error("Please log in to continue.")]
    LoginRequired,
    #[error("you are not allowed to do this")]
    Forbidden,
    /// Sign-in is paused after too many failures (brute-force protection); the
    /// wait travels along so the page can say how long, and routes can send
    /// `Retry-After`.
    #[error(
        "Too many failed sign-in attempts. Try again in {}.",
        describe_wait(*retry_after_secs)
    )]
    TooManyAttempts { retry_after_secs: u64 },
    /// Typed ticket codes are paused for this door keeper after too many that
    /// match no ticket (someone guessing codes); a real door never gets here.
    #[error(
        "Too many ticket codes that match no ticket. Try again in {}, or scan the QR code.",
        describe_wait(*retry_after_secs)
    )]
    TooManyWrongCodes { retry_after_secs: u64 },
    /// A dependency (database, Redis, SMTP) is down or overloaded; retrying later can work.
    #[error("the service is temporarily unavailable, please try again shortly")]
    Unavailable,
    /// A bug or an unexpected failure; details are in the server log only.
    #[error("something went wrong on our side")]
    Internal,
}

/// A wait in words: whole minutes, rounded up so the user never retries too
/// early; seconds when it is under a minute, where "1 minute" would overstate it.
fn describe_wait(secs: u64) -> String {
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if secs < 60 {
        plural(secs.max(1), "second")
    } else {
        plural(secs.div_ceil(60), "minute")
    }
}

#[cfg(feature = "server")]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Error::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                crate::observe::statement_error();
                tracing::warn!(error = %err, "database unavailable");
                Error::Unavailable
            }
            _ => {
                crate::observe::statement_error();
                tracing::error!(error = %err, "database error");
                Error::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_attempts_says_how_long_to_wait() {
        let message = |secs| {
            Error::TooManyAttempts {
                retry_after_secs: secs,
            }
            .to_string()
        };
        assert_eq!(
            message(180),
            "Too many failed sign-in attempts. Try again in 3 minutes."
        );
        assert_eq!(
            message(121),
            "Too many failed sign-in attempts. Try again in 3 minutes."
        );
        assert_eq!(
            message(60),
            "Too many failed sign-in attempts. Try again in 1 minute."
        );
        assert_eq!(
            message(59),
            "Too many failed sign-in attempts. Try again in 59 seconds."
        );
        assert_eq!(
            message(1),
            "Too many failed sign-in attempts. Try again in 1 second."
        );
        assert_eq!(
            message(0),
            "Too many failed sign-in attempts. Try again in 1 second."
        );
    }

    #[cfg(feature = "server")]
    #[test]
    fn the_wait_survives_the_trip_to_the_browser() {
        let error = Error::TooManyAttempts {
            retry_after_secs: 840,
        };
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(serde_json::from_str::<Error>(&json).unwrap(), error);
    }
}
