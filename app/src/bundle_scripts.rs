//! The tags that load the wasm bundle and hydrate the page.
//!
//! Leptos's own `HydrationScripts` writes the page's CSP nonce into the
//! `crossorigin` attribute of its preload links, where a nonce means nothing
//! and an unknown value can make a browser drop the preload (the HTML
//! checker rejects it too). These tags say what they mean instead: the
//! preloads use the same request mode as the loads that follow them (a module
//! import and wasm-bindgen's `fetch`, both CORS same-origin), and only the
//! inline script carries the nonce, which the policy requires of it.

use leptos::prelude::*;

/// Preloads of `/pkg/{name}.js` and `/pkg/{name}.wasm`, and the script that
/// imports the one, instantiates the other and hydrates.
#[component]
pub fn BundleScripts(options: LeptosOptions) -> impl IntoView {
    let pkg = format!("/{}", options.site_pkg_dir);
    let name = options.output_name.to_string();
    let module = format!("{pkg}/{name}.js");
    let wasm = format!("{pkg}/{name}.wasm");
    let start = hydrate_script(&module, &wasm);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <link rel="modulepreload" href=module />
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="" />
        <script type="module" nonce=nonce>{start}</script>
    }
}

/// The inline module: both addresses are ours, written as JSON strings with
/// `<` escaped, so no character in them can end the script.
fn hydrate_script(module: &str, wasm: &str) -> String {
    let quoted = |text: &str| {
        serde_json::to_string(text)
            .unwrap_or_else(|_| "\"\"".into())
            .replace('<', "\\u003c")
    };
    format!(
        "import({module}).then((bundle) => bundle.default({{ module_or_path: {wasm} }}).then(() => bundle.hydrate()));",
        module = quoted(module),
        wasm = quoted(wasm),
    )
}

#[cfg(test)]
mod tests {
    use super::hydrate_script;

    #[test]
    fn the_script_imports_the_module_and_hydrates_with_the_wasm() {
        let script = hydrate_script("/pkg/tsudoi.js", "/pkg/tsudoi.wasm");
        assert!(script.starts_with("import(\"/pkg/tsudoi.js\")"), "{script}");
        assert!(
            script.contains("module_or_path: \"/pkg/tsudoi.wasm\""),
            "{script}"
        );
        assert!(script.ends_with("bundle.hydrate()));"), "{script}");
    }

    #[test]
    fn an_address_cannot_end_the_script() {
        let script = hydrate_script("/pkg/</script><b>.js", "/pkg/x.wasm");
        assert!(!script.contains("</script>"), "{script}");
    }
}
