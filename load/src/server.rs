//! The release binary as an operator runs it: `tsudoi migrate`, then
//! `tsudoi serve` configured through `TSUDOI_*` variables, stopped with
//! SIGTERM. While it runs, its CPU time and peak memory are read from /proc.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

use crate::backend::FreshDatabase;

/// How long a fresh server may take to answer /readyz.
const STARTUP_LIMIT: Duration = Duration::from_secs(60);
/// How long SIGTERM may take (finishing requests, stopping the mail worker).
const SHUTDOWN_LIMIT: Duration = Duration::from_secs(20);

/// The `tsudoi` binary and the folder a run keeps its files in.
#[derive(Clone)]
pub struct Binary {
    pub path: PathBuf,
    pub workdir: PathBuf,
}

impl Binary {
    /// A command with nothing of the caller's environment that Tsudoi reads
    /// (`TSUDOI_*`, `RUST_LOG`) and a configuration file of our own, so the
    /// repository's `Leptos.toml` or a developer's variables cannot change
    /// what is measured.
    fn command(&self, database: &FreshDatabase) -> Result<Command> {
        let config = self.workdir.join("Leptos.toml");
        std::fs::write(
            &config,
            "# Empty: cargo xtask slo configures the server through TSUDOI_* variables.\n",
        )?;
        let mut command = Command::new(&self.path);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("TSUDOI_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .current_dir(&self.workdir)
            .env("TSUDOI_CONFIG", &config)
            .env("TSUDOI_DATABASE_URL", &database.url);
        if let Some(redis) = &database.redis_url {
            command.env("TSUDOI_REDIS_URL", redis);
        }
        Ok(command)
    }

    /// The server's own migrations, as an operator runs them before a start.
    pub async fn migrate(&self, database: &FreshDatabase) -> Result<()> {
        let output = self
            .command(database)?
            .args(["migrate", "--database-url", &database.url])
            .output()
            .await
            .with_context(|| format!("run {}", self.path.display()))?;
        if !output.status.success() {
            bail!(
                "tsudoi migrate failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Starts `tsudoi serve` on free ports and waits until it is ready.
    pub async fn serve(&self, database: &FreshDatabase) -> Result<Server> {
        self.serve_with(database, &[]).await
    }

    /// As [`serve`](Self::serve), with more settings in the environment.
    pub async fn serve_with(
        &self,
        database: &FreshDatabase,
        settings: &[(&str, &str)],
    ) -> Result<Server> {
        let port = free_port()?;
        let metrics_port = free_port()?;
        let base_url = format!("http://127.0.0.1:{port}");
        let log_path = self.workdir.join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let mut command = self.command(database)?;
        command
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("TSUDOI_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
            .env("TSUDOI_PUBLIC_URL", &base_url)
            .env("TSUDOI_MAIL_FOLDER", self.workdir.join("mail"))
            // The default, said out loud: a log line per request is part of
            // what production pays for each request.
            .env("TSUDOI_LOG", "info")
            .env("TSUDOI_ARCHIVE_FOLDER", self.workdir.join("archive"))
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = command
            .spawn()
            .with_context(|| format!("start {}", self.path.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            base_url,
            metrics_url: format!("http://127.0.0.1:{metrics_port}/metrics"),
            log_path,
        };
        server.wait_until_ready().await?;
        Ok(server)
    }
}

fn free_port() -> Result<u16> {
    // Bound and let go: another process could take it in between, which on
    // a benchmark machine does not happen in practice.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub struct Server {
    child: Child,
    pid: u32,
    pub base_url: String,
    pub metrics_url: String,
    log_path: PathBuf,
}

/// What the server process used, read from /proc, and beside it the CPU
/// time of the others sharing the cores.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User + system time of all its threads.
    pub cpu_seconds: f64,
    /// The same for every `postgres` and `redis-server` process on the
    /// machine (SQLite runs inside the server and counts there).
    pub database_cpu_seconds: f64,
    /// The same for this process: the load generator.
    pub generator_cpu_seconds: f64,
    /// VmHWM: the most resident memory since the last [`Probe::reset_peak_memory`].
    pub peak_rss_mib: f64,
    /// VmRSS: resident memory now.
    pub rss_mib: f64,
}

impl Server {
    async fn wait_until_ready(&mut self) -> Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let ready = format!("{}/readyz", self.base_url);
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the server stopped while starting ({status}):\n{}",
                    log_tail(&self.log_path)
                );
            }
            if let Ok(response) = client.get(&ready).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if started.elapsed() > STARTUP_LIMIT {
                bail!(
                    "the server was not ready within {STARTUP_LIMIT:?}:\n{}",
                    log_tail(&self.log_path)
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn probe(&self) -> Probe {
        Probe { pid: self.pid }
    }

    /// SIGTERM, as systemd stops it; the log stays in the run's folder.
    pub async fn stop(mut self) -> Result<()> {
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        let sent = unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGTERM) };
        if sent != 0 {
            bail!(
                "cannot signal the server: {}",
                std::io::Error::last_os_error()
            );
        }
        match tokio::time::timeout(SHUTDOWN_LIMIT, self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    bail!(
                        "the server ended with {status}:\n{}",
                        log_tail(&self.log_path)
                    );
                }
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                bail!("the server did not stop within {SHUTDOWN_LIMIT:?} of SIGTERM")
            }
        }
    }
}

/// Reads the server process's usage; cheap to copy into the load generator.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pid: u32,
}

impl Probe {
    pub fn usage(&self) -> Result<Usage> {
        Ok(Usage {
            cpu_seconds: cpu_seconds(self.pid)?,
            database_cpu_seconds: database_cpu_seconds(),
            generator_cpu_seconds: cpu_seconds(std::process::id())?,
            peak_rss_mib: status_kib(self.pid, "VmHWM:")? / 1024.0,
            rss_mib: status_kib(self.pid, "VmRSS:")? / 1024.0,
        })
    }

    /// Starts VmHWM over from the current resident size (`clear_refs` 5,
    /// Linux 4.0+), so a scenario's peak is its own and not the logins' or
    /// an earlier scenario's.
    pub fn reset_peak_memory(&self) -> Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5")
            .context("reset the server's peak memory (/proc/PID/clear_refs)")
    }
}

/// utime + stime from /proc/PID/stat, in seconds.
fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    stat_cpu_seconds(&stat).with_context(|| format!("/proc/{pid}/stat: no CPU times"))
}

/// The CPU time of every database process: PostgreSQL forks one per
/// connection, so they are found by name. A process that ends between two
/// readings takes its time with it; the pool's connections live for the run.
fn database_cpu_seconds() -> f64 {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    processes
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter(|stat| {
            let name = stat
                .split_once('(')
                .and_then(|(_, rest)| rest.rsplit_once(')'));
            matches!(name, Some(("postgres" | "redis-server", _)))
        })
        .filter_map(|stat| stat_cpu_seconds(&stat))
        .sum()
}

fn stat_cpu_seconds(stat: &str) -> Option<f64> {
    // The command name (field 2) may hold spaces and parentheses: count
    // fields from the last ')'. What follows starts at field 3 (state);
    // utime and stime are fields 14 and 15.
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |field: usize| fields.get(field - 3)?.parse::<f64>().ok();
    // SAFETY: sysconf only reads a system constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((ticks(14)? + ticks(15)?) / per_second)
}

/// A `Vm…:` line of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .with_context(|| format!("/proc/{pid}/status has no {field}"))
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
