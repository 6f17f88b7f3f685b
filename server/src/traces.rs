//! Traces for a collector (`otlp_endpoint`): every request's span, the
//! core's operations and their database steps inside it, sent over
//! OTLP/HTTP in protobuf, joined to the caller's trace when the request
//! carries a W3C `traceparent` header.
//!
//! Off unless configured. When off, no exporter, no propagator and no
//! extra layer exist, and the core's finer spans (debug level) stay
//! disabled at their call sites, so they cost a branch each.

use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::HeaderMap;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// Whether spans leave the process; read on every request, so an atomic.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Sends what is still buffered when the process ends.
pub struct Exporting {
    provider: SdkTracerProvider,
}

impl Drop for Exporting {
    fn drop(&mut self) {
        if let Err(err) = self.provider.shutdown() {
            eprintln!("traces: the last spans were not sent: {err}");
        }
    }
}

/// The layer that turns spans into OTLP spans for `endpoint` (the
/// collector's base URL; spans go to its `/v1/traces`), and the guard that
/// flushes them at exit. Spans are batched and sent from a thread of
/// their own, so a slow collector never holds up a request.
pub fn layer<S>(endpoint: &url::Url) -> Result<(impl Layer<S>, Exporting), String>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let traces_url = endpoint
        .join("v1/traces")
        .map_err(|err| format!("otlp_endpoint: {err}"))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(traces_url.as_str())
        .build()
        .map_err(|err| format!("otlp_endpoint: {err}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("tsudoi")
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let tracer = provider.tracer("tsudoi");
    // The core's operations and database steps are debug spans: exported
    // here, never written to the log, whatever its level.
    let wanted = Targets::new()
        .with_target("tsudoi", LevelFilter::DEBUG)
        .with_target("tsudoi_app", LevelFilter::DEBUG)
        .with_target("tsudoi_server", LevelFilter::DEBUG)
        .with_default(LevelFilter::WARN);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_threads(false)
        .with_filter(wanted);
    EXPORTING.store(true, Ordering::Relaxed);
    Ok((layer, Exporting { provider }))
}

/// Makes `span` a child of the trace named by the request's `traceparent`
/// header, when spans are exported and the header is well formed; a
/// malformed header starts a new trace, as the W3C rules ask.
pub fn join_incoming_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !EXPORTING.load(Ordering::Relaxed) || !headers.contains_key("traceparent") {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&opentelemetry_http::HeaderExtractor(headers))
    });
    let _ = span.set_parent(parent);
}
