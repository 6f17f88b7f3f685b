//! Addresses on the site for what leaves a page (mail, calendar files): all
//! of them sit below `public_url`, which may carry the path Tsudoi is served
//! under (`https://intra.example/tsudoi`), with or without a final slash.
//! `Url::join` would drop that path's last segment when the slash is missing.

use url::Url;

/// `path` (without a leading slash) below `public_url`.
pub fn address(public_url: &Url, path: &str) -> String {
    format!("{}/{path}", public_url.as_str().trim_end_matches('/'))
}
