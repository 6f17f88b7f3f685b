//! A mail's words, independent of its kind: a subject, a greeting, a few
//! paragraphs, the facts (when, where, …) as a small table, one button, and
//! optionally the ticket's QR code. Two askama templates render any letter as
//! HTML (inline styles: mail clients ignore style sheets) and as plain text.

use askama::Template;

/// The words of one mail, already in the recipient's language.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    /// `ja` or `en`, for the HTML `lang` attribute.
    pub lang: &'static str,
    pub subject: String,
    pub greeting: String,
    pub paragraphs: Vec<String>,
    /// Label and value.
    pub facts: Vec<(String, String)>,
    /// Label and address.
    pub button: Option<(String, String)>,
    /// The ticket's QR code, shown inline from its attachment (`cid:`),
    /// with its caption (the short code).
    pub ticket: Option<TicketPicture>,
    /// Why the person gets this mail.
    pub footer: String,
    /// Label and address of the link that stops mail of this kind, for
    /// mail a person may decline (reminders).
    pub stop_link: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TicketPicture {
    /// The content id of the attached image.
    pub content_id: String,
    pub alt: String,
    pub caption: String,
    /// The image's natural size in pixels, shown unscaled so it stays sharp.
    pub side: u32,
}

#[derive(Template)]
#[template(path = "letter.html")]
struct Html<'a> {
    letter: &'a Letter,
}

#[derive(Template)]
#[template(path = "letter.txt")]
struct Text<'a> {
    letter: &'a Letter,
}

impl Letter {
    /// The HTML body; askama escapes every value.
    pub fn html(&self) -> Result<String, askama::Error> {
        Html { letter: self }.render()
    }

    /// The plain-text body.
    pub fn text(&self) -> Result<String, askama::Error> {
        Text { letter: self }.render()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter() -> Letter {
        Letter {
            lang: "ja",
            subject: "「新年会」のご案内".into(),
            greeting: "加藤 恵理 様".into(),
            paragraphs: vec!["明日は <新年会> です。".into()],
            facts: vec![("日時".into(), "1月10日 18:00".into())],
            button: Some((
                "イベントを見る".into(),
                "https://tsudoi.example/events/1?a=1&b=2".into(),
            )),
            ticket: Some(TicketPicture {
                content_id: "ticket-qr.1@tsudoi.example".into(),
                alt: "受付用QRコード".into(),
                caption: "7K3M-Q9XD".into(),
                side: 228,
            }),
            footer: "Tsudoi からのお知らせです。".into(),
            stop_link: Some((
                "前日のリマインダーを停止する".into(),
                "https://tsudoi.example/reminders/stop/AAAA".into(),
            )),
        }
    }

    #[test]
    fn html_escapes_and_shows_every_part() {
        let html = letter().html().unwrap();
        assert!(html.contains("<html lang=\"ja\">"));
        assert!(html.contains("明日は &#60;新年会&#62; です。"), "{html}");
        assert!(html.contains("加藤 恵理 様"));
        assert!(html.contains("1月10日 18:00"));
        assert!(
            html.contains("href=\"https://tsudoi.example/events/1?a=1&#38;b=2\""),
            "{html}"
        );
        assert!(
            html.contains("src=\"cid:ticket-qr.1@tsudoi.example\""),
            "{html}"
        );
        assert!(html.contains("7K3M-Q9XD"));
        assert!(
            html.contains("href=\"https://tsudoi.example/reminders/stop/AAAA\""),
            "{html}"
        );
    }

    #[test]
    fn text_is_plain_and_complete() {
        let text = letter().text().unwrap();
        assert!(text.contains("明日は <新年会> です。"));
        assert!(text.contains("日時: 1月10日 18:00"));
        assert!(text.contains("https://tsudoi.example/events/1?a=1&b=2"));
        assert!(text.contains("7K3M-Q9XD"));
        assert!(
            text.contains(
                "前日のリマインダーを停止する: https://tsudoi.example/reminders/stop/AAAA"
            )
        );
        assert!(!text.contains('<') || text.contains("<新年会>"));
    }
}
