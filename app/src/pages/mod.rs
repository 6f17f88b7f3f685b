pub mod account;
pub mod admin;
pub mod door;
#[cfg(feature = "door-bundle")]
pub mod elsewhere;
pub mod event;
pub mod events;
pub mod login;
pub mod my_events;
pub mod not_found;
pub mod organize;
pub mod password;
pub mod reminders;
pub mod survey;
pub mod ticket;

/// The `:id` of the current route as a number, reactively; `None` when it is
/// missing or not a number (the page then shows "not found").
pub(crate) fn route_id() -> impl Fn() -> Option<i64> + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || {
        use leptos::prelude::Read;
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
    }
}

/// The event's summary as the list shows it (drafts included), for pages
/// that name their event; the caller has checked who may see it.
#[cfg(feature = "ssr")]
pub(crate) async fn event_summary(
    event_id: i64,
) -> Result<tsudoi::model::EventSummary, crate::AppError> {
    let ctx = crate::server_context::server_context()?;
    let detail = tsudoi::events::detail(
        &ctx.db,
        ctx.time_zone,
        event_id,
        None,
        true,
        chrono::Utc::now(),
    )
    .await?;
    Ok(detail.event)
}
