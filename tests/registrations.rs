//! The registration engine on every backend.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{employees, execute, open_event, pairs, scalar};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::Barrier;
use tsudoi::Error;
use tsudoi::Reason;
use tsudoi::model::RegistrationStatus::{self, *};
use tsudoi::registrations::{self, CheckIn, Ending, Registrar};
use tsudoi::storage::Database;
use tsudoi::storage::test_support;

async fn status_counts(db: &Database, event_id: i64) -> HashMap<String, i64> {
    pairs(
        db,
        &format!(
            "SELECT COUNT(*), status FROM registrations WHERE event_id = {event_id} GROUP BY status"
        ),
    )
    .await
    .into_iter()
    .map(|(count, status)| (status, count))
    .collect()
}

/// Registers `people` one after another, so arrival order is their order.
async fn register_in_order(
    db: &Database,
    event_id: i64,
    people: &[i64],
) -> Vec<tsudoi::model::Registration> {
    let mut regs = Vec::new();
    for &user in people {
        regs.push(
            registrations::register(db, event_id, user, Utc::now())
                .await
                .unwrap(),
        );
    }
    regs
}

async fn seats_taken(db: &Database, event_id: i64) -> i64 {
    scalar(
        db,
        &format!("SELECT CAST(seats_taken AS BIGINT) FROM events WHERE id = {event_id}"),
    )
    .await
}

async fn mails(db: &Database, kind: &str, registration_id: i64) -> i64 {
    // The dedupe key names the registration, on both backends without JSON functions.
    let prefix = match kind {
        "registration_confirmed" => "confirmed",
        "cancelled" => "ended",
        other => other,
    };
    scalar(db, &format!("SELECT COUNT(*) FROM mail_outbox WHERE kind = '{kind}' AND dedupe_key = '{prefix}:{registration_id}'"))
        .await
}

/// How a test registers: one transaction each, or grouped by the Registrar.
#[derive(Clone, Copy, Debug)]
enum Path {
    Single,
    Grouped,
}

fn registerer(
    db: &Database,
    path: Path,
) -> impl Fn(i64, i64) -> BoxedRegistration + Clone + Send + Sync + 'static {
    let registrar = Registrar::new(db.clone());
    let db = db.clone();
    move |event_id, user_id| {
        let (db, registrar) = (db.clone(), registrar.clone());
        Box::pin(async move {
            match path {
                Path::Single => registrations::register(&db, event_id, user_id, Utc::now()).await,
                Path::Grouped => registrar.register(event_id, user_id, Utc::now()).await,
            }
        })
    }
}

type BoxedRegistration = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<tsudoi::model::Registration, Error>> + Send>,
>;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rush_of_500_for_200_seats_seats_exactly_200_and_queues_the_rest_in_order() {
    for (t, path) in test_support::backends().await.into_iter().flat_map(|t| {
        let t = Arc::new(t);
        [(t.clone(), Path::Single), (t, Path::Grouped)]
    }) {
        let db = t.db.clone();
        let backend = format!("{} {path:?}", db.backend().name());
        let register = registerer(&db, path);
        let event_id = open_event(&db, 200).await;
        let people = employees(&db, &format!("rush-{path:?}-"), 500).await;
        let start = Arc::new(Barrier::new(people.len()));
        let mut tasks = Vec::new();
        for user_id in people.clone() {
            let (register, start) = (register.clone(), start.clone());
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                register(event_id, user_id).await
            }));
        }
        let mut results = Vec::new();
        for task in tasks {
            results.push(
                task.await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{backend}: a registration failed: {e:?}")),
            );
        }
        let seated = results.iter().filter(|r| r.status == Registered).count();
        assert_eq!(seated, 200, "{backend}");
        assert_eq!(
            results.iter().filter(|r| r.status == Waitlisted).count(),
            300,
            "{backend}"
        );
        let mut positions: Vec<i64> = results.iter().filter_map(|r| r.waitlist_position).collect();
        positions.sort();
        assert_eq!(
            positions,
            (1..=300).collect::<Vec<_>>(),
            "{backend}: waitlist positions"
        );
        let users: HashSet<i64> = results.iter().map(|r| r.user_id).collect();
        assert_eq!(users.len(), 500, "{backend}: someone registered twice");

        assert_eq!(seats_taken(&db, event_id).await, 200, "{backend}");
        let counts = status_counts(&db, event_id).await;
        assert_eq!(counts.get("registered"), Some(&200), "{backend}");
        assert_eq!(counts.get("waitlisted"), Some(&300), "{backend}");
        let distinct_seq = scalar(
            &db,
            &format!(
                "SELECT COUNT(DISTINCT waitlist_seq) FROM registrations WHERE event_id = {event_id}"
            ),
        )
        .await;
        assert_eq!(distinct_seq, 300, "{backend}");
        // Arrival order = the order the database took them: the waitlist mails
        // were written in the same transactions, so their ids follow the queue.
        let order = pairs(
            &db,
            &format!(
                "SELECT r.waitlist_seq, m.dedupe_key FROM registrations r
                   JOIN mail_outbox m ON m.dedupe_key = 'waitlisted:' || CAST(r.id AS TEXT)
                  WHERE r.event_id = {event_id} ORDER BY m.id"
            ),
        )
        .await;
        let seqs: Vec<i64> = order.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(
            seqs,
            (1..=300).collect::<Vec<_>>(),
            "{backend}: queue order differs from arrival order"
        );
        let confirmed = scalar(
            &db,
            &format!(
                "SELECT COUNT(*) FROM mail_outbox m JOIN registrations r ON m.dedupe_key = 'confirmed:' || CAST(r.id AS TEXT)
                  WHERE r.event_id = {event_id}"
            ),
        )
        .await;
        assert_eq!(confirmed, 200, "{backend}: one confirmation per seat");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registering_again_or_double_clicking_never_makes_a_second_registration() {
    for t in test_support::backends().await {
        let db = t.db.clone();
        let backend = db.backend().name();
        let event_id = open_event(&db, 5).await;
        let user = employees(&db, "twice", 1).await[0];
        let first = registrations::register(&db, event_id, user, Utc::now())
            .await
            .unwrap();
        let again = registrations::register(&db, event_id, user, Utc::now())
            .await
            .unwrap();
        assert_eq!(first, again, "{backend}");

        let other = employees(&db, "clicker", 1).await[0];
        let clicks: Vec<_> = (0..20)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move {
                    registrations::register(&db, event_id, other, Utc::now()).await
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for click in clicks {
            ids.insert(
                click
                    .await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("{backend}: {e:?}"))
                    .id,
            );
        }
        assert_eq!(
            ids.len(),
            1,
            "{backend}: a double click made two registrations"
        );
        assert_eq!(seats_taken(&db, event_id).await, 2, "{backend}");
        assert_eq!(
            mails(&db, "registration_confirmed", *ids.iter().next().unwrap()).await,
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn cancelling_hands_the_seat_to_the_first_in_line_exactly_once() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let event_id = open_event(db, 2).await;
        let people = employees(db, "line", 4).await;
        let regs = register_in_order(db, event_id, &people).await;
        let statuses: Vec<_> = regs
            .iter()
            .map(|r| (r.status, r.waitlist_position))
            .collect();
        assert_eq!(
            statuses,
            [
                (Registered, None),
                (Registered, None),
                (Waitlisted, Some(1)),
                (Waitlisted, Some(2))
            ]
        );

        let ended = registrations::end(
            db,
            regs[0].id,
            Ending::Cancelled { by_user: people[0] },
            Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(ended.registration.status, Cancelled, "{backend}");
        assert_eq!(
            ended.promoted,
            Some(regs[2].id),
            "{backend}: the first in line gets the seat"
        );
        assert_eq!(
            registrations::get(db, regs[2].id).await.unwrap().status,
            Registered
        );
        assert_eq!(
            registrations::get(db, regs[3].id)
                .await
                .unwrap()
                .waitlist_position,
            Some(1),
            "{backend}"
        );
        assert_eq!(mails(db, "promoted", regs[2].id).await, 1, "{backend}");
        assert_eq!(mails(db, "cancelled", regs[0].id).await, 1, "{backend}");

        let twice = registrations::end(
            db,
            regs[0].id,
            Ending::Cancelled { by_user: people[0] },
            Utc::now(),
        )
        .await;
        assert!(
            matches!(twice, Err(Error::Conflict(m)) if m.to_string().contains("already cancelled")),
            "{backend}"
        );
        let not_yours = registrations::end(
            db,
            regs[1].id,
            Ending::Cancelled { by_user: people[0] },
            Utc::now(),
        )
        .await;
        assert_eq!(not_yours, Err(Error::Forbidden), "{backend}");

        // Leaving the waitlist frees no seat and promotes nobody.
        let left = registrations::end(
            db,
            regs[3].id,
            Ending::Cancelled { by_user: people[3] },
            Utc::now(),
        )
        .await
        .unwrap();
        assert_eq!(left.promoted, None);
        assert_eq!(seats_taken(db, event_id).await, 2, "{backend}");
        // An organizer removal with an empty waitlist leaves the seat free.
        let removed = registrations::end(db, regs[1].id, Ending::Removed, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            (removed.registration.status, removed.promoted),
            (RegistrationStatus::Removed, None)
        );
        assert_eq!(seats_taken(db, event_id).await, 1, "{backend}");
        assert_eq!(mails(db, "promoted", regs[3].id).await, 0, "{backend}");

        // A person who cancelled can register again, as a new registration.
        let back = registrations::register(db, event_id, people[0], Utc::now())
            .await
            .unwrap();
        assert_ne!(back.id, regs[0].id);
        assert_eq!(back.status, Registered, "{backend}");
    }
}

#[tokio::test]
async fn capacity_changes_promote_in_order_and_never_drop_below_seats_taken() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let event_id = open_event(db, 1).await;
        let people = employees(db, "cap", 4).await;
        let regs = register_in_order(db, event_id, &people).await;
        let lowered = registrations::change_capacity(db, event_id, 0, Utc::now()).await;
        assert!(
            matches!(lowered, Err(Error::Conflict(m)) if m.to_string().contains("cannot go below")),
            "{backend}"
        );
        assert_eq!(
            registrations::change_capacity(db, event_id, -5, Utc::now())
                .await
                .map(|_| ())
                .unwrap_err(),
            Error::Invalid(Reason::CapacityOutOfRange { max: 100_000 })
        );
        let promoted = registrations::change_capacity(db, event_id, 3, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            promoted,
            vec![regs[1].id, regs[2].id],
            "{backend}: promoted out of order"
        );
        assert_eq!(seats_taken(db, event_id).await, 3);
        assert_eq!(
            registrations::get(db, regs[3].id)
                .await
                .unwrap()
                .waitlist_position,
            Some(1)
        );
        let more = registrations::change_capacity(db, event_id, 10, Utc::now())
            .await
            .unwrap();
        assert_eq!(more, vec![regs[3].id], "{backend}");
        assert_eq!(
            registrations::change_capacity(db, event_id, 4, Utc::now())
                .await
                .unwrap(),
            Vec::<i64>::new()
        );
        assert_eq!(
            registrations::change_capacity(db, 999_999, 4, Utc::now()).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test]
async fn registration_is_refused_outside_its_window_with_a_clear_reason() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let user = employees(db, "window", 1).await[0];
        let event_id = open_event(db, 10).await;
        let now = Utc::now();
        let set = |sql: String| async move { execute(db, &sql).await.unwrap() };
        let later = (now + Duration::days(1)).to_rfc3339();
        let earlier = (now - Duration::days(1)).to_rfc3339();
        let reason = |r: Result<_, Error>| match r {
            Err(Error::Conflict(m)) => m.to_string(),
            other => panic!("{backend}: expected a refusal, got {other:?}"),
        };

        if db.backend() == tsudoi::storage::Backend::Postgres {
            set(format!(
                "UPDATE events SET registration_opens_at = '{later}' WHERE id = {event_id}"
            ))
            .await;
        } else {
            set(format!(
                "UPDATE events SET registration_opens_at = '{}' WHERE id = {event_id}",
                sqlite_time(now + Duration::days(1))
            ))
            .await;
        }
        assert!(
            reason(registrations::register(db, event_id, user, now).await)
                .contains("not opened yet"),
            "{backend}"
        );
        set(format!(
            "UPDATE events SET registration_opens_at = NULL WHERE id = {event_id}"
        ))
        .await;
        if db.backend() == tsudoi::storage::Backend::Postgres {
            set(format!(
                "UPDATE events SET registration_closes_at = '{earlier}' WHERE id = {event_id}"
            ))
            .await;
        } else {
            set(format!(
                "UPDATE events SET registration_closes_at = '{}' WHERE id = {event_id}",
                sqlite_time(now - Duration::days(1))
            ))
            .await;
        }
        assert!(
            reason(registrations::register(db, event_id, user, now).await).contains("closed"),
            "{backend}"
        );
        // Without an explicit close, registration closes when the event starts.
        set(format!(
            "UPDATE events SET registration_closes_at = NULL WHERE id = {event_id}"
        ))
        .await;
        let after_start = now + Duration::days(8);
        assert!(
            reason(registrations::register(db, event_id, user, after_start).await)
                .contains("closed")
        );
        set(format!(
            "UPDATE events SET status = 'cancelled' WHERE id = {event_id}"
        ))
        .await;
        assert!(
            reason(registrations::register(db, event_id, user, now).await).contains("cancelled"),
            "{backend}"
        );
        set(format!(
            "UPDATE events SET status = 'draft' WHERE id = {event_id}"
        ))
        .await;
        assert_eq!(
            registrations::register(db, event_id, user, now).await,
            Err(Error::NotFound),
            "{backend}"
        );
        assert_eq!(
            registrations::register(db, 987_654, user, now).await,
            Err(Error::NotFound)
        );
        assert_eq!(
            seats_taken(db, event_id).await,
            0,
            "{backend}: a refused registration took a seat"
        );
    }
}

/// The text form sqlx writes for SQLite timestamps, so comparisons stay textual-exact.
fn sqlite_time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

#[tokio::test]
async fn check_in_is_idempotent_and_refuses_what_holds_no_seat() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let event_id = open_event(db, 1).await;
        let people = employees(db, "door", 3).await;
        let staff = employees(db, "staff", 1).await[0];
        let seated = registrations::register(db, event_id, people[0], Utc::now())
            .await
            .unwrap();
        let waiting = registrations::register(db, event_id, people[1], Utc::now())
            .await
            .unwrap();

        let CheckIn::CheckedIn(first) = registrations::check_in(db, seated.id, staff, Utc::now())
            .await
            .unwrap()
        else {
            panic!("{backend}: first scan must check in");
        };
        assert_eq!(
            (first.status, first.checked_in_by),
            (CheckedIn, Some(staff))
        );
        match registrations::check_in(db, seated.id, staff, Utc::now() + Duration::minutes(3))
            .await
            .unwrap()
        {
            CheckIn::AlreadyCheckedIn(again) => {
                assert_eq!(again.checked_in_at, first.checked_in_at, "{backend}")
            }
            other => panic!("{backend}: second scan gave {other:?}"),
        }
        assert!(
            matches!(registrations::check_in(db, waiting.id, staff, Utc::now()).await, Err(Error::Conflict(m)) if m.to_string().contains("waitlist"))
        );
        let cancel = registrations::end(
            db,
            seated.id,
            Ending::Cancelled { by_user: people[0] },
            Utc::now(),
        )
        .await;
        assert!(
            matches!(cancel, Err(Error::Conflict(m)) if m.to_string().contains("check in")),
            "{backend}"
        );
        registrations::end(
            db,
            waiting.id,
            Ending::Cancelled { by_user: people[1] },
            Utc::now(),
        )
        .await
        .unwrap();
        assert!(
            matches!(registrations::check_in(db, waiting.id, staff, Utc::now()).await, Err(Error::Conflict(m)) if m.to_string().contains("cancelled"))
        );
        assert_eq!(
            registrations::check_in(db, 424_242, staff, Utc::now()).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancel_and_check_in_raced_1000_times_one_wins_every_time() {
    for t in test_support::backends().await {
        let db = t.db.clone();
        let backend = db.backend().name();
        let event_id = open_event(&db, 1000).await;
        let people = employees(&db, "race", 1000).await;
        let staff = employees(&db, "gate", 1).await[0];
        let mut regs = Vec::new();
        for &user in &people {
            regs.push(
                registrations::register(&db, event_id, user, Utc::now())
                    .await
                    .unwrap(),
            );
        }
        let mut races = Vec::new();
        for reg in regs {
            let (a, b) = (db.clone(), db.clone());
            let cancel = tokio::spawn(async move {
                registrations::end(
                    &a,
                    reg.id,
                    Ending::Cancelled {
                        by_user: reg.user_id,
                    },
                    Utc::now(),
                )
                .await
            });
            let check_in = tokio::spawn(async move {
                registrations::check_in(&b, reg.id, staff, Utc::now()).await
            });
            races.push((reg.id, cancel, check_in));
        }
        let (mut cancels_won, mut check_ins_won) = (0, 0);
        for (id, cancel, check_in) in races {
            let cancel = cancel.await.unwrap();
            let check_in = check_in.await.unwrap();
            let final_status = registrations::get(&db, id).await.unwrap().status;
            match (&cancel, &check_in) {
                (Ok(_), Err(Error::Conflict(_))) => {
                    assert_eq!(final_status, Cancelled, "{backend}");
                    cancels_won += 1;
                }
                (Err(Error::Conflict(_)), Ok(CheckIn::CheckedIn(_))) => {
                    assert_eq!(final_status, CheckedIn, "{backend}");
                    check_ins_won += 1;
                }
                other => panic!("{backend}: registration {id}: not exactly one winner: {other:?}"),
            }
        }
        assert_eq!(cancels_won + check_ins_won, 1000);
        assert_eq!(
            seats_taken(&db, event_id).await,
            check_ins_won,
            "{backend}: seat counter drifted"
        );
        eprintln!("{backend}: cancel won {cancels_won}, check-in won {check_ins_won}");
    }
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Register(usize),
    RegisterGrouped(usize),
    Cancel(usize),
    LeaveWaitlist(usize),
    CheckIn(usize),
    Capacity(i32),
}

fn random_op(rng: &mut StdRng, people: usize) -> Op {
    let who = rng.gen_range(0..people);
    match rng.gen_range(0..10) {
        0..=1 => Op::Register(who),
        2..=3 => Op::RegisterGrouped(who),
        4..=5 => Op::Cancel(who),
        6 => Op::LeaveWaitlist(who),
        7..=8 => Op::CheckIn(who),
        _ => Op::Capacity(rng.gen_range(0..8)),
    }
}

async fn apply(
    db: &Database,
    registrar: &Registrar,
    event_id: i64,
    people: &[i64],
    staff: i64,
    op: Op,
) {
    let now = Utc::now();
    let live = |who: usize| registrations::live_registration(db, event_id, people[who]);
    let result = match op {
        Op::Register(who) => registrations::register(db, event_id, people[who], now)
            .await
            .map(|_| ()),
        Op::RegisterGrouped(who) => registrar
            .register(event_id, people[who], now)
            .await
            .map(|_| ()),
        Op::Cancel(who) | Op::LeaveWaitlist(who) => match live(who).await.unwrap() {
            Some(reg) if matches!(op, Op::Cancel(_)) || reg.status == Waitlisted => {
                registrations::end(
                    db,
                    reg.id,
                    Ending::Cancelled {
                        by_user: people[who],
                    },
                    now,
                )
                .await
                .map(|_| ())
            }
            _ => Ok(()),
        },
        Op::CheckIn(who) => match live(who).await.unwrap() {
            Some(reg) => registrations::check_in(db, reg.id, staff, now)
                .await
                .map(|_| ()),
            None => Ok(()),
        },
        Op::Capacity(capacity) => registrations::change_capacity(db, event_id, capacity, now)
            .await
            .map(|_| ()),
    };
    // Refusals are fine (lost races, full, lowered capacity); failures are not.
    if let Err(err) = result {
        assert!(
            matches!(err, Error::Conflict(_)),
            "{op:?} failed with {err:?}"
        );
    }
}

/// What must hold after any interleaving.
async fn check_invariants(db: &Database, event_id: i64, case: u64) {
    let backend = db.backend().name();
    let capacity = scalar(
        db,
        &format!("SELECT CAST(capacity AS BIGINT) FROM events WHERE id = {event_id}"),
    )
    .await;
    let taken = seats_taken(db, event_id).await;
    let counts = status_counts(db, event_id).await;
    let holding = counts.get("registered").unwrap_or(&0) + counts.get("checked_in").unwrap_or(&0);
    let waiting = *counts.get("waitlisted").unwrap_or(&0);
    assert_eq!(
        taken, holding,
        "{backend} case {case}: seat counter ≠ seated rows"
    );
    assert!(taken <= capacity, "{backend} case {case}: oversold");
    assert!(
        waiting == 0 || taken == capacity,
        "{backend} case {case}: a free seat while people wait"
    );
    let live_people = scalar(
        db,
        &format!("SELECT COUNT(DISTINCT user_id) FROM registrations WHERE event_id = {event_id} AND status IN ('registered', 'waitlisted', 'checked_in')"),
    )
    .await;
    assert_eq!(
        live_people,
        holding + waiting,
        "{backend} case {case}: someone holds two live registrations"
    );

    // Every registration announced exactly one first state, and was promoted
    // exactly when it was waitlisted and is no longer, unless it left the line itself.
    let regs = pairs(
        db,
        &format!("SELECT id, status FROM registrations WHERE event_id = {event_id}"),
    )
    .await;
    let left_line: HashSet<i64> = pairs(
        db,
        &format!("SELECT r.id, CAST(m.payload AS TEXT) FROM registrations r JOIN mail_outbox m ON m.dedupe_key = 'ended:' || CAST(r.id AS TEXT) WHERE r.event_id = {event_id}"),
    )
    .await
    .into_iter()
    .filter(|(_, payload)| payload.replace(' ', "").contains("\"was\":\"waitlisted\""))
    .map(|(id, _)| id)
    .collect();
    for (id, status) in regs {
        let confirmed = mails(db, "registration_confirmed", id).await;
        let waitlisted = mails(db, "waitlisted", id).await;
        let promoted = mails(db, "promoted", id).await;
        assert_eq!(
            confirmed + waitlisted,
            1,
            "{backend} case {case}: registration {id} announced {confirmed}+{waitlisted}"
        );
        let expected = waitlisted == 1 && status != "waitlisted" && !left_line.contains(&id);
        assert_eq!(
            promoted,
            i64::from(expected),
            "{backend} case {case}: registration {id} ({status}) promoted {promoted}×"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invariants_hold_after_100_random_interleavings() {
    // Database errors are logged, not returned: show them if this test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    for t in test_support::backends().await {
        let db = t.db.clone();
        let people = Arc::new(employees(&db, "prop", 12).await);
        let staff = employees(&db, "prop-staff", 1).await[0];
        let registrar = Registrar::new(db.clone());
        for case in 0..100u64 {
            let mut rng = StdRng::seed_from_u64(case);
            // Capacity 0 (everyone waits) is reached by lowering an event's
            // capacity; the event form itself asks for at least one seat.
            let capacity = rng.gen_range(0..6);
            let event_id = open_event(&db, capacity.max(1)).await;
            if capacity == 0 {
                registrations::change_capacity(&db, event_id, 0, Utc::now())
                    .await
                    .unwrap();
            }
            let mut workers = Vec::new();
            for worker in 0..6u64 {
                let mut rng = StdRng::seed_from_u64(case * 100 + worker);
                let ops: Vec<Op> = (0..8).map(|_| random_op(&mut rng, people.len())).collect();
                let (db, people, registrar) = (db.clone(), people.clone(), registrar.clone());
                workers.push(tokio::spawn(async move {
                    for op in ops {
                        apply(&db, &registrar, event_id, &people, staff, op).await;
                    }
                }));
            }
            for worker in workers {
                worker.await.unwrap();
            }
            check_invariants(&db, event_id, case).await;
        }
    }
}

#[tokio::test]
async fn nothing_is_cancelled_after_the_start_nor_removed_after_the_end() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let event_id = open_event(db, 2).await;
        let people = employees(db, "late", 3).await;
        let regs = register_in_order(db, event_id, &people).await;
        let event = tsudoi::events::manage::get(db, chrono_tz::UTC, event_id)
            .await
            .unwrap();
        let (starts, ends) = (event.draft.starts_at, event.draft.ends_at);
        let before = status_counts(db, event_id).await;

        // Once it has started, a seat is attendance or a no-show: the
        // attendee cannot cancel it, nor leave the waitlist.
        for reg in &regs {
            let refused = registrations::end(
                db,
                reg.id,
                Ending::Cancelled {
                    by_user: reg.user_id,
                },
                starts + Duration::minutes(1),
            )
            .await;
            assert_eq!(
                refused,
                Err(Error::Conflict(Reason::CancellingAfterStart)),
                "{backend:?}"
            );
        }
        // The organizer may still remove someone during the event, not after it.
        let refused =
            registrations::end(db, regs[0].id, Ending::Removed, ends + Duration::minutes(1)).await;
        assert_eq!(
            refused,
            Err(Error::Conflict(Reason::RemovingAfterEnd)),
            "{backend:?}"
        );
        assert_eq!(status_counts(db, event_id).await, before, "{backend:?}");
        assert_eq!(seats_taken(db, event_id).await, 2);
        assert_eq!(mails(db, "cancelled", regs[0].id).await, 0);

        // Just before the start is still in time.
        registrations::end(
            db,
            regs[1].id,
            Ending::Cancelled {
                by_user: regs[1].user_id,
            },
            starts - Duration::minutes(1),
        )
        .await
        .unwrap();
        registrations::end(
            db,
            regs[0].id,
            Ending::Removed,
            starts + Duration::minutes(1),
        )
        .await
        .unwrap();
    }
}
