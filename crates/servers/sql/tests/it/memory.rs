//! The knowledge base, the communication and decision logs, the timeline.

use serde_json::json;

use crate::{err, fixtures, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_base_round_trip_and_ranked_search() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        let a = ok(&f.call("kb_put", json!({"title": "Pytest fixtures", "body": "Use fixture scope=session for expensive setup such as a database.", "tags": ["Python", "testing"], "project": "p1"})).await).clone();
        assert_eq!(a["created"], true, "{l}");
        let id_a = a["id"].as_i64().unwrap();
        let b = ok(&f.call("kb_put", json!({"title": "Cargo workspaces", "body": "A virtual manifest lists members; shared dependencies go in workspace.dependencies.", "tags": ["rust"]})).await).clone();
        ok(&f.call("kb_put", json!({"title": "Database migrations", "body": "Run migrations before tests touch the database.", "tags": ["testing"], "project": "p1"})).await);

        let got = ok(&f.call("kb_get", json!({"id": id_a})).await).clone();
        assert_eq!(
            (got["title"].as_str(), got["tags"].clone()),
            (Some("Pytest fixtures"), json!(["python", "testing"])),
            "{l}"
        );

        let r = f.call("kb_search", json!({"query": "database fixture"})).await;
        let v = ok(&r);
        assert_eq!(v["matched"], "all", "{l}");
        assert_eq!(v["hits"][0]["id"], id_a, "{l}: {}", r.text);
        assert!(v["hits"][0]["snippet"].as_str().unwrap().contains('['), "{l}: snippet marks the match: {}", r.text);
        // No entry has both words: falls back to any word, still ranked.
        let r = f.call("kb_search", json!({"query": "workspace database"})).await;
        let v = ok(&r);
        assert_eq!(v["matched"], "any", "{l}");
        assert!(v["hits"].as_array().unwrap().len() >= 2, "{l}: {}", r.text);
        // The caller's query syntax is inert.
        ok(&f.call("kb_search", json!({"query": "\"unbalanced AND ( NEAR* ^:"})).await);
        assert!(err(&f.call("kb_search", json!({"query": "!!! ???"})).await).contains("no words"));
        // Project filter.
        let r = f.call("kb_search", json!({"query": "migrations database", "project": "p1"})).await;
        assert!(ok(&r)["hits"].as_array().unwrap().iter().all(|h| h["project"] == "p1"), "{l}");

        let list = ok(&f.call("kb_list", json!({"tag": "testing"})).await).clone();
        assert_eq!(list["items"].as_array().unwrap().len(), 2, "{l}");
        // Replace, then the search index follows.
        ok(&f.call("kb_put", json!({"id": b["id"], "title": "Cargo workspaces", "body": "Members share one Cargo.lock and one target directory.", "tags": ["rust"]})).await);
        let r = f.call("kb_search", json!({"query": "virtual manifest"})).await;
        assert!(ok(&r)["hits"].as_array().unwrap().is_empty(), "{l}: stale index: {}", r.text);
        let r = f.call("kb_search", json!({"query": "target directory"})).await;
        assert_eq!(ok(&r)["hits"][0]["id"], b["id"], "{l}");
        ok(&f.call("kb_delete", json!({"id": id_a})).await);
        assert!(err(&f.call("kb_get", json!({"id": id_a})).await).contains("not found"));
        let r = f.call("kb_search", json!({"query": "pytest"})).await;
        assert!(ok(&r)["hits"].as_array().unwrap().is_empty(), "{l}: deleted entry still found");
        assert!(err(&f.call("kb_put", json!({"id": 999999, "title": "x", "body": "y"})).await).contains("not found"));
        assert!(err(&f.call("kb_put", json!({"title": "", "body": "y"})).await).contains("empty"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_decisions_and_the_project_timeline() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        let tp = mcp_core::trace::new_traceparent();
        let trace = mcp_core::trace::trace_id_of(&tp).unwrap().to_owned();
        let m1 = f
            .server
            .raw()
            .request(
                "tools/call",
                json!({"name": "message_record", "arguments": {"project": "req-1", "thread_id": "<a@x>", "direction": "in", "channel": "email", "from_addr": "ana@example.test", "subject": "New CLI", "body": "Please build a CLI", "message_id": "<a@x>"}}),
                json!({"traceparent": tp}),
                &[],
            )
            .await;
        // The trace of the call is stored when none is given.
        assert_eq!(ok(&m1)["trace_id"], trace.as_str(), "{l}");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        ok(&f.call("decision_record", json!({"project": "req-1", "trace_id": trace, "actor": "llm-agent", "decision": "asked", "rationale": "language missing", "inputs": {"missing": ["language"]}})).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        ok(&f.call("message_record", json!({"project": "req-1", "thread_id": "<a@x>", "direction": "out", "channel": "email", "subject": "Re: New CLI", "body": "Which language?", "in_reply_to": "<a@x>", "trace_id": trace})).await);
        ok(&f.call("decision_record", json!({"project": "other", "actor": "planner", "decision": "completed"})).await);

        let d = ok(&f.call("decision_list", json!({"project": "req-1"})).await).clone();
        assert_eq!(d["items"][0]["inputs"], json!({"missing": ["language"]}), "{l}");
        let by_trace = ok(&f.call("decision_list", json!({"trace_id": trace})).await).clone();
        assert_eq!(by_trace["items"].as_array().unwrap().len(), 1, "{l}");
        let msgs = ok(&f.call("message_list", json!({"thread_id": "<a@x>"})).await).clone();
        assert_eq!(
            msgs["items"].as_array().unwrap().iter().map(|m| m["direction"].as_str().unwrap()).collect::<Vec<_>>(),
            ["in", "out"],
            "{l}"
        );
        let t = ok(&f.call("project_timeline", json!({"project": "req-1"})).await).clone();
        let kinds: Vec<String> = t["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{}:{}",
                    e["kind"].as_str().unwrap(),
                    e["direction"].as_str().or(e["decision"].as_str()).unwrap()
                )
            })
            .collect();
        assert_eq!(kinds, ["message:in", "decision:asked", "message:out"], "{l}");
        assert!(t["entries"].as_array().unwrap().iter().all(|e| e["trace_id"] == trace.as_str()), "{l}");

        // The planner files the run under the project's folder name, in the same trace: either key now gives
        // the whole story, and another project's records stay out.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        ok(&f
            .call(
                "decision_record",
                json!({"project": "word-counter", "trace_id": trace, "actor": "planner", "decision": "completed"}),
            )
            .await);
        ok(&f.call("decision_record", json!({"project": "unrelated", "trace_id": "0af7651916cd43dd8448eb211c80319c", "actor": "planner", "decision": "failed"})).await);
        for key in ["req-1", "word-counter"] {
            let t = ok(&f.call("project_timeline", json!({"project": key})).await).clone();
            let kinds: Vec<&str> = t["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["direction"].as_str().or(e["decision"].as_str()).unwrap())
                .collect();
            assert_eq!(kinds, ["in", "asked", "out", "completed"], "{l}: {key}");
            let d = ok(&f.call("decision_list", json!({"project": key})).await).clone();
            assert_eq!(d["items"].as_array().unwrap().len(), 2, "{l}: {key}: {d}");
            let m = ok(&f.call("message_list", json!({"project": key})).await).clone();
            assert_eq!(m["items"].as_array().unwrap().len(), 2, "{l}: {key}: {m}");
        }
        assert!(err(&f.call("decision_list", json!({})).await).contains("at least one"));
        assert!(
            err(&f.call("message_record", json!({"direction": "sideways", "channel": "x"})).await)
                .contains("invalid arguments")
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_sql_reads_and_optional_writes() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        ok(&f.call("decision_record", json!({"project": "p", "actor": "a", "decision": "x"})).await);
        let t = ok(&f.call("sql_tables", json!({})).await).clone();
        let names: Vec<&str> = t["tables"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["decisions", "kb_entries", "messages"], "{l}: internal tables hidden");
        assert_eq!(t["dialect"], l);
        let d = ok(&f.call("sql_describe", json!({"table": "decisions"})).await).clone();
        assert!(
            d["columns"].as_array().unwrap().iter().any(|c| c["name"] == "actor" && c["nullable"] == false),
            "{l}: {d}"
        );
        assert!(err(&f.call("sql_describe", json!({"table": "_mcp_migrations_sql"})).await).contains("tables:"));
        let q = ok(&f.call("sql_query", json!({"sql": "SELECT actor, count(*) AS n FROM decisions WHERE project = $1 GROUP BY actor", "params": ["p"]})).await).clone();
        assert_eq!(q["columns"], json!(["actor", "n"]), "{l}");
        assert_eq!(q["rows"], json!([["a", 1]]), "{l}");
        // Writes are not offered unless configured.
        let r = f.call("sql_execute", json!({"sql": "DELETE FROM decisions"})).await;
        assert!(r.error()["code"].is_i64(), "{l}: {}", r.text);
    }
    for f in fixtures(|c| c.allow_write = true).await {
        let l = f.label;
        let r = ok(&f.call("sql_execute", json!({"sql": "INSERT INTO decisions (actor, decision, created_at, created_ms) VALUES ($1, $2, $3, $4)", "params": ["me", "noted", "2026-01-01T00:00:00Z", 0]})).await).clone();
        assert_eq!(r["rows_affected"], 1, "{l}");
        assert!(
            err(&f.call("sql_execute", json!({"sql": "DROP TABLE decisions"})).await)
                .contains("INSERT, UPDATE or DELETE")
        );
        assert!(
            err(&f.call("sql_execute", json!({"sql": "DELETE FROM _mcp_migrations_sql"})).await).contains("internal")
        );
        assert!(err(&f.call("sql_execute", json!({"sql": "INSERT INTO nope VALUES (1)"})).await).contains("refused"));
    }
}
