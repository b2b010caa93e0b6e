//! The aggregated `/mcp` endpoint over real upstreams: compliance, the
//! golden list of the gateway's own tools, qualified names, roles and key
//! globs, hidden tools, forwarding and its audit, quotas, the edge limit,
//! both protocol eras, trace propagation, and concurrent calls.

use std::collections::BTreeSet;
use std::time::Duration;

use mcp_client_api_gateway::store::AuditQuery;
use mcp_test::raw::{LEGACY, err, ok};
use mcp_test::{Probe, assert_server_compliance, telemetry};
use serde_json::{Value, json};

use crate::{Fleet, Gw, names, tool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_is_compliant() {
    let f = Fleet::start(&[]).await;
    assert_server_compliance(&f.gw.server, Probe::new("gateway__whoami", json!({}))).await;
    // Through an upstream tool as well: the same contract holds for what
    // the gateway forwards.
    assert_server_compliance(&f.gw.server, Probe::new("fs__stat", json!({"path": "hello.txt"}))).await;
}

/// The golden list holds the gateway's own tools as the fleet caller sees
/// them with its one upstream down: the two registered for everyone and
/// `gateway__audit`, which the tool source offers to admins only.
#[tokio::test]
async fn golden_tools_list_of_the_gateways_own_tools() {
    let gw = Gw::start(&[("log", "http://127.0.0.1:9/mcp".into())], &[]).await;
    let r = gw.raw().list_tools().await;
    assert_eq!(names(&r), ["gateway__servers", "gateway__whoami", "gateway__audit"]);
    let mut text = serde_json::to_string_pretty(&r.result()["tools"]).unwrap();
    text.push('\n');
    expect_test::expect_file!["golden/tools_list.json"].assert_eq(&text);
    // The registered part is mcp-core's own listing of the server.
    let registered: Value = serde_json::from_str(&mcp_test::golden::tools_list(&gw.server.server)).unwrap();
    assert_eq!(registered.as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_tools_are_listed_qualified_with_their_definitions_unchanged() {
    let f = Fleet::start(&[]).await;
    let via_gw = f.gw.raw().list_tools().await;
    let listed = names(&via_gw);
    let direct = f.fs.raw().list_tools().await;
    for t in direct.result()["tools"].as_array().unwrap() {
        let q = format!("fs__{}", t["name"].as_str().unwrap());
        assert!(listed.contains(&q), "{q} missing from {listed:?}");
        let g = tool(&via_gw, &q);
        for field in ["description", "inputSchema", "outputSchema", "annotations", "title"] {
            assert_eq!(g[field], t[field], "{q}: {field} differs");
        }
    }
    assert!(listed.iter().any(|n| n == "log__logs_tail"), "{listed:?}");
    assert!(listed.iter().all(|n| n.len() <= 64 && n.contains("__")));
    // Upstream tools after the registered ones, in name order.
    let upstream: Vec<&String> = listed.iter().filter(|n| !n.starts_with("gateway__")).collect();
    let mut sorted = upstream.clone();
    sorted.sort();
    assert_eq!(upstream, sorted);
}

fn hint(t: &Value, k: &str) -> Option<bool> {
    t["annotations"][k].as_bool()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_decide_what_is_listed_and_whoami_counts_it() {
    let f = Fleet::start(&[]).await;
    let viewer = f.gw.key("viewer-key", "viewer", &[], &[]).await;
    let operator = f.gw.key("operator-key", "operator", &[], &[]).await;
    let admin = f.gw.key("admin-key", "admin", &[], &[]).await;
    let everything: BTreeSet<String> = names(&f.gw.raw().list_tools().await).into_iter().collect();
    let as_viewer = f.gw.as_key(&viewer).list_tools().await;
    let as_operator = f.gw.as_key(&operator).list_tools().await;
    let as_admin: BTreeSet<String> = names(&f.gw.as_key(&admin).list_tools().await).into_iter().collect();
    assert_eq!(as_admin, everything, "an admin key sees what the fleet sees");
    assert!(everything.contains("fs__delete") && everything.contains("gateway__audit"));

    for t in as_viewer.result()["tools"].as_array().unwrap() {
        assert_eq!(hint(t, "readOnlyHint"), Some(true), "viewer sees {}", t["name"]);
    }
    assert!(!names(&as_viewer).contains(&"gateway__audit".to_owned()));
    for t in as_operator.result()["tools"].as_array().unwrap() {
        let destructive = hint(t, "readOnlyHint") != Some(true) && hint(t, "destructiveHint") != Some(false);
        assert!(!destructive, "operator sees destructive {}", t["name"]);
    }
    let (v, o) = (names(&as_viewer), names(&as_operator));
    assert!(o.contains(&"fs__create_directory".to_owned()), "additive tools are the operator's: {o:?}");
    assert!(!o.contains(&"fs__write_file".to_owned()) && !o.contains(&"fs__delete".to_owned()));
    assert!(v.iter().all(|n| o.contains(n)) && o.len() > v.len());

    // whoami: who, and the count of what tools/list shows.
    for (key, listed) in [(&viewer, v.len()), (&operator, o.len()), (&admin, everything.len())] {
        let r = f.gw.as_key(key).call("gateway__whoami", json!({})).await;
        let w = ok(&r);
        assert_eq!(w["tools_visible"], listed, "{w}");
        assert!(w["key_id"].is_string());
    }
    let w = f.gw.raw().call("gateway__whoami", json!({})).await;
    assert_eq!(ok(&w)["subject"], "fleet");
    assert_eq!(ok(&w)["role"], "admin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_globs_limit_the_role_and_deny_wins() {
    let f = Fleet::start(&[]).await;
    let key = f.gw.key("globbed", "admin", &["fs__*", "log__logs_*"], &["fs__delete", "fs__write_*"]).await;
    let listed = names(&f.gw.as_key(&key).list_tools().await);
    assert!(listed.contains(&"fs__stat".to_owned()) && listed.contains(&"fs__move".to_owned()));
    assert!(listed.contains(&"log__logs_tail".to_owned()));
    for hidden in ["fs__delete", "fs__write_file", "gateway__audit"] {
        assert!(!listed.contains(&hidden.to_owned()), "{hidden} listed: {listed:?}");
    }
    assert!(listed.iter().filter(|n| n.starts_with("log__")).all(|n| n.starts_with("log__logs_")), "{listed:?}");
    // Registered own tools are everyone's.
    assert!(listed.contains(&"gateway__whoami".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hidden_tool_is_an_unknown_tool_and_is_audited_as_denied() {
    let f = Fleet::start(&[]).await;
    let viewer = f.gw.key("peeker", "viewer", &[], &[]).await;
    let c = f.gw.as_key(&viewer);
    let hidden = c.call("fs__delete", json!({"path": "hello.txt"})).await;
    let unknown = c.call("fs__no_such_tool", json!({})).await;
    for r in [&hidden, &unknown] {
        assert!(r.result().is_null(), "{}", r.text);
        assert_eq!(r.error()["code"], -32602, "{}", r.text);
    }
    // The same words for both, apart from the name.
    let m = |r: &mcp_test::raw::Reply, n: &str| r.error()["message"].as_str().unwrap().replace(n, "X");
    assert_eq!(m(&hidden, "fs__delete"), m(&unknown, "fs__no_such_tool"));
    assert!(f.root.join("hello.txt").exists(), "the hidden tool did not run");
    // The admin-only own tool too.
    let r = c.call("gateway__audit", json!({})).await;
    assert_eq!(r.error()["code"], -32602, "{}", r.text);

    let row =
        f.gw.audit_row(AuditQuery { tool: Some("fs__delete".into()), ..Default::default() }, |e| e.subject == "peeker")
            .await;
    assert_eq!(row.decision, "denied");
    assert_eq!(row.role, "viewer");
    assert!(row.outcome.is_none());
    // Calls of tools that exist nowhere are not audited as denials.
    let none =
        f.gw.state
            .store
            .audit(&AuditQuery { tool: Some("fs__no_such_tool".into()), limit: 10, ..Default::default() })
            .await
            .unwrap();
    assert!(none.is_empty());
    // An admin reads the audit through the MCP tool.
    let r = f.gw.raw().call("gateway__audit", json!({"decision": "denied"})).await;
    let entries = ok(&r)["entries"].as_array().unwrap().clone();
    assert!(entries.iter().any(|e| e["tool"] == "fs__delete"), "{entries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_call_answers_as_the_upstream_and_is_audited_without_values() {
    let f = Fleet::start(&[]).await;
    let admin = f.gw.key("writer", "admin", &[], &[]).await;
    let c = f.gw.as_key(&admin);
    let secret = "sk-live-4f9c2a7be1d04c53a8e6SECRET";
    let args = json!({"path": "notes/secret.txt", "content": secret, "create_parents": true});
    let w = c.call("fs__write_file", args.clone()).await;
    ok(&w);
    assert_eq!(std::fs::read_to_string(f.root.join("notes/secret.txt")).unwrap(), secret);

    // The same read through the gateway and directly: the same answer.
    let via = c.call("fs__read_file", json!({"path": "notes/secret.txt"})).await;
    let direct = f.fs.raw().call("read_file", json!({"path": "notes/secret.txt"})).await;
    assert_eq!(ok(&via), ok(&direct));
    assert_eq!(via.result()["content"], direct.result()["content"]);

    // A tool failure comes back as a failure of the same kind.
    let missing = c.call("fs__read_file", json!({"path": "nope.txt"})).await;
    let direct_missing = f.fs.raw().call("read_file", json!({"path": "nope.txt"})).await;
    assert_eq!(err(&missing), err(&direct_missing));
    let kind = "dev.mcp-fleet/errorKind";
    assert_eq!(missing.result()["_meta"][kind], direct_missing.result()["_meta"][kind]);
    assert_eq!(missing.result()["_meta"][kind], "not_found");

    let row = f
        .gw
        .audit_row(AuditQuery { tool: Some("fs__write_file".into()), ..Default::default() }, |e| e.subject == "writer")
        .await;
    assert_eq!(row.decision, "allowed");
    assert_eq!(row.outcome.as_deref(), Some("ok"));
    assert_eq!(row.via, "mcp");
    assert_eq!(row.args_shape, json!({"path": "string", "content": "string", "create_parents": "boolean"}));
    assert_eq!(row.args_sha256, mcp_client_api_gateway::audit::args_sha256(&args));
    assert!(row.trace_id.as_deref().is_some_and(|t| t.len() == 32), "{row:?}");
    let failed =
        f.gw.audit_row(AuditQuery { tool: Some("fs__read_file".into()), ..Default::default() }, |e| {
            e.outcome.as_deref() == Some("error")
        })
        .await;
    assert_eq!(failed.error_kind.as_deref(), Some("not_found"));

    // The value is nowhere in the audit: not in any row, not in the
    // database's files (table pages and write-ahead log).
    let all = f.gw.state.store.audit(&AuditQuery { limit: 500, ..Default::default() }).await.unwrap();
    assert!(!serde_json::to_string(&all).unwrap().contains(secret));
    let files = f.gw.db_files();
    assert!(!files.is_empty());
    for p in files {
        let bytes = std::fs::read(&p).unwrap();
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()), "{} holds the secret", p.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_answers_rate_limited_as_a_tool_result() {
    let f = Fleet::start(&[("GATEWAY_TOOL_QUOTA_PER_MINUTE", "2")]).await;
    let key = f.gw.key("hasty", "viewer", &[], &[]).await;
    let c = f.gw.as_key(&key);
    for _ in 0..2 {
        ok(&c.call("fs__stat", json!({"path": "hello.txt"})).await);
    }
    let r = c.call("fs__stat", json!({"path": "hello.txt"})).await;
    let text = err(&r);
    assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "rate_limited", "{}", r.text);
    assert!(text.contains("retry in") && text.contains("fs__stat"), "{text}");
    // Another tool, and the fleet, are not affected.
    ok(&c.call("fs__list_roots", json!({})).await);
    for _ in 0..4 {
        ok(&f.gw.raw().call("fs__stat", json!({"path": "hello.txt"})).await);
    }
    let row = f
        .gw
        .audit_row(AuditQuery { decision: Some("rate_limited".into()), ..Default::default() }, |e| e.subject == "hasty")
        .await;
    assert_eq!(row.tool, "fs__stat");
    assert_eq!(row.error_kind.as_deref(), Some("rate_limited"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_edge_limit_answers_429_with_retry_after() {
    // 10 a minute with a burst of one: the second request at once is over.
    let f = Fleet::start(&[("GATEWAY_RATE_PER_MINUTE", "10")]).await;
    let key = f.gw.key("flood", "viewer", &[], &[]).await;
    let c = f.gw.as_key(&key);
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..3 {
        let r = c.list_tools().await;
        statuses.push(r.status);
        if r.status == 429 {
            retry_after = r.headers.get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            assert!(r.body["error"].is_object(), "a JSON-RPC error body on /mcp: {}", r.text);
        }
    }
    assert_eq!(statuses[0], 200);
    assert!(statuses.contains(&429), "{statuses:?}");
    let secs: u64 = retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
    // The fleet token is not limited.
    for _ in 0..5 {
        assert_eq!(f.gw.raw().list_tools().await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_protocol_eras_reach_the_upstreams() {
    let f = Fleet::start(&[]).await;
    let key = f.gw.key("era", "operator", &[], &[]).await;
    // 2026-07-28, stateless.
    let r = f.gw.as_key(&key).call("fs__stat", json!({"path": "hello.txt"})).await;
    assert_eq!(ok(&r)["exists"], true, "{}", r.text);
    assert!(r.headers.get("mcp-session-id").is_none());
    // 2025-11-25, in a session.
    let mut s = f.gw.as_key(&key);
    let init = s.open_session().await;
    assert_eq!(init.result()["protocolVersion"], LEGACY);
    assert_eq!(init.result()["capabilities"]["tools"]["listChanged"], true, "{}", init.text);
    let list = s.session_request(2, "tools/list", json!({})).await;
    let listed = names(&list);
    assert!(listed.contains(&"fs__create_directory".to_owned()) && !listed.contains(&"fs__delete".to_owned()));
    let call = s.session_request(3, "tools/call", json!({"name": "log__logs_tail", "arguments": {}})).await;
    assert_eq!(call.result()["isError"], false, "{}", call.text);
    let hidden = s.session_request(4, "tools/call", json!({"name": "fs__delete", "arguments": {"path": "x"}})).await;
    assert_eq!(hidden.error()["code"], -32602, "{}", hidden.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_trace_reaches_the_upstreams_span() {
    let f = Fleet::start(&[]).await;
    let tp = mcp_core::trace::new_traceparent();
    let trace_id = mcp_core::trace::trace_id_of(&tp).unwrap().to_owned();
    let r =
        f.gw.raw()
            .request(
                "tools/call",
                json!({"name": "fs__stat", "arguments": {"path": "hello.txt"}}),
                json!({"traceparent": tp}),
                &[],
            )
            .await;
    ok(&r);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        telemetry::flush().await;
        let spans = telemetry::collector().trace(&trace_id);
        let gateway = spans
            .iter()
            .find(|s| s.name == "tools/call fs__stat" && s.attr("service") == Some(mcp_client_api_gateway::NAME));
        let upstream = spans.iter().find(|s| s.name == "tools/call stat" && s.attr("service") == Some("mcp-server-fs"));
        if let (Some(g), Some(u)) = (gateway, upstream) {
            // The upstream's server span hangs under the gateway's client
            // span, which hangs under the gateway's server span.
            let client = spans.iter().find(|s| s.span_id == u.parent_span_id).expect("the upstream span's parent");
            assert_eq!(client.parent_span_id, g.span_id, "{spans:#?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "spans of {trace_id}: {spans:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = f.gw.audit_row(AuditQuery { tool: Some("fs__stat".into()), ..Default::default() }, |_| true).await;
    assert_eq!(row.trace_id.as_deref(), Some(trace_id.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_all_succeed() {
    // The load test, in every `cargo xtask test`: 1000 calls at once
    // through the gateway to real servers, none may fail. The latency
    // figures (debug build, in-process) are printed, not asserted: the
    // release figures against a direct call are `cargo xtask bench gateway`.
    // No edge limit or quota: this is about the forwarding path under load.
    let f = Fleet::start(&[("GATEWAY_RATE_PER_MINUTE", "0"), ("GATEWAY_TOOL_QUOTA_PER_MINUTE", "0")]).await;
    let key = f.gw.key("load", "viewer", &[], &[]).await;
    let c = f.gw.as_key(&key);
    let calls = (0..1000).map(|i| {
        let c = c.clone();
        async move {
            let tool = if i % 2 == 0 { "fs__stat" } else { "log__logs_tail" };
            let args = if i % 2 == 0 { json!({"path": "hello.txt"}) } else { json!({}) };
            let t = std::time::Instant::now();
            let r = c.call(tool, args).await;
            (r.status == 200 && r.result()["isError"] == false, t.elapsed())
        }
    });
    let results = futures::future::join_all(calls).await;
    let failed: Vec<_> = results.iter().filter(|(ok, _)| !*ok).collect();
    assert_eq!(failed.len(), 0, "{} of 1000 calls failed", failed.len());
    let mut ms: Vec<f64> = results.iter().map(|(_, d)| d.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    println!("1000 concurrent calls through the gateway: p50 {:.1} ms, p99 {:.1} ms", ms[499], ms[989]);
    let servers = f.gw.state.servers();
    let fs = servers.iter().find(|s| s.name == "fs").unwrap();
    assert!(fs.p95_ms.is_some() && fs.calls_sampled >= 100, "{fs:?}");
}

/// The upstreams' resources come through as `{server}+{uri}`, readable by a
/// viewer, hidden from a key whose globs exclude that upstream — listed
/// nowhere and "not found" when read by name, as a hidden tool is unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_are_namespaced_and_filtered_like_tools() {
    let f = Fleet::start(&[]).await;
    let viewer = f.gw.key("res-viewer", "viewer", &[], &[]).await;
    let no_fs = f.gw.key("res-no-fs", "admin", &[], &["fs__*"]).await;
    let list = f.gw.as_key(&viewer).request("resources/list", json!({}), json!({}), &[]).await;
    let resources = list.result()["resources"].as_array().cloned().unwrap_or_default();
    let hello = resources
        .iter()
        .find(|r| r["uri"].as_str().is_some_and(|u| u.starts_with("fs+file://") && u.ends_with("/hello.txt")))
        .unwrap_or_else(|| panic!("no fs resource in {}", list.text))
        .clone();
    assert!(hello["name"].as_str().unwrap().starts_with("fs__"), "{hello}");
    let uri = hello["uri"].as_str().unwrap();
    let read = f.gw.as_key(&viewer).request("resources/read", json!({"uri": uri}), json!({}), &[]).await;
    let contents = &read.result()["contents"][0];
    assert_eq!(contents["text"], "hello, gateway\n", "{}", read.text);
    assert_eq!(contents["uri"], uri, "the answer names the resource as the gateway does");

    // Templates carry the same prefix.
    let t = f.gw.as_key(&viewer).request("resources/templates/list", json!({}), json!({}), &[]).await;
    for tpl in t.result()["resourceTemplates"].as_array().cloned().unwrap_or_default() {
        assert!(tpl["uriTemplate"].as_str().unwrap().contains('+'), "{tpl}");
    }

    // A key denied fs__* sees no fs resource and cannot read one by name.
    let hidden = f.gw.as_key(&no_fs).request("resources/list", json!({}), json!({}), &[]).await;
    assert!(!hidden.text.contains("fs+file"), "{}", hidden.text);
    let refused = f.gw.as_key(&no_fs).request("resources/read", json!({"uri": uri}), json!({}), &[]).await;
    // The same answer as for a resource that does not exist (rmcp's
    // resource-not-found), naming only what was asked.
    let nothing =
        f.gw.as_key(&viewer).request("resources/read", json!({"uri": "nowhere+file:///x"}), json!({}), &[]).await;
    assert!(nothing.body["error"]["code"].is_i64(), "{}", nothing.text);
    assert_eq!(refused.body["error"]["code"], nothing.body["error"]["code"], "{}", refused.text);
    assert_eq!(refused.body["error"]["message"], format!("no resource {uri}"), "{}", refused.text);
    let bad = f.gw.as_key(&viewer).request("resources/list", json!({"cursor": "not-a-cursor"}), json!({}), &[]).await;
    assert_eq!(bad.body["error"]["code"], -32602, "{}", bad.text);

    // Each upstream's version is the one its serverInfo announces.
    let servers = f.gw.raw().call("gateway__servers", json!({})).await;
    let fs = ok(&servers)["servers"].as_array().unwrap().iter().find(|s| s["name"] == "fs").cloned().unwrap();
    assert_eq!(fs["version"], env!("CARGO_PKG_VERSION"), "{fs}");
}
