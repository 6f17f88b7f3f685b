//! Where mail goes: an SMTP server over a pool of connections, or, when no
//! SMTP server is configured, a folder of `.eml` files (Tsudoi still works,
//! and an administrator can open what would have been sent).

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use lettre::message::Mailbox;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder {
        transport: AsyncFileTransport<Tokio1Executor>,
        path: PathBuf,
    },
}

/// Why a mail was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    /// The server refused it for good (5xx): retrying cannot help.
    pub permanent: bool,
    pub message: String,
}

impl Mailer {
    /// An SMTP transport from a URL such as `smtp://user:pass@host:587?tls=required`
    /// (see lettre's `from_url`), keeping up to `connections` connections open.
    pub fn smtp(url: &str, connections: u32, timeout: Duration) -> Result<Self, String> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|err| format!("smtp_url: {err}"))?;
        Ok(Mailer::Smtp(
            builder
                .pool_config(PoolConfig::new().max_size(connections.max(1)))
                .timeout(Some(timeout))
                .build(),
        ))
    }

    /// Writes each mail as an `.eml` file into `path`, made if missing.
    pub fn folder(path: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(path)?;
        Ok(Mailer::Folder {
            transport: AsyncFileTransport::new(path),
            path: path.to_path_buf(),
        })
    }

    /// For the start-up log and the outbox page.
    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp(_) => "SMTP".into(),
            Mailer::Folder { path, .. } => format!("the folder {}", path.display()),
        }
    }

    pub fn folder_path(&self) -> Option<&Path> {
        match self {
            Mailer::Smtp(_) => None,
            Mailer::Folder { path, .. } => Some(path),
        }
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Mailer::Smtp(transport) => {
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|err| SendError {
                        permanent: err.is_permanent(),
                        message: err.to_string(),
                    })
            }
            Mailer::Folder { transport, .. } => {
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|err| SendError {
                        permanent: false,
                        message: err.to_string(),
                    })
            }
        }
    }
}
