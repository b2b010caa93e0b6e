//! Prometheus metrics every program exposes on `/metrics`.
//!
//! Each server owns its own [`Metrics`] (and registry), so several servers in
//! one test process never share counters. Label values are bounded: a tool
//! name is only used as a label when the tool exists, otherwise it is
//! `unknown`, so a client cannot blow up cardinality with made-up names.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// How a request ended, as the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A result without `isError`.
    Ok,
    /// A tool result with `isError: true` (bad input, policy refusal, tool failure).
    ToolError,
    /// A JSON-RPC error (unknown tool or method, invalid params, internal error).
    Error,
    /// The call hit its timeout.
    Timeout,
    /// The client cancelled the call.
    Cancelled,
}

impl Outcome {
    /// The label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::Error => "error",
            Self::Timeout => "timeout",
            Self::Cancelled => "cancelled",
        }
    }
}

/// Names of the series every server must expose (checked by the compliance test).
pub const REQUIRED_SERIES: &[&str] = &[
    "mcp_server_requests_total",
    "mcp_server_operation_duration_seconds",
    "mcp_server_requests_in_flight",
    "mcp_build_info",
    "mcp_http_rejections_total",
];

/// The server's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    in_flight: IntGauge,
    rejections: IntCounterVec,
    callers: IntCounterVec,
}

impl Metrics {
    /// Register the standard series for `service` at `version`.
    pub fn new(service: &str, version: &str) -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new("mcp_server_requests_total", "MCP requests handled, by method, tool and outcome"),
            &["method", "tool", "outcome"],
        )
        .expect("static metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "mcp_server_operation_duration_seconds",
                "Time to handle an MCP request (OpenTelemetry mcp.server.operation.duration)",
            )
            .buckets(vec![
                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                30.0, 60.0, 120.0, 300.0,
            ]),
            &["method", "tool"],
        )
        .expect("static metric definition");
        let in_flight =
            IntGauge::new("mcp_server_requests_in_flight", "MCP requests being handled now").expect("static metric");
        let rejections = IntCounterVec::new(
            Opts::new("mcp_http_rejections_total", "HTTP requests refused before reaching MCP, by reason"),
            &["reason"],
        )
        .expect("static metric definition");
        let callers = IntCounterVec::new(
            Opts::new("mcp_server_caller_requests_total", "Authenticated HTTP requests, by the caller's role"),
            &["role"],
        )
        .expect("static metric definition");
        for r in ["viewer", "operator", "admin"] {
            callers.with_label_values(&[r]);
        }
        let build =
            IntGaugeVec::new(Opts::new("mcp_build_info", "Build information; always 1"), &["service", "version"])
                .expect("static metric definition");
        build.with_label_values(&[service, version]).set(1);
        // Pre-create the rejection series so dashboards and alerts see zeros, not gaps.
        for r in ["missing_token", "wrong_token", "host", "origin", "parse", "invalid_request", "body_too_large"] {
            rejections.with_label_values(&[r]);
        }
        for c in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(in_flight.clone()),
            Box::new(rejections.clone()),
            Box::new(callers.clone()),
            Box::new(build),
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ] {
            registry.register(c).expect("metric registered once");
        }
        Self { registry, requests, duration, in_flight, rejections, callers }
    }

    /// Create the series of every tool at zero, so dashboards and alerts see
    /// a tool before its first call instead of a gap.
    pub fn prime(&self, tools: &[&str]) {
        for t in tools {
            for o in [Outcome::Ok, Outcome::ToolError] {
                self.requests.with_label_values(&["tools/call", t, o.label()]);
            }
            self.duration.with_label_values(&["tools/call", t]);
        }
        self.requests.with_label_values(&["tools/list", "", Outcome::Ok.label()]);
        self.duration.with_label_values(&["tools/list", ""]);
    }

    /// The registry, for servers that add their own series.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Count one finished request.
    pub fn observe(&self, method: &str, tool: &str, outcome: Outcome, seconds: f64) {
        self.requests.with_label_values(&[method, tool, outcome.label()]).inc();
        self.duration.with_label_values(&[method, tool]).observe(seconds);
    }

    /// Count a request let through by the guard, by its caller's role.
    pub fn caller(&self, role: &str) {
        self.callers.with_label_values(&[role]).inc();
    }

    /// Count a request refused by a guard.
    pub fn reject(&self, reason: &str) {
        self.rejections.with_label_values(&[reason]).inc();
    }

    /// Track one in-flight request until the guard drops.
    pub fn in_flight(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// Requests in flight now.
    pub fn in_flight_now(&self) -> i64 {
        self.in_flight.get()
    }

    /// Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::with_capacity(8192);
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// Decrements the in-flight gauge on drop, also when a call is cancelled.
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_required_series() {
        let m = Metrics::new("svc", "1.0");
        m.observe("tools/call", "read", Outcome::Ok, 0.001);
        let text = m.render();
        for s in REQUIRED_SERIES {
            assert!(text.contains(s), "{s} missing");
        }
        assert!(text.contains(r#"mcp_server_requests_total{method="tools/call",outcome="ok",tool="read"} 1"#));
        let g = m.in_flight();
        assert_eq!(m.in_flight_now(), 1);
        drop(g);
        assert_eq!(m.in_flight_now(), 0);
    }
}
