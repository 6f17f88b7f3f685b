//! The `tsudoi` binary: one file that carries the web app, its assets and both
//! migration sets.

mod assets;
mod caches;
mod calendar_files;
mod cli;
mod config;
mod finish_rendering;
mod http;
mod mail;
mod metrics;
mod reminder_links;
mod request_limits;
mod security;
mod sessions;
mod traces;

/// See Cargo.toml for why not the C library's allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::{BufRead, IsTerminal};
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;
use tokio::net::TcpListener;
use tsudoi::model::{Lang, Role};
use tsudoi::storage::Database;
use tsudoi::users::throttle::LoginLimits;
use tsudoi::users::{self, NewUser, password};
use tsudoi_app::server_context::{AuthPolicy, ServerContext};

use cli::{ArchiveAction, Cli, Command};
use config::{Overrides, Settings};

/// Everything that stops a command, as one line for the operator.
type Failure = String;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return fail(format!("cannot start the async runtime: {err}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(message),
    }
}

fn fail(message: Failure) -> ExitCode {
    eprintln!("tsudoi: error: {message}");
    ExitCode::FAILURE
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let (addr, database_arg) = match &cli.command {
        Command::Serve { addr, database } => (addr.map(|a| a.to_string()), database),
        Command::Migrate { database }
        | Command::CreateAdmin { database, .. }
        | Command::SetPassword { database, .. }
        | Command::ImportUsers { database, .. }
        | Command::SeedDemo { database }
        | Command::Backup { database, .. }
        | Command::Retention { database, .. }
        | Command::Archive {
            action: ArchiveAction::Restore { database, .. },
        }
        | Command::Restore { database, .. } => (None, database),
        Command::BackupCheck { file } => return check_backup(file).await,
        Command::Archive {
            action: ArchiveAction::Verify { folder },
        } => return verify_archive(folder),
    };
    let overrides = Overrides {
        addr,
        database_url: database_arg.database_url.clone(),
    };
    let file = config::locate(cli.config.as_deref()).map_err(|e| e.to_string())?;
    let settings = config::load(file.as_deref(), &overrides).map_err(|e| e.to_string())?;
    // Kept to the end of the command: dropping it sends the last spans.
    let _traces = init_logging(&settings)?;
    if let Command::Restore { file, .. } = &cli.command {
        // Before opening the database: the file is about to be replaced.
        return restore_backup(file, &settings).await;
    }

    let db = Database::open(&settings.database, &settings.pool)
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;

    let result = match cli.command {
        Command::Serve { .. } => serve(settings, db.clone()).await,
        Command::Migrate { .. } => {
            println!("Database {} is migrated.", settings.database.describe());
            Ok(())
        }
        Command::CreateAdmin {
            email, name, lang, ..
        } => create_admin(&db, email, name, Lang::parse(&lang).unwrap_or(Lang::Ja)).await,
        Command::SetPassword { email, .. } => set_password(&db, &email).await,
        Command::ImportUsers { file, .. } => import_users(&db, &file).await,
        Command::SeedDemo { .. } => seed_demo(&db, &settings).await,
        Command::Backup { file, .. } => back_up(&db, &file).await,
        Command::Retention { run: false, .. } => show_retention_plan(&db, &settings).await,
        Command::Retention { run: true, .. } => run_retention(&db, &settings).await,
        Command::Archive {
            action: ArchiveAction::Restore { folder, event, .. },
        } => restore_from_archive(&db, &folder, event).await,
        // These were answered above, before a database was opened.
        Command::BackupCheck { .. }
        | Command::Restore { .. }
        | Command::Archive {
            action: ArchiveAction::Verify { .. },
        } => Ok(()),
    };
    db.close().await;
    result
}

/// The log on stdout, in the configured format and filter, and the traces
/// for a collector when `otlp_endpoint` is set.
fn init_logging(settings: &Settings) -> Result<Option<traces::Exporting>, Failure> {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| settings.log.clone());
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_default();
    let log = match settings.log_format {
        // Colour codes only for a person at a terminal, never in a file or the journal.
        config::LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_ansi(std::io::stdout().is_terminal())
            .with_filter(filter)
            .boxed(),
        // The request's span (its id, route, user) goes into every line's object.
        config::LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_target(false)
            .with_current_span(true)
            .with_span_list(false)
            .with_filter(filter)
            .boxed(),
    };
    let (export, exporting) = match &settings.otlp_endpoint {
        Some(endpoint) => {
            let (layer, exporting) = traces::layer(endpoint)?;
            (Some(layer), Some(exporting))
        }
        None => (None, None),
    };
    let _ = tracing_subscriber::registry()
        .with(log)
        .with(export)
        .try_init();
    Ok(exporting)
}

async fn serve(settings: Settings, db: Database) -> Result<(), Failure> {
    use axum::serve::{Listener, ListenerExt};

    if !assets::has_hydration_bundle() {
        tracing::warn!(
            "this binary was built without the site bundle; pages render but are not interactive (build with `cargo xtask build`)"
        );
    }
    // A demo database says how to get in, every time it starts.
    match tsudoi::demo::login_hint(&db).await {
        Ok(Some(login)) => println!("{}", describe_demo_login(&login)),
        Ok(None) => {}
        Err(err) => tracing::warn!(error = %err, "cannot read the demo accounts"),
    }
    let login_limits = LoginLimits::default();
    forget_old_login_failures(db.clone(), login_limits.clone());
    let sessions = sessions::Store::open(&settings, &db).await?;
    tracing::info!(store = sessions.describe(), "sessions");
    let (stop_background, background_stopped) = tokio::sync::watch::channel(false);
    let mail = mail::start(&settings, &db, background_stopped)?;
    // Once a day: archive and remove what is past retention. A run cut by
    // the shutdown rolls back its current step; the next start goes on.
    let mut retention_stop = stop_background.subscribe();
    tokio::spawn(tsudoi::retention::job::run_scheduler(
        db.clone(),
        settings.retention(),
        async move {
            let _ = retention_stop.wait_for(|stop| *stop).await;
        },
    ));
    let caches = caches::open(&settings, &db).await?;
    let redis = caches.shared.clone();
    let state = http::AppState {
        leptos_options: http::leptos_options(),
        public_url: std::sync::Arc::new(settings.public_url.clone()),
        context: std::sync::Arc::new(ServerContext {
            registrar: tsudoi::registrations::Registrar::new(db.clone()),
            public_url: settings
                .public_url
                .to_string()
                .trim_end_matches('/')
                .to_string(),
            mail_folder: mail.folder.clone(),
            stats_cache: caches.stats,
            survey_results: caches.survey_results,
            list_cache: caches.list,
            db,
            time_zone: settings.time_zone,
            retention: settings.retention(),
            auth: AuthPolicy {
                max_session_age: chrono::Duration::from_std(settings.sessions.max_age)
                    .unwrap_or(chrono::Duration::hours(12)),
                login_limits,
            },
        }),
    };
    if let Some(addr) = settings.metrics_addr {
        let handle = metrics::install()?;
        metrics::serve(addr, handle, state.context.db.clone(), redis).await?;
    }
    let listener = TcpListener::bind(settings.addr)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", settings.addr))?
        // Without TCP_NODELAY small responses stall on delayed ACKs (measured 2.1k vs 18.6k req/s).
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    log_effective_configuration(&settings);
    tracing::info!("Tsudoi is listening on http://{local}");
    let app = http::router(state, sessions, &settings)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| format!("server error: {err}"))?;
    let _ = stop_background.send(true);
    mail.stopped().await;
    tracing::info!("Tsudoi stopped");
    Ok(())
}

/// Failure counters of past windows are dead weight; made-up e-mail
/// addresses would otherwise grow the table without bound.
fn forget_old_login_failures(db: Database, limits: LoginLimits) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(15 * 60));
        loop {
            every.tick().await;
            if let Err(err) = users::throttle::prune(&db, &limits, chrono::Utc::now()).await {
                tracing::warn!(error = %err, "could not prune login failure counters");
            }
        }
    });
}

/// One line an operator can check against what they meant to configure.
fn log_effective_configuration(settings: &Settings) {
    let configured = |value: &Option<secrecy::SecretString>| {
        if value.is_some() {
            "configured"
        } else {
            "not configured"
        }
    };
    tracing::info!(
        config = %settings.source.as_ref().map_or("built-in defaults".to_string(), |p| p.display().to_string()),
        database = %settings.database.describe(),
        pool_size = settings.pool.max_connections,
        redis = configured(&settings.redis_url),
        smtp = configured(&settings.smtp_url),
        public_url = %settings.public_url,
        time_zone = %settings.time_zone,
        reminder_time = %settings.reminder_time.format("%H:%M"),
        retention_months = settings.retention_months,
        archive_folder = %settings.archive_folder.display(),
        mail_keep_days = settings.mail_keep_days,
        audit_keep_months = settings.audit_keep_months,
        anonymize_after_days = settings.anonymize_after_days,
        "configuration"
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn create_admin(
    db: &Database,
    email: String,
    name: String,
    lang: Lang,
) -> Result<(), Failure> {
    // An existing person is never changed in passing: their role and
    // department stay theirs unless someone changes them on purpose.
    if let Some((_, role)) = users::find_by_email(db, &email)
        .await
        .map_err(|e| e.to_string())?
    {
        return Err(format!(
            "{email} already has an account (role: {}); nothing was changed. \
             To give them a password: tsudoi set-password --email {email}. \
             To make them an administrator: an administrator changes the role at /admin/users.",
            role.code()
        ));
    }
    let secret = read_password()?;
    let hash = password::hash(secret).await.map_err(|e| e.to_string())?;
    let user = NewUser {
        email,
        display_name: name,
        department: None,
        role: Role::Admin,
        lang,
    };
    let id = users::upsert(db, &user, Some(&hash))
        .await
        .map_err(|e| e.to_string())?;
    let email = users::normalize_email(&user.email).map_err(|e| e.to_string())?;
    println!("Administrator {email} is ready (user #{id}).");
    Ok(())
}

async fn set_password(db: &Database, email: &str) -> Result<(), Failure> {
    // Say so before asking for a password that could not be used.
    if users::find_by_email(db, email)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!(
            "nobody has the e-mail address {email}; nothing was changed"
        ));
    }
    let secret = read_password()?;
    let id = users::set_password_from_command_line(db, email, secret)
        .await
        .map_err(|e| e.to_string())?;
    println!("The password of {email} is set (user #{id}); their other sessions are ended.");
    Ok(())
}

fn read_password() -> Result<String, Failure> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ").map_err(|e| e.to_string())?;
        password::check_strength(&first).map_err(|e| e.to_string())?;
        let second = rpassword::prompt_password("Repeat password: ").map_err(|e| e.to_string())?;
        if first != second {
            return Err("the passwords do not match".into());
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}

async fn import_users(db: &Database, path: &std::path::Path) -> Result<(), Failure> {
    let file = std::fs::File::open(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let report = users::import::import_csv_as(db, None, std::io::BufReader::new(file))
        .await
        .map_err(|e| e.to_string())?;
    for rejected in &report.rejected {
        println!("line {}: not imported: {}", rejected.line, rejected.reason);
    }
    println!(
        "Imported {}: {} created, {} updated, {} unchanged, {} lines not imported.",
        path.display(),
        report.created,
        report.updated,
        report.unchanged,
        report.rejected.len()
    );
    Ok(())
}

fn describe_backup(file: &std::path::Path, contents: &tsudoi::backup::BackupContents) -> String {
    format!(
        "{}: {} events, {} people, {} registrations, {:.1} MB; integrity check ok.",
        file.display(),
        contents.events,
        contents.people,
        contents.registrations,
        contents.bytes as f64 / 1_000_000.0
    )
}

async fn back_up(db: &Database, file: &std::path::Path) -> Result<(), Failure> {
    let contents = tsudoi::backup::back_up(db, file)
        .await
        .map_err(|e| e.to_string())?;
    println!("Backed up to {}", describe_backup(file, &contents));
    Ok(())
}

async fn check_backup(file: &std::path::Path) -> Result<(), Failure> {
    let contents = tsudoi::backup::check(file)
        .await
        .map_err(|e| e.to_string())?;
    println!("{}", describe_backup(file, &contents));
    Ok(())
}

async fn restore_backup(file: &std::path::Path, settings: &Settings) -> Result<(), Failure> {
    let tsudoi::storage::DatabaseUrl::Sqlite(database) = &settings.database else {
        return Err(tsudoi::backup::BackupError::NotEmbedded.to_string());
    };
    let contents = tsudoi::backup::restore(file, database)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Restored {} from {}; the database it replaced is kept as {}.before-restore. Start Tsudoi now.",
        database.display(),
        describe_backup(file, &contents),
        database.display()
    );
    Ok(())
}

async fn show_retention_plan(db: &Database, settings: &Settings) -> Result<(), Failure> {
    let months = settings.retention_months;
    let plan = tsudoi::retention::plan(db, chrono::Utc::now(), months)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Retention: {months} months (retention_months); events that ended before {} are past it.",
        plan.cutoff.format("%Y-%m-%d %H:%M UTC")
    );
    const SHOWN: usize = 20;
    for event in plan.events.iter().take(SHOWN) {
        let title = event
            .title_ja
            .as_deref()
            .or(event.title_en.as_deref())
            .unwrap_or_default();
        println!(
            "  event {} ({}), ended {}: {} registrations ({} checked in), {} survey respondents, {} survey answers",
            event.event_id,
            title.replace(['\r', '\n'], " "),
            event.ended_at.format("%Y-%m-%d"),
            event.rows.registrations,
            event.rows.checked_in,
            event.rows.survey_respondents,
            event.rows.survey_responses
        );
    }
    if plan.events.len() > SHOWN {
        println!("  … and {} more events", plan.events.len() - SHOWN);
    }
    let totals = plan.totals;
    println!(
        "In all: {} events, {} registrations, {} survey respondents, {} survey answers.",
        plan.events.len(),
        totals.registrations,
        totals.survey_respondents,
        totals.survey_responses
    );
    println!(
        "Also sent and failed mail older than {} days (mail_keep_days) and audit entries older than {} months (audit_keep_months). Archives go to {}.",
        settings.mail_keep_days,
        settings.audit_keep_months,
        settings.archive_folder.display()
    );
    match tsudoi::retention::job::last_run(db)
        .await
        .map_err(|e| e.to_string())?
    {
        None => println!("Last run: none yet."),
        Some(run) => println!("Last run: {}", describe_run(&run)),
    }
    println!("Dry run: nothing was changed.");
    Ok(())
}

fn describe_run(run: &tsudoi::retention::job::LastRun) -> String {
    match run.finished_at {
        None => format!(
            "for {}, started {}, still running",
            run.run_for,
            run.started_at.format("%Y-%m-%d %H:%M UTC")
        ),
        Some(finished) => format!(
            "for {}, finished {}: {} events ({} registrations, {} survey answers), {} mails, {} audit entries{}",
            run.run_for,
            finished.format("%Y-%m-%d %H:%M UTC"),
            run.events,
            run.registrations,
            run.survey_answers,
            run.mail,
            run.audit_entries,
            run.archive
                .as_deref()
                .map(|a| format!(", archived in {a}"))
                .unwrap_or_default()
        ),
    }
}

async fn run_retention(db: &Database, settings: &Settings) -> Result<(), Failure> {
    let report = tsudoi::retention::job::run_now(db, &settings.retention(), chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    match &report.archive {
        None => println!("Nothing is past retention: nothing archived, nothing removed."),
        Some(folder) => println!(
            "Archived in {} and removed: {} events ({} registrations, {} survey answers unlinked from their authors), {} mails, {} audit entries.",
            folder.display(),
            report.events,
            report.registrations,
            report.survey_answers,
            report.mail,
            report.audit_entries
        ),
    }
    if !report.left_for_next_run.is_empty() {
        println!(
            "Changed while archiving, left for the next run: events {:?}.",
            report.left_for_next_run
        );
    }
    Ok(())
}

fn verify_archive(folder: &Path) -> Result<(), Failure> {
    let manifest = tsudoi::retention::archive_files::verify(folder).map_err(|e| e.to_string())?;
    println!(
        "{}: {} archive {} from {} is intact.",
        folder.display(),
        manifest.format,
        manifest.run,
        manifest.created_at.format("%Y-%m-%d %H:%M UTC")
    );
    for file in &manifest.files {
        println!(
            "  {}: {} rows, sha256 {}",
            file.file, file.rows, file.sha256
        );
    }
    Ok(())
}

async fn restore_from_archive(db: &Database, folder: &Path, event: i64) -> Result<(), Failure> {
    let restored = tsudoi::retention::restore::restore_event(db, folder, event)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Event {event} restored from {}: {} registrations, {} survey respondents, {} survey answers linked to their authors again.",
        folder.display(),
        restored.registrations,
        restored.survey_respondents,
        restored.survey_answers
    );
    Ok(())
}

async fn seed_demo(db: &Database, settings: &Settings) -> Result<(), Failure> {
    let summary = tsudoi::demo::seed(db, settings.time_zone, chrono::Utc::now(), 2026)
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "Demo data ready: {} departments, {} employees, {} events, {} registrations.",
        summary.departments, summary.users, summary.events, summary.registrations
    );
    println!("{}", describe_demo_login(&summary.login));
    Ok(())
}

/// The demo accounts for the terminal, one per line, and their password.
fn describe_demo_login(login: &tsudoi::demo::DemoLogin) -> String {
    let mut text = String::from("Demo accounts (the login page lists them too):\n");
    for (role, email) in &login.accounts {
        text.push_str(&format!("  {:<10} {email}\n", role.code()));
    }
    text.push_str(&format!("  password   {}", login.password));
    text
}
