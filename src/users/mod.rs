//! People and departments, logging in, and the password hashing behind it.

mod admin;
pub mod anonymize;
pub mod import;
pub mod own_data;
pub mod password_links;
pub mod reminder_preference;
pub mod throttle;

pub use admin::{
    UserFilter, change_password, create, current, find, find_by_email, list, list_filtered,
    search_statement, set_active, set_lang, set_password_from_command_line, set_role,
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
    //! (19 MiB, 2 passes, 1 lane). Hashing takes ~25 ms of CPU, so it never
    //! runs on an async worker but on a few threads of its own, one per core;
    //! a login storm queues for them instead of starving everything else.
    //!
    //! Each of those threads keeps its 19 MiB of Argon2 memory between
    //! hashes. Allocated afresh for every hash on tokio's blocking pool, the
    //! allocator kept it per thread: 600 logins left the process at ~550 MB.
    //! Reused, the process holds one block per core and no hash pays for
    //! faulting in fresh pages.

    use std::cell::RefCell;
    use std::sync::LazyLock;

    use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString, rand_core::OsRng};
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    use tokio::sync::{OnceCell, oneshot};

    use crate::{Error, Result};

    pub const MIN_LENGTH: usize = 10;

    /// The hashing threads; rayon's pool gives a fixed set of named threads
    /// with a queue in front, and survives a panicking job.
    static HASHING: LazyLock<Option<rayon::ThreadPool>> = LazyLock::new(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(
                std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get),
            )
            .thread_name(|n| format!("password-hashing-{n}"))
            .build()
            .ok()
    });

    thread_local! {
        /// This thread's Argon2 memory, kept for the next hash.
        static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
    }

    /// A stored hash may name more memory than ours (one imported from
    /// elsewhere): up to this many blocks are kept, more are borrowed for
    /// that hash only.
    const KEPT_BLOCKS: usize = 4 * Params::DEFAULT_M_COST as usize;

    /// Runs `work` on a hashing thread when one is free.
    async fn limited<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let pool = HASHING.as_ref().ok_or(Error::Internal)?;
        let (done, answer) = oneshot::channel();
        pool.spawn(move || {
            let _ = done.send(work());
        });
        answer.await.map_err(|_| Error::Internal)
    }

    /// Argon2 of `password` and `salt` into `out`, in this thread's memory.
    fn argon2_into(
        argon: &Argon2,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> std::result::Result<(), argon2::Error> {
        let needed = params.block_count();
        if needed > KEPT_BLOCKS {
            let mut borrowed = vec![Block::default(); needed];
            return argon.hash_password_into_with_memory(password, salt, out, &mut borrowed);
        }
        MEMORY.with_borrow_mut(|memory| {
            if memory.len() < needed {
                memory.resize(needed, Block::default());
            }
            argon.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`.
    fn hash_now(password: &[u8]) -> Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut salt_bytes = [0u8; 64];
        let raw_salt = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|_| Error::Internal)?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        argon2_into(&argon, &params, password, raw_salt, &mut out).map_err(|_| Error::Internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|_| Error::Internal)?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|_| Error::Internal)?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` is the one `stored` (a PHC string) was made of,
    /// with the algorithm, version and costs the string names.
    fn verify_now(password: &[u8], stored: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
            return false;
        };
        let version = match parsed.version.map(Version::try_from) {
            None => Version::default(),
            Some(Ok(version)) => version,
            Some(Err(_)) => return false,
        };
        let Ok(params) = Params::try_from(&parsed) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(raw_salt) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let argon = Argon2::new(algorithm, version, params.clone());
        let mut out = vec![0u8; expected.len()];
        // Output's equality runs in constant time.
        argon2_into(&argon, &params, password, raw_salt, &mut out).is_ok()
            && Output::new(&out).is_ok_and(|computed| computed == expected)
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
        limited(move || verify_now(password.as_bytes(), &stored))
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

    #[cfg(test)]
    mod tests {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};

        use super::*;

        #[test]
        fn our_hashes_and_the_crates_verify_each_other() {
            let ours = hash_now(b"correct horse battery").unwrap();
            assert!(
                ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
                "{ours}"
            );
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(
                Argon2::default()
                    .verify_password(b"correct horse battery", &parsed)
                    .is_ok()
            );
            assert!(
                Argon2::default()
                    .verify_password(b"correct horse batterz", &parsed)
                    .is_err()
            );

            let salt = SaltString::generate(&mut OsRng);
            let theirs = Argon2::default()
                .hash_password(b"another password", &salt)
                .unwrap()
                .to_string();
            assert!(verify_now(b"another password", &theirs));
            assert!(!verify_now(b"another passwort", &theirs));
            // Twice on one thread: the kept memory gives the same answers.
            assert!(verify_now(b"correct horse battery", &ours));
            assert!(verify_now(b"correct horse battery", &ours));
        }

        #[test]
        fn other_costs_and_algorithms_are_verified_as_the_string_says() {
            let salt = SaltString::generate(&mut OsRng);
            for (algorithm, params) in [
                (
                    Algorithm::Argon2i,
                    Params::new(8192, 3, 1, Some(32)).unwrap(),
                ),
                (
                    Algorithm::Argon2id,
                    Params::new(4096, 1, 2, Some(16)).unwrap(),
                ),
                // More memory than is kept between hashes.
                (
                    Algorithm::Argon2id,
                    Params::new(5 * Params::DEFAULT_M_COST, 1, 1, None).unwrap(),
                ),
            ] {
                let stored = Argon2::new(algorithm, Version::V0x13, params)
                    .hash_password(b"same words", &salt)
                    .unwrap()
                    .to_string();
                assert!(verify_now(b"same words", &stored), "{stored}");
                assert!(!verify_now(b"other words", &stored), "{stored}");
            }
        }

        #[test]
        fn garbage_never_verifies() {
            for stored in [
                "",
                "plain text",
                "$argon2id$v=19$m=19456,t=2,p=1$",
                "$argon2id$v=99$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
                "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            ] {
                assert!(!verify_now(b"anything at all", stored), "{stored}");
            }
        }
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
