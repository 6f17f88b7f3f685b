//! People: find, create, change roles, deactivate, and import from CSV.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, MultipartData, MultipartFormData};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use tsudoi::audit::AuditEntry;
use tsudoi::model::{ImportReport, Role, UserPage, UserSummary};

use crate::AppError;
use crate::layout::LoginNeeded;

/// The largest CSV accepted: ~50,000 employees at 100 bytes a line.
#[cfg(feature = "ssr")]
const MAX_IMPORT_BYTES: usize = 5 * 1024 * 1024;

#[cfg(feature = "ssr")]
async fn require_admin() -> Result<crate::auth::Viewer, AppError> {
    Ok(crate::auth::caller::require(tsudoi::access::Permission::AdministerUsers).await?)
}

#[cfg(feature = "ssr")]
fn parse_role(code: &str) -> Result<Role, tsudoi::Error> {
    Role::parse(code).ok_or_else(|| tsudoi::Error::Invalid(format!("Unknown role “{code}”.")))
}

#[server(endpoint = "admin/users/list", input = GetUrl)]
pub async fn list_users(q: Option<String>, after: Option<String>) -> Result<UserPage, AppError> {
    require_admin().await?;
    let ctx = crate::server_context::server_context()?;
    let search = q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let after = after.as_deref().filter(|a| !a.is_empty());
    Ok(tsudoi::users::list(&ctx.db, search, after, tsudoi::model::page_size(Some(50))).await?)
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
    let unreadable =
        || tsudoi::Error::Invalid("The upload could not be read. Please try again.".into());
    let mut file = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(|_| unreadable())? {
        if field.name() != Some("file") {
            continue;
        }
        while let Some(chunk) = field.chunk().await.map_err(|_| unreadable())? {
            if file.len() + chunk.len() > MAX_IMPORT_BYTES {
                return Err(tsudoi::Error::Invalid(
                    "The file is larger than 5 MB; split it into several files.".into(),
                )
                .into());
            }
            file.extend_from_slice(&chunk);
        }
    }
    if file.is_empty() {
        return Err(tsudoi::Error::Invalid("Choose a CSV file to import.".into()).into());
    }
    Ok(tsudoi::users::import::import_csv_as(&ctx.db, Some(admin.id), file.as_slice()).await?)
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
    let users = Resource::new(
        move || {
            (
                query.read().get("q"),
                query.read().get("after"),
                create.version().get(),
                set_role.version().get(),
                set_active.version().get(),
            )
        },
        |(q, after, ..)| list_users(q, after),
    );
    let search = move || query.read().get("q").unwrap_or_default();
    view! {
        <Title text="Users" />
        <div class="page-head">
            <h1>"Users" <span class="subtitle" lang="ja">"ユーザー管理"</span></h1>
            <form method="get" action="/admin/users" class="search-form" role="search">
                <label>
                    <span class="visually-hidden">"Search by name or e-mail"</span>
                    <input type="search" name="q" value=search placeholder="Name or e-mail" />
                </label>
                <button class="button small" type="submit">"Search"</button>
            </form>
        </div>
        {move || failure("Role", set_role.value().get())}
        {move || failure("Account", set_active.value().get())}
        <Suspense fallback=|| view! { <p class="loading" aria-busy="true">"Loading users…"</p> }>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(page) => view! { <UserTable page set_role set_active /> }.into_any(),
                    Err(error) => view! { <LoginNeeded error here="/admin/users".to_string() /> }.into_any(),
                }
            })}
        </Suspense>
        <div class="two-columns">
            <CreateUserForm create />
            <ImportForm />
        </div>
    }
}

/// The error of the last role or activation change, if it failed.
fn failure<T>(
    label: &'static str,
    value: Option<Result<T, AppError>>,
) -> Option<impl IntoView + use<T>> {
    match value {
        Some(Err(err)) => {
            Some(view! { <p class="error" role="alert">{format!("{label}: {err}")}</p> })
        }
        _ => None,
    }
}

#[component]
fn UserTable(
    page: UserPage,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    if page.items.is_empty() {
        return view! {
            <section class="empty-state">
                <h2>"No users found"</h2>
                <p>"Try another search, create a user below, or import a CSV file."</p>
            </section>
        }
        .into_any();
    }
    let next = page
        .next
        .map(|cursor| format!("/admin/users?after={cursor}"));
    view! {
        <div class="table-wrap">
            <table class="data-table" data-testid="users-table">
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"E-mail"</th><th scope="col">"Department"</th><th scope="col">"Role"</th><th scope="col">"Status"</th></tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|user| view! { <UserRow user set_role set_active /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {next.map(|href| view! { <a class="button next-page" href=href>"Next page →"</a> })}
    }
    .into_any()
}

#[component]
fn UserRow(
    user: UserSummary,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
) -> impl IntoView {
    let roles = [Role::Employee, Role::Staff, Role::Organizer, Role::Admin];
    let (status, toggle_label, toggle_to) = if user.active {
        ("Active", "Deactivate", "false")
    } else {
        ("Deactivated", "Reactivate", "true")
    };
    let UserSummary {
        id,
        email,
        display_name,
        department,
        role: current_role,
        active,
        ..
    } = user;
    let confirm_text = format!("Deactivate {email}? They will be logged out and cannot log in.");
    let role_label = format!("Role of {email}");
    let row_key = email.clone();
    view! {
        <tr data-user=row_key class:inactive=!active>
            <td>{display_name}</td>
            <td>{email}</td>
            <td>{department.unwrap_or_default()}</td>
            <td>
                <ActionForm action=set_role attr:class="inline-form">
                    <input type="hidden" name="user_id" value=id />
                    <label>
                        <span class="visually-hidden">{role_label}</span>
                        <select name="role">
                            {roles.into_iter().map(|role| view! {
                                <option value=role.code() selected=role == current_role>{role.code()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <button class="button small" type="submit">"Save"</button>
                </ActionForm>
            </td>
            <td>
                <span class="status">{status}</span>
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
            </td>
        </tr>
    }
}

#[component]
fn CreateUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let outcome = move || {
        create.value().get().map(|result| match result {
            Ok(_) => view! { <p class="notice" role="status">"The user has been created."</p> }
                .into_any(),
            Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
        })
    };
    view! {
        <section class="form-card">
            <h2>"Create a user"</h2>
            <ActionForm action=create attr:class="stacked-form">
                <label>"E-mail address" <input type="email" name="email" required /></label>
                <label>"Name" <input type="text" name="display_name" required /></label>
                <label>"Department" <input type="text" name="department" /></label>
                <label>
                    "Role"
                    <select name="role">
                        <option value="employee" selected=true>"employee"</option>
                        <option value="staff">"staff"</option>
                        <option value="organizer">"organizer"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </label>
                <label>
                    "Language"
                    <select name="lang">
                        <option value="ja" selected=true>"日本語"</option>
                        <option value="en">"English"</option>
                    </select>
                </label>
                <label>
                    "Initial password (optional, at least 10 characters)"
                    <input type="password" name="password" autocomplete="new-password" />
                </label>
                {outcome}
                <button class="button" type="submit" disabled=move || create.pending().get()>"Create user"</button>
            </ActionForm>
        </section>
    }
}

/// A plain multipart form: the same with and without JavaScript. The result
/// is read back from the audit log after the browser returns to this page.
#[component]
fn ImportForm() -> impl IntoView {
    use leptos::server_fn::ServerFn;

    let last = Resource::new(|| (), |()| last_import());
    // Without JavaScript a failed upload comes back as an error in the URL.
    let failed = crate::layout::form_error_in_url(ImportUsers::PATH).map(|err| view! { <p class="error" role="alert" data-testid="import-error">{err.to_string()}</p> });
    view! {
        <section class="form-card">
            <h2>"Import employees"</h2>
            <p class="hint">"CSV in UTF-8 with the columns email, name, department, role. Existing people are updated; importing the same file again changes nothing."</p>
            <form method="post" action=ImportUsers::PATH enctype="multipart/form-data" class="stacked-form">
                <label>"CSV file" <input type="file" name="file" accept=".csv,text/csv" required /></label>
                {failed}
                <button class="button" type="submit">"Import"</button>
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
    let report: Option<ImportReport> = serde_json::from_str(&entry.detail).ok();
    report.map(|report| {
        view! {
            <div class="import-report" data-testid="import-report">
                <h3>{format!("Last import, {} UTC", entry.at.format("%Y-%m-%d %H:%M"))}</h3>
                <p>{format!(
                    "{} created, {} updated, {} unchanged, {} lines not imported.",
                    report.created, report.updated, report.unchanged, report.rejected.len()
                )}</p>
                {(!report.rejected.is_empty()).then(|| view! {
                    <ul class="rejected">
                        {report.rejected.into_iter().map(|line| view! {
                            <li>{format!("Line {}: {}", line.line, line.reason)}</li>
                        }).collect_view()}
                    </ul>
                })}
            </div>
        }
    })
}
