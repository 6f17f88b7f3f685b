//! Runtime configuration: built-in defaults, then `Leptos.toml`, then
//! `TSUDOI_<KEY>` environment variables, then command-line flags.
//!
//! No file is needed at all: the defaults run Tsudoi on an embedded SQLite file
//! next to the binary. Every value is checked before anything starts, and a bad
//! one stops the start with one line naming the key and the problem.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveTime;
use chrono_tz::Tz;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tsudoi::mail::delivery::DeliverySettings;
use tsudoi::mail::transport::Mailbox;
use tsudoi::storage::{DatabaseUrl, PoolSettings};

pub const CONFIG_FILE_NAME: &str = "Leptos.toml";
pub const ENV_PREFIX: &str = "TSUDOI_";

/// The keys as written in `Leptos.toml`; each can be overridden by `TSUDOI_<KEY>`.
///
/// Not `Debug`: the URLs may hold passwords. [`Settings`] keeps them as secrets.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub addr: String,
    pub database_url: Option<String>,
    pub redis_url: Option<String>,
    pub smtp_url: Option<String>,
    /// Unset: the address Tsudoi listens on, as seen from this machine.
    pub public_url: Option<String>,
    pub time_zone: String,
    pub reminder_time: String,
    pub pool_size: u32,
    pub statement_timeout_ms: u64,
    pub slow_statement_ms: u64,
    pub acquire_timeout_ms: u64,
    pub request_timeout_ms: u64,
    pub retention_months: u32,
    /// Unset: an `archive` folder next to the binary.
    pub archive_folder: Option<String>,
    pub mail_keep_days: u32,
    pub audit_keep_months: u32,
    pub anonymize_after_days: u32,
    pub session_idle_minutes: u32,
    pub session_max_hours: u32,
    pub mail_from: Option<String>,
    pub mail_folder: Option<String>,
    pub mail_per_minute: u32,
    pub mail_batch_size: u32,
    pub mail_connections: u32,
    pub mail_max_attempts: u32,
    pub mail_send_timeout_seconds: u64,
    pub mail_retry_seconds: u64,
    pub list_cache_pages: u32,
    /// Unset: no metrics. Set: Prometheus metrics on this address only,
    /// never on the public one.
    pub metrics_addr: Option<String>,
    /// Unset: no traces leave the process. Set: spans are sent over
    /// OTLP/HTTP (protobuf) to this collector, e.g. http://127.0.0.1:4318.
    pub otlp_endpoint: Option<String>,
    pub log: String,
    /// `text` for people, `json` (one object a line) for log shippers.
    pub log_format: String,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            addr: "127.0.0.1:3000".into(),
            database_url: None,
            redis_url: None,
            smtp_url: None,
            public_url: None,
            time_zone: "Asia/Tokyo".into(),
            reminder_time: "09:00".into(),
            pool_size: 16,
            statement_timeout_ms: 5_000,
            slow_statement_ms: 200,
            acquire_timeout_ms: 3_000,
            request_timeout_ms: 10_000,
            retention_months: 24,
            archive_folder: None,
            mail_keep_days: 180,
            audit_keep_months: 60,
            anonymize_after_days: 90,
            session_idle_minutes: 120,
            session_max_hours: 12,
            mail_from: None,
            mail_folder: None,
            mail_per_minute: 600,
            mail_batch_size: 50,
            mail_connections: 4,
            mail_max_attempts: 8,
            mail_send_timeout_seconds: 60,
            mail_retry_seconds: 30,
            list_cache_pages: 2_000,
            metrics_addr: None,
            otlp_endpoint: None,
            log: "info".into(),
            log_format: "text".into(),
        }
    }
}

const KEYS: [&str; 32] = [
    "addr",
    "database_url",
    "redis_url",
    "smtp_url",
    "public_url",
    "time_zone",
    "reminder_time",
    "pool_size",
    "statement_timeout_ms",
    "slow_statement_ms",
    "acquire_timeout_ms",
    "request_timeout_ms",
    "retention_months",
    "archive_folder",
    "mail_keep_days",
    "audit_keep_months",
    "anonymize_after_days",
    "session_idle_minutes",
    "session_max_hours",
    "mail_from",
    "mail_folder",
    "mail_per_minute",
    "mail_batch_size",
    "mail_connections",
    "mail_max_attempts",
    "mail_send_timeout_seconds",
    "mail_retry_seconds",
    "list_cache_pages",
    "metrics_addr",
    "otlp_endpoint",
    "log",
    "log_format",
];

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For a person: one readable line per event.
    Text,
    /// For a log shipper: one JSON object per line, with the request's fields.
    Json,
}

/// Checked configuration, ready to use.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    /// Its `Debug` leaves out the password.
    pub database: DatabaseUrl,
    pub redis_url: Option<SecretString>,
    pub smtp_url: Option<SecretString>,
    pub public_url: url::Url,
    pub time_zone: Tz,
    pub reminder_time: NaiveTime,
    pub pool: PoolSettings,
    /// Longest a request may take to answer; past it, 503.
    pub request_timeout: Duration,
    pub retention_months: u32,
    /// Where each retention run writes its archive folder.
    pub archive_folder: PathBuf,
    /// Days sent and failed mail stays in the outbox.
    pub mail_keep_days: u32,
    /// Months entries stay in the audit log.
    pub audit_keep_months: u32,
    /// Days after deactivation until a person who left is anonymized.
    pub anonymize_after_days: u32,
    pub sessions: SessionSettings,
    pub mail: MailSettings,
    /// Pages of the public event list kept in memory; 0 keeps none.
    pub list_cache_pages: usize,
    /// Where `/metrics` answers; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The OTLP/HTTP collector spans go to; `None`: tracing stays local.
    pub otlp_endpoint: Option<url::Url>,
    pub log: String,
    pub log_format: LogFormat,
    /// Where the configuration came from, for the start-up log line.
    pub source: Option<PathBuf>,
}

impl Settings {
    /// What the retention job needs of the configuration.
    pub fn retention(&self) -> tsudoi::retention::job::RetentionSettings {
        tsudoi::retention::job::RetentionSettings {
            months: self.retention_months,
            mail_keep_days: self.mail_keep_days,
            audit_keep_months: self.audit_keep_months,
            archive_folder: self.archive_folder.clone(),
            time_zone: self.time_zone,
            anonymize_after_days: self.anonymize_after_days,
        }
    }
}

/// How long a login lasts.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// Logged out after this long without a request.
    pub idle: Duration,
    /// Logged out this long after logging in, however active.
    pub max_age: Duration,
}

/// How mail goes out.
#[derive(Debug, Clone)]
pub struct MailSettings {
    pub from: Mailbox,
    /// Where mail is written when no SMTP server is configured.
    pub folder: PathBuf,
    pub delivery: DeliverySettings,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

/// Values given on the command line; they win over file and environment.
/// Not `Debug`: the database URL may hold a password.
#[derive(Default, Clone, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// Finds the configuration file: the one named explicitly, else `Leptos.toml`
/// in the working directory, else next to the binary, else none.
pub fn locate(explicit: Option<&Path>) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(path) = explicit {
        // A folder is taken to mean the Leptos.toml inside it.
        if path.is_dir() {
            let inside = path.join(CONFIG_FILE_NAME);
            return if inside.is_file() {
                Ok(Some(inside))
            } else {
                Err(ConfigError(format!(
                    "{} is a folder without a {CONFIG_FILE_NAME} in it; pass the configuration file itself",
                    path.display()
                )))
            };
        }
        return if path.is_file() {
            Ok(Some(path.to_path_buf()))
        } else {
            Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )))
        };
    }
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(CONFIG_FILE_NAME)));
    Ok([Some(PathBuf::from(CONFIG_FILE_NAME)), beside_binary]
        .into_iter()
        .flatten()
        .find(|p| p.is_file()))
}

pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = file {
        figment = figment.merge(Toml::file_exact(path));
    }
    let raw: RawConfig = figment
        .merge(Env::prefixed(ENV_PREFIX).only(&KEYS))
        .merge(Serialized::defaults(overrides))
        .extract()
        .map_err(|err| ConfigError(one_line(&err.to_string())))?;
    validate(raw, file)
}

/// Where links in mails and calendar files point when `public_url` is not
/// set: the listening address, so `serve --addr 127.0.0.1:3100` links to
/// port 3100. Any or the loopback address reads as `localhost`.
fn local_url(addr: SocketAddr) -> url::Url {
    let host = if addr.ip().is_unspecified() || addr.ip().is_loopback() {
        "localhost".to_string()
    } else {
        match addr {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        }
    };
    url::Url::parse(&format!("http://{host}:{}", addr.port()))
        .expect("a host and a port make a URL")
}

fn one_line(text: &str) -> String {
    text.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// Names a key the way the operator set it: `database_url (TSUDOI_DATABASE_URL)`.
fn key(name: &str) -> String {
    format!("{name} ({ENV_PREFIX}{})", name.to_uppercase())
}

fn bad(name: &str, problem: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{}: {problem}", key(name)))
}

fn validate(raw: RawConfig, source: Option<&Path>) -> Result<Settings, ConfigError> {
    let addr = raw.addr.parse::<SocketAddr>().map_err(|_| {
        bad(
            "addr",
            format!("“{}” is not HOST:PORT, e.g. 127.0.0.1:3000", raw.addr),
        )
    })?;
    let database = match raw.database_url.as_deref() {
        None => DatabaseUrl::Sqlite(default_sqlite_path()),
        Some(text) => DatabaseUrl::parse(text).map_err(|problem| bad("database_url", problem))?,
    };
    let redis_url = with_scheme(
        "redis_url",
        non_empty(raw.redis_url.clone()),
        &["redis://", "rediss://"],
    )?
    .map(SecretString::from);
    let smtp_url = with_scheme(
        "smtp_url",
        non_empty(raw.smtp_url.clone()),
        &["smtp://", "smtps://"],
    )?
    .map(SecretString::from);
    let public_url = match raw.public_url.as_deref() {
        Some(text) => url::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                bad(
                    "public_url",
                    "must be an http:// or https:// URL, e.g. https://events.example.co.jp",
                )
            })?,
        None => local_url(addr),
    };
    let mail = mail_settings(&raw, &public_url)?;
    let time_zone = raw.time_zone.parse::<Tz>().map_err(|_| {
        bad(
            "time_zone",
            format!(
                "“{}” is not an IANA time zone such as Asia/Tokyo",
                raw.time_zone
            ),
        )
    })?;
    let reminder_time = NaiveTime::parse_from_str(&raw.reminder_time, "%H:%M").map_err(|_| {
        bad(
            "reminder_time",
            format!("“{}” is not a time of day as HH:MM", raw.reminder_time),
        )
    })?;
    if !(1..=1000).contains(&raw.pool_size) {
        return Err(bad("pool_size", "must be between 1 and 1000"));
    }
    if !(100..=600_000).contains(&raw.statement_timeout_ms) {
        return Err(bad(
            "statement_timeout_ms",
            "must be between 100 and 600000 milliseconds",
        ));
    }
    if !(1..=600_000).contains(&raw.slow_statement_ms) {
        return Err(bad(
            "slow_statement_ms",
            "must be between 1 and 600000 milliseconds",
        ));
    }
    if !(100..=600_000).contains(&raw.acquire_timeout_ms) {
        return Err(bad(
            "acquire_timeout_ms",
            "must be between 100 and 600000 milliseconds",
        ));
    }
    if !(1_000..=600_000).contains(&raw.request_timeout_ms) {
        return Err(bad(
            "request_timeout_ms",
            "must be between 1000 and 600000 milliseconds",
        ));
    }
    if !(1..=1_200).contains(&raw.retention_months) {
        return Err(bad("retention_months", "must be between 1 and 1200"));
    }
    if !(1..=36_500).contains(&raw.mail_keep_days) {
        return Err(bad("mail_keep_days", "must be between 1 and 36500"));
    }
    if !(1..=36_500).contains(&raw.anonymize_after_days) {
        return Err(bad("anonymize_after_days", "must be between 1 and 36500"));
    }
    if !(1..=1_200).contains(&raw.audit_keep_months) {
        return Err(bad("audit_keep_months", "must be between 1 and 1200"));
    }
    if !(5..=7 * 24 * 60).contains(&raw.session_idle_minutes) {
        return Err(bad(
            "session_idle_minutes",
            "must be between 5 and 10080 (one week)",
        ));
    }
    if !(1..=30 * 24).contains(&raw.session_max_hours) {
        return Err(bad(
            "session_max_hours",
            "must be between 1 and 720 (30 days)",
        ));
    }
    if raw.list_cache_pages > 100_000 {
        return Err(bad("list_cache_pages", "must be between 0 and 100000"));
    }
    let metrics_addr = non_empty(raw.metrics_addr.clone())
        .map(|text| {
            text.parse::<SocketAddr>().map_err(|_| {
                bad(
                    "metrics_addr",
                    format!("“{text}” is not HOST:PORT, e.g. 127.0.0.1:9464"),
                )
            })
        })
        .transpose()?;
    if metrics_addr
        .is_some_and(|metrics| metrics.port() == addr.port() && metrics.ip() == addr.ip())
    {
        return Err(bad(
            "metrics_addr",
            "must differ from addr: metrics are never served on the public address",
        ));
    }
    let otlp_endpoint = non_empty(raw.otlp_endpoint.clone())
        .map(|text| match url::Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Ok(url),
            _ => Err(bad(
                "otlp_endpoint",
                format!("“{text}” is not a collector URL such as http://127.0.0.1:4318"),
            )),
        })
        .transpose()?;
    let log_format = match raw.log_format.trim() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            return Err(bad(
                "log_format",
                format!("“{other}” is neither text nor json"),
            ));
        }
    };
    tracing_subscriber::EnvFilter::try_new(&raw.log)
        .map_err(|_| bad("log", "is not a log filter such as info or tsudoi=debug"))?;
    Ok(Settings {
        addr,
        database,
        redis_url,
        smtp_url,
        public_url,
        time_zone,
        reminder_time,
        pool: PoolSettings {
            max_connections: raw.pool_size,
            acquire_timeout: Duration::from_millis(raw.acquire_timeout_ms),
            statement_timeout: Duration::from_millis(raw.statement_timeout_ms),
            slow_statement: Duration::from_millis(raw.slow_statement_ms),
        },
        request_timeout: Duration::from_millis(raw.request_timeout_ms),
        retention_months: raw.retention_months,
        archive_folder: non_empty(raw.archive_folder.clone())
            .map_or_else(|| beside_binary("archive"), PathBuf::from),
        mail_keep_days: raw.mail_keep_days,
        audit_keep_months: raw.audit_keep_months,
        anonymize_after_days: raw.anonymize_after_days,
        sessions: SessionSettings {
            idle: Duration::from_secs(u64::from(raw.session_idle_minutes) * 60),
            max_age: Duration::from_secs(u64::from(raw.session_max_hours) * 3600),
        },
        mail,
        list_cache_pages: raw.list_cache_pages as usize,
        metrics_addr,
        otlp_endpoint,
        log_format,
        log: raw.log,
        source: source.map(Path::to_path_buf),
    })
}

fn mail_settings(raw: &RawConfig, public_url: &url::Url) -> Result<MailSettings, ConfigError> {
    let from = match non_empty(raw.mail_from.clone()) {
        Some(text) => text.parse::<Mailbox>().map_err(|_| {
            bad(
                "mail_from",
                format!("“{text}” is not a sender such as Tsudoi <events@example.co.jp>"),
            )
        })?,
        None => format!(
            "Tsudoi <tsudoi@{}>",
            public_url.host_str().unwrap_or("localhost")
        )
        .parse::<Mailbox>()
        .map_err(|_| {
            bad(
                "mail_from",
                "is needed: public_url's host does not make a mail address",
            )
        })?,
    };
    let folder = match non_empty(raw.mail_folder.clone()) {
        Some(path) => PathBuf::from(path),
        None => beside_binary("mail"),
    };
    let in_range = |name: &str, value: u64, low: u64, high: u64| {
        if (low..=high).contains(&value) {
            Ok(())
        } else {
            Err(bad(name, format!("must be between {low} and {high}")))
        }
    };
    in_range("mail_per_minute", raw.mail_per_minute.into(), 1, 100_000)?;
    in_range("mail_batch_size", raw.mail_batch_size.into(), 1, 1_000)?;
    in_range("mail_connections", raw.mail_connections.into(), 1, 64)?;
    in_range("mail_max_attempts", raw.mail_max_attempts.into(), 1, 100)?;
    in_range(
        "mail_send_timeout_seconds",
        raw.mail_send_timeout_seconds,
        1,
        600,
    )?;
    in_range("mail_retry_seconds", raw.mail_retry_seconds, 1, 86_400)?;
    Ok(MailSettings {
        from,
        folder,
        delivery: DeliverySettings {
            batch_size: raw.mail_batch_size,
            per_minute: raw.mail_per_minute,
            connections: raw.mail_connections,
            max_attempts: raw.mail_max_attempts,
            send_timeout: Duration::from_secs(raw.mail_send_timeout_seconds),
            retry_base: Duration::from_secs(raw.mail_retry_seconds),
            ..DeliverySettings::default()
        },
    })
}

/// The URL if it starts with one of `schemes`; unset stays unset.
fn with_scheme(
    name: &str,
    url: Option<String>,
    schemes: &[&str],
) -> Result<Option<String>, ConfigError> {
    match url {
        Some(url) if !schemes.iter().any(|scheme| url.starts_with(scheme)) => Err(bad(
            name,
            format!("must start with {}", schemes.join(" or ")),
        )),
        url => Ok(url),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `tsudoi.db` next to the binary: copy the binary anywhere and it keeps its data beside it.
fn default_sqlite_path() -> PathBuf {
    beside_binary("tsudoi.db")
}

fn beside_binary(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(contents: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(&path, contents).unwrap();
        load(Some(&path), &Overrides::default())
    }

    /// The keys of the README's configuration table.
    fn keys_in_readme() -> Vec<String> {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("| key | default | meaning |")
            .nth(1)
            .expect("the README's configuration table");
        table
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .filter_map(|line| line.split('`').nth(1).map(str::to_string))
            .collect()
    }

    /// The keys `Leptos.toml` shows, commented out or set.
    fn keys_in_sample_file() -> Vec<String> {
        include_str!("../../Leptos.toml")
            .lines()
            .map(|line| line.trim_start_matches('#').trim())
            .filter_map(|line| line.split_once(" = ").map(|(key, _)| key))
            .filter(|key| key.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_documented_setting_is_read_and_changes_what_tsudoi_does() {
        let mut known: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
        known.sort();
        let mut readme = keys_in_readme();
        readme.sort();
        assert_eq!(readme, known, "README table vs the keys Tsudoi reads");
        let mut sample = keys_in_sample_file();
        sample.sort();
        assert_eq!(sample, known, "Leptos.toml vs the keys Tsudoi reads");

        // For each key a valid value other than its default: the settings
        // Tsudoi runs with must differ from the defaults'.
        let other_values = [
            ("addr", "\"127.0.0.1:3999\""),
            ("database_url", "\"sqlite:///tmp/elsewhere.db\""),
            ("redis_url", "\"redis://127.0.0.1:6380\""),
            ("smtp_url", "\"smtp://127.0.0.1:2525\""),
            ("public_url", "\"https://events.example.co.jp\""),
            ("time_zone", "\"Europe/Paris\""),
            ("reminder_time", "\"07:30\""),
            ("pool_size", "7"),
            ("statement_timeout_ms", "1234"),
            ("slow_statement_ms", "321"),
            ("acquire_timeout_ms", "4321"),
            ("request_timeout_ms", "12345"),
            ("retention_months", "36"),
            ("archive_folder", "\"/var/lib/tsudoi/archive\""),
            ("mail_keep_days", "30"),
            ("audit_keep_months", "84"),
            ("anonymize_after_days", "30"),
            ("session_idle_minutes", "30"),
            ("session_max_hours", "8"),
            ("mail_from", "\"Events <events@example.co.jp>\""),
            ("mail_folder", "\"/var/lib/tsudoi/mail\""),
            ("mail_per_minute", "60"),
            ("mail_batch_size", "10"),
            ("mail_connections", "2"),
            ("mail_max_attempts", "3"),
            ("mail_send_timeout_seconds", "15"),
            ("mail_retry_seconds", "90"),
            ("list_cache_pages", "0"),
            ("metrics_addr", "\"127.0.0.1:9464\""),
            ("otlp_endpoint", "\"http://127.0.0.1:4318\""),
            ("log", "\"debug\""),
            ("log_format", "\"json\""),
        ];
        let mut covered: Vec<String> = other_values.iter().map(|(k, _)| k.to_string()).collect();
        covered.sort();
        assert_eq!(covered, known, "a value for every key");
        // Where the file was is not a setting (each test file is elsewhere).
        let described = |mut settings: Settings| {
            settings.source = None;
            format!("{settings:?}")
        };
        let defaults = described(with_file("").unwrap());
        assert_eq!(described(with_file("").unwrap()), defaults);
        for (key, value) in other_values {
            let settings = with_file(&format!("{key} = {value}\n"))
                .unwrap_or_else(|e| panic!("{key} = {value}: {e}"));
            assert_ne!(
                described(settings),
                defaults,
                "{key} = {value} changed nothing"
            );
        }
    }

    #[test]
    fn passwords_in_urls_never_appear_in_debug_output() {
        let settings = with_file(
            "database_url = \"postgres://tsudoi:db-Secret-1@db.internal/tsudoi\"\n\
             redis_url = \"redis://:redis-Secret-2@cache.internal:6379\"\n\
             smtp_url = \"smtp://mailer:smtp-Secret-3@mail.internal:587\"\n",
        )
        .unwrap();
        let printed = format!("{settings:?} {settings:#?}");
        for secret in ["db-Secret-1", "redis-Secret-2", "smtp-Secret-3"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        // Still there for the code that connects.
        use secrecy::ExposeSecret;
        assert!(
            settings
                .redis_url
                .as_ref()
                .unwrap()
                .expose_secret()
                .contains("redis-Secret-2")
        );
        assert!(
            settings
                .smtp_url
                .as_ref()
                .unwrap()
                .expose_secret()
                .contains("smtp-Secret-3")
        );
        assert!(
            printed.contains("db.internal"),
            "the rest stays readable: {printed}"
        );
    }

    #[test]
    fn links_follow_the_listening_address_unless_public_url_is_set() {
        let with_addr = |addr: &str| {
            load(
                None,
                &Overrides {
                    addr: Some(addr.into()),
                    ..Overrides::default()
                },
            )
            .unwrap()
            .public_url
            .to_string()
        };
        assert_eq!(with_addr("127.0.0.1:3100"), "http://localhost:3100/");
        assert_eq!(with_addr("0.0.0.0:8080"), "http://localhost:8080/");
        assert_eq!(with_addr("10.0.0.5:8080"), "http://10.0.0.5:8080/");
        assert_eq!(
            load(None, &Overrides::default())
                .unwrap()
                .public_url
                .to_string(),
            "http://localhost:3000/"
        );
        let set = with_file("public_url = \"https://events.example.co.jp\"\n").unwrap();
        assert_eq!(set.public_url.to_string(), "https://events.example.co.jp/");
    }

    #[test]
    fn defaults_need_no_file() {
        let settings = load(None, &Overrides::default()).unwrap();
        assert_eq!(settings.time_zone, chrono_tz::Asia::Tokyo);
        assert_eq!(
            settings.reminder_time,
            NaiveTime::from_hms_opt(9, 0, 0).unwrap()
        );
        assert!(
            matches!(settings.database, DatabaseUrl::Sqlite(ref p) if p.ends_with("tsudoi.db"))
        );
    }

    #[test]
    fn file_values_are_read_and_overrides_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CONFIG_FILE_NAME);
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:8080\"\ntime_zone = \"Europe/Berlin\"\npool_size = 4\n",
        )
        .unwrap();
        let overrides = Overrides {
            addr: Some("127.0.0.1:9999".into()),
            database_url: None,
        };
        let settings = load(Some(&path), &overrides).unwrap();
        assert_eq!(settings.addr.port(), 9999);
        assert_eq!(settings.time_zone, chrono_tz::Europe::Berlin);
        assert_eq!(settings.pool.max_connections, 4);
    }

    #[test]
    fn bad_values_name_the_key() {
        let cases = [
            (
                "time_zone = \"Mars/Olympus\"",
                "time_zone (TSUDOI_TIME_ZONE)",
            ),
            ("reminder_time = \"9am\"", "reminder_time"),
            (
                "database_url = \"mysql://x\"",
                "database_url (TSUDOI_DATABASE_URL)",
            ),
            ("pool_size = 0", "pool_size"),
            ("addr = \"nowhere\"", "addr"),
            ("public_url = \"ftp://x\"", "public_url"),
            (
                "redis_url = \"http://x\"",
                "redis_url (TSUDOI_REDIS_URL): must start with redis:// or rediss://",
            ),
            ("smtp_url = \"mail.example\"", "smtp_url"),
            ("pool_size = \"many\"", "pool_size"),
            ("session_idle_minutes = 1", "session_idle_minutes"),
            ("session_max_hours = 0", "session_max_hours"),
            ("list_cache_pages = 1000000", "list_cache_pages"),
            ("metrics_addr = \"everywhere\"", "metrics_addr"),
            ("log_format = \"xml\"", "log_format"),
            ("otlp_endpoint = \"collector:4318\"", "otlp_endpoint"),
            (
                "metrics_addr = \"127.0.0.1:3000\"",
                "metrics_addr (TSUDOI_METRICS_ADDR): must differ from addr",
            ),
            ("unknown_key = 1", "unknown_key"),
        ];
        for (line, expected) in cases {
            let err = with_file(line).expect_err(line).to_string();
            assert!(err.contains(expected), "{line}: {err}");
            assert!(!err.contains('\n'), "{line}: {err}");
        }
    }
}
