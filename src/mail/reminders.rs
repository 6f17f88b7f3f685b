//! The day-before reminders: every day at the configured local
//! time one statement queues a reminder for every seat holder of the events
//! starting the next day. A run is recorded per day, so restarts and other
//! instances do not run it again; each reminder's key names the registration
//! and the event's start, so even a repeated run queues nothing twice while a
//! rescheduled event gets a fresh reminder. A Tsudoi that was down at the
//! reminder time runs the day's batch when it starts.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::Result;
use crate::mail::outbox;
use crate::storage::Database;

/// When reminders go out: a local time of day in the company's zone.
#[derive(Debug, Clone, Copy)]
pub struct ReminderSchedule {
    pub time_zone: Tz,
    pub at: NaiveTime,
}

/// How often the scheduler looks at the clock.
const TICK: Duration = Duration::from_secs(30);

/// The instants a company-local day starts and ends.
pub fn day_bounds(time_zone: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |day: NaiveDate| {
        let midnight = day.and_time(NaiveTime::MIN);
        time_zone
            .from_local_datetime(&midnight)
            .earliest()
            // A zone whose clocks skip midnight: the day starts an hour later.
            .or_else(|| {
                time_zone
                    .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
    };
    let next = day.succ_opt().unwrap_or(day);
    (start_of(day), start_of(next))
}

/// Runs today's batch (reminders for tomorrow's events) if the reminder time
/// has passed and nobody ran it yet. `Some(queued)` when this call ran it.
pub async fn run_if_due(
    db: &Database,
    schedule: ReminderSchedule,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let local = now.with_timezone(&schedule.time_zone);
    if local.time() < schedule.at {
        return Ok(None);
    }
    run_for(db, schedule.time_zone, local.date_naive(), now).await
}

/// Runs the batch that belongs to `today`: reminders for the events of the
/// day after. `None` if it was run already (or is running elsewhere).
#[tracing::instrument(skip(db))]
pub async fn run_for(
    db: &Database,
    time_zone: Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<u64>> {
    let tomorrow = today.succ_opt().unwrap_or(today);
    let (from, until) = day_bounds(time_zone, tomorrow);
    let started = std::time::Instant::now();
    let queued = outbox::run_reminder_batch(db, &today.to_string(), from, until, now).await?;
    if let Some(queued) = queued {
        crate::observe::reminder_batch(started.elapsed(), queued);
        tracing::info!(%today, queued, "day-before reminders queued");
    }
    Ok(queued)
}

/// Checks the clock every half minute until `shutdown` completes: the
/// day-before reminders, and the survey mails that are due.
pub async fn run_scheduler(
    db: Database,
    schedule: ReminderSchedule,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        if let Err(err) = run_if_due(&db, schedule, Utc::now()).await {
            tracing::warn!(error = %err, "the reminder batch failed; trying again shortly");
        }
        // Survey invitations and reminders are due at their own times, so
        // they are looked for at every tick.
        if let Err(err) = crate::surveys::invitations::run_due(&db, Utc::now()).await {
            tracing::warn!(error = %err, "queueing survey mails failed; trying again shortly");
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}
