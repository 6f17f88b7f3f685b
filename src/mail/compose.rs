//! From an outbox row to the words and attachments of the mail, in the
//! recipient's language, from the event as it is when the mail goes out (a
//! reminder shows the current place, even if it changed after queueing).

use chrono::{DateTime, Datelike, FixedOffset, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use url::Url;

use super::MailKind;
use super::letter::{Letter, TicketPicture};
use crate::events::EventDetail;
use crate::mail::outbox::ClaimedMail;
use crate::model::{EventStatus, Lang, RegistrationStatus};
use crate::storage::Database;
use crate::{Error, Result, calendar, events, registrations, tickets};

/// What composing needs besides the database.
#[derive(Debug, Clone)]
pub struct MailSite {
    pub public_url: Url,
    pub time_zone: Tz,
}

impl MailSite {
    /// The site at `public_url` (as configured) in `time_zone`.
    pub fn parse(public_url: &str, time_zone: Tz) -> Result<MailSite> {
        let public_url = Url::parse(public_url).map_err(|err| {
            tracing::error!(public_url, error = %err, "the public address is not a URL");
            Error::Internal
        })?;
        Ok(MailSite {
            public_url,
            time_zone,
        })
    }

    /// An address on this site (see [`crate::site::address`]).
    pub fn link(&self, path: &str) -> String {
        crate::site::address(&self.public_url, path)
    }

    /// A content id for a part of mail `mail_id`, unique as RFC 2392 asks:
    /// every reminder's QR image has its own.
    fn content_id(&self, part: &str, mail_id: i64) -> String {
        let host = self.public_url.host_str().unwrap_or("tsudoi");
        format!("{part}.{mail_id}@{host}")
    }
}

/// Text for a header or a one-line field: line breaks and other control
/// characters (a title pasted from a document) become single spaces, so
/// they can neither end the header nor start another.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control())
        .map(str::trim)
        .filter(|piece| !piece.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A file sent with the mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    /// Shown inside the HTML (`cid:`) rather than listed as a file.
    pub inline_id: Option<String>,
}

/// A mail ready for the transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Composed {
    pub letter: Letter,
    pub attachments: Vec<Attachment>,
    /// The recipient's name, shown beside the address in `To:`.
    pub to_name: String,
    /// Where a mail client may POST to stop mail of this kind for this
    /// person (`List-Unsubscribe`, RFC 8058 one-click); only for mail a
    /// person may decline, never for tickets or changes to their events.
    pub unsubscribe: Option<String>,
}

/// What to do with a claimed mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Composition {
    Send(Box<Composed>),
    /// Overtaken by events (a reminder for a registration cancelled since):
    /// not sent, with the reason for the outbox page.
    Obsolete(String),
}

/// The ids every mail about a registration carries in its payload.
fn ids(payload: &Value) -> Option<(i64, i64)> {
    Some((
        payload.get("event_id")?.as_i64()?,
        payload.get("registration_id")?.as_i64()?,
    ))
}

pub async fn compose(
    db: &Database,
    site: &MailSite,
    mail: &ClaimedMail,
    now: DateTime<Utc>,
) -> Result<Composition> {
    let lang = Lang::parse(&mail.lang).unwrap_or(Lang::Ja);
    match mail.kind {
        MailKind::Invitation | MailKind::PasswordReset => {
            password_link(db, site, mail, lang, now).await
        }
        _ => event_mail(db, site, mail, lang, now).await,
    }
}

/// A mail about a registration for an event.
async fn event_mail(
    db: &Database,
    site: &MailSite,
    mail: &ClaimedMail,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<Composition> {
    let Some((event_id, registration_id)) = ids(&mail.payload) else {
        tracing::error!(mail = mail.id, "a mail without event and registration ids");
        return Ok(Composition::Obsolete(
            "The mail names no event or registration.".into(),
        ));
    };
    let registration = match registrations::get(db, registration_id).await {
        Ok(registration) => registration,
        Err(Error::NotFound) => {
            return Ok(Composition::Obsolete(
                "The registration no longer exists.".into(),
            ));
        }
        Err(err) => return Err(err),
    };
    let detail = match events::detail(db, site.time_zone, event_id, None, true, now).await {
        Ok(detail) => detail,
        Err(Error::NotFound) => {
            return Ok(Composition::Obsolete("The event no longer exists.".into()));
        }
        Err(err) => return Err(err),
    };
    let name = recipient_name(db, registration.user_id).await?;
    let holds_seat = matches!(
        registration.status,
        RegistrationStatus::Registered | RegistrationStatus::CheckedIn
    );
    if mail.kind == MailKind::Reminder
        && (!holds_seat || detail.status != EventStatus::Published || detail.event.starts_at <= now)
    {
        return Ok(Composition::Obsolete(
            "Not sent: the seat was given up, or the event was cancelled or has started.".into(),
        ));
    }
    let survey_id = mail.payload.get("survey_id").and_then(Value::as_i64);
    if matches!(
        mail.kind,
        MailKind::SurveyInvitation | MailKind::SurveyReminder
    ) {
        let reason =
            survey_mail_obsolete(db, mail.kind, survey_id, registration.user_id, now).await?;
        if let Some(reason) = reason {
            return Ok(Composition::Obsolete(reason.into()));
        }
    }
    let words = Words::of(lang);
    let title = one_line(detail.event.title(lang));
    let event_url = site.link(&format!("events/{event_id}"));
    let ticket_url = site.link(&format!("tickets/{registration_id}"));
    // The event by name first: the subject is not part of the text a
    // reader (or a mail client's plain view) sees.
    let mut facts = vec![
        (words.event.to_string(), title.clone()),
        (words.when.to_string(), when(lang, &detail)),
        (words.place.to_string(), detail.event.place.clone()),
    ];
    if let Some(organizer) = &detail.organizer_name {
        facts.push((words.organizer.to_string(), organizer.clone()));
    }
    let (subject, paragraph, button_to_ticket) = match mail.kind {
        MailKind::RegistrationConfirmed => (
            (words.confirmed)(&title),
            words.confirmed_text.to_string(),
            true,
        ),
        MailKind::Waitlisted => {
            let position = registration.waitlist_position.unwrap_or_default();
            (
                (words.waitlisted)(&title),
                (words.waitlisted_text)(position),
                false,
            )
        }
        MailKind::Promoted => (
            (words.promoted)(&title),
            words.promoted_text.to_string(),
            true,
        ),
        // The same kind of mail ends a registration either way; the person
        // must not read an organizer's removal as their own cancellation.
        MailKind::Cancelled
            if mail.payload.get("by").and_then(|by| by.as_str()) == Some("removed") =>
        {
            (
                (words.removed)(&title),
                words.removed_text.to_string(),
                false,
            )
        }
        MailKind::Cancelled => (
            (words.cancelled)(&title),
            words.cancelled_text.to_string(),
            false,
        ),
        MailKind::EventChanged => (
            (words.changed)(&title),
            words.changed_text.to_string(),
            holds_seat,
        ),
        MailKind::EventCancelled => (
            (words.event_cancelled)(&title),
            words.event_cancelled_text.to_string(),
            false,
        ),
        MailKind::Reminder => (
            (words.reminder)(&title),
            words.reminder_text.to_string(),
            true,
        ),
        MailKind::SurveyInvitation => {
            ((words.survey)(&title), words.survey_text.to_string(), false)
        }
        MailKind::SurveyReminder => (
            (words.survey_reminder)(&title),
            words.survey_reminder_text.to_string(),
            false,
        ),
        MailKind::Invitation | MailKind::PasswordReset => {
            return Ok(Composition::Obsolete("Not a mail about an event.".into()));
        }
    };
    let button = match mail.kind {
        MailKind::SurveyInvitation | MailKind::SurveyReminder => survey_id.map(|id| {
            (
                words.answer_survey.to_string(),
                site.link(&format!("surveys/{id}")),
            )
        }),
        _ if button_to_ticket && holds_seat => Some((words.view_ticket.to_string(), ticket_url)),
        _ => Some((words.view_event.to_string(), event_url)),
    };
    let mut letter = Letter {
        lang: lang.code(),
        subject,
        greeting: (words.greeting)(&name),
        paragraphs: vec![paragraph],
        facts,
        button,
        ticket: None,
        footer: words.footer.to_string(),
        stop_link: None,
    };
    let mut attachments = Vec::new();
    let mut unsubscribe = None;
    if matches!(mail.kind, MailKind::Reminder | MailKind::SurveyReminder) {
        let token = crate::users::reminder_preference::stop_token(db, registration.user_id).await?;
        let stop = site.link(&format!("reminders/stop/{token}"));
        letter.stop_link = Some((words.stop_reminders.to_string(), stop.clone()));
        unsubscribe = Some(stop);
    }
    if mail.kind == MailKind::Reminder {
        let ticket = tickets::issue(db, registration_id, registration.user_id).await?;
        let qr = qr_png(&ticket.token)?;
        let qr_content_id = site.content_id("ticket-qr", mail.id);
        letter.ticket = Some(TicketPicture {
            content_id: qr_content_id.clone(),
            alt: words.qr_alt.to_string(),
            caption: ticket.code.clone(),
            side: qr.side,
        });
        attachments.push(Attachment {
            filename: "ticket.png".into(),
            content_type: "image/png",
            bytes: qr.png,
            inline_id: Some(qr_content_id),
        });
        attachments.push(Attachment {
            filename: format!("tsudoi-event-{event_id}.ics"),
            content_type: "text/calendar; charset=utf-8",
            bytes: calendar::event_ics(&detail, &site.public_url, lang).into_bytes(),
            inline_id: None,
        });
    }
    Ok(Composition::Send(Box::new(Composed {
        letter,
        attachments,
        to_name: one_line(&name),
        unsubscribe,
    })))
}

/// Why a survey mail is no longer worth sending: the survey is gone or
/// closed, or (for a reminder) the person has answered meanwhile.
async fn survey_mail_obsolete(
    db: &Database,
    kind: MailKind,
    survey_id: Option<i64>,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<&'static str>> {
    let Some(survey_id) = survey_id else {
        return Ok(Some("The mail names no survey."));
    };
    let survey = match crate::surveys::build::get(db, survey_id, now).await {
        Ok(survey) => survey,
        Err(Error::NotFound) => return Ok(Some("The survey no longer exists.")),
        Err(err) => return Err(err),
    };
    if survey.state == crate::surveys::SurveyState::Closed {
        return Ok(Some("Not sent: the survey has closed."));
    }
    if kind == MailKind::SurveyReminder
        && crate::surveys::answering::has_answered(db, survey_id, user_id).await?
    {
        return Ok(Some("Not sent: the person has answered."));
    }
    Ok(None)
}

/// An invitation or a reset: the link to set a password, and until when it
/// works. A link used or replaced before its mail goes out is not sent.
async fn password_link(
    db: &Database,
    site: &MailSite,
    mail: &ClaimedMail,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<Composition> {
    let Some(link_id) = mail.payload.get("link_id").and_then(Value::as_i64) else {
        tracing::error!(mail = mail.id, "a password mail without its link id");
        return Ok(Composition::Obsolete("The mail names no link.".into()));
    };
    let Some((token, link)) = crate::users::password_links::for_mail(db, link_id, now).await?
    else {
        return Ok(Composition::Obsolete(
            "Not sent: the link was used, replaced by a newer one, or has expired.".into(),
        ));
    };
    let words = Words::of(lang);
    let url = site.link(&format!("password/{token}"));
    let valid_until = link
        .expires_at
        .with_timezone(&site.time_zone)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let invitation = mail.kind == MailKind::Invitation;
    let (subject, paragraph, button) = if invitation {
        (
            words.invitation,
            words.invitation_text,
            words.set_first_password,
        )
    } else {
        (words.reset, words.reset_text, words.set_new_password)
    };
    let letter = Letter {
        lang: lang.code(),
        subject: subject.to_string(),
        greeting: (words.greeting)(&link.display_name),
        paragraphs: vec![paragraph.to_string(), (words.link_valid)(&valid_until)],
        facts: vec![(words.sign_in_as.to_string(), link.email.clone())],
        button: Some((button.to_string(), url.to_string())),
        ticket: None,
        footer: if invitation {
            words.invitation_footer
        } else {
            words.reset_footer
        }
        .to_string(),
        stop_link: None,
    };
    Ok(Composition::Send(Box::new(Composed {
        letter,
        attachments: Vec::new(),
        to_name: one_line(&link.display_name),
        unsubscribe: None,
    })))
}

async fn recipient_name(db: &Database, user_id: i64) -> Result<String> {
    use crate::storage::on_pool;
    let name: Option<String> = on_pool!(db, |pool| sqlx::query_scalar(
        "SELECT display_name FROM users WHERE id = $1"
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?);
    Ok(name.unwrap_or_default())
}

/// The event's date and times in the company's zone, as each language writes them.
fn when(lang: Lang, detail: &EventDetail) -> String {
    let (start, end): (DateTime<FixedOffset>, DateTime<FixedOffset>) =
        (detail.event.local_start(), detail.event.local_end());
    let same_day = start.date_naive() == end.date_naive();
    match lang {
        Lang::Ja => {
            const DAYS: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
            let day = DAYS[start.weekday().num_days_from_monday() as usize];
            let end = if same_day {
                end.format("%H:%M").to_string()
            } else {
                end.format("%-m月%-d日 %H:%M").to_string()
            };
            format!(
                "{}({day}) {}〜{end}",
                start.format("%Y年%-m月%-d日"),
                start.format("%H:%M")
            )
        }
        Lang::En => {
            let end = if same_day {
                end.format("%H:%M").to_string()
            } else {
                end.format("%a %-d %b %H:%M").to_string()
            };
            format!("{}–{end}", start.format("%a %-d %b %Y, %H:%M"))
        }
    }
}

/// The ticket token as a black-on-white PNG, one bit a pixel, 4 pixels a
/// module with the standard quiet zone: what mail clients show reliably
/// (many drop SVG), crisp at its natural size, and a few hundred bytes.
pub fn qr_png(token: &str) -> Result<QrPicture> {
    use qrcode::{Color, EcLevel, QrCode};
    const SCALE: usize = 4;
    const QUIET: usize = 4;
    let code =
        QrCode::with_error_correction_level(token.as_bytes(), EcLevel::M).map_err(|err| {
            tracing::error!(error = %err, "a ticket token did not fit in a QR code");
            Error::Internal
        })?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let row_bytes = side.div_ceil(8);
    // Grayscale at one bit: 1 is white.
    let mut image = vec![0xFFu8; row_bytes * side];
    for (i, _) in colors
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == Color::Dark)
    {
        let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
        for y in my * SCALE..(my + 1) * SCALE {
            for x in mx * SCALE..(mx + 1) * SCALE {
                image[y * row_bytes + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        let mut writer = encoder.write_header().map_err(|_| Error::Internal)?;
        writer
            .write_image_data(&image)
            .map_err(|_| Error::Internal)?;
    }
    Ok(QrPicture {
        png,
        side: side as u32,
    })
}

/// A QR code image and its width (= height) in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct QrPicture {
    pub png: Vec<u8>,
    pub side: u32,
}

/// The mail texts of one language.
struct Words {
    greeting: fn(&str) -> String,
    footer: &'static str,
    event: &'static str,
    when: &'static str,
    place: &'static str,
    organizer: &'static str,
    view_ticket: &'static str,
    view_event: &'static str,
    stop_reminders: &'static str,
    answer_survey: &'static str,
    qr_alt: &'static str,
    confirmed: fn(&str) -> String,
    confirmed_text: &'static str,
    waitlisted: fn(&str) -> String,
    waitlisted_text: fn(i64) -> String,
    promoted: fn(&str) -> String,
    promoted_text: &'static str,
    cancelled: fn(&str) -> String,
    cancelled_text: &'static str,
    removed: fn(&str) -> String,
    removed_text: &'static str,
    changed: fn(&str) -> String,
    changed_text: &'static str,
    event_cancelled: fn(&str) -> String,
    event_cancelled_text: &'static str,
    reminder: fn(&str) -> String,
    reminder_text: &'static str,
    survey: fn(&str) -> String,
    survey_text: &'static str,
    survey_reminder: fn(&str) -> String,
    survey_reminder_text: &'static str,
    invitation: &'static str,
    invitation_text: &'static str,
    invitation_footer: &'static str,
    set_first_password: &'static str,
    reset: &'static str,
    reset_text: &'static str,
    reset_footer: &'static str,
    set_new_password: &'static str,
    link_valid: fn(&str) -> String,
    sign_in_as: &'static str,
}

impl Words {
    fn of(lang: Lang) -> &'static Words {
        match lang {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }
}

const EN: Words = Words {
    greeting: |name| format!("Hello {name},"),
    footer: "You receive this mail because you registered for this event on Tsudoi, your company's event site.",
    event: "Event",
    when: "When",
    place: "Where",
    organizer: "Organizer",
    view_ticket: "View your ticket",
    view_event: "View the event",
    stop_reminders: "Stop reminder mails",
    answer_survey: "Answer the survey",
    qr_alt: "Ticket QR code",
    confirmed: |title| format!("You're registered: {title}"),
    confirmed_text: "Your seat is confirmed. Show your ticket at the entrance on the day.",
    waitlisted: |title| format!("On the waitlist: {title}"),
    waitlisted_text: |n| {
        format!(
            "The event is full, so you are number {n} on the waitlist. We will write as soon as a seat is yours."
        )
    },
    promoted: |title| format!("A seat is yours: {title}"),
    promoted_text: "A seat became free and it is yours now. Show your ticket at the entrance on the day.",
    cancelled: |title| format!("Registration cancelled: {title}"),
    cancelled_text: "Your registration has been cancelled. If this was a mistake, register again while seats are left.",
    removed: |title| format!("Registration removed by the organizer: {title}"),
    removed_text: "The organizer has removed your registration for this event. If you think this is a mistake, please contact the organizer.",
    changed: |title| format!("Changed: {title}"),
    changed_text: "The organizer changed the date, time or place of this event. The details below are the current ones.",
    event_cancelled: |title| format!("Cancelled: {title}"),
    event_cancelled_text: "We are sorry: this event has been cancelled. Your registration ends with it; there is nothing else to do.",
    reminder: |title| format!("Tomorrow: {title}"),
    reminder_text: "A reminder that you are registered for this event tomorrow. Show the QR code below at the entrance; the event is attached for your calendar.",
    survey: |title| format!("How was {title}?"),
    survey_text: "Thank you for coming. Please tell us what you thought; it takes two minutes.",
    survey_reminder: |title| format!("Reminder: how was {title}?"),
    survey_reminder_text: "The survey about this event closes soon. If you have a moment, please tell us what you thought; it takes two minutes.",
    invitation: "Your account on Tsudoi, the company's event site",
    invitation_text: "You can now browse and register for company events on Tsudoi. Set your password with the button below to sign in.",
    invitation_footer: "You receive this mail because an administrator added you to Tsudoi, your company's event site.",
    set_first_password: "Set your password",
    reset: "Set a new password for Tsudoi",
    reset_text: "Someone — hopefully you — asked to set a new password for your account. Use the button below; if it was not you, ignore this mail and your password stays as it is.",
    reset_footer: "You receive this mail because a new password was asked for on Tsudoi's sign-in page.",
    set_new_password: "Set a new password",
    link_valid: |until| format!("The link works once, until {until}."),
    sign_in_as: "Sign in with",
};

const JA: Words = Words {
    greeting: |name| format!("{name} 様"),
    footer: "このメールは、社内イベントサイト Tsudoi でこのイベントに登録された方にお送りしています。",
    event: "イベント",
    when: "日時",
    place: "場所",
    organizer: "主催",
    view_ticket: "チケットを表示",
    view_event: "イベントを見る",
    stop_reminders: "リマインダーメールを停止する",
    answer_survey: "アンケートに回答する",
    qr_alt: "受付用QRコード",
    confirmed: |title| format!("【参加登録完了】{title}"),
    confirmed_text: "参加登録が完了しました。当日は受付でチケットをご提示ください。",
    waitlisted: |title| format!("【キャンセル待ち】{title}"),
    waitlisted_text: |n| {
        format!(
            "満席のため、キャンセル待ち {n} 番目で受け付けました。お席が確保でき次第お知らせします。"
        )
    },
    promoted: |title| format!("【参加確定】{title}"),
    promoted_text: "キャンセルが出たため、お席が確保できました。当日は受付でチケットをご提示ください。",
    cancelled: |title| format!("【キャンセル完了】{title}"),
    cancelled_text: "参加登録をキャンセルしました。お間違いの場合は、空席があるうちに再度ご登録ください。",
    removed: |title| format!("【登録取り消し】{title}"),
    removed_text: "主催者により、このイベントへのご登録が取り消されました。お心当たりのない場合は主催者にお問い合わせください。",
    changed: |title| format!("【変更のお知らせ】{title}"),
    changed_text: "主催者がこのイベントの日時または場所を変更しました。最新の内容は以下のとおりです。",
    event_cancelled: |title| format!("【開催中止】{title}"),
    event_cancelled_text: "申し訳ありませんが、このイベントは中止になりました。ご登録は取り消されます。お手続きは不要です。",
    reminder: |title| format!("【明日開催】{title}"),
    reminder_text: "明日のイベントのご案内です。当日は受付で下のQRコードをご提示ください。カレンダー用のファイルを添付しています。",
    survey: |title| format!("【アンケートのお願い】{title}"),
    survey_text: "ご参加ありがとうございました。ご感想をお聞かせください（2分ほどで終わります）。",
    survey_reminder: |title| format!("【アンケート締切間近】{title}"),
    survey_reminder_text: "このイベントのアンケートはまもなく締め切られます。よろしければご感想をお聞かせください（2分ほどで終わります）。",
    invitation: "【Tsudoi】社内イベントサイトのアカウントのご案内",
    invitation_text: "社内イベントサイト Tsudoi で、社内イベントの閲覧と参加登録ができるようになりました。下のボタンからパスワードを設定してサインインしてください。",
    invitation_footer: "このメールは、管理者が社内イベントサイト Tsudoi にあなたを登録したためお送りしています。",
    set_first_password: "パスワードを設定する",
    reset: "【Tsudoi】パスワード再設定のご案内",
    reset_text: "パスワードの再設定が依頼されました。下のボタンから新しいパスワードを設定してください。お心当たりがない場合はこのメールを破棄してください。パスワードは変わりません。",
    reset_footer: "このメールは、Tsudoi のサインイン画面でパスワードの再設定が依頼されたためお送りしています。",
    set_new_password: "新しいパスワードを設定する",
    link_valid: |until| format!("このリンクは {until} まで、1回だけ使えます。"),
    sign_in_as: "サインインに使うメールアドレス",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_path_tsudoi_is_served_under() {
        for public_url in [
            "https://intra.example/tsudoi",
            "https://intra.example/tsudoi/",
        ] {
            let site = MailSite::parse(public_url, chrono_tz::Asia::Tokyo).unwrap();
            assert_eq!(
                site.link("events/7"),
                "https://intra.example/tsudoi/events/7"
            );
        }
        let root = MailSite::parse("https://events.example", chrono_tz::Asia::Tokyo).unwrap();
        assert_eq!(root.link("tickets/3"), "https://events.example/tickets/3");
    }

    #[test]
    fn one_line_turns_breaks_and_controls_into_single_spaces() {
        assert_eq!(
            one_line("新年会\r\nBcc: x@example.com\n"),
            "新年会 Bcc: x@example.com"
        );
        assert_eq!(one_line("a\tb\u{0}c"), "a b c");
        assert_eq!(one_line("plain title"), "plain title");
    }
}
