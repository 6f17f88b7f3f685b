//! A real SMTP server for tests: aiosmtpd (Debian's `python3-aiosmtpd`,
//! installed by `cargo xtask test`) writing every mail it accepts into a
//! Maildir, which the tests read back.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python with aiosmtpd: `TSUDOI_TEST_PYTHON`, else Debian's.
fn python() -> String {
    std::env::var("TSUDOI_TEST_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

pub struct MailServer {
    pub port: u16,
    folder: tempfile::TempDir,
    child: Option<Child>,
}

/// A mail as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    pub message_id: String,
    pub to: String,
    pub raw: String,
}

/// One mail as Python's strict mail parser read it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct StrictReading {
    /// Why the parser refused the mail, if it did.
    pub error: Option<String>,
    pub to: String,
    /// The plain-text part.
    pub text: String,
    pub content_ids: Vec<String>,
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl MailServer {
    /// Starts a server on a free port.
    pub fn start() -> MailServer {
        Self::start_on(free_port())
    }

    /// Starts a server on `port` and waits until it answers.
    pub fn start_on(port: u16) -> MailServer {
        let folder = tempfile::tempdir().expect("a maildir");
        let mut server = MailServer {
            port,
            folder,
            child: None,
        };
        server.resume();
        server
    }

    /// The address for `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stops accepting mail (an outage); what it received stays readable.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port and Maildir.
    pub fn resume(&mut self) {
        self.stop();
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            // A Maildir that does not exist yet: the handler makes its folders.
            .arg(self.maildir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!(
                    "cannot start aiosmtpd with {} ({err}); install python3-aiosmtpd",
                    python()
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if Instant::now() > deadline {
                panic!(
                    "aiosmtpd did not start on port {} (is python3-aiosmtpd installed?)",
                    self.port
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn maildir(&self) -> PathBuf {
        self.folder.path().join("maildir")
    }

    fn files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.maildir().join("new"))
            .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    }

    /// How many mails arrived so far.
    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// Every mail received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.files()
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .map(|raw| {
                let header = |name: &str| {
                    raw.lines()
                        .take_while(|line| !line.is_empty())
                        .find_map(|line| {
                            let (key, value) = line.split_once(':')?;
                            key.eq_ignore_ascii_case(name)
                                .then(|| value.trim().to_string())
                        })
                        .unwrap_or_default()
                };
                ReceivedMail {
                    message_id: header("Message-ID"),
                    to: header("X-RcptTo"),
                    raw: raw.clone(),
                }
            })
            .collect()
    }

    /// Every mail received so far, as Python's mail parser reads it with its
    /// strict policy (any defect is an error): what a careful client sees.
    pub fn read_strictly(&self) -> Vec<StrictReading> {
        const READER: &str = r#"
import email, email.policy, json, sys
for path in sys.argv[1:]:
    reading = {"error": None, "to": "", "text": "", "content_ids": []}
    try:
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f, policy=email.policy.strict)
        str(message["Subject"])
        reading["to"] = str(message["To"])
        for part in message.walk():
            for key, value in part.items():
                str(value)
            if part["Content-ID"] is not None:
                reading["content_ids"].append(str(part["Content-ID"]))
        reading["text"] = message.get_body(("plain",)).get_content()
    except Exception as error:
        reading["error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(reading))
"#;
        let files = self.files();
        if files.is_empty() {
            return Vec::new();
        }
        let output = Command::new(python())
            .args(["-c", READER])
            .args(&files)
            .output()
            .expect("run Python's mail parser");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|line| serde_json::from_str(line).expect("a reading"))
            .collect()
    }

    /// Waits until `count` mails arrived (or panics after `limit`).
    pub fn wait_for(&self, count: usize, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.count() < count {
            if Instant::now() > deadline {
                panic!("{} of {count} mails arrived within {limit:?}", self.count());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for MailServer {
    fn drop(&mut self) {
        self.stop();
    }
}
