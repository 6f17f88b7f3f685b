//! One ticket: the signed QR code to show at the door and the short code for
//! manual entry.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};
use tsudoi::model::EventSummary;

use crate::AppError;
use crate::i18n::{use_lang, use_texts};
use crate::layout::LoginNeeded;
use crate::pages::events::titles;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub event: EventSummary,
    pub code: String,
    /// The QR code as an SVG document, made on the server.
    pub qr_svg: String,
}

#[server(endpoint = "me/ticket", input = leptos::server_fn::codec::GetUrl)]
pub async fn load_ticket(registration_id: i64) -> Result<TicketView, AppError> {
    let viewer = crate::auth::caller::require_login().await?;
    let ctx = crate::server_context::server_context()?;
    let ticket = tsudoi::tickets::issue(&ctx.db, registration_id, viewer.id).await?;
    let detail = tsudoi::events::detail(
        &ctx.db,
        ctx.time_zone,
        ticket.event_id,
        Some(viewer.id),
        true,
        chrono::Utc::now(),
    )
    .await?;
    Ok(TicketView {
        event: detail.event,
        qr_svg: tsudoi::tickets::qr_svg(&ticket.token),
        code: ticket.code,
    })
}

#[component]
pub fn TicketPage() -> impl IntoView {
    let t = use_texts();
    let id = crate::pages::route_id();
    let ticket_view = Resource::new(id, |id| async move {
        match id {
            Some(id) => load_ticket(id).await,
            None => Err(AppError::Domain(tsudoi::Error::NotFound)),
        }
    });
    view! {
        <Title text=t.ticket_title />
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match ticket_view.await {
                    Ok(ticket) => view! { <TicketCard ticket /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here=format!("/tickets/{}", id().unwrap_or_default()) /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TicketCard(ticket: TicketView) -> impl IntoView {
    let t = use_texts();
    let (title, _) = titles(&ticket.event, use_lang());
    let start = ticket.event.local_start();
    let end = ticket.event.local_end();
    view! {
        <section class="ticket" data-testid="ticket">
            <p class="ticket-kicker">{t.ticket_title}</p>
            <h1>{title}</h1>
            <p class="event-meta">
                <time datetime=crate::html_time::datetime_attribute(&start)>{(t.date_time)(start)}</time>"–"{(t.time)(end)}" · "{ticket.event.place.clone()}
            </p>
            <div class="qr" role="img" aria-label=t.ticket_title inner_html=ticket.qr_svg data-testid="ticket-qr"></div>
            <p class="ticket-code-label">{t.ticket_code_label}</p>
            <p class="ticket-code" data-testid="ticket-code">{ticket.code}</p>
            <p class="hint">{t.ticket_hint}</p>
            <p><a href=format!("/events/{}/calendar.ics", ticket.event.id) download="">{t.add_to_calendar}</a></p>
        </section>
    }
}
