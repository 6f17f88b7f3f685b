//! The employee experience on every backend: the filtered event
//! list, the event page, "my events", signed tickets and calendar files.

mod common;

use std::collections::HashSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use common::{employees, event, execute, person, scalar, sql_time, tokyo};
use tsudoi::events::{self, RegistrationWindow, UpcomingFilter};
use tsudoi::model::{Category, EventStatus, Lang, RegistrationStatus};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::storage::{Database, DatabaseUrl, PoolSettings};
use tsudoi::{Error, calendar, tickets};
use url::Url;

fn now() -> DateTime<Utc> {
    tokyo(2026, 12, 1, 12, 0)
}

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).unwrap()
}

async fn each_backend() -> Vec<TestDatabase> {
    test_support::backends().await
}

async fn published(db: &Database, title: &str, starts_at: DateTime<Utc>) -> i64 {
    events::create(db, &event(title, starts_at, EventStatus::Published))
        .await
        .unwrap()
}

/// Every matching title in list order, walking the pages.
async fn listed(db: &Database, filter: &UpcomingFilter, page_size: u32) -> Vec<String> {
    let mut titles = Vec::new();
    let mut cursor = None;
    loop {
        let page = events::list_upcoming(db, Tokyo, now(), filter, cursor, page_size)
            .await
            .unwrap_or_else(|err| panic!("{:?}: {err}", db.backend()));
        titles.extend(page.items.iter().map(|e| e.title(Lang::En).to_string()));
        match page.next {
            Some(next) => cursor = Some(next),
            None => return titles,
        }
    }
}

fn searching(text: &str) -> UpcomingFilter {
    UpcomingFilter {
        search: Some(text.to_string()),
        ..UpcomingFilter::default()
    }
}

// ---------------------------------------------------------------- list filters

#[tokio::test]
async fn date_filters_are_days_in_the_company_time_zone() {
    for t in each_backend().await {
        let db = &t.db;
        // The first two start on the same UTC day but on different Tokyo days.
        published(db, "late 2nd", tokyo(2026, 12, 2, 23, 30)).await;
        published(db, "early 3rd", tokyo(2026, 12, 3, 0, 30)).await;
        published(db, "late 3rd", tokyo(2026, 12, 3, 23, 59)).await;
        published(db, "4th", tokyo(2026, 12, 4, 0, 0)).await;
        let between = |from: Option<NaiveDate>, to: Option<NaiveDate>| UpcomingFilter {
            from,
            to,
            ..UpcomingFilter::default()
        };
        let backend = db.backend();
        assert_eq!(
            listed(db, &between(Some(day(12, 3)), Some(day(12, 3))), 20).await,
            ["early 3rd", "late 3rd"],
            "{backend:?}"
        );
        assert_eq!(
            listed(db, &between(None, Some(day(12, 2))), 20).await,
            ["late 2nd"],
            "{backend:?}"
        );
        assert_eq!(
            listed(db, &between(Some(day(12, 4)), None), 20).await,
            ["4th"],
            "{backend:?}"
        );
        // A start before today means today; a range the wrong way round is empty.
        assert_eq!(
            listed(db, &between(Some(day(11, 1)), Some(day(12, 2))), 20).await,
            ["late 2nd"],
            "{backend:?}"
        );
        assert!(
            listed(db, &between(Some(day(12, 4)), Some(day(12, 3))), 20)
                .await
                .is_empty()
        );
        assert!(
            listed(db, &between(None, Some(day(11, 30))), 20)
                .await
                .is_empty()
        );
        // Dates at the ends of the calendar are not an error.
        assert_eq!(
            listed(db, &between(Some(NaiveDate::MIN), Some(NaiveDate::MAX)), 20)
                .await
                .len(),
            4
        );
        assert!(
            listed(db, &between(Some(NaiveDate::MAX), None), 20)
                .await
                .is_empty()
        );
    }
}

#[tokio::test]
async fn seats_left_only_skips_full_events() {
    for t in each_backend().await {
        let db = &t.db;
        let people = employees(db, "seat", 3).await;
        let mut open = event("open", now() + Duration::days(1), EventStatus::Published);
        open.capacity = 5;
        events::create(db, &open).await.unwrap();
        let mut full = event("full", now() + Duration::days(2), EventStatus::Published);
        full.capacity = 1;
        let full = events::create(db, &full).await.unwrap();
        let mut none = event(
            "no seats",
            now() + Duration::days(3),
            EventStatus::Published,
        );
        none.capacity = 1;
        let none = events::create(db, &none).await.unwrap();
        registrations::register(db, none, people[2], now())
            .await
            .unwrap();
        for &user in &people[..2] {
            registrations::register(db, full, user, now())
                .await
                .unwrap();
        }
        let filter = UpcomingFilter {
            seats_left_only: true,
            ..UpcomingFilter::default()
        };
        assert_eq!(
            listed(db, &filter, 20).await,
            ["open"],
            "{:?}",
            db.backend()
        );
        assert_eq!(
            listed(db, &UpcomingFilter::default(), 20).await,
            ["open", "full", "no seats"]
        );
    }
}

#[tokio::test]
async fn search_finds_japanese_and_english_text_and_takes_wildcards_literally() {
    for t in each_backend().await {
        let db = &t.db;
        let at = |n: i64| now() + Duration::days(n);
        let mut onboarding = event("Onboarding", at(1), EventStatus::Published);
        onboarding.title_ja = Some("新人研修".into());
        onboarding.place = "本社 3F 大会議室".into();
        events::create(db, &onboarding).await.unwrap();
        published(db, "Rust 100% Workshop", at(2)).await;
        let mut town_hall = event("Town hall for 100 people", at(3), EventStatus::Published);
        town_hall.description_en = "Bring your questions.".into();
        events::create(db, &town_hall).await.unwrap();
        published(db, "snake_case_talk", at(4)).await;
        let mut coaching = event("Executive Coaching", at(5), EventStatus::Published);
        coaching.description_ja = "Kubernetes 入門を含みます。".into();
        events::create(db, &coaching).await.unwrap();
        published(db, r"Back\slash", at(6)).await;
        let mut draft = event("Draft", at(7), EventStatus::Draft);
        draft.title_ja = Some("研修の下書き".into());
        events::create(db, &draft).await.unwrap();

        let backend = db.backend();
        for (search, expected) in [
            ("研修", vec!["Onboarding"]),
            ("onBOARDING", vec!["Onboarding"]),
            ("大会議室", vec!["Onboarding"]),
            ("KUBERNETES", vec!["Executive Coaching"]),
            ("入門", vec!["Executive Coaching"]),
            ("questions", vec!["Town hall for 100 people"]),
            // As wildcards these would also match "100 people" and "e c".
            ("100%", vec!["Rust 100% Workshop"]),
            ("%", vec!["Rust 100% Workshop"]),
            ("_", vec!["snake_case_talk"]),
            ("e_c", vec!["snake_case_talk"]),
            (r"\", vec![r"Back\slash"]),
            ("\u{0}研修\u{7}", vec!["Onboarding"]),
            ("nothing like this", vec![]),
        ] {
            assert_eq!(
                listed(db, &searching(search), 20).await,
                expected,
                "{backend:?}: {search:?}"
            );
        }
        assert_eq!(listed(db, &searching("   "), 20).await.len(), 6);
        // The search index follows an edit.
        execute(
            db,
            "UPDATE events SET title_en = 'Orientation', place = 'Annex' WHERE title_en = 'Onboarding'",
        )
        .await
        .unwrap();
        assert_eq!(
            listed(db, &searching("orientATION"), 20).await,
            ["Orientation"],
            "{backend:?}"
        );
        assert_eq!(
            listed(db, &searching("大会議室"), 20).await,
            Vec::<String>::new(),
            "{backend:?}"
        );
        assert_eq!(
            listed(db, &searching("新人研修"), 20).await,
            ["Orientation"],
            "{backend:?}"
        );
        let long = "x".repeat(events::MAX_SEARCH_CHARS + 1);
        assert!(matches!(
            events::list_upcoming(db, Tokyo, now(), &searching(&long), None, 20).await,
            Err(Error::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn all_filters_combine_and_page_like_one_page() {
    for t in each_backend().await {
        let db = &t.db;
        let people = employees(db, "combo", 1).await;
        for n in 0..12 {
            let mut new = event(
                &format!("Training {n:02}"),
                tokyo(2026, 12, 2 + (n as u32 % 4), 10, 0),
                EventStatus::Published,
            );
            new.category = if n % 3 == 0 {
                Category::Seminar
            } else {
                Category::Training
            };
            new.title_ja = Some(format!("研修 {n}"));
            new.capacity = if n == 5 { 1 } else { 10 };
            let id = events::create(db, &new).await.unwrap();
            if n == 5 {
                registrations::register(db, id, people[0], now())
                    .await
                    .unwrap();
            }
        }
        let filter = UpcomingFilter {
            category: Some(Category::Training),
            from: Some(day(12, 3)),
            to: Some(day(12, 4)),
            seats_left_only: true,
            search: Some("研修".into()),
        };
        let whole = listed(db, &filter, 100).await;
        // Days 3 and 4 are n % 4 in {1, 2}; n % 3 == 0 is a seminar; n = 5 is full.
        assert_eq!(
            whole,
            ["Training 01", "Training 02", "Training 10"],
            "{:?}",
            db.backend()
        );
        assert_eq!(listed(db, &filter, 1).await, whole);
        assert_eq!(listed(db, &filter, 3).await, whole);
    }
}

// ------------------------------------------------------------------ event page

#[tokio::test]
async fn the_event_page_shows_the_viewers_own_registration() {
    for t in each_backend().await {
        let db = &t.db;
        let organizer = person(db, "hanako@example.com", "山田 花子", Lang::Ja).await;
        let people = employees(db, "viewer", 3).await;
        let mut new = event("Page", now() + Duration::days(3), EventStatus::Published);
        new.capacity = 1;
        new.organizer_id = Some(organizer);
        new.description_ja = "説明".into();
        new.description_en = "About it".into();
        let id = events::create(db, &new).await.unwrap();
        let mut regs = Vec::new();
        for &user in &people {
            regs.push(registrations::register(db, id, user, now()).await.unwrap());
        }
        let detail = |viewer| events::detail(db, Tokyo, id, viewer, false, now());

        let anonymous = detail(None).await.unwrap();
        assert_eq!(anonymous.mine, None);
        assert_eq!(anonymous.event.id, id);
        assert_eq!(
            (anonymous.event.seats_taken, anonymous.event.waitlisted),
            (1, 2)
        );
        assert_eq!(anonymous.organizer_id, Some(organizer));
        assert_eq!(anonymous.organizer_name.as_deref(), Some("山田 花子"));
        assert_eq!(anonymous.description_ja, "説明");
        assert_eq!(anonymous.description_en, "About it");
        assert_eq!(anonymous.status, EventStatus::Published);
        assert_eq!(anonymous.window, RegistrationWindow::Open);
        assert_eq!(anonymous.version, 1);
        assert_eq!(anonymous.event.utc_offset_seconds, 9 * 3600);

        let seated = detail(Some(people[0])).await.unwrap().mine.unwrap();
        assert_eq!(
            (seated.id, seated.status, seated.waitlist_position),
            (regs[0].id, RegistrationStatus::Registered, None)
        );
        let second = detail(Some(people[2])).await.unwrap().mine.unwrap();
        assert_eq!(
            (second.status, second.waitlist_position),
            (RegistrationStatus::Waitlisted, Some(2)),
            "{:?}",
            db.backend()
        );

        registrations::end(
            db,
            regs[0].id,
            Ending::Cancelled { by_user: people[0] },
            now(),
        )
        .await
        .unwrap();
        assert_eq!(detail(Some(people[0])).await.unwrap().mine, None);
        let promoted = detail(Some(people[1])).await.unwrap().mine.unwrap();
        assert_eq!(promoted.status, RegistrationStatus::Registered);
        let moved_up = detail(Some(people[2])).await.unwrap().mine.unwrap();
        assert_eq!(moved_up.waitlist_position, Some(1));

        assert_eq!(
            events::detail(db, Tokyo, id + 1000, None, true, now()).await,
            Err(Error::NotFound)
        );
    }
}

#[tokio::test]
async fn the_window_on_the_page_is_what_registering_allows() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let people = employees(db, "window", 8).await;
        let now = now();
        let later = now + Duration::days(2);
        let opens = now + Duration::hours(1);
        // (starts, registration opens, registration closes, status, expected window)
        let cases = [
            (later, None, None, "published", RegistrationWindow::Open),
            (
                later,
                Some(opens),
                None,
                "published",
                RegistrationWindow::NotYetOpen {
                    opens_at: opens.with_timezone(&Tokyo).fixed_offset(),
                },
            ),
            (
                later,
                Some(now - Duration::days(1)),
                Some(now - Duration::hours(1)),
                "published",
                RegistrationWindow::Closed,
            ),
            (
                now - Duration::minutes(30),
                None,
                None,
                "published",
                RegistrationWindow::Started,
            ),
            // Late registration: open after the start until the deadline.
            (
                now - Duration::minutes(30),
                None,
                Some(now + Duration::minutes(15)),
                "published",
                RegistrationWindow::Open,
            ),
            (
                later,
                None,
                None,
                "cancelled",
                RegistrationWindow::Cancelled,
            ),
        ];
        for (n, (starts, opens_at, closes_at, status, expected)) in cases.into_iter().enumerate() {
            let id = published(db, &format!("case {n}"), starts).await;
            let time = |at: Option<DateTime<Utc>>| at.map_or("NULL".into(), sql_time);
            execute(
                db,
                &format!(
                    "UPDATE events SET registration_opens_at = {}, registration_closes_at = {}, status = '{status}'
                      WHERE id = {id}",
                    time(opens_at),
                    time(closes_at)
                ),
            )
            .await
            .unwrap();
            let detail = events::detail(db, Tokyo, id, None, false, now)
                .await
                .unwrap();
            assert_eq!(detail.window, expected, "{backend:?}: case {n}");
            assert_eq!(detail.registration_opens_at, opens_at);
            assert_eq!(detail.registration_closes_at, closes_at);
            let registered = registrations::register(db, id, people[n], now).await;
            assert_eq!(
                registered.is_ok(),
                expected == RegistrationWindow::Open,
                "{backend:?}: case {n}: {registered:?}"
            );
        }
        if let RegistrationWindow::NotYetOpen { opens_at } = cases[1].4 {
            assert_eq!(opens_at.offset().local_minus_utc(), 9 * 3600);
        }

        let draft = events::create(db, &event("Draft", later, EventStatus::Draft))
            .await
            .unwrap();
        assert_eq!(
            events::detail(db, Tokyo, draft, Some(people[7]), false, now).await,
            Err(Error::NotFound)
        );
        let seen = events::detail(db, Tokyo, draft, None, true, now)
            .await
            .unwrap();
        assert_eq!(
            (seen.status, seen.window),
            (EventStatus::Draft, RegistrationWindow::Closed)
        );
        assert_eq!(
            registrations::register(db, draft, people[7], now).await,
            Err(Error::NotFound)
        );
    }
}

// ------------------------------------------------------------------- my events

#[tokio::test]
async fn my_events_split_at_now_with_the_latest_registration_of_each_past_event() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let people = employees(db, "mine", 3).await;
        let (me, other, staff) = (people[0], people[1], people[2]);
        let now = now();
        let create = |title: &'static str, starts: DateTime<Utc>, capacity: i32| async move {
            let mut new = event(title, starts, EventStatus::Published);
            new.capacity = capacity;
            events::create(db, &new).await.unwrap()
        };
        let register = |event_id: i64, user: i64, at: DateTime<Utc>| async move {
            registrations::register(db, event_id, user, at)
                .await
                .unwrap()
        };
        let cancel = |registration_id: i64, user: i64, at: DateTime<Utc>| async move {
            registrations::end(db, registration_id, Ending::Cancelled { by_user: user }, at)
                .await
                .unwrap();
        };

        let seat = create("seat", now + Duration::days(1), 5).await;
        let seat_reg = register(seat, me, now).await;
        let waiting = create("waiting", now + Duration::days(2), 1).await;
        register(waiting, other, now).await;
        let waiting_reg = register(waiting, me, now).await;
        let dropped = create("dropped", now + Duration::days(3), 5).await;
        cancel(register(dropped, me, now).await.id, me, now).await;
        // Started half an hour ago, ends in half an hour: still upcoming.
        let running = create("running", now - Duration::minutes(30), 5).await;
        register(running, me, now - Duration::days(1)).await;
        let noshow = create("no-show", now - Duration::days(2), 5).await;
        register(noshow, me, now - Duration::days(10)).await;
        let attended = create("attended", now - Duration::days(1), 5).await;
        let first = register(attended, me, now - Duration::days(9)).await;
        cancel(first.id, me, now - Duration::days(8)).await;
        let again = register(attended, me, now - Duration::days(7)).await;
        registrations::check_in(db, again.id, staff, now - Duration::days(1))
            .await
            .unwrap();
        let left = create("left", now - Duration::days(5), 5).await;
        cancel(
            register(left, me, now - Duration::days(20)).await.id,
            me,
            now - Duration::days(19),
        )
        .await;
        register(
            create("someone else's", now + Duration::days(1), 5).await,
            other,
            now,
        )
        .await;

        let ticket = tickets::issue(db, seat_reg.id, me).await.unwrap();
        let mine = registrations::mine(db, me, Tokyo, now).await.unwrap();
        let summary = |rows: &[registrations::MyEventRow]| {
            rows.iter()
                .map(|row| (row.event.title(Lang::En).to_string(), row.status))
                .collect::<Vec<_>>()
        };
        use RegistrationStatus::*;
        assert_eq!(
            summary(&mine.upcoming),
            [
                ("running".to_string(), Registered),
                ("seat".to_string(), Registered),
                ("waiting".to_string(), Waitlisted),
            ],
            "{backend:?}"
        );
        assert_eq!(
            summary(&mine.past),
            [
                ("attended".to_string(), CheckedIn),
                ("no-show".to_string(), Registered),
                ("left".to_string(), Cancelled),
            ],
            "{backend:?}"
        );
        let row = |title: &str| {
            mine.upcoming
                .iter()
                .chain(&mine.past)
                .find(|row| row.event.title(Lang::En) == title)
                .unwrap()
        };
        assert_eq!(row("seat").registration_id, seat_reg.id);
        assert_eq!(
            row("seat").ticket_code.as_deref(),
            Some(ticket.code.as_str())
        );
        assert_eq!(row("waiting").registration_id, waiting_reg.id);
        assert_eq!(row("waiting").waitlist_position, Some(1));
        assert_eq!(row("waiting").ticket_code, None);
        assert_eq!(row("attended").registration_id, again.id);
        assert_eq!(row("seat").event_status, EventStatus::Published);
        assert!(mine.upcoming.iter().all(|r| r.event.id != dropped));

        // A cancelled event stays on the list, marked as such.
        execute(
            db,
            &format!("UPDATE events SET status = 'cancelled' WHERE id = {seat}"),
        )
        .await
        .unwrap();
        let mine = registrations::mine(db, me, Tokyo, now).await.unwrap();
        let cancelled = mine.upcoming.iter().find(|r| r.event.id == seat).unwrap();
        assert_eq!(cancelled.event_status, EventStatus::Cancelled);

        let nobody = registrations::mine(db, staff, Tokyo, now).await.unwrap();
        assert_eq!(nobody, registrations::MyEvents::default());
    }
}

// --------------------------------------------------------------------- tickets

const CROCKFORD: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[tokio::test]
async fn a_ticket_round_trips_and_verifies_offline_with_the_public_key() {
    for t in each_backend().await {
        let db = &t.db;
        let user = employees(db, "ticket", 1).await[0];
        let event_id = published(db, "Ticketed", now() + Duration::days(1)).await;
        let registration = registrations::register(db, event_id, user, now())
            .await
            .unwrap();
        let ticket = tickets::issue(db, registration.id, user).await.unwrap();
        assert_eq!(
            (ticket.event_id, ticket.registration_id),
            (event_id, registration.id)
        );
        let claims = tickets::verify(db, &ticket.token).await.unwrap();
        assert_eq!(
            (claims.event_id, claims.registration_id),
            (event_id, registration.id)
        );

        // What a door device does offline with nothing but the public key.
        let public = URL_SAFE_NO_PAD
            .decode(tickets::event_public_key(db, event_id).await.unwrap())
            .unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&public.try_into().unwrap()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&ticket.token).unwrap();
        let (payload, signature) = bytes.split_at(17);
        let signature = ed25519_dalek::Signature::from_slice(signature).unwrap();
        assert!(key.verify_strict(payload, &signature).is_ok());
        assert_eq!(payload[0], 1);
        assert_eq!(
            i64::from_be_bytes(payload[1..9].try_into().unwrap()),
            event_id
        );
        assert_eq!(
            i64::from_be_bytes(payload[9..17].try_into().unwrap()),
            registration.id
        );
        let other_event = published(db, "Other", now() + Duration::days(1)).await;
        let other_key = tickets::event_public_key(db, other_event).await.unwrap();
        assert_ne!(URL_SAFE_NO_PAD.decode(other_key).unwrap(), key.to_bytes());
        assert_eq!(
            tickets::event_public_key(db, other_event + 1000).await,
            Err(Error::NotFound)
        );

        let svg = tickets::qr_svg(&ticket.token);
        assert!(
            svg.starts_with("<svg") && !svg.contains("style"),
            "{svg:.80}"
        );
    }
}

#[tokio::test]
async fn forged_altered_or_truncated_tickets_are_refused() {
    let elsewhere = test_support::sqlite().await;
    for t in each_backend().await {
        let db = &t.db;
        let user = employees(db, "forger", 1).await[0];
        let event_id = published(db, "Guarded", now() + Duration::days(1)).await;
        let registration = registrations::register(db, event_id, user, now())
            .await
            .unwrap();
        let token = tickets::issue(db, registration.id, user)
            .await
            .unwrap()
            .token;
        let bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();

        let mut bad_signature = bytes.clone();
        bad_signature[40] ^= 0x01;
        let mut other_registration = bytes.clone();
        other_registration[16] ^= 0x01;
        let mut other_event = bytes.clone();
        other_event[8] ^= 0x01;
        let mut future_version = bytes.clone();
        future_version[0] = 2;

        // The same ids signed by another installation's seed.
        let foreign_user = employees(&elsewhere.db, "foreign", 1).await[0];
        let foreign_event = published(&elsewhere.db, "Foreign", now() + Duration::days(1)).await;
        let foreign_reg =
            registrations::register(&elsewhere.db, foreign_event, foreign_user, now())
                .await
                .unwrap();
        let foreign = tickets::issue(&elsewhere.db, foreign_reg.id, foreign_user)
            .await
            .unwrap()
            .token;

        for (what, bad) in [
            ("signature", URL_SAFE_NO_PAD.encode(&bad_signature)),
            ("registration", URL_SAFE_NO_PAD.encode(&other_registration)),
            ("event", URL_SAFE_NO_PAD.encode(&other_event)),
            ("version", URL_SAFE_NO_PAD.encode(&future_version)),
            ("truncated", token[..token.len() - 4].to_string()),
            ("cut payload", URL_SAFE_NO_PAD.encode(&bytes[..17])),
            ("empty", String::new()),
            ("garbage", "<script>alert(1)</script>".into()),
            ("padding", format!("{token}==")),
            ("other installation", foreign.clone()),
        ] {
            assert!(
                matches!(tickets::verify(db, &bad).await, Err(Error::Invalid(_))),
                "{:?}: {what}",
                db.backend()
            );
        }
        // Surrounding whitespace from a scanner is fine.
        assert!(tickets::verify(db, &format!(" {token}\n")).await.is_ok());
    }
}

#[tokio::test]
async fn ticket_codes_are_stable_unique_and_found_however_typed() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let people = employees(db, "code", 20).await;
        let mut new = event("Codes", now() + Duration::days(1), EventStatus::Published);
        new.capacity = 30;
        let event_id = events::create(db, &new).await.unwrap();
        let other_event = published(db, "Elsewhere", now() + Duration::days(1)).await;
        let mut codes = HashSet::new();
        let mut first = None;
        for &user in &people {
            let registration = registrations::register(db, event_id, user, now())
                .await
                .unwrap();
            let ticket = tickets::issue(db, registration.id, user).await.unwrap();
            assert_eq!(ticket.code.len(), 8);
            assert!(
                ticket.code.chars().all(|c| CROCKFORD.contains(c)),
                "{}",
                ticket.code
            );
            let again = tickets::issue(db, registration.id, user).await.unwrap();
            assert_eq!(again.code, ticket.code, "{backend:?}");
            assert!(codes.insert(ticket.code.clone()));
            first.get_or_insert((registration, ticket.code));
        }
        let (registration, code) = first.unwrap();
        let typed = format!(
            " {}-{} ",
            code[..4].to_lowercase(),
            code[4..].to_lowercase()
        );
        let found = tickets::find_by_code(db, event_id, &typed).await.unwrap();
        assert_eq!(found.id, registration.id);
        assert_eq!(found.status, RegistrationStatus::Registered);
        assert_eq!(
            tickets::find_by_code(db, other_event, &code).await,
            Err(Error::NotFound),
            "{backend:?}"
        );
        assert!(matches!(
            tickets::find_by_code(db, event_id, "hello").await,
            Err(Error::Invalid(_))
        ));
    }
}

#[tokio::test]
async fn concurrent_first_views_of_a_ticket_agree_on_one_code() {
    for t in each_backend().await {
        let db = &t.db;
        let user = employees(db, "race", 1).await[0];
        let event_id = published(db, "Race", now() + Duration::days(1)).await;
        let registration = registrations::register(db, event_id, user, now())
            .await
            .unwrap();
        let views = (0..10).map(|_| {
            let db = db.clone();
            tokio::spawn(async move { tickets::issue(&db, registration.id, user).await })
        });
        let mut codes = HashSet::new();
        for view in views {
            codes.insert(view.await.unwrap().unwrap().code);
        }
        assert_eq!(codes.len(), 1, "{:?}: {codes:?}", db.backend());
    }
}

#[tokio::test]
async fn only_the_owner_of_a_seat_gets_a_ticket() {
    for t in each_backend().await {
        let db = &t.db;
        let people = employees(db, "owner", 4).await;
        let mut new = event("Small", now() + Duration::days(1), EventStatus::Published);
        new.capacity = 2;
        let event_id = events::create(db, &new).await.unwrap();
        let mut regs = Vec::new();
        for &user in &people[..3] {
            regs.push(
                registrations::register(db, event_id, user, now())
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            tickets::issue(db, regs[0].id, people[1]).await,
            Err(Error::Forbidden)
        );
        assert_eq!(
            tickets::issue(db, regs[0].id + 1000, people[0]).await,
            Err(Error::NotFound)
        );
        assert_eq!(regs[2].status, RegistrationStatus::Waitlisted);
        assert!(matches!(
            tickets::issue(db, regs[2].id, people[2]).await,
            Err(Error::Conflict(m)) if m.to_string().contains("waitlist")
        ));
        let code = tickets::issue(db, regs[0].id, people[0])
            .await
            .unwrap()
            .code;
        registrations::check_in(db, regs[0].id, people[3], now())
            .await
            .unwrap();
        assert_eq!(
            tickets::issue(db, regs[0].id, people[0])
                .await
                .unwrap()
                .code,
            code,
            "a checked-in ticket still shows"
        );
        registrations::end(
            db,
            regs[1].id,
            Ending::Cancelled { by_user: people[1] },
            now(),
        )
        .await
        .unwrap();
        assert!(matches!(
            tickets::issue(db, regs[1].id, people[1]).await,
            Err(Error::Conflict(m)) if m.to_string().contains("cancelled")
        ));
    }
}

#[tokio::test]
async fn instances_sharing_a_database_sign_with_the_same_keys() {
    for t in each_backend().await {
        let first = &t.db;
        let second = Database::open(
            &DatabaseUrl::parse(&t.url()).unwrap(),
            &PoolSettings::default(),
        )
        .await
        .unwrap();
        let event_id = published(first, "Shared", now() + Duration::days(1)).await;
        // Both ask at once on a database without a seed yet.
        let (a, b) = tokio::join!(
            tickets::event_public_key(first, event_id),
            tickets::event_public_key(&second, event_id)
        );
        assert_eq!(a.unwrap(), b.unwrap(), "{:?}", first.backend());
        assert_eq!(
            scalar(first, "SELECT COUNT(*) FROM instance_secrets").await,
            1
        );
        let user = employees(first, "shared", 1).await[0];
        let registration = registrations::register(first, event_id, user, now())
            .await
            .unwrap();
        let ticket = tickets::issue(first, registration.id, user).await.unwrap();
        assert_eq!(
            tickets::verify(&second, &ticket.token)
                .await
                .unwrap()
                .registration_id,
            registration.id
        );
        assert_eq!(
            tickets::issue(&second, registration.id, user)
                .await
                .unwrap()
                .code,
            ticket.code
        );
        second.close().await;
    }
}

// -------------------------------------------------------------------- calendar

fn public_url() -> Url {
    Url::parse("https://tsudoi.example.com/").unwrap()
}

/// RFC 5545 framing: CRLF after every line, none longer than 75 octets,
/// no stray CR or LF. Returns the unfolded content lines.
fn content_lines(ics: &str) -> Vec<String> {
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.ends_with("END:VCALENDAR\r\n"), "{ics}");
    let body = ics.strip_suffix("\r\n").unwrap();
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
        assert!(!line.contains(['\r', '\n']), "{line:?}");
    }
    body.replace("\r\n ", "")
        .split("\r\n")
        .map(str::to_string)
        .collect()
}

fn line<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {name} in {lines:#?}"))
}

#[tokio::test]
async fn an_event_file_is_valid_icalendar_with_escaped_japanese_text() {
    for t in each_backend().await {
        let db = &t.db;
        let starts = tokyo(2027, 1, 8, 18, 30);
        let mut new = event(
            "New Year party, cheers; 2027",
            starts,
            EventStatus::Published,
        );
        new.title_ja = Some("新年会, 乾杯; 2027".into());
        new.place = "本社; 3F, 大会議室".into();
        new.description_ja = "今年もよろしくお願いします。\r\n会費は三千円です、当日お支払いください。飲み物と軽食を用意しています。\r\n\r\n問い合わせ: 総務部".into();
        new.description_en =
            "Line one\r\nLine two, with a comma; and a semicolon \\ backslash".into();
        let id = events::create(db, &new).await.unwrap();
        let detail = events::detail(db, Tokyo, id, None, false, now())
            .await
            .unwrap();

        let ics = calendar::event_ics(&detail, &public_url(), Lang::Ja);
        let lines = content_lines(&ics);
        assert_eq!(lines.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
        assert_eq!(
            line(&lines, "UID"),
            format!("event-{id}@tsudoi.example.com")
        );
        assert_eq!(line(&lines, "DTSTART"), "20270108T093000Z");
        assert_eq!(line(&lines, "DTEND"), "20270108T103000Z");
        assert_eq!(line(&lines, "SUMMARY"), r"新年会\, 乾杯\; 2027");
        assert_eq!(line(&lines, "LOCATION"), r"本社\; 3F\, 大会議室");
        assert!(
            line(&lines, "DESCRIPTION")
                .starts_with(r"今年もよろしくお願いします。\n会費は三千円です、"),
            "{ics}"
        );
        assert!(line(&lines, "DESCRIPTION").ends_with(&format!(
            r"\n\n問い合わせ: 総務部\n\nhttps://tsudoi.example.com/events/{id}"
        )));
        assert_eq!(
            line(&lines, "URL"),
            format!("https://tsudoi.example.com/events/{id}")
        );
        assert_eq!(line(&lines, "SEQUENCE"), "1");
        assert_eq!(line(&lines, "STATUS"), "CONFIRMED");

        // A parser reads back exactly what went in.
        let parsed: icalendar::Calendar = ics.parse().unwrap();
        use icalendar::{Component, EventLike};
        let parsed_event = parsed.events().next().unwrap();
        assert_eq!(parsed_event.get_summary(), Some("新年会, 乾杯; 2027"));
        assert_eq!(parsed_event.get_location(), Some("本社; 3F, 大会議室"));
        assert!(
            parsed_event
                .get_description()
                .unwrap()
                .starts_with("今年もよろしくお願いします。\n会費は")
        );

        let english = calendar::event_ics(&detail, &public_url(), Lang::En);
        let lines = content_lines(&english);
        assert_eq!(line(&lines, "SUMMARY"), r"New Year party\, cheers\; 2027");
        let parsed: icalendar::Calendar = english.parse().unwrap();
        assert!(
            parsed
                .events()
                .next()
                .unwrap()
                .get_description()
                .unwrap()
                .starts_with("Line one\nLine two, with a comma; and a semicolon \\ backslash")
        );

        execute(
            db,
            &format!(
                "UPDATE events SET status = 'cancelled', version = version + 1 WHERE id = {id}"
            ),
        )
        .await
        .unwrap();
        let detail = events::detail(db, Tokyo, id, None, false, now())
            .await
            .unwrap();
        let lines = content_lines(&calendar::event_ics(&detail, &public_url(), Lang::Ja));
        assert_eq!(line(&lines, "STATUS"), "CANCELLED");
        assert_eq!(line(&lines, "SEQUENCE"), "2");
    }
}

#[tokio::test]
async fn an_empty_feed_is_still_a_calendar_with_a_component() {
    for t in each_backend().await {
        let db = &t.db;
        let me = person(db, "empty-feed@example.com", "Empty", Lang::Ja).await;
        let token = calendar::feed_token(db, me).await.unwrap();
        let feed = calendar::feed_ics(db, &token, &public_url(), now())
            .await
            .unwrap();
        let lines = content_lines(&feed);
        let begins: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("BEGIN:"))
            .collect();
        // RFC 5545: a calendar holds at least one component.
        assert_eq!(begins, ["VCALENDAR", "VTIMEZONE", "STANDARD"], "{feed}");
        assert_eq!(lines.last().map(String::as_str), Some("END:VCALENDAR"));
        assert!(!lines.iter().any(|l| l.starts_with("METHOD")), "{feed}");
        let parsed: icalendar::Calendar = feed.parse().unwrap();
        assert_eq!(parsed.events().count(), 0);
        assert_eq!(parsed.components.len(), 1, "{feed}");
    }
}

#[tokio::test]
async fn the_feed_lists_held_seats_and_stops_when_its_token_is_renewed() {
    for t in each_backend().await {
        let db = &t.db;
        let backend = db.backend();
        let me = person(db, "feed@example.com", "Feed", Lang::Ja).await;
        let other = employees(db, "feed-other", 1).await[0];
        let now = now();
        let create = |title: &'static str, starts: DateTime<Utc>, capacity: i32| async move {
            let mut new = event(title, starts, EventStatus::Published);
            new.title_ja = Some(format!("{title}（日本語）"));
            new.capacity = capacity;
            events::create(db, &new).await.unwrap()
        };
        let seat = create("seat", now + Duration::days(1), 5).await;
        registrations::register(db, seat, me, now).await.unwrap();
        let waiting = create("waiting", now + Duration::days(2), 1).await;
        registrations::register(db, waiting, other, now)
            .await
            .unwrap();
        registrations::register(db, waiting, me, now).await.unwrap();
        let dropped = create("dropped", now + Duration::days(3), 5).await;
        let registration = registrations::register(db, dropped, me, now).await.unwrap();
        registrations::end(db, registration.id, Ending::Cancelled { by_user: me }, now)
            .await
            .unwrap();
        let recent = create("recent", now - Duration::days(30), 5).await;
        registrations::register(db, recent, me, now - Duration::days(40))
            .await
            .unwrap();
        let old = create("old", now - Duration::days(100), 5).await;
        registrations::register(db, old, me, now - Duration::days(110))
            .await
            .unwrap();
        let called_off = create("called off", now + Duration::days(4), 5).await;
        registrations::register(db, called_off, me, now)
            .await
            .unwrap();
        execute(
            db,
            &format!("UPDATE events SET status = 'cancelled' WHERE id = {called_off}"),
        )
        .await
        .unwrap();

        let token = calendar::feed_token(db, me).await.unwrap();
        assert_eq!(token.len(), 43);
        assert_eq!(calendar::feed_token(db, me).await.unwrap(), token);
        assert_ne!(calendar::feed_token(db, other).await.unwrap(), token);

        let feed = calendar::feed_ics(db, &token, &public_url(), now)
            .await
            .unwrap();
        let lines = content_lines(&feed);
        let uids: Vec<&str> = lines
            .iter()
            .filter_map(|l| l.strip_prefix("UID:"))
            .collect();
        let uid = |id: i64| format!("event-{id}@tsudoi.example.com");
        assert_eq!(
            uids,
            [uid(recent), uid(seat), uid(called_off)],
            "{backend:?}"
        );
        assert!(
            lines.iter().any(|l| l == "SUMMARY:seat（日本語）"),
            "{feed}"
        );
        assert_eq!(lines.iter().filter(|l| *l == "STATUS:CANCELLED").count(), 1);
        let parsed: icalendar::Calendar = feed.parse().unwrap();
        assert_eq!(parsed.events().count(), 3);
        let _ = (waiting, dropped, old);

        let renewed = calendar::revoke_feed_token(db, me).await.unwrap();
        assert_ne!(renewed, token);
        assert_eq!(
            calendar::feed_ics(db, &token, &public_url(), now).await,
            Err(Error::NotFound),
            "{backend:?}"
        );
        assert!(
            calendar::feed_ics(db, &renewed, &public_url(), now)
                .await
                .is_ok()
        );
        assert_eq!(calendar::feed_token(db, me).await.unwrap(), renewed);

        for unknown in [
            "",
            "abc",
            &"A".repeat(43),
            &format!("{renewed}x"),
            "../../etc",
        ] {
            assert_eq!(
                calendar::feed_ics(db, unknown, &public_url(), now).await,
                Err(Error::NotFound),
                "{unknown:?}"
            );
        }
        execute(
            db,
            &format!("UPDATE users SET active = FALSE WHERE id = {me}"),
        )
        .await
        .unwrap();
        assert_eq!(
            calendar::feed_ics(db, &renewed, &public_url(), now).await,
            Err(Error::NotFound)
        );
        assert_eq!(
            calendar::feed_token(db, me + 1000).await,
            Err(Error::NotFound)
        );
        assert_eq!(
            calendar::revoke_feed_token(db, me + 1000).await,
            Err(Error::NotFound)
        );
    }
}
