//! The registration engine: seats, waitlist, cancellation, check-in.
//!
//! Four rules keep it exact under a rush, on both backends:
//!
//! 1. A seat is taken by one conditional statement,
//!    `UPDATE events SET seats_taken = seats_taken + 1 WHERE … seats_taken < capacity`,
//!    in the transaction that inserts the registration and its outbox row. The
//!    CHECK on `events` and the unique index on live registrations back it up.
//! 2. Every change of a registration's state is
//!    `UPDATE registrations … WHERE id = … AND status = <seen> AND version = <seen>`:
//!    of two racing changes only one matches, the other is told what happened.
//! 3. Whoever frees a seat hands it to the first waitlisted person in the same
//!    transaction, so a free seat and a waitlist never coexist.
//! 4. Every transaction locks the event row before any registration row
//!    (PostgreSQL; SQLite serializes writers), so they cannot deadlock.
//!
//! The shapes in this module travel to the browser and compile without the
//! `server` feature.

use serde::{Deserialize, Serialize};

use crate::model::{EventStatus, EventSummary, RegistrationStatus};

#[cfg(feature = "server")]
mod batched;
#[cfg(feature = "server")]
mod engine;
#[cfg(feature = "server")]
mod mine;

#[cfg(feature = "server")]
pub use batched::Registrar;
#[cfg(feature = "server")]
pub use engine::{
    CheckIn, Ended, Ending, change_capacity, check_in, end, get, live_registration, register,
};
#[cfg(feature = "server")]
pub(crate) use engine::{EventWindow, RegistrationRow, columns, set_capacity, with_position};
/// The statements of "My events", for tests that read their plans.
#[cfg(feature = "server")]
pub use mine::statements as my_events_statements;
#[cfg(feature = "server")]
pub use mine::{PAST_LIMIT, UPCOMING_LIMIT, mine, upcoming};

/// One line of "my events".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyEventRow {
    pub event: EventSummary,
    /// A cancelled event stays on the list, so its attendees learn of it.
    pub event_status: EventStatus,
    pub registration_id: i64,
    pub status: RegistrationStatus,
    /// 1 for the first in line; only while waitlisted.
    pub waitlist_position: Option<i64>,
    /// Whether the person may still cancel: a live registration of an event
    /// that has not started.
    pub can_cancel: bool,
    /// The short code for manual check-in, for seat holders whose ticket has
    /// been issued (the code is assigned when the ticket is first shown).
    pub ticket_code: Option<String>,
}

/// A person's registrations, split at "now".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyEvents {
    /// Events not yet over with a live registration, soonest first.
    pub upcoming: Vec<MyEventRow>,
    /// Events that are over, most recent first, whatever became of the
    /// registration (attended, cancelled, no seat…).
    pub past: Vec<MyEventRow>,
}
