//! Each compliance check fails when the behaviour it checks is broken.

use mcp_test::compliance::{self, Probe, Target};
use mcp_test::proxy::{Defect, Proxy};
use mcp_test::{TestServer, assert_server_compliance};
use serde_json::json;

fn probe() -> Probe {
    Probe::new("echo", json!({"text": "hi"}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliant_server_passes() {
    let s = TestServer::start(crate::echo_server()).await;
    assert_server_compliance(&s, probe()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transparent_proxy_passes_too() {
    // The proxy itself must not break anything, or the defect tests prove nothing.
    let s = TestServer::start(crate::echo_server()).await;
    let p = Proxy::start(&s.base(), s.core.auth_token.clone(), Defect::HealthDown).await;
    let report = compliance::check(&Target { base: p.base(), token: s.core.auth_token.clone() }, &probe()).await;
    assert_eq!(report.failed(), vec!["health"], "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_defect_fails_its_check() {
    let s = TestServer::start(crate::echo_server()).await;
    let cases = [
        (Defect::HealthDown, "health"),
        (Defect::ReadyWithoutChecks, "ready"),
        (Defect::MetricsMissingSeries, "metrics_series"),
        (Defect::MetricsFrozen, "metrics_move"),
        (Defect::ToolsWithoutAnnotations, "tools_described"),
        (Defect::DropTraceMeta, "trace_meta"),
        (Defect::DropTraceHeader, "trace_header"),
        (Defect::NoAuth, "auth_missing"),
        (Defect::NoAuth, "auth_wrong"),
        (Defect::NoOriginCheck, "origin"),
        (Defect::ParseErrorAs415, "parse_error"),
        (Defect::UnknownToolAsResult, "unknown_tool"),
        (Defect::NoStateless, "stateless"),
        (Defect::NoLegacy, "legacy_session"),
    ];
    // Every check is covered by a defect.
    for c in compliance::CHECKS {
        assert!(cases.iter().any(|(_, n)| n == c), "no defect proves check {c} can fail");
    }
    for (defect, check) in cases {
        let p = Proxy::start(&s.base(), s.core.auth_token.clone(), defect).await;
        let report = compliance::check(&Target { base: p.base(), token: s.core.auth_token.clone() }, &probe()).await;
        assert!(report.has_failed(check), "{defect:?} did not fail {check}:\n{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_a_token_is_not_compliant() {
    let core = mcp_core::CoreConfig::defaults("mcp-server-echo");
    let s = TestServer::start_with(crate::echo_server(), core).await;
    let report = compliance::check(&Target { base: s.base(), token: None }, &probe()).await;
    assert!(report.has_failed("auth_missing"), "{report}");
}
