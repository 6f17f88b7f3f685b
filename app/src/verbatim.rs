//! User text for the few places where Leptos writes a string into the
//! server-rendered HTML as it is: the document `<title>` (leptos_meta) and the
//! contents of a `<textarea>`. Everywhere else the view escapes by itself.
//!
//! Without this, an event titled `</title><meta http-equiv="refresh" …>`
//! would put live markup into the head of every visitor's page. In the
//! browser the same text is set as a DOM string, where escaping would show
//! up as `&lt;`, so it is escaped on the server only.

/// `text`, safe to stand between the tags of `<title>` or `<textarea>`.
pub fn text(text: String) -> String {
    #[cfg(feature = "ssr")]
    {
        html_escape::encode_text(&text).into_owned()
    }
    #[cfg(not(feature = "ssr"))]
    {
        text
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn markup_becomes_text() {
        let title = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
        let escaped = super::text(title.to_string());
        assert!(!escaped.contains('<'), "{escaped}");
        assert_eq!(
            super::text("</textarea><script>x</script> & 研修".into()),
            "&lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt; &amp; 研修"
        );
    }
}
