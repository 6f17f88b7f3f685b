//! An event's people, for its organizer: a searchable list one
//! keyset page at a time, and the CSV export, streamed in one ordered pass so
//! a large event never sits in memory, with a byte order mark so
//! Excel opens Japanese names correctly.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::Stream;

use super::{Attendee, AttendeeCursor, AttendeeFilter, AttendeePage};
use crate::model::{Lang, RegistrationStatus, page_size};
use crate::storage::dialect::fragment;
use crate::storage::{Backend, Database, on_pool};
use crate::{Error, Result, csv_export};

#[derive(sqlx::FromRow)]
struct AttendeeRow {
    registration_id: i64,
    user_id: i64,
    name: String,
    email: String,
    department: Option<String>,
    status: String,
    registered_at: DateTime<Utc>,
    checked_in_at: Option<DateTime<Utc>>,
    ticket_code: Option<String>,
    /// How the name is read where known, else the name: Japanese readers
    /// expect 井上 (いのうえ) before 中村 (なかむら), which code points reverse.
    sort_name: String,
}

impl AttendeeRow {
    fn cursor(&self) -> AttendeeCursor {
        AttendeeCursor {
            name: self.sort_name.clone(),
            registration_id: self.registration_id,
        }
    }

    fn into_attendee(self) -> Result<Attendee> {
        let status = RegistrationStatus::parse(&self.status).ok_or_else(|| {
            tracing::error!(
                registration = self.registration_id,
                "unknown registration status"
            );
            Error::Internal
        })?;
        Ok(Attendee {
            registration_id: self.registration_id,
            user_id: self.user_id,
            name: self.name,
            email: self.email,
            department: self.department,
            status,
            registered_at: self.registered_at,
            checked_in_at: self.checked_in_at,
            ticket_code: self.ticket_code,
        })
    }
}

/// The event's people in name order after a cursor. `each_row_of`: each
/// person looked up by id, so the cost follows the event, not the company.
macro_rules! attendees_sql {
    ($backend:ident) => {
        concat!(
            "SELECT r.id AS registration_id, u.id AS user_id, u.display_name AS name,
                    u.email, d.name AS department, r.status, r.registered_at, r.checked_in_at, r.ticket_code,
                    COALESCE(u.name_reading, u.display_name) AS sort_name
             FROM registrations r ",
            fragment!($backend, [each_row_of "users", "u", "r.user_id"]),
            " LEFT JOIN departments d ON d.id = u.department_id
             WHERE r.event_id = $1
               AND ($2 IS NULL OR r.status = $2)
               AND ($3 IS NULL OR LOWER(u.display_name) LIKE LOWER($3) ESCAPE '\\' OR LOWER(u.email) LIKE LOWER($3) ESCAPE '\\'
                               OR LOWER(u.name_reading) LIKE LOWER($3) ESCAPE '\\')
               AND (COALESCE(u.name_reading, u.display_name) > $4
                    OR (COALESCE(u.name_reading, u.display_name) = $4 AND r.id > $5))
             ORDER BY COALESCE(u.name_reading, u.display_name), r.id
             LIMIT $6"
        )
    };
}

/// The statement behind the attendee list and the export, for plan tests.
pub fn statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => attendees_sql!(Sqlite),
        Backend::Postgres => attendees_sql!(Postgres),
    }
}

async fn fetch(
    db: &Database,
    event_id: i64,
    filter: &AttendeeFilter,
    after: Option<&AttendeeCursor>,
    limit: i64,
) -> Result<Vec<AttendeeRow>> {
    let search = super::search_pattern(filter.search.as_deref())?;
    let (name, id) = match after {
        Some(cursor) => (cursor.name.clone(), cursor.registration_id),
        None => (String::new(), i64::MIN),
    };
    Ok(on_pool!(db, |pool| sqlx::query_as(statement(db.backend()))
        .bind(event_id)
        .bind(filter.status.map(RegistrationStatus::code))
        .bind(search.as_deref())
        .bind(&name)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await?))
}

/// The event's people in name order, filtered by state and a search over
/// names and e-mail addresses.
pub async fn list(
    db: &Database,
    event_id: i64,
    filter: &AttendeeFilter,
    after: Option<AttendeeCursor>,
    requested: Option<u32>,
) -> Result<AttendeePage> {
    let size = page_size(requested);
    let rows = fetch(db, event_id, filter, after.as_ref(), i64::from(size) + 1).await?;
    let has_more = rows.len() > size as usize;
    let next = if has_more {
        rows.get(size as usize - 1).map(AttendeeRow::cursor)
    } else {
        None
    };
    let items: Vec<Attendee> = rows
        .into_iter()
        .take(size as usize)
        .map(AttendeeRow::into_attendee)
        .collect::<Result<_>>()?;
    Ok(AttendeePage { items, next })
}

/// Rows written per chunk of the export.
const EXPORT_CHUNK_ROWS: usize = 500;

/// The CSV export as a stream of chunks: a UTF-8 byte order mark and the
/// header first, then the rows, [`EXPORT_CHUNK_ROWS`] per chunk. Headers,
/// states and times (company time zone) are in `lang`.
///
/// One statement reads the event's people in order and its rows are written
/// as they arrive, so the export costs one pass over the event whatever its
/// size (pages would each sort the whole event again) and never holds it in
/// memory. The statement runs in its own task, a chunk or two ahead of the
/// client; when the client goes away the task stops and frees its connection.
pub fn export_csv(
    db: Database,
    event_id: i64,
    tz: Tz,
    lang: Lang,
) -> impl Stream<Item = Result<Vec<u8>>> + Send + 'static {
    let (chunks, receiver) = tokio::sync::mpsc::channel::<Result<Vec<u8>>>(2);
    tokio::spawn(async move {
        let mut head = "\u{FEFF}".as_bytes().to_vec();
        let written = csv_export::write_row(&mut head, header(lang)).map(|()| head);
        let failed = written.is_err();
        if chunks.send(written).await.is_err() || failed {
            return;
        }
        let outcome = on_pool!(db, |pool| {
            let rows = sqlx::query_as::<_, AttendeeRow>(statement(db.backend()))
                .bind(event_id)
                .bind(None::<&str>)
                .bind(None::<&str>)
                .bind(String::new())
                .bind(i64::MIN)
                .bind(i64::MAX)
                .fetch(pool);
            send_rows(rows, &chunks, tz, lang).await
        });
        if let Err(err) = outcome {
            let _ = chunks.send(Err(err)).await;
        }
    });
    // Fused: a stream wrapped on its way out (the HTTP compression layer)
    // may be polled once more after its end, which `unfold` alone answers
    // with a panic.
    use futures_util::StreamExt;
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    })
    .fuse()
}

/// Writes `rows` as CSV into chunks for `chunks`. Stops quietly when nobody
/// is listening any more.
async fn send_rows(
    rows: impl Stream<Item = sqlx::Result<AttendeeRow>>,
    chunks: &tokio::sync::mpsc::Sender<Result<Vec<u8>>>,
    tz: Tz,
    lang: Lang,
) -> Result<()> {
    use futures_util::StreamExt;
    let mut rows = std::pin::pin!(rows);
    let mut chunk = Vec::new();
    let mut in_chunk = 0;
    while let Some(row) = rows.next().await {
        let attendee = row?.into_attendee()?;
        csv_export::write_row(&mut chunk, fields(&attendee, tz, lang))?;
        in_chunk += 1;
        if in_chunk == EXPORT_CHUNK_ROWS {
            in_chunk = 0;
            if chunks.send(Ok(std::mem::take(&mut chunk))).await.is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = chunks.send(Ok(chunk)).await;
    }
    Ok(())
}

fn header(lang: Lang) -> [&'static str; 8] {
    match lang {
        Lang::Ja => [
            "氏名",
            "メールアドレス",
            "部署",
            "状態",
            "登録日時",
            "受付日時",
            "チケットコード",
            "登録ID",
        ],
        Lang::En => [
            "Name",
            "E-mail",
            "Department",
            "Status",
            "Registered at",
            "Checked in at",
            "Ticket code",
            "Registration ID",
        ],
    }
}

fn status_label(lang: Lang, status: RegistrationStatus) -> &'static str {
    use RegistrationStatus::*;
    match (lang, status) {
        (Lang::Ja, Registered) => "参加予定",
        (Lang::Ja, CheckedIn) => "受付済み",
        (Lang::Ja, Waitlisted) => "キャンセル待ち",
        (Lang::Ja, Cancelled) => "キャンセル",
        (Lang::Ja, Removed) => "登録取消",
        (Lang::En, Registered) => "Registered",
        (Lang::En, CheckedIn) => "Checked in",
        (Lang::En, Waitlisted) => "Waitlisted",
        (Lang::En, Cancelled) => "Cancelled",
        (Lang::En, Removed) => "Removed",
    }
}

fn fields(attendee: &Attendee, tz: Tz, lang: Lang) -> [String; 8] {
    let local = |at: DateTime<Utc>| at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    [
        attendee.name.clone(),
        attendee.email.clone(),
        attendee.department.clone().unwrap_or_default(),
        status_label(lang, attendee.status).to_string(),
        local(attendee.registered_at),
        attendee.checked_in_at.map(local).unwrap_or_default(),
        attendee.ticket_code.clone().unwrap_or_default(),
        attendee.registration_id.to_string(),
    ]
}
