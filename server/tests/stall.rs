//! A PostgreSQL that stalls — packets held, not refused — must not hold
//! requests hostage: every request is answered within `request_timeout_ms`
//! (503 when it needed the database), `/healthz` keeps answering, and the
//! server recovers by itself once the database does.

mod support;

use std::time::{Duration, Instant};

use reqwest::header;
use reqwest::{Client, StatusCode};
use support::RunningServer;
use support::stalling_relay::StallingRelay;
use tsudoi::model::{Category, EventStatus, Lang, Role};
use tsudoi::storage::test_support;
use tsudoi::users::{self, NewUser, password};

const PASSWORD: &str = "correct horse battery";
const REQUEST_TIMEOUT_MS: u64 = 2_000;
/// The bound plus room for a loaded CI machine to write the answer.
const ANSWERED_WITHIN: Duration = Duration::from_millis(REQUEST_TIMEOUT_MS + 2_000);

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_database_gets_503_within_the_bound_and_the_server_recovers() {
    let server_url = test_support::postgres_url()
        .expect("this test needs PostgreSQL: set TSUDOI_TEST_DATABASE_URL (cargo xtask test does)");
    let t = test_support::postgres(&server_url).await;
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let person = NewUser {
        email: "hanako@example.co.jp".into(),
        display_name: "佐藤 花子".into(),
        department: None,
        role: Role::Employee,
        lang: Lang::Ja,
    };
    users::upsert(&t.db, &person, Some(&hash)).await.unwrap();
    let starts_at = chrono::Utc::now() + chrono::Duration::days(2);
    let new = tsudoi::events::NewEvent {
        title_ja: None,
        title_en: Some("Stall".into()),
        description_ja: String::new(),
        description_en: String::new(),
        category: Category::Seminar,
        place: "Room A".into(),
        starts_at,
        ends_at: starts_at + chrono::Duration::hours(1),
        capacity: 50,
        status: EventStatus::Published,
        organizer_id: None,
    };
    let event_id = tsudoi::events::create(&t.db, &new).await.unwrap();

    let mut through_relay = url::Url::parse(&t.url()).unwrap();
    let target = format!(
        "{}:{}",
        through_relay.host_str().unwrap(),
        through_relay.port().unwrap_or(5432)
    );
    let relay = StallingRelay::start(target).await;
    through_relay.set_host(Some("127.0.0.1")).unwrap();
    through_relay.set_port(Some(relay.port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start_with(
        dir.path(),
        through_relay.as_str(),
        &[("TSUDOI_REQUEST_TIMEOUT_MS", &REQUEST_TIMEOUT_MS.to_string())],
    );
    let login = client()
        .post(server.url("/api/auth/login"))
        .form(&[("email", "hanako@example.co.jp"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success());
    let cookie = support::session_cookie(login.headers()).expect("a session cookie");

    // Requests that are already on their way when the database freezes, and
    // requests that arrive while it is frozen.
    let fire = |path: String, post: bool| {
        let (url, cookie) = (server.url(&path), cookie.clone());
        tokio::spawn(async move {
            let started = Instant::now();
            let request = if post {
                client()
                    .post(url)
                    .form(&[("event_id", event_id.to_string())])
            } else {
                client().get(url)
            };
            let status = request
                .header(header::COOKIE, cookie)
                .send()
                .await
                .map(|r| r.status());
            (path, status, started.elapsed())
        })
    };
    let mut requests = Vec::new();
    for _ in 0..8 {
        requests.push(fire("/api/events/register".into(), true));
        requests.push(fire("/api/me/events".into(), false));
    }
    relay.hold();
    for path in [
        format!("/events/{event_id}"),
        "/my-events".into(),
        "/api/auth/account".into(),
        format!("/api/events/detail?id={event_id}"),
        "/readyz".into(),
    ] {
        requests.push(fire(path, false));
    }
    requests.push(fire("/api/events/register".into(), true));
    let healthy = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(
        healthy.status(),
        200,
        "the process answers while the database is frozen"
    );

    let mut unavailable = 0;
    for request in requests {
        let (path, status, took) = request.await.unwrap();
        let status = status.unwrap_or_else(|e| panic!("{path}: no answer: {e}"));
        assert!(
            took <= ANSWERED_WITHIN,
            "{path} took {took:?} (bound {REQUEST_TIMEOUT_MS} ms)"
        );
        assert!(
            status.is_success() || status == StatusCode::SERVICE_UNAVAILABLE,
            "{path}: {status}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            unavailable += 1;
        }
    }
    assert!(
        unavailable >= 6,
        "the frozen database was noticed: {unavailable} × 503"
    );

    // Back to normal without a restart.
    relay.release();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = client()
            .get(server.url("/api/auth/account"))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .map(|r| r.status());
        if matches!(status, Ok(StatusCode::OK)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after the stall: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
