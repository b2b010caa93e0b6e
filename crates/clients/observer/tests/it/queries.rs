//! The queries, over MCP and HTTP, on both backends: a trace as a tree,
//! searches with every filter, and the project audit joining the sql
//! server's decisions and messages with the stored traces.

use mcp_test::TestServer;
use serde_json::{Value, json};

use crate::otlp::{PROTOBUF, S, now_ns, protobuf, trace_id};
use crate::{Obs, err, ok};

/// Three traces: a fast one, a slow one with an error, one of a project.
struct Seed {
    fast: String,
    slow: String,
    proj: String,
    root: S,
    child: S,
    grandchild: S,
}

async fn seed(o: &Obs) -> Seed {
    let t0 = now_ns() - 60_000_000_000;
    let fast = trace_id();
    let root =
        S::new(&fast, "mcp-client-planner", "", t0, 0.0, 30.0).tool("plan").attr("gen_ai.conversation.id", "p-fast");
    let child = S::new(&fast, "mcp-server-fs", "", t0, 5.0, 10.0).tool("read_file").child_of(&root);
    let grandchild = S::new(&fast, "mcp-server-git", "", t0, 7.0, 2.0).tool("git_status").child_of(&child);
    let slow = trace_id();
    let s_root = S::new(&slow, "mcp-client-planner", "", t0 + 1_000_000_000, 0.0, 2500.0).tool("plan");
    let s_child = S::new(&slow, "mcp-server-test", "", t0 + 1_000_000_000, 10.0, 2400.0)
        .tool("run_tests")
        .child_of(&s_root)
        .failed();
    let proj = trace_id();
    let p_root = S::new(&proj, "mcp-client-llm-agent", "invoke_agent", t0 + 2_000_000_000, 0.0, 50.0)
        .attr("gen_ai.conversation.id", "req-42");
    let (s, _) =
        o.post(protobuf(&[root.clone(), child.clone(), grandchild.clone(), s_root, s_child, p_root]), PROTOBUF).await;
    assert_eq!(s, 200);
    Seed { fast, slow, proj, root, child, grandchild }
}

fn ids(v: &Value) -> Vec<String> {
    v["traces"].as_array().unwrap().iter().map(|t| t["trace_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_and_search_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in mcp_test::services::both_backends(dir.path(), "queries") {
        let o = Obs::start(&url, "http://127.0.0.1:9/mcp").await;
        let s = seed(&o).await;

        // The tree, over MCP.
        let r = o.raw().call("trace_get", json!({"trace_id": s.fast.to_uppercase()})).await;
        let t = &ok(&r)["trace"];
        assert_eq!(t["span_count"], 3, "{backend}");
        assert_eq!(t["services"], json!(["mcp-client-planner", "mcp-server-fs", "mcp-server-git"]));
        let root = &t["roots"][0];
        assert_eq!(root["span_id"], s.root.span_id.as_str());
        assert_eq!(root["children"][0]["span_id"], s.child.span_id.as_str());
        assert_eq!(root["children"][0]["children"][0]["span_id"], s.grandchild.span_id.as_str());
        assert_eq!(root["children"][0]["offset_ms"], 5.0);
        assert_eq!(root["children"][0]["attributes"]["gen_ai.tool.name"], "read_file");
        assert!((t["duration_ms"].as_f64().unwrap() - 30.0).abs() < 1e-6);
        let text = r.result()["content"][0]["text"].as_str().unwrap();
        assert!(text.contains("mcp-server-git tools/call git_status"), "{text}");

        // The same over HTTP, without attributes and cut to two spans.
        let (status, v) = o.get(&format!("/api/traces/{}?attributes=false&max_spans=2", s.fast)).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["trace"]["truncated"], true);
        assert_eq!(v["trace"]["total_spans"], 3);
        assert!(v["trace"]["roots"][0].get("attributes").is_none());

        // Unknown and malformed ids.
        let (status, v) = o.get(&format!("/api/traces/{}", trace_id())).await;
        assert_eq!(status, 404, "{v}");
        let (status, _) = o.get("/api/traces/not-a-trace").await;
        assert_eq!(status, 400);
        assert!(err(&o.raw().call("trace_get", json!({"trace_id": "xyz"})).await).contains("32 hex digits"));

        // Searches.
        let all = ok(&o.raw().call("traces_search", json!({"since": "1h"})).await).clone();
        assert_eq!(ids(&all).len(), 3, "{backend}: {all}");
        assert_eq!(ids(&all)[0], s.proj, "latest first");
        let by_service = ok(&o.raw().call("traces_search", json!({"service": "mcp-server-fs"})).await).clone();
        assert_eq!(ids(&by_service), [s.fast.as_str()]);
        let by_tool = ok(&o.raw().call("traces_search", json!({"operation": "run_tests"})).await).clone();
        assert_eq!(ids(&by_tool), [s.slow.as_str()]);
        let by_name = ok(&o.raw().call("traces_search", json!({"operation": "tools/call git_status"})).await).clone();
        assert_eq!(ids(&by_name), [s.fast.as_str()]);
        let slow = ok(&o.raw().call("traces_search", json!({"min_duration_ms": 1000})).await).clone();
        assert_eq!(ids(&slow), [s.slow.as_str()]);
        let errors = ok(&o.raw().call("traces_search", json!({"errors_only": true})).await).clone();
        assert_eq!(ids(&errors), [s.slow.as_str()]);
        let summary = &errors["traces"][0];
        assert_eq!(summary["error_count"], 1);
        assert_eq!(summary["span_count"], 2);
        assert_eq!(summary["root_name"], "tools/call plan");
        assert_eq!(summary["root_service"], "mcp-client-planner");
        assert_eq!(summary["services"], json!(["mcp-client-planner", "mcp-server-test"]));
        let by_project = ok(&o.raw().call("traces_search", json!({"project": "req-42"})).await).clone();
        assert_eq!(ids(&by_project), [s.proj.as_str()]);
        let slowest = ok(&o.raw().call("traces_search", json!({"order": "slowest", "limit": 1})).await).clone();
        assert_eq!(ids(&slowest), [s.slow.as_str()]);
        let none = ok(&o.raw().call("traces_search", json!({"since": "10s"})).await).clone();
        assert!(ids(&none).is_empty(), "{none}");
        let none = ok(&o.raw().call("traces_search", json!({"until": "2h"})).await).clone();
        assert!(ids(&none).is_empty(), "{none}");

        // The HTTP form.
        let (status, v) = o.get("/api/traces?service=mcp-server-test&errors_only=true&since=2h&limit=5").await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(ids(&v), [s.slow.as_str()]);
        let (status, v) = o.get("/api/traces?min_duration_ms=lots").await;
        assert_eq!(status, 400, "{v}");
        let (status, _) = o.get("/api/traces?since=yesterday").await;
        assert_eq!(status, 400);
        assert!(err(&o.raw().call("traces_search", json!({"order": "random"})).await).contains("slowest"));
        assert!(err(&o.raw().call("traces_search", json!({"limit": 0})).await).contains("limit"));
        o.running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_audit_joins_decisions_messages_and_traces() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in mcp_test::services::both_backends(dir.path(), "audit") {
        let sql_url = if backend == "sqlite" {
            mcp_test::services::sqlite_url(dir.path(), "sql")
        } else {
            mcp_test::services::postgres_url()
        };
        let sql =
            TestServer::start(mcp_server_sql::server(mcp_server_sql::Config::for_url(&sql_url)).await.unwrap()).await;
        let o = Obs::start(&url, &sql.url()).await;
        let s = seed(&o).await;

        // The agent's records: a decision under the project's trace, another
        // under a trace the observer never saw, and a message.
        let r = sql
            .raw()
            .call(
                "decision_record",
                json!({"project": "req-42", "trace_id": s.proj, "actor": "llm-agent", "decision": "received",
                       "rationale": "new request"}),
            )
            .await;
        ok(&r);
        let unknown = trace_id();
        ok(&sql
            .raw()
            .call(
                "decision_record",
                json!({"project": "req-42", "trace_id": unknown, "actor": "planner", "decision": "completed"}),
            )
            .await);
        ok(&sql
            .raw()
            .call(
                "message_record",
                json!({"project": "req-42", "direction": "in", "channel": "email", "from_addr": "alice@example.test",
                       "to_addr": "agent@example.test", "subject": "New project", "body": "Please build it",
                       "trace_id": s.proj}),
            )
            .await);

        let a = ok(&o.raw().call("project_audit", json!({"project": "req-42"})).await).clone();
        assert_eq!(a["warnings"], json!([]), "{backend}: {a}");
        assert_eq!(a["decisions"].as_array().unwrap().len(), 2, "{a}");
        assert_eq!(a["messages"].as_array().unwrap().len(), 1);
        assert_eq!(a["decisions"][0]["trace"]["trace_id"], s.proj.as_str(), "decision joined with its trace: {a}");
        assert!(a["decisions"][1].get("trace").is_none());
        assert_eq!(a["messages"][0]["trace"]["span_count"], 1);
        assert_eq!(ids(&a), [s.proj.as_str()]);
        let kinds: Vec<&str> = a["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "span").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "decision").count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == "message").count(), 1);
        let ts: Vec<i64> = a["timeline"].as_array().unwrap().iter().map(|e| e["ts_ms"].as_i64().unwrap()).collect();
        assert!(ts.windows(2).all(|w| w[0] <= w[1]), "timeline out of order: {ts:?}");

        // The HTTP route gives the same; decisions of a trace come with trace_get when asked.
        let (status, v) = o.get("/api/projects/req-42").await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["decisions"].as_array().unwrap().len(), 2);
        let (_, v) = o.get(&format!("/api/traces/{}?decisions=true", s.proj)).await;
        assert_eq!(v["decisions"][0]["decision"], "received", "{v}");

        // With the sql server gone the spans still come, with a warning.
        sql.stop().await;
        let a = ok(&o.raw().call("project_audit", json!({"project": "req-42"})).await).clone();
        assert_eq!(ids(&a), [s.proj.as_str()]);
        assert_eq!(a["warnings"].as_array().unwrap().len(), 2, "{a}");
        assert!(err(&o.raw().call("project_audit", json!({"project": " "})).await).contains("project"));
        o.running.stop().await;
    }
}
