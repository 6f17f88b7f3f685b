//! Mail through the real binary: `tsudoi serve` delivers the
//! outbox to a real SMTP server; killed with SIGKILL in the middle of it and
//! started again, it loses no mail, and a mail sent twice (accepted by the
//! server just before the kill) carries the same Message-ID both times.
//! Without SMTP, mail lands in the configured folder.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use support::RunningServer;
use tsudoi::events::{self, NewEvent};
use tsudoi::mail::test_support::MailServer;
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::storage::{Database, Pool, test_support};
use tsudoi::users::{self, NewUser};

const MAILS: usize = 240;

async fn count(db: &Database, sql: &str) -> i64 {
    match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
    }
}

async fn message_ids(db: &Database) -> HashSet<String> {
    let sql = "SELECT message_id FROM mail_outbox WHERE message_id IS NOT NULL";
    let ids: Vec<String> = match db.pool() {
        Pool::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
        Pool::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await.unwrap(),
    };
    ids.into_iter().collect()
}

/// `MAILS` people register for one event: as many confirmations queued.
async fn queue_confirmations(db: &Database) {
    let event = events::create(
        db,
        &NewEvent {
            title_ja: Some("全社説明会".into()),
            title_en: Some("All-hands".into()),
            description_ja: String::new(),
            description_en: String::new(),
            category: Category::Townhall,
            place: "Hall".into(),
            starts_at: Utc::now() + chrono::Duration::days(7),
            ends_at: Utc::now() + chrono::Duration::days(7) + chrono::Duration::hours(1),
            capacity: MAILS as i32,
            status: EventStatus::Published,
            organizer_id: None,
        },
    )
    .await
    .unwrap();
    for n in 0..MAILS {
        let person = users::upsert(
            db,
            &NewUser {
                email: format!("p{n}@example.co.jp"),
                display_name: format!("Person {n}"),
                department: None,
                role: Role::Employee,
                lang: if n % 2 == 0 { Lang::Ja } else { Lang::En },
            },
            None,
        )
        .await
        .unwrap();
        tsudoi::registrations::register(db, event, person, Utc::now())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn killed_during_delivery_and_restarted_loses_no_mail() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend();
        queue_confirmations(db).await;
        let smtp = MailServer::start();
        let dir = tempfile::tempdir().unwrap();
        let settings = [
            ("TSUDOI_SMTP_URL", smtp.url()),
            // Slow enough to be caught in the middle: 20 mails a second.
            ("TSUDOI_MAIL_PER_MINUTE", "1200".to_string()),
            ("TSUDOI_MAIL_CONNECTIONS", "4".to_string()),
            ("TSUDOI_MAIL_BATCH_SIZE", "20".to_string()),
            // Claims of the killed process lapse after twice this.
            ("TSUDOI_MAIL_SEND_TIMEOUT_SECONDS", "2".to_string()),
        ];
        let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();

        let first = RunningServer::start_with(dir.path(), &t.url(), &settings);
        smtp.wait_for(MAILS / 4, Duration::from_secs(60));
        drop(first); // SIGKILL
        let at_kill = smtp.count();
        assert!(at_kill < MAILS, "{backend:?}: killed before the end");
        let open = count(
            db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'",
        )
        .await;
        assert!(open > 0, "{backend:?}: mail left to send");

        let second = RunningServer::start_with(dir.path(), &t.url(), &settings);
        let deadline = Instant::now() + Duration::from_secs(90);
        while count(db, "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'").await
            < MAILS as i64
        {
            assert!(
                Instant::now() < deadline,
                "{backend:?}: not all mail sent after the restart"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        drop(second);

        let received = smtp.received();
        let mut copies: HashMap<&str, usize> = HashMap::new();
        for mail in &received {
            *copies.entry(mail.message_id.as_str()).or_default() += 1;
        }
        let stored = message_ids(db).await;
        assert_eq!(stored.len(), MAILS, "{backend:?}: one Message-ID per mail");
        assert_eq!(
            copies
                .keys()
                .map(|id| id.to_string())
                .collect::<HashSet<_>>(),
            stored,
            "{backend:?}: every mail arrived"
        );
        // Only mails in flight at the kill can arrive twice, as the same message.
        let twice = received.len() - MAILS;
        assert!(twice <= 4, "{backend:?}: {twice} duplicates");
        println!(
            "{}: killed after {at_kill} of {MAILS}; {twice} sent twice (same Message-ID)",
            backend.name()
        );
    }
}

#[tokio::test]
async fn without_smtp_mail_is_written_to_the_folder() {
    let t = test_support::sqlite().await;
    queue_confirmations(&t.db).await;
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("outgoing mail");
    let server = RunningServer::start_with(
        dir.path(),
        &t.url(),
        &[
            ("TSUDOI_MAIL_FOLDER", folder.to_str().unwrap()),
            ("TSUDOI_MAIL_PER_MINUTE", "100000"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let files = || std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
    while files() < MAILS {
        assert!(Instant::now() < deadline, "{} of {MAILS} files", files());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The file is written before its row is marked sent: give the last
    // marks their moment before the server goes, or the count below races.
    let sent = "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'";
    while count(&t.db, sent).await < MAILS as i64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(server);
    let one = std::fs::read_dir(&folder)
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .expect("an .eml file");
    let text = std::fs::read_to_string(one.path()).unwrap();
    assert!(text.contains("Message-ID: <tsudoi."), "{text}");
    assert_eq!(
        count(
            &t.db,
            "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'"
        )
        .await,
        MAILS as i64
    );
}
