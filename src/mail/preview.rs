//! An administrator reading a queued or sent mail on the outbox page: the
//! mail composed as the delivery worker composes it, without sending or
//! changing anything. A link that would let its reader set someone's
//! password (or stop someone's reminders) is shown without its secret part:
//! reading the outbox must not be a way into another person's account.

use chrono::{DateTime, Utc};

use super::compose::{Composition, MailSite, compose};
use super::{MailKind, MailPreview};
use crate::storage::Database;
use crate::{Error, Result};

/// Mail `id` as it would be composed now.
pub async fn preview(
    db: &Database,
    site: &MailSite,
    id: i64,
    now: DateTime<Utc>,
) -> Result<MailPreview> {
    let mail = super::outbox::find(db, id).await?.ok_or(Error::NotFound)?;
    let kind = mail.kind;
    let (subject, text, reason) = match compose(db, site, &mail, now).await? {
        Composition::Send(composed) => {
            let text = composed.letter.text().map_err(|err| {
                tracing::error!(mail = id, error = %err, "cannot render a mail's text");
                Error::Internal
            })?;
            let text = match kind {
                MailKind::Invitation | MailKind::PasswordReset => {
                    without_link_secret(&text, site, "password/")
                }
                MailKind::Reminder | MailKind::SurveyReminder => {
                    without_link_secret(&text, site, "reminders/stop/")
                }
                _ => text,
            };
            (Some(composed.letter.subject), Some(text), None)
        }
        Composition::Obsolete(reason) => (None, None, Some(reason)),
    };
    Ok(MailPreview {
        id,
        kind,
        to_address: mail.to_address,
        subject,
        text,
        reason,
    })
}

/// `text` with the token of every link below `path` replaced by "…".
fn without_link_secret(text: &str, site: &MailSite, path: &str) -> String {
    // The same address the mail's link was made with, path included.
    let prefix = site.link(path);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        let (before, from_link) = rest.split_at(at + prefix.len());
        out.push_str(before);
        out.push('…');
        rest = from_link
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_links_lose_their_secret() {
        let site = MailSite {
            public_url: url::Url::parse("https://tsudoi.example/").unwrap(),
            time_zone: chrono_tz::Asia::Tokyo,
        };
        let text = "Set it here:\nhttps://tsudoi.example/password/AAAAAAAAAAE-x_9Z\nThanks";
        assert_eq!(
            without_link_secret(text, &site, "password/"),
            "Set it here:\nhttps://tsudoi.example/password/…\nThanks"
        );
        assert_eq!(
            without_link_secret("no link", &site, "password/"),
            "no link"
        );
    }

    #[test]
    fn password_links_lose_their_secret_under_a_path() {
        let site = MailSite {
            public_url: url::Url::parse("https://intra.example/tsudoi").unwrap(),
            time_zone: chrono_tz::Asia::Tokyo,
        };
        let text = "https://intra.example/tsudoi/password/AAAAAAAAAAE-x_9Z";
        assert_eq!(
            without_link_secret(text, &site, "password/"),
            "https://intra.example/tsudoi/password/…"
        );
    }
}
