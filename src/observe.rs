//! Counters of what happens, for the operators' dashboards: registrations by
//! outcome, logins by outcome, check-ins by answer and by how the person was
//! found. They go through the `metrics` facade, which costs next to nothing
//! when no recorder is installed (tests, the command line); the server
//! installs a Prometheus recorder when `metrics_addr` is set.
//!
//! Every label takes one of a few fixed values — never a person, an event or
//! a free text — so the number of series stays bounded however big the
//! company grows.

use metrics::{counter, histogram};

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

/// How many registrations for one event were written together.
pub(crate) fn registration_group(people: usize) {
    histogram!("tsudoi_registration_group_size").record(people as f64);
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
        Ok(answer) => scan_outcome(answer),
        Err(err) => refusal(err),
    };
    counter!("tsudoi_check_ins_total", "outcome" => outcome, "via" => via).increment(1);
}

/// A scan made while the door was offline, answered when it was sent.
pub(crate) fn synced_check_in(answer: &ScanAnswer) {
    counter!("tsudoi_check_ins_total", "outcome" => scan_outcome(answer), "via" => "sync")
        .increment(1);
}

fn scan_outcome(answer: &ScanAnswer) -> &'static str {
    match answer {
        ScanAnswer::CheckedIn { .. } => "checked_in",
        ScanAnswer::AlreadyCheckedIn { .. } => "already_checked_in",
        ScanAnswer::Cancelled { .. } => "cancelled",
        ScanAnswer::Waitlisted { .. } => "waitlisted",
        ScanAnswer::OtherEvent { .. } => "other_event",
        ScanAnswer::Invalid => "invalid",
        ScanAnswer::NotOnDoorList { .. } => "not_on_door_list",
    }
}

/// What became of one mail handed to the mail server: sent, failed (it
/// will be tried again), dead (given up), obsolete (its reason went away).
pub(crate) fn mail_delivery(outcome: Option<&crate::mail::delivery::Outcome>) {
    use crate::mail::delivery::Outcome;
    let outcome = match outcome {
        Some(Outcome::Sent) => "sent",
        Some(Outcome::Retried) | None => "failed",
        Some(Outcome::Dead) => "dead",
        Some(Outcome::Obsolete) => "obsolete",
    };
    counter!("tsudoi_mails_total", "outcome" => outcome).increment(1);
}

/// A day-before reminder batch that ran here: how long it took, how many it queued.
pub(crate) fn reminder_batch(took: std::time::Duration, queued: u64) {
    histogram!("tsudoi_reminder_batch_duration_seconds").record(took.as_secs_f64());
    counter!("tsudoi_reminders_queued_total").increment(queued);
}

/// A read answered from a cache (`event_list`, `dashboard`) or not.
pub(crate) fn cache(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    counter!("tsudoi_cache_requests_total", "cache" => cache, "result" => result).increment(1);
}

/// A statement the database refused or could not run (a lost connection, a
/// timeout, a broken constraint the code did not expect).
pub(crate) fn statement_error() {
    counter!("tsudoi_db_statement_errors_total").increment(1);
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
