//! The audit log, newest first, one keyset page at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::audit::{AuditEntry, AuditPage};

use crate::AppError;
use crate::layout::LoginNeeded;

/// A page of the log, with each entry's offset of the company's time zone,
/// so times read as the company's clock shows them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuditView {
    pub page: AuditPage,
    pub utc_offset_seconds: Vec<i32>,
}

#[server(endpoint = "admin/audit", input = leptos::server_fn::codec::GetUrl)]
pub async fn audit_log(before: Option<String>) -> Result<AuditView, AppError> {
    use chrono::{Offset, TimeZone};
    use tsudoi::access::Permission;
    use tsudoi::audit::AuditCursor;

    crate::auth::caller::require(Permission::ReadAuditLog).await?;
    let before = match before.as_deref().filter(|b| !b.is_empty()) {
        Some(text) => Some(
            AuditCursor::decode(text).ok_or(tsudoi::Error::Invalid(tsudoi::Reason::BrokenLink))?,
        ),
        None => None,
    };
    let ctx = crate::server_context::server_context()?;
    let page = tsudoi::audit::page(&ctx.db, before, tsudoi::model::page_size(Some(50))).await?;
    let utc_offset_seconds = page
        .items
        .iter()
        .map(|entry| {
            ctx.time_zone
                .offset_from_utc_datetime(&entry.at.naive_utc())
                .fix()
                .local_minus_utc()
        })
        .collect();
    Ok(AuditView {
        page,
        utc_offset_seconds,
    })
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let t = crate::i18n::use_texts();
    let query = use_query_map();
    let entries = Resource::new(move || query.read().get("before"), audit_log);
    view! {
        <Title text=t.admin.audit_title />
        <div class="page-head">
            <h1>{t.admin.audit_title}</h1>
        </div>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(view) => view! { <AuditTable page=view.page offsets=view.utc_offset_seconds /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/audit".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditTable(page: AuditPage, offsets: Vec<i32>) -> impl IntoView {
    let t = crate::i18n::use_texts();
    let a = &t.admin;
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>{t.admin.audit_empty_title}</h2>
                <p>{t.admin.audit_empty_text}</p>
            </section>
        }
        .into_any();
    }
    let next = page
        .next
        .map(|cursor| format!("/admin/audit?before={}", cursor.encode()));
    view! {
        <div class="table-wrap">
            <table class="data-table" data-testid="audit-table">
                <thead>
                    <tr><th scope="col">{a.when_utc}</th><th scope="col">{a.who}</th><th scope="col">{a.what}</th><th scope="col">{a.target}</th><th scope="col">{a.details}</th></tr>
                </thead>
                <tbody>
                    {page
                        .items
                        .into_iter()
                        .zip(offsets.into_iter().chain(std::iter::repeat(0)))
                        .map(|(entry, offset)| view! { <AuditRow entry offset /> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <a class="button next-page" href=href>{a.older_entries}</a> })}
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry, offset: i32) -> impl IntoView {
    let t = crate::i18n::use_texts();
    let local = tsudoi::model::to_local(entry.at, offset);
    let who = entry.actor_name.clone().unwrap_or_else(|| "—".to_string());
    let detail = if entry.detail == "{}" {
        String::new()
    } else {
        entry.detail.clone()
    };
    view! {
        <tr data-action=entry.action.code()>
            <td><time datetime=local.to_rfc3339()>{(t.date_time)(local)}{local.format(":%S").to_string()}</time></td>
            <td>{who}</td>
            <td>{(t.admin.audit_action)(entry.action)}</td>
            <td>{entry.target}</td>
            <td class="detail">{detail}</td>
        </tr>
    }
}
