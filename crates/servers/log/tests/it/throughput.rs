//! Ingest throughput, measured and printed (not asserted: a timing assertion
//! on a shared two-core machine would only be flaky). Batches of 1000 lines
//! shaped like the fleet's own (a "tool call finished" line with its span
//! fields, ~420 bytes) go through the real `POST /v1/logs` route (parse,
//! check each line, one multi-row transaction) into SQLite and PostgreSQL,
//! from one sender and then four at once. Run with `--nocapture` (and
//! `--release` for production figures) to see them.

use std::time::Instant;

use mcp_test::TEST_TOKEN;

const BATCH: usize = 1000;
const BATCHES: usize = 20;

fn body(b: usize) -> String {
    let mut s = String::with_capacity(BATCH * 450);
    for i in 0..BATCH {
        let n = b * BATCH + i;
        s.push_str(&format!(
            "{{\"timestamp\":\"{}\",\"level\":\"INFO\",\"service\":\"mcp-server-fs\",\
             \"trace_id\":\"{:032x}\",\"span_id\":\"{:016x}\",\"target\":\"mcp_core::server\",\
             \"message\":\"tool call finished\",\"fields\":{{\"tool\":\"read_file\",\"outcome\":\"ok\",\
             \"duration_ms\":0.41,\"mcp.protocol.version\":\"2026-07-28\",\"mcp.method.name\":\"tools/call\",\
             \"gen_ai.tool.name\":\"read_file\",\"gen_ai.operation.name\":\"execute_tool\",\
             \"jsonrpc.request.id\":\"{n}\",\"mcp.session.id\":\"\"}}}}\n",
            mcp_core::clock::now_rfc3339(),
            n + 1,
            n + 1
        ));
    }
    s
}

async fn measure(base: &str, bodies: Vec<String>, senders: usize) -> f64 {
    let mut chunks: Vec<Vec<String>> = vec![Vec::new(); senders];
    for (i, b) in bodies.into_iter().enumerate() {
        chunks[i % senders].push(b);
    }
    let started = Instant::now();
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|bodies| {
            let (http, url) = (reqwest::Client::new(), format!("{base}/v1/logs"));
            tokio::spawn(async move {
                for b in bodies {
                    let r = http.post(&url).bearer_auth(TEST_TOKEN).body(b).send().await.unwrap();
                    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (BATCH * BATCHES) as f64 / started.elapsed().as_secs_f64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let bodies: Vec<String> = (0..BATCHES).map(body).collect();
    let bytes = bodies[0].len() / BATCH;
    for f in crate::fixtures(dir.path(), |_| {}).await {
        let base = f.server.base();
        let one = measure(&base, bodies.clone(), 1).await;
        let four = measure(&base, bodies.clone(), 4).await;
        // Every line of both rounds is stored, none twice, none lost.
        let r = f.call("logs_tail", serde_json::json!({"limit": 1})).await;
        let last = crate::ok(&r)["cursor"].as_i64().unwrap();
        assert!(last >= (2 * BATCH * BATCHES) as i64, "[{}] {last}", f.label);
        let metrics = f.server.raw().get("/metrics").await.text;
        assert!(metrics.contains(&format!("mcp_log_lines_ingested_total {}", 2 * BATCH * BATCHES)), "{metrics}");
        println!(
            "log ingest throughput ({profile}, {}, {BATCHES} NDJSON batches of {BATCH} lines, ~{bytes} B/line): \
             1 sender {one:.0} lines/s; 4 senders {four:.0} lines/s",
            f.label
        );
    }
}
