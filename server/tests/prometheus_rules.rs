//! The monitoring shipped in docs/ops: Prometheus's own checker accepts the
//! recording and alerting rules, their unit tests pass (every alert fires on
//! the traffic it is meant for and stays silent otherwise), and the Grafana
//! dashboard parses and asks only for metrics Tsudoi exports.
//! What the rules promise: docs/SERVICE-LEVELS.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root: this crate is `server/`.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn ops(file: &str) -> PathBuf {
    repo().join("docs").join("ops").join(file)
}

/// Runs Debian's promtool (package `prometheus`, installed by `cargo xtask
/// test`) and asserts it succeeds, showing everything it printed otherwise.
fn promtool(args: &[&str], file: &Path) -> String {
    let output = Command::new("promtool")
        .args(args)
        .arg(file)
        .current_dir(repo())
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot run promtool ({err}): install Debian's `prometheus` package \
                 (`apt-get install prometheus`; `cargo xtask test` does it and starts no daemon)"
            )
        });
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool {} {} failed ({}):\n{printed}",
        args.join(" "),
        file.display(),
        output.status
    );
    printed
}

#[test]
fn promtool_accepts_the_recording_and_alerting_rules() {
    let printed = promtool(&["check", "rules"], &ops("prometheus-rules.yml"));
    assert!(printed.contains("SUCCESS"), "{printed}");
}

#[test]
fn every_alert_fires_and_stays_silent_as_its_unit_tests_say() {
    let printed = promtool(&["test", "rules"], &ops("prometheus-rules.test.yml"));
    assert!(printed.contains("SUCCESS"), "{printed}");
}

#[test]
fn the_dashboard_parses_and_queries_only_tsudoi_metrics() {
    let path = ops("grafana-dashboard.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    let dashboard: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|err| panic!("{} is not JSON: {err}", path.display()));
    assert_eq!(dashboard["schemaVersion"], 39);
    assert!(
        text.contains("${DS_PROMETHEUS}"),
        "the data source is chosen on import, not fixed"
    );

    let mut panels = Vec::new();
    collect_panels(&dashboard["panels"], &mut panels);
    let mut used = BTreeSet::new();
    let mut queried = 0;
    for panel in &panels {
        if panel["type"] == "row" {
            continue;
        }
        let title = panel["title"].as_str().unwrap_or("(untitled)");
        let targets = panel["targets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        assert!(!targets.is_empty(), "panel {title:?} has no query");
        for target in targets {
            let expr = target["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("panel {title:?}: a query without expr"));
            let names = metric_names(expr);
            assert!(!names.is_empty(), "panel {title:?}: no metric in {expr}");
            for name in names {
                assert!(
                    name.starts_with("tsudoi_") || name == "up",
                    "panel {title:?} queries {name:?}, which Tsudoi does not export: {expr}"
                );
                used.insert(name);
            }
            queried += 1;
        }
    }
    assert!(queried >= 20, "only {queried} queries");

    // Everything /metrics has is on the dashboard somewhere.
    for metric in [
        "up",
        "tsudoi_http_requests_total",
        "tsudoi_http_request_duration_seconds_bucket",
        "tsudoi_http_requests_in_flight",
        "tsudoi_registrations_total",
        "tsudoi_registration_group_size_bucket",
        "tsudoi_logins_total",
        "tsudoi_check_ins_total",
        "tsudoi_mail_outbox",
        "tsudoi_mail_oldest_queued_seconds",
        "tsudoi_mails_total",
        "tsudoi_reminder_batch_duration_seconds_sum",
        "tsudoi_reminder_batch_duration_seconds_count",
        "tsudoi_reminders_queued_total",
        "tsudoi_cache_requests_total",
        "tsudoi_db_pool_connections",
        "tsudoi_db_statement_errors_total",
        "tsudoi_database_up",
        "tsudoi_redis_up",
        "tsudoi_build_info",
    ] {
        assert!(used.contains(metric), "no panel shows {metric}: {used:?}");
    }
}

#[test]
fn metric_names_are_told_apart_from_functions_labels_and_strings() {
    let names = metric_names(
        r#"histogram_quantile(0.95, sum by (route, le) (rate(tsudoi_http_request_duration_seconds_bucket{job="$job",route=~"/events/{id}|/"}[$__rate_interval])))
           / ignoring (state) group_left max without (instance) (up offset 1h) > bool 0.5 and on () count(tsudoi_build_info)"#,
    );
    assert_eq!(
        names,
        [
            "tsudoi_build_info",
            "tsudoi_http_request_duration_seconds_bucket",
            "up"
        ]
        .map(String::from)
        .into_iter()
        .collect::<BTreeSet<_>>()
    );
}

/// Every panel, those inside (collapsed) rows included.
fn collect_panels<'a>(list: &'a serde_json::Value, into: &mut Vec<&'a serde_json::Value>) {
    for panel in list.as_array().map(Vec::as_slice).unwrap_or(&[]) {
        into.push(panel);
        collect_panels(&panel["panels"], into);
    }
}

/// PromQL words that are not metrics: aggregations, operators, modifiers.
const KEYWORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "group",
    "stddev",
    "stdvar",
    "count",
    "count_values",
    "bottomk",
    "topk",
    "quantile",
    "limitk",
    "limit_ratio",
    "and",
    "or",
    "unless",
    "atan2",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
];

/// Modifiers followed by a list of label names in parentheses.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names a PromQL expression selects: identifiers outside label
/// matchers `{…}`, ranges `[…]`, strings and label lists, that are neither a
/// function call, a keyword nor a Grafana variable (`$job`, `${DS}`).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => i = skip_string(&chars, i),
            '{' => i = skip_to(&chars, i, '}'),
            '[' => i = skip_to(&chars, i, ']'),
            '$' => {
                i += 1;
                if chars.get(i) == Some(&'{') {
                    i = skip_to(&chars, i, '}');
                } else {
                    while i < chars.len() && is_word(chars[i]) {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                // A number or duration: 0.95, 1e3, 5m, 1h30m.
                while i < chars.len() && (is_word(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
                let start = i;
                while i < chars.len() && (is_word(chars[i]) || chars[i] == ':') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let mut next = i;
                while next < chars.len() && chars[next].is_whitespace() {
                    next += 1;
                }
                let lower = word.to_ascii_lowercase();
                if LABEL_LISTS.contains(&lower.as_str()) {
                    if chars.get(next) == Some(&'(') {
                        i = skip_to(&chars, next, ')');
                    }
                } else if KEYWORDS.contains(&lower.as_str()) || chars.get(next) == Some(&'(') {
                    // An aggregation, operator or function call.
                } else {
                    names.insert(word);
                }
            }
            _ => i += 1,
        }
    }
    names
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The index just past the string literal opening at `start`.
fn skip_string(chars: &[char], start: usize) -> usize {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if quote != '`' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index just past the `close` matching the bracket at `start`, skipping
/// string literals on the way (a route label such as "/events/{id}" holds braces).
fn skip_to(chars: &[char], start: usize, close: char) -> usize {
    let open = chars[start];
    let mut depth = 0;
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '"' | '\'' | '`' => {
                i = skip_string(chars, i);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}
