//! What a page costs the database in reads of who is asking, counted in the
//! server's own log of its statements (sqlx writes each one at DEBUG under
//! `sqlx::query`): the person behind a request is looked up once, however
//! many parts of the page ask at the same time, and on the embedded database
//! a known login is read from memory, not from the sessions table. With
//! PostgreSQL another instance may end a session, so each request reads it.

mod support;

use std::time::{Duration, Instant};

use support::RunningServer;
use tsudoi::storage::{Backend, test_support};

/// The statement behind `users::current`, as the log line quotes it.
const USER_LOOKUP: &str = "FROM users WHERE id = $1 AND active";

struct Reads {
    user_lookups: usize,
    session_reads: usize,
}

/// The log lines written while `path` was requested and answered.
async fn reads_for(
    server: &RunningServer,
    http: &reqwest::Client,
    cookie: &str,
    path: &str,
) -> Reads {
    let answered = |lines: &[String]| lines.iter().filter(|l| l.contains("answered")).count();
    let before = server.output();
    let answered_before = answered(&before);
    let answer = http
        .get(server.url(path))
        .header("Cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{path}");
    let body = answer.text().await.unwrap();
    assert!(body.contains("</html>"), "{path}: a whole page");
    // The request's own "answered" line comes after its statements.
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines = loop {
        let lines = server.output();
        if answered(&lines) > answered_before {
            break lines;
        }
        assert!(Instant::now() < deadline, "{path}: no answered line");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let during = &lines[before.len()..];
    Reads {
        user_lookups: during.iter().filter(|l| l.contains(USER_LOOKUP)).count(),
        session_reads: during
            .iter()
            .filter(|l| l.to_lowercase().contains("select data from"))
            .count(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_page_looks_up_its_viewer_once() {
    for t in test_support::backends().await {
        let backend = t.db.backend();
        let people = support::add_employees(&t.db, 0..1).await;
        let event = support::open_seminar(&t.db, 10).await;
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start_with(
            dir.path(),
            &t.url(),
            &[("RUST_LOG", "info,sqlx::query=debug")],
        );
        let http = reqwest::Client::new();
        let cookie = support::log_in(&http, &server, &people[0], support::EMPLOYEE_PASSWORD).await;
        let registered = http
            .post(server.url("/api/events/register"))
            .header("Cookie", &cookie)
            .form(&[("event_id", event.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 200);

        // The event page asks in its header, its door link and its data;
        // My events in its header, its list and its calendar link.
        for path in ["/", &format!("/events/{event}"), "/my-events"] {
            let reads = reads_for(&server, &http, &cookie, path).await;
            assert_eq!(reads.user_lookups, 1, "{backend:?} {path}: user lookups");
            let expected_session_reads = match backend {
                Backend::Sqlite => 0,
                Backend::Postgres => 1,
            };
            assert_eq!(
                reads.session_reads, expected_session_reads,
                "{backend:?} {path}: reads of the sessions table"
            );
        }
    }
}
