//! People: find, create, change roles, deactivate, and import from CSV.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::audit::AuditEntry;
use tsudoi::model::{ImportReport, Role, UserPage, UserSummary};

use crate::AppError;
use crate::i18n::use_texts;
use crate::layout::LoginNeeded;
use crate::table_region::TableRegion;

/// The largest CSV accepted: ~50,000 employees at 100 bytes a line.
#[cfg(feature = "ssr")]
pub const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

#[cfg(feature = "ssr")]
async fn require_admin() -> Result<crate::auth::Viewer, AppError> {
    Ok(crate::auth::caller::require(tsudoi::access::Permission::AdministerUsers).await?)
}

#[cfg(feature = "ssr")]
fn parse_role(code: &str) -> Result<Role, tsudoi::Error> {
    Role::parse(code).ok_or(tsudoi::Error::Invalid(tsudoi::Reason::Unknown {
        field: tsudoi::Field::Role,
    }))
}

#[server(endpoint = "admin/users/list", input = GetUrl)]
pub async fn list_users(
    q: Option<String>,
    role: Option<String>,
    without_password: Option<String>,
    after: Option<String>,
) -> Result<UserPage, AppError> {
    require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    let search = q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let after = after.as_deref().filter(|a| !a.is_empty());
    let filter = tsudoi::users::UserFilter {
        role: role
            .as_deref()
            .filter(|r| !r.is_empty())
            .map(parse_role)
            .transpose()?,
        without_password: without_password.is_some_and(|v| !v.is_empty()),
    };
    Ok(tsudoi::users::list_filtered(
        &ctx.db,
        search,
        &filter,
        after,
        tsudoi::model::page_size(Some(50)),
    )
    .await?)
}

/// Invitation mail with a link to set a first password: for the people
/// chosen (`user_ids`), or for everyone without a password (`everyone`).
/// Answers how many were invited.
#[server(endpoint = "admin/users/invite")]
pub async fn invite_users(
    user_ids: Option<Vec<i64>>,
    everyone: Option<bool>,
) -> Result<u64, AppError> {
    use tsudoi::users::password_links::{Invitees, invite};
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    let invitees = if everyone == Some(true) {
        Invitees::EveryoneWithoutPassword
    } else {
        Invitees::Chosen(user_ids.unwrap_or_default())
    };
    Ok(invite(&ctx.db, admin.id, invitees, chrono::Utc::now()).await?)
}

#[server(endpoint = "admin/users/create")]
pub async fn create_user(
    email: String,
    display_name: String,
    department: Option<String>,
    role: String,
    lang: Option<String>,
    password: Option<String>,
) -> Result<i64, AppError> {
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    let user = tsudoi::users::NewUser {
        email,
        display_name,
        department,
        role: parse_role(&role)?,
        // Japanese unless chosen: the person can switch, and it is remembered.
        lang: lang
            .as_deref()
            .and_then(tsudoi::model::Lang::parse)
            .unwrap_or(tsudoi::model::Lang::Ja),
    };
    let password = password.filter(|p| !p.is_empty());
    Ok(tsudoi::users::create(&ctx.db, admin.id, &user, password).await?)
}

#[server(endpoint = "admin/users/role")]
pub async fn set_user_role(user_id: i64, role: String) -> Result<(), AppError> {
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::users::set_role(&ctx.db, admin.id, user_id, parse_role(&role)?).await?)
}

#[server(endpoint = "admin/users/active")]
pub async fn set_user_active(user_id: i64, active: bool) -> Result<(), AppError> {
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::users::set_active(&ctx.db, admin.id, user_id, active).await?)
}

/// A CSV upload (multipart). Without JavaScript the browser comes back to the
/// page, which shows the report of the last import from the audit log.
#[server(endpoint = "admin/users/import", input = MultipartFormData)]
pub async fn import_users(data: MultipartData) -> Result<ImportReport, AppError> {
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    let mut form = data.into_inner().ok_or(tsudoi::Error::Internal)?;
    let unreadable = || tsudoi::Error::Invalid(tsudoi::Reason::UploadUnreadable);
    let mut file = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(|_| unreadable())? {
        if field.name() != Some("file") {
            continue;
        }
        while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
            if file.len() + chunk.len() > MAX_IMPORT_BYTES {
                return Err(tsudoi::Error::Invalid(tsudoi::Reason::UploadTooLarge {
                    max_mb: (MAX_IMPORT_BYTES / (1024 * 1024)) as u32,
                })
                .into());
            }
            file.extend_from_slice(&chunk);
        }
    }
    if file.is_empty() {
        return Err(tsudoi::Error::Invalid(tsudoi::Reason::UploadMissing).into());
    }
    let report =
        tsudoi::users::import::import_csv_as(&ctx.db, Some(admin.id), file.as_slice()).await?;
    // Back to the list with the import's report open.
    if crate::error::is_plain_form_post() {
        leptos_axum::redirect("/admin/users?imported=1");
    }
    Ok(report)
}

#[server(endpoint = "admin/users/last-import", input = GetUrl)]
pub async fn last_import() -> Result<Option<AuditEntry>, AppError> {
    let admin = require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    Ok(tsudoi::audit::latest(
        &ctx.db,
        tsudoi::audit::AuditAction::UsersImported,
        Some(admin.id),
    )
    .await?)
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let query = use_query_map();
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let invite = ServerAction::<InviteUsers>::new();
    let users = Resource::new(
        move || {
            let query = query.read();
            (
                query.get("q"),
                query.get("role"),
                query.get("without_password"),
                query.get("after"),
                create.version().get(),
                set_role.version().get(),
                set_active.version().get(),
                invite.version().get(),
            )
        },
        |(q, role, without_password, after, ..)| list_users(q, role, without_password, after),
    );
    let search = move || query.read().get("q").unwrap_or_default();
    let chosen_role = move || query.read().get("role").unwrap_or_default();
    let only_without_password = move || query.read().get("without_password").is_some();
    let t = use_texts();
    let a = &t.admin;
    let import_failed =
        crate::layout::form_error_in_url(<ImportUsers as leptos::server_fn::ServerFn>::PATH)
            .is_some();
    let invited = move || {
        invite.value().get().map(|result| match result {
            Ok(n) => view! { <p class="notice" role="status" data-testid="invited">{(a.invited)(n)}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert" data-testid="invite-error">{t.error(&err)}</p> }.into_any(),
        })
    };
    view! {
        <Title text=a.users_title />
        <div class="page-head">
            <h1>{a.users_title}</h1>
        </div>
        <div class="disclosures">
            <details class="form-card">
                <summary>{a.create_title}</summary>
                <CreateUserForm create />
            </details>
            <details class="form-card" open=move || query.read().get("imported").is_some() || import_failed>
                <summary>{a.import_title}</summary>
                <ImportForm />
            </details>
        </div>
        <form method="get" action="/admin/users" class="filter-form" role="search">
            <label>
                <span class="visually-hidden">{a.search_users}</span>
                <input type="search" name="q" value=search placeholder=a.search_users_placeholder />
            </label>
            <label>
                <span class="visually-hidden">{t.role_label}</span>
                <select name="role">
                    <option value="" selected=move || chosen_role().is_empty()>{a.any_role}</option>
                    {[Role::Employee, Role::Staff, Role::Organizer, Role::Admin].into_iter().map(|role| view! {
                        <option value=role.code() selected=move || chosen_role() == role.code()>{(t.role)(role)}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="checkbox">
                <input type="checkbox" name="without_password" value="1" checked=only_without_password />
                {a.only_without_password}
            </label>
            <button class="button small" type="submit">{a.filter}</button>
        </form>
        <div class="bulk-actions">
            <ActionForm action=invite attr:id="invite-chosen" attr:class="inline-form">
                <button class="button small" type="submit" data-testid="invite-chosen">{a.invite_selected}</button>
            </ActionForm>
            <ActionForm action=invite attr:class="inline-form">
                <input type="hidden" name="everyone" value="true" />
                <button
                    class="button small secondary"
                    type="submit"
                    data-testid="invite-everyone"
                    on:click=move |ev| {
                        if !window().confirm_with_message(a.confirm_invite_everyone).unwrap_or(false) {
                            ev.prevent_default();
                        }
                    }
                >{a.invite_everyone}</button>
            </ActionForm>
        </div>
        {invited}
        {move || failure(a.role_change, set_role.value().get())}
        {move || failure(a.account_change, set_active.value().get())}
        <Suspense fallback=move || view! { <p class="loading" aria-busy="true">{t.loading}</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(page) => view! { <UserTable page set_role set_active invite /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/users".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The error of the last role or activation change, if it failed.
fn failure<T>(
    label: &'static str,
    value: Option<Result<T, AppError>>,
) -> Option<impl IntoView + use<T>> {
    match value {
        Some(Err(err)) => Some(
            view! { <p class="error" role="alert">{format!("{label}: {}", use_texts().error(&err))}</p> },
        ),
        _ => None,
    }
}

#[component]
fn UserTable(
    page: UserPage,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
    invite: ServerAction<InviteUsers>,
) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>{a.no_users_title}</h2>
                <p>{a.no_users_text}</p>
            </section>
        }
        .into_any();
    }
    // The next page keeps the search and the filters.
    let query = use_query_map();
    let next = page.next.map(|cursor| {
        let query = query.read_untracked();
        let mut href = format!("/admin/users?after={cursor}");
        for key in ["q", "role", "without_password"] {
            if let Some(value) = query.get(key).filter(|v| !v.is_empty()) {
                href.push_str(&format!(
                    "&{key}={}",
                    leptos_router::location::Url::escape(&value)
                ));
            }
        }
        href
    });
    view! {
        <TableRegion label=a.users_title>
            <table class="data-table stack-on-phone" data-testid="users-table">
                <thead>
                    <tr><th scope="col">{a.invite}</th><th scope="col">{t.name}</th><th scope="col">{t.email}</th><th scope="col">{a.department}</th><th scope="col">{t.role_label}</th><th scope="col">{a.sign_in}</th><th scope="col">{a.status}</th></tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|user| view! { <UserRow user set_role set_active invite /> }).collect_view()}
                </tbody>
            </table>
        </TableRegion>
        {next.map(|href| view! { <a class="button next-page" href=href>{t.next_page}</a> })}
    }
    .into_any()
}

#[component]
fn UserRow(
    user: UserSummary,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
    invite: ServerAction<InviteUsers>,
) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let roles = [Role::Employee, Role::Staff, Role::Organizer, Role::Admin];
    let (status, toggle_label, toggle_to) = if user.anonymized {
        (a.anonymized, a.reactivate, "true")
    } else if user.active {
        (a.active, a.deactivate, "false")
    } else {
        (a.deactivated, a.reactivate, "true")
    };
    let UserSummary {
        id,
        email,
        display_name,
        department,
        role: current_role,
        active,
        has_password,
        anonymized,
        ..
    } = user;
    let invitable = active && !has_password;
    let choose_label = (a.choose_person)(&email);
    let confirm_text = (a.confirm_deactivate)(&email);
    let role_label = (a.role_of)(&email);
    let anonymize_label = (a.anonymize_who)(&email);
    let row_key = email.clone();
    view! {
        <tr data-user=row_key class:inactive=!active>
            <td class="pick">
                {invitable.then(|| view! {
                    <input type="checkbox" name="user_ids[]" value=id form="invite-chosen" aria-label=choose_label.clone() />
                })}
            </td>
            <td>{display_name}</td>
            <td data-label=t.email>{email}</td>
            <td data-label=a.department>{department.unwrap_or_default()}</td>
            <td data-label=t.role_label>
                <ActionForm action=set_role attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id />
                    <label>
                        <span class="visually-hidden">{role_label}</span>
                        <select name="role">
                            {roles.into_iter().map(|role| view! {
                                <option value=role.code() selected=role == current_role>{(t.role)(role)}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button class="button small" type="submit">{a.save}</button>
                </ActionForm>
            </td>
            <td data-testid="sign-in" data-label=a.sign_in>
                {if has_password {
                    view! { <span class="status">{a.can_sign_in}</span> }.into_any()
                } else {
                    view! {
                        <span class="status muted">{a.no_password_yet}</span>
                        {invitable.then(|| view! {
                            <ActionForm action=invite attr:class="inline-form">
                                <input type="hidden" name="user_ids[]" value=id />
                                <button class="button small secondary" type="submit" data-testid="invite-one">{a.invite}</button>
                            </ActionForm>
                        })}
                    }.into_any()
                }}
            </td>
            <td data-label=a.status>
                <span class="status" data-testid="status">{status}</span>
                {(!anonymized).then(|| view! {
                <ActionForm action=set_active attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id />
                    <input type="hidden" name="active" value=toggle_to />
                    <button
                        class="button small secondary"
                        type="submit"
                        on:click=move |ev| {
                            if toggle_to == "false" && !window().confirm_with_message(&confirm_text).unwrap_or(false) {
                                ev.prevent_default();
                            }
                        }
                    >{toggle_label}</button>
                </ActionForm>
                <a
                    class="button small secondary"
                    href=format!("/admin/users/anonymize?id={id}")
                    aria-label=anonymize_label
                    data-testid="anonymize"
                >{a.anonymize}</a>
                })}
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let outcome = move || {
        create.value().get().map(|result| match result {
            Ok(_) => view! { <p class="notice" role="status">{a.created}</p> }.into_any(),
            Err(err) => view! { <p class="error" role="alert">{t.error(&err)}</p> }.into_any(),
        })
    };
    view! {
        <section>
            <ActionForm action=create attr:class="stacked-form">
                <label>{t.email} <input type="email" name="email" required /></label>
                <label>{t.name} <input type="text" name="display_name" required /></label>
                <label>{a.department} <input type="text" name="department" /></label>
                <label>
                    {t.role_label}
                    <select name="role">
                        <option value="employee" selected=true>{(t.role)(Role::Employee)}</option>
                        <option value="staff">{(t.role)(Role::Staff)}</option>
                        <option value="organizer">{(t.role)(Role::Organizer)}</option>
                        <option value="admin">{(t.role)(Role::Admin)}</option>
                    </select>
                </label>
                <label>
                    {a.language}
                    <select name="lang">
                        <option value="ja" selected=true>"日本語"</option>
                        <option value="en">"English"</option>
                    </select>
                </label>
                <label>
                    {a.initial_password}
                    <input type="password" name="password" autocomplete="new-password" />
                </label>
                {outcome}
                <button class="button" type="submit" disabled=move || create.pending().get()>{a.create_button}</button>
            </ActionForm>
        </section>
    }
}

/// A plain multipart form: the same with and without JavaScript. The result
/// is read back from the audit log after the browser returns to this page.
#[component]
fn ImportForm() -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    use leptos::server_fn::ServerFn;

    let last = Resource::new(|| (), |()| last_import());
    // Without JavaScript a failed upload comes back as an error in the URL.
    let failed = crate::layout::form_error_in_url(ImportUsers::PATH).map(|err| view! { <p class="error" role="alert" data-testid="import-error">{t.error(&err)}</p> });
    view! {
        <section>
            <p class="hint">{a.import_hint}</p>
            <form method="post" action=ImportUsers::PATH enctype="multipart/form-data" class="stacked-form">
                <label>{a.csv_file} <input type="file" name="file" accept=".csv,text/csv" required /></label>
                {failed}
                <button class="button" type="submit">{a.import_button}</button>
            </form>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    last.await.ok().flatten().map(|entry| view! { <ImportSummary entry /> })
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn ImportSummary(entry: AuditEntry) -> impl IntoView {
    let t = use_texts();
    let a = &t.admin;
    let report: Option<ImportReport> = serde_json::from_str(&entry.detail).ok();
    report.map(|report| {
        view! {
            <div class="import-report" data-testid="import-report">
                <h3>{(a.last_import)(&entry.at.format("%Y-%m-%d %H:%M").to_string())}</h3>
                <p>{(a.import_summary)(report.created, report.updated, report.unchanged, report.rejected.len())}</p>
                {(!report.rejected.is_empty()).then(|| view! {
                    <ul class="rejected">
                        {report.rejected.into_iter().map(|line| view! {
                            <li>{(a.rejected_line)(line.line, &line.reason)}</li>
                        }).collect_view()}
                    </ul>
                })}
            </div>
        }
    })
}
