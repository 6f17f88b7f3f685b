//! `cargo xtask slo [--binary PATH] [-- ARGS]`: the service levels measured
//! over HTTP (the `tsudoi-load` crate). Without `--binary` the release
//! binary is built first, site included, as `cargo xtask build --release`
//! does; ARGS go to tsudoi-load (`--seconds N`, `--backend sqlite|postgres`,
//! `--growth` for the cost of each page at three company sizes instead).
//! PostgreSQL + Redis are measured too when `TSUDOI_TEST_DATABASE_URL` and
//! `TSUDOI_TEST_REDIS_ADDR` are set.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub fn run(root: &Path, args: &[String], passthrough: &[String]) -> Result<()> {
    let binary = match args {
        [] => {
            crate::build_site(root, true)?;
            crate::build_server(root, true)?
        }
        [flag, path] if flag == "--binary" => PathBuf::from(path),
        _ => bail!(
            "usage: cargo xtask slo [--binary PATH] [-- --seconds N --backend sqlite|postgres]"
        ),
    };
    let binary = binary
        .canonicalize()
        .with_context(|| format!("no binary at {}", binary.display()))?;
    let mut load = crate::cargo(root);
    load.args([
        "run",
        "--release",
        "--package",
        "tsudoi-load",
        "--",
        "--binary",
    ])
    .arg(&binary)
    .args(passthrough);
    crate::run(load, "measuring the service levels over HTTP (tsudoi-load)")
}
