//! The server's own account of a scenario: `/metrics` scraped before and
//! after, and per route the increase of `tsudoi_http_requests_total` and of
//! the duration histogram's buckets, held against what the load generator
//! measured.
//!
//! The rule the table applies (stated in docs/PERFORMANCE.md too):
//! - **count**: the requests the server counted for a route (all statuses)
//!   equal the requests the load generator made to it, exactly;
//! - **latency**: the server's p95 lies in one histogram bucket (L, U]. Each
//!   request's time at the client contains its time in the server, so the
//!   client's p95 (time to the last byte: the server's clock stops when the
//!   body ends too) cannot be below L. It may exceed U by what the server's
//!   clock cannot see — loopback, the kernel's socket queues, hyper reading
//!   the request, the client's own scheduling on the same two cores. That
//!   grows with the requests sent at once, each waiting for those ahead of
//!   it to be read: allowed [`BASE_ALLOWANCE_MS`] plus
//!   [`ALLOWANCE_PER_REQUEST_IN_FLIGHT_MS`] for each request in flight —
//!   about the whole cost of one cheap request here (the JSON list answers
//!   ~11,000 a second), an upper bound on the cost of reading one.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

const REQUESTS: &str = "tsudoi_http_requests_total";
const BUCKETS: &str = "tsudoi_http_request_duration_seconds_bucket";

/// What a client may wait beyond the server's upper bucket edge at p95 …
pub const BASE_ALLOWANCE_MS: f64 = 10.0;
/// … and more for each request in flight beside it.
pub const ALLOWANCE_PER_REQUEST_IN_FLIGHT_MS: f64 = 0.1;

/// One line of the text format: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Everything one scrape returned.
pub struct Scrape {
    samples: Vec<Sample>,
}

pub async fn scrape(client: &reqwest::Client, url: &str) -> Result<Scrape> {
    let text = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("scrape {url}"))?
        .error_for_status()?
        .text()
        .await?;
    Ok(Scrape {
        samples: text.lines().filter_map(parse_line).collect(),
    })
}

/// `name{a="x",b="y"} 12` or `name 12`; comments and blank lines are `None`.
fn parse_line(line: &str) -> Option<Sample> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let (name, labels, rest) = match line.find('{') {
        Some(open) => {
            let (labels, after) = parse_labels(&line[open + 1..])?;
            (&line[..open], labels, after)
        }
        None => {
            let (name, rest) = line.split_once(' ')?;
            (name, BTreeMap::new(), rest)
        }
    };
    // A timestamp may follow the value; the exporter writes none.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// The labels up to the closing brace, with `\"`, `\\` and `\n` unescaped;
/// and the text after the brace.
fn parse_labels(text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after_key) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                (_, c) => value.push(c),
            }
        };
        labels.insert(key.trim().to_string(), value);
        rest = &after_key[end + 1..];
    }
}

impl Scrape {
    fn sum(&self, name: &str, route: &str, method: &str, le: Option<&str>) -> f64 {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && s.labels.get("route").map(String::as_str) == Some(route)
                    && s.labels.get("method").map(String::as_str) == Some(method)
                    && le.is_none_or(|le| s.labels.get("le").map(String::as_str) == Some(le))
            })
            .map(|s| s.value)
            .sum()
    }

    /// The bucket edges of the duration histogram, in seconds, ascending.
    fn edges(&self) -> Vec<(String, f64)> {
        let mut edges: Vec<(String, f64)> = self
            .samples
            .iter()
            .filter(|s| s.name == BUCKETS)
            .filter_map(|s| s.labels.get("le"))
            .filter_map(|le| {
                let seconds = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le.clone(), seconds))
            })
            .collect();
        edges.sort_by(|a, b| a.1.total_cmp(&b.1));
        edges.dedup_by(|a, b| a.0 == b.0);
        edges
    }
}

/// What the server recorded for one route and method between two scrapes.
#[derive(Debug, Clone)]
pub struct RouteDelta {
    pub requests: u64,
    /// (upper edge in seconds, requests at or under it), ascending.
    cumulative: Vec<(f64, u64)>,
}

pub fn delta(before: &Scrape, after: &Scrape, route: &str, method: &str) -> RouteDelta {
    let increase = |name: &str, le: Option<&str>| {
        let grown = after.sum(name, route, method, le) - before.sum(name, route, method, le);
        grown.max(0.0).round() as u64
    };
    RouteDelta {
        requests: increase(REQUESTS, None),
        cumulative: after
            .edges()
            .iter()
            .map(|(le, seconds)| (*seconds, increase(BUCKETS, Some(le))))
            .collect(),
    }
}

impl RouteDelta {
    /// The bucket (lower, upper], in milliseconds, that holds the request
    /// at rank ⌈0.95·n⌉.
    pub fn p95_bucket_ms(&self) -> Option<(f64, f64)> {
        let total = self.cumulative.last()?.1;
        if total == 0 {
            return None;
        }
        let rank = (total as f64 * 0.95).ceil() as u64;
        let mut lower = 0.0;
        for &(upper, count) in &self.cumulative {
            if count >= rank {
                return Some((lower * 1000.0, upper * 1000.0));
            }
            lower = upper;
        }
        None
    }
}

/// The table's cross-check for one route.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub server_requests: u64,
    pub client_requests: u64,
    pub server_p95_bucket_ms: Option<(f64, f64)>,
    pub client_p95_ms: f64,
    /// Requests the load generator kept in flight (its simulated people).
    pub in_flight: usize,
}

impl Agreement {
    pub fn counts_match(&self) -> bool {
        self.server_requests == self.client_requests
    }

    /// The most the client's p95 may be: the bucket's upper edge and the allowance.
    fn client_bound_ms(&self) -> Option<f64> {
        let (_, upper) = self.server_p95_bucket_ms?;
        Some(upper + BASE_ALLOWANCE_MS + ALLOWANCE_PER_REQUEST_IN_FLIGHT_MS * self.in_flight as f64)
    }

    pub fn latency_agrees(&self) -> bool {
        match (self.server_p95_bucket_ms, self.client_bound_ms()) {
            (Some((lower, _)), Some(bound)) => {
                self.client_p95_ms >= lower && self.client_p95_ms <= bound
            }
            _ => false,
        }
    }

    pub fn holds(&self) -> bool {
        self.counts_match() && self.latency_agrees()
    }

    /// For the table: `4812=4812 · p95 (10,25] vs 13.2 (≤ 41.4) ok`.
    pub fn describe(&self) -> String {
        let bucket = match self.server_p95_bucket_ms {
            Some((lower, upper)) if upper.is_infinite() => format!("({lower:.0},∞)"),
            Some((lower, upper)) => format!("({lower:.0},{upper:.0}]"),
            None => "none".to_string(),
        };
        let bound = self
            .client_bound_ms()
            .filter(|bound| bound.is_finite())
            .map_or_else(String::new, |bound| format!(" (≤ {bound:.1})"));
        format!(
            "{}{}{} · p95 {bucket} vs {:.1}{bound} {}",
            self.server_requests,
            if self.counts_match() { "=" } else { "≠" },
            self.client_requests,
            self.client_p95_ms,
            if self.holds() { "ok" } else { "MISMATCH" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP tsudoi_http_requests_total HTTP requests answered.
# TYPE tsudoi_http_requests_total counter
tsudoi_http_requests_total{route="/",method="GET",status="2xx"} 10
tsudoi_http_requests_total{route="/",method="GET",status="5xx"} 2
tsudoi_http_requests_total{route="/a \"b\"",method="GET",status="2xx"} 1
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="2xx",le="0.005"} 4
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="2xx",le="0.01"} 9
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="2xx",le="+Inf"} 10
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="5xx",le="0.005"} 0
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="5xx",le="0.01"} 0
tsudoi_http_request_duration_seconds_bucket{route="/",method="GET",status="5xx",le="+Inf"} 2
tsudoi_build_info{version="0.1.0"} 1
"#;

    fn scrape_of(text: &str) -> Scrape {
        Scrape {
            samples: text.lines().filter_map(parse_line).collect(),
        }
    }

    #[test]
    fn reads_names_labels_and_values() {
        let sample = parse_line(r#"x{route="/a \"b\"",le="+Inf"} 3"#).unwrap();
        assert_eq!(sample.name, "x");
        assert_eq!(sample.labels["route"], "/a \"b\"");
        assert_eq!(sample.labels["le"], "+Inf");
        assert_eq!(sample.value, 3.0);
        assert_eq!(parse_line("up 1").unwrap().value, 1.0);
        assert!(parse_line("# TYPE up gauge").is_none());
    }

    #[test]
    fn counts_and_buckets_sum_over_statuses_and_subtract_the_first_scrape() {
        let before = scrape_of("");
        let after = scrape_of(TEXT);
        let route = delta(&before, &after, "/", "GET");
        assert_eq!(route.requests, 12);
        // 12 requests: rank 12 at p95 falls beyond 10 ms.
        assert_eq!(route.p95_bucket_ms(), Some((10.0, f64::INFINITY)));
        assert_eq!(delta(&after, &after, "/", "GET").requests, 0);
    }

    #[test]
    fn the_p95_bucket_is_the_first_that_holds_the_rank() {
        let route = RouteDelta {
            requests: 100,
            cumulative: vec![(0.005, 50), (0.01, 95), (0.025, 100), (f64::INFINITY, 100)],
        };
        assert_eq!(route.p95_bucket_ms(), Some((5.0, 10.0)));
        let agreement = |client, in_flight| Agreement {
            server_requests: 100,
            client_requests: 100,
            server_p95_bucket_ms: route.p95_bucket_ms(),
            client_p95_ms: client,
            in_flight,
        };
        assert!(agreement(7.0, 0).holds());
        assert!(agreement(19.9, 0).holds());
        assert!(!agreement(4.0, 0).holds(), "below the server's lower edge");
        assert!(!agreement(20.5, 0).holds(), "beyond the allowance");
        assert!(
            agreement(69.9, 500).holds(),
            "500 sent at once may wait 50 ms more"
        );
        assert!(!agreement(70.5, 500).holds());
        assert!(agreement(7.0, 0).describe().ends_with("vs 7.0 (≤ 20.0) ok"));
    }
}
