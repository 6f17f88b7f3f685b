//! Traces over OTLP: a real server sends its spans to a receiver here,
//! which decodes them with the protocol's own protobuf messages. A request
//! that carries a W3C `traceparent` continues the caller's trace.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use support::RunningServer;
use tsudoi::storage::test_support;

/// What the receiver got: every span, with its resource's service name.
#[derive(Clone, Default)]
struct Received {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

impl Received {
    fn of_trace(&self, trace_id: &[u8]) -> Vec<(String, Span)> {
        self.spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, span)| span.trace_id == trace_id)
            .cloned()
            .collect()
    }
}

/// An OTLP/HTTP trace receiver on a port of its own: `POST /v1/traces`
/// with a protobuf `ExportTraceServiceRequest`, as a collector takes it.
async fn start_receiver() -> (String, Received) {
    async fn accept(
        State(received): State<Received>,
        body: Bytes,
    ) -> impl axum::response::IntoResponse {
        let Ok(request) = ExportTraceServiceRequest::decode(body) else {
            return (StatusCode::BAD_REQUEST, Vec::new());
        };
        let mut spans = received.spans.lock().unwrap();
        for resource_spans in request.resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
                .map(|value| match value {
                    Value::StringValue(name) => name.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push((service.clone(), span));
                }
            }
        }
        (
            StatusCode::OK,
            ExportTraceServiceResponse::default().encode_to_vec(),
        )
    }
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/v1/traces", post(accept))
        .with_state(received.clone())
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    header::HeaderValue::from_static("application/x-protobuf"),
                );
                response
            },
        ));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|attribute| attribute.key == key)
        .and_then(
            |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                Value::StringValue(text) => Some(text.as_str()),
                _ => None,
            },
        )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registration_request_sends_its_spans_in_the_callers_trace() {
    let t = test_support::sqlite().await;
    let emails = support::add_employees(&t.db, 0..1).await;
    let event_id = support::open_seminar(&t.db, 5).await;

    let (collector, received) = start_receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start_with(
        dir.path(),
        &t.url(),
        &[
            ("TSUDOI_OTLP_ENDPOINT", collector.as_str()),
            // Batches leave every 100 ms instead of every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let http = reqwest::Client::new();
    let cookie = support::log_in(&http, &server, &emails[0], support::EMPLOYEE_PASSWORD).await;

    // The caller's trace and its span, as a proxy or another service sends them.
    let trace_id: [u8; 16] = *b"\x4b\xf9\x2f\x35\x77\xb3\x4d\xa6\xa3\xce\x92\x9d\x0e\x0e\x47\x36";
    let caller_span: [u8; 8] = *b"\x00\xf0\x67\xaa\x0b\xa9\x02\xb7";
    let traceparent = format!("00-{}-{}-01", hex(&trace_id), hex(&caller_span));
    let registered = http
        .post(server.url("/api/events/register"))
        .header("cookie", &cookie)
        .header("traceparent", &traceparent)
        .form(&[("event_id", event_id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 200);
    // A malformed traceparent is ignored: the request gets a trace of its own.
    let other = http
        .get(server.url("/"))
        .header("traceparent", "00-not-a-trace-01")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);

    let mut spans = Vec::new();
    for _ in 0..100 {
        spans = received.of_trace(&trace_id);
        let requests = received
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, span)| span.name == "request")
            .count();
        if requests >= 3 && spans.iter().any(|(_, span)| span.name == "db.commit") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let names: Vec<&str> = spans.iter().map(|(_, span)| span.name.as_str()).collect();
    let (service, request) = spans
        .iter()
        .find(|(_, span)| span.name == "request")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {names:?}"));
    assert_eq!(service, "tsudoi");
    assert_eq!(
        request.parent_span_id, caller_span,
        "the request span continues the caller's span"
    );
    assert_eq!(attribute(request, "route"), Some("/api/events/register"));
    assert_eq!(attribute(request, "method"), Some("POST"));
    let request_id = registered
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap();
    assert_eq!(attribute(request, "request_id"), Some(request_id));
    // The core's operation and its database steps are in the same trace,
    // each a descendant of the request span.
    for name in ["register", "db.register_one", "db.begin", "db.commit"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    let by_id = |id: &[u8]| spans.iter().map(|(_, s)| s).find(|s| s.span_id == id);
    for (_, span) in &spans {
        if span.span_id == request.span_id {
            continue;
        }
        let mut at = span;
        let mut hops = 0;
        while at.span_id != request.span_id {
            at = by_id(&at.parent_span_id)
                .unwrap_or_else(|| panic!("{} does not descend from the request", span.name));
            hops += 1;
            assert!(hops < 20, "a cycle of parents");
        }
    }
    // Nothing of the login (no traceparent) or of the malformed one joined it.
    let all = received.spans.lock().unwrap().clone();
    let requests_elsewhere = all
        .iter()
        .filter(|(_, span)| span.name == "request" && span.trace_id != trace_id)
        .count();
    assert!(requests_elsewhere >= 2, "login and list page: own traces");
    assert_eq!(spans.iter().filter(|(_, s)| s.name == "request").count(), 1);
    server.terminate();
}
