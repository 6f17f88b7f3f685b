//! The real server over HTTP, on each backend: health, readiness, the events
//! page, static assets, errors that say what is wrong and nothing more.

mod support;

use chrono::Utc;
use chrono_tz::Asia::Tokyo;
use support::RunningServer;
use tsudoi::storage::test_support;

#[tokio::test(flavor = "multi_thread")]
async fn serves_health_pages_assets_and_clean_errors_on_every_backend() {
    for t in test_support::backends().await {
        let backend = t.db.backend().name();
        tsudoi::demo::seed(&t.db, Tokyo, Utc::now(), 1)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start(dir.path(), &t.url());
        let http = reqwest::Client::new();
        let get = |path: &str| http.get(server.url(path)).send();

        let health = get("/healthz").await.unwrap();
        assert_eq!(health.status(), 200, "{backend}");
        assert_eq!(get("/readyz").await.unwrap().status(), 200, "{backend}");

        let page = get("/").await.unwrap();
        assert_eq!(page.status(), 200, "{backend}");
        assert!(
            page.headers().contains_key("x-request-id"),
            "{backend}: no request id"
        );
        let html = page.text().await.unwrap();
        assert!(
            html.matches("class=\"event-card").count() >= 10,
            "{backend}: the list is not server-rendered"
        );

        let filtered = get("/?category=training")
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            filtered.contains("badge-training") && !filtered.contains("badge-social"),
            "{backend}"
        );

        let missing = get("/no-such-page").await.unwrap();
        assert_eq!(missing.status(), 404, "{backend}");
        assert!(
            missing
                .text()
                .await
                .unwrap()
                .contains("This page does not exist")
        );

        let favicon = get("/favicon.svg").await.unwrap();
        assert_eq!(
            favicon.status(),
            200,
            "{backend}: no embedded site; build it first with `cargo xtask site`"
        );
        assert_eq!(favicon.headers()["content-type"], "image/svg+xml");
        let etag = favicon.headers()["etag"].clone();
        let again = http
            .get(server.url("/favicon.svg"))
            .header("if-none-match", etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{backend}");

        // The hydration bundle is embedded and sent pre-compressed to browsers that accept it.
        let wasm = http
            .get(server.url("/pkg/tsudoi.wasm"))
            .header("accept-encoding", "gzip, br")
            .send()
            .await
            .unwrap();
        assert_eq!(wasm.status(), 200, "{backend}");
        assert_eq!(wasm.headers()["content-type"], "application/wasm");
        assert_eq!(wasm.headers()["content-encoding"], "br");
        assert_eq!(wasm.headers()["vary"], "accept-encoding");
        let compressed = wasm.bytes().await.unwrap().len();
        let plain = http
            .get(server.url("/pkg/tsudoi.wasm"))
            .send()
            .await
            .unwrap();
        assert!(plain.headers().get("content-encoding").is_none());
        let plain = plain.bytes().await.unwrap();
        assert_eq!(&plain[..4], b"\0asm", "{backend}: not a wasm module");
        assert!(
            compressed * 2 < plain.len(),
            "{backend}: {compressed} vs {}",
            plain.len()
        );

        // Bad input is a 422 with a message for people, never a 500 or a driver message.
        let bad = get("/api/events/list?category=bogus").await.unwrap();
        assert_eq!(bad.status(), 422, "{backend}");
        let body = bad.text().await.unwrap();
        // A typed reason the page words in the reader's language.
        assert!(
            body.contains(r#"{"Invalid":{"Unknown":{"field":"Category"}}}"#),
            "{backend}: {body}"
        );
        let broken_cursor = get("/api/events/list?after=not-a-cursor").await.unwrap();
        assert_eq!(broken_cursor.status(), 422, "{backend}");
        // The list as HTML (what the page fetches when it moves to another
        // page in the browser) refuses the same input the same way.
        for bad in [
            "/api/events/list_html?category=bogus",
            "/api/events/list_html?after=not-a-cursor",
            "/api/events/list_html?from=31-12-2026",
        ] {
            let answer = get(bad).await.unwrap();
            assert_eq!(answer.status(), 422, "{backend}: {bad}");
        }
        let html: String = get("/api/events/list_html?category=seminar")
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            html.starts_with(r#"<ul class="event-list">"#)
                || html.starts_with(r#"<section class="empty-state""#),
            "{backend}: {html}"
        );

        let status = server.terminate();
        assert!(
            status.success(),
            "{backend}: graceful shutdown exited with {status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readiness_turns_503_when_postgres_goes_away() {
    let Some(server_url) = test_support::postgres_url() else {
        // SQLite is a file inside the process; "unreachable" does not apply to it.
        panic!("this test needs PostgreSQL: set TSUDOI_TEST_DATABASE_URL (cargo xtask test does)");
    };
    let t = test_support::postgres(&server_url).await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let database = t.url().rsplit('/').next().unwrap().to_string();
    let admin = sqlx::PgPool::connect(&server_url).await.unwrap();
    sqlx::query(&format!(r#"DROP DATABASE "{database}" WITH (FORCE)"#))
        .execute(&admin)
        .await
        .unwrap();

    let response = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("database is unreachable")
    );
    assert_eq!(
        http.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "liveness stays up"
    );
}

/// A server with metrics on a port of their own; answers it and that address.
fn start_with_metrics(dir: &std::path::Path, database_url: &str) -> (RunningServer, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let metrics_addr = format!("127.0.0.1:{port}");
    let server = RunningServer::start_with(
        dir,
        database_url,
        &[("TSUDOI_METRICS_ADDR", metrics_addr.as_str())],
    );
    (server, metrics_addr)
}

/// The sample line of `name` whose labels include every one of `labels`.
fn sample<'a>(text: &'a str, name: &str, labels: &[&str]) -> Option<&'a str> {
    text.lines().find(|line| {
        line.starts_with(&format!("{name}{{")) && labels.iter().all(|label| line.contains(label))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_served_on_their_own_address_with_bounded_labels() {
    let t = test_support::sqlite().await;
    tsudoi::demo::seed(&t.db, Tokyo, Utc::now(), 1)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (server, metrics_addr) = start_with_metrics(dir.path(), &t.url());
    let http = reqwest::Client::new();
    for path in [
        "/",
        "/events/1",
        "/events/2",
        "/no-such-page-4711",
        "/healthz",
    ] {
        http.get(server.url(path)).send().await.unwrap();
    }
    let refused = http
        .post(server.url("/api/auth/login"))
        .form(&[
            ("email", "nobody@example.co.jp"),
            ("password", "not a password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Never on the address everyone reaches.
    let public = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(public.status(), 404);

    let scrape = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert_eq!(
        scrape.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = scrape.text().await.unwrap();
    // Routes by their pattern: two event pages are one series.
    let events = sample(
        &text,
        "tsudoi_http_requests_total",
        &[
            r#"route="/events/{id}""#,
            r#"method="GET""#,
            r#"status="2xx""#,
        ],
    )
    .unwrap_or_else(|| panic!("no event page series in\n{text}"));
    assert!(events.ends_with(" 2"), "{events}");
    assert!(
        sample(
            &text,
            "tsudoi_http_requests_total",
            &[r#"route="unmatched""#, r#"status="4xx""#]
        )
        .is_some(),
        "{text}"
    );
    assert!(
        !text.contains("/events/1\"") && !text.contains("no-such-page"),
        "{text}"
    );
    assert!(
        sample(
            &text,
            "tsudoi_http_request_duration_seconds_bucket",
            &[r#"route="/""#, r#"le="0.2""#]
        )
        .is_some(),
        "{text}"
    );
    // What the core counts, and what is read at the scrape.
    for (name, labels) in [
        ("tsudoi_logins_total", &[r#"outcome="failed""#][..]),
        ("tsudoi_build_info", &[r#"version=""#][..]),
        ("tsudoi_mail_outbox", &[r#"state="queued""#][..]),
        ("tsudoi_db_pool_connections", &[r#"state="open""#][..]),
    ] {
        assert!(
            sample(&text, name, labels).is_some(),
            "{name} missing in\n{text}"
        );
    }
    assert!(
        text.lines().any(|l| l.starts_with("tsudoi_database_up 1")),
        "{text}"
    );
    // Prometheus's own checker (Debian's promtool, installed by `cargo xtask
    // test`) accepts the exposition, its naming rules included.
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian package prometheus) runs");
    {
        use std::io::Write;
        promtool
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let checked = promtool.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    // Every sample is NAME{LABELS} NUMBER, as the text format requires.
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(
            series
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_'),
            "{line}"
        );
    }
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_give_each_request_a_line_with_its_id_route_status_and_person() {
    let t = test_support::sqlite().await;
    let hash = tsudoi::users::password::hash("correct horse battery".into())
        .await
        .unwrap();
    let user = tsudoi::users::upsert(
        &t.db,
        &tsudoi::users::NewUser {
            email: "log@example.co.jp".into(),
            display_name: "ログ 確認".into(),
            department: None,
            role: tsudoi::model::Role::Employee,
            lang: tsudoi::model::Lang::Ja,
        },
        Some(&hash),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start_with(dir.path(), &t.url(), &[("TSUDOI_LOG_FORMAT", "json")]);
    let http = reqwest::Client::new();
    let login = http
        .post(server.url("/api/auth/login"))
        .form(&[
            ("email", "log@example.co.jp"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = support::session_cookie(login.headers()).unwrap();
    let page = http
        .get(server.url("/my-events"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let request_id = page.headers()["x-request-id"].to_str().unwrap().to_string();
    // A password link's secret is in its path; the log names the route only.
    http.get(server.url("/password/SECRET-TOKEN-IN-PATH"))
        .send()
        .await
        .unwrap();

    let mut answered = None;
    for _ in 0..100 {
        answered = server
            .output()
            .into_iter()
            .find(|line| line.contains(&request_id) && line.contains("\"answered\""));
        if answered.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let line =
        answered.unwrap_or_else(|| panic!("no line for {request_id}:\n{:?}", server.output()));
    let entry: serde_json::Value = serde_json::from_str(&line).unwrap();
    let span = &entry["span"];
    assert_eq!(span["request_id"], request_id, "{line}");
    assert_eq!(span["method"], "GET", "{line}");
    assert_eq!(span["route"], "/my-events", "{line}");
    assert_eq!(span["user_id"], user, "{line}");
    assert_eq!(entry["fields"]["status"], 200, "{line}");
    assert!(
        entry["fields"]["duration_ms"].as_f64().unwrap() > 0.0,
        "{line}"
    );
    // Every line is one JSON object, and no path with a secret is in any.
    for _ in 0..100 {
        if server
            .output()
            .iter()
            .any(|line| line.contains("/password/{token}"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let output = server.output();
    for line in &output {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok() || !line.starts_with('{'),
            "{line}"
        );
        assert!(!line.contains("SECRET-TOKEN-IN-PATH"), "{line}");
    }
    assert!(
        output.iter().any(|line| line.contains("/password/{token}")),
        "{output:?}"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_known_registrations_and_logins_exactly() {
    let t = test_support::sqlite().await;
    let emails = support::add_employees(&t.db, 0..7).await;
    let event_id = support::open_seminar(&t.db, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let (server, metrics_addr) = start_with_metrics(dir.path(), &t.url());
    let http = reqwest::Client::new();
    let wrong = http
        .post(server.url("/api/auth/login"))
        .form(&[
            ("email", "person0@example.co.jp"),
            ("password", "not the password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    // Seven people register for five seats: five seats, two on the waitlist.
    for email in &emails {
        let login = http
            .post(server.url("/api/auth/login"))
            .form(&[
                ("email", email.as_str()),
                ("password", support::EMPLOYEE_PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        let cookie = support::session_cookie(login.headers()).unwrap();
        let registered = http
            .post(server.url("/api/events/register"))
            .header("cookie", cookie)
            .form(&[("event_id", event_id.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 200, "{email}");
    }
    // The list page twice with nothing written between: computed, then cached.
    for _ in 0..2 {
        let page = http.get(server.url("/")).send().await.unwrap();
        assert_eq!(page.status(), 200);
    }
    let text = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (name, labels, value) in [
        (
            "tsudoi_registrations_total",
            &[r#"outcome="seat""#][..],
            " 5",
        ),
        (
            "tsudoi_registrations_total",
            &[r#"outcome="waitlist""#][..],
            " 2",
        ),
        ("tsudoi_logins_total", &[r#"outcome="ok""#][..], " 7"),
        ("tsudoi_logins_total", &[r#"outcome="failed""#][..], " 1"),
        (
            "tsudoi_http_request_duration_seconds_count",
            &[r#"route="/api/events/register""#, r#"status="2xx""#][..],
            " 7",
        ),
        (
            "tsudoi_http_requests_total",
            &[r#"route="/api/auth/login""#, r#"status="4xx""#][..],
            " 1",
        ),
        (
            "tsudoi_cache_requests_total",
            &[r#"cache="event_list""#, r#"result="miss""#][..],
            " 1",
        ),
        (
            "tsudoi_cache_requests_total",
            &[r#"cache="event_list""#, r#"result="hit""#][..],
            " 1",
        ),
        ("tsudoi_db_pool_connections", &[r#"state="max""#][..], ""),
    ] {
        let line = sample(&text, name, labels)
            .unwrap_or_else(|| panic!("{name} {labels:?} missing in\n{text}"));
        assert!(line.ends_with(value), "{line}: expected{value}");
    }
    // One after another, each registration was a group of one.
    for line in [
        "tsudoi_registration_group_size_count 7",
        "tsudoi_registration_group_size_sum 7",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    server.terminate();
}
