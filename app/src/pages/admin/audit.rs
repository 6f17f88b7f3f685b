//! The audit log, newest first, one keyset page at a time.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::audit::{AuditEntry, AuditPage};

use crate::AppError;
use crate::layout::LoginNeeded;
use crate::table_region::TableRegion;

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
        <TableRegion label=a.audit_title>
            <table class="data-table stack-on-phone" data-testid="audit-table">
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
        </TableRegion>
        {next.map(|href| view! { <a class="button next-page" href=href>{a.older_entries}</a> })}
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry, offset: i32) -> impl IntoView {
    let t = crate::i18n::use_texts();
    let local = tsudoi::model::to_local(entry.at, offset);
    let who = entry.actor_name.clone().unwrap_or_else(|| "—".to_string());
    let a = &t.admin;
    let detail = detail_pairs(&entry.detail);
    view! {
        <tr data-action=entry.action.code()>
            <td><time datetime=crate::html_time::datetime_attribute(&local)>{(t.date_time)(local)}{local.format(":%S").to_string()}</time></td>
            <td data-label=a.who>{who}</td>
            <td data-label=a.what>{(t.admin.audit_action)(entry.action)}</td>
            <td data-label=a.target>{entry.target}</td>
            <td data-label=a.details>
                {(!detail.is_empty()).then(|| view! {
                    <dl class="detail-list">
                        {detail.into_iter().map(|(key, value)| view! { <div><dt>{key}</dt><dd>{value}</dd></div> }).collect_view()}
                    </dl>
                }.into_any())}
            </td>
        </tr>
    }
    .into_any()
}

/// An entry's particulars as "name: value" pairs to read, rather than JSON:
/// nested values stay compact JSON, text loses its quotes.
fn detail_pairs(detail: &str) -> Vec<(String, String)> {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(fields)) => fields
            .into_iter()
            .map(|(key, value)| {
                let value = match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                (key.replace('_', " "), value)
            })
            .collect(),
        Ok(serde_json::Value::Null) | Err(_) if detail.trim().is_empty() => Vec::new(),
        _ => vec![(String::new(), detail.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::detail_pairs;

    #[test]
    fn details_read_as_pairs() {
        assert_eq!(
            detail_pairs(r#"{"address":"10.0.0.1","known":true,"user_id":7}"#),
            [
                ("address".to_string(), "10.0.0.1".to_string()),
                ("known".to_string(), "true".to_string()),
                ("user id".to_string(), "7".to_string()),
            ]
        );
        assert!(detail_pairs("{}").is_empty());
        assert!(detail_pairs("").is_empty());
        assert_eq!(
            detail_pairs("[1,2]"),
            [(String::new(), "[1,2]".to_string())]
        );
    }
}
