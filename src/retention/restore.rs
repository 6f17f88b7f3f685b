//! Bringing an archived event's personal rows back (a legal request, an
//! audit): its registrations and survey respondents are inserted again as
//! the archive holds them, its survey answers get their authors back, and
//! the kept figures are dropped so the dashboard counts the rows again. One
//! transaction: the event is either archived or whole.

use std::path::Path;

use serde_json::{Map, Value};

use super::archive_files::{self, ArchiveError};
use super::job::columns_of;
use crate::storage::{Backend, Database, on_tx};

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("event {0} is not in this archive")]
    NotInArchive(i64),
    #[error("event {event} is not archived in {archive} (its rows are {state})")]
    NotArchivedHere {
        event: i64,
        archive: String,
        state: String,
    },
    #[error("the database refused: {0}")]
    Database(#[from] crate::Error),
}

impl From<sqlx::Error> for RestoreError {
    fn from(err: sqlx::Error) -> Self {
        RestoreError::Database(err.into())
    }
}

/// What a restore put back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Restored {
    pub registrations: u64,
    pub survey_respondents: u64,
    pub survey_answers: u64,
}

fn integer(row: &Map<String, Value>, column: &str) -> Option<i64> {
    row.get(column).and_then(Value::as_i64)
}

/// Restores `event_id` from the archive in `folder`, after checking the
/// archive against its manifest and that the event was archived there.
pub async fn restore_event(
    db: &Database,
    folder: &Path,
    event_id: i64,
) -> Result<Restored, RestoreError> {
    let manifest = archive_files::verify(folder)?;
    let run = manifest.run;
    let Some(expected) = manifest
        .events
        .iter()
        .find(|e| e.event_id == event_id)
        .map(|e| e.rows)
    else {
        return Err(RestoreError::NotInArchive(event_id));
    };
    let archived_in: Option<Option<String>> = crate::storage::on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT history_archive FROM events WHERE id = $1")
            .bind(event_id)
            .fetch_optional(pool)
            .await?
    });
    match archived_in {
        Some(Some(name)) if name == run => {}
        other => {
            return Err(RestoreError::NotArchivedHere {
                event: event_id,
                archive: run,
                state: match other {
                    None => "gone: no such event".into(),
                    Some(None) => "still in place".into(),
                    Some(Some(name)) => format!("archived in {name}"),
                },
            });
        }
    }

    let registrations = archive_files::read_table(folder, "registrations", |r| {
        integer(r, "event_id") == Some(event_id)
    })?;
    let survey_id: Option<i64> = crate::storage::on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM surveys WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(pool)
            .await?
    });
    let of_survey =
        |row: &Map<String, Value>| survey_id.is_some() && integer(row, "survey_id") == survey_id;
    let respondents = archive_files::read_table(folder, "survey_respondents", of_survey)?;
    let answers = archive_files::read_table(folder, "survey_responses", of_survey)?;
    if registrations.len() as i64 != expected.registrations
        || respondents.len() as i64 != expected.survey_respondents
        || answers.len() as i64 != expected.survey_responses
    {
        return Err(ArchiveError::Invalid {
            path: folder.to_path_buf(),
            problem: format!("the rows of event {event_id} differ from the manifest's counts"),
        }
        .into());
    }

    let backend = db.backend();
    let insert_registration = insert_sql(
        backend,
        "registrations",
        &columns_of(db, "registrations").await?,
    );
    let insert_respondent = insert_sql(
        backend,
        "survey_respondents",
        &columns_of(db, "survey_respondents").await?,
    );
    let mut uow = db.begin_write().await?;
    let restored = on_tx!(&mut uow, |conn| {
        let mut restored = Restored {
            registrations: 0,
            survey_respondents: 0,
            survey_answers: 0,
        };
        for row in &registrations {
            restored.registrations += sqlx::query(&insert_registration)
                .bind(Value::Object(row.clone()).to_string())
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        for row in &respondents {
            restored.survey_respondents += sqlx::query(&insert_respondent)
                .bind(Value::Object(row.clone()).to_string())
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
        for row in &answers {
            restored.survey_answers += sqlx::query(
                "UPDATE survey_responses SET user_id = $2 WHERE id = $1 AND user_id IS NULL",
            )
            .bind(integer(row, "id"))
            .bind(integer(row, "user_id"))
            .execute(&mut *conn)
            .await?
            .rows_affected();
        }
        sqlx::query("DELETE FROM archived_department_figures WHERE event_id = $1")
            .bind(event_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM archived_event_figures WHERE event_id = $1")
            .bind(event_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "UPDATE events SET history_archived_at = NULL, history_archive = NULL,
                    version = version + 1
              WHERE id = $1",
        )
        .bind(event_id)
        .execute(&mut *conn)
        .await?;
        restored
    });
    if restored.survey_answers != answers.len() as u64 {
        // An answer was removed or relinked since: leave everything as it was.
        return Err(ArchiveError::Invalid {
            path: folder.to_path_buf(),
            problem: format!("the survey answers of event {event_id} are no longer those archived"),
        }
        .into());
    }
    uow.commit().await?;
    Ok(restored)
}

/// Inserts one row given as a JSON object (`$1`), every column as archived.
fn insert_sql(backend: Backend, table: &str, columns: &[String]) -> String {
    match backend {
        // The ids were the database's own; they come back as they were.
        Backend::Postgres => format!(
            "INSERT INTO {table} OVERRIDING SYSTEM VALUE
             SELECT * FROM json_populate_record(NULL::{table}, CAST($1 AS JSON))"
        ),
        Backend::Sqlite => {
            let names: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
            let values: Vec<String> = columns
                .iter()
                .map(|c| format!("json_extract($1, '$.\"{c}\"')"))
                .collect();
            format!(
                "INSERT INTO {table} ({}) SELECT {}",
                names.join(", "),
                values.join(", ")
            )
        }
    }
}
