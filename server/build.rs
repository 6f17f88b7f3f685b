//! The compiled site (wasm, js, css, public/) is embedded from `target/site`,
//! which `cargo xtask build` fills. Make sure the folder exists so that plain
//! `cargo test` and `cargo clippy` compile too (pages then render without the
//! hydration bundle), and rebuild whenever the site changes.

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let site = std::path::Path::new(&manifest).join("../target/site");
    std::fs::create_dir_all(&site).expect("create target/site");
    println!("cargo:rerun-if-changed={}", site.display());
}
