//! OTLP/HTTP ingest on both backends: protobuf and JSON, idempotent retries,
//! partial success, the bounds, and the observer's own series.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use serde_json::Value;

use mcp_client_observer::Config;

use crate::Obs;
use crate::otlp::{JSON, PROTOBUF, S, json, now_ns, protobuf, trace_id};

fn metric(text: &str, series: &str) -> f64 {
    text.lines().filter(|l| l.starts_with(series)).filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok()).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for (backend, url) in mcp_test::services::both_backends(dir.path(), "ingest") {
        let o = Obs::start(&url, "http://127.0.0.1:9/mcp").await;
        let t0 = now_ns();
        // Protobuf: a root and a child in two services.
        let tr = trace_id();
        let root = S::new(&tr, "mcp-client-planner", "plan", t0, 0.0, 20.0).tool("plan");
        let child = S::new(&tr, "mcp-server-fs", "", t0, 2.0, 5.0).tool("read_file").child_of(&root).failed();
        let (status, body) = o.post(protobuf(&[root.clone(), child.clone()]), PROTOBUF).await;
        assert_eq!(status, 200, "{backend}: {}", String::from_utf8_lossy(&body));
        let answer = ExportTraceServiceResponse::decode(body.as_slice()).unwrap();
        assert!(answer.partial_success.is_none(), "{backend}");

        // A retried export is absorbed, not duplicated.
        let (status, _) = o.post(protobuf(&[root.clone(), child.clone()]), PROTOBUF).await;
        assert_eq!(status, 200);
        assert_eq!(o.state.store.count(&tr).await.unwrap(), 2, "{backend}: a retry duplicated spans");

        // JSON, with hex ids, into the same trace.
        let late = S::new(&tr, "mcp-server-git", "", t0, 8.0, 1.0).tool("git_status").child_of(&root);
        let (status, body) = o.post(json(&[late]), JSON).await;
        assert_eq!(status, 200, "{backend}: {}", String::from_utf8_lossy(&body));
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v.get("partialSuccess").is_none_or(Value::is_null), "{v}");
        assert_eq!(o.state.store.count(&tr).await.unwrap(), 3);

        // The stored row, column by column.
        let (spans, _) = o.state.store.trace(&tr, 10).await.unwrap();
        let c = spans.iter().find(|s| s.span_id == child.span_id).unwrap();
        assert_eq!(c.parent_span_id.as_deref(), Some(root.span_id.as_str()));
        assert_eq!(
            (c.service.as_str(), c.name.as_str(), c.kind.as_str()),
            ("mcp-server-fs", "tools/call read_file", "server")
        );
        assert_eq!(c.status_code, "ERROR");
        assert_eq!(c.start_ms, ((t0 + 2_000_000) / 1_000_000) as i64);
        assert!((c.duration_ms - 5.0).abs() < 1e-6, "{}", c.duration_ms);
        assert_eq!(c.attributes["gen_ai.tool.name"], "read_file");

        // Invalid ids: the rest is stored, the sender told how many were not.
        let tr2 = trace_id();
        let good = S::new(&tr2, "svc", "ok", t0, 0.0, 1.0);
        let mut bad = S::new(&tr2, "svc", "bad", t0, 0.0, 1.0);
        bad.span_id = "0000000000000000".into();
        let (status, body) = o.post(protobuf(&[good, bad]), PROTOBUF).await;
        assert_eq!(status, 200);
        let answer = ExportTraceServiceResponse::decode(body.as_slice()).unwrap();
        assert_eq!(answer.partial_success.unwrap().rejected_spans, 1);

        // Retention: spans older than the cut-off go, the rest stay.
        let old = S::new(&trace_id(), "svc", "old", t0 - 30 * 86_400 * 1_000_000_000, 0.0, 1.0);
        assert_eq!(o.post(protobuf(std::slice::from_ref(&old)), PROTOBUF).await.0, 200);
        let cutoff = mcp_client_observer::when::now_ms() - 14 * 86_400_000;
        assert_eq!(o.state.store.purge(cutoff).await.unwrap(), 1, "{backend}");
        assert_eq!(o.state.store.count(&old.trace_id).await.unwrap(), 0);
        assert_eq!(o.state.store.count(&tr).await.unwrap(), 3);

        let m = o.metrics().await;
        assert_eq!(metric(&m, "observer_ingest_batches_total"), 5.0, "{m}");
        assert_eq!(metric(&m, "observer_spans_ingested_total"), 7.0, "{m}");
        assert_eq!(metric(&m, "observer_spans_rejected_total{reason=\"invalid\"}"), 1.0);
        assert!(m.contains("observer_ingest_failures_total{reason=\"storage\"} 0"), "{m}");
        o.running.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_exports_are_refused_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    // Small limits, so the refused bodies fit in the socket buffers and the
    // client reads the answer instead of a reset.
    let mut config = Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "bad"), "http://127.0.0.1:9/mcp");
    config.max_ingest_bytes = 16 << 10;
    config.max_spans_per_batch = 100;
    let o = Obs::start_with(config).await;
    let (s, _) = o.post(b"not protobuf at all \xff\xff".to_vec(), PROTOBUF).await;
    assert_eq!(s, 400);
    let (s, body) = o.post(b"{\"resourceSpans\": 7}".to_vec(), JSON).await;
    assert_eq!(s, 400, "{}", String::from_utf8_lossy(&body));
    let (s, _) = o.post(b"x".to_vec(), "text/plain").await;
    assert_eq!(s, 415);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/traces", o.base()))
        .bearer_auth(mcp_test::TEST_TOKEN)
        .header("content-type", PROTOBUF)
        .header("content-encoding", "gzip")
        .body(vec![0x1f, 0x8b])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    // Too many spans in one export.
    let tr = trace_id();
    let t0 = now_ns();
    let many: Vec<S> = (0..101).map(|i| S::new(&tr, "svc", "x", t0, f64::from(i), 0.1)).collect();
    let (s, body) = o.post(protobuf(&many), PROTOBUF).await;
    assert_eq!(s, 413, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("OBSERVER_MAX_SPANS_PER_BATCH"));
    // A body over the byte limit, declared and streamed.
    let huge = vec![b'a'; 64 << 10];
    let (s, _) = o.post(huge, PROTOBUF).await;
    assert_eq!(s, 413);
    let stream = futures::stream::iter((0..8).map(|_| Ok::<_, std::io::Error>(vec![0u8; 4 << 10])));
    let r = reqwest::Client::new()
        .post(format!("{}/v1/traces", o.base()))
        .bearer_auth(mcp_test::TEST_TOKEN)
        .header("content-type", PROTOBUF)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(o.state.store.count(&tr).await.unwrap(), 0);

    let m = o.metrics().await;
    for (reason, n) in
        [("decode", 2.0), ("content_type", 1.0), ("encoding", 1.0), ("too_many_spans", 1.0), ("too_large", 2.0)]
    {
        assert_eq!(metric(&m, &format!("observer_ingest_failures_total{{reason=\"{reason}\"}}")), n, "{reason}: {m}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_internal_spans_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let o = Obs::start(&mcp_test::services::sqlite_url(dir.path(), "own"), "http://127.0.0.1:9/mcp").await;
    let tr = trace_id();
    let t0 = now_ns();
    let mcp = S::new(&tr, "mcp-client-observer", "", t0, 0.0, 1.0).tool("trace_get");
    let internal = S::new(&tr, "mcp-client-observer", "parse_headers", t0, 0.0, 0.1);
    let (s, _) = o.post(protobuf(&[mcp, internal]), PROTOBUF).await;
    assert_eq!(s, 200);
    let (spans, _) = o.state.store.trace(&tr, 10).await.unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name, "tools/call trace_get");
    assert_eq!(metric(&o.metrics().await, "observer_spans_rejected_total{reason=\"own_internal\"}"), 1.0);
}
