//! Importing employees from a CSV file (`tsudoi import-users`, admin upload).
//!
//! Columns, in any order, header names case-insensitive, in English or
//! Japanese: `email`/メールアドレス, `name`/氏名 (required),
//! `department`/部署, `role`/権限 (employee, staff, organizer, admin, or
//! 社員, 受付スタッフ, 主催者, 管理者; empty means employee), and
//! `reading`/フリガナ (how the name is read, for Japanese name order; a file
//! without the column leaves readings as they are). The file may be
//! UTF-8 (with or without a byte order mark) or Shift_JIS, which Excel on a
//! Japanese Windows writes by default. A person is found by e-mail: new people are
//! created, changed ones updated, unchanged ones left alone — so importing
//! the same file twice changes nothing. Unknown departments are created.
//! Every line that cannot be imported is reported with its reason; the
//! others are imported all the same.

use std::collections::HashMap;
use std::io::Read;

use super::{MAX_NAME_CHARS, NewUser, normalize_email, upsert};
use crate::audit::{self, AuditAction};
use crate::model::{Lang, Role};
use crate::reason::{Field, Reason};
use crate::storage::{Database, on_pool};
use crate::text_rules::{self, Lines};
use crate::{Error, Result};

// The report is shown in the browser, so its shape lives in `model`.
pub use crate::model::{ImportReport, RejectedLine};

struct Columns {
    email: usize,
    name: usize,
    department: Option<usize>,
    role: Option<usize>,
    reading: Option<usize>,
}

fn columns(headers: &csv::StringRecord) -> Result<Columns> {
    let find = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.trim().trim_start_matches('\u{feff}');
            names.iter().any(|name| h.eq_ignore_ascii_case(name))
        })
    };
    match (
        find(&["email", "e-mail", "メールアドレス", "メール"]),
        find(&["name", "氏名", "名前"]),
    ) {
        (Some(email), Some(name)) => Ok(Columns {
            email,
            name,
            department: find(&["department", "部署", "所属"]),
            role: find(&["role", "権限", "役割"]),
            reading: find(&[
                "reading",
                "furigana",
                "kana",
                "フリガナ",
                "ふりがな",
                "よみがな",
                "ヨミガナ",
                "読み",
            ]),
        }),
        _ => Err(Error::Invalid(Reason::ImportHeaderMissing {
            // Quoted back, bounded: the header line can be anything.
            found: headers
                .iter()
                .collect::<Vec<_>>()
                .join(", ")
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect(),
        })),
    }
}

fn parse_role(text: &str) -> std::result::Result<Role, String> {
    let text = text.trim().to_lowercase();
    if text.is_empty() {
        return Ok(Role::Employee);
    }
    let japanese = match text.as_str() {
        "社員" | "一般" => Some(Role::Employee),
        "受付スタッフ" | "受付" | "スタッフ" => Some(Role::Staff),
        "主催者" => Some(Role::Organizer),
        "管理者" => Some(Role::Admin),
        _ => None,
    };
    japanese
        .or_else(|| Role::parse(&text))
        .ok_or_else(|| format!("unknown role “{text}” (use employee, staff, organizer or admin)"))
}

#[derive(sqlx::FromRow)]
struct Current {
    id: i64,
    display_name: String,
    department: Option<String>,
    role: String,
    name_reading: Option<String>,
}

/// A line that passed the checks that need no database.
struct Row {
    line: u64,
    email: String,
    name: String,
    department: Option<String>,
    role: Role,
    /// `None` when the file has no reading column: the stored one stays.
    reading: Option<Option<String>>,
}

/// The file as UTF-8 bytes. UTF-8 when it is; Shift_JIS — what Excel
/// writes as "CSV" on a Japanese Windows — when no line of it reads as UTF-8
/// beyond plain ASCII and it decodes cleanly. A UTF-8 file with a stray line
/// in another encoding stays UTF-8, and that line is reported: reading it
/// all as Shift_JIS would import every Japanese name garbled (UTF-8 bytes
/// mostly decode as Shift_JIS without an error).
fn as_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if std::str::from_utf8(bytes).is_ok() {
        return bytes.into();
    }
    let some_line_is_utf8 = bytes
        .split(|&b| b == b'\n')
        .any(|line| !line.is_ascii() && std::str::from_utf8(line).is_ok());
    if some_line_is_utf8 {
        return bytes.into();
    }
    match encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes) {
        (text, false) => text.into_owned().into_bytes().into(),
        (_, true) => bytes.into(),
    }
}

/// Reads the whole file before anything is written. A broken file — a
/// quotation mark left open swallows every line after it into one field —
/// is refused as a whole with the line where it went wrong: importing the
/// lines around it would report success while people silently went missing.
/// Lines that are well-formed but wrong (bad address, unknown role) are
/// reported one by one and the others imported.
fn read_rows(mut file: impl Read, report: &mut ImportReport) -> Result<Vec<Row>> {
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|_| Error::Invalid(Reason::UploadUnreadable))?;
    let text = as_utf8(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_ref());
    let headers = reader
        .headers()
        .map_err(|_| Error::Invalid(Reason::ImportNotUtf8))?
        .clone();
    let columns = columns(&headers)?;
    let mut rows = Vec::new();
    let mut first_seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let (line, record) = match record {
            Ok(record) => (record.position().map_or(0, |p| p.line()), record),
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                let reason = match err.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "not UTF-8 text (in Excel: save as “CSV UTF-8”)".to_string()
                    }
                    _ => "not a valid CSV line".to_string(),
                };
                report.rejected.push(RejectedLine { line, reason });
                continue;
            }
        };
        if record.iter().any(|field| field.contains(['\n', '\r'])) {
            return Err(Error::Invalid(Reason::ImportUnclosedQuote { line }));
        }
        if record.iter().all(str::is_empty) {
            continue;
        }
        let field = |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or_default();
        let reject = |reason: String| RejectedLine { line, reason };
        let email = match normalize_email(field(Some(columns.email))) {
            Ok(email) => email,
            Err(err) => {
                report.rejected.push(reject(err.to_string()));
                continue;
            }
        };
        if let Some(first) = first_seen.get(&email) {
            report
                .rejected
                .push(reject(format!("{email} already appears on line {first}")));
            continue;
        }
        first_seen.insert(email.clone(), line);
        let name = field(Some(columns.name));
        if name.is_empty() {
            report.rejected.push(reject("the name is empty".into()));
            continue;
        }
        let role = match parse_role(field(columns.role)) {
            Ok(role) => role,
            Err(reason) => {
                report.rejected.push(reject(reason));
                continue;
            }
        };
        let department = Some(field(columns.department)).filter(|d| !d.is_empty());
        let reading = columns
            .reading
            .map(|_| Some(field(columns.reading).trim()).filter(|r| !r.is_empty()));
        let checked = text_rules::check(Field::Name, name, MAX_NAME_CHARS, Lines::One)
            .and_then(|()| {
                department.map_or(Ok(()), |d| {
                    text_rules::check(Field::Department, d, MAX_NAME_CHARS, Lines::One)
                })
            })
            .and_then(|()| {
                reading.flatten().map_or(Ok(()), |r| {
                    text_rules::check(Field::Name, r, MAX_NAME_CHARS, Lines::One)
                })
            });
        if let Err(Error::Invalid(reason)) = checked {
            report.rejected.push(reject(reason.to_string()));
            continue;
        }
        rows.push(Row {
            line,
            email,
            name: name.to_string(),
            department: department.map(str::to_string),
            role,
            reading: reading.map(|r| r.map(str::to_string)),
        });
    }
    Ok(rows)
}

/// Imports `file` on behalf of `actor` (None: the command line); fails as a
/// whole only when the file has no usable header or is broken (see
/// [`read_rows`]). A role change goes through the same rule as the admin
/// page's — the last active administrator keeps the role — and is audited
/// like one.
pub async fn import_csv(
    db: &Database,
    actor: Option<i64>,
    file: impl Read,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let rows = read_rows(file, &mut report)?;
    for row in rows {
        let reject = |reason: String| RejectedLine {
            line: row.line,
            reason,
        };
        let current: Option<Current> = on_pool!(db, |pool| {
            sqlx::query_as(
                "SELECT u.id, u.display_name, d.name AS department, u.role, u.name_reading
                   FROM users u LEFT JOIN departments d ON d.id = u.department_id
                  WHERE lower(u.email) = $1",
            )
            .bind(&row.email)
            .fetch_optional(pool)
            .await?
        });
        let unchanged = current.as_ref().is_some_and(|c| {
            c.display_name == row.name
                && c.department == row.department
                && c.role == row.role.code()
                && row.reading.as_ref().is_none_or(|r| *r == c.name_reading)
        });
        if unchanged {
            report.unchanged += 1;
            continue;
        }
        if let Some(current) = current.as_ref().filter(|c| c.role != row.role.code()) {
            match super::admin::change_role(db, actor, current.id, row.role).await {
                Ok(()) => {}
                Err(Error::Invalid(reason) | Error::Conflict(reason)) => {
                    report.rejected.push(reject(reason.to_string()));
                    continue;
                }
                Err(err) => return Err(err),
            }
        }
        let user = NewUser {
            email: row.email.clone(),
            display_name: row.name.clone(),
            department: row.department.clone(),
            role: row.role,
            lang: Lang::Ja,
        };
        let upserted = match upsert(db, &user, None).await {
            Ok(id) => match &row.reading {
                Some(reading) => set_reading(db, id, reading.as_deref()).await.map(|()| id),
                None => Ok(id),
            },
            Err(err) => Err(err),
        };
        match upserted {
            Ok(_) if current.is_some() => report.updated += 1,
            Ok(_) => report.created += 1,
            Err(Error::Invalid(reason)) => report.rejected.push(reject(reason.to_string())),
            Err(err) => return Err(err),
        }
    }
    Ok(report)
}

/// Stores how `user_id`'s name is read (`None`: not known).
async fn set_reading(db: &Database, user_id: i64, reading: Option<&str>) -> Result<()> {
    on_pool!(db, |pool| {
        sqlx::query("UPDATE users SET name_reading = $2 WHERE id = $1")
            .bind(user_id)
            .bind(reading)
            .execute(pool)
            .await
            .map(|_| ())?
    });
    Ok(())
}

/// [`import_csv`] on behalf of `actor` (None: the command line), recorded in
/// the audit log with the whole report, so the admin page can show it again
/// after a redirect (see [`last_report`]) and the log says who imported what.
#[tracing::instrument(skip_all)]
pub async fn import_csv_as(
    db: &Database,
    actor: Option<i64>,
    file: impl Read,
) -> Result<ImportReport> {
    let report = import_csv(db, actor, file).await?;
    let detail = serde_json::to_value(&report).map_err(|err| {
        tracing::error!(error = %err, "cannot serialize an import report");
        Error::Internal
    })?;
    audit::record(db, actor, AuditAction::UsersImported, "", detail).await?;
    Ok(report)
}

/// The report of the newest import by `actor` (None: by anyone).
pub async fn last_report(db: &Database, actor: Option<i64>) -> Result<Option<ImportReport>> {
    let Some(entry) = audit::latest(db, AuditAction::UsersImported, actor).await? else {
        return Ok(None);
    };
    serde_json::from_str(&entry.detail).map(Some).map_err(|err| {
        tracing::error!(entry = entry.id, error = %err, "unreadable import report in the audit log");
        Error::Internal
    })
}
