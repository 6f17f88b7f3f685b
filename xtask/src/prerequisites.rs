//! Installs what the build and the tests need, only when it is missing, at
//! pinned versions, saying what it does. Nothing here downloads a binary from
//! outside the package registries.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Result, bail};

use crate::run;

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

pub fn wasm_target() -> Result<()> {
    if output("rustup", &["target", "list", "--installed"])
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add", "wasm32-unknown-unknown"]);
    run(
        add,
        "installing the Rust wasm32-unknown-unknown target (missing)",
    )
}

fn apt_install(package: &str, why: &str) -> Result<()> {
    if !succeeds("id", &["-u"]) || output("id", &["-u"]).trim() != "0" {
        bail!(
            "{package} is missing and installing it needs root: run `apt-get install -y {package}` ({why})"
        );
    }
    let mut update = Command::new("apt-get");
    update.args(["update", "-qq"]);
    run(update, "refreshing Debian's package lists")?;
    let mut install = Command::new("apt-get");
    install
        .args(["install", "-y", "-qq", "--no-install-recommends", package])
        .env("DEBIAN_FRONTEND", "noninteractive");
    run(
        install,
        &format!("installing {package} from Debian ({why})"),
    )
}

pub fn chromium() -> Result<()> {
    if Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    apt_install("chromium", "the browser for the end-to-end tests")
}

/// A real SMTP server for the mail tests: aiosmtpd for Debian's Python
/// (`tsudoi::mail::test_support` runs `/usr/bin/python3 -m aiosmtpd`).
pub fn smtp_test_server() -> Result<()> {
    if succeeds("/usr/bin/python3", &["-c", "import aiosmtpd"]) {
        return Ok(());
    }
    apt_install("python3-aiosmtpd", "the SMTP server the mail tests send to")
}

/// Prometheus's `promtool`, which checks the `/metrics` text format as
/// Prometheus itself reads it (Debian's package; no daemon is started).
pub fn promtool() -> Result<()> {
    if succeeds("promtool", &["--version"]) {
        return Ok(());
    }
    apt_install("prometheus", "promtool checks the /metrics text format")
}

/// Java for the W3C Nu Html Checker (the `vnu-jar` npm package carries the
/// checker; its own install script, which would download a Java, never runs).
pub fn java() -> Result<()> {
    if succeeds("java", &["-version"]) {
        return Ok(());
    }
    apt_install(
        "default-jre-headless",
        "Java runs the Nu Html Checker over every page type",
    )
}

pub fn node_modules(end2end: &Path) -> Result<()> {
    if !succeeds("npm", &["--version"]) {
        bail!(
            "npm is missing: install Node.js 20 or newer (Debian: apt-get install -y nodejs npm)"
        );
    }
    // `npm ci` leaves a copy of the lock file in node_modules; if it is newer
    // than the committed lock, the pinned versions are already installed.
    let modified = |path: &Path| path.metadata().and_then(|m| m.modified()).ok();
    let installed = modified(&end2end.join("node_modules/.package-lock.json"));
    let fresh = installed.is_some() && installed >= modified(&end2end.join("package-lock.json"));
    if fresh {
        return Ok(());
    }
    let mut ci = Command::new("npm");
    // No package's install script runs: none of ours needs one, and one of
    // them (vnu-jar) would otherwise fetch a Java from outside the registries.
    ci.args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(end2end);
    run(
        ci,
        "installing the pinned Playwright test runner from npm (no browser download)",
    )
}

/// PostgreSQL must answer at `url`. Where this kind of machine has it installed
/// but stopped, start it; otherwise fail with what to do, never skip.
pub fn postgres(url: &str) -> Result<()> {
    if succeeds("psql", &[url, "-qAtc", "SELECT 1"]) {
        return Ok(());
    }
    let clusters = std::fs::read_dir("/etc/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if let Some(version) = clusters.first() {
        let mut start = Command::new("pg_ctlcluster");
        start.args(["--skip-systemctl-redirect", version, "main", "start"]);
        run(
            start,
            "starting the local PostgreSQL server (it was not running)",
        )?;
        for _ in 0..50 {
            if succeeds("psql", &[url, "-qAtc", "SELECT 1"]) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    }
    bail!(
        "PostgreSQL is not reachable at {url}. Start it or point TSUDOI_TEST_DATABASE_URL at one; \
         the tests run on both backends and never skip PostgreSQL"
    )
}

/// The Redis-backed session tests need a real Redis; start the local one if
/// it is installed but not running.
pub fn redis(addr: &str) -> Result<()> {
    if redis_answers(addr) {
        return Ok(());
    }
    let port = addr.rsplit(':').next().unwrap_or("6379");
    if succeeds(
        "redis-server",
        &["--port", port, "--daemonize", "yes", "--save", ""],
    ) {
        for _ in 0..50 {
            if redis_answers(addr) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    bail!(
        "Redis is not reachable at {addr}. Start it or point TSUDOI_TEST_REDIS_ADDR at one; \
         the session tests run against a real Redis"
    )
}

fn redis_answers(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
    let mut reply = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut reply).is_ok()
        && &reply == b"+PONG\r\n"
}
