//! Administering people: listing, creating, roles, deactivation, and what
//! everyone may change about themselves (password, language).
//!
//! Who may call what is decided by the server layer; these functions keep
//! the rules that hold whoever calls them: e-mail addresses stay unique, the
//! company always keeps an active administrator, and every change is in the
//! audit log, committed together with the change.

use chrono::Utc;
use serde_json::json;

use super::{CheckedUser, LoginLimits, check_new_user, password, throttle};
use crate::audit::{self, AuditAction};
use crate::model::{AuthenticatedUser, Lang, NewUser, Role, UserPage, UserSummary};
use crate::reason::Reason;
use crate::storage::dialect::fragment;
use crate::storage::{
    Backend, Database, SearchTerm, UnitOfWork, dialect_sql, is_unique_violation, on_pool, on_tx,
};
use crate::{Error, Result, model};

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    email: String,
    display_name: String,
    department: Option<String>,
    role: String,
    lang: String,
    active: bool,
    has_password: bool,
    anonymized: bool,
    sort_key: String,
}

impl SummaryRow {
    fn into_summary(self) -> Result<UserSummary> {
        Ok(UserSummary {
            role: parse_role(self.id, &self.role)?,
            lang: parse_lang(self.id, &self.lang)?,
            id: self.id,
            email: self.email,
            display_name: self.display_name,
            department: self.department,
            active: self.active,
            has_password: self.has_password,
            anonymized: self.anonymized,
        })
    }
}

fn parse_role(user: i64, code: &str) -> Result<Role> {
    Role::parse(code).ok_or_else(|| {
        tracing::error!(user, role = %code, "unknown role in database");
        Error::Internal
    })
}

fn parse_lang(user: i64, code: &str) -> Result<Lang> {
    Lang::parse(code).ok_or_else(|| {
        tracing::error!(user, lang = %code, "unknown language in database");
        Error::Internal
    })
}

macro_rules! select_summary {
    ($($rest:expr),* $(,)?) => {
        concat!(
            "SELECT u.id, u.email, u.display_name, d.name AS department, u.role, u.lang, u.active,
                    u.password_hash IS NOT NULL AS has_password,
                    u.anonymized_at IS NOT NULL AS anonymized, lower(u.email) AS sort_key
               FROM users u LEFT JOIN departments d ON d.id = u.department_id ",
            $($rest),*
        )
    };
}

/// The list cursor is the last row's sort key in hex: opaque, and safe in a
/// URL whatever characters an e-mail address holds.
fn encode_cursor(sort_key: &str) -> String {
    sort_key.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_cursor(text: &str) -> Result<String> {
    let broken = || Error::Invalid(Reason::BrokenLink);
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return Err(broken());
    }
    let bytes = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
        .collect::<std::result::Result<Vec<u8>, _>>()
        .map_err(|_| broken())?;
    // A made-up cursor could hold a NUL, which PostgreSQL refuses in text.
    String::from_utf8(bytes)
        .ok()
        .filter(|key| !key.chars().any(char::is_control))
        .ok_or_else(broken)
}

/// People in e-mail order, one keyset page at a time, optionally narrowed to
/// those whose e-mail or name contains `search` (ignoring case; on SQLite,
/// case is folded for ASCII letters only). A cursor that was not made by this
/// function is refused as [`Error::Invalid`] rather than quietly restarting.
pub async fn list(
    db: &Database,
    search: Option<&str>,
    after: Option<&str>,
    page_size: u32,
) -> Result<UserPage> {
    list_filtered(db, search, &UserFilter::default(), after, page_size).await
}

/// Narrows the people list beyond the search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub role: Option<Role>,
    /// Only those who cannot sign in yet: active, without a password.
    pub without_password: bool,
}

/// The people list's statement with `$search` added to its conditions; one
/// statement per way of searching, so a plan cached for one is never used
/// for another (see `text_search.rs`).
macro_rules! list_sql {
    ($search:expr) => {
        select_summary!(
            "WHERE lower(u.email) > $1
               AND ($3 IS NULL OR u.role = $3)
               AND (NOT $4 OR (u.active AND u.password_hash IS NULL))",
            $search,
            " ORDER BY lower(u.email)
              LIMIT $2"
        )
    };
}

/// The people list's statement for a search of three characters or more,
/// answered by the search index (`$5`); public for plan tests.
pub fn search_statement(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => list_sql!(concat!(
            " AND ",
            fragment!(Sqlite, [matches_search "u", "users", "$5"])
        )),
        Backend::Postgres => list_sql!(concat!(
            " AND ",
            fragment!(Postgres, [matches_search "u", "users", "$5"])
        )),
    }
}

/// [`list`], narrowed by `filter`.
pub async fn list_filtered(
    db: &Database,
    search: Option<&str>,
    filter: &UserFilter,
    after: Option<&str>,
    page_size: u32,
) -> Result<UserPage> {
    // Every address sorts after the empty string, so no cursor means "from the start".
    let after = after.map(decode_cursor).transpose()?.unwrap_or_default();
    let search = crate::events::search_text(search)?;
    let search = search.map(|text| SearchTerm::new(db.backend(), &text.to_lowercase()));
    let sql = match &search {
        None => list_sql!(""),
        Some(SearchTerm::Indexed(_)) => search_statement(db.backend()),
        Some(SearchTerm::Scanned(_)) => list_sql!(
            r" AND (lower(u.email) LIKE $5 ESCAPE '\' OR lower(u.display_name) LIKE $5 ESCAPE '\')"
        ),
    };
    let term = search.map(SearchTerm::into_value);
    let page_size = model::page_size(Some(page_size));
    let rows: Vec<SummaryRow> = on_pool!(db, |pool| {
        // A search is planned for its own words each time (an unnamed
        // statement): a plan kept for another search would not know
        // whether the index or the order is the cheaper way to it.
        let query = sqlx::query_as(sql)
            .persistent(term.is_none())
            .bind(&after)
            .bind(i64::from(page_size) + 1)
            .bind(filter.role.map(Role::code))
            .bind(filter.without_password);
        match &term {
            Some(term) => query.bind(term.as_str()),
            None => query,
        }
        .fetch_all(pool)
        .await?
    });
    let has_more = rows.len() > page_size as usize;
    let next = if has_more {
        rows.get(page_size as usize - 1)
            .map(|last| encode_cursor(&last.sort_key))
    } else {
        None
    };
    let items = rows
        .into_iter()
        .take(page_size as usize)
        .map(SummaryRow::into_summary)
        .collect::<Result<_>>()?;
    Ok(UserPage { items, next })
}

pub async fn find(db: &Database, id: i64) -> Result<UserSummary> {
    const FIND: &str = select_summary!("WHERE u.id = $1");
    let row: Option<SummaryRow> = on_pool!(db, |pool| {
        sqlx::query_as(FIND).bind(id).fetch_optional(pool).await?
    });
    row.ok_or(Error::NotFound)?.into_summary()
}

#[derive(sqlx::FromRow)]
struct CurrentRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    lang: String,
    session_generation: i64,
}

/// The user a session belongs to, if they may still use it: None once the
/// account is deactivated or deleted, so that ends their sessions at once.
/// Runs on every request, hence one primary-key lookup.
pub async fn current(db: &Database, id: i64) -> Result<Option<AuthenticatedUser>> {
    let row: Option<CurrentRow> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT id, email, display_name, role, lang, session_generation
               FROM users WHERE id = $1 AND active",
        )
        .bind(id)
        .fetch_optional(pool)
        .await?
    });
    row.map(|row| {
        Ok(AuthenticatedUser {
            role: parse_role(row.id, &row.role)?,
            lang: parse_lang(row.id, &row.lang)?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            session_generation: row.session_generation,
        })
    })
    .transpose()
}

/// Creates a person, with a password when given (else they cannot log in
/// until one is set). Unlike [`super::upsert`], never touches an existing
/// account: an admin typing an address that is taken is told so.
#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Database,
    actor: i64,
    user: &NewUser,
    password: Option<String>,
) -> Result<i64> {
    // Every check that costs nothing before the one hash that costs ~25 ms.
    if let Some(password) = &password {
        password::check_strength(password)?;
    }
    let checked = check_new_user(db, user).await?;
    let password_hash = match password {
        Some(password) => Some(password::hash(password).await?),
        None => None,
    };
    match try_create(db, actor, user, &checked, password_hash.as_deref()).await {
        Ok(id) => Ok(id),
        Err(err) if is_unique_violation(&err) => Err(Error::Conflict(Reason::EmailTaken)),
        Err(err) => Err(err.into()),
    }
}

async fn try_create(
    db: &Database,
    actor: i64,
    user: &NewUser,
    checked: &CheckedUser<'_>,
    password_hash: Option<&str>,
) -> sqlx::Result<i64> {
    let now = Utc::now();
    let mut uow = db.begin_write().await?;
    let id: i64 = on_tx!(&mut uow, |tx| {
        sqlx::query_scalar(
        "INSERT INTO users (email, display_name, department_id, role, lang, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(&checked.email)
    .bind(checked.display_name)
    .bind(checked.department_id)
    .bind(user.role.code())
    .bind(user.lang.code())
    .bind(password_hash)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?
    });
    audit::insert(
        &mut uow,
        Some(actor),
        AuditAction::UserCreated,
        &checked.email,
        json!({ "user_id": id, "role": user.role.code(), "with_password": password_hash.is_some() }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(id)
}

/// Gives `user_id` another role. Setting the role they have is a no-op and
/// is not logged.
#[tracing::instrument(skip(db))]
pub async fn set_role(db: &Database, actor: i64, user_id: i64, role: Role) -> Result<()> {
    change_account(db, Some(actor), user_id, AccountChange::Role(role)).await
}

/// [`set_role`] for the employee import, whose actor is None when it runs
/// from the command line.
pub(super) async fn change_role(
    db: &Database,
    actor: Option<i64>,
    user_id: i64,
    role: Role,
) -> Result<()> {
    change_account(db, actor, user_id, AccountChange::Role(role)).await
}

/// Deactivates or reactivates `user_id`. A deactivated person cannot log in
/// and their open sessions stop working (see [`current`]); nothing of theirs
/// is deleted.
#[tracing::instrument(skip(db))]
pub async fn set_active(db: &Database, actor: i64, user_id: i64, active: bool) -> Result<()> {
    change_account(db, Some(actor), user_id, AccountChange::Active(active)).await
}

#[derive(Debug, Clone, Copy)]
enum AccountChange {
    Role(Role),
    Active(bool),
}

/// The account as it stands when a change is decided.
#[derive(Debug)]
struct Standing {
    role: Role,
    active: bool,
}

/// Decides a change: the audit entry to write, None when it would change
/// nothing, or why it is refused. `active_admins` are the ids of all active
/// administrators, read under lock so no other change can act on the same count.
fn plan(
    actor: Option<i64>,
    user_id: i64,
    standing: &Standing,
    change: AccountChange,
    active_admins: &[i64],
) -> Result<Option<(AuditAction, serde_json::Value)>> {
    let losing_last_admin = standing.role == Role::Admin
        && standing.active
        && active_admins.iter().all(|&id| id == user_id);
    match change {
        AccountChange::Role(to) if to == standing.role => Ok(None),
        AccountChange::Role(_) if losing_last_admin => {
            Err(Error::Conflict(Reason::LastActiveAdmin))
        }
        AccountChange::Role(to) => Ok(Some((
            AuditAction::RoleChanged,
            json!({ "user_id": user_id, "from": standing.role.code(), "to": to.code() }),
        ))),
        AccountChange::Active(false) if actor == Some(user_id) => {
            Err(Error::Conflict(Reason::CannotDeactivateSelf))
        }
        AccountChange::Active(active) if active == standing.active => Ok(None),
        AccountChange::Active(false) if losing_last_admin => {
            Err(Error::Conflict(Reason::LastActiveAdmin))
        }
        AccountChange::Active(false) => Ok(Some((
            AuditAction::UserDeactivated,
            json!({ "user_id": user_id }),
        ))),
        AccountChange::Active(true) => Ok(Some((
            AuditAction::UserReactivated,
            json!({ "user_id": user_id }),
        ))),
    }
}

#[derive(sqlx::FromRow)]
struct TargetRow {
    email: String,
    role: String,
    active: bool,
}

/// Locks the active administrators, in id order (two account changes queue
/// instead of deadlocking), and answers their ids: a change that could leave
/// no administrator decides on a count no other change can act on meanwhile.
pub(super) async fn lock_active_admins(uow: &mut UnitOfWork<'_>) -> Result<Vec<i64>> {
    let lock_admins = dialect_sql!(
        uow.backend(),
        "SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id",
        lock_rows
    );
    Ok(on_tx!(uow, |tx| sqlx::query_scalar(lock_admins)
        .fetch_all(&mut *tx)
        .await?))
}

async fn change_account(
    db: &Database,
    actor: Option<i64>,
    user_id: i64,
    change: AccountChange,
) -> Result<()> {
    // Two admins demoting each other at once must not both see "there is
    // another admin": the active admins are locked first (in id order, so
    // two such changes queue instead of deadlocking), then the target.
    let mut uow = db.begin_write().await?;
    let load_target = dialect_sql!(
        uow.backend(),
        "SELECT email, role, active FROM users WHERE id = $1",
        lock_rows
    );
    let now = Utc::now();
    let active_admins = lock_active_admins(&mut uow).await?;
    let target: Option<TargetRow> = on_tx!(&mut uow, |tx| sqlx::query_as(load_target)
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?);
    let target = target.ok_or(Error::NotFound)?;
    let standing = Standing {
        role: parse_role(user_id, &target.role)?,
        active: target.active,
    };
    let Some((action, detail)) = plan(actor, user_id, &standing, change, &active_admins)? else {
        return Ok(());
    };
    on_tx!(&mut uow, |tx| {
        let update = match change {
            AccountChange::Role(role) => {
                sqlx::query("UPDATE users SET role = $2, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(role.code())
            }
            AccountChange::Active(active) => {
                // The anonymization of people who left counts from deactivation.
                sqlx::query(
                    "UPDATE users SET active = $2, updated_at = $3,
                            deactivated_at = CASE WHEN $2 THEN NULL ELSE $3 END
                      WHERE id = $1",
                )
                .bind(user_id)
                .bind(active)
            }
        };
        update.bind(now).execute(&mut *tx).await.map(|_| ())
    })?;
    audit::insert(&mut uow, actor, action, &target.email, detail, now).await?;
    uow.commit().await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct PasswordRow {
    email: String,
    password_hash: Option<String>,
}

/// A person changing their own password, proving it is them with the
/// current one — behind the same limits as logging in, since a wrong current
/// password is a guess like any other. Answers the new session generation:
/// every session begun before the change is over, and the caller moves its
/// own session on to this one.
#[tracing::instrument(skip(db, limits, current, new, address))]
pub async fn change_password(
    db: &Database,
    limits: &LoginLimits,
    user_id: i64,
    current: String,
    new: String,
    address: &str,
) -> Result<i64> {
    // The cheap checks first: no hashing work for a new password that would be refused anyway.
    password::check_strength(&new)?;
    if new == current {
        return Err(Error::Invalid(Reason::PasswordUnchanged));
    }
    let row: Option<PasswordRow> = on_pool!(db, |pool| {
        sqlx::query_as("SELECT email, password_hash FROM users WHERE id = $1 AND active")
            .bind(user_id)
            .fetch_optional(pool)
            .await?
    });
    let row = row.ok_or(Error::NotFound)?;
    let now = Utc::now();
    let verified = throttle::check_within_limits(
        db,
        limits,
        &throttle::account_key(&row.email.to_lowercase()),
        &throttle::address_key(address),
        now,
        async {
            match row.password_hash.clone() {
                Some(hash) if password::verify(current, hash.clone()).await => Ok(hash),
                _ => Err(Error::Unauthenticated),
            }
        },
    )
    .await;
    let old_hash = match verified {
        Ok(hash) => hash,
        Err(Error::Unauthenticated) => {
            return Err(Error::Invalid(Reason::WrongCurrentPassword));
        }
        Err(other) => return Err(other),
    };
    let new_hash = password::hash(new).await?;
    let mut uow = db.begin_write().await?;
    // Only over the hash that was verified: of two changes racing from the
    // same old password, the second is not silently lost.
    let generation: Option<i64> = on_tx!(&mut uow, |tx| sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, updated_at = $3,
                session_generation = session_generation + 1
          WHERE id = $1 AND password_hash = $4
          RETURNING session_generation",
    )
    .bind(user_id)
    .bind(&new_hash)
    .bind(now)
    .bind(&old_hash)
    .fetch_optional(&mut *tx)
    .await?);
    if generation.is_some() {
        audit::insert(
            &mut uow,
            Some(user_id),
            AuditAction::PasswordChanged,
            &row.email,
            json!({ "user_id": user_id }),
            now,
        )
        .await?;
        uow.commit().await?;
    }
    generation.ok_or(Error::Conflict(Reason::PasswordChangedMeanwhile))
}

/// The language a person reads the site and their mail in.
pub async fn set_lang(db: &Database, user_id: i64, lang: Lang) -> Result<()> {
    let updated = on_pool!(db, |pool| {
        sqlx::query("UPDATE users SET lang = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(lang.code())
            .bind(Utc::now())
            .execute(pool)
            .await?
            .rows_affected()
    });
    if updated == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// The id and role of the person with `email`, if there is one.
pub async fn find_by_email(db: &Database, email: &str) -> Result<Option<(i64, Role)>> {
    let email = super::normalize_email(email)?;
    let row: Option<(i64, String)> = on_pool!(db, |pool| sqlx::query_as(
        "SELECT id, role FROM users WHERE email = $1"
    )
    .bind(&email)
    .fetch_optional(pool)
    .await?);
    row.map(|(id, role)| Ok((id, parse_role(id, &role)?)))
        .transpose()
}

/// IT gives an existing person a (new) password from the command line: an
/// imported employee's first one, or a forgotten one. Every session the
/// person had ends; the change is audited as done by nobody in particular
/// (the operator of the server). [`Error::NotFound`] for an unknown address.
#[tracing::instrument(skip(db, new))]
pub async fn set_password_from_command_line(
    db: &Database,
    email: &str,
    new: String,
) -> Result<i64> {
    let (user_id, _) = find_by_email(db, email).await?.ok_or(Error::NotFound)?;
    let hash = password::hash(new).await?;
    let now = Utc::now();
    let mut uow = db.begin_write().await?;
    replace_password(&mut uow, user_id, &hash, now).await?;
    audit::insert(
        &mut uow,
        None,
        AuditAction::PasswordChanged,
        &super::normalize_email(email)?,
        json!({ "user_id": user_id, "by": "command line" }),
        now,
    )
    .await?;
    uow.commit().await?;
    Ok(user_id)
}

/// Sets `user_id`'s password hash as a step of `uow` and moves their session
/// generation on, which ends every session they have. Answers whether the
/// person exists.
pub(super) async fn replace_password(
    uow: &mut UnitOfWork<'_>,
    user_id: i64,
    hash: &str,
    now: chrono::DateTime<Utc>,
) -> sqlx::Result<bool> {
    on_tx!(uow, |tx| sqlx::query(
        "UPDATE users SET password_hash = $2, updated_at = $3,
                session_generation = session_generation + 1
          WHERE id = $1"
    )
    .bind(user_id)
    .bind(hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map(|done| done.rows_affected() == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_cursor_round_trips_and_refuses_garbage() {
        let key = "hanako+events@example.co.jp";
        let cursor = encode_cursor(key);
        assert!(cursor.chars().all(|c| c.is_ascii_hexdigit()), "{cursor}");
        assert_eq!(decode_cursor(&cursor).unwrap(), key);
        for garbage in ["abc", "zz", "ff", "é1", "c3"] {
            assert!(
                matches!(decode_cursor(garbage), Err(Error::Invalid(_))),
                "{garbage}"
            );
        }
    }

    #[test]
    fn the_last_active_admin_stays_an_active_admin() {
        let admin = Standing {
            role: Role::Admin,
            active: true,
        };
        let demote = AccountChange::Role(Role::Staff);
        let deactivate = AccountChange::Active(false);
        for change in [demote, deactivate] {
            assert!(
                matches!(
                    plan(Some(9), 1, &admin, change, &[1]),
                    Err(Error::Conflict(Reason::LastActiveAdmin))
                ),
                "{change:?}"
            );
            assert!(plan(Some(9), 1, &admin, change, &[1, 2]).unwrap().is_some());
        }
        // An inactive admin is no safeguard: demoting one is always allowed.
        let inactive = Standing {
            role: Role::Admin,
            active: false,
        };
        assert!(plan(Some(9), 1, &inactive, demote, &[2]).unwrap().is_some());
        assert!(
            plan(Some(9), 1, &admin, AccountChange::Role(Role::Admin), &[1])
                .unwrap()
                .is_none()
        );
        assert!(matches!(
            plan(Some(1), 1, &admin, deactivate, &[1, 2]),
            Err(Error::Conflict(Reason::CannotDeactivateSelf))
        ));
    }
}
