//! `job_log` windows and their bounds, and job artifacts.

use mcp_test::gitlab::JobSpec;
use serde_json::json;

use super::*;

async fn failed_job(f: &Fx) -> u64 {
    let id = f.gl.add_pipeline(PROJECT_ID, "main", vec![failing_test_job()]);
    f.gl.finish_all();
    f.gl.jobs_of(id)[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_log_windows_are_bounded_numbered_and_redacted() {
    let f = Fx::new().await;
    let job = failed_job(&f).await;
    let log = |args: serde_json::Value| {
        let mut a = json!({"project": PROJECT, "job_id": job});
        for (k, v) in args.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    // head
    let v = f.ok("job_log", log(json!({"mode": "head", "lines": 3}))).await;
    assert_eq!(v["ranges"], json!([[1, 3]]));
    assert_eq!(v["total_lines"], 128);
    assert_eq!(v["untrusted"], true);
    let t = v["text"].as_str().unwrap();
    assert!(t.starts_with("    1| Running with gitlab-runner"), "{t}");
    assert!(t.contains("    2| $ pytest -q\n"), "{t}");
    // tail
    let v = f.ok("job_log", log(json!({"mode": "tail", "lines": 2}))).await;
    assert_eq!(v["ranges"], json!([[127, 128]]));
    assert!(v["text"].as_str().unwrap().ends_with("  128| ERROR: Job failed: exit code 1\n"));
    // range, with the line limit
    let v = f.ok("job_log", log(json!({"mode": "range", "start_line": 10, "end_line": 19}))).await;
    assert_eq!(v["ranges"], json!([[10, 19]]));
    assert_eq!(v["shown_lines"], 10);
    let v = f.ok("job_log", log(json!({"mode": "range", "start_line": 10, "end_line": 100, "max_lines": 5}))).await;
    assert_eq!(v["ranges"], json!([[10, 14]]));
    assert_eq!(v["truncated"], true);
    let v = f.ok("job_log", log(json!({"mode": "range", "start_line": 500}))).await;
    assert_eq!(v["shown_lines"], 0);
    // grep, with context
    let v = f.ok("job_log", log(json!({"mode": "grep", "pattern": "test_mod_(50|51)\\.py", "context": 1}))).await;
    assert_eq!(v["matches"], 2);
    assert_eq!(v["ranges"], json!([[51, 54]]));
    let v = f.ok("job_log", log(json!({"mode": "grep", "pattern": "test_mod_", "max_lines": 7}))).await;
    assert_eq!(v["matches"], 120);
    assert_eq!(v["shown_lines"], 7);
    assert_eq!(v["truncated"], true);
    // errors (the default), redacted
    let v = f.ok("job_log", log(json!({"context": 0}))).await;
    assert_eq!(v["mode"], "errors");
    let t = v["text"].as_str().unwrap();
    assert!(t.contains("AssertionError") && t.contains("Job failed"), "{t}");
    assert!(!t.contains("test_mod_"), "{t}");
    let v = f.ok("job_log", log(json!({"mode": "grep", "pattern": "DEPLOY_TOKEN"}))).await;
    let t = v["text"].as_str().unwrap();
    assert!(t.contains("DEPLOY_TOKEN=[MASKED] and [MASKED]"), "{t}");
    assert!(v["redactions"].as_u64().unwrap() >= 2);
    // Bounds and bad arguments.
    for bad in [
        json!({"mode": "range"}),
        json!({"mode": "range", "start_line": 0}),
        json!({"mode": "range", "start_line": 9, "end_line": 3}),
        json!({"mode": "grep"}),
        json!({"mode": "grep", "pattern": "("}),
        json!({"mode": "sideways"}),
        json!({"max_lines": 2001}),
        json!({"context": 51}),
    ] {
        let (k, m) = f.fail("job_log", log(bad.clone())).await;
        assert_eq!(k, "invalid_input", "{bad}: {m}");
    }
    let (k, _) = f.fail("job_log", json!({"project": PROJECT, "job_id": 123456789})).await;
    assert_eq!(k, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_log_keeps_its_end() {
    let f = Fx::with(&[("GITLAB_MODE", "modify"), ("GITLAB_MAX_TRACE_BYTES", "4K")]).await;
    let job = failed_job(&f).await;
    let v = f.ok("job_log", json!({"project": PROJECT, "job_id": job, "mode": "tail", "lines": 3})).await;
    assert_eq!(v["log_truncated"], true);
    assert!(v["log_bytes"].as_u64().unwrap() > 4096);
    assert!(v["text"].as_str().unwrap().contains("Job failed"));
    assert!(v["total_lines"].as_u64().unwrap() < 128);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn artifacts_are_listed_and_read_with_a_cap() {
    let f = Fx::new().await;
    let big = "x".repeat(10_000);
    let id = f.gl.add_pipeline(
        PROJECT_ID,
        "main",
        vec![
            JobSpec::ok("build", "build")
                .artifact("reports/junit.xml", b"<testsuite tests=\"1\"/>")
                .artifact("reports/env.txt", format!("API_KEY=abcdef123456 token {TOKEN}\n").as_bytes())
                .artifact("dist/app.bin", &[0u8, 159, 146, 150, 1, 2])
                .artifact("big.log", big.as_bytes()),
        ],
    );
    f.gl.finish_all();
    let job = f.gl.jobs_of(id)[0];
    let v = f.ok("artifact_list", json!({"project": PROJECT, "job_id": job})).await;
    assert!(v["artifacts"].as_array().unwrap().iter().any(|a| a["file_type"] == "archive"), "{v}");
    let paths: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["big.log", "dist/", "dist/app.bin", "reports/", "reports/env.txt", "reports/junit.xml"]);
    let v =
        f.ok("artifact_list", json!({"project": PROJECT, "job_id": job, "path": "reports", "recursive": false})).await;
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);

    let v = f.ok("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "reports/junit.xml"})).await;
    assert_eq!(v["encoding"], "utf-8");
    assert_eq!(v["content"], "<testsuite tests=\"1\"/>");
    let v = f.ok("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "reports/env.txt"})).await;
    assert_eq!(v["content"], "API_KEY=[MASKED] token [MASKED]\n");
    assert_eq!(v["redactions"], 2);
    let v = f.ok("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "dist/app.bin"})).await;
    assert_eq!(v["encoding"], "base64");
    let v =
        f.ok("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "big.log", "max_bytes": 100})).await;
    assert_eq!(v["bytes"], 100);
    assert_eq!(v["truncated"], true);
    let (k, _) = f.fail("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "nope.txt"})).await;
    assert_eq!(k, "not_found");
    let (k, _) = f.fail("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "../x"})).await;
    assert_eq!(k, "invalid_input");
    let (k, _) = f
        .fail("artifact_file", json!({"project": PROJECT, "job_id": job, "path": "big.log", "max_bytes": 999_999_999}))
        .await;
    assert_eq!(k, "invalid_input");
    // A job without artifacts lists none.
    let plain = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("x", "build")]);
    f.gl.finish_all();
    let v = f.ok("artifact_list", json!({"project": PROJECT, "job_id": f.gl.jobs_of(plain)[0]})).await;
    assert_eq!(v["entries"], json!([]));
}
