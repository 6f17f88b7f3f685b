//! The one table `cargo xtask slo` prints: a row per measured route or
//! check, with its figures, the service level it is held against, the
//! cross-check with the server's `/metrics`, and what the server used.

use crate::metrics::{ALLOWANCE_PER_REQUEST_IN_FLIGHT_MS, Agreement, BASE_ALLOWANCE_MS};
use crate::scenarios::Timing;
use crate::server::Usage;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A service level, met.
    Met,
    /// A service level, missed.
    Missed,
    /// A figure to read the others by (no target of its own).
    Reference,
    /// A correctness check that held.
    Held,
    /// A correctness check that failed: the run exits with an error.
    Broken,
}

impl Verdict {
    pub fn of_target(met: bool) -> Verdict {
        if met { Verdict::Met } else { Verdict::Missed }
    }

    pub fn of_check(held: bool) -> Verdict {
        if held { Verdict::Held } else { Verdict::Broken }
    }

    fn word(self) -> &'static str {
        match self {
            Verdict::Met => "**met**",
            Verdict::Missed => "**missed**",
            Verdict::Reference => "reference",
            Verdict::Held => "ok",
            Verdict::Broken => "**FAILED**",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub backend: &'static str,
    pub scenario: String,
    /// `GET /` or the name of a check.
    pub what: String,
    pub timing: Option<Timing>,
    pub per_second: Option<f64>,
    pub measured: String,
    pub target: String,
    pub verdict: Verdict,
    pub metrics: Option<Agreement>,
    pub usage: Option<Usage>,
}

impl Row {
    /// A check or a figure that is neither broken nor disagrees with the
    /// server's own counts.
    pub fn is_sound(&self) -> bool {
        self.verdict != Verdict::Broken
            && self.metrics.as_ref().is_none_or(Agreement::holds)
            && self.timing.is_none_or(|t| t.failures == 0)
    }
}

pub fn header(machine: &str, binary: &str, seconds: u64) -> String {
    format!(
        "cargo xtask slo — {date}\n\
         machine: {machine}\n\
         binary: {binary}\n\
         Load generator (Goose) and server share the machine's cores. Closed loops: each \
         simulated person sends the next request when the last answer has fully arrived; \
         fixed-concurrency rows run {seconds} s after everyone has logged in.\n\
         Latencies are to the last byte of the answer. /metrics column: requests the server \
         counted = requests sent · the server's p95 histogram bucket (L,U] ms vs the client's \
         p95 ms (both to the last byte); ok when the counts are equal and L ≤ client p95 ≤ U + \
         {BASE_ALLOWANCE_MS:.0} ms + {ALLOWANCE_PER_REQUEST_IN_FLIGHT_MS} ms per request in \
         flight (time outside the server's clock: loopback, socket queues, reading the \
         request, the client's own scheduling; the bound is shown). CPU seconds over the measured part of the row (logins \
         excluded): the server process, the database processes (postgres, redis-server; SQLite \
         is inside the server) and the load generator; peak RSS is the server's over the same part.\n",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
    )
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| backend | scenario | route / check | requests | req/s | p50 ms | p95 ms | p99 ms \
         | measured | target | result | /metrics: count · p95 bucket vs client | CPU s: server / database / load generator | server peak RSS MB |\n\
         |---|---|---|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|\n",
    );
    for row in rows {
        let number = |value: Option<f64>, digits: usize| {
            value.map_or_else(|| "—".to_string(), |v| format!("{v:.digits$}"))
        };
        let timing = row.timing;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.backend,
            row.scenario,
            row.what,
            timing.map_or_else(
                || "—".to_string(),
                |t| if t.failures > 0 {
                    format!("{} ({} failed)", t.requests, t.failures)
                } else {
                    t.requests.to_string()
                }
            ),
            number(row.per_second, 0),
            number(timing.map(|t| t.p50_ms), 1),
            number(timing.map(|t| t.p95_ms), 1),
            number(timing.map(|t| t.p99_ms), 1),
            row.measured,
            row.target,
            row.verdict.word(),
            row.metrics
                .as_ref()
                .map_or_else(|| "—".to_string(), Agreement::describe),
            row.usage.map_or_else(
                || "—".to_string(),
                |u| format!(
                    "{:.1} / {:.1} / {:.1}",
                    u.cpu_seconds, u.database_cpu_seconds, u.generator_cpu_seconds
                )
            ),
            number(row.usage.map(|u| u.peak_rss_mib), 0),
        ));
    }
    out
}
