//! Group registration for a rush on one event.
//!
//! On one event every registration takes the same row lock and waits for its
//! own commit, so a single hot event tops out at roughly one registration per
//! commit latency (docs/PERFORMANCE.md). The [`Registrar`] gathers the
//! requests for an event that arrive while a transaction for it is running
//! and takes them together in the next one: a fixed number of statements and
//! one commit for the whole group, in arrival order, with the same seat rules
//! as [`super::register`]. A request that finds no queue runs alone through
//! [`super::register`] unchanged.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tracing::Instrument;

use super::engine::{
    COLUMNS, EVENT_WINDOW, EventWindow, RegistrationRow, WAITLIST_POSITION, register, with_position,
};
use crate::mail::outbox;
use crate::model::{Registration, RegistrationStatus};
use crate::storage::{Database, is_unique_violation, on_tx};
use crate::{Error, Result};

/// Most requests taken in one transaction; bounds statement size and lock time.
const MAX_GROUP: usize = 200;

struct Pending {
    user_id: i64,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<Registration>>,
}

/// Registers people, grouping concurrent requests for the same event.
/// Cheap to clone; one per process, shared by all requests.
#[derive(Clone)]
pub struct Registrar {
    db: Database,
    queues: Arc<Mutex<HashMap<i64, VecDeque<Pending>>>>,
}

impl Registrar {
    pub fn new(db: Database) -> Registrar {
        Registrar {
            db,
            queues: Arc::default(),
        }
    }

    /// Same contract as [`super::register`].
    #[tracing::instrument(level = "debug", skip(self, now))]
    pub async fn register(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Registration> {
        let (reply, answer) = oneshot::channel();
        let leads = {
            let mut queues = self.queues.lock().map_err(|_| Error::Internal)?;
            match queues.get_mut(&event_id) {
                // A group for this event is being written: join the next one.
                Some(queue) => {
                    queue.push_back(Pending {
                        user_id,
                        now,
                        reply,
                    });
                    false
                }
                None => {
                    queues.insert(
                        event_id,
                        VecDeque::from([Pending {
                            user_id,
                            now,
                            reply,
                        }]),
                    );
                    true
                }
            }
        };
        if leads {
            // A task of its own: if this caller goes away (a closed browser tab),
            // the people queued behind it still get their answers.
            let registrar = self.clone();
            // In the leader's trace: the group it writes is its request's work.
            tokio::spawn(
                async move { registrar.drain(event_id).await }.instrument(tracing::Span::current()),
            );
        }
        let answer = answer.await.unwrap_or(Err(Error::Internal));
        crate::observe::registration(&answer);
        answer
    }

    /// Writes groups for `event_id` until nobody is waiting.
    async fn drain(self, event_id: i64) {
        let _done = Finished {
            queues: self.queues.clone(),
            event_id,
        };
        loop {
            let group: Vec<Pending> = {
                let Ok(mut queues) = self.queues.lock() else {
                    return;
                };
                let Some(queue) = queues.get_mut(&event_id) else {
                    return;
                };
                if queue.is_empty() {
                    queues.remove(&event_id);
                    return;
                }
                let take = queue.len().min(MAX_GROUP);
                queue.drain(..take).collect()
            };
            crate::observe::registration_group(group.len());
            let answers = if group.len() == 1 {
                vec![register(&self.db, event_id, group[0].user_id, group[0].now).await]
            } else {
                self.register_group(event_id, &group).await
            };
            for (pending, answer) in group.into_iter().zip(answers) {
                let _ = pending.reply.send(answer);
            }
        }
    }

    async fn register_group(&self, event_id: i64, group: &[Pending]) -> Vec<Result<Registration>> {
        let users: Vec<i64> = group.iter().map(|p| p.user_id).collect();
        match write_group(&self.db, event_id, &users, group[0].now).await {
            Ok(Ok(by_user)) => {
                let mut answers = Vec::with_capacity(group.len());
                for user in &users {
                    answers.push(match by_user.get(user) {
                        Some(Fresh(registration)) => Ok(registration.clone()),
                        Some(Existing(row)) => with_position(&self.db, row.clone()).await,
                        None => Err(Error::Internal),
                    });
                }
                answers
            }
            Ok(Err(refusal)) => vec![Err(refusal); group.len()],
            // Another instance registered one of these people meanwhile: let
            // each request find its own answer the careful way.
            Err(err) if is_unique_violation(&err) => {
                let mut answers = Vec::with_capacity(group.len());
                for pending in group {
                    answers.push(register(&self.db, event_id, pending.user_id, pending.now).await);
                }
                answers
            }
            Err(err) => {
                let err = Error::from(err);
                vec![Err(err); group.len()]
            }
        }
    }
}

/// Clears the event's queue when a drain ends, even by panic, failing any
/// request still queued (its sender is dropped) rather than leaving it hanging.
struct Finished {
    queues: Arc<Mutex<HashMap<i64, VecDeque<Pending>>>>,
    event_id: i64,
}

impl Drop for Finished {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Ok(mut queues) = self.queues.lock()
        {
            queues.remove(&self.event_id);
        }
    }
}

enum Outcome {
    Fresh(Registration),
    Existing(RegistrationRow),
}
use Outcome::{Existing, Fresh};

/// One transaction for the whole group, in a fixed number of statements.
#[tracing::instrument(level = "debug", name = "db.register_group", skip(db, users, now), fields(people = users.len()))]
async fn write_group(
    db: &Database,
    event_id: i64,
    users: &[i64],
    now: DateTime<Utc>,
) -> sqlx::Result<Result<HashMap<i64, Outcome>>> {
    let mut uow = db.begin_write().await?;
    let mut outcomes: HashMap<i64, Outcome> = HashMap::new();

    // People who already hold a live registration get it back.
    let existing: Vec<RegistrationRow> = on_tx!(&mut uow, |tx| {
        let mut query = sqlx::QueryBuilder::new(format!(
            "SELECT {COLUMNS} FROM registrations
              WHERE status IN ('registered', 'waitlisted', 'checked_in') AND event_id = "
        ));
        query.push_bind(event_id).push(" AND user_id IN (");
        let mut list = query.separated(", ");
        for user in users {
            list.push_bind(*user);
        }
        list.push_unseparated(")");
        query.build_query_as().fetch_all(&mut *tx).await?
    });
    for row in existing {
        outcomes.insert(row.user_id, Existing(row));
    }

    let window: Option<EventWindow> = on_tx!(&mut uow, |tx| sqlx::query_as(EVENT_WINDOW)
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?);
    if let Err(refusal) = EventWindow::check(window, now) {
        return Ok(Err(refusal));
    }

    // Newcomers in arrival order, each once (a double click may appear twice).
    let mut newcomers: Vec<i64> = Vec::new();
    for user in users {
        if !outcomes.contains_key(user) && !newcomers.contains(user) {
            newcomers.push(*user);
        }
    }
    if newcomers.is_empty() {
        uow.rollback().await?;
        return Ok(Ok(outcomes));
    }

    // One conditional statement takes as many seats as are free, up to the
    // group's size, and numbers the rest for the waitlist. Every SET
    // expression sees the row as it was, so `last_group_seats` reports what
    // this statement took; the CHECK on seats_taken stays the backstop.
    let wanted = newcomers.len() as i32;
    let (seats, waitlist_after): (i32, i64) = on_tx!(&mut uow, |tx| {
        sqlx::query_as(
        "UPDATE events SET
            seats_taken = seats_taken + CASE WHEN capacity - seats_taken < $2 THEN capacity - seats_taken ELSE $2 END,
            waitlist_next = waitlist_next + CASE WHEN capacity - seats_taken < $2 THEN $2 - (capacity - seats_taken) ELSE 0 END,
            last_group_seats = CASE WHEN capacity - seats_taken < $2 THEN capacity - seats_taken ELSE $2 END
          WHERE id = $1
          RETURNING last_group_seats, waitlist_next",
    )
    .bind(event_id)
    .bind(wanted)
    .fetch_one(&mut *tx)
    .await?
    });
    let seats = i64::from(seats);
    let waitlist_next = waitlist_after - (i64::from(wanted) - seats);

    let rows: Vec<RegistrationRow> = on_tx!(&mut uow, |tx| {
        let mut insert = sqlx::QueryBuilder::new(
            "INSERT INTO registrations (event_id, user_id, status, waitlist_seq, registered_at, updated_at, department_id) ",
        );
        insert.push_values(newcomers.iter().enumerate(), |mut row, (index, user)| {
            let index = index as i64;
            let (status, seq) = if index < seats {
                (RegistrationStatus::Registered, None)
            } else {
                (
                    RegistrationStatus::Waitlisted,
                    Some(waitlist_next + 1 + index - seats),
                )
            };
            row.push_bind(event_id)
                .push_bind(*user)
                .push_bind(status.code())
                .push_bind(seq)
                .push_bind(now)
                .push_bind(now)
                // Counted under the department the person has now, for good.
                .push("(SELECT department_id FROM users WHERE id = ")
                .push_bind_unseparated(*user)
                .push_unseparated(")");
        });
        insert.push(format!(" RETURNING {COLUMNS}"));
        insert.build_query_as().fetch_all(&mut *tx).await?
    });

    // The event row is locked, so the group's ids are the only ones of this
    // event in their range: one statement queues every welcome.
    let first = rows.iter().map(|row| row.id).min().unwrap_or(0);
    let last = rows.iter().map(|row| row.id).max().unwrap_or(-1);
    let queued = outbox::enqueue_welcomes(&mut uow, event_id, first, last, now).await?;
    if queued != rows.len() as u64 {
        tracing::error!(
            event = event_id,
            queued,
            group = rows.len(),
            "welcome mails do not match the group"
        );
        return Ok(Err(Error::Internal));
    }

    // Places in line: everyone already waiting, then this group in order.
    let ahead: i64 = on_tx!(&mut uow, |tx| sqlx::query_scalar(WAITLIST_POSITION)
        .bind(event_id)
        .bind(waitlist_next)
        .fetch_one(&mut *tx)
        .await?);
    uow.commit_event_change(db).await?;

    for row in rows {
        let position = row.waitlist_seq.map(|seq| ahead + seq - waitlist_next);
        let user = row.user_id;
        match row.into_registration(position) {
            Ok(registration) => outcomes.insert(user, Fresh(registration)),
            Err(err) => return Ok(Err(err)),
        };
    }
    Ok(Ok(outcomes))
}
