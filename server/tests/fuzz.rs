//! Every server function against a careless or hostile client, on the real
//! binary: missing, repeated, wrongly typed, oversized and malformed
//! arguments, the wrong method and the wrong encoding, as a visitor and as
//! an administrator (who gets furthest into the code).
//!
//! Passes when no answer is a 5xx, no connection closes without an answer,
//! and the server is healthy afterwards. The server functions are read from
//! the app's source (`#[server(endpoint = …)]` and the signature below it),
//! so a new one is fuzzed without anyone remembering to add it here.
//!
//! Both backends, since each refuses different things (a NUL in text is
//! an error only on PostgreSQL). CI runs a bounded set (`TSUDOI_FUZZ_ROUNDS`, default 1); set it higher to
//! add that many rounds of random values on top of the fixed ones.

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header;
use reqwest::{Client, Method};
use support::{RunningServer, session_cookie};
use tsudoi::model::{Lang, Role};
use tsudoi::storage::test_support::{self, TestDatabase};
use tsudoi::users::{self, NewUser, password};

const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Query,
    Form,
    Json,
    Multipart,
}

#[derive(Debug, Clone)]
struct ServerFunction {
    endpoint: String,
    encoding: Encoding,
    arguments: Vec<(String, String)>,
}

impl ServerFunction {
    fn path(&self) -> String {
        format!("/api/{}", self.endpoint)
    }

    fn method(&self) -> Method {
        if self.encoding == Encoding::Query {
            Method::GET
        } else {
            Method::POST
        }
    }
}

/// The `#[server(…)]` functions in the app's source, with their arguments.
fn server_functions() -> Vec<ServerFunction> {
    let mut files = Vec::new();
    collect_rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src"),
        &mut files,
    );
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find("#[server(") {
            rest = &rest[at..];
            let attribute = &rest[..rest.find(")]").unwrap()];
            let endpoint = attribute
                .split("endpoint = \"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_else(|| {
                    panic!("{}: a server function without an endpoint", file.display())
                })
                .to_string();
            let encoding = if attribute.contains("GetUrl") {
                Encoding::Query
            } else if attribute.contains("input = Json") {
                Encoding::Json
            } else if attribute.contains("Multipart") {
                Encoding::Multipart
            } else {
                Encoding::Form
            };
            let signature_start = rest.find("pub async fn").unwrap();
            let signature = &rest[signature_start..];
            let open = signature.find('(').unwrap();
            let arguments = parse_arguments(&signature[open + 1..]);
            found.push(ServerFunction {
                endpoint,
                encoding,
                arguments,
            });
            rest = &rest[signature_start..];
        }
    }
    found.sort_by(|a, b| a.endpoint.cmp(&b.endpoint));
    found
}

fn collect_rust_files(dir: &Path, into: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

/// `name: Type, …)` up to the closing parenthesis, split at top-level commas.
fn parse_arguments(list: &str) -> Vec<(String, String)> {
    let mut depth = 0;
    let mut end = 0;
    for (i, c) in list.char_indices() {
        match c {
            '(' | '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            ')' if depth == 0 => {
                end = i;
                break;
            }
            ')' => depth -= 1,
            _ => {}
        }
    }
    let mut arguments = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in list[..end].chars().chain([',']) {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                if let Some((name, ty)) = current.split_once(':') {
                    arguments.push((name.trim().to_string(), ty.trim().to_string()));
                }
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    arguments
}

/// A value of the right type for an argument, so the other arguments can be
/// tried wrong one at a time.
fn plausible(ty: &str) -> &'static str {
    if ty.contains("i64") || ty.contains("i32") || ty.contains("u32") {
        "1"
    } else if ty.contains("bool") {
        "true"
    } else {
        "plausible"
    }
}

/// Values that are wrong for most arguments in some way.
fn hostile_values(random: &mut impl FnMut() -> u64) -> Vec<String> {
    let mut values: Vec<String> = [
        "",
        "abc",
        "-1",
        "0",
        "1.5",
        "99999999999999999999",
        "-9223372036854775809",
        "9223372036854775807",
        "NaN",
        "true",
        "null",
        "[]",
        "{}",
        "<script>alert(1)</script>",
        "'; DROP TABLE users; --",
        "\u{0}",
        "a\u{0}b",
        "\r\n",
        "%",
        "%00",
        "\u{202e}",
        "😀",
        "研修",
        "../../etc/passwd",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    values.push("x".repeat(100_000));
    values.push("あ".repeat(10_000));
    for _ in 0..4 {
        let len = (random() % 64) as usize;
        values.push(
            (0..len)
                .map(|_| char::from((random() % 0x7f) as u8))
                .collect(),
        );
    }
    values
}

fn form_body(pairs: &[(String, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// One malformed call: what to send where.
struct Call {
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    what: String,
}

fn calls_for(function: &ServerFunction, values: &[String]) -> Vec<Call> {
    let plausible_pairs: Vec<(String, String)> = function
        .arguments
        .iter()
        .map(|(name, ty)| (name.clone(), plausible(ty).to_string()))
        .collect();
    let mut argument_sets: Vec<(String, Vec<(String, String)>)> = vec![
        ("no arguments".into(), vec![]),
        ("plausible arguments".into(), plausible_pairs.clone()),
        (
            "an unknown argument".into(),
            [
                plausible_pairs.clone(),
                vec![("unknown".into(), "1".into())],
            ]
            .concat(),
        ),
    ];
    for (index, (name, _)) in function.arguments.iter().enumerate() {
        let mut without = plausible_pairs.clone();
        without.remove(index);
        argument_sets.push((format!("without {name}"), without));
        argument_sets.push((
            format!("{name} twice"),
            [plausible_pairs.clone(), vec![(name.clone(), "2".into())]].concat(),
        ));
        for value in values {
            let mut pairs = plausible_pairs.clone();
            pairs[index].1 = value.clone();
            argument_sets.push((format!("{name}={:?}", truncate(value)), pairs));
        }
    }
    let mut calls = Vec::new();
    for (what, pairs) in argument_sets {
        let encoded = form_body(&pairs);
        match function.encoding {
            // A URL over 64 KB cannot even be built by the client (and no
            // browser sends one); the long-query case below covers the size.
            Encoding::Query if encoded.len() > 32 * 1024 => {}
            Encoding::Query => calls.push(Call {
                method: Method::GET,
                path: format!("{}?{encoded}", function.path()),
                content_type: None,
                body: vec![],
                what,
            }),
            Encoding::Form | Encoding::Multipart => calls.push(Call {
                method: Method::POST,
                path: function.path(),
                content_type: Some("application/x-www-form-urlencoded"),
                body: encoded.into_bytes(),
                what,
            }),
            Encoding::Json => {
                let object: serde_json::Map<String, serde_json::Value> = pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                calls.push(Call {
                    method: Method::POST,
                    path: function.path(),
                    content_type: Some("application/json"),
                    body: serde_json::to_vec(&object).unwrap(),
                    what,
                });
            }
        }
    }
    // The wrong encodings and bodies, whatever the arguments.
    let path = function.path();
    let wrong_method = if function.method() == Method::GET {
        Method::POST
    } else {
        Method::GET
    };
    calls.push(Call {
        method: wrong_method,
        path: path.clone(),
        content_type: None,
        body: vec![],
        what: "the wrong method".into(),
    });
    for (content_type, body, what) in [
        (
            "application/json",
            b"{\"event_id\": [1, 2]}".to_vec(),
            "JSON where a form is expected",
        ),
        (
            "application/x-www-form-urlencoded",
            b"event_id=1&event_id=%ZZ".to_vec(),
            "broken percent-encoding",
        ),
        ("application/json", b"{not json".to_vec(), "broken JSON"),
        (
            "application/json",
            "[".repeat(100_000).into_bytes(),
            "JSON nested too deep",
        ),
        (
            "application/octet-stream",
            vec![0xff, 0xfe, 0x00, 0x80],
            "bytes that are not text",
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\nbroken".to_vec(),
            "a broken multipart body",
        ),
        (
            "application/x-www-form-urlencoded",
            vec![b'a'; 2 * 1024 * 1024],
            "a body over the limit",
        ),
    ] {
        calls.push(Call {
            method: Method::POST,
            path: path.clone(),
            content_type: Some(content_type),
            body,
            what: what.into(),
        });
    }
    calls.push(Call {
        method: Method::GET,
        path: format!("{path}?{}", "a=1&".repeat(5_000)),
        content_type: None,
        body: vec![],
        what: "a very long query".into(),
    });
    calls
}

fn truncate(value: &str) -> String {
    truncate_to(value, 12)
}

fn truncate_to(value: &str, chars: usize) -> String {
    value.chars().take(chars).collect()
}

/// Pages with ids that are not ids.
fn page_calls() -> Vec<Call> {
    let ids = [
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1.5",
        "%00",
        "%ff",
        "<x>",
    ];
    let mut calls = Vec::new();
    for template in [
        "/events/{}",
        "/events/{}/door",
        "/events/{}/calendar.ics",
        "/tickets/{}",
        "/organize/{}",
        "/organize/{}/edit",
        "/organize/{}/attendees",
        "/calendar/{}.ics",
        "/?page={}",
        "/?after={}&category={}&from={}",
        "/admin/audit?before={}",
        "/admin/users?q={}&after={}",
        "/organize?before={}",
        "/login?next={}",
        "/{}",
    ] {
        for id in ids {
            calls.push(Call {
                method: Method::GET,
                path: template.replace("{}", id),
                content_type: None,
                body: vec![],
                what: "a page".into(),
            });
        }
    }
    calls
}

struct Caller {
    name: &'static str,
    cookie: Option<String>,
}

async fn send(
    client: &Client,
    server: &RunningServer,
    caller: &Caller,
    call: &Call,
) -> Result<u16, String> {
    let mut request = client.request(call.method.clone(), server.url(&call.path));
    if let Some(cookie) = &caller.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    if let Some(content_type) = call.content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    if !call.body.is_empty() {
        request = request.body(call.body.clone());
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // Read the whole answer: a stream that breaks off is a failure too.
            response
                .bytes()
                .await
                .map(|_| status)
                .map_err(|e| format!("the answer broke off: {e}"))
        }
        Err(e) => Err(format!("no answer: {e:?}")),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_malformed_call_gets_a_5xx_or_a_closed_connection() {
    let functions = server_functions();
    assert!(
        functions.len() >= 40,
        "the parser found only {} server functions",
        functions.len()
    );
    assert!(
        functions
            .iter()
            .any(|f| f.endpoint == "door/sync" && f.encoding == Encoding::Json)
    );
    assert!(
        functions
            .iter()
            .any(|f| f.endpoint == "auth/login" && f.arguments.len() == 3)
    );

    for t in test_support::backends().await {
        let backend = t.db.backend().name();
        let sent = fuzz_one_backend(&t, &functions).await;
        eprintln!(
            "fuzz ({backend}): {sent} calls over {} server functions and {} page routes, none answered 5xx",
            functions.len(),
            page_calls().len()
        );
    }
}

/// Runs every call against a fresh server on `t`'s database; answers how
/// many calls it made, and fails the test on any 5xx or dropped answer.
async fn fuzz_one_backend(t: &TestDatabase, functions: &[ServerFunction]) -> u64 {
    let backend = t.db.backend().name();
    let hash = password::hash(PASSWORD.into()).await.unwrap();
    let admin = NewUser {
        email: "admin@example.co.jp".into(),
        display_name: "管理 者".into(),
        department: Some("情報システム部".into()),
        role: Role::Admin,
        lang: Lang::Ja,
    };
    users::upsert(&t.db, &admin, Some(&hash)).await.unwrap();
    tsudoi::demo::seed(&t.db, chrono_tz::Asia::Tokyo, chrono::Utc::now(), 2026)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = RunningServer::start_with(
        dir.path(),
        &t.url(),
        &[("TSUDOI_REQUEST_TIMEOUT_MS", "5000")],
    );
    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(server.url("/api/auth/login"))
        .form(&[("email", "admin@example.co.jp"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let admin_cookie = session_cookie(login.headers()).expect("admin session");

    let rounds: u64 = std::env::var("TSUDOI_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    let seed = AtomicU64::new(0x5eed_1234_abcd_0001);
    let mut random = move || {
        // xorshift: reproducible values without a dependency.
        let mut x = seed.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        seed.store(x, Ordering::Relaxed);
        x
    };
    let callers = [
        Caller {
            name: "visitor",
            cookie: None,
        },
        Caller {
            name: "admin",
            cookie: Some(admin_cookie),
        },
    ];
    let mut failures = Vec::new();
    let mut sent = 0u64;
    for _round in 0..rounds {
        let values = hostile_values(&mut random);
        let mut calls: Vec<(String, Call)> = page_calls()
            .into_iter()
            .map(|c| ("page".to_string(), c))
            .collect();
        for function in functions {
            // Logging the admin out would leave the rest of the run anonymous.
            for call in calls_for(function, &values) {
                calls.push((function.endpoint.clone(), call));
            }
        }
        for caller in &callers {
            for (endpoint, call) in &calls {
                if caller.cookie.is_some() && endpoint == "auth/logout" {
                    continue;
                }
                sent += 1;
                match send(&client, &server, caller, call).await {
                    Ok(status) if status < 500 => {}
                    Ok(status) => failures.push(format!(
                        "{} {} {} ({}): {status}",
                        caller.name, call.method, endpoint, call.what
                    )),
                    Err(problem) => failures.push(format!(
                        "{} {} {} ({}): {}",
                        caller.name,
                        call.method,
                        endpoint,
                        call.what,
                        truncate_to(&problem, 300)
                    )),
                }
            }
        }
    }
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(
        health.status(),
        200,
        "{backend}: healthy after {sent} calls"
    );
    let ready = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{backend}: the database still answers");
    assert!(
        failures.is_empty(),
        "{backend}: {} of {sent} calls failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    sent
}
