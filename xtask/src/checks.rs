//! `cargo xtask test`: the whole test suite, exactly what CI runs (`.ci/run`).
//!
//! Order: cheap checks first, so a formatting slip fails in seconds, not after
//! the release build. One target directory is shared by every step.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Result;

use crate::{build_server, build_site, cargo, prerequisites, run};

const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const DEFAULT_TEST_REDIS_ADDR: &str = "127.0.0.1:6379";

pub fn run_all(root: &Path) -> Result<()> {
    let started = Instant::now();
    let database_url = std::env::var("TSUDOI_TEST_DATABASE_URL")
        .unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_string());
    let redis_addr = std::env::var("TSUDOI_TEST_REDIS_ADDR")
        .unwrap_or_else(|_| DEFAULT_TEST_REDIS_ADDR.to_string());
    let end2end = root.join("end2end");

    prerequisites::wasm_target()?;
    prerequisites::postgres(&database_url)?;
    prerequisites::redis(&redis_addr)?;
    prerequisites::chromium()?;
    prerequisites::smtp_test_server()?;
    prerequisites::promtool()?;
    prerequisites::java()?;
    prerequisites::node_modules(&end2end)?;

    let mut fmt = cargo(root);
    fmt.args(["fmt", "--all", "--", "--check"]);
    run(fmt, "checking formatting (cargo fmt)")?;

    let mut clippy_server = cargo(root);
    clippy_server.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run(
        clippy_server,
        "linting the server build (clippy -D warnings)",
    )?;

    // Both bundles: the whole app, and the door page's (its own routes).
    for features in ["hydrate", "door-bundle"] {
        let mut clippy_wasm = cargo(root);
        clippy_wasm.args([
            "clippy",
            "--package",
            "tsudoi-app",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--features",
            features,
            "--",
            "-D",
            "warnings",
        ]);
        run(
            clippy_wasm,
            &format!("linting the wasm build, {features} (clippy -D warnings)"),
        )?;
    }

    // The site goes first: the server embeds it at compile time, so the HTTP
    // tests see the real bundle (assets, compression), as users do.
    build_site(root, true)?;

    let mut tests = cargo(root);
    tests
        .args(["test", "--workspace"])
        .env("TSUDOI_TEST_DATABASE_URL", &database_url)
        .env("TSUDOI_TEST_REDIS_ADDR", &redis_addr);
    run(tests, "running the Rust tests on SQLite and PostgreSQL")?;

    let binary = build_server(root, true)?;

    let mut playwright = Command::new("npx");
    playwright
        .args(["playwright", "test"])
        .current_dir(&end2end)
        .env("TSUDOI_BINARY", &binary)
        .env("TSUDOI_TEST_DATABASE_URL", &database_url);
    run(
        playwright,
        "running the end-to-end tests in Chromium (Playwright)",
    )?;

    eprintln!(
        "xtask: every check passed in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
