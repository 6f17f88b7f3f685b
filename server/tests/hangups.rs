//! Clients that go away mid-answer — a closed tab, a phone losing signal,
//! a load generator stopping — end their requests quietly: no panic, no
//! error line, and the server goes on answering.

mod support;

use std::time::Duration;

use chrono::Utc;
use chrono_tz::Asia::Tokyo;
use support::RunningServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tsudoi::storage::test_support;

/// Sends a GET for `path` and hangs up after `read` bytes of the answer
/// (none: right after sending).
async fn hang_up(address: &str, path: &str, cookie: &str, read: usize) {
    let Ok(mut stream) = TcpStream::connect(address).await else {
        return;
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nAccept: text/html\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).await.is_err() {
        return;
    }
    let mut buffer = vec![0u8; read];
    if read > 0 {
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buffer)).await;
    }
    // Dropping the stream closes it; with unread data the kernel answers RST.
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_cut_off_mid_answer_end_without_panics_or_errors() {
    let t = test_support::sqlite().await;
    let demo = tsudoi::demo::seed(&t.db, Tokyo, Utc::now(), 1)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let address = server.base_url.trim_start_matches("http://").to_string();

    let http = reqwest::Client::new();
    let cookie = support::log_in(
        &http,
        &server,
        "demo.admin@example.co.jp",
        &demo.login.password,
    )
    .await;
    let tsudoi::storage::Pool::Sqlite(pool) = t.db.pool() else {
        unreachable!("a SQLite test database")
    };
    let event_id: i64 = sqlx::query_scalar("SELECT MIN(id) FROM events WHERE status = 'published'")
        .fetch_one(pool)
        .await
        .unwrap();

    let paths = [
        "/".to_string(),
        "/events".to_string(),
        format!("/events/{event_id}"),
        "/my-events".to_string(),
        "/organize".to_string(),
        format!("/organize/{event_id}"),
        format!("/organize/{event_id}/attendees"),
        format!("/organize/{event_id}/edit"),
        format!("/events/{event_id}/door"),
        "/admin/users".to_string(),
        "/admin/audit".to_string(),
        "/admin/outbox".to_string(),
        "/admin/overview".to_string(),
        "/account".to_string(),
        "/api/events/list".to_string(),
    ];
    // Many at once, cut at every stage: before the answer, in its headers,
    // in the middle of a streamed page.
    let mut cuts = Vec::new();
    for round in 0..6 {
        for (n, path) in paths.iter().enumerate() {
            for read in [0, 16, 700, 4_000] {
                let (address, path, cookie) = (address.clone(), path.clone(), cookie.clone());
                cuts.push(tokio::spawn(async move {
                    hang_up(&address, &path, &cookie, read + round + n).await;
                }));
            }
        }
    }
    for cut in cuts {
        cut.await.unwrap();
    }
    // And clients that give up waiting, as a load generator does at its end.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(2))
        .build()
        .unwrap();
    for _ in 0..50 {
        for path in &paths {
            let _ = impatient
                .get(server.url(path))
                .header("cookie", &cookie)
                .send()
                .await;
        }
    }

    // Still serving, and its log says nothing went wrong.
    for path in &paths {
        let answer = http
            .get(server.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let output = server.output();
    let troubled: Vec<&String> = output
        .iter()
        .filter(|line| {
            line.contains("panicked")
                || line.contains(" ERROR ")
                || line.contains("\"level\":\"ERROR\"")
                || line.starts_with("stderr: ")
        })
        .collect();
    assert!(troubled.is_empty(), "{troubled:#?}");
    assert!(
        output
            .iter()
            .filter(|line| line.contains("answered"))
            .count()
            > paths.len(),
        "the requests were logged"
    );
    server.terminate();
}
