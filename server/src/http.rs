//! The axum router: Leptos pages and server functions, health endpoints,
//! embedded static files, request ids and tracing.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRef, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate, SizeAbove};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tsudoi::storage::Database;
use tsudoi_app::auth::caller::ViewerMemo;
use tsudoi_app::server_context::SharedServerContext;
use tsudoi_app::{App, shell};

use crate::config::Settings;
use crate::sessions::Store;
use crate::{assets, calendar_files, reminder_links, request_limits, security};

#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Shared: axum copies the state into every request.
    pub context: SharedServerContext,
    pub public_url: std::sync::Arc<url::Url>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Database {
    fn from_ref(state: &AppState) -> Self {
        state.context.db.clone()
    }
}

pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(tsudoi_app::OUTPUT_NAME)
        .site_pkg_dir("pkg")
        .build()
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState, sessions: Store, settings: &Settings) -> Router {
    let routes = generate_route_list(App);
    let context = state.context.clone();
    let provide = move || {
        provide_context(context.clone());
        provide_context(ViewerMemo::default());
    };
    let options = state.leptos_options.clone();
    let not_found = leptos_axum::render_app_to_stream_with_context(provide.clone(), {
        let options = options.clone();
        move || shell(options.clone())
    });

    let app = Router::new()
        .leptos_routes_with_context(&state, routes, provide, move || shell(options.clone()))
        .fallback(move |request: Request<Body>| {
            let not_found = not_found.clone();
            async move {
                match assets::serve(&request) {
                    Some(file) => file,
                    None => not_found(request).await,
                }
            }
        })
        .with_state(state.clone());
    // Health checks stay outside the session layer: they must answer while Redis is down.
    let mut router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/events/{id}/{file}", get(calendar_files::event_file))
        .route("/calendar/{file}", get(calendar_files::feed))
        // The page at this address (GET) is the app's; see `reminder_links`.
        .route(
            "/reminders/stop/{token}",
            post(reminder_links::stop_with_one_click),
        )
        .with_state(state)
        .merge(sessions.install(app, settings))
        .layer(middleware::from_fn(security::refuse_cross_site))
        .layer(middleware::from_fn(
            request_limits::require_multipart_uploads,
        ))
        .layer(middleware::from_fn(request_limits::read_body_within_limit));
    for (name, value) in security::default_headers(settings.public_url.scheme() == "https") {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    let time_limit = settings.request_timeout;
    let router = router
        .layer(middleware::map_response(move |response| async move {
            crate::finish_rendering::html_finishes_rendering(response, time_limit)
        }))
        .layer(compression())
        .layer(middleware::from_fn(move |request, next| {
            request_limits::answer_within(time_limit, request, next)
        }))
        .layer(middleware::from_fn(
            request_limits::finish_even_if_abandoned,
        ))
        .layer(middleware::from_fn(request_limits::allow_known_methods))
        .layer(CatchPanicLayer::custom(request_limits::panic_response))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(middleware::from_fn(remember_request_span))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(
                    |response: &Response, latency: Duration, _: &tracing::Span| {
                        tracing::info!(
                            status = response.status().as_u16(),
                            duration_ms = latency.as_secs_f64() * 1000.0,
                            "answered"
                        );
                    },
                ),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    // Outermost, so what it times is what the client waited for, the time
    // limit's 503 and a caught panic's 500 included.
    if settings.metrics_addr.is_some() {
        router.layer(middleware::from_fn(crate::metrics::track))
    } else {
        router
    }
}

/// Pages and data compressed for clients that ask (brotli or gzip). At the
/// fastest level: a page is compressed anew for every request, and the first
/// level already takes the list page from 16 KB to about 3 KB. Static files come compressed already
/// (see `assets.rs`), and small answers are not worth it.
fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Fastest)
        .compress_when(
            SizeAbove::new(1024)
                .and(NotForContentType::IMAGES)
                .and(NotForContentType::GRPC)
                .and(NotForContentType::SSE),
        )
}

/// The span every log line of a request carries: its id, method and route
/// pattern — never the raw path, which can hold a password link's secret —
/// and, once known, who is logged in. Exported as a trace's span, it
/// continues the caller's trace (`traceparent`).
fn request_span(request: &Request<Body>) -> tracing::Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let route = crate::metrics::route_of(request);
    let span = tracing::info_span!(
        "request",
        request_id,
        method = %request.method(),
        route,
        user_id = tracing::field::Empty
    );
    crate::traces::join_incoming_trace(&span, request.headers());
    span
}

/// Hands the request's span to the pages and server functions, so the
/// person's id can be written into it once the session says who it is.
async fn remember_request_span(mut request: Request<Body>, next: middleware::Next) -> Response {
    request
        .extensions_mut()
        .insert(tsudoi_app::auth::caller::RequestSpan(
            tracing::Span::current(),
        ));
    next.run(request).await
}

/// Liveness: the process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers a statement within two seconds.
async fn readyz(State(db): State<Database>) -> Response {
    match db.ping(Duration::from_secs(2)).await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database is unreachable",
        )
            .into_response(),
    }
}
