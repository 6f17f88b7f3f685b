//! The session behind a request and the checks built on it.
//!
//! A session holds only the user id and when the login began; role, name and
//! the active flag are read from the database on every request, so a role
//! change or a deactivation takes effect at once, on every instance.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;
use tsudoi::Error;
use tsudoi::access::Permission;
use tsudoi::users::{self, AuthenticatedUser};

use super::Viewer;
use crate::server_context::server_context;

const LOGIN_KEY: &str = "login";
/// The minute of the last request: writing it only when it changes keeps the
/// inactivity timeout rolling with at most one store write a minute per user.
const SEEN_KEY: &str = "seen";

#[derive(Debug, Serialize, Deserialize)]
struct Login {
    user_id: i64,
    /// Unix seconds; the absolute timeout counts from here.
    since: i64,
    /// The person's session generation at login (see
    /// `AuthenticatedUser::session_generation`); sessions from before this
    /// field existed read as 0, the generation every account starts with.
    #[serde(default)]
    generation: i64,
}

fn store_down(err: tower_sessions::session::Error) -> Error {
    tracing::warn!(error = %err, "session store unavailable");
    Error::Unavailable
}

async fn session() -> Result<Session, Error> {
    leptos_axum::extract::<Session>().await.map_err(|_| {
        tracing::error!("no session layer in front of this route");
        Error::Internal
    })
}

fn to_viewer(user: AuthenticatedUser) -> Viewer {
    Viewer {
        id: user.id,
        email: user.email,
        display_name: user.display_name,
        role: user.role,
        lang: user.lang,
    }
}

/// The viewer of one request, worked out once: the header and the page's own
/// server functions all ask, often at the same time (resources of one page
/// run concurrently), and each answer costs a session read and a user
/// lookup. Whoever asks first looks up; the others wait for that answer. The
/// binary provides a fresh one with every request.
#[derive(Clone, Default)]
pub struct ViewerMemo(Arc<tokio::sync::OnceCell<Option<Viewer>>>);

/// The logged-in user, or `None`. Ends the session when it is too old or the
/// account is gone or deactivated.
pub async fn viewer() -> Result<Option<Viewer>, Error> {
    let Some(memo) = leptos::prelude::use_context::<ViewerMemo>() else {
        return look_up_and_record().await;
    };
    // A failed lookup (session store down) is not kept: the next caller tries again.
    memo.0.get_or_try_init(look_up_and_record).await.cloned()
}

async fn look_up_and_record() -> Result<Option<Viewer>, Error> {
    let found = look_up_viewer().await?;
    if let Some(viewer) = &found {
        record_user(viewer.id);
    }
    Ok(found)
}

async fn look_up_viewer() -> Result<Option<Viewer>, Error> {
    let session = session().await?;
    let Some(login) = session.get::<Login>(LOGIN_KEY).await.map_err(store_down)? else {
        return Ok(None);
    };
    let ctx = server_context().map_err(|_| Error::Internal)?;
    let now = Utc::now();
    if now.timestamp() - login.since > ctx.auth.max_session_age.num_seconds() {
        session.flush().await.map_err(store_down)?;
        return Ok(None);
    }
    let user = users::current(&ctx.db, login.user_id)
        .await?
        .filter(|user| user.session_generation == login.generation);
    let Some(user) = user else {
        // Deactivated, deleted, or the password changed since this login.
        session.flush().await.map_err(store_down)?;
        return Ok(None);
    };
    session
        .insert(SEEN_KEY, now.timestamp() / 60)
        .await
        .map_err(store_down)?;
    Ok(Some(to_viewer(user)))
}

/// The request's span, put in the request by the server, so that the log
/// lines of a request name the person making it.
#[derive(Clone)]
pub struct RequestSpan(pub tracing::Span);

/// Writes `user_id` into the request's span (see [`RequestSpan`]).
fn record_user(user_id: i64) {
    if let Some(span) = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestSpan>().cloned())
    {
        span.0.record("user_id", user_id);
    }
}

/// The logged-in user; otherwise the request ends with "please log in" (401)
/// or, while the session store is down, 503.
pub async fn require_login() -> Result<Viewer, Error> {
    viewer().await?.ok_or(Error::LoginRequired)
}

/// The logged-in user if their role grants `permission`; 401 for visitors, 403 for others.
pub async fn require(permission: Permission) -> Result<Viewer, Error> {
    let viewer = require_login().await?;
    if viewer.may(permission) {
        Ok(viewer)
    } else {
        Err(Error::Forbidden)
    }
}

/// Checks the password (with the per-account and per-address limits) and
/// starts a session under a new id, so an id planted before the login is
/// worthless after it.
pub async fn log_in(email: &str, password: String) -> Result<Viewer, Error> {
    let ctx = server_context().map_err(|_| Error::Internal)?;
    let address = client_address().await;
    let user = users::log_in(
        &ctx.db,
        &ctx.auth.login_limits,
        email,
        password,
        &address,
        Utc::now(),
    )
    .await?;
    start_session(user.id, user.session_generation, Utc::now().timestamp()).await?;
    record_user(user.id);
    Ok(to_viewer(user))
}

/// A fresh session for `user_id` under a new id, so an id planted before
/// (or copied during) the old one is worthless after it.
async fn start_session(user_id: i64, generation: i64, since: i64) -> Result<(), Error> {
    let session = session().await?;
    session.cycle_id().await.map_err(store_down)?;
    session.clear().await;
    session
        .insert(
            LOGIN_KEY,
            Login {
                user_id,
                since,
                generation,
            },
        )
        .await
        .map_err(store_down)
}

/// Changes the viewer's password (behind the login limits) and ends every
/// other session of theirs: this one moves on to the new generation, under a
/// new id, keeping its login time for the absolute timeout.
pub async fn change_password(viewer: &Viewer, current: String, new: String) -> Result<(), Error> {
    let ctx = server_context().map_err(|_| Error::Internal)?;
    let since = session()
        .await?
        .get::<Login>(LOGIN_KEY)
        .await
        .map_err(store_down)?
        .map_or_else(|| Utc::now().timestamp(), |login| login.since);
    let address = client_address().await;
    let generation = users::change_password(
        &ctx.db,
        &ctx.auth.login_limits,
        viewer.id,
        current,
        new,
        &address,
    )
    .await?;
    start_session(viewer.id, generation, since).await
}

/// "Forgot your password?": the core mails a link if the address is
/// someone's, counted against the limits by the peer address.
pub async fn request_password_reset(email: &str) -> Result<(), Error> {
    let ctx = server_context().map_err(|_| Error::Internal)?;
    let address = client_address().await;
    users::password_links::request_reset(
        &ctx.db,
        &ctx.auth.login_limits,
        email,
        &address,
        Utc::now(),
    )
    .await
}

/// Sets the password a mailed link is for and signs its person in, in a
/// fresh session on the new generation (every older session has ended).
pub async fn set_password_with_link(token: &str, new: String) -> Result<Viewer, Error> {
    let ctx = server_context().map_err(|_| Error::Internal)?;
    let now = Utc::now();
    let user = users::password_links::set_password(&ctx.db, token, new, now).await?;
    start_session(user.id, user.session_generation, now.timestamp()).await?;
    Ok(to_viewer(user))
}

/// Deletes the session on the server, so a copied cookie is useless afterwards.
pub async fn log_out() -> Result<(), Error> {
    let session = session().await?;
    let user = session.get::<Login>(LOGIN_KEY).await.map_err(store_down)?;
    session.flush().await.map_err(store_down)?;
    if let Some(login) = user {
        let ctx = server_context().map_err(|_| Error::Internal)?;
        tsudoi::audit::record(
            &ctx.db,
            Some(login.user_id),
            tsudoi::audit::AuditAction::LoggedOut,
            "",
            serde_json::json!({}),
        )
        .await?;
    }
    Ok(())
}

/// The peer address; the per-address login limit counts by it.
async fn client_address() -> String {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|_| "unknown".to_string())
}
