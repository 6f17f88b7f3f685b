//! Starts the mail delivery worker and the reminder scheduler as tasks of the
//! server process, with the transport the configuration asks for.

use secrecy::ExposeSecret;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;
use tsudoi::mail::compose::MailSite;
use tsudoi::mail::delivery::Deliverer;
use tsudoi::mail::reminders::{self, ReminderSchedule};
use tsudoi::mail::transport::Mailer;
use tsudoi::storage::Database;

use crate::config::Settings;

/// The running mail tasks.
pub struct MailTasks {
    /// Where mail is written instead of sent, when there is no SMTP server.
    pub folder: Option<String>,
    tasks: Vec<JoinHandle<()>>,
}

impl MailTasks {
    /// Waits for the tasks to finish what they are doing (they were told to
    /// stop), at most half a minute.
    pub async fn stopped(self) {
        let all = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_secs(30), all)
            .await
            .is_err()
        {
            tracing::warn!("mail tasks did not stop within 30 s");
        }
    }
}

pub fn start(
    settings: &Settings,
    db: &Database,
    stop: watch::Receiver<bool>,
) -> Result<MailTasks, String> {
    let mailer = match &settings.smtp_url {
        Some(url) => Mailer::smtp(
            url.expose_secret(),
            settings.mail.delivery.connections,
            settings.mail.delivery.send_timeout,
        )?,
        None => {
            let folder = &settings.mail.folder;
            let mailer = Mailer::folder(folder).map_err(|err| {
                format!("cannot create the mail folder {}: {err}", folder.display())
            })?;
            tracing::warn!(
                folder = %folder.display(),
                "no smtp_url is configured: mail is written to this folder instead of being sent"
            );
            mailer
        }
    };
    let folder = mailer.folder_path().map(|path| path.display().to_string());
    tracing::info!(transport = %mailer.describe(), from = %settings.mail.from, "mail delivery");
    let deliverer = Deliverer::new(
        db.clone(),
        mailer,
        MailSite {
            public_url: settings.public_url.clone(),
            time_zone: settings.time_zone,
        },
        settings.mail.from.clone(),
        settings.mail.delivery.clone(),
    );
    let schedule = ReminderSchedule {
        time_zone: settings.time_zone,
        at: settings.reminder_time,
    };
    let delivery = tokio::spawn({
        let stop = stop.clone();
        async move { deliverer.run(stopped(stop)).await }
    });
    let scheduler = tokio::spawn(reminders::run_scheduler(
        db.clone(),
        schedule,
        stopped(stop),
    ));
    Ok(MailTasks {
        folder,
        tasks: vec![delivery, scheduler],
    })
}

/// Completes when the server says stop.
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}
