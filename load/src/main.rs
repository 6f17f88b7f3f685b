//! `tsudoi-load`: the service levels of DESIGN.md (C-3) measured over HTTP
//! against the release binary, the way people feel them. Run through
//! `cargo xtask slo`, which builds the binary first:
//!
//!   tsudoi-load --binary target/release/tsudoi [--seconds 10] [--backend sqlite|postgres]
//!
//! For each backend (SQLite; PostgreSQL + Redis when `TSUDOI_TEST_DATABASE_URL`
//! and `TSUDOI_TEST_REDIS_ADDR` are set): a fresh database, the data and
//! accounts the scenarios need, `tsudoi serve` with `metrics_addr`, the
//! scenarios, checks of what they wrote, and one table on stdout. Progress
//! goes to stderr.
//!
//! Exit status 1 when a check fails (seats, counts, a request that failed,
//! `/metrics` disagreeing with the load generator); a missed service level
//! is a finding to read in the table, not an error.
//!
//! With `--growth` (`cargo xtask slo --growth`) it measures instead how each
//! page and endpoint grows with the company (see `growth.rs`); with
//! `--history`, whether ten years of past events slow down today's pages
//! (see `history.rs`).

mod backend;
mod growth;
mod history;
mod machine;
mod metrics;
mod report;
mod scenarios;
mod seed;
mod server;
mod suite;

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use backend::Backend;
use server::Binary;

struct Options {
    binary: PathBuf,
    seconds: u64,
    backend: Option<String>,
    growth: bool,
    history: bool,
}

impl Options {
    fn parse() -> Result<Options> {
        let mut binary = None;
        let mut seconds = 10;
        let mut backend = None;
        let mut growth = false;
        let mut history = false;
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--binary" => binary = Some(PathBuf::from(value()?)),
                "--seconds" => seconds = value()?.parse().context("--seconds: a number")?,
                "--backend" => backend = Some(value()?.to_lowercase()),
                "--growth" => growth = true,
                "--history" => history = true,
                other => bail!(
                    "unknown argument {other}; usage: tsudoi-load --binary PATH [--seconds N] [--backend sqlite|postgres] [--growth | --history]"
                ),
            }
        }
        Ok(Options {
            binary: binary.context("--binary PATH (the release `tsudoi`) is required")?,
            seconds,
            backend,
            growth,
            history,
        })
    }
}

fn main() -> ExitCode {
    // Two workers, as many as the machine has cores: Goose's people are tasks.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("tsudoi-load: error: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tsudoi-load: a check failed (rows marked FAILED or MISMATCH)");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("tsudoi-load: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whether every check held.
async fn run() -> Result<bool> {
    let options = Options::parse()?;
    let started = Instant::now();
    let binary = options
        .binary
        .canonicalize()
        .with_context(|| format!("no binary at {}", options.binary.display()))?;
    let mut backends = Backend::from_environment()?;
    if let Some(only) = &options.backend {
        backends.retain(|b| b.name().to_lowercase().starts_with(only.as_str()));
        if backends.is_empty() {
            bail!("--backend {only}: not among the backends this environment offers");
        }
    }
    let workdir = std::env::temp_dir().join(format!("tsudoi-slo-{}", std::process::id()));
    let machine = machine::Machine::describe();
    // The studies: one run per backend, then one table.
    if options.history || options.growth {
        let name = if options.history { "history" } else { "growth" };
        let mut measurements = Vec::new();
        for backend in &backends {
            let folder = workdir.join(backend.name().split_whitespace().next().unwrap_or("db"));
            std::fs::create_dir_all(&folder)?;
            let binary = Binary {
                path: binary.clone(),
                workdir: folder.clone(),
            };
            let measured = if options.history {
                history::run(&binary, backend).await
            } else {
                growth::run(&binary, backend).await
            };
            measurements.extend(measured.with_context(|| {
                format!(
                    "{} {name} run (server log in {})",
                    backend.name(),
                    folder.display()
                )
            })?);
        }
        std::fs::remove_dir_all(&workdir).ok();
        let table = if options.history {
            history::table(&measurements)
        } else {
            growth::table(&measurements)
        };
        println!("{}\n{table}", machine.summary());
        println!("Whole run: {:.0} s.", started.elapsed().as_secs_f64());
        return Ok(true);
    }
    let header = report::header(
        &machine.summary(),
        &binary.display().to_string(),
        options.seconds,
    );
    eprint!("{header}");

    // Goose prints its own progress lines on stdout, which cannot be turned
    // off: they join ours on stderr, and stdout carries only the table.
    let table_out = std::io::stdout().as_fd().try_clone_to_owned()?;
    // SAFETY: dup2 on the process's own standard descriptors.
    if unsafe { libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) } < 0 {
        bail!(
            "cannot redirect stdout: {}",
            std::io::Error::last_os_error()
        );
    }
    let mut rows = Vec::new();
    for backend in &backends {
        let folder = workdir.join(backend.name().split_whitespace().next().unwrap_or("db"));
        std::fs::create_dir_all(&folder)?;
        let settings = suite::Settings {
            binary: Binary {
                path: binary.clone(),
                workdir: folder,
            },
            measured: Duration::from_secs(options.seconds),
        };
        rows.extend(suite::run(&settings, backend).await.with_context(|| {
            format!(
                "{} run (server log and mail in {})",
                backend.name(),
                settings.binary.workdir.display()
            )
        })?);
    }
    std::fs::remove_dir_all(&workdir).ok();

    let mut table_out = std::fs::File::from(table_out);
    writeln!(table_out, "{header}")?;
    writeln!(table_out, "{}", report::table(&rows))?;
    writeln!(
        table_out,
        "Whole run: {:.0} s.",
        started.elapsed().as_secs_f64()
    )?;
    Ok(rows.iter().all(report::Row::is_sound))
}
