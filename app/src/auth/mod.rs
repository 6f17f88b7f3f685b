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

/// Only a path on this site: `next=https://evil.example` must not turn the
/// login page into an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
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
        return Err(tsudoi::Error::Invalid("The new passwords do not match.".into()).into());
    }
    let ctx = crate::server_context::server_context()?;
    tsudoi::users::change_password(&ctx.db, viewer.id, current, new).await?;
    Ok(())
}
