//! Load as people make it, through Goose: each simulated person is a Goose
//! user with their own cookie jar, logs in over HTTP like the login form
//! does, waits until everyone of the scenario is in, and then sends its
//! requests in a closed loop (the next one when the last answer has fully
//! arrived) — for a fixed number of iterations or a fixed time.
//!
//! Each request is timed twice: by Goose to the first byte of the answer,
//! and here to the last byte (what a person waits for, and where the
//! server's own clock stops, for the cross-check with `/metrics`; a
//! streamed page is not there before its end), recorded into Goose as a
//! second series `… · last byte`.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use goose::goose::GooseResponse;
use goose::metrics::GooseRequestMetricAggregate;
use goose::prelude::*;
use reqwest::Client;
use tokio::sync::Barrier;

use crate::seed;
use crate::server::{Probe, Usage};

pub const LOGIN_ROUTE: &str = "/api/auth/login";
const LAST_BYTE: &str = " · last byte";

/// Who the simulated people are.
#[derive(Clone)]
pub enum Login {
    /// Nobody logs in: a visitor's requests.
    Anonymous,
    /// Person `first`, `first + 1`, … of the seeded employees, one each.
    People { first: usize },
    /// The `n`th person logs in as `account(n)`: administrators, door staff.
    /// (Never several at once to one account: the server counts logins in
    /// flight against the account's limit of 5 and refuses the sixth.)
    Accounts(fn(usize) -> String),
}

/// What each iteration sends.
#[derive(Clone)]
pub enum Request {
    Get {
        route: &'static str,
        path: String,
    },
    /// POST /api/events/register for `events[(person + iteration) % len]`.
    Register {
        events: Arc<Vec<i64>>,
    },
    /// POST /api/door/scan with the next unused ticket token.
    Scan {
        event_id: i64,
        tokens: Arc<Vec<String>>,
    },
}

impl Request {
    pub fn method(&self) -> &'static str {
        match self {
            Request::Get { .. } => "GET",
            Request::Register { .. } | Request::Scan { .. } => "POST",
        }
    }

    pub fn route(&self) -> &'static str {
        match self {
            Request::Get { route, .. } => route,
            Request::Register { .. } => "/api/events/register",
            Request::Scan { .. } => "/api/door/scan",
        }
    }
}

#[derive(Clone, Copy)]
pub enum Stop {
    /// Each person sends this many requests.
    Iterations(usize),
    /// People send requests until this long after they were released.
    After(Duration),
}

#[derive(Clone)]
pub struct Plan {
    pub people: usize,
    /// Goose starts this many people a second (and they log in as they start).
    pub starts_per_second: usize,
    pub login: Login,
    pub request: Request,
    pub stop: Stop,
}

/// Response times of one series, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    pub requests: usize,
    pub failures: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
}

impl Timing {
    fn of(aggregate: &GooseRequestMetricAggregate) -> Timing {
        let ms = |p: f32| aggregate.raw_data.percentile_us(p) as f64 / 1000.0;
        Timing {
            requests: aggregate.raw_data.counter,
            failures: aggregate.fail_count,
            p50_ms: ms(0.50),
            p95_ms: ms(0.95),
            p99_ms: ms(0.99),
        }
    }
}

pub struct Outcome {
    /// The scenario's requests timed to the last byte.
    pub whole: Timing,
    pub logins: Timing,
    /// From the release of everyone to the last answer.
    pub window: Duration,
    /// The server's CPU time and peak memory during that window.
    pub usage: Usage,
    /// The server's resident memory when the window began.
    pub rss_at_release_mib: f64,
    /// The body of each answer to a POST, for the checks.
    pub answers: Vec<String>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        self.whole.requests as f64 / self.window.as_secs_f64().max(1e-9)
    }
}

/// What the people of one run share.
struct Shared {
    plan: Plan,
    origin: String,
    probe: Probe,
    next_person: AtomicUsize,
    next_token: AtomicUsize,
    everyone_in: Barrier,
    released: OnceLock<(Instant, Usage)>,
    last_answer: Mutex<Option<Instant>>,
    answers: Mutex<Vec<String>>,
    keep_answers: bool,
}

/// A person's own state between iterations.
#[derive(Clone)]
struct Person {
    number: usize,
    iteration: usize,
}

/// Runs one plan against the server at `base_url` and collects its figures.
pub async fn run(base_url: &str, probe: Probe, plan: Plan) -> Result<Outcome> {
    let shared = Arc::new(Shared {
        origin: base_url.trim_end_matches('/').to_string(),
        probe,
        next_person: AtomicUsize::new(0),
        next_token: AtomicUsize::new(0),
        everyone_in: Barrier::new(plan.people),
        released: OnceLock::new(),
        last_answer: Mutex::new(None),
        answers: Mutex::new(Vec::new()),
        // The pages' bodies are not checked; what people were told is.
        keep_answers: plan.request.method() == "POST",
        plan: plan.clone(),
    });
    let arrive = {
        let shared = shared.clone();
        Transaction::new(Arc::new(move |user| {
            let shared = shared.clone();
            Box::pin(async move { arrive(user, &shared).await })
        }))
        .set_name("arrive")
        .set_on_start()
    };
    let act = {
        let shared = shared.clone();
        Transaction::new(Arc::new(move |user| {
            let shared = shared.clone();
            Box::pin(async move { act(user, &shared).await })
        }))
        .set_name("act")
    };
    let (attack, limit) = configure(base_url, &plan, arrive, act).map_err(goose_error)?;
    let metrics = tokio::time::timeout(limit, attack.execute())
        .await
        .context("the load generator did not finish in time")?
        .map_err(goose_error)?;

    let (released, at_release) = *shared
        .released
        .get()
        .context("the people were never released (did a login hang?)")?;
    let last = shared
        .last_answer
        .lock()
        .map_err(|_| anyhow::anyhow!("poisoned"))?
        .unwrap_or(released);
    // Read at the end of Goose's run time, a moment after the last answer
    // (people idle past their deadline): the CPU figures cover that too.
    let usage_now = shared.probe.usage()?;
    let series = |key: String| {
        metrics
            .requests
            .get(&key)
            .map(Timing::of)
            .unwrap_or_default()
    };
    let method = plan.request.method();
    let route = plan.request.route();
    let outcome = Outcome {
        whole: series(format!("{method} {route}{LAST_BYTE}")),
        logins: series(format!("POST {LOGIN_ROUTE}")),
        window: last.saturating_duration_since(released),
        usage: Usage {
            cpu_seconds: usage_now.cpu_seconds - at_release.cpu_seconds,
            database_cpu_seconds: (usage_now.database_cpu_seconds
                - at_release.database_cpu_seconds)
                .max(0.0),
            generator_cpu_seconds: usage_now.generator_cpu_seconds
                - at_release.generator_cpu_seconds,
            ..usage_now
        },
        rss_at_release_mib: at_release.rss_mib,
        answers: std::mem::take(
            &mut *shared
                .answers
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?,
        ),
    };
    if outcome.logins.failures > 0 {
        bail!("{} of the logins failed", outcome.logins.failures);
    }
    Ok(outcome)
}

/// Goose set up for a plan; and how long the whole attack may take before
/// the run gives up on it.
fn configure(
    base_url: &str,
    plan: &Plan,
    arrive: Transaction,
    act: Transaction,
) -> Result<(Box<GooseAttack>, Duration), GooseError> {
    let mut attack = GooseAttack::initialize_with_config(Default::default())?
        .register_scenario(
            scenario!("people")
                .register_transaction(arrive)
                .register_transaction(act),
        )
        .set_default(GooseDefault::Host, base_url)?
        .set_default(GooseDefault::Users, plan.people)?
        .set_default(
            GooseDefault::IncreaseRate,
            plan.starts_per_second.to_string().as_str(),
        )?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::NoErrorSummary, true)?
        .set_default(GooseDefault::NoTelnet, true)?
        .set_default(GooseDefault::Quiet, 1)?;
    let limit = match plan.stop {
        Stop::Iterations(n) => {
            attack = attack.set_default(GooseDefault::Iterations, n)?;
            Duration::from_secs(300)
        }
        Stop::After(measured) => {
            // Goose's clock starts with the first person, before the logins;
            // people stop sending at their own deadline and idle to the end.
            let logins = match plan.login {
                Login::Anonymous => 0,
                _ => plan.people.div_ceil(20),
            };
            let launch = plan.people.div_ceil(plan.starts_per_second);
            let run_time = measured.as_secs() as usize + logins + launch + 2;
            attack = attack
                .set_default(GooseDefault::RunTime, run_time)?
                // Everything counts from the first request (with iterations
                // Goose never resets): the comparison with the server's
                // counters needs every request, and the logins are a series
                // of their own anyway.
                .set_default(GooseDefault::NoResetMetrics, true)?;
            Duration::from_secs(run_time as u64 + 60)
        }
    };
    Ok((attack, limit))
}

/// Goose's errors say which option and why only in their Debug form.
fn goose_error(err: GooseError) -> anyhow::Error {
    anyhow::anyhow!("goose: {err:?}")
}

/// Logs in (unless anonymous), then waits until everyone has. The first one
/// through notes the release time and the server's CPU time then, and
/// starts its peak memory over; the others wait for that note.
async fn arrive(user: &mut GooseUser, shared: &Shared) -> TransactionResult {
    let number = shared.next_person.fetch_add(1, Ordering::SeqCst);
    user.set_session_data(Person {
        number,
        iteration: 0,
    });
    let device = Client::builder()
        .cookie_store(true)
        .gzip(true)
        .timeout(Duration::from_secs(60))
        .user_agent("tsudoi-load (goose)")
        .local_address(device_address(number));
    user.set_client_builder(device).await.map_err(Box::new)?;
    let email = match &shared.plan.login {
        Login::Anonymous => None,
        Login::People { first } => Some(seed::person_email(first + number)),
        Login::Accounts(account) => Some(account(number)),
    };
    let logged_in = match email {
        Some(email) => log_in(user, shared, &email).await,
        None => Ok(()),
    };
    // Wait even after a failed login: the others would wait forever.
    shared.everyone_in.wait().await;
    shared.released.get_or_init(|| {
        // A failure to read /proc shows again, as an error, at the end.
        let _ = shared.probe.reset_peak_memory();
        (Instant::now(), shared.probe.usage().unwrap_or_default())
    });
    logged_in
}

/// Each person connects from a loopback address of their own, as from their
/// own PC. From one address, the server's per-address login limit (20
/// attempts, those in flight included) refuses a crowd logging in together
/// and blocks the address for 15 minutes — a finding reported beside the
/// table, not what these scenarios measure.
fn device_address(person: usize) -> IpAddr {
    let [_, b, c, d] = (person as u32).to_be_bytes();
    // 127.1.0.0 onwards: never 127.0.0.1, which the server's own tools use.
    IpAddr::V4(Ipv4Addr::new(127, b.saturating_add(1), c, d))
}

async fn log_in(user: &mut GooseUser, shared: &Shared, email: &str) -> TransactionResult {
    let form = [("email", email), ("password", seed::PASSWORD)];
    let answer = post_form(user, shared, LOGIN_ROUTE, LOGIN_ROUTE, &form).await?;
    let status = answer.request.status_code;
    // Read to the end, so the connection is reused.
    if let Ok(response) = answer.response {
        let _ = response.bytes().await;
    }
    if status != 200 {
        return Err(Box::new(TransactionError::Custom(format!(
            "login of {email} answered {status}"
        ))));
    }
    Ok(())
}

/// A POST as the hydrated page sends it: a form body, JSON accepted, and
/// the headers a browser adds (`Origin`, `Sec-Fetch-Site`) for the server's
/// cross-site check.
async fn post_form(
    user: &mut GooseUser,
    shared: &Shared,
    route: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Result<GooseResponse, Box<TransactionError>> {
    let builder = user
        .get_request_builder(&GooseMethod::Post, path)?
        .header("origin", &shared.origin)
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(form);
    let request = GooseRequest::builder()
        .method(GooseMethod::Post)
        .path(path)
        .name(route)
        .set_request_builder(builder)
        .build();
    user.request(request).await
}

/// One iteration: the plan's request, read to the last byte.
async fn act(user: &mut GooseUser, shared: &Shared) -> TransactionResult {
    let (released, _) = *shared.released.get().expect("set on arrival");
    if let Stop::After(measured) = shared.plan.stop
        && released.elapsed() >= measured
    {
        // Past the deadline: idle until Goose's run time ends, sending nothing.
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Ok(());
    }
    let person = user
        .get_session_data::<Person>()
        .cloned()
        .expect("set on arrival");
    let started = Instant::now();
    let request = &shared.plan.request;
    let answer = match request {
        Request::Get { route, path } => {
            let request = GooseRequest::builder()
                .path(path.as_str())
                .name(*route)
                .build();
            user.request(request).await?
        }
        Request::Register { events } => {
            let event = events[(person.number + person.iteration) % events.len()].to_string();
            let form = [("event_id", event.as_str())];
            post_form(user, shared, request.route(), request.route(), &form).await?
        }
        Request::Scan { event_id, tokens } => {
            let next = shared.next_token.fetch_add(1, Ordering::SeqCst);
            let token = tokens
                .get(next)
                .ok_or_else(|| TransactionError::Custom("more scans than tickets".to_string()))?;
            let event = event_id.to_string();
            let form = [("event_id", event.as_str()), ("token", token.as_str())];
            post_form(user, shared, request.route(), request.route(), &form).await?
        }
    };
    let status = answer.request.status_code;
    let body = match answer.response {
        Ok(response) => response.text().await.ok(),
        Err(_) => None,
    };
    let took = started.elapsed();
    let success = (200..300).contains(&status) && body.is_some();
    if let Ok(mut last) = shared.last_answer.lock() {
        let now = Instant::now();
        if last.is_none_or(|previous| previous < now) {
            *last = Some(now);
        }
    }
    if shared.keep_answers
        && let (Some(body), Ok(mut answers)) = (body, shared.answers.lock())
    {
        answers.push(body);
    }
    if let Some(person) = user.get_session_data_mut::<Person>() {
        person.iteration += 1;
    }
    let series = format!("{}{LAST_BYTE}", request.route());
    user.record_custom_request_duration(
        request.method(),
        &series,
        took,
        success,
        Some(status),
        None,
    )
    .await
}
