//! What the binary hands to every page render and server function.

use chrono_tz::Tz;
use tsudoi::storage::Database;

#[derive(Clone)]
pub struct ServerContext {
    pub db: Database,
    /// The company's time zone: "today" and displayed times are in it.
    pub time_zone: Tz,
    pub auth: AuthPolicy,
    /// Groups concurrent registrations for one event into one transaction.
    pub registrar: tsudoi::registrations::Registrar,
    /// The address people open, for links that leave the site (calendar feeds).
    pub public_url: String,
    /// Where mail goes when no SMTP server is configured; `None` with SMTP.
    pub mail_folder: Option<String>,
    /// The organizers' dashboard numbers, checked for freshness on every read.
    pub stats_cache: std::sync::Arc<tsudoi::events::stats_cache::StatsCache>,
    /// Pages of the public event list, kept until a write changes them.
    pub list_cache: std::sync::Arc<tsudoi::events::list_cache::ListCache>,
    /// Survey results, checked for freshness on every read like the dashboard.
    pub survey_results: std::sync::Arc<tsudoi::surveys::results_cache::SurveyResultsCache>,
    /// The retention limits, shown on the administrators' retention page.
    pub retention: tsudoi::retention::job::RetentionSettings,
}

/// The rules for logging in and staying logged in.
#[derive(Clone, Debug)]
pub struct AuthPolicy {
    /// A login ends this long after it began, however active the user is.
    pub max_session_age: chrono::Duration,
    pub login_limits: tsudoi::users::throttle::LoginLimits,
}

/// How the binary provides the context: shared, since every page and server
/// function reads it (several times in one request) and a copy of each field
/// would cost more than the page's own work.
pub type SharedServerContext = std::sync::Arc<ServerContext>;

/// The context of the current request; present in every route and server function.
pub fn server_context() -> Result<SharedServerContext, crate::AppError> {
    leptos::prelude::use_context::<SharedServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from the request context");
        crate::AppError::Domain(tsudoi::Error::Internal)
    })
}

/// Makes the current server function's answer a file the browser saves as
/// `file_name` (ASCII), of type `content_type`.
pub fn send_as_attachment(content_type: &'static str, file_name: &str) {
    use axum::http::{HeaderValue, header};
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    response.insert_header(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        response.insert_header(header::CONTENT_DISPOSITION, value);
    }
}
