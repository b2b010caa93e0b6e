//! Idempotency keys on `decision_record` and `message_record`: a replay
//! returns the first record and writes nothing, other arguments under a used
//! key are a conflict, calls without a key write every time, and a replay
//! after the answer was lost (the same call again, also across a restart of
//! the server, also many at once) still finds exactly one record.

use mcp_server_sql::{Config, server};
use mcp_test::TestServer;
use serde_json::{Value, json};

use crate::{Fixture, err, fixtures, ok};

/// The two record tools, a call of each, and how to count their records in `project`.
fn cases(project: &str) -> [(&'static str, Value, &'static str); 2] {
    [
        (
            "decision_record",
            json!({"project": project, "actor": "llm-agent", "decision": "asked", "rationale": "language missing",
                   "inputs": {"message_id": "<m1@x>", "missing": ["language"]}}),
            "decision_list",
        ),
        (
            "message_record",
            json!({"project": project, "thread_id": "<m1@x>", "direction": "in", "channel": "email",
                   "subject": "New CLI", "body": "Please build a CLI", "message_id": "<m1@x>"}),
            "message_list",
        ),
    ]
}

fn with_key(args: &Value, key: &str) -> Value {
    let mut a = args.clone();
    a["idempotency_key"] = json!(key);
    a
}

async fn count(f: &Fixture, list: &str, project: &str) -> usize {
    ok(&f.call(list, json!({"project": project, "limit": 100})).await)["items"].as_array().unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_replays_the_first_record_and_refuses_other_arguments() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        for (tool, args, list) in cases(&format!("p-{l}")) {
            let project = args["project"].as_str().unwrap().to_owned();
            let first = ok(&f.call(tool, with_key(&args, "req-1/asked")).await).clone();
            assert_eq!(first["duplicate"], false, "{l} {tool}");
            let id = first["id"].as_i64().unwrap();

            // The same call again: the first record, nothing written.
            let r = f.call(tool, with_key(&args, "req-1/asked")).await;
            let again = ok(&r);
            assert_eq!((again["id"].as_i64(), &again["duplicate"]), (Some(id), &json!(true)), "{l} {tool}: {}", r.text);
            assert!(r.text.contains("duplicate"), "{l} {tool}: the text says so: {}", r.text);
            assert_eq!(count(&f, list, &project).await, 1, "{l} {tool}");

            // The same arguments written differently are the same call: fields in
            // another order, an absent optional field given as null.
            let mut reordered = serde_json::Map::new();
            for (k, v) in args.as_object().unwrap().iter().rev() {
                reordered.insert(k.clone(), v.clone());
            }
            reordered.insert(if tool == "decision_record" { "outputs" } else { "to_addr" }.into(), Value::Null);
            reordered.insert("idempotency_key".into(), json!("req-1/asked"));
            assert_eq!(ok(&f.call(tool, Value::Object(reordered)).await)["id"].as_i64(), Some(id), "{l} {tool}");

            // Other arguments under the same key: a conflict, nothing written.
            let mut other = with_key(&args, "req-1/asked");
            other[if tool == "decision_record" { "rationale" } else { "subject" }] = json!("changed");
            let e = err(&f.call(tool, other).await);
            assert!(e.contains("different arguments") && e.contains(&id.to_string()), "{l} {tool}: {e}");
            assert_eq!(count(&f, list, &project).await, 1, "{l} {tool}");

            // Without a key every call writes.
            ok(&f.call(tool, args.clone()).await);
            let plain = ok(&f.call(tool, args.clone()).await).clone();
            assert_eq!(plain["duplicate"], false, "{l} {tool}");
            assert_eq!(count(&f, list, &project).await, 3, "{l} {tool}");

            // A new key writes a new record.
            let next = ok(&f.call(tool, with_key(&args, "req-1/asked-again")).await).clone();
            assert_ne!(next["id"].as_i64(), Some(id), "{l} {tool}");
            assert_eq!(count(&f, list, &project).await, 4, "{l} {tool}");

            // Keys are bounded like the email server's.
            for bad in [json!(""), json!("k".repeat(201)), json!("a\nb")] {
                let mut a = args.clone();
                a["idempotency_key"] = bad;
                assert!(err(&f.call(tool, a).await).contains("idempotency_key"), "{l} {tool}");
            }
            assert_eq!(count(&f, list, &project).await, 4, "{l} {tool}");
        }
        // Keys are per tool: the key used by decision_record above was free for message_record.
        // The key table is internal: not listed, not writable through the generic tools.
        let t = ok(&f.call("sql_tables", json!({})).await).clone();
        assert!(!t.to_string().contains("idempotency"), "{l}: {t}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_trace_id_is_not_part_of_the_arguments() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        let args =
            json!({"project": "t", "actor": "planner", "decision": "completed", "idempotency_key": "run-7/done"});
        let call = |tp: String| {
            let raw = f.server.raw();
            let args = args.clone();
            async move {
                raw.request(
                    "tools/call",
                    json!({"name": "decision_record", "arguments": args}),
                    json!({"traceparent": tp}),
                    &[],
                )
                .await
            }
        };
        let tp1 = mcp_core::trace::new_traceparent();
        let first = ok(&call(tp1.clone()).await).clone();
        assert_eq!(first["trace_id"], mcp_core::trace::trace_id_of(&tp1).unwrap(), "{l}");
        // The retry comes under another trace: still the same call, and the stored trace comes back.
        let r = call(mcp_core::trace::new_traceparent()).await;
        let again = ok(&r);
        assert_eq!(
            (&again["id"], &again["trace_id"], &again["duplicate"]),
            (&first["id"], &first["trace_id"], &json!(true)),
            "{l}"
        );
        // A trace_id the caller gives is an argument like any other.
        let mut other = args.clone();
        other["trace_id"] = json!("0af7651916cd43dd8448eb211c80319c");
        assert!(err(&f.call("decision_record", other).await).contains("different arguments"), "{l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_after_a_restart_finds_the_committed_record() {
    for f in fixtures(|_| {}).await {
        let Fixture { _dir, server: first_server, label: l, url } = f;
        // The writes commit; the caller never sees the answers and the server goes away.
        for (tool, args, _) in cases(&format!("restart-{l}")) {
            ok(&first_server.raw().call(tool, with_key(&args, "lost-answer")).await);
        }
        drop(first_server);
        let s = TestServer::start(server(Config::for_url(&url)).await.unwrap()).await;
        let f = Fixture { _dir, server: s, label: l, url };
        for (tool, args, list) in cases(&format!("restart-{l}")) {
            let project = args["project"].as_str().unwrap().to_owned();
            let r = f.call(tool, with_key(&args, "lost-answer")).await;
            let again = ok(&r);
            assert_eq!(again["duplicate"], true, "{l} {tool}: {}", r.text);
            let listed = ok(&f.call(list, json!({"project": project})).await).clone();
            let items = listed["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{l} {tool}: exactly one record");
            assert_eq!(items[0]["id"], again["id"], "{l} {tool}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_one_key_make_one_record() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        for (tool, args, list) in cases(&format!("race-{l}")) {
            let project = args["project"].as_str().unwrap().to_owned();
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let (raw, a) = (f.server.raw(), with_key(&args, "raced"));
                set.spawn(async move { raw.call(tool, a).await });
            }
            let mut ids = Vec::new();
            let mut fresh = 0;
            while let Some(r) = set.join_next().await {
                let r = r.unwrap();
                let v = ok(&r);
                ids.push(v["id"].as_i64().unwrap());
                fresh += usize::from(v["duplicate"] == false);
            }
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 1, "{l} {tool}: one id for every caller: {ids:?}");
            assert_eq!(fresh, 1, "{l} {tool}: one caller wrote, the others replayed");
            assert_eq!(count(&f, list, &project).await, 1, "{l} {tool}");
        }
    }
}
