//! Delivery to GitLab (`delivery: "gitlab"`): the project is pushed to a
//! real git remote and its pipeline is created, waited for and reported.
//!
//! GitLab itself cannot run here, and mcp-test's GitLab API double serves
//! GitLab's REST API only: it accepts no pushes. So the project's "GitLab
//! repository" is a bare repository on disk, under the git server's second
//! root with the `file` scheme allowed, which `PLANNER_GITLAB_REMOTE` names;
//! the pipelines are the double's, on the project `fleet/<slug>`, created
//! through the real gitlab server (in-process, `GITLAB_MODE=modify`) and run
//! on the double's clock with the jobs each test scripts.

use std::path::Path;
use std::time::Duration;

use mcp_client_planner::config::Runtime;
use mcp_client_planner::store::StepState;
use mcp_test::TestServer;
use mcp_test::gitlab::{GitlabDouble, JobSpec, TOKEN};
use serde_json::{Value, json};

use crate::flows::unfold;
use crate::{Fleet, ok, spec, wait_done};

/// The double with project `fleet/<slug>` (id 1), whose API-created
/// pipelines run `jobs`, ticking every 50 ms; the gitlab server over it.
async fn gitlab(fleet: &Fleet, slug: &str, jobs: Vec<JobSpec>) -> (GitlabDouble, TestServer) {
    let gl = GitlabDouble::start().await;
    gl.add_project(1, &format!("fleet/{slug}"));
    gl.set_template(1, jobs);
    gl.start_clock(Duration::from_millis(50));
    let token = fleet.dir.path().join("gitlab-token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let (url, token) = (gl.url(), token.display().to_string());
    let c = mcp_server_gitlab::Config::from_pairs(&[
        ("GITLAB_URL", url.as_str()),
        ("GITLAB_TOKEN_FILE", token.as_str()),
        ("GITLAB_MODE", "modify"),
        ("GITLAB_PROJECTS", "fleet/*"),
    ]);
    let server = TestServer::start(mcp_server_gitlab::server(c).await.unwrap()).await;
    (gl, server)
}

/// A bare repository `remotes/<slug>.git`: what the project is pushed to.
fn bare(fleet: &Fleet, slug: &str) {
    let path = fleet.remotes().join(format!("{slug}.git"));
    let out = std::process::Command::new("git").args(["init", "-q", "--bare"]).arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `git` in `dir`, its output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").args(args).current_dir(dir).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A planner delivering to `gitlab` and the fleet's remotes.
async fn planner(fleet: &Fleet, gitlab: &TestServer) -> TestServer {
    let remote = format!("{}/{{slug}}.git", fleet.remotes().display());
    fleet
        .planner(|c| {
            c.runtime = Runtime {
                gitlab: Some(gitlab.url()),
                gitlab_remote: Some(remote.clone()),
                gitlab_wait: Some(Duration::from_secs(60)),
                ..Runtime::process()
            };
        })
        .await
}

/// Build `name` with `delivery: "gitlab"`: the run's id and how it ended.
async fn deliver(planner: &TestServer, name: &str, request_id: &str) -> (String, Value) {
    let mut s = spec(name, "python", "cli");
    s["delivery"] = json!("gitlab");
    let request = json!({"request_id": request_id, "requester": "alice@example.test"});
    let v = ok(&planner.raw().call("plan_start", json!({"spec": s, "request": request})).await).clone();
    let keys: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["def"]["key"].as_str().unwrap()).collect();
    assert_eq!(keys[keys.len() - 3..], ["tag", "deliver", "report"], "{v}");
    let run_id = v["id"].as_str().unwrap().to_owned();
    let done = wait_done(planner, &run_id, Duration::from_secs(240)).await;
    (run_id, done)
}

/// The deliver step's record.
fn deliver_step(done: &Value) -> &Value {
    done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "deliver").unwrap()
}

/// The pipelines created through the API (`POST …/pipeline`).
fn creates(gl: &GitlabDouble) -> usize {
    gl.seen().iter().filter(|s| s.method == "POST" && s.path.ends_with("/pipeline")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gitlab_delivery_pushes_the_release_and_reports_its_pipeline() {
    let fleet = Fleet::start_with_remotes().await;
    let slug = "gitlab-hello";
    bare(&fleet, slug);
    let (gl, gitlab) = gitlab(&fleet, slug, vec![JobSpec::ok("build", "build"), JobSpec::ok("test", "test")]).await;
    let p = planner(&fleet, &gitlab).await;
    let (run_id, done) = deliver(&p, "Gitlab Hello", "req-gl-ok").await;
    p.stop().await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert!(done["reason"].as_str().unwrap().contains("pushed to GitLab with pipeline #"), "{done}");

    // The remote has the branch at the project's HEAD, and the tag.
    let remote = fleet.remotes().join(format!("{slug}.git"));
    let head = git(&fleet.projects().join(slug), &["rev-parse", "HEAD"]);
    assert_eq!(git(&remote, &["rev-parse", "refs/heads/main"]), head);
    assert_eq!(git(&remote, &["rev-parse", "v0.1.0^{commit}"]), head);

    // One pipeline, for main, created once; it passed.
    assert_eq!(creates(&gl), 1, "{:?}", gl.seen());
    let listed = ok(&gitlab.raw().call("pipeline_list", json!({"project": format!("fleet/{slug}")})).await).clone();
    let pipelines = listed["pipelines"].as_array().unwrap();
    assert_eq!(pipelines.len(), 1, "{listed}");
    assert_eq!((pipelines[0]["ref"].as_str(), pipelines[0]["status"].as_str()), (Some("main"), Some("success")));
    let r = &deliver_step(&done)["result"];
    assert_eq!(r["passed"], true, "{r}");
    assert_eq!(r["pipeline"]["id"], pipelines[0]["id"]);
    assert_eq!((r["remote"]["action"].as_str(), r["pipeline_origin"].as_str()), (Some("added"), Some("created")));

    // The report says what was pushed and how the pipeline ended, with its link.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = unfold(&mails[0]);
    let line =
        format!("GitLab pipeline #{}: success ({})", r["pipeline"]["id"], pipelines[0]["web_url"].as_str().unwrap());
    assert!(m.contains(&line), "{line} missing from {m}");
    let pushed =
        m.lines().find(|l| l.starts_with("Pushed to GitLab (fleet/gitlab-hello): ")).unwrap_or_else(|| panic!("{m}"));
    assert!(pushed.contains("refs/heads/main (new)") && pushed.contains("refs/tags/v0.1.0 (new)"), "{pushed}");

    // A planner killed after the pipeline was created and noted in the checkpoint, before the step's end:
    // the next one pushes again (nothing new) and waits for the same pipeline instead of creating another.
    let idx = done["steps"].as_array().unwrap().iter().position(|s| s["def"]["key"] == "deliver").unwrap() as i64;
    let noted = json!({"phase": "deliver", "note": true, "project": format!("fleet/{slug}"),
                       "pipeline": {"id": r["pipeline"]["id"]}});
    crate::resume::crash_after_writes(&fleet, &run_id, &[idx], async |store| {
        store.finish_step(&run_id, idx, StepState::Succeeded, Some(&noted), None, None).await.unwrap();
    })
    .await;
    let p = planner(&fleet, &gitlab).await;
    let again = wait_done(&p, &run_id, Duration::from_secs(120)).await;
    assert_eq!(again["state"], "succeeded", "{again}");
    let r2 = &deliver_step(&again)["result"];
    assert_eq!(
        (r2["pipeline_origin"].as_str(), &r2["pipeline"]["id"]),
        (Some("resumed"), &r["pipeline"]["id"]),
        "{r2}"
    );
    assert!(r2["pushed"].as_array().unwrap().iter().all(|p| p["status"] == "up_to_date"), "{r2}");
    assert_eq!((r2["remote"]["action"].as_str(), r2["passed"].as_bool()), (Some("updated"), Some(true)), "{r2}");
    assert_eq!(creates(&gl), 1, "no second pipeline: {:?}", gl.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_gitlab_pipeline_fails_the_run_and_the_report_names_the_failed_job() {
    let fleet = Fleet::start_with_remotes().await;
    let slug = "gitlab-broken";
    bare(&fleet, slug);
    let failing = JobSpec::failing(
        "unit-tests",
        "test",
        &["$ pytest -q\n", "E   AssertionError: expected 3, got 4\n", "ERROR: Job failed: exit code 1\n"],
    );
    let (gl, gitlab) = gitlab(&fleet, slug, vec![JobSpec::ok("build", "build"), failing]).await;
    let (_, done) = deliver(&planner(&fleet, &gitlab).await, "Gitlab Broken", "req-gl-fail").await;
    assert_eq!(done["state"], "failed", "{done}");
    let reason = done["reason"].as_str().unwrap();
    assert!(reason.contains("the GitLab pipeline did not pass") && reason.contains("unit-tests"), "{reason}");
    // The release was pushed all the same: the pipeline ran on it.
    assert_eq!(git(&fleet.remotes().join(format!("{slug}.git")), &["tag"]), "v0.1.0");
    assert_eq!(creates(&gl), 1);
    let r = &deliver_step(&done)["result"];
    assert_eq!((r["passed"].as_bool(), r["pipeline"]["status"].as_str()), (Some(false), Some("failed")), "{r}");
    assert_eq!(r["failed_jobs"][0]["name"], "unit-tests", "{r}");

    let mails = fleet.outbox();
    let m = unfold(&mails[0]);
    let (_, not_done) = m.split_once("What was not done:").unwrap_or_else(|| panic!("{m}"));
    assert!(not_done.contains("FAILED (GitLab pipeline #"), "{m}");
    assert!(m.contains(": failed (http://"), "{m}");
    assert!(m.contains("  Failed job: unit-tests (stage test, script_failure)"), "{m}");
    assert!(m.contains("AssertionError: expected 3, got 4"), "{m}");
}
