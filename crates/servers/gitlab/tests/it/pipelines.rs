//! Pipelines and jobs: paging, create/retry/cancel, waiting with progress,
//! failures in one call, and the job tools.

use mcp_test::gitlab::JobSpec;
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_list_pages_through_every_pipeline() {
    let f = Fx::new().await;
    let ids: Vec<u64> =
        (0..5).map(|_| f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build")])).collect();
    let mut seen = Vec::new();
    let mut page = Some(1);
    let mut pages = 0;
    while let Some(p) = page {
        let v = f.ok("pipeline_list", json!({"project": PROJECT, "page": p, "per_page": 2})).await;
        assert_eq!(v["page"]["total"], 5);
        assert_eq!(v["page"]["total_pages"], 3);
        assert_eq!(v["page"]["page"], p);
        seen.extend(v["pipelines"].as_array().unwrap().iter().map(|p| p["id"].as_u64().unwrap()));
        page = v["page"]["next_page"].as_u64();
        pages += 1;
    }
    assert_eq!(pages, 3);
    let mut want = ids.clone();
    want.reverse();
    assert_eq!(seen, want, "newest first, each once");
    let (k, _) = f.fail("pipeline_list", json!({"project": PROJECT, "per_page": 101})).await;
    assert_eq!(k, "invalid_input");
    // Filters reach GitLab.
    f.gl.finish_all();
    let v = f.ok("pipeline_list", json!({"project": PROJECT, "status": "success", "ref": "main"})).await;
    assert_eq!(v["pipelines"].as_array().unwrap().len(), 5);
    let v = f.ok("pipeline_list", json!({"project": PROJECT, "status": "failed"})).await;
    assert_eq!(v["pipelines"].as_array().unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_get_latest_create_retry_cancel() {
    let f = Fx::new().await;
    let old = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build")]);
    let new = f.gl.add_pipeline(PROJECT_ID, "main", vec![failing_test_job()]);
    f.gl.add_pipeline(PROJECT_ID, "feature", vec![JobSpec::ok("build", "build")]);
    f.gl.finish_all();
    let v = f.ok("pipeline_latest", json!({"project": PROJECT})).await;
    assert_eq!(v["pipeline"]["id"], new);
    assert_eq!(v["pipeline"]["status"], "failed");
    let v = f.ok("pipeline_get", json!({"project": PROJECT, "pipeline_id": old})).await;
    assert_eq!(v["pipeline"]["status"], "success");
    assert_eq!(v["pipeline"]["ref"], "main");

    // Create with variables.
    let v = f
        .ok(
            "pipeline_create",
            json!({"project": PROJECT, "ref": "main", "variables": [{"key": "DEPLOY", "value": "no"}, {"key": "CFG", "value": "x", "variable_type": "file"}]}),
        )
        .await;
    let created = v["pipeline"]["id"].as_u64().unwrap();
    let vars = f.gl.pipeline_variables(created);
    assert_eq!(vars[0]["key"], "DEPLOY");
    assert_eq!(vars[1]["variable_type"], "file");
    let (k, _) = f
        .fail(
            "pipeline_create",
            json!({"project": PROJECT, "ref": "main", "variables": [{"key": "BAD KEY", "value": "1"}]}),
        )
        .await;
    assert_eq!(k, "invalid_input");

    // Cancel it before it runs.
    let v = f.ok("pipeline_cancel", json!({"project": PROJECT, "pipeline_id": created})).await;
    assert_eq!(v["pipeline"]["status"], "canceled");

    // Retry the failed one: its failed job is run again as a new job.
    let before = f.gl.jobs_of(new);
    let v = f.ok("pipeline_retry", json!({"project": PROJECT, "pipeline_id": new})).await;
    assert_eq!(v["pipeline"]["status"], "pending");
    assert_eq!(f.gl.jobs_of(new).len(), before.len() + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_wait_reports_progress_until_success() {
    let f = Fx::new().await;
    let slow = |n: &str, st: &str| JobSpec::ok(n, st).log(&["one\n", "two\n", "three\n", "done\n"]);
    let id = f.gl.add_pipeline(PROJECT_ID, "main", vec![slow("build", "build"), slow("test", "test")]);
    f.gl.start_clock(std::time::Duration::from_millis(150));
    let c = f.server.client();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = c
        .call_with_progress(
            "pipeline_wait",
            json!({"project": PROJECT, "pipeline_id": id, "poll_secs": 1, "timeout_secs": 60}),
            tx,
        )
        .await
        .unwrap();
    let v = r.structured.clone().unwrap();
    assert_eq!(v["finished"], true, "{v}");
    assert_eq!(v["pipeline"]["status"], "success");
    assert_eq!(v["jobs_finished"], 2);
    let mut seen = Vec::new();
    while let Ok(p) = rx.try_recv() {
        seen.push((p.progress, p.message.unwrap_or_default()));
    }
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[1].0 > w[0].0), "{seen:?}");
    // Each notification says how far the pipeline is (the last one may
    // still be in flight when the result arrives).
    assert!(seen.iter().all(|(_, m)| m.contains("jobs finished")), "{seen:?}");
    assert!(seen.iter().any(|(_, m)| m.contains("running")), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_wait_times_out_without_failing() {
    let f = Fx::new().await;
    let id = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build")]);
    let v =
        f.ok("pipeline_wait", json!({"project": PROJECT, "pipeline_id": id, "poll_secs": 1, "timeout_secs": 2})).await;
    assert_eq!(v["finished"], false);
    assert_eq!(v["pipeline"]["status"], "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_failures_gives_the_failed_jobs_with_redacted_error_excerpts() {
    let f = Fx::new().await;
    let id = f.gl.add_pipeline(
        PROJECT_ID,
        "main",
        vec![
            JobSpec::ok("build", "build"),
            JobSpec::failing("lint", "test", &["ruff check .\n", "warning: style\n", "error: E501 line too long\n"])
                .allow_failure(),
            failing_test_job(),
            JobSpec::ok("deploy", "deploy"),
        ],
    );
    f.gl.finish_all();
    assert_eq!(f.gl.pipeline_status(id), "failed");
    let v = f.ok("pipeline_failures", json!({"project": PROJECT, "pipeline_id": id})).await;
    assert_eq!(v["pipeline"]["status"], "failed");
    assert_eq!(v["failed_total"], 2);
    assert_eq!(v["untrusted"], true);
    let jobs = v["failed_jobs"].as_array().unwrap();
    // The job that fails the pipeline comes first.
    assert_eq!(jobs[0]["job"]["name"], "test");
    assert_eq!(jobs[0]["job"]["failure_reason"], "script_failure");
    assert_eq!(jobs[1]["job"]["name"], "lint");
    assert_eq!(jobs[1]["job"]["allow_failure"], true);
    let ex = jobs[0]["excerpt"]["text"].as_str().unwrap();
    assert!(ex.contains("AssertionError: expected 3, got 4"), "{ex}");
    assert!(ex.contains("ERROR: Job failed: exit code 1"), "{ex}");
    // Error-focused: not the 120 passing lines.
    assert!(!ex.contains("test_mod_5.py"), "{ex}");
    assert!(jobs[0]["excerpt"]["shown_lines"].as_u64().unwrap() <= 40);
    assert_eq!(jobs[0]["excerpt"]["total_lines"], 128);
    // Redacted: the leaked token and the server's own token are masked, and counted.
    assert!(ex.contains("DEPLOY_TOKEN=[MASKED]"), "{ex}");
    assert!(!ex.contains("glpat-leaked") && !ex.contains(TOKEN), "{ex}");
    assert!(jobs[0]["redactions"].as_u64().unwrap() >= 2);
    // No colour codes or section markers.
    assert!(!ex.contains('\u{1b}') && !ex.contains("section_"), "{ex}");
    // The deploy job was skipped, not failed.
    let v = f.ok("job_list", json!({"project": PROJECT, "pipeline_id": id, "scope": ["skipped"]})).await;
    assert_eq!(v["jobs"][0]["name"], "deploy");
    let v = f.ok("pipeline_failures", json!({"project": PROJECT, "pipeline_id": id, "max_jobs": 1})).await;
    assert_eq!(v["not_shown"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_tools_list_get_retry_cancel_play() {
    let f = Fx::new().await;
    let id = f.gl.add_pipeline(
        PROJECT_ID,
        "main",
        vec![JobSpec::ok("build", "build"), failing_test_job(), JobSpec::ok("deploy", "deploy").manual()],
    );
    f.gl.finish_all();
    let jobs = f.gl.jobs_of(id);
    let v = f.ok("job_list", json!({"project": PROJECT, "pipeline_id": id})).await;
    assert_eq!(v["jobs"].as_array().unwrap().len(), 3);
    let v = f.ok("job_list", json!({"project": PROJECT, "pipeline_id": id, "scope": ["failed", "manual"]})).await;
    let names: Vec<&str> = v["jobs"].as_array().unwrap().iter().map(|j| j["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["test", "deploy"]);
    let v = f.ok("job_list", json!({"project": PROJECT, "scope": ["success", "failed"], "per_page": 1})).await;
    assert_eq!(v["page"]["next_page"], 2);
    let (k, _) = f.fail("job_list", json!({"project": PROJECT, "scope": ["bogus"]})).await;
    assert_eq!(k, "invalid_input");

    let v = f.ok("job_get", json!({"project": PROJECT, "job_id": jobs[1]})).await;
    assert_eq!(v["job"]["status"], "failed");
    assert_eq!(v["job"]["pipeline"]["id"], id);

    let v = f.ok("job_retry", json!({"project": PROJECT, "job_id": jobs[1]})).await;
    assert_eq!(v["job"]["status"], "pending");
    assert_ne!(v["job"]["id"], jobs[1]);
    let v = f.ok("job_list", json!({"project": PROJECT, "pipeline_id": id, "include_retried": true})).await;
    assert_eq!(v["jobs"].as_array().unwrap().len(), 4);

    let v = f.ok("job_play", json!({"project": PROJECT, "job_id": jobs[2]})).await;
    assert_eq!(v["job"]["status"], "pending");
    let (k, _) = f.fail("job_play", json!({"project": PROJECT, "job_id": jobs[0]})).await;
    assert_eq!(k, "invalid_input");

    let fresh = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("long", "build")]);
    let long = f.gl.jobs_of(fresh)[0];
    f.gl.tick();
    let v = f.ok("job_cancel", json!({"project": PROJECT, "job_id": long})).await;
    assert_eq!(v["job"]["status"], "canceled");
}
