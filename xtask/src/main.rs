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
const DOOR_OUTPUT_NAME: &str = "tsudoi-door";
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
            "xtask: first build: the browser bundles, then the server — about 16 minutes on a \
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
    let site = root.join("target/site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg)?;
    // The whole app, then the door page's bundle (the app with its one route).
    for (features, name, what) in [
        (
            "hydrate",
            OUTPUT_NAME,
            "compiling the hydrate bundle (wasm)",
        ),
        (
            "door-bundle",
            DOOR_OUTPUT_NAME,
            "compiling the door page's bundle (wasm)",
        ),
    ] {
        let mut wasm = cargo(root);
        wasm.args([
            "build",
            "--package",
            "tsudoi-app",
            "--lib",
            "--target",
            WASM_TARGET,
            "--features",
            features,
        ]);
        if release {
            wasm.args(["--profile", "wasm-release"]);
        }
        run(wasm, what)?;
        bind(root, release, name, &pkg)?;
    }

    copy_if_changed(
        &root.join("style/main.css"),
        &pkg.join(format!("{OUTPUT_NAME}.css")),
    )?;
    copy_tree(&root.join("public"), &site)?;
    compress(&pkg.join(format!("{OUTPUT_NAME}.css")))?;
    let size = |name: &str| -> Result<u64> {
        Ok(std::fs::metadata(pkg.join(format!("{name}.wasm")))?.len() / 1024)
    };
    eprintln!(
        "xtask: site ready in {} (wasm {} KiB, the door page's {} KiB)",
        site.display(),
        size(OUTPUT_NAME)?,
        size(DOOR_OUTPUT_NAME)?,
    );
    Ok(())
}

/// Runs wasm-bindgen on the bundle cargo just built, as `/pkg/{name}.js`
/// and `/pkg/{name}.wasm` (each with compressed copies).
fn bind(root: &Path, release: bool, name: &str, pkg: &Path) -> Result<()> {
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let input = root
        .join("target")
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("tsudoi_app.wasm");
    // wasm-bindgen writes every file anew; made beside the site and copied
    // over only where the bytes differ, an unchanged bundle leaves the
    // embedded site's files untouched and the server is not compiled again.
    let fresh = root.join("target/site-bindgen");
    std::fs::create_dir_all(&fresh)?;
    let started = Instant::now();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .out_name(name)
        // DWARF sections would make the debug bundle ~60 MB, all of it embedded in the binary.
        .keep_debug(false)
        .generate(&fresh)
        .context("wasm-bindgen")?;
    // Leptos's hydration script asks for `<name>.wasm` when LEPTOS_OUTPUT_NAME is set at compile time.
    let bundle = fresh.join(format!("{name}_bg.wasm"));
    if release {
        without_names(&bundle)?;
    }
    copy_if_changed(&bundle, &pkg.join(format!("{name}.wasm")))?;
    copy_if_changed(
        &fresh.join(format!("{name}.js")),
        &pkg.join(format!("{name}.js")),
    )?;
    for extension in ["wasm", "js"] {
        compress(&pkg.join(format!("{name}.{extension}")))?;
    }
    eprintln!(
        "xtask: wasm-bindgen ({name}) done in {:.1}s",
        started.elapsed().as_secs_f64()
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

/// Leaves the function names (and the producers note) out of a release
/// bundle: they were 4.7 of its 8 MB, and a phone downloads and compiles
/// every byte. Done here rather than with the profile's `strip`, which would
/// also drop the section that tells wasm-bindgen the bundle's features.
fn without_names(bundle: &Path) -> Result<()> {
    let bytes = std::fs::read(bundle).with_context(|| format!("read {}", bundle.display()))?;
    let mut module = walrus::ModuleConfig::new()
        .generate_name_section(false)
        .generate_producers_section(false)
        .parse(&bytes)
        .context("read the wasm bundle")?;
    std::fs::write(bundle, module.emit_wasm())?;
    Ok(())
}

/// Writes `FILE.br` and `FILE.gz` beside `file`; the server picks one by the
/// browser's Accept-Encoding (the wasm shrinks to about a quarter).
/// Skipped while both are newer than `file`: brotli's best level takes a
/// few seconds on the bundle.
fn compress(file: &Path) -> Result<()> {
    use std::io::Write;
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let source_time = modified(file);
    let up_to_date = ["br", "gz"].iter().all(|suffix| {
        let target = PathBuf::from(format!("{}.{suffix}", file.display()));
        matches!((modified(&target), source_time), (Some(made), Some(source)) if made >= source)
    });
    if up_to_date {
        return Ok(());
    }
    let bytes = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
    let mut brotli = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
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
