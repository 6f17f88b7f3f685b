//! The audit log, newest first, one keyset page at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::audit::{AuditEntry, AuditPage};

use crate::AppError;
use crate::layout::LoginNeeded;

#[server(endpoint = "admin/audit", input = leptos::server_fn::codec::GetUrl)]
pub async fn audit_log(before: Option<String>) -> Result<AuditPage, AppError> {
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
    Ok(tsudoi::audit::page(&ctx.db, before, tsudoi::model::page_size(Some(50))).await?)
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
                    Ok(page) => view! { <AuditTable page /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/audit".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditTable(page: AuditPage) -> impl IntoView {
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
                    {page.items.into_iter().map(|entry| view! { <AuditRow entry /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <a class="button next-page" href=href>{a.older_entries}</a> })}
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let who = entry.actor_name.clone().unwrap_or_else(|| "—".to_string());
    let detail = if entry.detail == "{}" {
        String::new()
    } else {
        entry.detail.clone()
    };
    view! {
        <tr data-action=entry.action.code()>
            <td><time datetime=entry.at.to_rfc3339()>{entry.at.format("%Y-%m-%d %H:%M:%S").to_string()}</time></td>
            <td>{who}</td>
            <td>{entry.action.code()}</td>
            <td>{entry.target}</td>
            <td class="detail">{detail}</td>
        </tr>
    }
}
