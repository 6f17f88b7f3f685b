//! Counters of what happens, for the operators' dashboards: registrations by
//! outcome, logins by outcome, check-ins by answer and by how the person was
//! found. They go through the `metrics` facade, which costs next to nothing
//! when no recorder is installed (tests, the command line); the server
//! installs a Prometheus recorder when `metrics_addr` is set.
//!
//! Every label takes one of a few fixed values — never a person, an event or
//! a free text — so the number of series stays bounded however big the
//! company grows.

use metrics::counter;

use crate::checkin::ScanAnswer;
use crate::model::{AuthenticatedUser, Registration, RegistrationStatus};
use crate::{Error, Result};

/// A registration's outcome: a seat, the waitlist, or the reason it was refused.
pub(crate) fn registration(answer: &Result<Registration>) {
    let outcome = match answer {
        Ok(registration) if registration.status == RegistrationStatus::Waitlisted => "waitlist",
        Ok(_) => "seat",
        Err(err) => refusal(err),
    };
    counter!("tsudoi_registrations_total", "outcome" => outcome).increment(1);
}

/// A login's outcome.
pub(crate) fn login(answer: &Result<AuthenticatedUser>) {
    let outcome = match answer {
        Ok(_) => "ok",
        Err(Error::Unauthenticated) => "failed",
        Err(Error::TooManyAttempts { .. }) => "throttled",
        Err(_) => "error",
    };
    counter!("tsudoi_logins_total", "outcome" => outcome).increment(1);
}

/// A check-in's answer at the door, and how the person was found (`qr`,
/// `code`, `list`).
pub(crate) fn check_in(answer: &Result<ScanAnswer>, via: &'static str) {
    let outcome = match answer {
        Ok(ScanAnswer::CheckedIn { .. }) => "checked_in",
        Ok(ScanAnswer::AlreadyCheckedIn { .. }) => "already_checked_in",
        Ok(ScanAnswer::Cancelled { .. }) => "cancelled",
        Ok(ScanAnswer::Waitlisted { .. }) => "waitlisted",
        Ok(ScanAnswer::OtherEvent { .. }) => "other_event",
        Ok(ScanAnswer::Invalid) => "invalid",
        Ok(_) => "other",
        Err(err) => refusal(err),
    };
    counter!("tsudoi_check_ins_total", "outcome" => outcome, "via" => via).increment(1);
}

/// An error as a label: the kind of refusal, not its particulars.
fn refusal(err: &Error) -> &'static str {
    match err {
        Error::Invalid(_) => "invalid",
        Error::Conflict(_) => "conflict",
        Error::NotFound => "not_found",
        Error::Forbidden | Error::LoginRequired | Error::Unauthenticated => "refused",
        Error::TooManyAttempts { .. } => "throttled",
        Error::Unavailable => "unavailable",
        _ => "error",
    }
}
