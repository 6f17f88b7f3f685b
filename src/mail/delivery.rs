//! The delivery worker: claims due mails, composes and sends
//! them over the transport a few at a time, paced to the configured rate,
//! and records the outcome. A failed attempt is retried with exponential
//! backoff and jitter; after the configured number of attempts, or a
//! permanent refusal, the mail is dead with its last error.
//!
//! Each mail's Message-ID is made from its outbox row, so the rare second
//! sending (the process died after the SMTP server accepted the mail and
//! before the row said so) carries the same id and mail clients show one.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use lettre::Message;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use rand::Rng;

use super::compose::{self, Composed, Composition, MailSite};
use super::transport::Mailer;
use crate::Result;
use crate::mail::outbox::{self, ClaimedMail};
use crate::storage::Database;

/// Throughput and retry settings (configuration keys `mail_*`).
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    /// Mails claimed at a time.
    pub batch_size: u32,
    /// At most this many mails a minute (mail providers throttle).
    pub per_minute: u32,
    /// Mails sent at once, each on its own pooled connection.
    pub connections: u32,
    /// Attempts before a mail is dead.
    pub max_attempts: u32,
    /// The longest one attempt may take; a claim lasts twice that, then the
    /// mail is due again (its worker is taken to be dead).
    pub send_timeout: Duration,
    /// The wait after the first failure; doubled after each further one.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How often an idle worker looks for due mail.
    pub idle_poll: Duration,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            batch_size: 50,
            per_minute: 600,
            connections: 4,
            max_attempts: 8,
            send_timeout: Duration::from_secs(60),
            retry_base: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            idle_poll: Duration::from_secs(1),
        }
    }
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchReport {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub obsolete: usize,
}

pub(crate) enum Outcome {
    Sent,
    Retried,
    Dead,
    Obsolete,
}

/// Cheap to clone: the clones share the transport, its connection pool and
/// the rate limit.
#[derive(Clone)]
pub struct Deliverer {
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    db: Database,
    mailer: Mailer,
    site: MailSite,
    from: Mailbox,
    settings: DeliverySettings,
    /// When the next mail may start, for the rate limit.
    next_start: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Deliverer {
    pub fn new(
        db: Database,
        mailer: Mailer,
        site: MailSite,
        from: Mailbox,
        settings: DeliverySettings,
    ) -> Self {
        Deliverer {
            inner: std::sync::Arc::new(Inner {
                db,
                mailer,
                site,
                from,
                settings,
                next_start: tokio::sync::Mutex::new(tokio::time::Instant::now()),
            }),
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.inner.mailer
    }

    /// Sends due mail until `shutdown` completes; a batch under way is
    /// finished first, so no claim is left to lapse.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let idle = match self.deliver_batch().await {
                Ok(report) => report.claimed == 0,
                Err(err) => {
                    tracing::warn!(error = %err, "mail delivery could not claim mail; trying again");
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(self.inner.settings.idle_poll) => {}
                }
            } else if futures_util::poll!(&mut shutdown).is_ready() {
                return;
            }
        }
    }

    /// Claims one batch of due mail and sends it, `connections` mails at a
    /// time, each in its own task (composing a mail is real work: the QR
    /// image, the calendar file).
    pub async fn deliver_batch(&self) -> Result<BatchReport> {
        let inner = &self.inner;
        let now = Utc::now();
        let lease_end = lease_end(now, &inner.settings);
        let claimed =
            outbox::claim_due(&inner.db, now, lease_end, inner.settings.batch_size).await?;
        let mut report = BatchReport {
            claimed: claimed.len(),
            ..BatchReport::default()
        };
        let outcomes: Vec<_> = futures_util::stream::iter(claimed)
            .map(|mail| {
                let inner = inner.clone();
                tokio::spawn(async move { inner.deliver_one(mail).await })
            })
            .buffer_unordered(inner.settings.connections.max(1) as usize)
            .collect()
            .await;
        for outcome in outcomes {
            crate::observe::mail_delivery(outcome.as_ref().ok());
            match outcome {
                Ok(Outcome::Sent) => report.sent += 1,
                Ok(Outcome::Retried) => report.retried += 1,
                Ok(Outcome::Dead) => report.dead += 1,
                Ok(Outcome::Obsolete) => report.obsolete += 1,
                // A panic in one mail's task: its claim lapses and it is retried.
                Err(err) => {
                    tracing::error!(error = %err, "a mail delivery task failed");
                    report.retried += 1;
                }
            }
        }
        Ok(report)
    }
}

impl Inner {
    async fn deliver_one(&self, mail: ClaimedMail) -> Outcome {
        match self.try_deliver(&mail).await {
            Ok(outcome) => outcome,
            // The database failed mid-way: the claim lapses and the mail is
            // tried again then.
            Err(err) => {
                tracing::warn!(mail = mail.id, error = %err, "mail delivery failed on the database");
                Outcome::Retried
            }
        }
    }

    async fn try_deliver(&self, mail: &ClaimedMail) -> Result<Outcome> {
        let composed = match compose::compose(&self.db, &self.site, mail, Utc::now()).await? {
            Composition::Send(composed) => composed,
            Composition::Obsolete(reason) => {
                outbox::give_up(&self.db, mail.id, &reason).await?;
                return Ok(Outcome::Obsolete);
            }
        };
        let message_id = message_id(mail, &self.site.public_url);
        let message = match build(&self.from, mail, &composed, &message_id) {
            Ok(message) => message,
            Err(problem) => {
                outbox::give_up(&self.db, mail.id, &problem).await?;
                return Ok(Outcome::Dead);
            }
        };
        self.wait_for_turn().await;
        match self.mailer.send(message).await {
            Ok(()) => {
                outbox::mark_sent(&self.db, mail.id, &message_id, Utc::now()).await?;
                Ok(Outcome::Sent)
            }
            Err(err) if err.permanent || mail.attempts >= self.settings.max_attempts as i32 => {
                tracing::warn!(mail = mail.id, attempts = mail.attempts, error = %err.message, "mail is dead");
                outbox::give_up(&self.db, mail.id, &err.message).await?;
                Ok(Outcome::Dead)
            }
            Err(err) => {
                let retry_at = Utc::now() + retry_delay(mail.attempts, &self.settings);
                tracing::info!(mail = mail.id, attempts = mail.attempts, %retry_at, error = %err.message, "mail will be retried");
                outbox::mark_retry(&self.db, mail.id, &err.message, retry_at).await?;
                Ok(Outcome::Retried)
            }
        }
    }

    /// Spaces the starts of sends to stay within `per_minute`.
    async fn wait_for_turn(&self) {
        let gap = Duration::from_secs_f64(60.0 / f64::from(self.settings.per_minute.max(1)));
        let mut next = self.next_start.lock().await;
        let now = tokio::time::Instant::now();
        if *next > now {
            tokio::time::sleep_until(*next).await;
        }
        *next = (*next).max(now) + gap;
    }
}

/// Exponential backoff with jitter: base × 2^(attempts − 1), capped, then
/// scaled by a random factor in [0.5, 1.5) so failed mails do not retry in step.
pub fn retry_delay(attempts: i32, settings: &DeliverySettings) -> chrono::Duration {
    let doublings = attempts.clamp(1, 20) - 1;
    let exponential = settings
        .retry_base
        .saturating_mul(1u32 << doublings)
        .min(settings.retry_max);
    let factor = rand::thread_rng().gen_range(0.5..1.5);
    chrono::Duration::from_std(exponential.mul_f64(factor)).unwrap_or(chrono::Duration::hours(1))
}

/// The same for every attempt at one outbox row.
pub fn message_id(mail: &ClaimedMail, public_url: &url::Url) -> String {
    let domain = public_url.host_str().unwrap_or("localhost");
    format!(
        "<tsudoi.{}.{}@{domain}>",
        mail.id,
        mail.created_at.timestamp()
    )
}

fn build(
    from: &Mailbox,
    mail: &ClaimedMail,
    composed: &Composed,
    message_id: &str,
) -> std::result::Result<Message, String> {
    let address: lettre::Address = mail
        .to_address
        .parse()
        .map_err(|err| format!("the address {} is not usable: {err}", mail.to_address))?;
    let name = Some(composed.to_name.clone()).filter(|name| !name.is_empty());
    let to = Mailbox::new(name, address);
    let letter = &composed.letter;
    let text = letter.text().map_err(|err| format!("template: {err}"))?;
    let html = letter.html().map_err(|err| format!("template: {err}"))?;
    let content_type = |text: &str| ContentType::parse(text).map_err(|err| err.to_string());
    let mut html_part = MultiPart::related().singlepart(SinglePart::html(html));
    let mut files = Vec::new();
    for attachment in &composed.attachments {
        let kind = content_type(attachment.content_type)?;
        match &attachment.inline_id {
            Some(id) => {
                html_part = html_part.singlepart(
                    Attachment::new_inline(id.clone()).body(attachment.bytes.clone(), kind),
                );
            }
            None => files.push(
                Attachment::new(attachment.filename.clone()).body(attachment.bytes.clone(), kind),
            ),
        }
    }
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(text))
        .multipart(html_part);
    let body = if files.is_empty() {
        alternative
    } else {
        files
            .into_iter()
            .fold(MultiPart::mixed().multipart(alternative), |mixed, file| {
                mixed.singlepart(file)
            })
    };
    let mut message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(letter.subject.clone())
        .message_id(Some(message_id.to_string()));
    if let Some(address) = &composed.unsubscribe {
        message = message
            .header(ListUnsubscribe(address.clone()))
            .header(ListUnsubscribePost);
    }
    message
        .multipart(body)
        .map_err(|err| format!("the message could not be built: {err}"))
}

/// `List-Unsubscribe: <https://…>` (RFC 2369): where to stop this kind of mail.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let address = text.trim().trim_start_matches('<').trim_end_matches('>');
        Ok(Self(address.to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): a mail
/// client may stop the mail with one POST to the address, without a page.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_string())
    }
}

/// When a claimed mail is due again if nobody settles it.
pub fn lease_end(now: DateTime<Utc>, settings: &DeliverySettings) -> DateTime<Utc> {
    now + chrono::Duration::from_std(settings.send_timeout * 2)
        .unwrap_or(chrono::Duration::minutes(2))
}
