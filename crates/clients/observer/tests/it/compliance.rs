//! The server contract (on the whole program, ingest routes included), and
//! the golden tool list.

use mcp_client_observer::{Config, NAME, Observer};
use mcp_core::CoreConfig;
use mcp_test::compliance::{Target, check};
use mcp_test::{Probe, TEST_TOKEN, TestServer, assert_server_compliance};
use serde_json::json;

use crate::Obs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observer_is_compliant() {
    let dir = tempfile::tempdir().unwrap();
    let db = mcp_test::services::sqlite_url(dir.path(), "obs");
    // The MCP server alone, as every server is checked...
    let obs =
        Observer::open(Config::for_url(&db, "http://127.0.0.1:9/mcp"), &CoreConfig::defaults(NAME)).await.unwrap();
    let (server, _) = mcp_client_observer::server(obs).unwrap();
    let ts = TestServer::start(server).await;
    assert_server_compliance(&ts, Probe::new("traces_search", json!({}))).await;
    ts.stop().await;
    // ...and the whole program, with the ingest and query routes merged in.
    let o = Obs::start(&mcp_test::services::sqlite_url(dir.path(), "obs2"), "http://127.0.0.1:9/mcp").await;
    let report =
        check(&Target { base: o.base(), token: Some(TEST_TOKEN.into()) }, &Probe::new("traces_search", json!({})))
            .await;
    assert!(report.failed().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_tools_list() {
    let dir = tempfile::tempdir().unwrap();
    let db = mcp_test::services::sqlite_url(dir.path(), "obs");
    let obs =
        Observer::open(Config::for_url(&db, "http://127.0.0.1:9/mcp"), &CoreConfig::defaults(NAME)).await.unwrap();
    let (server, _) = mcp_client_observer::server(obs).unwrap();
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&mcp_test::golden::tools_list(&server));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let o = Obs::start(&mcp_test::services::sqlite_url(dir.path(), "obs"), "http://127.0.0.1:9/mcp").await;
    let http = reqwest::Client::new();
    let (s, _) = crate::post_otlp(&http, &o.base(), None, crate::otlp::protobuf(&[]), crate::otlp::PROTOBUF).await;
    assert_eq!(s, 401);
    let (s, _) =
        crate::post_otlp(&http, &o.base(), Some("wrong-token-0123456789"), vec![], crate::otlp::PROTOBUF).await;
    assert_eq!(s, 401);
    for path in ["/api/traces", &format!("/api/traces/{}", crate::otlp::trace_id()), "/api/projects/p1"] {
        let (s, _) = crate::get_json(&http, &o.base(), None, path).await;
        assert_eq!(s, 401, "{path}");
    }
    // A Host outside the allow-list is refused on the extra routes too.
    let r = http
        .post(format!("{}/v1/traces", o.base()))
        .header("host", "evil.example")
        .bearer_auth(TEST_TOKEN)
        .header("content-type", crate::otlp::PROTOBUF)
        .body(Vec::new())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
}
