//! People and departments, logging in, and the password hashing behind it.

mod admin;
pub mod import;
pub mod password_links;
pub mod throttle;

pub use admin::{
    UserFilter, change_password, create, current, find, find_by_email, list, list_filtered,
    set_active, set_lang, set_password_from_command_line, set_role,
};
// The shapes live in `model` so the browser build can use them too.
pub use crate::model::{AuthenticatedUser, NewUser};
pub use throttle::LoginLimits;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::audit::{self, AuditAction};
use crate::model::{Lang, Role};
use crate::reason::{Field, Reason};
use crate::storage::{Database, on_pool};
use crate::text_rules::{self, Lines};
use crate::{Error, Result};

/// The longest display name or department name.
pub const MAX_NAME_CHARS: usize = 100;

/// A minimal, deliberate e-mail check: one `@`, something on both sides, a dot
/// in the domain, no spaces. Deliverability is the mail server's business.
pub fn normalize_email(email: &str) -> Result<String> {
    let email = email.trim().to_lowercase();
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    };
    if valid && email.len() <= 254 {
        Ok(email)
    } else {
        // Quoted back to the person, but bounded and printable: the message
        // also lands in import reports and the audit log.
        let shown: String = email.chars().filter(|c| !c.is_control()).take(80).collect();
        Err(Error::Invalid(Reason::InvalidEmail { shown }))
    }
}

/// The department's id, creating the department on first use.
pub async fn department_id(db: &Database, name: &str) -> Result<i64> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::Invalid(Reason::Missing {
            field: Field::Department,
        }));
    }
    let id = on_pool!(db, |pool| {
        sqlx::query("INSERT INTO departments (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(pool)
            .await?;
        sqlx::query_scalar::<_, i64>("SELECT id FROM departments WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?
    });
    Ok(id)
}

/// A [`NewUser`] that passed the checks, its department created if new.
struct CheckedUser<'a> {
    email: String,
    display_name: &'a str,
    department_id: Option<i64>,
}

async fn check_new_user<'a>(db: &Database, user: &'a NewUser) -> Result<CheckedUser<'a>> {
    let email = normalize_email(&user.email)?;
    let display_name = user.display_name.trim();
    if display_name.is_empty() {
        return Err(Error::Invalid(Reason::Missing { field: Field::Name }));
    }
    text_rules::check(Field::Name, display_name, MAX_NAME_CHARS, Lines::One)?;
    let department = user
        .department
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let department_id = match department {
        Some(name) => {
            text_rules::check(Field::Department, name, MAX_NAME_CHARS, Lines::One)?;
            Some(department_id(db, name).await?)
        }
        None => None,
    };
    Ok(CheckedUser {
        email,
        display_name,
        department_id,
    })
}

/// Creates a user, or updates name, department and role of the one with that e-mail.
/// A password hash, when given, replaces the old one.
pub async fn upsert(db: &Database, user: &NewUser, password_hash: Option<&str>) -> Result<i64> {
    let CheckedUser {
        email,
        display_name,
        department_id,
    } = check_new_user(db, user).await?;
    let now = Utc::now();
    let existing: Option<i64> = on_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await?
    });
    let id = match existing {
        Some(id) => {
            on_pool!(db, |pool| {
                sqlx::query(
                    "UPDATE users SET display_name = $2, department_id = $3, role = $4,
                            password_hash = COALESCE($5, password_hash), updated_at = $6
                      WHERE id = $1",
                )
                .bind(id)
                .bind(display_name)
                .bind(department_id)
                .bind(user.role.code())
                .bind(password_hash)
                .bind(now)
                .execute(pool)
                .await
                .map(|_| ())?
            });
            id
        }
        None => on_pool!(db, |pool| {
            sqlx::query_scalar(
                "INSERT INTO users (email, display_name, department_id, role, lang, password_hash, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(&email)
            .bind(display_name)
            .bind(department_id)
            .bind(user.role.code())
            .bind(user.lang.code())
            .bind(password_hash)
            .bind(now)
            .fetch_one(pool)
            .await?
        }),
    };
    Ok(id)
}

#[derive(sqlx::FromRow)]
struct LoginRow {
    id: i64,
    email: String,
    display_name: String,
    role: String,
    lang: String,
    password_hash: Option<String>,
    active: bool,
    session_generation: i64,
}

/// Checks an e-mail address and password.
///
/// Unknown address, wrong password, deactivated account and an account
/// without a password all answer [`Error::Unauthenticated`] after the same
/// work — a full Argon2 verification, against a dummy hash when there is no
/// real one — so neither the answer nor its timing tells which it was.
pub async fn authenticate(
    db: &Database,
    email: &str,
    password: String,
) -> Result<AuthenticatedUser> {
    let email = email.trim().to_lowercase();
    let row: Option<LoginRow> = on_pool!(db, |pool| {
        sqlx::query_as(
            "SELECT id, email, display_name, role, lang, password_hash, active, session_generation
               FROM users WHERE lower(email) = $1",
        )
        .bind(&email)
        .fetch_optional(pool)
        .await?
    });
    let stored = row
        .as_ref()
        .filter(|row| row.active)
        .and_then(|row| row.password_hash.clone());
    let (stored, real) = match stored {
        Some(hash) => (hash, true),
        None => (password::dummy_hash().await?, false),
    };
    let matches = password::verify(password, stored).await;
    match row {
        Some(row) if real && matches => Ok(AuthenticatedUser {
            role: Role::parse(&row.role).ok_or(Error::Internal)?,
            lang: Lang::parse(&row.lang).ok_or(Error::Internal)?,
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            session_generation: row.session_generation,
        }),
        _ => Err(Error::Unauthenticated),
    }
}

/// Logging in as the sign-in form does it: [`authenticate`] behind the
/// brute-force limits ([`throttle::check_within_limits`]), with every outcome
/// in the audit log. Unknown addresses are counted like real ones, so the
/// limits reveal nothing about who has an account.
#[tracing::instrument(skip_all)]
pub async fn log_in(
    db: &Database,
    limits: &LoginLimits,
    email: &str,
    password: String,
    address: &str,
    now: DateTime<Utc>,
) -> Result<AuthenticatedUser> {
    let email = login_name(email);
    let account_key = throttle::account_key(&email);
    let address_key = throttle::address_key(address);
    let checked = throttle::check_within_limits(
        db,
        limits,
        &account_key,
        &address_key,
        now,
        authenticate(db, &email, password),
    )
    .await;
    crate::observe::login(&checked);
    match checked {
        Ok(user) => {
            audit::insert_at(
                db,
                Some(user.id),
                AuditAction::LoggedIn,
                &user.email,
                json!({ "address": address }),
                now,
            )
            .await?;
            Ok(user)
        }
        Err(Error::Unauthenticated) => {
            audit::insert_at(
                db,
                None,
                AuditAction::LoginFailed,
                &email,
                json!({ "address": address }),
                now,
            )
            .await?;
            Err(Error::Unauthenticated)
        }
        Err(Error::TooManyAttempts { retry_after_secs }) => {
            audit::insert_at(
                db,
                None,
                AuditAction::LoginThrottled,
                &email,
                json!({ "address": address, "retry_after_secs": retry_after_secs }),
                now,
            )
            .await?;
            Err(Error::TooManyAttempts { retry_after_secs })
        }
        Err(other) => Err(other),
    }
}

/// The e-mail as typed, reduced to what can name an account: lowercased,
/// trimmed, and cut to the longest valid address so a megabyte of junk in
/// the form cannot become a megabyte key or audit row.
fn login_name(email: &str) -> String {
    // Control characters cannot be part of an address, and a NUL would be
    // refused by PostgreSQL mid-statement.
    email
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect()
}

pub async fn count(db: &Database) -> Result<i64> {
    Ok(on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM users"
    )
    .fetch_one(pool)
    .await?))
}

pub mod password {
    //! Argon2id with the crate's defaults, which are OWASP's recommendation
    //! (19 MiB, 2 passes, 1 lane). Hashing takes ~25 ms of CPU, so it runs on
    //! the blocking pool, never on an async worker, and at most one per core
    //! at a time: a login storm queues instead of starving everything else.

    use std::sync::LazyLock;

    use argon2::Argon2;
    use argon2::password_hash::{
        PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
    };
    use tokio::sync::{OnceCell, Semaphore};

    use crate::{Error, Result};

    pub const MIN_LENGTH: usize = 10;

    static HASHING: LazyLock<Semaphore> = LazyLock::new(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get))
    });

    /// Runs `work` on the blocking pool once a hashing slot is free.
    async fn limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let _slot = HASHING.acquire().await.map_err(|_| Error::Internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| Error::Internal)
    }

    fn hash_now(password: &[u8]) -> Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password, &salt)
            .map(|hash| hash.to_string())
            .map_err(|_| Error::Internal)
    }

    pub fn check_strength(password: &str) -> Result<()> {
        if password.chars().count() < MIN_LENGTH {
            return Err(Error::Invalid(crate::reason::Reason::PasswordTooShort {
                min_chars: MIN_LENGTH as u32,
            }));
        }
        Ok(())
    }

    pub async fn hash(password: String) -> Result<String> {
        check_strength(&password)?;
        limited(move || hash_now(password.as_bytes())).await?
    }

    pub async fn verify(password: String, stored: String) -> bool {
        limited(move || {
            PasswordHash::new(&stored)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }

    /// A real hash of a random password, made once, to verify against when an
    /// account has none, so that a failed login costs the same either way.
    pub(crate) async fn dummy_hash() -> Result<String> {
        static DUMMY: OnceCell<String> = OnceCell::const_new();
        DUMMY
            .get_or_try_init(|| async {
                let random = SaltString::generate(&mut OsRng).to_string();
                limited(move || hash_now(random.as_bytes())).await?
            })
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Hanako.Sato@Example.CO.JP ").unwrap(),
            "hanako.sato@example.co.jp"
        );
        for bad in [
            "",
            "no-at",
            "@example.com",
            "a@b",
            "a@.com",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() {
        let hash = password::hash("correct horse battery".into())
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(password::verify("correct horse battery".into(), hash.clone()).await);
        assert!(!password::verify("wrong password!!".into(), hash).await);
        assert!(password::hash("short".into()).await.is_err());
    }
}
