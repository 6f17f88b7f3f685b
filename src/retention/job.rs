//! The retention run: archive, then remove.
//!
//! 1. **Claim** the company-local day in `retention_runs`: of several
//!    instances (or a restart), one runs it. A run that fails deletes its
//!    claim, so the next attempt, the same day, goes again.
//! 2. **Archive** every event due (see [`super::due_events_sql`]), with its
//!    registrations, survey respondents and answers and the people they
//!    name, and the mail and audit entries past their own limits, into a new
//!    archive folder, complete and flushed to disk ([`super::archive_files`]).
//!    Until this step is done, nothing is removed: a folder that cannot be
//!    written stops the run here.
//! 3. **Remove**, one transaction per event: if the event's rows are still
//!    those archived, keep its figures (the dashboard's numbers, and per
//!    department seats and check-ins for the overviews), delete its
//!    registrations and respondents, unlink its survey answers from their
//!    authors (the answers stay, as in an anonymous survey, because the
//!    results are computed from them), and mark the event archived with the
//!    archive's name. Then the old mail and audit entries, each in one
//!    transaction. A failure leaves the events not yet done as they were;
//!    the next run archives them again.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use futures_util::TryStreamExt;

use super::archive_files::{
    ArchiveError, ArchiveWriter, ArchivedEvent, EventRows, FORMAT, Manifest,
};
use super::{cutoff, due_events_sql};
use crate::storage::{Backend, Database, on_pool, on_tx};

/// What the configuration says about keeping history.
#[derive(Debug, Clone)]
pub struct RetentionSettings {
    /// Months after an event's end until its personal rows are archived.
    pub months: u32,
    /// Days sent and failed mail stays in the outbox.
    pub mail_keep_days: u32,
    /// Months audit entries stay in the audit log.
    pub audit_keep_months: u32,
    /// Where each run's archive folder goes.
    pub archive_folder: PathBuf,
    /// The company's zone: the day a run belongs to, the dashboard's days.
    pub time_zone: Tz,
    /// Days after an account's deactivation until its person is anonymized.
    pub anonymize_after_days: u32,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// The archive written; `None` when there was nothing to archive.
    pub archive: Option<PathBuf>,
    pub events: u64,
    pub registrations: u64,
    pub survey_answers: u64,
    pub mail: u64,
    pub audit_entries: u64,
    /// People who left, anonymized by this run.
    pub people_anonymized: u64,
    /// Events archived but left in place because their rows changed
    /// meanwhile; the next run takes them again.
    pub left_for_next_run: Vec<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("writing the archive failed, nothing was removed: {0}")]
    Archive(#[from] ArchiveError),
    #[error("the database refused: {0}")]
    Database(#[from] crate::Error),
}

impl From<sqlx::Error> for RetentionError {
    fn from(err: sqlx::Error) -> Self {
        RetentionError::Database(err.into())
    }
}

/// When the run for a day is due: once a day, the first time the scheduler
/// looks after midnight in the company's zone (or at start, after downtime).
pub async fn run_for(
    db: &Database,
    settings: &RetentionSettings,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Option<RunReport>, RetentionError> {
    claim_and_run(db, settings, &day.to_string(), now).await
}

/// A run asked for on the command line: recorded beside the daily ones
/// (under the day and the time), whether or not today's already ran.
pub async fn run_now(
    db: &Database,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<RunReport, RetentionError> {
    let local = now.with_timezone(&settings.time_zone);
    let key = format!(
        "{} command line {}",
        local.date_naive(),
        local.format("%H:%M:%S%.3f")
    );
    claim_and_run(db, settings, &key, now)
        .await?
        .ok_or(RetentionError::Database(crate::Error::Unavailable))
}

async fn claim_and_run(
    db: &Database,
    settings: &RetentionSettings,
    day: &str,
    now: DateTime<Utc>,
) -> Result<Option<RunReport>, RetentionError> {
    let claimed = on_pool!(db, |pool| sqlx::query(
        "INSERT INTO retention_runs (run_for, started_at) VALUES ($1, $2)
         ON CONFLICT (run_for) DO NOTHING"
    )
    .bind(day)
    .bind(now)
    .execute(pool)
    .await?
    .rows_affected())
        == 1;
    if !claimed {
        return Ok(None);
    }
    match run(db, settings, now).await {
        Ok(report) => {
            on_pool!(db, |pool| sqlx::query(
                "UPDATE retention_runs SET finished_at = $2, archive = $3, events = $4,
                        registrations = $5, survey_answers = $6, mail = $7, audit_entries = $8,
                        people_anonymized = $9
                  WHERE run_for = $1"
            )
            .bind(day)
            .bind(Utc::now())
            .bind(report.archive.as_deref().map(archive_name))
            .bind(report.events as i64)
            .bind(report.registrations as i64)
            .bind(report.survey_answers as i64)
            .bind(report.mail as i64)
            .bind(report.audit_entries as i64)
            .bind(report.people_anonymized as i64)
            .execute(pool)
            .await
            .map(|_| ())?);
            Ok(Some(report))
        }
        Err(err) => {
            let release = on_pool!(db, |pool| sqlx::query(
                "DELETE FROM retention_runs WHERE run_for = $1 AND finished_at IS NULL"
            )
            .bind(day)
            .execute(pool)
            .await
            .map(|_| ()));
            if let Err(release) = release {
                tracing::warn!(error = %release, %day, "could not release the day's retention run");
            }
            Err(err)
        }
    }
}

fn archive_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

struct Cutoffs {
    events: DateTime<Utc>,
    mail: DateTime<Utc>,
    audit: DateTime<Utc>,
}

/// Archives and removes what is due at `now`, whatever day it is: the
/// caller (`run_for`, or the command line) decides when.
#[tracing::instrument(name = "retention.run", skip_all)]
pub async fn run(
    db: &Database,
    settings: &RetentionSettings,
    now: DateTime<Utc>,
) -> Result<RunReport, RetentionError> {
    let cutoffs = Cutoffs {
        events: cutoff(now, settings.months),
        mail: now - Duration::days(i64::from(settings.mail_keep_days)),
        audit: cutoff(now, settings.audit_keep_months),
    };
    let events: Vec<i64> = on_pool!(db, |pool| sqlx::query_scalar(due_events_sql())
        .bind(cutoffs.events)
        .bind(now)
        .fetch_all(pool)
        .await?);
    // Rows are taken up to the newest at the start, so what the removal
    // deletes is exactly what was archived.
    let (mail_due, mail_upto): (i64, Option<i64>) = on_pool!(db, |pool| sqlx::query_as(
        "SELECT COUNT(*), MAX(id) FROM mail_outbox
          WHERE status IN ('sent', 'dead') AND created_at < $1"
    )
    .bind(cutoffs.mail)
    .fetch_one(pool)
    .await?);
    let audit_due: i64 = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE at < $1"
    )
    .bind(cutoffs.audit)
    .fetch_one(pool)
    .await?);
    // People who left are not archived: their rows stay, without them.
    let people_anonymized =
        crate::users::anonymize::anonymize_leavers(db, settings.anonymize_after_days, now).await?;
    if events.is_empty() && mail_due == 0 && audit_due == 0 {
        return Ok(RunReport {
            people_anonymized,
            ..RunReport::default()
        });
    }

    let run = format!("retention-{}", now.format("%Y%m%dT%H%M%S%.3fZ"));
    let mut writer = ArchiveWriter::create(&settings.archive_folder, &run)?;
    let archived = match write_archive(db, &mut writer, &events, &cutoffs, mail_upto).await {
        Ok(archived) => archived,
        Err(err) => {
            writer.abandon();
            return Err(err);
        }
    };
    let manifest = Manifest {
        format: FORMAT.to_string(),
        run: run.clone(),
        created_at: now,
        backend: db.backend().name().to_string(),
        events_ended_before: cutoffs.events,
        mail_created_before: cutoffs.mail,
        audit_before: cutoffs.audit,
        files: Vec::new(),
        events: archived.events.clone(),
    };
    let folder = writer.finish(manifest)?;
    tracing::info!(archive = %folder.display(), events = archived.events.len(), "retention archive written");

    let mut report = RunReport {
        archive: Some(folder),
        people_anonymized,
        ..RunReport::default()
    };
    for event in &archived.events {
        if remove_event(db, settings.time_zone, event, &run, now).await? {
            report.events += 1;
            report.registrations += event.rows.registrations as u64;
            report.survey_answers += event.rows.survey_responses as u64;
        } else {
            report.left_for_next_run.push(event.event_id);
        }
    }
    if let Some(upto) = mail_upto {
        report.mail = remove_rows(
            db,
            "DELETE FROM mail_outbox
              WHERE status IN ('sent', 'dead') AND created_at < $1 AND id <= $2",
            cutoffs.mail,
            Some(upto),
            archived.mail,
        )
        .await?;
    }
    report.audit_entries = remove_rows(
        db,
        "DELETE FROM audit_log WHERE at < $1",
        cutoffs.audit,
        None,
        archived.audit,
    )
    .await?;
    tracing::info!(
        events = report.events,
        registrations = report.registrations,
        mail = report.mail,
        audit = report.audit_entries,
        "retention run removed archived rows"
    );
    Ok(report)
}

struct Archived {
    events: Vec<ArchivedEvent>,
    mail: u64,
    audit: u64,
}

/// Each row of a table as one line of JSON: the backend spells the row.
fn rows_as_json(backend: Backend, table: &str, columns: &[String], filter: &str) -> String {
    match backend {
        Backend::Postgres => {
            format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t {filter}")
        }
        Backend::Sqlite => {
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| format!("'{c}', t.\"{c}\""))
                .collect();
            format!(
                "SELECT json_object({}) FROM {table} t {filter}",
                pairs.join(", ")
            )
        }
    }
}

/// A table's columns (SQLite spells each in `json_object`).
pub(super) async fn columns_of(db: &Database, table: &str) -> crate::Result<Vec<String>> {
    Ok(match db.backend() {
        Backend::Sqlite => on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT name FROM pragma_table_info($1) ORDER BY cid"
        )
        .bind(table)
        .fetch_all(pool)
        .await?),
        Backend::Postgres => on_pool!(db, |pool| sqlx::query_scalar(
            "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
        )
        .bind(table)
        .fetch_all(pool)
        .await?),
    })
}

async fn write_archive(
    db: &Database,
    writer: &mut ArchiveWriter,
    events: &[i64],
    cutoffs: &Cutoffs,
    mail_upto: Option<i64>,
) -> Result<Archived, RetentionError> {
    let backend = db.backend();
    let mut columns = std::collections::HashMap::new();
    for table in [
        "events",
        "registrations",
        "survey_respondents",
        "survey_responses",
        "mail_outbox",
        "audit_log",
    ] {
        columns.insert(table, columns_of(db, table).await?);
    }
    let statement =
        |table: &str, filter: &str| rows_as_json(backend, table, &columns[table], filter);
    let of_event = [
        ("events", statement("events", "WHERE t.id = $1")),
        (
            "registrations",
            statement("registrations", "WHERE t.event_id = $1"),
        ),
        (
            "survey_respondents",
            statement(
                "survey_respondents",
                "WHERE t.survey_id IN (SELECT id FROM surveys WHERE event_id = $1)",
            ),
        ),
        (
            "survey_responses",
            statement(
                "survey_responses",
                "WHERE t.survey_id IN (SELECT id FROM surveys WHERE event_id = $1) AND t.user_id IS NOT NULL",
            ),
        ),
    ];
    let mut people_written = HashSet::new();
    let mut archived = Vec::with_capacity(events.len());
    for &event_id in events {
        let rows = event_rows(db, event_id).await?;
        for (table, sql) in &of_event {
            let lines: Vec<String> = on_pool!(db, |pool| sqlx::query_scalar(sql.as_str())
                .bind(event_id)
                .fetch_all(pool)
                .await?);
            for line in &lines {
                writer.write_row(table, line)?;
            }
        }
        let people: Vec<(i64, String, String, Option<String>)> =
            on_pool!(db, |pool| sqlx::query_as(
                "SELECT u.id, u.email, u.display_name, d.name FROM users u
                   LEFT JOIN departments d ON d.id = u.department_id
                  WHERE u.id IN (SELECT user_id FROM registrations WHERE event_id = $1
                                 UNION SELECT checked_in_by FROM registrations WHERE event_id = $1
                                 UNION SELECT sr.user_id FROM survey_respondents sr
                                        JOIN surveys s ON s.id = sr.survey_id WHERE s.event_id = $1)
                  ORDER BY u.id"
            )
            .bind(event_id)
            .fetch_all(pool)
            .await?);
        for (id, email, name, department) in people {
            if people_written.insert(id) {
                let row = serde_json::json!({
                    "id": id, "email": email, "display_name": name, "department": department,
                });
                writer.write_row("people", &row.to_string())?;
            }
        }
        archived.push(ArchivedEvent { event_id, rows });
    }

    let mut mail = 0;
    if let Some(upto) = mail_upto {
        let sql = statement(
            "mail_outbox",
            "WHERE t.status IN ('sent', 'dead') AND t.created_at < $1 AND t.id <= $2",
        );
        mail = stream_rows(db, writer, "mail_outbox", &sql, cutoffs.mail, Some(upto)).await?;
    }
    let sql = statement("audit_log", "WHERE t.at < $1");
    let audit = stream_rows(db, writer, "audit_log", &sql, cutoffs.audit, None).await?;
    Ok(Archived {
        events: archived,
        mail,
        audit,
    })
}

/// Writes every row `sql` returns without holding them all in memory.
async fn stream_rows(
    db: &Database,
    writer: &mut ArchiveWriter,
    table: &str,
    sql: &str,
    before: DateTime<Utc>,
    upto: Option<i64>,
) -> Result<u64, RetentionError> {
    let mut written = 0;
    on_pool!(db, |pool| {
        let mut query = sqlx::query_scalar::<_, String>(sql).bind(before);
        if let Some(upto) = upto {
            query = query.bind(upto);
        }
        let mut rows = query.fetch(pool);
        while let Some(line) = rows.try_next().await? {
            writer.write_row(table, &line)?;
            written += 1;
        }
    });
    Ok(written)
}

/// Counts an event's personal rows, on the pool or in a transaction.
macro_rules! event_rows_sql {
    () => {
        "SELECT (SELECT COUNT(*) FROM registrations WHERE event_id = $1),
                (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM registrations WHERE event_id = $1),
                (SELECT COUNT(*) FROM survey_respondents sr JOIN surveys s ON s.id = sr.survey_id
                  WHERE s.event_id = $1),
                (SELECT COUNT(*) FROM survey_responses r JOIN surveys s ON s.id = r.survey_id
                  WHERE s.event_id = $1 AND r.user_id IS NOT NULL)"
    };
}

async fn event_rows(db: &Database, event_id: i64) -> crate::Result<EventRows> {
    let (registrations, registration_versions, survey_respondents, survey_responses) = on_pool!(
        db,
        |pool| sqlx::query_as::<_, (i64, i64, i64, i64)>(event_rows_sql!())
            .bind(event_id)
            .fetch_one(pool)
            .await?
    );
    Ok(EventRows {
        registrations,
        registration_versions,
        survey_respondents,
        survey_responses,
    })
}

/// Removes one archived event's personal rows in one transaction, keeping
/// its figures. `false` (and nothing changed) when its rows are no longer
/// those archived.
async fn remove_event(
    db: &Database,
    tz: Tz,
    archived: &ArchivedEvent,
    run: &str,
    now: DateTime<Utc>,
) -> Result<bool, RetentionError> {
    let event_id = archived.event_id;
    // The numbers as the dashboard shows them now; the check below makes
    // sure nothing changed between this read and the removal.
    let stats = crate::events::event_stats(db, tz, event_id, now).await?;
    let stats = serde_json::to_string(&stats).map_err(|err| {
        tracing::error!(error = %err, event_id, "event figures not serializable");
        crate::Error::Internal
    })?;
    let mut uow = db.begin_write().await?;
    let removed = on_tx!(&mut uow, |conn| {
        if db.backend() == Backend::Postgres {
            // Registering takes a seat on this row: no registration slips in.
            sqlx::query("SELECT id FROM events WHERE id = $1 FOR UPDATE")
                .bind(event_id)
                .execute(&mut *conn)
                .await?;
        }
        let (registrations, versions, respondents, responses): (i64, i64, i64, i64) =
            sqlx::query_as(event_rows_sql!())
                .bind(event_id)
                .fetch_one(&mut *conn)
                .await?;
        let now_rows = EventRows {
            registrations,
            registration_versions: versions,
            survey_respondents: respondents,
            survey_responses: responses,
        };
        if now_rows != archived.rows {
            false
        } else {
            sqlx::query(
                "INSERT INTO archived_department_figures (event_id, department_id, registered, checked_in)
                 SELECT event_id, NULLIF(department_key, 0), registered, checked_in
                   FROM attendance_by_department
                  WHERE event_id = $1 AND registered > 0",
            )
            .bind(event_id)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO archived_event_figures (event_id, stats, archived_at) VALUES ($1, $2, $3)",
            )
            .bind(event_id)
            .bind(&stats)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "DELETE FROM survey_respondents
                  WHERE survey_id IN (SELECT id FROM surveys WHERE event_id = $1)",
            )
            .bind(event_id)
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "UPDATE survey_responses SET user_id = NULL
                  WHERE survey_id IN (SELECT id FROM surveys WHERE event_id = $1) AND user_id IS NOT NULL",
            )
            .bind(event_id)
            .execute(&mut *conn)
            .await?;
            sqlx::query("DELETE FROM registrations WHERE event_id = $1")
                .bind(event_id)
                .execute(&mut *conn)
                .await?;
            // Only zeros are left of the kept counts once the rows are gone;
            // the archived figures stand in for them.
            sqlx::query("DELETE FROM attendance_by_department WHERE event_id = $1")
                .bind(event_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "UPDATE events SET history_archived_at = $2, history_archive = $3,
                        version = version + 1, updated_at = $2
                  WHERE id = $1",
            )
            .bind(event_id)
            .bind(now)
            .bind(run)
            .execute(&mut *conn)
            .await?;
            true
        }
    });
    if removed {
        uow.commit().await?;
    } else {
        tracing::warn!(
            event_id,
            "the event's rows changed after they were archived; left for the next run"
        );
    }
    Ok(removed)
}

/// Deletes the rows archived by age, in one transaction, only if exactly
/// as many rows go as were archived (a row that reached its final state in
/// between waits for the next run).
async fn remove_rows(
    db: &Database,
    sql: &str,
    before: DateTime<Utc>,
    upto: Option<i64>,
    archived: u64,
) -> Result<u64, RetentionError> {
    if archived == 0 {
        return Ok(0);
    }
    let mut uow = db.begin_write().await?;
    let deleted = on_tx!(&mut uow, |conn| {
        let mut query = sqlx::query(sql).bind(before);
        if let Some(upto) = upto {
            query = query.bind(upto);
        }
        query.execute(&mut *conn).await?.rows_affected()
    });
    if deleted != archived {
        tracing::warn!(
            deleted,
            archived,
            "rows changed after they were archived; left for the next run"
        );
        return Ok(0);
    }
    uow.commit().await?;
    Ok(deleted)
}

/// How often the scheduler looks whether today's run is done.
const TICK: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs the day's retention once a day, from the first look after midnight
/// in the company's zone (so also at start, after downtime), until
/// `shutdown` completes. A failed run is tried again at the next look.
pub async fn run_scheduler(
    db: Database,
    settings: RetentionSettings,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        let now = Utc::now();
        let today = now.with_timezone(&settings.time_zone).date_naive();
        if let Err(err) = run_for(&db, &settings, today, now).await {
            tracing::warn!(error = %err, "the retention run failed; trying again later");
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// The newest run, as the dry run and the admin page show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LastRun {
    pub run_for: String,
    pub started_at: DateTime<Utc>,
    /// `None` while it runs.
    pub finished_at: Option<DateTime<Utc>>,
    pub archive: Option<String>,
    pub events: i64,
    pub registrations: i64,
    pub survey_answers: i64,
    pub mail: i64,
    pub audit_entries: i64,
    pub people_anonymized: i64,
}

pub async fn last_run(db: &Database) -> crate::Result<Option<LastRun>> {
    Ok(on_pool!(db, |pool| sqlx::query_as(
        "SELECT run_for, started_at, finished_at, archive, events, registrations,
                survey_answers, mail, audit_entries, people_anonymized
           FROM retention_runs ORDER BY run_for DESC LIMIT 1"
    )
    .fetch_optional(pool)
    .await?))
}
