//! Runs the real `tsudoi` binary for tests: own database, own port, killed on drop.

#![allow(dead_code)] // each test file uses a different part of this module

pub mod stalling_relay;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_tsudoi");

/// The session cookie a response sets, as `name=value`.
pub fn session_cookie(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("tsudoi_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// A command for the binary with none of the caller's TSUDOI_* settings.
pub fn tsudoi(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command.current_dir(dir).env("RUST_BACKTRACE", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("TSUDOI_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs to completion, killing the process if it takes longer than `limit`.
pub fn run_with_timeout(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start tsudoi");
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("poll tsudoi").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("tsudoi did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

pub struct RunningServer {
    pub base_url: String,
    child: Child,
    /// Every line the server wrote to its standard output so far.
    output: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RunningServer {
    /// Starts `tsudoi serve` on a port the OS picks and waits for its "listening" line.
    pub fn start(dir: &Path, database_url: &str) -> RunningServer {
        Self::start_with(dir, database_url, &[])
    }

    /// Like [`RunningServer::start`], with extra `TSUDOI_*` settings.
    pub fn start_with(dir: &Path, database_url: &str, settings: &[(&str, &str)]) -> RunningServer {
        let mut child = tsudoi(dir)
            .env("RUST_LOG", "info")
            // After the default, so a test may set its own `RUST_LOG`.
            .envs(settings.iter().copied())
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--database-url",
                database_url,
            ])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tsudoi serve");
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        let (found, address) = mpsc::channel();
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        // What the process writes outside the log (a panic's message) is
        // kept too, and still shown with the test's output.
        let errors = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if let Ok(mut lines) = errors.lock() {
                    lines.push(format!("stderr: {line}"));
                }
            }
        });
        let lines = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line.clone());
                }
                if let Some(at) = line.find("listening on http://") {
                    // In a text or a JSON log line alike: the URL ends where
                    // its characters do.
                    let url: String = line[at + "listening on ".len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || ":/.[]".contains(*c))
                        .collect();
                    let _ = found.send(url);
                }
            }
        });
        let base_url = address
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("tsudoi serve did not report its address")
            });
        RunningServer {
            base_url,
            child,
            output,
        }
    }

    /// The lines written to standard output so far, and those written to
    /// standard error, marked `stderr: `.
    pub fn output(&self) -> Vec<String> {
        self.output
            .lock()
            .map(|lines| lines.clone())
            .unwrap_or_default()
    }

    /// The server's process id, for reading its memory in /proc.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("poll") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "tsudoi did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Logs `email` in with `password` over HTTP; answers the session cookie.
pub async fn log_in(
    http: &reqwest::Client,
    server: &RunningServer,
    email: &str,
    password: &str,
) -> String {
    let login = http
        .post(server.url("/api/auth/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200, "login {email}");
    session_cookie(login.headers()).expect("a session cookie")
}

/// The password every employee made by [`add_employees`] logs in with.
pub const EMPLOYEE_PASSWORD: &str = "correct horse battery";

/// Employees `person{n}@example.co.jp` for each `n` in `numbers`, all with
/// [`EMPLOYEE_PASSWORD`] (hashed once); answers their addresses.
pub async fn add_employees(
    db: &tsudoi::storage::Database,
    numbers: std::ops::Range<usize>,
) -> Vec<String> {
    let hash = tsudoi::users::password::hash(EMPLOYEE_PASSWORD.into())
        .await
        .unwrap();
    let mut emails = Vec::new();
    for n in numbers {
        let email = format!("person{n}@example.co.jp");
        tsudoi::users::upsert(
            db,
            &tsudoi::users::NewUser {
                email: email.clone(),
                display_name: format!("社員 {n}"),
                department: None,
                role: tsudoi::model::Role::Employee,
                lang: tsudoi::model::Lang::Ja,
            },
            Some(&hash),
        )
        .await
        .unwrap();
        emails.push(email);
    }
    emails
}

/// A published seminar in three days with `capacity` seats; answers its id.
pub async fn open_seminar(db: &tsudoi::storage::Database, capacity: i32) -> i64 {
    let starts_at = chrono::Utc::now() + chrono::Duration::days(3);
    tsudoi::events::create(
        db,
        &tsudoi::events::NewEvent {
            title_ja: Some("計測会".into()),
            title_en: Some("Measuring".into()),
            description_ja: String::new(),
            description_en: String::new(),
            category: tsudoi::model::Category::Seminar,
            place: "Room 1".into(),
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(1),
            capacity,
            status: tsudoi::model::EventStatus::Published,
            organizer_id: None,
        },
    )
    .await
    .unwrap()
}
