//! Configuration and policy: read-only mode, the project allow-list, an
//! unconfigured server, the token's secrecy, HTTP errors mapped to kinds,
//! and 429 handling.

use std::time::{Duration, Instant};

use mcp_server_gitlab::{Config, server};
use mcp_test::TestServer;
use mcp_test::gitlab::{JobSpec, TOKEN};
use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_mode_registers_no_mutating_tool() {
    let f = Fx::with(&[]).await;
    let listed = names(&f.server.server);
    for t in [
        "pipeline_create",
        "pipeline_retry",
        "pipeline_cancel",
        "job_retry",
        "job_cancel",
        "job_play",
        "mr_create",
        "mr_note",
    ] {
        assert!(!listed.contains(&t.to_owned()), "{t} is listed in read-only mode");
    }
    assert!(listed.contains(&"pipeline_list".to_owned()) && listed.contains(&"ci_lint".to_owned()));
    // Not listed means not callable: the call is refused and nothing reaches GitLab.
    let before = f.gl.seen().len();
    let r = f.call("pipeline_create", json!({"project": PROJECT, "ref": "main"})).await;
    assert!(r.body["error"].is_object() || r.result()["isError"] == true, "{}", r.text);
    assert!(r.text.contains("pipeline_create"), "{}", r.text);
    assert_eq!(f.gl.seen().len(), before);
    // The same call works in modify mode.
    let m = Fx::new().await;
    let v = m.ok("pipeline_create", json!({"project": PROJECT, "ref": "main"})).await;
    assert_eq!(v["pipeline"]["status"], "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_outside_the_allow_list_are_refused() {
    let f = Fx::with(&[("GITLAB_PROJECTS", "group/*")]).await;
    f.gl.add_pipeline(7, "main", vec![JobSpec::ok("build", "build")]);
    // By path: refused without asking GitLab anything.
    let before = f.gl.seen().len();
    let (k, m) = f.fail("pipeline_list", json!({"project": "other/app"})).await;
    assert_eq!(k, "forbidden", "{m}");
    assert!(m.contains("GITLAB_PROJECTS"), "{m}");
    assert_eq!(f.gl.seen().len(), before);
    // By id: GitLab names the project, then it is refused; nothing else is asked.
    let (k, _) = f.fail("pipeline_list", json!({"project": "7"})).await;
    assert_eq!(k, "forbidden");
    assert!(f.gl.seen().iter().all(|s| !s.path.contains("/pipelines")), "{:?}", f.gl.seen());
    // Allowed by path glob, and by id after the lookup.
    f.ok("pipeline_list", json!({"project": "group/app"})).await;
    f.ok("pipeline_list", json!({"project": "1"})).await;
    // An id rule.
    let f = Fx::with(&[("GITLAB_PROJECTS", "7")]).await;
    f.ok("pipeline_list", json!({"project": "other/app"})).await;
    let (k, _) = f.fail("job_get", json!({"project": "group/app", "job_id": 1})).await;
    assert_eq!(k, "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unconfigured_server_starts_and_says_so() {
    let s = TestServer::start(server(Config::from_pairs(&[])).await.unwrap()).await;
    let ready = s.raw().get("/ready").await;
    // Ready (the local pipelines need no GitLab), and the check says what is missing.
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert!(ready.text.contains("not configured"), "{}", ready.text);
    let r = s.raw().call("pipeline_list", json!({"project": PROJECT})).await;
    assert!(err(&r).contains("GITLAB_URL"), "{}", r.text);
    assert_eq!(kind(&r), "unavailable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_map_to_kinds() {
    let f = Fx::new().await;
    let (k, m) = f.fail("pipeline_get", json!({"project": PROJECT, "pipeline_id": 424242})).await;
    assert_eq!(k, "not_found", "{m}");
    let (k, m) = f.fail("pipeline_list", json!({"project": "secret/app"})).await;
    assert_eq!(k, "forbidden", "{m}");
    assert!(m.contains("403"), "{m}");
    let (k, m) = f.fail("pipeline_create", json!({"project": PROJECT, "ref": "no-such-branch"})).await;
    assert_eq!(k, "invalid_input", "{m}");
    assert!(m.contains("Reference not found"), "{m}");
    let bad = Fx::with_token(&[], "glpat-wrong-token-000000000000").await;
    let (k, m) = bad.fail("pipeline_list", json!({"project": PROJECT})).await;
    assert_eq!(k, "forbidden", "{m}");
    assert!(m.contains("401") && m.contains("GITLAB_TOKEN_FILE"), "{m}");
    assert!(!m.contains("glpat-wrong"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_then_reported() {
    let f = Fx::new().await;
    let id = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build")]);
    f.gl.throttle(2, 1);
    let t = Instant::now();
    let v = f.ok("pipeline_get", json!({"project": PROJECT, "pipeline_id": id})).await;
    assert_eq!(v["pipeline"]["id"], id);
    assert!(t.elapsed() >= Duration::from_millis(1900), "Retry-After was not honoured: {:?}", t.elapsed());
    let statuses: Vec<u16> = f.gl.seen().iter().map(|s| s.status).collect();
    assert_eq!(statuses, [429, 429, 200]);
    // Limited for longer than the retries last: a clear rate_limited error.
    f.gl.throttle_forever(1);
    let (k, m) = f.fail("pipeline_get", json!({"project": PROJECT, "pipeline_id": id})).await;
    assert_eq!(k, "rate_limited", "{m}");
    assert!(m.contains("429") && m.contains("retries"), "{m}");
    // A Retry-After longer than the server waits fails at once.
    f.gl.throttle_forever(3600);
    let t = Instant::now();
    let (k, m) = f.fail("pipeline_get", json!({"project": PROJECT, "pipeline_id": id})).await;
    assert_eq!(k, "rate_limited");
    assert!(m.contains("3600"), "{m}");
    assert!(t.elapsed() < Duration::from_secs(2));
    f.gl.unthrottle();
    f.ok("pipeline_get", json!({"project": PROJECT, "pipeline_id": id})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_results_or_logs() {
    mcp_test::telemetry::init();
    let f = Fx::new().await;
    let id = f.gl.add_pipeline(PROJECT_ID, "main", vec![JobSpec::ok("build", "build"), failing_test_job()]);
    f.gl.finish_all();
    let jobs = f.gl.jobs_of(id);
    let mut texts = Vec::new();
    for (tool, args) in [
        ("pipeline_failures", json!({"project": PROJECT, "pipeline_id": id})),
        ("job_log", json!({"project": PROJECT, "job_id": jobs[1], "mode": "head", "lines": 2000, "max_lines": 2000})),
        ("job_log", json!({"project": PROJECT, "job_id": jobs[1], "mode": "grep", "pattern": "glpat|TOKEN"})),
        ("pipeline_get", json!({"project": PROJECT, "pipeline_id": 999999})),
        ("pipeline_list", json!({"project": "secret/app"})),
    ] {
        texts.push(f.call(tool, args).await.text);
    }
    f.gl.throttle_forever(1);
    texts.push(f.call("pipeline_get", json!({"project": PROJECT, "pipeline_id": id})).await.text);
    f.gl.unthrottle();
    for t in &texts {
        assert!(!t.contains(TOKEN), "the token leaked into a result: {t}");
        assert!(!t.contains("glpat-leaked"), "a secret leaked into a result: {t}");
    }
    assert!(texts[1].contains("[MASKED]"), "{}", texts[1]);
    mcp_test::telemetry::flush().await;
    for l in mcp_test::telemetry::logs() {
        assert!(!l.contains(TOKEN), "the token leaked into a log line: {l}");
    }
    let c = Config::from_pairs(&[("GITLAB_URL", "https://gitlab.example.com"), ("GITLAB_TOKEN", TOKEN)]);
    assert!(!format!("{c:?}").contains(TOKEN));
}
