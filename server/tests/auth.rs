//! Accounts and security over HTTP against the real binary: session renewal at
//! login, logout, CSRF, login throttling, security headers, the role × action
//! matrix, the CSV upload, and Redis-backed sessions across a restart and an outage.

mod support;

use std::time::Duration;

use reqwest::header;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use support::{RunningServer, session_cookie};
use tsudoi::model::{Lang, Role};
use tsudoi::storage::Database;
use tsudoi::storage::test_support::{self, RedisRelay};
use tsudoi::users::{self, NewUser, password};

const PASSWORD: &str = "correct horse battery";
const COOKIE: &str = "tsudoi_session";

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn add_user(db: &Database, email: &str, name: &str, role: Role) -> i64 {
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let user = NewUser {
        email: email.into(),
        display_name: name.into(),
        department: Some("総務部".into()),
        role,
        lang: Lang::Ja,
    };
    users::upsert(db, &user, Some(&hash)).await.unwrap()
}

struct Login {
    status: StatusCode,
    cookie: Option<String>,
    body: String,
}

async fn log_in(
    server: &RunningServer,
    email: &str,
    password: &str,
    cookie: Option<&str>,
) -> Login {
    let mut request = client()
        .post(server.url("/api/auth/login"))
        .form(&[("email", email), ("password", password)]);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let cookie = session_cookie(response.headers());
    Login {
        status,
        cookie,
        body: response.text().await.unwrap(),
    }
}

async fn logged_in(server: &RunningServer, email: &str) -> String {
    let login = log_in(server, email, PASSWORD, None).await;
    assert!(
        login.status.is_success(),
        "login of {email}: {} {}",
        login.status,
        login.body
    );
    login.cookie.expect("a session cookie after login")
}

/// The viewer `/api/auth/me` reports for `cookie`: their e-mail, or None.
async fn me(server: &RunningServer, cookie: &str) -> Option<String> {
    let response = client()
        .get(server.url("/api/auth/me"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body.get("email")
        .and_then(Value::as_str)
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn login_renews_the_session_id_and_logout_kills_it_on_every_backend() {
    for t in test_support::backends().await {
        let backend = t.db.backend().name();
        add_user(&t.db, "hanako@example.co.jp", "佐藤 花子", Role::Employee).await;
        let dir = tempfile::tempdir().unwrap();
        let server = RunningServer::start(dir.path(), &t.url());

        let first = logged_in(&server, "hanako@example.co.jp").await;
        assert_eq!(
            me(&server, &first).await.as_deref(),
            Some("hanako@example.co.jp"),
            "{backend}"
        );
        let set_cookie = client()
            .post(server.url("/api/auth/login"))
            .form(&[("email", "hanako@example.co.jp"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let flags = set_cookie
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(COOKIE))
            .unwrap()
            .to_lowercase();
        assert!(
            flags.contains("httponly")
                && flags.contains("samesite=lax")
                && flags.contains("path=/"),
            "{backend}: {flags}"
        );
        assert!(
            !flags.contains("secure"),
            "{backend}: http public_url must not set Secure: {flags}"
        );

        // Session fixation: logging in while holding a session id yields a new
        // id, and the old one is worthless afterwards.
        let second = log_in(&server, "hanako@example.co.jp", PASSWORD, Some(&first)).await;
        let second = second.cookie.expect("new cookie");
        assert_ne!(second, first, "{backend}: id not renewed at login");
        assert_eq!(
            me(&server, &first).await,
            None,
            "{backend}: old id still logged in"
        );
        assert_eq!(
            me(&server, &second).await.as_deref(),
            Some("hanako@example.co.jp")
        );
        let planted = format!("{COOKIE}=AAAAAAAAAAAAAAAAAAAAAA");
        let after_plant = log_in(&server, "hanako@example.co.jp", PASSWORD, Some(&planted)).await;
        assert_ne!(
            after_plant.cookie.as_deref(),
            Some(planted.as_str()),
            "{backend}"
        );

        // Logout destroys the session on the server: a copy of the cookie is useless.
        let logout = client()
            .post(server.url("/api/auth/logout"))
            .header(header::COOKIE, &second)
            .send()
            .await
            .unwrap();
        assert!(
            logout.status().is_success(),
            "{backend}: {}",
            logout.status()
        );
        assert_eq!(
            me(&server, &second).await,
            None,
            "{backend}: cookie alive after logout"
        );
        let account = client()
            .get(server.url("/account"))
            .header(header::COOKIE, &second)
            .send()
            .await
            .unwrap();
        assert!(
            account.text().await.unwrap().contains("Please log in"),
            "{backend}"
        );

        // A deactivated account loses its open sessions at once.
        let third = logged_in(&server, "hanako@example.co.jp").await;
        sqlx_deactivate(&t.db, "hanako@example.co.jp").await;
        assert_eq!(
            me(&server, &third).await,
            None,
            "{backend}: deactivated user still in"
        );
    }
}

async fn sqlx_deactivate(db: &Database, email: &str) {
    let admin = add_user(db, "root-admin@example.co.jp", "Root", Role::Admin).await;
    let page = users::list(db, Some(email), None, 10).await.unwrap();
    users::set_active(db, admin, page.items[0].id, false)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_site_writes_are_refused_and_same_site_forms_work_without_javascript() {
    let t = test_support::sqlite().await;
    add_user(&t.db, "taro@example.co.jp", "Taro", Role::Employee).await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let host = server.base_url.trim_start_matches("http://").to_string();
    let form = [("email", "taro@example.co.jp"), ("password", PASSWORD)];
    let post = |headers: &[(&str, &str)]| {
        let mut request = client().post(server.url("/api/auth/login")).form(&form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };

    for hostile in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
    ] {
        let response = post(&hostile).await.unwrap();
        assert_eq!(response.status(), 403, "{hostile:?}");
        assert!(
            session_cookie(response.headers()).is_none(),
            "{hostile:?} logged in"
        );
    }

    // A hydrated page calling the server function (fetch, same origin).
    let origin = server.base_url.clone();
    let fetch = post(&[("sec-fetch-site", "same-origin"), ("origin", &origin)])
        .await
        .unwrap();
    assert!(fetch.status().is_success(), "{}", fetch.status());
    assert!(session_cookie(fetch.headers()).is_some());

    // The same form posted by a browser without JavaScript: a redirect to the
    // page it asked for, logged in.
    let referer = format!("{}/login?next=/account", server.base_url);
    let no_js = client()
        .post(server.url("/api/auth/login"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("origin", &origin)
        .header("host", &host)
        .header("referer", &referer)
        .form(&[
            ("email", "taro@example.co.jp"),
            ("password", PASSWORD),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_js.status(), 302);
    assert_eq!(no_js.headers().get(header::LOCATION).unwrap(), "/account");
    let cookie = session_cookie(no_js.headers()).expect("logged in without JavaScript");
    assert_eq!(
        me(&server, &cookie).await.as_deref(),
        Some("taro@example.co.jp")
    );

    // A wrong password without JavaScript comes back to the form with the error in the URL.
    let failed = client()
        .post(server.url("/api/auth/login"))
        .header("accept", "text/html")
        .header("referer", &referer)
        .form(&[
            ("email", "taro@example.co.jp"),
            ("password", "wrong password!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(failed.status(), 302);
    let back = failed
        .headers()
        .get(header::LOCATION)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        back.starts_with(&referer) && back.contains("__err="),
        "{back}"
    );
    let page = client()
        .get(&back)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("e-mail address or password is not correct"),
        "error not shown on the form"
    );

    // An open redirect through `next` is not possible.
    let outside = client()
        .post(server.url("/api/auth/login"))
        .header("accept", "text/html")
        .form(&[
            ("email", "taro@example.co.jp"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(outside.headers().get(header::LOCATION).unwrap(), "/");

    // State-changing server functions do not answer GET.
    let get_logout = client()
        .get(server.url("/api/auth/logout"))
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        !get_logout.status().is_success(),
        "GET logout answered {}",
        get_logout.status()
    );
    assert_eq!(
        me(&server, &cookie).await.as_deref(),
        Some("taro@example.co.jp")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failed_logins_are_throttled_with_the_time_to_wait() {
    let t = test_support::sqlite().await;
    add_user(&t.db, "target@example.co.jp", "Target", Role::Employee).await;
    add_user(&t.db, "admin@example.co.jp", "Admin", Role::Admin).await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());

    for attempt in 1..=5 {
        let login = log_in(&server, "target@example.co.jp", "not the password", None).await;
        assert_eq!(login.status, 401, "attempt {attempt}: {}", login.body);
        assert!(login.body.contains("Unauthenticated"), "{}", login.body);
    }
    let blocked = log_in(&server, "target@example.co.jp", PASSWORD, None).await;
    assert_eq!(blocked.status, 429, "{}", blocked.body);
    let error: Value = serde_json::from_str(&blocked.body).unwrap();
    let wait = error["Domain"]["TooManyAttempts"]["retry_after_secs"]
        .as_u64()
        .unwrap();
    assert!((890..=900).contains(&wait), "{}", blocked.body);
    // The page shows the error's text, which says how long to wait.
    let shown = tsudoi::Error::TooManyAttempts {
        retry_after_secs: wait,
    }
    .to_string();
    assert!(shown.contains("Try again in 15 minutes"), "{shown}");
    assert!(blocked.cookie.is_none());

    // Other accounts from the same address still work, and the failures are audited.
    let admin = logged_in(&server, "admin@example.co.jp").await;
    let audit: Value = client()
        .get(server.url("/api/admin/audit"))
        .header(header::COOKIE, &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["page"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap_or_default())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "login_failed").count() >= 5,
        "{actions:?}"
    );
    assert!(actions.contains(&"login_throttled"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_carry_security_headers_and_a_nonce_policy() {
    let t = test_support::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start(dir.path(), &t.url());
    let page = client().get(server.url("/login")).send().await.unwrap();
    let headers = page.headers().clone();
    let html = page.text().await.unwrap();
    let policy = headers
        .get(header::CONTENT_SECURITY_POLICY)
        .unwrap()
        .to_str()
        .unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the page policy");
    assert!(nonce.len() >= 16, "{policy}");
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "hydration scripts do not carry the nonce"
    );
    // Scripts carry it, never a preload: in `crossorigin` a nonce is not a
    // value HTML allows, and a browser may drop the preload.
    assert!(
        !html.contains(&format!("crossorigin=\"{nonce}\"")),
        "a preload carries the nonce: {html}"
    );
    assert!(
        html.contains("<link rel=\"modulepreload\" href=\"/pkg/tsudoi.js\">")
            && html.contains("as=\"fetch\" type=\"application/wasm\" crossorigin=\"\""),
        "{html}"
    );
    assert!(
        policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(
        headers.get("referrer-policy").unwrap(),
        "strict-origin-when-cross-origin"
    );

    let second = client().get(server.url("/login")).send().await.unwrap();
    assert_ne!(
        second
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap(),
        policy,
        "nonce reused"
    );
    let asset = client()
        .get(server.url("/favicon.svg"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        asset
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap(),
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
    );
}

async fn account_page(server: &RunningServer, cookie: &str) -> (StatusCode, String) {
    let response = client()
        .get(server.url("/account"))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_sessions_survive_a_restart_and_an_outage_answers_503_then_recovers() {
    let t = test_support::sqlite().await;
    add_user(&t.db, "kenji@example.co.jp", "高橋 健二", Role::Employee).await;
    let relay = RedisRelay::start().await;
    let redis_url = relay.url();
    let settings = [("TSUDOI_REDIS_URL", redis_url.as_str())];
    let dir = tempfile::tempdir().unwrap();

    let first = RunningServer::start_with(dir.path(), &t.url(), &settings);
    let cookie = logged_in(&first, "kenji@example.co.jp").await;
    assert!(first.terminate().success());

    // A new process, nothing in memory: the login lives in Redis.
    let server = RunningServer::start_with(dir.path(), &t.url(), &settings);
    assert_eq!(
        me(&server, &cookie).await.as_deref(),
        Some("kenji@example.co.jp")
    );
    let (status, page) = account_page(&server, &cookie).await;
    assert_eq!(status, 200);
    assert!(page.contains("高橋 健二"));

    relay.cut();
    let (status, page) = account_page(&server, &cookie).await;
    assert_eq!(status, 503, "{page}");
    assert!(
        page.contains("Temporarily unavailable"),
        "no clear outage page"
    );
    // What needs no login keeps working.
    assert_eq!(
        client()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client().get(server.url("/")).send().await.unwrap().status(),
        200
    );

    relay.restore();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, page) = account_page(&server, &cookie).await;
        if status == 200 && page.contains("高橋 健二") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "did not recover after Redis came back: {status}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
