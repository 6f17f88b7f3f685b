//! Backups of the embedded database taken while registrations go on, and a
//! restore that brings the backup's state back.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use tsudoi::backup::{self, BackupError};
use tsudoi::registrations;
use tsudoi::storage::test_support;
use tsudoi::storage::{Database, DatabaseUrl, PoolSettings};

async fn registration_ids(db: &Database) -> BTreeSet<i64> {
    common::pairs(db, "SELECT id, status FROM registrations")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// The registrations in a backup file, read without changing it.
async fn ids_in_file(path: &std::path::Path) -> BTreeSet<i64> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM registrations")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    ids.into_iter().collect()
}

#[tokio::test]
async fn a_backup_taken_during_registrations_holds_everything_confirmed_before_it() {
    let t = test_support::sqlite().await;
    let db = Arc::new(t.db.clone());
    let folder = tempfile::tempdir().unwrap();
    let event_id = common::open_event(&db, 2_000).await;
    let people = common::employees(&db, "backup-rush", 1_200).await;

    // Four writers register people one after another until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (n, chunk) in people.chunks(300).enumerate() {
        let (db, stop, chunk) = (db.clone(), stop.clone(), chunk.to_vec());
        writers.push(tokio::spawn(async move {
            let mut done = 0;
            for person in chunk {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                registrations::register(&db, event_id, person, Utc::now())
                    .await
                    .unwrap_or_else(|e| panic!("writer {n}: {e:?}"));
                done += 1;
            }
            done
        }));
    }
    // Wait until registrations are well under way.
    while registration_ids(&db).await.len() < 200 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let confirmed_before = registration_ids(&db).await;
    let file = folder.path().join("tsudoi-backup.db");
    let contents = backup::back_up(&db, &file).await.unwrap();
    let after_backup = registration_ids(&db).await;
    // Nothing half-written is left beside it; only its checksum.
    let mut names: Vec<String> = std::fs::read_dir(folder.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["tsudoi-backup.db", "tsudoi-backup.db.sha256"]);
    stop.store(true, Ordering::SeqCst);
    let mut registered = 0;
    for writer in writers {
        registered += writer.await.unwrap();
    }

    // The load went on during the backup: rows came after it started.
    assert!(
        after_backup.len() > confirmed_before.len(),
        "{} before, {} after",
        confirmed_before.len(),
        after_backup.len()
    );
    assert!(registered > confirmed_before.len());
    let in_backup = ids_in_file(&file).await;
    assert!(
        in_backup.is_superset(&confirmed_before),
        "every registration confirmed before the backup began is in it"
    );
    assert!(in_backup.is_subset(&after_backup));
    assert_eq!(contents.registrations as usize, in_backup.len());
    assert_eq!(contents.people, 1_200);
    // It opens and passes SQLite's integrity check (again, from the file).
    assert_eq!(backup::check(&file).await.unwrap(), contents);

    // A backup never overwrites a file.
    assert!(matches!(
        backup::back_up(&db, &file).await,
        Err(BackupError::AlreadyThere(_))
    ));
}

#[tokio::test]
async fn a_restore_brings_back_the_backup_and_keeps_the_replaced_file() {
    let folder = tempfile::tempdir().unwrap();
    let live = folder.path().join("tsudoi.db");
    let open = || async {
        let db = Database::open(&DatabaseUrl::Sqlite(live.clone()), &PoolSettings::default())
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    };
    let db = open().await;
    let event_id = common::open_event(&db, 100).await;
    let people = common::employees(&db, "restore", 30).await;
    for &person in &people[..20] {
        registrations::register(&db, event_id, person, Utc::now())
            .await
            .unwrap();
    }
    let saved = registration_ids(&db).await;
    let file = folder.path().join("before-the-mistake.db");
    backup::back_up(&db, &file).await.unwrap();
    for &person in &people[20..] {
        registrations::register(&db, event_id, person, Utc::now())
            .await
            .unwrap();
    }
    assert_eq!(registration_ids(&db).await.len(), 30);
    db.close().await;

    let restored = backup::restore(&file, &live).await.unwrap();
    assert_eq!(restored.registrations, 20);
    let db = open().await;
    assert_eq!(registration_ids(&db).await, saved);
    let statuses = common::pairs(
        &db,
        "SELECT seats_taken, status FROM events WHERE id = (SELECT MIN(id) FROM events)",
    )
    .await;
    assert_eq!(statuses[0].0, 20, "the seat count came back with the rows");
    db.close().await;
    assert!(folder.path().join("tsudoi.db.before-restore").exists());

    // A file that is not a database is refused and changes nothing.
    let junk = folder.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    assert!(backup::restore(&junk, &live).await.is_err());
    let db = open().await;
    assert_eq!(registration_ids(&db).await, saved);
    db.close().await;
}

#[tokio::test]
async fn postgresql_is_backed_up_with_its_own_tools() {
    let Some(url) = test_support::postgres_url() else {
        return;
    };
    let t = test_support::postgres(&url).await;
    let folder = tempfile::tempdir().unwrap();
    let result = backup::back_up(&t.db, &folder.path().join("x.db")).await;
    assert!(matches!(result, Err(BackupError::NotEmbedded)));
    assert!(result.unwrap_err().to_string().contains("pg_dump"));
}
