//! Japanese and English: which one a request gets, and the texts for each.
//!
//! The catalogue is a plain struct with one field per text and one value of it
//! per language ([`catalog::EN`], [`catalog::JA`]); a text missing in either
//! language is a compile error. Texts with numbers or dates are functions.
//!
//! Why not `leptos_i18n`: it would bring ICU data and leptos-use into the wasm
//! bundle and a code-generating build step, for two languages whose plural and
//! date rules fit in a few functions here.
//!
//! Choice of language: the `tsudoi_lang` cookie (set by the switcher, and from
//! the user's saved preference at login), else the browser's Accept-Language,
//! else English. A switch reloads the page, so texts need not be reactive.

pub mod catalog;
pub mod reasons;

use leptos::prelude::*;
use tsudoi::model::Lang;

pub use catalog::Texts;

pub const LANG_COOKIE: &str = "tsudoi_lang";

/// The page's language, provided once by `App`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLang(pub Lang);

pub fn texts_for(lang: Lang) -> &'static Texts {
    match lang {
        Lang::Ja => &catalog::JA,
        Lang::En => &catalog::EN,
    }
}

/// Decides and provides the page language: from the request on the server,
/// from `<html lang>` (which the server wrote) in the browser.
pub fn provide_lang() -> Lang {
    #[cfg(feature = "ssr")]
    let lang = request_lang();
    #[cfg(not(feature = "ssr"))]
    let lang = document()
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|code| Lang::parse(&code))
        .unwrap_or(Lang::En);
    provide_context(PageLang(lang));
    lang
}

pub fn use_lang() -> Lang {
    use_context::<PageLang>().map_or(Lang::En, |PageLang(lang)| lang)
}

pub fn use_texts() -> &'static Texts {
    texts_for(use_lang())
}

/// The language of the current request (server side).
#[cfg(feature = "ssr")]
pub fn request_lang() -> Lang {
    use_context::<axum::http::request::Parts>()
        .map_or(Lang::En, |parts| lang_from_headers(&parts.headers))
}

/// The `tsudoi_lang` cookie, else Accept-Language, else English.
#[cfg(feature = "ssr")]
pub fn lang_from_headers(headers: &axum::http::HeaderMap) -> Lang {
    use axum::http::header::{ACCEPT_LANGUAGE, COOKIE};
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    header(COOKIE)
        .and_then(lang_from_cookies)
        .or_else(|| header(ACCEPT_LANGUAGE).and_then(lang_from_accept_language))
        .unwrap_or(Lang::En)
}

pub fn lang_from_cookies(cookies: &str) -> Option<Lang> {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == LANG_COOKIE)
        .and_then(|(_, value)| Lang::parse(value.trim()))
}

/// The most preferred of our languages in an Accept-Language header, by q-value.
pub fn lang_from_accept_language(header: &str) -> Option<Lang> {
    header
        .split(',')
        .filter_map(|item| {
            let mut parts = item.trim().split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            Lang::parse(primary).map(|lang| (lang, quality))
        })
        .filter(|(_, quality)| *quality > 0.0)
        .fold(
            None,
            |best: Option<(Lang, f32)>, (lang, quality)| match best {
                Some((_, q)) if q >= quality => best,
                _ => Some((lang, quality)),
            },
        )
        .map(|(lang, _)| lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_our_best_match() {
        assert_eq!(
            lang_from_accept_language("ja-JP,ja;q=0.9,en;q=0.8"),
            Some(Lang::Ja)
        );
        assert_eq!(
            lang_from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            lang_from_accept_language("fr-FR, ja;q=0.5, en;q=0.7"),
            Some(Lang::En)
        );
        assert_eq!(lang_from_accept_language("de, fr"), None);
        assert_eq!(
            lang_from_accept_language("ja;q=0, en;q=0.1"),
            Some(Lang::En)
        );
    }

    #[test]
    fn the_cookie_names_the_language() {
        assert_eq!(lang_from_cookies("a=b; tsudoi_lang=ja"), Some(Lang::Ja));
        assert_eq!(lang_from_cookies("tsudoi_lang=xx"), None);
        assert_eq!(lang_from_cookies(""), None);
    }
}

impl Texts {
    /// What to tell the user about a failed request, in their language.
    /// Rule violations (`Invalid`, `Conflict`) carry the core's own words.
    pub fn error(&self, error: &crate::AppError) -> String {
        use crate::AppError;
        use tsudoi::Error;
        match error {
            AppError::Transport(_) => self.error_network.to_string(),
            AppError::Domain(domain) => match domain {
                Error::Invalid(reason) | Error::Conflict(reason) => (self.reason)(reason),
                Error::NotFound => self.error_not_found.to_string(),
                Error::Unauthenticated => self.error_login_failed.to_string(),
                Error::LoginRequired => self.error_login_required.to_string(),
                Error::Forbidden => self.error_forbidden.to_string(),
                Error::TooManyAttempts { retry_after_secs } => {
                    (self.error_too_many_attempts)(*retry_after_secs)
                }
                Error::TooManyWrongCodes { retry_after_secs } => {
                    (self.error_too_many_wrong_codes)(*retry_after_secs)
                }
                Error::Unavailable => self.error_unavailable.to_string(),
                Error::Internal => self.error_internal.to_string(),
            },
        }
    }
}

/// Switches the language: a cookie for everyone, and the saved preference of
/// a logged-in user (so it follows them to other devices at login). Posted
/// by a plain form, so the browser comes back to the page, now translated.
#[server(endpoint = "lang")]
pub async fn set_language(lang: String) -> Result<(), crate::AppError> {
    let lang = Lang::parse(&lang).ok_or(tsudoi::Error::Invalid(tsudoi::Reason::Unknown {
        field: tsudoi::Field::Language,
    }))?;
    remember_lang_cookie(lang);
    if let Ok(Some(viewer)) = crate::auth::caller::viewer().await {
        let ctx = crate::server_context::server_context()?;
        tsudoi::users::set_lang(&ctx.db, viewer.id, lang).await?;
    }
    Ok(())
}

/// Sets the language cookie on the current response.
#[cfg(feature = "ssr")]
pub fn remember_lang_cookie(lang: Lang) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(value) = axum::http::HeaderValue::from_str(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.code()
        ))
    {
        response.append_header(axum::http::header::SET_COOKIE, value);
    }
}
