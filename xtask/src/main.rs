//! `cargo xtask` — builds Tsudoi without cargo-leptos.
//!
//! cargo-leptos takes ~21 minutes to install on a 2-core machine and downloads
//! tools at build time, which fails offline. This program does the same three
//! steps with what Cargo.lock already pins: compile the hydrate library to
//! wasm, run wasm-bindgen as a library (so its version always equals the
//! `wasm-bindgen` crate's), copy CSS and `public/`, then compile the server,
//! which embeds the resulting `target/site`.
//!
//!   cargo xtask demo                     install what is missing, build, seed, serve on :3000
//!   cargo xtask test                     every check CI runs (see `checks.rs`)
//!   cargo xtask build [--release]        site + server binary
//!   cargo xtask site [--release]         site only
//!   cargo xtask run [--release] -- ARGS  build, then run the binary with ARGS
//!   cargo xtask slo [--binary PATH]      the service levels measured over HTTP (see `slo.rs`)

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod checks;
mod prerequisites;
mod slo;

const OUTPUT_NAME: &str = "tsudoi";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> std::process::ExitCode {
    match dispatch() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (own, passthrough) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (&args[..], &[][..]),
    };
    let release = own.iter().any(|a| a == "--release");
    let root = workspace_root();
    match own.first().map(String::as_str) {
        Some("site") => build_site(&root, release),
        Some("build") => {
            build_site(&root, release)?;
            build_server(&root, release).map(|_| ())
        }
        Some("run") => {
            build_site(&root, release)?;
            let binary = build_server(&root, release)?;
            let status = Command::new(&binary)
                .args(passthrough)
                .status()
                .context("run tsudoi")?;
            std::process::exit(status.code().unwrap_or(1));
        }
        Some("demo") => demo(&root),
        Some("test") => checks::run_all(&root),
        Some("slo") => slo::run(&root, &own[1..], passthrough),
        _ => bail!("usage: cargo xtask <demo|test|build|site|run|slo> [--release] [-- ARGS]"),
    }
}

/// The first README command: Tsudoi on the embedded database with demo data.
fn demo(root: &Path) -> Result<()> {
    // Say up front what a first build costs, so a quiet minute is not taken for a hang.
    if !root.join("target/release/tsudoi").exists() {
        eprintln!(
            "xtask: first build: the browser bundle, then the server — about 20 minutes on a \
             2-core machine (cargo names each crate as it compiles it); later builds take a minute or two"
        );
    }
    build_site(root, true)?;
    let binary = build_server(root, true)?;
    if !binary.with_file_name("tsudoi.db").exists() {
        let mut seed = Command::new(&binary);
        seed.arg("seed-demo");
        run(seed, "filling a new database with demo data")?;
    }
    eprintln!("xtask: starting Tsudoi — open http://127.0.0.1:3000 (Ctrl-C stops it)");
    let status = Command::new(&binary)
        .args(["serve", "--addr", "127.0.0.1:3000"])
        .status()?;
    std::process::exit(status.code().unwrap_or(1));
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub(crate) fn cargo(root: &Path) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root);
    // A CI run builds once from a clean clone: incremental caches would only
    // cost time and tens of gigabytes of disk there.
    if std::env::var_os("CI").is_some() && std::env::var_os("CARGO_INCREMENTAL").is_none() {
        command.env("CARGO_INCREMENTAL", "0");
    }
    command
}

pub(crate) fn run(mut command: Command, what: &str) -> Result<()> {
    let started = Instant::now();
    eprintln!("xtask: {what}…");
    let status = command.status().with_context(|| format!("start: {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    eprintln!(
        "xtask: {what} done in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub(crate) fn build_site(root: &Path, release: bool) -> Result<()> {
    // `build` and `run` come here without `demo`'s or `test`'s preparations.
    prerequisites::wasm_target()?;
    let mut wasm = cargo(root);
    wasm.args([
        "build",
        "--package",
        "tsudoi-app",
        "--lib",
        "--target",
        WASM_TARGET,
        "--features",
        "hydrate",
    ]);
    if release {
        wasm.args(["--profile", "wasm-release"]);
    }
    run(wasm, "compiling the hydrate bundle (wasm)")?;

    let profile_dir = if release { "wasm-release" } else { "debug" };
    let input = root
        .join("target")
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("tsudoi_app.wasm");
    let site = root.join("target/site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg)?;

    let started = Instant::now();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .out_name(OUTPUT_NAME)
        // DWARF sections would make the debug bundle ~60 MB, all of it embedded in the binary.
        .keep_debug(false)
        .generate(&pkg)
        .context("wasm-bindgen")?;
    // Leptos's hydration script asks for `<name>.wasm` when LEPTOS_OUTPUT_NAME is set at compile time.
    replace_if_changed(
        &pkg.join(format!("{OUTPUT_NAME}_bg.wasm")),
        &pkg.join(format!("{OUTPUT_NAME}.wasm")),
    )?;
    eprintln!(
        "xtask: wasm-bindgen done in {:.1}s",
        started.elapsed().as_secs_f64()
    );

    copy_if_changed(
        &root.join("style/main.css"),
        &pkg.join(format!("{OUTPUT_NAME}.css")),
    )?;
    copy_tree(&root.join("public"), &site)?;
    for extension in ["wasm", "js", "css"] {
        compress(&pkg.join(format!("{OUTPUT_NAME}.{extension}")))?;
    }
    let size = std::fs::metadata(pkg.join(format!("{OUTPUT_NAME}.wasm")))?.len();
    eprintln!(
        "xtask: site ready in {} (wasm {} KiB)",
        site.display(),
        size / 1024
    );
    Ok(())
}

pub(crate) fn build_server(root: &Path, release: bool) -> Result<PathBuf> {
    let mut server = cargo(root);
    server.args(["build", "--package", "tsudoi-server", "--bin", "tsudoi"]);
    if release {
        server.arg("--release");
    }
    run(server, "compiling the server binary")?;
    let binary = root
        .join("target")
        .join(if release { "release" } else { "debug" })
        .join("tsudoi");
    eprintln!("xtask: binary ready: {}", binary.display());
    Ok(binary)
}

/// Writes `FILE.br` and `FILE.gz` beside `file`; the server picks one by the
/// browser's Accept-Encoding (the wasm shrinks to about a quarter).
fn compress(file: &Path) -> Result<()> {
    use std::io::Write;
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 10,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut bytes.as_slice(), &mut brotli, &params)?;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&bytes)?;
    let gzip = gzip.finish()?;
    for (suffix, data) in [("br", brotli), ("gz", gzip)] {
        let target = PathBuf::from(format!("{}.{suffix}", file.display()));
        if std::fs::read(&target).ok().as_deref() != Some(data.as_slice()) {
            std::fs::write(&target, data)?;
        }
    }
    Ok(())
}

/// Writes only when the bytes differ, so an unchanged site doesn't recompile the server.
fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let bytes = std::fs::read(from).with_context(|| format!("read {}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(to, bytes).with_context(|| format!("write {}", to.display()))?;
    }
    Ok(())
}

fn replace_if_changed(from: &Path, to: &Path) -> Result<()> {
    copy_if_changed(from, to)?;
    std::fs::remove_file(from)?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("read {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            std::fs::create_dir_all(&target)?;
            copy_tree(&entry.path(), &target)?;
        } else {
            copy_if_changed(&entry.path(), &target)?;
        }
    }
    Ok(())
}
