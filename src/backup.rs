//! Backups of the embedded database while Tsudoi serves, and restoring one.
//!
//! A backup is SQLite's `VACUUM INTO`: it copies the database as one read
//! transaction sees it, so it holds exactly what was committed when it
//! began, while registrations go on (the database is in WAL mode: readers
//! and the writer do not wait for each other). It is written under a
//! temporary name and renamed when complete and checked, so a file with the
//! backup's name is always a whole one.
//!
//! SQLite's integrity check finds damage to the file's structure but not a
//! changed byte inside a stored value (pages carry no checksum), so each
//! backup also gets `FILE.sha256` (the format `sha256sum -c` reads), and
//! checking or restoring a backup compares it when it is there.
//!
//! PostgreSQL has its own tools (`pg_dump`, see the README); this module
//! says so instead of copying it.

use std::path::{Path, PathBuf};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

use crate::storage::{Database, Pool};

/// What a backup file holds, as read back from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupContents {
    pub bytes: u64,
    pub events: i64,
    pub people: i64,
    pub registrations: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "the database is PostgreSQL: back it up with pg_dump and restore with pg_restore (see the README, \"Production\")"
    )]
    NotEmbedded,
    #[error("{0} already exists; choose a new file name, a backup never overwrites one")]
    AlreadyThere(PathBuf),
    #[error("{path} is not a Tsudoi database: {reason}")]
    NotABackup { path: PathBuf, reason: String },
    #[error("{path} is damaged: {report}")]
    Damaged { path: PathBuf, report: String },
    #[error("{path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the database: {0}")]
    Database(#[from] sqlx::Error),
}

/// Copies the embedded database to `to` while it is in use, then checks the
/// copy. `to` must not exist yet.
#[tracing::instrument(skip(db), fields(to = %to.display()))]
pub async fn back_up(db: &Database, to: &Path) -> Result<BackupContents, BackupError> {
    let Pool::Sqlite(pool) = db.pool() else {
        return Err(BackupError::NotEmbedded);
    };
    if to.exists() {
        return Err(BackupError::AlreadyThere(to.to_owned()));
    }
    let partial = partial_name(to);
    remove_if_there(&partial)?;
    let Some(partial_name) = partial.to_str() else {
        return Err(BackupError::File {
            path: to.to_owned(),
            source: std::io::Error::other("the file name is not UTF-8"),
        });
    };
    sqlx::query("VACUUM INTO $1")
        .bind(partial_name)
        .execute(pool)
        .await?;
    let contents = match check(&partial).await {
        Ok(contents) => contents,
        Err(error) => {
            remove_if_there(&partial)?;
            return Err(error);
        }
    };
    // The checksum first: a crash between the two leaves a checksum without
    // its file, never a backup that cannot be verified.
    let file_name = to.file_name().unwrap_or_default().to_string_lossy();
    let checksum = checksum_name(to);
    std::fs::write(
        &checksum,
        format!("{}  {file_name}\n", sha256_of(&partial)?),
    )
    .map_err(|source| BackupError::File {
        path: checksum.clone(),
        source,
    })?;
    std::fs::rename(&partial, to).map_err(|source| BackupError::File {
        path: to.to_owned(),
        source,
    })?;
    Ok(contents)
}

fn checksum_name(path: &Path) -> PathBuf {
    with_suffix(path, ".sha256")
}

fn sha256_of(path: &Path) -> Result<String, BackupError> {
    crate::file_checksum::sha256_hex(path).map_err(|source| BackupError::File {
        path: path.to_owned(),
        source,
    })
}

/// Compares the file with the checksum written beside it, when there is one.
fn compare_checksum(path: &Path) -> Result<(), BackupError> {
    let Ok(written) = std::fs::read_to_string(checksum_name(path)) else {
        return Ok(());
    };
    let expected = written.split_whitespace().next().unwrap_or_default();
    if sha256_of(path)? != expected.to_ascii_lowercase() {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            report: format!(
                "its SHA-256 differs from {}, written with the backup",
                checksum_name(path).display()
            ),
        });
    }
    Ok(())
}

/// Compares a backup with its checksum file (when there is one), opens it
/// read-only, runs SQLite's full integrity check and counts what it holds.
pub async fn check(path: &Path) -> Result<BackupContents, BackupError> {
    let bytes = std::fs::metadata(path)
        .map_err(|source| BackupError::File {
            path: path.to_owned(),
            source,
        })?
        .len();
    compare_checksum(path)?;
    let not_a_backup = |error: sqlx::Error| BackupError::NotABackup {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    let mut conn: SqliteConnection = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .connect()
        .await
        .map_err(not_a_backup)?;
    let report: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(not_a_backup)?;
    if report != ["ok"] {
        return Err(BackupError::Damaged {
            path: path.to_owned(),
            report: report.join("; "),
        });
    }
    let counts: (i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM users),
                (SELECT COUNT(*) FROM registrations)",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(not_a_backup)?;
    Ok(BackupContents {
        bytes,
        events: counts.0,
        people: counts.1,
        registrations: counts.2,
    })
}

/// Puts the backup `from` in place of the embedded database file `database`,
/// after checking it. Tsudoi must not be running on that file: its open
/// connections would go on writing to the file that was replaced. The
/// replaced database is kept beside it as `<name>.before-restore`.
pub async fn restore(from: &Path, database: &Path) -> Result<BackupContents, BackupError> {
    let contents = check(from).await?;
    let file_error = |path: &Path| {
        let path = path.to_owned();
        move |source| BackupError::File { path, source }
    };
    let incoming = partial_name(database);
    std::fs::copy(from, &incoming).map_err(file_error(&incoming))?;
    std::fs::File::open(&incoming)
        .and_then(|file| file.sync_all())
        .map_err(file_error(&incoming))?;
    if database.exists() {
        let kept = with_suffix(database, ".before-restore");
        std::fs::rename(database, &kept).map_err(file_error(&kept))?;
    }
    // The write-ahead log and its index belong to the replaced file; left
    // in place, SQLite would replay them into the restored one.
    for suffix in ["-wal", "-shm"] {
        remove_if_there(&with_suffix(database, suffix))?;
    }
    std::fs::rename(&incoming, database).map_err(file_error(database))?;
    Ok(contents)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn partial_name(path: &Path) -> PathBuf {
    with_suffix(path, ".partial")
}

fn remove_if_there(path: &Path) -> Result<(), BackupError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(BackupError::File {
            path: path.to_owned(),
            source,
        }),
    }
}
