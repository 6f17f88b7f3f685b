//! The mail outbox for administrators: how many mails wait, go out, went out
//! or failed, each with its last error, and "send again" for failed ones.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use tsudoi::mail::{MailPreview, MailStatus, OutboxCounts, OutboxEntry, OutboxPage};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;
use crate::table_region::TableRegion;

/// Everything the page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxView {
    pub counts: OutboxCounts,
    pub page: OutboxPage,
    /// Set when no SMTP server is configured: mail goes to this folder.
    pub folder: Option<String>,
    /// The company's time zone now, east of UTC: times read as its clock.
    pub utc_offset_seconds: i32,
}

#[server(endpoint = "admin/outbox", input = GetUrl)]
pub async fn load_outbox(
    status: Option<String>,
    before: Option<i64>,
) -> Result<OutboxView, AppError> {
    use tsudoi::access::Permission;
    crate::auth::caller::require(Permission::ManageMail).await?;
    let ctx = crate::server_context::server_context()?;
    let status = status.as_deref().and_then(MailStatus::parse);
    Ok(OutboxView {
        counts: tsudoi::mail::outbox::counts(&ctx.db).await?,
        page: tsudoi::mail::outbox::page(&ctx.db, status, before, 50).await?,
        folder: ctx.mail_folder.clone(),
        utc_offset_seconds: {
            use chrono::{Offset, TimeZone};
            ctx.time_zone
                .offset_from_utc_datetime(&chrono::Utc::now().naive_utc())
                .fix()
                .local_minus_utc()
        },
    })
}

/// Queues a failed mail again (audited).
#[server(endpoint = "admin/outbox/retry")]
pub async fn retry_mail(id: i64) -> Result<(), AppError> {
    use tsudoi::access::Permission;
    let admin = crate::auth::caller::require(Permission::ManageMail).await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::mail::outbox::retry_dead(&ctx.db, admin.id, id, chrono::Utc::now()).await?)
}

/// One mail as it reads (composed now, nothing sent or changed).
#[server(endpoint = "admin/outbox/mail", input = GetUrl)]
pub async fn read_mail(id: i64) -> Result<MailPreview, AppError> {
    use tsudoi::access::Permission;
    crate::auth::caller::require(Permission::ManageMail).await?;
    let ctx = crate::server_context::server_context()?;
    let site = tsudoi::mail::compose::MailSite::parse(&ctx.public_url, ctx.time_zone)?;
    Ok(tsudoi::mail::preview::preview(&ctx.db, &site, id, chrono::Utc::now()).await?)
}

/// `/admin/outbox/{id}`: a mail's subject and text.
#[component]
pub fn MailPage() -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let route_id = crate::pages::route_id();
    let mail = Resource::new(move || route_id().unwrap_or_default(), read_mail);
    view! {
        <Title text=a.mail_title />
        <p><a href="/admin/outbox">{a.back_to_outbox}</a></p>
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match mail.await {
                    Ok(mail) => view! {
                        <article class="form-card mail-preview" data-testid="mail-preview">
                            <h1>{mail.subject.clone().unwrap_or_else(|| a.mail_title.to_string())}</h1>
                            <dl class="facts">
                                <dt>{a.outbox_to}</dt><dd>{mail.to_address}</dd>
                                <dt>{a.outbox_kind}</dt><dd>{(a.mail_kind)(mail.kind)}</dd>
                            </dl>
                            {mail.reason.map(|reason| view! { <p class="notice">{(a.mail_not_sent)(&reason)}</p> })}
                            {mail.text.map(|text| view! { <pre class="mail-text">{text}</pre> })}
                        </article>
                    }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/outbox".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let t = use_texts();
    let query = use_query_map();
    let retry = ServerAction::<RetryMail>::new();
    let view_of = Resource::new(
        move || {
            (
                query.read().get("status"),
                query
                    .read()
                    .get("before")
                    .and_then(|b| b.parse::<i64>().ok()),
                retry.version().get(),
            )
        },
        |(status, before, _)| load_outbox(status, before),
    );
    view! {
        <Title text=t.admin.outbox_title />
        <div class="page-head">
            <h1>{t.admin.outbox_title}</h1>
        </div>
        {move || retry.value().get().map(|result| match result {
            Ok(()) => view! { <p class="notice" role="status">{t.admin.outbox_retried}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
        })}
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match view_of.await {
                    Ok(outbox) => view! { <Outbox outbox retry status=query.read_untracked().get("status") /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/outbox".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Outbox(
    outbox: OutboxView,
    retry: ServerAction<RetryMail>,
    status: Option<String>,
) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let counts = outbox.counts;
    let current_status = status.clone();
    let tab = move |code: Option<MailStatus>, n: Option<i64>| {
        let href = code.map_or("/admin/outbox".to_string(), |s| {
            format!("/admin/outbox?status={}", s.code())
        });
        let label = code.map_or(a.outbox_all, a.outbox_status);
        let current = current_status.as_deref() == code.map(MailStatus::code);
        view! {
            <a class="tab" class:current=current aria-current=current.then_some("page") href=href data-status=code.map(MailStatus::code)>
                {label}{n.map(|n| format!(" ({n})"))}
            </a>
        }
    };
    let next = outbox.page.next_before.map(|before| match &status {
        Some(status) => format!("/admin/outbox?status={status}&before={before}"),
        None => format!("/admin/outbox?before={before}"),
    });
    view! {
        <p class="hint">{a.outbox_intro}</p>
        {outbox.folder.map(|folder| view! { <p class="notice" data-testid="outbox-folder">{(a.outbox_folder)(&folder)}</p> })}
        <nav class="tabs" data-testid="outbox-counts">
            {tab(None, None)}
            {tab(Some(MailStatus::Queued), Some(counts.queued))}
            {tab(Some(MailStatus::Sending), Some(counts.sending))}
            {tab(Some(MailStatus::Sent), Some(counts.sent))}
            {tab(Some(MailStatus::Dead), Some(counts.dead))}
        </nav>
        {if outbox.page.entries.is_empty() {
            view! {
                <section class="empty-state">
                    <h2>{a.outbox_empty_title}</h2>
                    <p>{a.outbox_empty_text}</p>
                </section>
            }.into_any()
        } else {
            view! {
                <TableRegion label=a.outbox_title>
                    <table class="data-table stack-on-phone" data-testid="outbox-table">
                        <thead>
                            <tr>
                                <th scope="col">{a.when_utc}</th>
                                <th scope="col">{a.outbox_to}</th>
                                <th scope="col">{a.outbox_kind}</th>
                                <th scope="col">{a.status}</th>
                                <th scope="col">{a.outbox_attempts}</th>
                                <th scope="col">{a.outbox_next}</th>
                                <th scope="col">{a.outbox_error}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {outbox.page.entries.into_iter().map(|entry| view! { <OutboxRow entry retry offset=outbox.utc_offset_seconds /> }).collect_view()}
                        </tbody>
                    </table>
                </TableRegion>
            }.into_any()
        }}
        {next.map(|href| view! { <a class="button next-page" href=href>{a.older_entries}</a> })}
    }
}

#[component]
fn OutboxRow(entry: OutboxEntry, retry: ServerAction<RetryMail>, offset: i32) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let local_time = move |at: chrono::DateTime<chrono::Utc>| {
        let local = tsudoi::model::to_local(at, offset);
        format!("{}{}", (t.date_time)(local), local.format(":%S"))
    };
    let when = match entry.status {
        MailStatus::Sent => entry.sent_at.map(local_time).unwrap_or_default(),
        MailStatus::Dead => String::new(),
        MailStatus::Queued | MailStatus::Sending => local_time(entry.next_attempt_at),
    };
    let dead = entry.status == MailStatus::Dead;
    view! {
        <tr data-status=entry.status.code() data-mail=entry.id>
            <td><time datetime=crate::html_time::datetime_attribute(&tsudoi::model::to_local(entry.created_at, offset))>{local_time(entry.created_at)}</time></td>
            <td data-label=a.outbox_to><a href=format!("/admin/outbox/{}", entry.id) data-testid="read-mail">{entry.to_address}</a></td>
            <td data-kind=entry.kind.code() data-label=a.outbox_kind>{(a.mail_kind)(entry.kind)}</td>
            <td data-label=a.status>{(a.outbox_status)(entry.status)}</td>
            <td data-label=a.outbox_attempts>{entry.attempts}</td>
            <td data-label=a.outbox_next>{when}</td>
            <td class="detail" data-label=a.outbox_error>
                {entry.last_error}
                {dead.then(|| view! {
                    <ActionForm action=retry attr:class="inline-form">
                        <input type="hidden" name="id" value=entry.id />
                        <button class="button small" type="submit">{a.outbox_retry}</button>
                    </ActionForm>
                })}
            </td>
        </tr>
    }
}
