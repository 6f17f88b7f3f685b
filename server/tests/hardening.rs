//! The real binary against an attacker and a careless client: markup in every
//! text an organizer or a person controls, redirect targets after login,
//! requests that used to panic the server, oversized bodies, unknown methods,
//! and sessions after a password change.
//!
//! The argument fuzzer over every server function is in `fuzz.rs`, the
//! stalled database in `stall.rs`.

mod support;

use std::time::Duration;

use chrono::Utc;
use reqwest::header;
use reqwest::{Client, StatusCode};
use support::{RunningServer, session_cookie};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tsudoi::events::{EventDraft, manage};
use tsudoi::model::{Category, Lang, Role};
use tsudoi::storage::Database;
use tsudoi::storage::test_support;
use tsudoi::users::{self, NewUser, password};

const PASSWORD: &str = "correct horse battery";

/// Markup that would do harm if it reached a page as HTML, in the places
/// browsers are most forgiving: the head, an attribute, a textarea, a script.
const TITLE: &str = r#"</title><meta http-equiv="refresh" content="0;url=https://evil.example/">"#;
const DESCRIPTION: &str = "</textarea><script>alert('description')</script>";
const PLACE: &str = r#""><img src=x onerror=alert('place')>"#;
const NAME: &str = "<svg onload=alert('name')>";
const DEPARTMENT: &str = "</text><script>alert('department')</script>";

/// Fragments none of those may produce in a page: the markup as markup.
const LIVE_MARKUP: [&str; 6] = [
    "<meta http-equiv",
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "</textarea><script",
    "</title><meta",
];

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn add_user(
    db: &Database,
    email: &str,
    name: &str,
    department: Option<&str>,
    role: Role,
) -> i64 {
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let user = NewUser {
        email: email.into(),
        display_name: name.into(),
        department: department.map(str::to_string),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &user, Some(&hash)).await.unwrap()
}

async fn logged_in(server: &RunningServer, email: &str) -> String {
    let response = client()
        .post(server.url("/api/auth/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "login of {email}");
    session_cookie(response.headers()).expect("a session cookie")
}

async fn page(server: &RunningServer, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = client().get(server.url(path));
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn assert_no_live_markup(path: &str, body: &str) {
    for markup in LIVE_MARKUP {
        assert!(
            !body.contains(markup),
            "{path}: `{markup}` reached the page as markup"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_from_organizers_and_people_is_text_on_every_page() {
    let t = test_support::sqlite().await;
    let db = &t.db;
    let organizer = add_user(
        db,
        "org@example.co.jp",
        NAME,
        Some(DEPARTMENT),
        Role::Organizer,
    )
    .await;
    let attendee = add_user(
        db,
        "emp@example.co.jp",
        NAME,
        Some(DEPARTMENT),
        Role::Employee,
    )
    .await;
    let now = Utc::now();
    let draft = EventDraft {
        title_ja: Some(TITLE.into()),
        title_en: Some(TITLE.into()),
        description_ja: DESCRIPTION.into(),
        description_en: DESCRIPTION.into(),
        category: Category::Seminar,
        place: PLACE.into(),
        starts_at: now + chrono::Duration::days(3),
        ends_at: now + chrono::Duration::days(3) + chrono::Duration::hours(2),
        capacity: 20,
        registration_opens_at: None,
        registration_closes_at: None,
    };
    let event_id = manage::create(db, organizer, &draft, true, now)
        .await
        .unwrap();
    let registration = tsudoi::registrations::register(db, event_id, attendee, now)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());

    let (status, body) = page(&server, &format!("/events/{event_id}"), None).await;
    assert_eq!(status, 200);
    assert_no_live_markup("event page", &body);
    let head = &body[..body.find("</head>").expect("a head")];
    assert!(
        head.contains("&lt;/title&gt;&lt;meta http-equiv="),
        "the title is in the head as text: {head}"
    );
    let (_, list) = page(&server, "/", None).await;
    assert_no_live_markup("event list", &list);
    assert!(
        list.contains("&lt;/title&gt;"),
        "the title is listed as text"
    );

    let organizer_cookie = logged_in(&server, "org@example.co.jp").await;
    for path in [
        format!("/organize/{event_id}/edit"),
        format!("/organize/{event_id}"),
        format!("/organize/{event_id}/attendees"),
        format!("/events/{event_id}/door"),
        "/organize".to_string(),
    ] {
        let (status, body) = page(&server, &path, Some(&organizer_cookie)).await;
        assert_eq!(status, 200, "{path}");
        assert_no_live_markup(&path, &body);
    }
    let (_, editor) = page(
        &server,
        &format!("/organize/{event_id}/edit"),
        Some(&organizer_cookie),
    )
    .await;
    assert!(
        editor.contains("&lt;/textarea&gt;&lt;script&gt;"),
        "the description is inside its textarea as text"
    );

    let attendee_cookie = logged_in(&server, "emp@example.co.jp").await;
    for path in [
        "/my-events".to_string(),
        format!("/tickets/{}", registration.id),
        "/account".to_string(),
    ] {
        let (status, body) = page(&server, &path, Some(&attendee_cookie)).await;
        assert_eq!(status, 200, "{path}");
        assert_no_live_markup(&path, &body);
    }

    // The event's calendar file is not HTML, but the text in it must stay
    // one property each: no line breaks that start properties of their own.
    let ics = client()
        .get(server.url(&format!("/events/{event_id}/calendar.ics")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let summaries = ics.lines().filter(|l| l.starts_with("SUMMARY")).count();
    assert_eq!(summaries, 1, "{ics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_login_only_a_local_path_is_followed() {
    let t = test_support::sqlite().await;
    add_user(
        &t.db,
        "hanako@example.co.jp",
        "佐藤 花子",
        None,
        Role::Employee,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());

    let mut attempts: Vec<String> = [
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/%2f%2fevil.example",
        "/%2F%2Fevil.example",
        "%2f%2fevil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/%5cevil.example",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for byte in (0u8..0x20).chain([0x7f]) {
        attempts.push(format!("/{}/evil.example", char::from(byte)));
        attempts.push(format!("/%{byte:02X}/evil.example"));
    }
    // A plain form (what a browser without JavaScript sends) is answered
    // with a redirect built from `next`: it must always be ours. The per-
    // address limit does not count successful logins.
    for next in &attempts {
        let response = client()
            .post(server.url("/api/auth/login"))
            .header(header::ACCEPT, "text/html")
            .form(&[
                ("email", "hanako@example.co.jp"),
                ("password", PASSWORD),
                ("next", next.as_str()),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{next:?}: no answer: {e}"));
        assert_eq!(response.status(), StatusCode::FOUND, "{next:?}");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(location, "/", "{next:?} became {location:?}");
    }
    let response = client()
        .post(server.url("/api/auth/login"))
        .header(header::ACCEPT, "text/html")
        .form(&[
            ("email", "hanako@example.co.jp"),
            ("password", PASSWORD),
            ("next", "/events?q=研修"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()[header::LOCATION],
        "/events?q=%E7%A0%94%E4%BF%AE",
        "a local path with Japanese is kept, encoded"
    );
}

/// Sends `raw` as it is and returns what came back before the server closed
/// (empty when it closed without an answer).
async fn raw_exchange(server: &RunningServer, raw: &[u8]) -> String {
    let address = server.base_url.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(raw).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_that_used_to_panic_the_server_are_answered() {
    let t = test_support::sqlite().await;
    add_user(&t.db, "admin@example.co.jp", "管理 者", None, Role::Admin).await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let admin = logged_in(&server, "admin@example.co.jp").await;

    // A raw CONNECT names an authority, not a path.
    let answer = raw_exchange(
        &server,
        b"CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 405"), "CONNECT: {answer:?}");
    for method in ["PUT", "DELETE", "PATCH", "TRACE"] {
        let status = client()
            .request(method.parse().unwrap(), server.url("/"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }

    // The upload endpoint without a multipart boundary, anonymous and as an admin.
    for cookie in [None, Some(admin.as_str())] {
        for content_type in [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "application/x-www-form-urlencoded",
            "text/plain",
        ] {
            let mut request = client()
                .post(server.url("/api/admin/users/import"))
                .header(header::CONTENT_TYPE, content_type)
                .body("email,name\na@b.co,A\n");
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            let response = request.send().await.unwrap_or_else(|e| {
                panic!("{content_type} ({cookie:?}): the connection closed: {e}")
            });
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type}");
        }
    }

    // A successful plain-form login whose `next` holds a line break: the
    // Location header used to be built from it as it was.
    for next in ["/%0A", "/\n", "/\r\nSet-Cookie: x=y", "/イベント"] {
        let response = client()
            .post(server.url("/api/auth/login"))
            .header(header::ACCEPT, "text/html")
            .form(&[
                ("email", "admin@example.co.jp"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{next:?}: the connection closed: {e}"));
        assert_eq!(response.status(), StatusCode::FOUND, "{next:?}");
        assert!(response.headers().get("x").is_none());
    }

    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "still healthy");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_are_refused_with_413() {
    let t = test_support::sqlite().await;
    add_user(&t.db, "admin@example.co.jp", "管理 者", None, Role::Admin).await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let admin = logged_in(&server, "admin@example.co.jp").await;
    let big = "x".repeat(3 * 1024 * 1024);

    // Announced by Content-Length.
    let response = client()
        .post(server.url("/api/auth/login"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("email=a%40b.co&password={big}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Streamed without a length (chunked): cut off while reading.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..3).map(|_| Ok("y".repeat(1024 * 1024))).collect();
    let response = client()
        .post(server.url("/api/organize/publish"))
        .header(header::COOKIE, &admin)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // An upload over the CSV limit.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![b'a'; 6 * 1024 * 1024]).file_name("staff.csv"),
    );
    let response = client()
        .post(server.url("/api/admin/users/import"))
        .header(header::COOKIE, &admin)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_password_change_ends_the_other_sessions_and_keeps_this_one() {
    for t in test_support::backends().await {
        let backend = t.db.backend().name();
        add_user(
            &t.db,
            "hanako@example.co.jp",
            "佐藤 花子",
            None,
            Role::Employee,
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start(dir.path(), &t.url());
        let laptop = logged_in(&server, "hanako@example.co.jp").await;
        let phone = logged_in(&server, "hanako@example.co.jp").await;
        let account = |cookie: String| {
            let server_url = server.url("/api/auth/account");
            async move {
                client()
                    .get(server_url)
                    .header(header::COOKIE, cookie)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }
        };
        assert_eq!(account(phone.clone()).await, 200, "{backend}");

        let changed = client()
            .post(server.url("/api/auth/password"))
            .header(header::COOKIE, &laptop)
            .form(&[
                ("current", PASSWORD),
                ("new", "a much better secret"),
                ("repeat", "a much better secret"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), 200, "{backend}");
        let renewed = session_cookie(changed.headers())
            .expect("the session moves to a new id with the new password");
        assert_ne!(renewed, laptop, "{backend}");
        assert_eq!(
            account(renewed).await,
            200,
            "{backend}: this session goes on"
        );
        assert_eq!(
            account(phone).await,
            StatusCode::UNAUTHORIZED,
            "{backend}: the other session is over"
        );
        assert_eq!(
            account(laptop).await,
            StatusCode::UNAUTHORIZED,
            "{backend}: the old id of this session is worthless"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_password_change_endpoint_is_limited_like_the_login() {
    let t = test_support::sqlite().await;
    add_user(
        &t.db,
        "hanako@example.co.jp",
        "佐藤 花子",
        None,
        Role::Employee,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let cookie = logged_in(&server, "hanako@example.co.jp").await;
    let guesses: Vec<_> = (0..12)
        .map(|n| {
            client()
                .post(server.url("/api/auth/password"))
                .header(header::COOKIE, &cookie)
                .form(&[
                    ("current", format!("guess {n}")),
                    ("new", "a much better secret".to_string()),
                    ("repeat", "a much better secret".to_string()),
                ])
                .send()
        })
        .collect();
    let mut statuses = Vec::new();
    for guess in futures_util::future::join_all(guesses).await {
        statuses.push(guess.unwrap().status().as_u16());
    }
    let checked = statuses.iter().filter(|&&s| s == 422).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!((checked, refused), (5, 7), "{statuses:?}");
}
