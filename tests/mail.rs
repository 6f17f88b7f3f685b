//! Mail on every backend, through a real SMTP server (aiosmtpd):
//! every kind of letter in both languages, the reminder batch's once-only
//! rules, delivery exactly once with stable Message-IDs, an SMTP outage,
//! dead mail and its retry, and two instances sharing one PostgreSQL.

mod common;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Asia::Tokyo;
use common::{event, person, scalar, tokyo};
use tsudoi::events;
use tsudoi::mail::compose::{self, Composition, MailSite};
use tsudoi::mail::delivery::{Deliverer, DeliverySettings};
use tsudoi::mail::outbox::{self, ClaimedMail};
use tsudoi::mail::reminders::{self, ReminderSchedule};
use tsudoi::mail::test_support::{MailServer, free_port};
use tsudoi::mail::transport::{Mailbox, Mailer};
use tsudoi::mail::{MailKind, MailStatus};
use tsudoi::model::{EventStatus, Lang};
use tsudoi::registrations::{self, Ending};
use tsudoi::storage::test_support;
use tsudoi::storage::{Database, DatabaseUrl, Pool, PoolSettings};

/// The day the reminder batch runs; the events are on the next day.
fn batch_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()
}

fn registered_at() -> DateTime<Utc> {
    tokyo(2026, 12, 1, 12, 0)
}

/// Served under a path, without a final slash: links must keep `/tsudoi/`.
fn site() -> MailSite {
    MailSite {
        public_url: url::Url::parse("https://tsudoi.example.co.jp/tsudoi").unwrap(),
        time_zone: Tokyo,
    }
}

fn quick() -> DeliverySettings {
    DeliverySettings {
        batch_size: 100,
        per_minute: 100_000,
        connections: 8,
        max_attempts: 8,
        send_timeout: Duration::from_secs(5),
        retry_base: Duration::from_millis(200),
        retry_max: Duration::from_secs(1),
        idle_poll: Duration::from_millis(50),
    }
}

fn deliverer(db: &Database, smtp_url: &str, settings: DeliverySettings) -> Deliverer {
    Deliverer::new(
        db.clone(),
        Mailer::smtp(smtp_url, settings.connections, settings.send_timeout).unwrap(),
        site(),
        "Tsudoi <events@example.co.jp>".parse::<Mailbox>().unwrap(),
        settings,
    )
}

/// Delivers until nothing is queued or sending any more.
async fn deliver_all(db: &Database, deliverer: &Deliverer, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        deliverer.deliver_batch().await.unwrap();
        let open = scalar(
            db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status IN ('queued', 'sending')",
        )
        .await;
        if open == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{open} mails still open after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The tests queue mail at fixed dates in December 2026; the worker goes by
/// the real clock. Makes everything queued due now.
async fn due_now(db: &Database) {
    common::execute(
        db,
        &format!(
            "UPDATE mail_outbox SET next_attempt_at = {} WHERE status = 'queued'",
            common::sql_time(Utc::now() - chrono::Duration::minutes(1))
        ),
    )
    .await
    .unwrap();
}

/// A published event on the batch's next day, with `people` registered.
async fn event_with(db: &Database, title: &str, people: &[i64]) -> (i64, Vec<i64>) {
    let mut new = event(title, tokyo(2026, 12, 10, 18, 0), EventStatus::Published);
    new.capacity = 100;
    new.place = "本社 7F 大会議室".into();
    let id = events::create(db, &new).await.unwrap();
    let mut registrations = Vec::new();
    for &person in people {
        registrations.push(
            registrations::register(db, id, person, registered_at())
                .await
                .unwrap()
                .id,
        );
    }
    (id, registrations)
}

fn claimed(kind: MailKind, lang: &str, event_id: i64, registration_id: i64) -> ClaimedMail {
    ClaimedMail {
        id: 1,
        kind,
        recipient_user_id: None,
        to_address: "someone@example.co.jp".into(),
        lang: lang.into(),
        payload: serde_json::json!({ "event_id": event_id, "registration_id": registration_id }),
        attempts: 1,
        created_at: registered_at(),
    }
}

/// [`claimed`], naming also the event's survey, which survey mails link to.
fn claimed_with_survey(
    kind: MailKind,
    lang: &str,
    event_id: i64,
    registration_id: i64,
    survey_id: i64,
) -> ClaimedMail {
    let mut mail = claimed(kind, lang, event_id, registration_id);
    mail.payload["survey_id"] = serde_json::json!(survey_id);
    mail
}

/// A one-question survey for `event_id`, saved by `organizer`.
async fn survey_of(db: &Database, organizer: i64, event_id: i64) -> i64 {
    use tsudoi::surveys::{Question, QuestionKind, SurveyDraft, SurveySettings, Wording, build};
    let draft = SurveyDraft {
        questions: vec![Question {
            key: String::new(),
            kind: QuestionKind::Rating,
            text: Wording::new("満足度", "Satisfaction"),
            required: true,
            choices: vec![],
            low_label: Wording::default(),
            high_label: Wording::default(),
        }],
        settings: SurveySettings::default(),
    };
    build::save(db, organizer, event_id, None, &draft, registered_at())
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_title_with_line_breaks_stays_one_subject_line() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let eri = person(db, "eri@example.co.jp", "加藤 恵理", Lang::Ja).await;
    let (event_id, regs) = event_with(db, "新年会", &[eri]).await;
    // The forms refuse such a title; one stored before they did, or written
    // by another tool, must still not break the header.
    common::execute(
        db,
        &format!(
            "UPDATE events SET title_en = '新年会' || char(13) || char(10) || 'Bcc: someone@example.com' || char(10) WHERE id = {event_id}"
        ),
    )
    .await
    .unwrap();
    let mail = claimed(MailKind::RegistrationConfirmed, "ja", event_id, regs[0]);
    let Composition::Send(composed) = compose::compose(db, &site(), &mail, Utc::now())
        .await
        .unwrap()
    else {
        panic!("not composed");
    };
    let subject = &composed.letter.subject;
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    assert!(
        subject.ends_with("新年会 Bcc: someone@example.com"),
        "{subject:?}"
    );
    assert_eq!(composed.to_name, "加藤 恵理");
}

#[tokio::test]
async fn every_kind_of_letter_in_both_languages() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let eri = person(db, "eri@example.co.jp", "加藤 恵理", Lang::Ja).await;
    let ben = person(db, "ben@example.co.jp", "Ben Hall", Lang::En).await;
    let (event_id, regs) = event_with(db, "Year-end party", &[eri, ben]).await;
    let survey_id = survey_of(db, eri, event_id).await;
    // Invitations and resets are about an account, not an event; their own
    // test is with the accounts.
    let event_kinds = MailKind::ALL
        .into_iter()
        .filter(|kind| !matches!(kind, MailKind::Invitation | MailKind::PasswordReset));
    for kind in event_kinds {
        for (lang, registration, greeting) in [
            ("ja", regs[0], "加藤 恵理 様"),
            ("en", regs[1], "Hello Ben Hall,"),
        ] {
            let mail = claimed_with_survey(kind, lang, event_id, registration, survey_id);
            let Composition::Send(composed) = compose::compose(db, &site(), &mail, Utc::now())
                .await
                .unwrap()
            else {
                panic!("{kind:?} {lang}: not composed");
            };
            let letter = &composed.letter;
            let html = letter.html().unwrap();
            let text = letter.text().unwrap();
            assert!(
                letter.subject.contains("Year-end party"),
                "{kind:?} {lang}: {}",
                letter.subject
            );
            assert!(
                html.contains(greeting) && text.contains(greeting),
                "{kind:?} {lang}"
            );
            assert!(html.contains("本社 7F 大会議室") && text.contains("本社 7F 大会議室"));
            let when = if lang == "ja" {
                "2026年12月10日(木) 18:00"
            } else {
                "Thu 10 Dec 2026, 18:00"
            };
            assert!(text.contains(when), "{kind:?} {lang}: {text}");
            assert!(
                html.contains("https://tsudoi.example.co.jp/tsudoi/"),
                "{kind:?} {lang}: a link"
            );
            let is_reminder = kind == MailKind::Reminder;
            assert_eq!(
                composed.attachments.len(),
                if is_reminder { 2 } else { 0 },
                "{kind:?}"
            );
            if is_reminder {
                assert!(html.contains("cid:ticket-qr"));
                let png = &composed.attachments[0];
                assert_eq!(png.content_type, "image/png");
                assert_eq!(&png.bytes[1..4], b"PNG");
                let ics = String::from_utf8(composed.attachments[1].bytes.clone()).unwrap();
                assert!(ics.contains("BEGIN:VEVENT") && ics.contains("DTSTART"));
            }
        }
    }
    // The Japanese subject line follows Japanese business mail.
    let mail = claimed(MailKind::Reminder, "ja", event_id, regs[0]);
    let Composition::Send(composed) = compose::compose(db, &site(), &mail, Utc::now())
        .await
        .unwrap()
    else {
        panic!("not composed");
    };
    assert_eq!(composed.letter.subject, "【明日開催】Year-end party");

    // An organizer's removal does not read as the person's own cancellation.
    for (by, lang, subject) in [
        ("cancelled", "ja", "【キャンセル完了】Year-end party"),
        ("removed", "ja", "【登録取り消し】Year-end party"),
        (
            "removed",
            "en",
            "Registration removed by the organizer: Year-end party",
        ),
    ] {
        let mut mail = claimed(MailKind::Cancelled, lang, event_id, regs[0]);
        mail.payload["by"] = serde_json::json!(by);
        let Composition::Send(composed) = compose::compose(db, &site(), &mail, Utc::now())
            .await
            .unwrap()
        else {
            panic!("{by} {lang}: not composed");
        };
        assert_eq!(composed.letter.subject, subject);
    }

    // A reminder for a seat given up meanwhile is not sent.
    registrations::end(
        db,
        regs[1],
        Ending::Cancelled { by_user: ben },
        registered_at(),
    )
    .await
    .unwrap();
    let mail = claimed(MailKind::Reminder, "en", event_id, regs[1]);
    assert!(matches!(
        compose::compose(db, &site(), &mail, Utc::now())
            .await
            .unwrap(),
        Composition::Obsolete(_)
    ));
}

#[tokio::test]
async fn markup_in_titles_places_and_names_reaches_the_html_letter_as_text() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let name = r#"<img src=x onerror="alert(1)">"#;
    let hacker = person(db, "h@example.co.jp", name, Lang::Ja).await;
    let title = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
    let (event_id, regs) = event_with(db, title, &[hacker]).await;
    sqlx_place(db, event_id, "<script>alert(2)</script>").await;
    let survey_id = survey_of(db, hacker, event_id).await;
    let event_kinds = MailKind::ALL
        .into_iter()
        .filter(|kind| !matches!(kind, MailKind::Invitation | MailKind::PasswordReset));
    for kind in event_kinds {
        let mail = claimed_with_survey(kind, "ja", event_id, regs[0], survey_id);
        let Composition::Send(composed) = compose::compose(db, &site(), &mail, Utc::now())
            .await
            .unwrap()
        else {
            panic!("{kind:?}: not composed");
        };
        let html = composed.letter.html().unwrap();
        // The letter has <meta> and <img> tags of its own; these are the title's
        // and the name's, which must arrive as text.
        for markup in [
            "<meta http-equiv",
            "<img src=x",
            "<script>",
            "onerror=\"alert",
            "</title><",
        ] {
            assert!(
                !html.contains(markup),
                "{kind:?}: {markup} in the HTML letter"
            );
        }
        // askama writes numeric character references.
        assert!(
            html.contains("&#60;/title&#62;&#60;meta") || html.contains("&lt;/title&gt;&lt;meta"),
            "{kind:?}: the title is shown as text: {html}"
        );
    }
}

async fn sqlx_place(db: &Database, event_id: i64, place: &str) {
    common::execute(
        db,
        &format!("UPDATE events SET place = '{place}' WHERE id = {event_id}"),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_reminder_batch_queues_each_seat_once_and_a_moved_event_again() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let a = person(db, "a@example.co.jp", "A", Lang::Ja).await;
        let b = person(db, "b@example.co.jp", "B", Lang::En).await;
        let c = person(db, "c@example.co.jp", "C", Lang::Ja).await;
        let (tomorrow, regs) = event_with(db, "Tomorrow", &[a, b, c]).await;
        registrations::end(
            db,
            regs[2],
            Ending::Cancelled { by_user: c },
            registered_at(),
        )
        .await
        .unwrap();
        // Not tomorrow, or not published: no reminders.
        let mut later = event("Later", tokyo(2026, 12, 11, 10, 0), EventStatus::Published);
        later.capacity = 10;
        let later = events::create(db, &later).await.unwrap();
        registrations::register(db, later, a, registered_at())
            .await
            .unwrap();
        let mut draft = event("Draft", tokyo(2026, 12, 10, 10, 0), EventStatus::Draft);
        draft.capacity = 10;
        events::create(db, &draft).await.unwrap();
        // Someone deactivated gets nothing.
        let gone = person(db, "gone@example.co.jp", "Gone", Lang::Ja).await;
        registrations::register(db, tomorrow, gone, registered_at())
            .await
            .unwrap();
        common::execute(
            db,
            &format!("UPDATE users SET active = FALSE WHERE id = {gone}"),
        )
        .await
        .unwrap();
        // Someone who stopped the reminders gets none either.
        let declined = person(db, "declined@example.co.jp", "Declined", Lang::Ja).await;
        registrations::register(db, tomorrow, declined, registered_at())
            .await
            .unwrap();
        tsudoi::users::reminder_preference::set(db, declined, false)
            .await
            .unwrap();

        let schedule = ReminderSchedule {
            time_zone: Tokyo,
            at: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        };
        assert_eq!(
            reminders::run_if_due(db, schedule, tokyo(2026, 12, 9, 8, 59))
                .await
                .unwrap(),
            None,
            "{backend:?}: before the reminder time"
        );
        // Down at 09:00, started at 11:30: it catches up.
        assert_eq!(
            reminders::run_if_due(db, schedule, tokyo(2026, 12, 9, 11, 30))
                .await
                .unwrap(),
            Some(2),
            "{backend:?}"
        );
        assert_eq!(
            reminders::run_if_due(db, schedule, tokyo(2026, 12, 9, 11, 31))
                .await
                .unwrap(),
            None,
            "{backend:?}: once a day"
        );
        let queued = |db: &Database| {
            let db = db.clone();
            async move {
                scalar(
                    &db,
                    "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'reminder'",
                )
                .await
            }
        };
        assert_eq!(queued(db).await, 2);

        // The event moves to the next day: the next day's batch reminds again.
        common::execute(
            db,
            &format!(
                "UPDATE events SET starts_at = {}, ends_at = {} WHERE id = {tomorrow}",
                common::sql_time(tokyo(2026, 12, 11, 18, 0)),
                common::sql_time(tokyo(2026, 12, 11, 20, 0)),
            ),
        )
        .await
        .unwrap();
        assert_eq!(
            reminders::run_for(
                db,
                Tokyo,
                batch_day().succ_opt().unwrap(),
                tokyo(2026, 12, 10, 9, 0)
            )
            .await
            .unwrap(),
            Some(3),
            "{backend:?}: A and B again for the moved event, A for Later"
        );
        assert_eq!(queued(db).await, 5);
        // Even a run whose record was lost queues nothing twice.
        common::execute(db, "DELETE FROM scheduled_runs")
            .await
            .unwrap();
        assert_eq!(
            reminders::run_for(
                db,
                Tokyo,
                batch_day().succ_opt().unwrap(),
                tokyo(2026, 12, 10, 9, 5)
            )
            .await
            .unwrap(),
            Some(0),
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn every_mail_is_delivered_once_with_a_stable_message_id() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let mut people = Vec::new();
        for n in 0..30 {
            let lang = if n % 2 == 0 { Lang::Ja } else { Lang::En };
            people.push(
                person(
                    db,
                    &format!("p{n}@example.co.jp"),
                    &format!("Person {n}"),
                    lang,
                )
                .await,
            );
        }
        event_with(db, "Seminar", &people).await;
        reminders::run_for(db, Tokyo, batch_day(), tokyo(2026, 12, 9, 9, 0))
            .await
            .unwrap();
        // 30 confirmations and 30 reminders.
        assert_eq!(scalar(db, "SELECT COUNT(*) FROM mail_outbox").await, 60);
        due_now(db).await;

        let smtp = MailServer::start();
        let worker = deliverer(db, &smtp.url(), quick());
        deliver_all(db, &worker, Duration::from_secs(120)).await;
        smtp.wait_for(60, Duration::from_secs(10));
        let received = smtp.received();
        assert_eq!(received.len(), 60, "{backend:?}");
        let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!(ids.len(), 60, "{backend:?}: no mail twice");
        let stored: HashSet<String> = common::pairs(db, "SELECT id, message_id FROM mail_outbox")
            .await
            .into_iter()
            .map(|(_, id)| id)
            .collect();
        assert_eq!(
            stored,
            ids.iter().map(|id| id.to_string()).collect(),
            "{backend:?}"
        );
        assert!(
            received
                .iter()
                .all(|m| m.message_id.ends_with("@tsudoi.example.co.jp>"))
        );
        let reminder = received
            .iter()
            .find(|m| m.raw.contains("text/calendar"))
            .expect("a reminder with its calendar file");
        assert!(
            reminder.raw.contains("Content-ID: <ticket-qr."),
            "the QR code inline"
        );
        // What a strict client reads: no defect, the event named in the
        // text, links under the path Tsudoi is served from, the person's
        // name beside the address, one image id per reminder.
        let readings = smtp.read_strictly();
        assert_eq!(readings.len(), 60);
        let mut content_ids = HashSet::new();
        for reading in &readings {
            assert_eq!(reading.error, None, "{backend:?}: {reading:?}");
            assert!(reading.text.contains("Seminar"), "{}", reading.text);
            assert!(
                reading
                    .text
                    .contains("https://tsudoi.example.co.jp/tsudoi/events/")
                    || reading
                        .text
                        .contains("https://tsudoi.example.co.jp/tsudoi/tickets/"),
                "{}",
                reading.text
            );
            assert!(
                reading.to.starts_with("Person ") && reading.to.ends_with("@example.co.jp>"),
                "{}",
                reading.to
            );
            for id in &reading.content_ids {
                assert!(content_ids.insert(id.clone()), "{id} in two mails");
            }
        }
        assert_eq!(content_ids.len(), 30, "one image per reminder");
        assert!(reminder.raw.contains("multipart/alternative"));
        // Reminders, and only they, can be stopped with one click (RFC
        // 8058), at an address under the path Tsudoi is served from.
        const STOP: &str = "List-Unsubscribe: <https://tsudoi.example.co.jp/tsudoi/reminders/stop/";
        for mail in &received {
            let is_reminder = mail.raw.contains("text/calendar");
            assert_eq!(mail.raw.contains(STOP), is_reminder, "{}", mail.raw);
            assert_eq!(
                mail.raw
                    .contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
                is_reminder,
                "{}",
                mail.raw
            );
        }
        let token = reminder.raw[reminder.raw.find(STOP).unwrap() + STOP.len()..]
            .split('>')
            .next()
            .unwrap()
            .to_string();
        let holder = tsudoi::users::reminder_preference::stop_with_link(db, &token)
            .await
            .unwrap();
        assert!(!holder.wants_reminders);
        assert!(
            reminder.raw.contains(&format!("{}>", holder.email)),
            "the link stops the reminders of the person it was sent to"
        );
        assert!(
            !tsudoi::users::reminder_preference::wants(db, holder.user_id)
                .await
                .unwrap()
        );
        // Once more is no error; a changed token is.
        tsudoi::users::reminder_preference::stop_with_link(db, &token)
            .await
            .unwrap();
        let mut forged = token.clone().into_bytes();
        forged[3] = if forged[3] == b'A' { b'B' } else { b'A' };
        assert!(matches!(
            tsudoi::users::reminder_preference::stop_with_link(
                db,
                &String::from_utf8(forged).unwrap()
            )
            .await,
            Err(tsudoi::Error::Invalid(tsudoi::Reason::BrokenLink))
        ));
        assert_eq!(
            scalar(
                db,
                "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND attempts = 1"
            )
            .await,
            60
        );
        // Nothing left: another batch claims nothing and sends nothing.
        assert_eq!(worker.deliver_batch().await.unwrap().claimed, 0);
        assert_eq!(smtp.count(), 60);
    }
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_without_losing_or_doubling_any() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        let mut people = Vec::new();
        for n in 0..25 {
            people.push(
                person(
                    db,
                    &format!("p{n}@example.co.jp"),
                    &format!("P{n}"),
                    Lang::Ja,
                )
                .await,
            );
        }
        event_with(db, "Outage", &people).await;
        due_now(db).await;
        // Nothing listens on the port yet: the server is down.
        let port = free_port();
        let worker = deliverer(db, &format!("smtp://127.0.0.1:{port}"), quick());
        for _ in 0..3 {
            let report = worker.deliver_batch().await.unwrap();
            assert_eq!(report.sent, 0, "{backend:?}");
            tokio::time::sleep(Duration::from_millis(400)).await;
        }
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'queued' AND attempts >= 2 AND last_error IS NOT NULL").await,
            25,
            "{backend:?}: all failed, all waiting to be retried"
        );
        let smtp = MailServer::start_on(port);
        deliver_all(db, &worker, Duration::from_secs(60)).await;
        let received = smtp.received();
        let ids: HashSet<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
        assert_eq!((received.len(), ids.len()), (25, 25), "{backend:?}");
        assert_eq!(
            scalar(
                db,
                "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND last_error IS NULL"
            )
            .await,
            25
        );
    }
}

#[tokio::test]
async fn a_mail_dies_after_its_attempts_and_an_administrator_can_retry_it() {
    for t in test_support::backends().await {
        let db = &t.db;
        let a = person(db, "a@example.co.jp", "A", Lang::Ja).await;
        let admin = person(db, "admin@example.co.jp", "Admin", Lang::En).await;
        event_with(db, "Dead letters", &[a]).await;
        due_now(db).await;
        let port = free_port();
        let settings = DeliverySettings {
            max_attempts: 2,
            ..quick()
        };
        let worker = deliverer(db, &format!("smtp://127.0.0.1:{port}"), settings.clone());
        worker.deliver_batch().await.unwrap();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let report = worker.deliver_batch().await.unwrap();
        assert_eq!(report.dead, 1);
        let page = outbox::page(db, Some(MailStatus::Dead), None, 50)
            .await
            .unwrap();
        assert_eq!(page.entries.len(), 1);
        let dead = &page.entries[0];
        assert_eq!(dead.attempts, 2);
        assert!(dead.last_error.as_deref().is_some_and(|e| !e.is_empty()));
        assert_eq!(outbox::counts(db).await.unwrap().dead, 1);
        assert!(matches!(
            outbox::retry_dead(db, admin, dead.id + 1000, Utc::now()).await,
            Err(tsudoi::Error::NotFound)
        ));

        let smtp = MailServer::start_on(port);
        outbox::retry_dead(db, admin, dead.id, Utc::now())
            .await
            .unwrap();
        assert_eq!(
            scalar(
                db,
                "SELECT COUNT(*) FROM audit_log WHERE action = 'mail_retried'"
            )
            .await,
            1
        );
        assert!(matches!(
            outbox::retry_dead(db, admin, dead.id, Utc::now()).await,
            Err(tsudoi::Error::Conflict(_))
        ));
        deliver_all(db, &worker, Duration::from_secs(30)).await;
        assert_eq!(smtp.count(), 1);
        let counts = outbox::counts(db).await.unwrap();
        assert_eq!((counts.sent, counts.dead), (1, 0));
    }
}

#[tokio::test]
async fn two_instances_on_postgresql_send_each_reminder_once() {
    let Some(server_url) = test_support::postgres_url() else {
        panic!("TSUDOI_TEST_DATABASE_URL must name a PostgreSQL server for this test");
    };
    let t = test_support::postgres(&server_url).await;
    let first = &t.db;
    let url = match first.pool() {
        Pool::Postgres(pool) => pool.connect_options().as_ref().clone(),
        Pool::Sqlite(_) => unreachable!(),
    };
    // A second instance: its own pool on the same database.
    let second = Database::open(
        &DatabaseUrl::Postgres(Box::new(url)),
        &PoolSettings::default(),
    )
    .await
    .unwrap();
    let mut people = Vec::new();
    for n in 0..20 {
        people.push(
            person(
                first,
                &format!("p{n}@example.co.jp"),
                &format!("P{n}"),
                Lang::En,
            )
            .await,
        );
    }
    for n in 0..10 {
        event_with(first, &format!("Event {n}"), &people).await;
    }
    common::execute(first, "DELETE FROM mail_outbox")
        .await
        .unwrap();

    let now = tokyo(2026, 12, 9, 9, 0);
    let (one, two) = tokio::join!(
        reminders::run_for(first, Tokyo, batch_day(), now),
        reminders::run_for(&second, Tokyo, batch_day(), now),
    );
    let mut runs = [one.unwrap(), two.unwrap()];
    runs.sort();
    assert_eq!(runs, [None, Some(200)], "one instance ran the batch");
    due_now(first).await;

    let smtp = MailServer::start();
    let a = deliverer(
        first,
        &smtp.url(),
        DeliverySettings {
            batch_size: 7,
            ..quick()
        },
    );
    let b = deliverer(
        &second,
        &smtp.url(),
        DeliverySettings {
            batch_size: 7,
            ..quick()
        },
    );
    let (stop_a, stop_b) = (tokio::sync::Notify::new(), tokio::sync::Notify::new());
    let watch = async {
        deliver_all_seen(first, 200).await;
        stop_a.notify_one();
        stop_b.notify_one();
    };
    tokio::join!(a.run(stop_a.notified()), b.run(stop_b.notified()), watch);
    smtp.wait_for(200, Duration::from_secs(10));
    let received = smtp.received();
    let mut per_id: HashMap<&str, usize> = HashMap::new();
    for mail in &received {
        *per_id.entry(mail.message_id.as_str()).or_default() += 1;
    }
    assert_eq!(received.len(), 200);
    assert_eq!(per_id.len(), 200, "each reminder once");
    second.close().await;
}

/// Waits until `count` mails are sent.
async fn deliver_all_seen(db: &Database, count: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while scalar(db, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'").await < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all sent in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn survey_mails_link_the_survey_and_are_dropped_once_pointless() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let eri = person(db, "eri@example.co.jp", "加藤 恵理", Lang::Ja).await;
    let (event_id, regs) = event_with(db, "研修", &[eri]).await;
    let survey_id = survey_of(db, eri, event_id).await;
    let compose_now = |kind| {
        let mail = claimed_with_survey(kind, "ja", event_id, regs[0], survey_id);
        async move {
            compose::compose(db, &site(), &mail, Utc::now())
                .await
                .unwrap()
        }
    };
    // The invitation links the survey; the reminder also offers the stop link.
    let Composition::Send(invitation) = compose_now(MailKind::SurveyInvitation).await else {
        panic!("the invitation is sent");
    };
    let link = format!("https://tsudoi.example.co.jp/tsudoi/surveys/{survey_id}");
    assert!(invitation.letter.text().unwrap().contains(&link));
    assert!(
        invitation.unsubscribe.is_none(),
        "an invitation is not a reminder"
    );
    let Composition::Send(reminder) = compose_now(MailKind::SurveyReminder).await else {
        panic!("the reminder is sent");
    };
    assert!(reminder.letter.text().unwrap().contains(&link));
    assert!(reminder.unsubscribe.is_some());
    // Closed: neither goes out any more.
    tsudoi::surveys::build::close_now(db, eri, event_id, Utc::now())
        .await
        .unwrap();
    for kind in [MailKind::SurveyInvitation, MailKind::SurveyReminder] {
        assert!(
            matches!(compose_now(kind).await, Composition::Obsolete(_)),
            "{kind:?} after closing"
        );
    }
}
