//! Prometheus metrics on their own address (`metrics_addr`), never on the
//! public one: request counts and durations by route pattern and status
//! class, requests in flight, what the core counts (registrations, logins,
//! check-ins by outcome), and at each scrape the outbox's depth and lag, the
//! database pool, and the build.
//!
//! Labels are bounded: a route is its pattern (`/events/{id}`), never the
//! path a client sent; anything no route matched is `unmatched`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{
    Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tsudoi::caching::redis::SharedCache;
use tsudoi::storage::{Database, Pool};

const REQUEST_SECONDS: &str = "tsudoi_http_request_duration_seconds";

/// Installs the recorder for the whole process. The buckets bracket the
/// service levels (p95 under 200 ms for pages, p99 under 100 ms to register).
pub fn install() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(REQUEST_SECONDS.to_string()),
            &[
                0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0,
            ],
        )
        .map_err(|err| format!("metrics: {err}"))?
        .set_buckets_for_metric(
            Matcher::Full("tsudoi_registration_group_size".to_string()),
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0],
        )
        .map_err(|err| format!("metrics: {err}"))?
        .set_buckets_for_metric(
            Matcher::Full("tsudoi_reminder_batch_duration_seconds".to_string()),
            &[0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0],
        )
        .map_err(|err| format!("metrics: {err}"))?
        .install_recorder()
        .map_err(|err| format!("metrics: {err}"))?;
    describe();
    gauge!("tsudoi_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    start_at_zero();
    Ok(handle)
}

/// The counters alerts take `increase()` of, present from the first scrape:
/// a counter that first appears at 1 hides that first event from rate
/// functions, and a series that is absent cannot say "none yet".
fn start_at_zero() {
    for outcome in ["sent", "failed", "dead"] {
        counter!("tsudoi_mails_total", "outcome" => outcome).absolute(0);
    }
    for outcome in ["seat", "waitlist"] {
        counter!("tsudoi_registrations_total", "outcome" => outcome).absolute(0);
    }
    for outcome in ["ok", "failed", "throttled"] {
        counter!("tsudoi_logins_total", "outcome" => outcome).absolute(0);
    }
    counter!("tsudoi_db_statement_errors_total").absolute(0);
    counter!("tsudoi_reminders_queued_total").absolute(0);
}

/// The HELP line of every metric, those the core counts included.
fn describe() {
    describe_counter!(
        "tsudoi_http_requests_total",
        "HTTP requests answered, by route pattern, method and status class."
    );
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by route pattern, method and status class."
    );
    describe_gauge!(
        "tsudoi_http_requests_in_flight",
        "HTTP requests being answered now."
    );
    describe_counter!(
        "tsudoi_registrations_total",
        "Registration attempts by outcome: seat, waitlist, or the kind of refusal."
    );
    describe_counter!(
        "tsudoi_logins_total",
        "Login attempts by outcome: ok, failed, throttled."
    );
    describe_counter!(
        "tsudoi_check_ins_total",
        "Check-ins at the door by answer and by how the person was found."
    );
    describe_gauge!("tsudoi_mail_outbox", "Mails in the outbox by state.");
    describe_gauge!(
        "tsudoi_mail_oldest_queued_seconds",
        Unit::Seconds,
        "Age of the oldest mail waiting for its first send; 0 when none waits."
    );
    describe_gauge!(
        "tsudoi_db_pool_connections",
        "Database connections of this instance: open, idle among them, and the pool's maximum."
    );
    describe_gauge!(
        "tsudoi_database_up",
        "1 when the database answered at the last scrape, else 0."
    );
    describe_gauge!(
        "tsudoi_redis_up",
        "1 when Redis (shared caches) was connected at the last scrape, else 0; absent without Redis."
    );
    describe_gauge!("tsudoi_build_info", "The running version; always 1.");
    describe_histogram!(
        "tsudoi_registration_group_size",
        "Registrations for one event written together in one transaction."
    );
    describe_counter!(
        "tsudoi_mails_total",
        "Mails handed to the mail server by outcome: sent, failed (tried again later), dead, obsolete."
    );
    describe_histogram!(
        "tsudoi_reminder_batch_duration_seconds",
        Unit::Seconds,
        "Time to queue one day's reminders."
    );
    describe_counter!(
        "tsudoi_reminders_queued_total",
        "Day-before reminders queued by the daily batch."
    );
    describe_counter!(
        "tsudoi_cache_requests_total",
        "Reads of the event list and dashboard caches, by cache and hit or miss."
    );
    describe_counter!(
        "tsudoi_db_statement_errors_total",
        "Statements that failed: database unreachable, timed out, or refused."
    );
}

/// Middleware: counts and times every request by route pattern, method and
/// status class, and keeps the number in flight.
pub async fn track(request: Request<Body>, next: Next) -> Response {
    let route = route_of(&request).to_string();
    let method: &'static str = match request.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    };
    let in_flight = gauge!("tsudoi_http_requests_in_flight");
    in_flight.increment(1.0);
    let started = Instant::now();
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let answered = Answered {
        labels: [
            ("route", route),
            ("method", method.to_string()),
            ("status", status.to_string()),
        ],
        started,
        in_flight,
    };
    // Timed to the body's last byte (or the client hanging up): a streamed
    // page is still being rendered after its head has gone out.
    response.map(|body| {
        Body::new(TimedBody {
            body,
            answered: Some(answered),
        })
    })
}

/// A request being answered; counted and timed when dropped.
struct Answered {
    labels: [(&'static str, String); 3],
    started: Instant,
    in_flight: metrics::Gauge,
}

impl Drop for Answered {
    fn drop(&mut self) {
        self.in_flight.decrement(1.0);
        counter!("tsudoi_http_requests_total", &self.labels).increment(1);
        histogram!(REQUEST_SECONDS, &self.labels).record(self.started.elapsed().as_secs_f64());
    }
}

/// A response body that ends its request's timing when it ends.
struct TimedBody {
    body: Body,
    /// `None` once the body has ended and the request was counted.
    answered: Option<Answered>,
}

impl http_body::Body for TimedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = std::pin::Pin::new(&mut this.body).poll_frame(cx);
        if matches!(
            polled,
            std::task::Poll::Ready(None) | std::task::Poll::Ready(Some(Err(_)))
        ) {
            this.answered = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The route a request is counted and logged under: the pattern that
/// matched it (`/events/{id}`), the embedded files as one route, and
/// everything else (404s, probes) as `unmatched` — never the path as sent.
pub fn route_of(request: &Request<Body>) -> &str {
    match request.extensions().get::<MatchedPath>() {
        Some(matched) => matched.as_str(),
        None if request.uri().path().starts_with("/pkg/") => "/pkg/{file}",
        None => "unmatched",
    }
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    db: Database,
    redis: Option<Arc<SharedCache>>,
}

/// Serves `GET /metrics` on `addr` until the process ends.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    db: Database,
    redis: Option<Arc<SharedCache>>,
) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|err| format!("cannot listen for metrics on {addr}: {err}"))?;
    tracing::info!("metrics on http://{addr}/metrics");
    let app = Router::new()
        .route("/metrics", get(metrics))
        .with_state(Scrape { handle, db, redis });
    tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn metrics(State(scrape): State<Scrape>) -> Response {
    sample(&scrape.db).await;
    if let Some(redis) = &scrape.redis {
        gauge!("tsudoi_redis_up").set(if redis.is_connected() { 1.0 } else { 0.0 });
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
        .into_response()
}

/// The gauges read at each scrape rather than kept up to date.
async fn sample(db: &Database) {
    let (size, idle, max) = match db.pool() {
        Pool::Sqlite(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
        Pool::Postgres(pool) => (
            pool.size(),
            pool.num_idle(),
            pool.options().get_max_connections(),
        ),
    };
    gauge!("tsudoi_db_pool_connections", "state" => "open").set(f64::from(size));
    gauge!("tsudoi_db_pool_connections", "state" => "idle").set(idle as f64);
    gauge!("tsudoi_db_pool_connections", "state" => "max").set(f64::from(max));
    match tsudoi::mail::outbox::counts(db).await {
        Ok(counts) => {
            for (state, n) in [
                ("queued", counts.queued),
                ("sending", counts.sending),
                ("sent", counts.sent),
                ("dead", counts.dead),
            ] {
                gauge!("tsudoi_mail_outbox", "state" => state).set(n as f64);
            }
            gauge!("tsudoi_database_up").set(1.0);
        }
        Err(err) => {
            tracing::warn!(error = %err, "metrics: cannot count the outbox");
            gauge!("tsudoi_database_up").set(0.0);
        }
    }
    if let Ok(oldest) = tsudoi::mail::outbox::oldest_queued_at(db).await {
        let age = oldest.map_or(0.0, |at| {
            (chrono::Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0
        });
        gauge!("tsudoi_mail_oldest_queued_seconds").set(age);
    }
}
