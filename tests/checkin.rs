//! Door check-in on every backend: scans, typed codes, undo, who
//! may work the door, the counter and search, and offline sync.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::{event, scalar, tokyo};
use tsudoi::Reason;
use tsudoi::checkin::{self, QueuedScan, ScanAnswer};
use tsudoi::events;
use tsudoi::model::{EventStatus, Lang, RegistrationStatus, Role};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::Database;
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::users::{self, NewUser};
use tsudoi::{Error, tickets};

/// When people register.
fn now() -> DateTime<Utc> {
    tokyo(2026, 12, 1, 12, 0)
}

/// At the door, shortly before the event starts.
fn door() -> DateTime<Utc> {
    tokyo(2026, 12, 10, 17, 50)
}

async fn each_backend() -> Vec<TestDatabase> {
    test_support::backends().await
}

async fn user(db: &Database, email: &str, name: &str, department: Option<&str>, role: Role) -> i64 {
    let new = NewUser {
        email: email.into(),
        display_name: name.into(),
        department: department.map(str::to_string),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &new, None).await.unwrap()
}

async fn party(db: &Database, title: &str, capacity: i32, organizer: Option<i64>) -> i64 {
    let mut new = event(title, tokyo(2026, 12, 10, 18, 0), EventStatus::Published);
    new.capacity = capacity;
    new.organizer_id = organizer;
    events::create(db, &new).await.unwrap()
}

/// Registers a new person with a seat and returns (registration, token, code).
async fn attendee(
    db: &Database,
    event_id: i64,
    email: &str,
    name: &str,
    department: Option<&str>,
) -> (i64, String, String) {
    let id = user(db, email, name, department, Role::Employee).await;
    let registration = registrations::register(db, event_id, id, now())
        .await
        .unwrap();
    assert_eq!(registration.status, RegistrationStatus::Registered);
    let ticket = tickets::issue(db, registration.id, id).await.unwrap();
    (registration.id, ticket.token, ticket.code)
}

async fn staff(db: &Database) -> i64 {
    user(db, "door@example.com", "Door Staff", None, Role::Staff).await
}

async fn audited(db: &Database, action: &str) -> i64 {
    scalar(
        db,
        &format!("SELECT COUNT(*) FROM audit_log WHERE action = '{action}'"),
    )
    .await
}

async fn status(db: &Database, registration_id: i64) -> RegistrationStatus {
    registrations::get(db, registration_id)
        .await
        .unwrap()
        .status
}

#[tokio::test]
async fn a_scan_checks_in_once_and_a_second_scan_names_the_first() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Year-end party", 10, None).await;
        let door_staff = staff(db).await;
        let (reg, token, _) =
            attendee(db, ev, "hanako@example.com", "Sato Hanako", Some("開発部")).await;
        attendee(db, ev, "taro@example.com", "Yamada Taro", None).await;

        let first = checkin::scan(db, ev, &token, door_staff, door())
            .await
            .unwrap();
        assert_eq!(
            first,
            ScanAnswer::CheckedIn {
                registration_id: reg,
                name: "Sato Hanako".into(),
                department: Some("開発部".into()),
                at: door(),
            },
            "{backend:?}"
        );
        let again = checkin::scan(db, ev, &token, door_staff, door() + Duration::minutes(3))
            .await
            .unwrap();
        assert_eq!(
            again,
            ScanAnswer::AlreadyCheckedIn {
                registration_id: reg,
                name: "Sato Hanako".into(),
                department: Some("開発部".into()),
                at: door(),
                by_name: Some("Door Staff".into()),
            },
            "{backend:?}"
        );
        let stored = registrations::get(db, reg).await.unwrap();
        assert_eq!(stored.status, RegistrationStatus::CheckedIn);
        assert_eq!(stored.checked_in_at, Some(door()));
        assert_eq!(stored.checked_in_by, Some(door_staff));
        assert_eq!(
            audited(db, "checked_in").await,
            1,
            "{backend:?}: the retry is not logged"
        );

        let counts = checkin::counts(db, ev).await.unwrap();
        assert_eq!(
            (counts.checked_in, counts.registered_total),
            (1, 2),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn forged_garbled_and_foreign_tickets_are_told_apart() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Seminar", 10, None).await;
        let other = party(db, "Other event", 10, None).await;
        let door_staff = staff(db).await;
        let (reg, token, _) = attendee(db, ev, "a@example.com", "A", None).await;
        let (foreign, foreign_token, foreign_code) =
            attendee(db, other, "b@example.com", "B", None).await;

        // One character of the signature changed.
        let mut forged: Vec<char> = token.chars().collect();
        forged[60] = if forged[60] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        for bad in [forged.as_str(), "hello", "", &token[..50]] {
            assert_eq!(
                checkin::scan(db, ev, bad, door_staff, door())
                    .await
                    .unwrap(),
                ScanAnswer::Invalid,
                "{backend:?}: {bad:?}"
            );
        }
        let sent_elsewhere = ScanAnswer::OtherEvent {
            event_id: other,
            title_ja: None,
            title_en: Some("Other event".into()),
        };
        assert_eq!(
            checkin::scan(db, ev, &foreign_token, door_staff, door())
                .await
                .unwrap(),
            sent_elsewhere
        );
        assert_eq!(
            checkin::by_code(db, ev, &foreign_code, door_staff, door())
                .await
                .unwrap(),
            sent_elsewhere
        );
        assert_eq!(
            status(db, foreign).await,
            RegistrationStatus::Registered,
            "{backend:?}"
        );

        for bad in ["nonsense", "0000-0000", ""] {
            assert_eq!(
                checkin::by_code(db, ev, bad, door_staff, door())
                    .await
                    .unwrap(),
                ScanAnswer::Invalid,
                "{backend:?}: {bad:?}"
            );
        }
        assert_eq!(status(db, reg).await, RegistrationStatus::Registered);
        assert_eq!(audited(db, "checked_in").await, 0);
    }
}

#[tokio::test]
async fn a_typed_code_checks_in_like_a_scan() {
    for t in each_backend().await {
        let db = &t.db;
        let ev = party(db, "Seminar", 10, None).await;
        let door_staff = staff(db).await;
        let (reg, token, code) = attendee(db, ev, "a@example.com", "A", None).await;
        // Typed the way people type it: lower case, with the dash.
        let typed = format!("{}-{}", &code[..4], &code[4..]).to_lowercase();
        let answer = checkin::by_code(db, ev, &typed, door_staff, door())
            .await
            .unwrap();
        assert!(
            matches!(answer, ScanAnswer::CheckedIn { registration_id, .. } if registration_id == reg)
        );
        assert!(matches!(
            checkin::scan(db, ev, &token, door_staff, door()).await.unwrap(),
            ScanAnswer::AlreadyCheckedIn { at, .. } if at == door()
        ));
    }
}

#[tokio::test]
async fn waitlisted_and_cancelled_people_are_told_not_admitted() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Small room", 1, None).await;
        let door_staff = staff(db).await;
        let (seated, token, _) = attendee(db, ev, "a@example.com", "Seated", None).await;
        let waiting_user = user(db, "w@example.com", "Waiting", None, Role::Employee).await;
        let waiting = registrations::register(db, ev, waiting_user, now())
            .await
            .unwrap();
        assert_eq!(waiting.status, RegistrationStatus::Waitlisted);
        // The engine gives no code on the waitlist; one kept from an earlier
        // seat must still not open the door.
        common::execute(
            db,
            &format!(
                "UPDATE registrations SET ticket_code = 'WA7T0000' WHERE id = {}",
                waiting.id
            ),
        )
        .await
        .unwrap();
        assert_eq!(
            checkin::by_code(db, ev, "WA7T0000", door_staff, door())
                .await
                .unwrap(),
            ScanAnswer::Waitlisted {
                name: "Waiting".into()
            },
            "{backend:?}"
        );
        assert_eq!(status(db, waiting.id).await, RegistrationStatus::Waitlisted);

        let seated_user = registrations::get(db, seated).await.unwrap().user_id;
        registrations::end(
            db,
            seated,
            Ending::Cancelled {
                by_user: seated_user,
            },
            now(),
        )
        .await
        .unwrap();
        assert_eq!(
            checkin::scan(db, ev, &token, door_staff, door())
                .await
                .unwrap(),
            ScanAnswer::Cancelled {
                name: "Seated".into()
            },
            "{backend:?}"
        );
        assert_eq!(status(db, seated).await, RegistrationStatus::Cancelled);
        // The freed seat went to the waitlist, and the door lets them in now.
        assert!(matches!(
            checkin::by_code(db, ev, "WA7T0000", door_staff, door()).await.unwrap(),
            ScanAnswer::CheckedIn { registration_id, .. } if registration_id == waiting.id
        ));
        assert_eq!(audited(db, "checked_in").await, 1);
    }
}

#[tokio::test]
async fn undo_returns_the_seat_to_not_checked_in_and_a_new_scan_works() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Seminar", 10, None).await;
        let other = party(db, "Other", 10, None).await;
        let door_staff = staff(db).await;
        let (reg, token, _) = attendee(db, ev, "a@example.com", "A", None).await;

        assert_eq!(
            checkin::undo(db, ev, reg, door_staff, door()).await,
            Err(Error::Conflict(Reason::NotCheckedIn)),
            "{backend:?}"
        );
        checkin::scan(db, ev, &token, door_staff, door())
            .await
            .unwrap();
        assert_eq!(
            checkin::undo(db, other, reg, door_staff, door()).await,
            Err(Error::NotFound)
        );
        checkin::undo(db, ev, reg, door_staff, door() + Duration::minutes(1))
            .await
            .unwrap();
        let stored = registrations::get(db, reg).await.unwrap();
        assert_eq!(stored.status, RegistrationStatus::Registered, "{backend:?}");
        assert_eq!((stored.checked_in_at, stored.checked_in_by), (None, None));
        assert!(matches!(
            checkin::undo(db, ev, reg, door_staff, door()).await,
            Err(Error::Conflict(_))
        ));
        assert_eq!(audited(db, "check_in_undone").await, 1, "{backend:?}");
        let counts = checkin::counts(db, ev).await.unwrap();
        assert_eq!((counts.checked_in, counts.registered_total), (0, 1));
        // Still holding the seat: nobody was promoted, the counter is unchanged.
        assert_eq!(
            scalar(
                db,
                &format!("SELECT CAST(seats_taken AS BIGINT) FROM events WHERE id = {ev}")
            )
            .await,
            1
        );

        let later = door() + Duration::minutes(5);
        assert_eq!(
            checkin::scan(db, ev, &token, door_staff, later)
                .await
                .unwrap(),
            ScanAnswer::CheckedIn {
                registration_id: reg,
                name: "A".into(),
                department: None,
                at: later
            }
        );
        assert_eq!(audited(db, "checked_in").await, 2);
    }
}

#[tokio::test]
async fn who_may_work_the_door() {
    for t in each_backend().await {
        let db = &t.db;
        let organizer = user(db, "org@example.com", "Organizer", None, Role::Organizer).await;
        let rival = user(db, "rival@example.com", "Rival", None, Role::Organizer).await;
        let door_staff = staff(db).await;
        let admin = user(db, "admin@example.com", "Admin", None, Role::Admin).await;
        let employee = user(db, "e@example.com", "Employee", None, Role::Employee).await;
        let ev = party(db, "Mine", 10, Some(organizer)).await;
        let unowned = party(db, "Nobody's", 10, None).await;

        let may = |id, role, event| checkin::may_check_in(db, id, role, event);
        assert!(may(organizer, Role::Organizer, ev).await.unwrap());
        assert!(!may(rival, Role::Organizer, ev).await.unwrap());
        assert!(!may(organizer, Role::Organizer, unowned).await.unwrap());
        assert!(may(door_staff, Role::Staff, ev).await.unwrap());
        assert!(may(door_staff, Role::Staff, unowned).await.unwrap());
        assert!(may(admin, Role::Admin, ev).await.unwrap());
        assert!(!may(employee, Role::Employee, ev).await.unwrap());
        assert_eq!(
            checkin::require_check_in(db, rival, Role::Organizer, ev).await,
            Err(Error::Forbidden)
        );
        assert_eq!(
            checkin::require_check_in(db, organizer, Role::Organizer, ev).await,
            Ok(())
        );
        assert_eq!(
            may(door_staff, Role::Staff, 999_999).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test]
async fn search_finds_names_addresses_and_codes_literally() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Seminar", 10, None).await;
        let other = party(db, "Other", 10, None).await;
        let (tanaka, _, tanaka_code) = attendee(
            db,
            ev,
            "ichiro.tanaka@example.com",
            "Tanaka Ichiro",
            Some("営業部"),
        )
        .await;
        attendee(db, ev, "jiro@example.com", "Suzuki Jiro", None).await;
        attendee(db, ev, "p100@example.com", "100% Sato", None).await;
        attendee(db, other, "tanaka2@example.com", "Tanaka Elsewhere", None).await;

        let names =
            |rows: Vec<checkin::DoorRow>| rows.into_iter().map(|r| r.name).collect::<Vec<_>>();
        let rows = checkin::search(db, ev, "tanaka", 10).await.unwrap();
        assert_eq!(
            rows.len(),
            1,
            "{backend:?}: the other event's Tanaka is not listed"
        );
        assert_eq!(
            rows[0],
            checkin::DoorRow {
                registration_id: tanaka,
                name: "Tanaka Ichiro".into(),
                department: Some("営業部".into()),
                status: RegistrationStatus::Registered,
                code: Some(tanaka_code.clone()),
                checked_in_at: None,
            }
        );
        assert_eq!(
            names(checkin::search(db, ev, "JIRO@", 10).await.unwrap()),
            ["Suzuki Jiro"]
        );
        let typed = format!("{}-{}", &tanaka_code[..4], &tanaka_code[4..6]).to_lowercase();
        assert_eq!(
            names(checkin::search(db, ev, &typed, 10).await.unwrap()),
            ["Tanaka Ichiro"],
            "{backend:?}"
        );
        assert_eq!(
            names(checkin::search(db, ev, "0%", 10).await.unwrap()),
            ["100% Sato"],
            "{backend:?}"
        );
        assert!(
            checkin::search(db, ev, "_", 10).await.unwrap().is_empty(),
            "{backend:?}: _ is literal"
        );
        assert!(checkin::search(db, ev, "  ", 10).await.unwrap().is_empty());
        assert_eq!(
            checkin::search(db, ev, "example", 2).await.unwrap().len(),
            2,
            "bounded by the limit"
        );
        assert_eq!(
            checkin::search(db, ev, "example", 0).await.unwrap().len(),
            1,
            "at least one row"
        );
        assert!(matches!(
            checkin::search(db, ev, &"x".repeat(101), 10).await,
            Err(Error::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn counts_only_seat_holders() {
    for t in each_backend().await {
        let db = &t.db;
        let ev = party(db, "Small", 2, None).await;
        let door_staff = staff(db).await;
        let (_, token, _) = attendee(db, ev, "a@example.com", "A", None).await;
        let (cancelled, _, _) = attendee(db, ev, "b@example.com", "B", None).await;
        let b = registrations::get(db, cancelled).await.unwrap().user_id;
        registrations::end(db, cancelled, Ending::Cancelled { by_user: b }, now())
            .await
            .unwrap();
        attendee(db, ev, "c@example.com", "C", None).await;
        let waiting = user(db, "w@example.com", "W", None, Role::Employee).await;
        registrations::register(db, ev, waiting, now())
            .await
            .unwrap();
        checkin::scan(db, ev, &token, door_staff, door())
            .await
            .unwrap();

        let counts = checkin::counts(db, ev).await.unwrap();
        assert_eq!((counts.checked_in, counts.registered_total), (1, 2));
        let empty = party(db, "Empty", 5, None).await;
        let counts = checkin::counts(db, empty).await.unwrap();
        assert_eq!((counts.checked_in, counts.registered_total), (0, 0));
        assert_eq!(checkin::counts(db, 999_999).await, Err(Error::NotFound));
    }
}

#[tokio::test]
async fn the_door_list_holds_every_seat_and_the_key_to_verify_offline() {
    for t in each_backend().await {
        let db = &t.db;
        let ev = party(db, "Small", 2, None).await;
        let door_staff = staff(db).await;
        let (a, token, code) = attendee(db, ev, "a@example.com", "A", None).await;
        let b_user = user(db, "b@example.com", "B", None, Role::Employee).await;
        let b = registrations::register(db, ev, b_user, now())
            .await
            .unwrap()
            .id;
        let waiting = user(db, "w@example.com", "W", None, Role::Employee).await;
        registrations::register(db, ev, waiting, now())
            .await
            .unwrap();
        checkin::scan(db, ev, &token, door_staff, door())
            .await
            .unwrap();

        let list = checkin::door_list(db, ev, door()).await.unwrap();
        assert_eq!(list.event_id, ev);
        assert_eq!(list.generated_at, door());
        assert_eq!(
            list.public_key,
            tickets::event_public_key(db, ev).await.unwrap()
        );
        let rows: Vec<_> = list
            .rows
            .iter()
            .map(|r| (r.registration_id, r.status, r.code.clone(), r.checked_in_at))
            .collect();
        assert_eq!(
            rows,
            [
                (a, RegistrationStatus::CheckedIn, Some(code), Some(door())),
                // No ticket opened yet, so no code to type.
                (b, RegistrationStatus::Registered, None, None),
            ]
        );
        assert_eq!(
            checkin::door_list(db, 999_999, door()).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test]
async fn queued_scans_apply_once_in_scan_order_and_skip_cancellations() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Offline", 10, None).await;
        let other = party(db, "Other", 10, None).await;
        let door_staff = staff(db).await;
        let (a, a_token, _) = attendee(db, ev, "a@example.com", "A", None).await;
        let (b, b_token, _) = attendee(db, ev, "b@example.com", "B", None).await;
        let (c, _, c_code) = attendee(db, ev, "c@example.com", "C", None).await;
        let (d, d_token, _) = attendee(db, ev, "d@example.com", "D", None).await;
        let (e, e_token, _) = attendee(db, ev, "e@example.com", "E", None).await;
        let (_, foreign_token, _) = attendee(db, other, "f@example.com", "F", None).await;
        // B cancels while the door is offline.
        let b_user = registrations::get(db, b).await.unwrap().user_id;
        registrations::end(db, b, Ending::Cancelled { by_user: b_user }, door())
            .await
            .unwrap();

        let sync = door() + Duration::minutes(30);
        let at = |minutes| door() + Duration::minutes(minutes);
        let queued = vec![
            // The device sent A's second scan first: the earlier one still wins.
            QueuedScan {
                token_or_code: a_token.clone(),
                scanned_at: at(7),
            },
            QueuedScan {
                token_or_code: b_token.clone(),
                scanned_at: at(2),
            },
            QueuedScan {
                token_or_code: a_token.clone(),
                scanned_at: at(1),
            },
            QueuedScan {
                token_or_code: c_code.to_lowercase(),
                scanned_at: at(3),
            },
            // A device clock in the future, and one before registration opened.
            QueuedScan {
                token_or_code: d_token.clone(),
                scanned_at: sync + Duration::hours(2),
            },
            QueuedScan {
                token_or_code: e_token.clone(),
                scanned_at: now() - Duration::days(30),
            },
            QueuedScan {
                token_or_code: "garbage".into(),
                scanned_at: at(4),
            },
            QueuedScan {
                token_or_code: foreign_token.clone(),
                scanned_at: at(5),
            },
        ];
        let answers = checkin::apply_queued(db, ev, door_staff, queued.clone(), sync)
            .await
            .unwrap();
        let checked_in = |registration_id, name: &str, at| ScanAnswer::CheckedIn {
            registration_id,
            name: name.into(),
            department: None,
            at,
        };
        assert_eq!(
            answers,
            vec![
                (
                    0,
                    ScanAnswer::AlreadyCheckedIn {
                        registration_id: a,
                        name: "A".into(),
                        department: None,
                        at: at(1),
                        by_name: Some("Door Staff".into()),
                    }
                ),
                (1, ScanAnswer::Cancelled { name: "B".into() }),
                (2, checked_in(a, "A", at(1))),
                (3, checked_in(c, "C", at(3))),
                (4, checked_in(d, "D", sync)),
                (5, checked_in(e, "E", sync)),
                (6, ScanAnswer::Invalid),
                (
                    7,
                    ScanAnswer::OtherEvent {
                        event_id: other,
                        title_ja: None,
                        title_en: Some("Other".into()),
                    }
                ),
            ],
            "{backend:?}"
        );
        assert_eq!(
            status(db, b).await,
            RegistrationStatus::Cancelled,
            "{backend:?}: not applied"
        );
        assert_eq!(audited(db, "checked_in").await, 4);

        // The device retries the whole batch (the answer got lost): nothing changes.
        let again = checkin::apply_queued(db, ev, door_staff, queued, sync + Duration::minutes(1))
            .await
            .unwrap();
        assert!(
            again
                .iter()
                .all(|(_, answer)| !matches!(answer, ScanAnswer::CheckedIn { .. }))
        );
        assert_eq!(audited(db, "checked_in").await, 4, "{backend:?}");
        assert_eq!(
            registrations::get(db, a).await.unwrap().checked_in_at,
            Some(at(1))
        );

        let too_many = vec![
            QueuedScan {
                token_or_code: "x".into(),
                scanned_at: sync
            };
            checkin::MAX_QUEUED_SCANS + 1
        ];
        assert!(matches!(
            checkin::apply_queued(db, ev, door_staff, too_many, sync).await,
            Err(Error::Invalid(_))
        ));
    }
}

/// A's token with one signature character changed.
fn forged(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn a_door_device_offline_answers_like_the_server_and_its_queue_settles() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let ev = party(db, "Offline door", 10, None).await;
        let other = party(db, "Next door", 10, None).await;
        let door_staff = staff(db).await;
        let (a, a_token, _) = attendee(db, ev, "a@example.com", "A", Some("Sales")).await;
        let (b, b_token, _) = attendee(db, ev, "b@example.com", "B", None).await;
        let (c, _, c_code) = attendee(db, ev, "c@example.com", "C", None).await;
        let (e, e_token, _) = attendee(db, ev, "e@example.com", "E", None).await;
        let (_, foreign_token, _) = attendee(db, other, "f@example.com", "F", None).await;
        checkin::scan(db, ev, &a_token, door_staff, door())
            .await
            .unwrap();
        let mut device = checkin::DoorDevice::new(ev);
        assert_eq!(device.answer_offline(&b_token, door()), None, "no list yet");
        device.take_list(checkin::door_list(db, ev, door()).await.unwrap());
        // Registered after the list was made.
        let (_, late_token, _) = attendee(db, ev, "g@example.com", "G", None).await;

        // The network drops.
        let at = |minutes| door() + Duration::minutes(minutes);
        let mut answer = |input: &str, minute| device.answer_offline(input, at(minute)).unwrap();
        assert_eq!(
            answer(&a_token, 1),
            ScanAnswer::AlreadyCheckedIn {
                registration_id: a,
                name: "A".into(),
                department: Some("Sales".into()),
                at: door(),
                by_name: None,
            }
        );
        let b_in = ScanAnswer::CheckedIn {
            registration_id: b,
            name: "B".into(),
            department: None,
            at: at(2),
        };
        assert_eq!(answer(&b_token, 2), b_in);
        assert!(
            matches!(answer(&c_code.to_lowercase(), 3), ScanAnswer::CheckedIn { registration_id, .. } if registration_id == c)
        );
        assert!(
            matches!(answer(&c_code, 4), ScanAnswer::AlreadyCheckedIn { at, .. } if at == door() + Duration::minutes(3))
        );
        assert_eq!(answer(&forged(&b_token), 5), ScanAnswer::Invalid);
        assert_eq!(answer("garbage", 5), ScanAnswer::Invalid);
        assert_eq!(
            answer(&foreign_token, 6),
            ScanAnswer::OtherEvent {
                event_id: other,
                title_ja: None,
                title_en: None,
            }
        );
        let not_listed = ScanAnswer::NotOnDoorList { list_from: door() };
        assert_eq!(answer(&late_token, 7), not_listed);
        assert_eq!(answer("ZZZZ-ZZZZ", 7), not_listed);
        assert_eq!(device.queued(), 2, "B and C wait for the network");
        let counts = device.counts().unwrap();
        assert_eq!((counts.checked_in, counts.registered_total), (3, 4));

        // The page keeps the device in the browser's storage.
        let stored = serde_json::to_string(&device).unwrap();
        let mut device: checkin::DoorDevice = serde_json::from_str(&stored).unwrap();
        assert_eq!(device.queued(), 2);

        // B cancels meanwhile; then the network is back.
        let b_user = registrations::get(db, b).await.unwrap().user_id;
        registrations::end(db, b, Ending::Cancelled { by_user: b_user }, at(8))
            .await
            .unwrap();
        let batch = device.next_batch();
        assert_eq!(batch.len(), 2);
        let answers = checkin::apply_queued(db, ev, door_staff, batch.clone(), at(9))
            .await
            .unwrap();
        // A scan while the batch is on its way stays queued.
        device.answer_offline(&e_token, at(9));
        device.settle(batch.len(), answers);
        assert_eq!(device.queued(), 1, "{backend:?}");
        assert_eq!(
            device.next_batch(),
            [QueuedScan {
                token_or_code: e_token.clone(),
                scanned_at: at(9),
            }]
        );
        assert_eq!(
            device.not_applied(),
            [ScanAnswer::Cancelled { name: "B".into() }],
            "{backend:?}"
        );
        assert_eq!(status(db, b).await, RegistrationStatus::Cancelled);
        assert_eq!(status(db, c).await, RegistrationStatus::CheckedIn);
        assert_eq!(
            device.answer_offline(&b_token, at(10)),
            Some(ScanAnswer::Cancelled { name: "B".into() }),
            "{backend:?}: the refusal is remembered"
        );
        let counts = device.counts().unwrap();
        assert_eq!(
            (counts.checked_in, counts.registered_total),
            (3, 3),
            "A, C, E"
        );
        let server = checkin::counts(db, ev).await.unwrap();
        assert_eq!(
            (server.checked_in, server.registered_total),
            (2, 4),
            "A and C of A, C, E, G"
        );

        // A fresh list replaces the device's guesses with the server's rows;
        // E, still queued, stays checked in here.
        device.take_list(checkin::door_list(db, ev, at(11)).await.unwrap());
        assert_eq!(device.list_from(), Some(at(11)));
        assert!(matches!(
            device.answer_offline(&late_token, at(12)),
            Some(ScanAnswer::CheckedIn { .. })
        ));
        assert!(matches!(
            device.answer_offline(&e_token, at(12)),
            Some(ScanAnswer::AlreadyCheckedIn { registration_id, .. }) if registration_id == e
        ));
        let answers = checkin::apply_queued(db, ev, door_staff, device.next_batch(), at(13))
            .await
            .unwrap();
        device.settle(2, answers);
        assert_eq!(device.queued(), 0);
        let server = checkin::counts(db, ev).await.unwrap();
        assert_eq!(
            (server.checked_in, server.registered_total),
            (4, 4),
            "{backend:?}"
        );
        device.dismiss_not_applied();
        assert!(device.not_applied().is_empty());
    }
}

#[tokio::test]
async fn two_doors_scanning_one_ticket_at_once_check_in_once() {
    for t in each_backend().await {
        let db = &t.db;
        let ev = party(db, "Rush", 10, None).await;
        let door_staff = staff(db).await;
        let (_, token, _) = attendee(db, ev, "a@example.com", "A", None).await;
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let db = db.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    checkin::scan(&db, ev, &token, door_staff, door() + Duration::seconds(n)).await
                })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            match task.await.unwrap().unwrap() {
                ScanAnswer::CheckedIn { .. } => fresh += 1,
                ScanAnswer::AlreadyCheckedIn { .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(fresh, 1, "{:?}", db.backend());
        assert_eq!(audited(db, "checked_in").await, 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_codes_stops_at_the_limit_even_in_parallel_and_is_audited_once() {
    use std::sync::Arc;
    use tokio::sync::Barrier;

    let allowed = checkin::WRONG_CODES_ALLOWED as usize;
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend().name();
        let event_id = party(db, "Guessing", 10, None).await;
        let (_, _, code) = attendee(db, event_id, "real@example.com", "Real Person", None).await;
        let guesser = staff(db).await;

        // A real door mistypes now and then: a right code gives its attempt back.
        for _ in 0..3 {
            let wrong = checkin::by_code(db, event_id, "ZZZZ-ZZZZ", guesser, door()).await;
            assert_eq!(wrong, Ok(ScanAnswer::Invalid), "{backend}");
        }
        let right = checkin::by_code(db, event_id, &code, guesser, door()).await;
        assert!(
            matches!(right, Ok(ScanAnswer::CheckedIn { .. })),
            "{backend}: {right:?}"
        );

        // Then twice the limit of guesses at once.
        let start = Arc::new(Barrier::new(2 * allowed));
        let tasks: Vec<_> = (0..2 * allowed)
            .map(|n| {
                let (db, start) = (db.clone(), start.clone());
                tokio::spawn(async move {
                    start.wait().await;
                    checkin::by_code(&db, event_id, &format!("{n:04}-ZZZZ"), guesser, door()).await
                })
            })
            .collect();
        let (mut looked_up, mut refused) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(ScanAnswer::Invalid) => looked_up += 1,
                Err(Error::TooManyWrongCodes { retry_after_secs }) => {
                    assert!(retry_after_secs <= 600, "{backend}");
                    refused += 1;
                }
                other => panic!("{backend}: {other:?}"),
            }
        }
        assert_eq!(
            looked_up,
            allowed - 3,
            "{backend}: the earlier mistypes count too"
        );
        assert_eq!(refused, allowed + 3, "{backend}");
        assert_eq!(audited(db, "ticket_codes_throttled").await, 1, "{backend}");

        // While blocked even a right code waits (the QR code still works).
        let blocked = checkin::by_code(db, event_id, &code, guesser, door()).await;
        assert!(
            matches!(blocked, Err(Error::TooManyWrongCodes { .. })),
            "{backend}"
        );
        // Another door keeper is not affected.
        let other = user(db, "door2@example.com", "Door Two", None, Role::Staff).await;
        let theirs = checkin::by_code(db, event_id, &code, other, door()).await;
        assert!(
            matches!(theirs, Ok(ScanAnswer::AlreadyCheckedIn { .. })),
            "{backend}: {theirs:?}"
        );
        // And after the block, codes work again.
        let later = door() + Duration::minutes(11);
        let again = checkin::by_code(db, event_id, &code, guesser, later).await;
        assert!(
            matches!(again, Ok(ScanAnswer::AlreadyCheckedIn { .. })),
            "{backend}: {again:?}"
        );
    }
}
