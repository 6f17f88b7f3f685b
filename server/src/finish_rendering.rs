//! A page whose client hangs up is still rendered to its end, into nothing.
//!
//! Leptos renders a page as a stream that owns the page's reactive values.
//! Dropped halfway — the client went away — it disposes of them while
//! tasks it started (a resource's future, a form's action) are still
//! running, and those panic on the values they find gone. Finishing the
//! stream in the background instead lets every task end as it would have;
//! the request timeout still bounds it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;

/// Middleware step: gives HTML answers a body that, dropped before its end,
/// finishes in the background (for at most `limit`).
pub fn html_finishes_rendering(response: Response, limit: Duration) -> Response {
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if !is_html {
        return response;
    }
    response.map(|body| {
        Body::new(FinishRendering {
            rest: Some(body),
            limit,
        })
    })
}

struct FinishRendering {
    /// `None` once the page has been read to its end.
    rest: Option<Body>,
    limit: Duration,
}

impl HttpBody for FinishRendering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let Some(rest) = this.rest.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(rest).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.rest = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.rest.as_ref().is_none_or(HttpBody::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.rest
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), HttpBody::size_hint)
    }
}

impl Drop for FinishRendering {
    fn drop(&mut self) {
        let Some(mut rest) = self.rest.take() else {
            return;
        };
        if rest.is_end_stream() {
            return;
        }
        let limit = self.limit;
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = tokio::time::timeout(limit, async {
                    while let Some(Ok(_)) = rest.frame().await {}
                })
                .await;
            });
        }
    }
}
