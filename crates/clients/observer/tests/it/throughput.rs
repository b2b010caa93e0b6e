//! Ingest throughput, measured and printed (not asserted: a timing
//! assertion on a shared two-core machine would only be flaky). Protobuf
//! exports of 500 spans shaped like the fleet's MCP spans go through the real
//! HTTP route (decode, flatten, one transaction) into SQLite and PostgreSQL,
//! first from one exporter, then from four at once. Run with `--nocapture`
//! (and `--release` for production figures) to see them.

use std::time::Instant;

use crate::Obs;
use crate::otlp::{PROTOBUF, S, now_ns, protobuf, trace_id};

const BATCH: usize = 500;
const BATCHES: usize = 24;

fn batches() -> Vec<Vec<u8>> {
    let t0 = now_ns();
    (0..BATCHES)
        .map(|b| {
            let spans: Vec<S> = (0..BATCH)
                .map(|i| {
                    let tr = trace_id();
                    S::new(&tr, "mcp-server-fs", "", t0, (b * BATCH + i) as f64 * 0.01, 1.5)
                        .tool("read_file")
                        .attr("jsonrpc.request.id", "42")
                        .attr("mcp.session.id", "")
                        .attr("mcp.protocol.version", "2026-07-28")
                        .attr("gen_ai.operation.name", "execute_tool")
                        .attr("service", "mcp-server-fs")
                })
                .collect();
            protobuf(&spans)
        })
        .collect()
}

async fn measure(o: &Obs, bodies: Vec<Vec<u8>>, exporters: usize) -> f64 {
    let started = Instant::now();
    let chunks: Vec<Vec<Vec<u8>>> = {
        let mut c: Vec<Vec<Vec<u8>>> = vec![Vec::new(); exporters];
        for (i, b) in bodies.into_iter().enumerate() {
            c[i % exporters].push(b);
        }
        c
    };
    let tasks: Vec<_> = chunks
        .into_iter()
        .map(|bodies| {
            let (http, base) = (reqwest::Client::new(), o.base());
            tokio::spawn(async move {
                for b in bodies {
                    let (s, body) = crate::post_otlp(&http, &base, Some(mcp_test::TEST_TOKEN), b, PROTOBUF).await;
                    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
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
    let bodies = batches();
    let bytes: usize = bodies.iter().map(Vec::len).sum::<usize>() / bodies.len();
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    for (backend, url) in mcp_test::services::both_backends(dir.path(), "throughput") {
        let o = Obs::start(&url, "http://127.0.0.1:9/mcp").await;
        let one = measure(&o, bodies.clone(), 1).await;
        // The same spans again: all duplicates, absorbed by ON CONFLICT.
        let again = measure(&o, bodies.clone(), 1).await;
        let n = o.state.store.db().query("SELECT COUNT(*) FROM spans").fetch_one(o.state.store.db().reader()).await;
        let n: i64 = mcp_core::db::sqlx::Row::get(&n.unwrap(), 0);
        assert_eq!(n, (BATCH * BATCHES) as i64, "{backend}: retried exports duplicated spans");
        let fresh = batches();
        let four = measure(&o, fresh, 4).await;
        println!(
            "ingest throughput ({profile}, {backend}, {BATCHES} protobuf exports of {BATCH} spans, ~{} KiB each): \
             1 exporter {one:.0} spans/s; 4 exporters {four:.0} spans/s; retried duplicates {again:.0} spans/s",
            bytes / 1024
        );
        o.running.stop().await;
    }
}
