//! The audit log on every backend: paging, the newest entry of a
//! kind, and what an import leaves behind.

mod common;

use std::collections::HashSet;

use common::execute;
use serde_json::json;
use tsudoi::audit::{self, AuditAction, AuditCursor, AuditEntry};
use tsudoi::model::{Lang, Role};
use tsudoi::storage::{Database, test_support};
use tsudoi::users::{self, NewUser};

async fn someone(db: &Database, email: &str, name: &str) -> i64 {
    let user = NewUser {
        email: email.into(),
        display_name: name.into(),
        department: None,
        role: Role::Admin,
        lang: Lang::Ja,
    };
    users::upsert(db, &user, None).await.unwrap()
}

/// Every page from the newest on, each next one found through the cursor's
/// text form, as a browser would send it back.
async fn all_pages(db: &Database, page_size: u32) -> Vec<Vec<AuditEntry>> {
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let page = audit::page(db, before, page_size).await.unwrap();
        pages.push(page.items);
        match page.next {
            Some(next) => {
                let text = next.encode();
                assert_eq!(AuditCursor::decode(&text), Some(next));
                before = Some(next);
            }
            None => return pages,
        }
    }
}

#[tokio::test]
async fn audit_pages_run_newest_first_without_gaps_or_repeats() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = someone(db, "kanri@example.co.jp", "管理 者").await;
        for n in 0..45 {
            let actor = (n % 3 == 0).then_some(admin);
            audit::record(
                db,
                actor,
                AuditAction::EventEdited,
                &format!("event {n}"),
                json!({ "n": n }),
            )
            .await
            .unwrap();
        }
        let pages = all_pages(db, 20).await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [20, 20, 5], "{backend}");
        let entries: Vec<&AuditEntry> = pages.iter().flatten().collect();
        let targets: Vec<String> = entries.iter().map(|e| e.target.clone()).collect();
        let expected: Vec<String> = (0..45).rev().map(|n| format!("event {n}")).collect();
        assert_eq!(targets, expected, "{backend}: newest first, each once");
        assert!(
            entries
                .windows(2)
                .all(|w| (w[0].at, w[0].id) > (w[1].at, w[1].id)),
            "{backend}"
        );
        let newest = entries[0];
        assert_eq!(newest.detail_value(), json!({ "n": 44 }), "{backend}");
        assert_eq!(newest.actor_id, None, "{backend}");
        let by_admin = entries.iter().find(|e| e.actor_id == Some(admin)).unwrap();
        assert_eq!(by_admin.actor_name.as_deref(), Some("管理 者"), "{backend}");

        // Page sizes are clamped, never zero and never unbounded.
        assert_eq!(
            audit::page(db, None, 0).await.unwrap().items.len(),
            1,
            "{backend}"
        );
        assert_eq!(
            audit::page(db, None, 10_000).await.unwrap().items.len(),
            45,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn entries_written_at_the_same_instant_are_paged_by_id() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        // Same timestamp for all, in the text form sqlx writes on SQLite.
        for n in 0..10 {
            execute(
                db,
                &format!(
                    "INSERT INTO audit_log (action, target, detail, at)
                     VALUES ('checked_in', 'r{n}', '{{}}', '2026-12-01T03:00:00+00:00')"
                ),
            )
            .await
            .unwrap();
        }
        let pages = all_pages(db, 3).await;
        let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(sizes, [3, 3, 3, 1], "{backend}");
        let ids: Vec<i64> = pages.iter().flatten().map(|e| e.id).collect();
        assert_eq!(
            ids.iter().collect::<HashSet<_>>().len(),
            10,
            "{backend}: {ids:?}"
        );
        assert!(ids.is_sorted_by(|a, b| a > b), "{backend}: {ids:?}");
    }
}

#[test]
fn a_garbage_cursor_is_no_cursor_at_all() {
    // Callers answer a None with Error::Invalid ("This page link is broken."),
    // like the event list, instead of silently showing the first page.
    for garbage in ["", "x", "1_", "_1", "1.5_2", "abc_def", "1_2_3"] {
        assert_eq!(AuditCursor::decode(garbage), None, "{garbage}");
    }
}

#[tokio::test]
async fn latest_finds_the_newest_entry_of_a_kind_by_anyone_or_by_one_actor() {
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let a = someone(db, "a@example.co.jp", "A").await;
        let b = someone(db, "b@example.co.jp", "B").await;
        assert_eq!(
            audit::latest(db, AuditAction::LoggedOut, None).await,
            Ok(None),
            "{backend}"
        );
        for (actor, target) in [(a, "first"), (b, "second"), (a, "third"), (b, "fourth")] {
            audit::record(db, Some(actor), AuditAction::LoggedOut, target, json!({}))
                .await
                .unwrap();
        }
        audit::record(db, Some(a), AuditAction::LoggedIn, "other kind", json!({}))
            .await
            .unwrap();
        let target = |entry: Option<AuditEntry>| entry.map(|e| e.target);
        let by_a = audit::latest(db, AuditAction::LoggedOut, Some(a))
            .await
            .unwrap();
        assert_eq!(target(by_a), Some("third".into()), "{backend}");
        let by_anyone = audit::latest(db, AuditAction::LoggedOut, None)
            .await
            .unwrap();
        assert_eq!(target(by_anyone), Some("fourth".into()), "{backend}");
    }
}

#[tokio::test]
async fn an_import_leaves_its_whole_report_in_the_audit_log() {
    let file = "email,name,role\n\
        ok@example.co.jp,Okay,\n\
        broken,Nobody,\n\
        boss@example.co.jp,Boss,boss\n";
    for t in test_support::backends().await {
        let db = &t.db;
        let backend = db.backend().name();
        let admin = someone(db, "kanri@example.co.jp", "Admin").await;
        assert_eq!(
            users::import::last_report(db, Some(admin)).await,
            Ok(None),
            "{backend}"
        );

        let report = users::import::import_csv_as(db, Some(admin), file.as_bytes())
            .await
            .unwrap();
        assert_eq!((report.created, report.rejected.len()), (1, 2), "{backend}");

        let entry = audit::latest(db, AuditAction::UsersImported, Some(admin))
            .await
            .unwrap()
            .unwrap();
        let rejected = &entry.detail_value()["rejected"];
        assert_eq!(rejected[0]["line"], 3, "{backend}: {rejected}");
        assert!(
            rejected[1]["reason"]
                .as_str()
                .unwrap()
                .contains("unknown role “boss”"),
            "{backend}: {rejected}"
        );
        let shown = users::import::last_report(db, Some(admin)).await.unwrap();
        assert_eq!(shown, Some(report), "{backend}");
        // From the command line there is no actor, and still an entry.
        users::import::import_csv_as(db, None, file.as_bytes())
            .await
            .unwrap();
        let from_cli = audit::latest(db, AuditAction::UsersImported, None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (from_cli.actor_id, from_cli.actor_name),
            (None, None),
            "{backend}"
        );
        assert!(from_cli.id > entry.id, "{backend}");
    }
}
