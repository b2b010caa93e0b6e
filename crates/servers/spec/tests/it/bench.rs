//! Render time: the figures the benchmark report quotes (run with
//! `--nocapture` to see them). The bounds are loose — they catch a render
//! that became pathological (a template recompiled per call, a quadratic
//! merge), not a slow machine.

use std::time::{Duration, Instant};

use mcp_server_spec::engine::Engine;
use mcp_server_spec::kinds;
use mcp_types::documents::DocumentKind;
use serde_json::{Value, json};

use crate::Env;

fn per_call(n: u32, mut f: impl FnMut()) -> Duration {
    f();
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_time() {
    let engine = Engine::new(None, 200_000, 1 << 20);
    let spec = crate::kinds::spec_data();
    let commits: Vec<Value> =
        (0..1000).map(|i| json!({"sha": format!("{i:07x}"), "subject": format!("feat(x): change {i}")})).collect();
    let changelog = json!({"version": "2.0.0", "date": "2026-12-06", "commits": commits});
    let resources: Vec<Value> = (0..50)
        .map(|i| json!({"name": format!("r{i}"), "fields": [{"name": "a", "type": "string", "required": true}, {"name": "b", "type": "integer"}]}))
        .collect();
    let openapi = json!({"title": "T", "version": "1", "resources": resources});
    let mut figures = Vec::new();
    for (label, kind, data, n) in [
        ("spec (SPEC.md)", DocumentKind::Spec, &spec, 2000),
        ("changelog, 1000 commits", DocumentKind::Changelog, &changelog, 50),
        ("openapi, 50 resources", DocumentKind::Openapi, &openapi, 50),
    ] {
        let d = per_call(n, || {
            kinds::generate(&engine, kind, data, None).unwrap();
        });
        figures.push(format!("in-process {label}: {d:?} per render"));
        assert!(d < Duration::from_millis(500), "{label}: {d:?}");
    }
    // The largest OpenAPI input accepted (100 resources) fits the default fuel.
    let fields: Vec<Value> =
        (0..20).map(|i| json!({"name": format!("f{i}"), "type": "string", "required": i % 2 == 0})).collect();
    let resources: Vec<Value> = (0..100).map(|i| json!({"name": format!("r{i}"), "fields": fields})).collect();
    let big = json!({"title": "T", "version": "1", "resources": resources});
    let t = Instant::now();
    let doc = kinds::generate(&engine, DocumentKind::Openapi, &big, None).unwrap();
    figures.push(format!(
        "in-process openapi, 100 resources x 20 fields ({} KB): {:?}",
        doc.rendered.content.len() / 1024,
        t.elapsed()
    ));
    // Over HTTP: the whole tools/call round trip on loopback.
    let env = Env::start().await;
    env.ok("spec_generate", json!({"kind": "spec", "data": spec})).await;
    let n = 200;
    let t = Instant::now();
    for _ in 0..n {
        env.ok("spec_generate", json!({"kind": "spec", "data": spec})).await;
    }
    let d = t.elapsed() / n;
    figures.push(format!("spec_generate kind=spec over HTTP: {d:?} per call (sequential)"));
    assert!(d < Duration::from_millis(500), "{d:?}");
    eprintln!(
        "render time ({} build):\n  {}",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        figures.join("\n  ")
    );
}
