//! Logging in and out, changing one's password, and who the current viewer is.
//!
//! The server functions here are thin: read the session, call the core
//! (`tsudoi::users`), write the session. The checks every other server
//! function makes live in [`caller`].

#[cfg(feature = "ssr")]
pub mod caller;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use tsudoi::access::Permission;
use tsudoi::model::{Lang, Role};

use crate::AppError;

/// The logged-in person, as pages see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub lang: Lang,
}

impl Viewer {
    pub fn may(&self, permission: Permission) -> bool {
        self.role.grants(permission)
    }
}

/// Where to go after logging in: only a path on this site, else `/`.
///
/// Browsers forgive a lot in a `Location` header — they drop tabs and line
/// breaks, read `\\` as `/` and `//host` as another site — so anything that
/// could become a second slash, a backslash or a scheme is refused, also
/// after percent-decoding. Characters outside ASCII are percent-encoded, so
/// the answer is always a valid header value.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or_else(|| "/".to_string())
}

#[cfg(feature = "ssr")]
fn local_path(next: &str) -> Option<String> {
    const LONGEST: usize = 2000;
    if next.len() > LONGEST || !is_plain_local_path(next, false) {
        return None;
    }
    // `%2f%2fevil.example` decodes to `//evil.example`; some proxies and
    // frameworks decode once more, so check every decoding until it settles.
    let mut decoded = next.to_string();
    for _ in 0..3 {
        let once = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if once == decoded {
            break;
        }
        if !is_plain_local_path(&once, true) {
            return None;
        }
        decoded = once;
    }
    let mut encoded = String::with_capacity(next.len());
    for c in next.chars() {
        if c.is_ascii() {
            encoded.push(c);
        } else {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                encoded.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    Some(encoded)
}

/// One leading `/`, then neither `/`, `\\` nor white space right after it;
/// no backslash or control character anywhere. Spaces are refused in the
/// path as sent (browsers strip some of them) but allowed once decoded
/// (`?q=a%20b`).
#[cfg(feature = "ssr")]
fn is_plain_local_path(path: &str, decoded: bool) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !chars
            .next()
            .is_some_and(|c| c == '/' || c == '\\' || c.is_whitespace() || c.is_control())
        && !path
            .chars()
            .any(|c| c == '\\' || c.is_control() || (!decoded && c.is_whitespace()))
}

/// Who is looking at the page; `None` for visitors who have not logged in.
///
/// A session store that is down does not break public pages: the viewer is
/// then treated as anonymous here, and pages that need a login say so with a
/// 503 through [`caller::require`].
#[server(endpoint = "auth/me", input = leptos::server_fn::codec::GetUrl)]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    match caller::viewer().await {
        Ok(viewer) => Ok(viewer),
        Err(tsudoi::Error::Unavailable) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// The logged-in viewer, for pages that need one: 401 for visitors, 503
/// while the session store is down.
#[server(endpoint = "auth/account", input = leptos::server_fn::codec::GetUrl)]
pub async fn my_account() -> Result<Viewer, AppError> {
    Ok(caller::require_login().await?)
}

/// Answers the page to open next. A browser without JavaScript is redirected
/// there; a hydrated page loads it in full, because the user's saved language
/// may differ from the one the login page was rendered in.
#[server(endpoint = "auth/login")]
pub async fn log_in(
    email: String,
    password: String,
    next: Option<String>,
) -> Result<String, AppError> {
    let viewer = caller::log_in(&email, password).await?;
    tracing::info!(user = viewer.id, "logged in");
    crate::i18n::remember_lang_cookie(viewer.lang);
    let next = safe_next(next.as_deref());
    if crate::error::is_plain_form_post() {
        leptos_axum::redirect(&next);
    }
    Ok(next)
}

#[server(endpoint = "auth/logout")]
pub async fn log_out() -> Result<(), AppError> {
    caller::log_out().await?;
    leptos_axum::redirect("/login?logged_out=1");
    Ok(())
}

#[server(endpoint = "auth/password")]
pub async fn change_password(current: String, new: String, repeat: String) -> Result<(), AppError> {
    let viewer = caller::require_login().await?;
    if new != repeat {
        return Err(tsudoi::Error::Invalid(tsudoi::Reason::PasswordsDiffer).into());
    }
    caller::change_password(&viewer, current, new).await?;
    Ok(())
}

/// "Forgot your password?". The answer is the same whether the address
/// belongs to someone or not; only the limits can refuse.
#[server(endpoint = "auth/forgot-password")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    caller::request_password_reset(&email).await?;
    if crate::error::is_plain_form_post() {
        leptos_axum::redirect("/forgot-password?sent=1");
    }
    Ok(())
}

/// Whose a mailed password link is and until when it works, for its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordLinkView {
    pub display_name: String,
    pub email: String,
    /// An invitation (a first password) rather than a reset.
    pub invitation: bool,
    /// In the company's time zone.
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
}

#[server(endpoint = "auth/password-link", input = leptos::server_fn::codec::GetUrl)]
pub async fn password_link(token: String) -> Result<PasswordLinkView, AppError> {
    let ctx = crate::server_context::server_context()?;
    let link = tsudoi::users::password_links::usable(&ctx.db, &token, chrono::Utc::now()).await?;
    Ok(PasswordLinkView {
        display_name: link.display_name,
        email: link.email,
        invitation: link.purpose == tsudoi::users::password_links::LinkPurpose::Invitation,
        expires_at: link.expires_at.with_timezone(&ctx.time_zone).fixed_offset(),
    })
}

/// Sets the password from a mailed link and signs the person in; answers
/// the page to open (the start page, loaded in full for their language).
#[server(endpoint = "auth/password-link/use")]
pub async fn use_password_link(
    token: String,
    new: String,
    repeat: String,
) -> Result<String, AppError> {
    if new != repeat {
        return Err(tsudoi::Error::Invalid(tsudoi::Reason::PasswordsDiffer).into());
    }
    let viewer = caller::set_password_with_link(&token, new).await?;
    tracing::info!(user = viewer.id, "password set from a mailed link");
    crate::i18n::remember_lang_cookie(viewer.lang);
    if crate::error::is_plain_form_post() {
        leptos_axum::redirect("/");
    }
    Ok("/".to_string())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::safe_next;

    #[test]
    fn local_paths_are_kept() {
        for path in ["/", "/my-events", "/events/12?lang=en", "/events?q=a%20b"] {
            assert_eq!(safe_next(Some(path)), path);
        }
        assert_eq!(
            safe_next(Some("/events?q=研修")),
            "/events?q=%E7%A0%94%E4%BF%AE"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_home() {
        let mut attempts: Vec<String> = [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2f%2fevil.example",
            "/%2F/evil.example",
            "%2f%2fevil.example",
            "/%5cevil.example",
            "/%252f%252fevil.example",
            "javascript:alert(1)",
            " /evil",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every ASCII control character and the space, raw and percent-encoded,
        // between the two slashes and at the end.
        for byte in (0u8..=0x20).chain([0x7f]) {
            let c = char::from(byte);
            attempts.push(format!("/{c}/evil.example"));
            attempts.push(format!("/evil{c}"));
            attempts.push(format!("/%{byte:02x}/evil.example"));
        }
        attempts.push(format!("/{}", "a".repeat(5000)));
        for attempt in &attempts {
            assert_eq!(safe_next(Some(attempt)), "/", "{attempt:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_answer_is_always_a_valid_header_value() {
        for path in ["/イベント", "/a?b=ü", "/x#y"] {
            let next = safe_next(Some(path));
            assert!(axum::http::HeaderValue::from_str(&next).is_ok(), "{next}");
        }
    }
}
