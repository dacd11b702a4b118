//! Counters for `/metrics` (Prometheus text format): intake requests by outcome, events and
//! facts, and every request made to Zoho by operation.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

type Key = (&'static str, Vec<(&'static str, String)>);

#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<Key, u64>>,
}

/// What each counter means (`# HELP`).
const HELP: &[(&str, &str)] = &[
    (
        "helpdesk_intake_requests_total",
        "Call-event intake requests by outcome.",
    ),
    (
        "helpdesk_call_events_total",
        "Call events received, by result (stored or duplicate).",
    ),
    (
        "helpdesk_call_facts_total",
        "Facts derived from calls, by kind and whether they mean Zoho work.",
    ),
    (
        "helpdesk_zoho_requests_total",
        "Requests sent to Zoho, by operation.",
    ),
    (
        "helpdesk_job_lease_renewals_total",
        "Leases of running jobs renewed (attempts longer than a third of the lease).",
    ),
];

impl Metrics {
    pub fn add(&self, name: &'static str, labels: &[(&'static str, &str)], n: u64) {
        if n == 0 {
            return;
        }
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        );
        *self
            .counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key)
            .or_insert(0) += n;
    }

    pub fn inc(&self, name: &'static str, labels: &[(&'static str, &str)]) {
        self.add(name, labels, 1);
    }

    /// The value of one counter (tests).
    pub fn get(&self, name: &'static str, labels: &[(&'static str, &str)]) -> u64 {
        let key = (
            name,
            labels.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        );
        self.counters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .copied()
            .unwrap_or(0)
    }

    /// The counters, plus the gauges given, in Prometheus's text format.
    pub fn render(&self, gauges: &[(&str, &str, i64)]) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        let mut last = "";
        for ((name, labels), v) in counters.iter() {
            if *name != last {
                let help = HELP.iter().find(|(n, _)| n == name).map_or("", |(_, h)| h);
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                last = name;
            }
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            if labels.is_empty() {
                let _ = writeln!(out, "{name} {v}");
            } else {
                let _ = writeln!(out, "{name}{{{}}} {v}", labels.join(","));
            }
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.inc(
            "helpdesk_zoho_requests_total",
            &[("operation", "GET /agents")],
        );
        m.add(
            "helpdesk_zoho_requests_total",
            &[("operation", "GET /agents")],
            2,
        );
        m.inc(
            "helpdesk_intake_requests_total",
            &[("outcome", "say \"hi\"")],
        );
        assert_eq!(
            m.get(
                "helpdesk_zoho_requests_total",
                &[("operation", "GET /agents")]
            ),
            3
        );
        let text = m.render(&[("helpdesk_calls_open", "Calls in progress.", 2)]);
        assert!(text.contains("# TYPE helpdesk_zoho_requests_total counter\n"));
        assert!(text.contains("helpdesk_zoho_requests_total{operation=\"GET /agents\"} 3\n"));
        assert!(text.contains("helpdesk_intake_requests_total{outcome=\"say \\\"hi\\\"\"} 1\n"));
        assert!(text.contains("# TYPE helpdesk_calls_open gauge\nhelpdesk_calls_open 2\n"));
    }
}
