//! Local runs on the real Docker Engine: the gitlab server's ci_* tools
//! over MCP, every job container started by the real docker server
//! (in-process, its own instance label, cleaned up by a guard), with the
//! busybox test image. One pipeline covers three stages, artifacts passed
//! through `needs` and stage order, an allowed failure, a `rules: if` skip,
//! a job without its image, masking, after_script and a failing job that
//! fails the pipeline; a second run selects jobs and ends with warnings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use mcp_core::Reader;
use mcp_test::TestServer;
use mcp_test::docker::Guard;
use mcp_test::raw::{err, ok};
use serde_json::{Value, json};

const PIPELINE: &str = r#"
stages: [build, test, deploy]
variables:
  GREETING: hello
  API_TOKEN: supersecret-123
build:
  stage: build
  script:
    - test -f input.txt
    - test ! -f untracked.txt
    - mkdir -p out
    - echo "$GREETING from $CI_JOB_NAME on $CI_COMMIT_REF_NAME in $CI_PROJECT_DIR" > out/result.txt
    - cat input.txt >> out/result.txt
    - echo scratch > out/scratch.tmp
    - echo "token is $API_TOKEN"
  artifacts:
    paths: [out/]
    exclude: [out/*.tmp]
  after_script:
    - 'echo "after build: $CI_JOB_STATUS"' 
unit:
  stage: test
  needs: [build]
  script:
    - cat out/result.txt
    - grep "hello from build on main in /builds/demo" out/result.txt
    - test ! -f out/scratch.tmp
lint:
  stage: test
  needs: []
  allow_failure: true
  script:
    - test ! -d out
    - echo lint found problems
    - exit 3
skipped_by_rule:
  stage: test
  rules:
    - if: $CI_COMMIT_BRANCH == "release"
  script: [echo never]
noimage:
  stage: test
  image: mcp-fleet-test/does-not-exist:1
  allow_failure: true
  script: [echo never]
broken:
  stage: test
  script:
    - echo about to fail
    - "false"
    - echo not reached
deploy:
  stage: deploy
  script: [echo deploying]
cleanup:
  stage: deploy
  when: on_failure
  script:
    - cat out/result.txt
    - echo cleaning up
"#;

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git").arg("-C").arg(dir).args(args).status().expect("git");
    assert!(st.success(), "git {args:?}");
}

/// A git repository `demo` with the pipeline, a tracked input and an untracked file.
fn repo(root: &Path) -> PathBuf {
    let repo = root.join("demo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(repo.join(".gitlab-ci.yml"), PIPELINE).expect("write");
    std::fs::write(repo.join("input.txt"), "tracked input\n").expect("write");
    git(&repo, &["-c", "init.defaultBranch=main", "init", "-q"]);
    git(&repo, &["add", "."]);
    git(&repo, &["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init"]);
    std::fs::write(repo.join("untracked.txt"), "not copied\n").expect("write");
    repo
}

struct Env {
    gitlab: TestServer,
    _docker: TestServer,
    _guard: Guard,
    _dir: tempfile::TempDir,
    work: PathBuf,
    vars: HashMap<String, String>,
}

async fn start() -> Env {
    let image = mcp_test::docker::busybox_image();
    let guard = Guard::new("gitlab-ci");
    let dir = tempfile::tempdir().expect("tempdir");
    let base = std::fs::canonicalize(dir.path()).expect("canonical");
    let binds = base.join("binds");
    let work = binds.join("ci-runs");
    let projects = base.join("projects");
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::create_dir_all(&projects).expect("mkdir");
    repo(&projects);
    let mut dc = mcp_server_docker::Config::for_instance(&guard.0, Some(binds.clone()), base.join("docker-data"));
    dc.bind_writable = vec![binds.clone()];
    let docker = TestServer::start(mcp_server_docker::server(dc).await.expect("docker server")).await;
    let env: HashMap<String, String> = [
        ("GITLAB_CI_ROOTS", projects.display().to_string()),
        ("GITLAB_CI_WORK_DIR", work.display().to_string()),
        ("GITLAB_CI_DEFAULT_IMAGE", image),
        ("GITLAB_CI_MAX_PARALLEL", "2".to_owned()),
        ("GITLAB_CI_JOB_TIMEOUT", "120".to_owned()),
        ("MCP_SERVER_DOCKER_URL", docker.url()),
        ("MCP_PEER_TOKEN", mcp_test::TEST_TOKEN.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut r = Reader::new(&env);
    let config = mcp_server_gitlab::Config::read(&mut r);
    r.finish().expect("configuration");
    let gitlab = TestServer::start(mcp_server_gitlab::server(config).await.expect("gitlab server")).await;
    Env { gitlab, _docker: docker, _guard: guard, _dir: dir, work, vars: env }
}

impl Env {
    async fn ok(&self, tool: &str, args: Value) -> Value {
        ok(&self.gitlab.raw().call(tool, args).await).clone()
    }
    async fn err(&self, tool: &str, args: Value) -> String {
        err(&self.gitlab.raw().call(tool, args).await)
    }
}

fn job<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["jobs"]
        .as_array()
        .and_then(|j| j.iter().find(|j| j["name"] == name))
        .unwrap_or_else(|| panic!("no {name}: {run}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pipeline_with_artifacts_needs_rules_and_failures() {
    let env = start().await;

    let v = env.ok("ci_validate", json!({"path": "demo"})).await;
    assert_eq!(v["valid"], true, "{v}");
    let plan = env.ok("ci_plan", json!({"path": "demo"})).await;
    let skipped = plan["jobs"].as_array().and_then(|j| j.iter().find(|j| j["name"] == "skipped_by_rule")).expect("job");
    assert_eq!(skipped["disposition"], "excluded", "{plan}");
    assert_eq!(skipped["reason"], "no rule matches");
    assert_eq!(plan["stages"], json!(["build", "test", "deploy"]));

    let out = env.ok("ci_run_local", json!({"path": "demo", "wait": true, "wait_secs": 600})).await;
    let id = out["run_id"].as_str().expect("run id").to_owned();
    let run = &out["run"];
    assert_eq!(run["status"], "failed", "{run:#}");
    assert_eq!(job(run, "build")["status"], "success", "{run:#}");
    assert_eq!(job(run, "unit")["status"], "success", "{run:#}");
    let lint = job(run, "lint");
    assert_eq!(lint["status"], "failed");
    assert_eq!(lint["exit_code"], 3);
    assert_eq!(lint["allow_failure"], true);
    let noimage = job(run, "noimage");
    assert_eq!(noimage["status"], "failed");
    assert!(noimage["reason"].as_str().unwrap_or("").contains("does-not-exist"), "{noimage}");
    let broken = job(run, "broken");
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["exit_code"], 1);
    assert_eq!(broken["allow_failure"], false);
    assert_eq!(job(run, "deploy")["status"], "skipped");
    assert_eq!(job(run, "deploy")["reason"], "a job it waits for failed");
    assert_eq!(job(run, "cleanup")["status"], "success", "on_failure runs: {run:#}");
    assert!(run["jobs"].as_array().expect("jobs").iter().all(|j| j["name"] != "skipped_by_rule"));
    assert!(job(run, "build")["duration_ms"].as_u64().is_some());

    // The status tool agrees, and the run is listed.
    let st = env.ok("ci_run_status", json!({"run_id": id})).await;
    assert_eq!(st["run"]["status"], "failed");
    let list = env.ok("ci_run_status", json!({})).await;
    assert_eq!(list["runs"][0]["run_id"], id.as_str());

    // Logs: command echo, sections, masking, after_script, failure line.
    let log = env.ok("ci_job_log", json!({"run_id": id, "job": "build", "limit": 5000})).await;
    let text = log["text"].as_str().expect("text");
    assert!(text.contains("section_start:") && text.contains(":step_script"), "{text}");
    assert!(text.contains("$ mkdir -p out"), "{text}");
    // Masked twice over: by the docker server (`***`) and by this server (`[MASKED]`).
    assert!(!text.contains("supersecret-123"), "{text}");
    assert!(text.contains("token is [MASKED]") || text.contains("token is ***"), "{text}");
    assert!(text.contains("after build: success"), "{text}");
    assert!(text.contains("Job succeeded"), "{text}");
    let broken_log = env.ok("ci_job_log", json!({"run_id": id, "job": "broken", "tail": 5})).await;
    assert!(broken_log["text"].as_str().expect("text").contains("ERROR: Job failed: exit code 1"), "{broken_log}");
    let grep = env.ok("ci_job_log", json!({"run_id": id, "job": "broken", "grep": "not reached"})).await;
    assert_eq!(grep["text"], "", "set -e stops at `false`: {grep}");
    let unit_log = env.ok("ci_job_log", json!({"run_id": id, "job": "unit", "grep": "restored"})).await;
    assert!(unit_log["text"].as_str().expect("text").contains("of build"), "{unit_log}");

    // Artifacts: the build's file (not the excluded one), readable.
    let arts = env.ok("ci_artifacts", json!({"run_id": id, "job": "build"})).await;
    assert_eq!(arts["files"], json!([{"job": "build", "path": "out/result.txt", "size": arts["files"][0]["size"]}]));
    let file = env.ok("ci_artifacts", json!({"run_id": id, "job": "build", "path": "out/result.txt"})).await;
    assert_eq!(file["content"], "hello from build on main in /builds/demo\ntracked input\n");
    let e = env.err("ci_artifacts", json!({"run_id": id, "job": "build", "path": "../run.json"})).await;
    assert!(e.contains("inside the repository"), "{e}");
    // The run directory keeps the record; job copies are gone.
    assert!(env.work.join(&id).join("run.json").is_file());
    assert!(!env.work.join(&id).join("jobs").exists());
    // A restarted server reads the finished run back.
    let again = mcp_server_gitlab::ci::CiConfig::read(&mut Reader::new(&env.vars));
    let ci = mcp_server_gitlab::ci::Ci::new(&again).await.expect("ci");
    let back = ci.runs().get(&id).and_then(|h| h.snapshot()).expect("run read back");
    assert_eq!(back.status, "failed");
    assert_eq!(back.jobs.len(), run["jobs"].as_array().map_or(0, Vec::len));

    // A selection: build (needed) + unit + lint; only an allowed failure.
    let out =
        env.ok("ci_run_local", json!({"path": "demo", "jobs": ["unit", "lint"], "wait": true, "wait_secs": 600})).await;
    let run = &out["run"];
    assert_eq!(run["status"], "success_with_warnings", "{run:#}");
    assert_eq!(job(run, "build")["status"], "success");
    assert_eq!(job(run, "broken")["status"], "skipped");
    assert_eq!(job(run, "broken")["reason"], "not selected");
    assert_eq!(job(run, "deploy")["status"], "skipped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_paths() {
    let env = start().await;
    let projects = env.work.parent().and_then(Path::parent).expect("base").join("projects");
    let bad = projects.join("bad");
    std::fs::create_dir_all(&bad).expect("mkdir");
    std::fs::write(bad.join(".gitlab-ci.yml"), "j:\n  script: [x]\n  services: [postgres:16]\n").expect("write");
    git(&bad, &["init", "-q"]);
    git(&bad, &["add", "."]);
    let v = env.ok("ci_validate", json!({"path": "bad"})).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["refused"], json!(["services"]));
    let e = env.err("ci_run_local", json!({"path": "bad"})).await;
    assert!(e.contains("`services`"), "{e}");
    let e = env.err("ci_plan", json!({"path": "../etc"})).await;
    assert!(e.contains("inside the repository"), "{e}");
    let e = env.err("ci_plan", json!({"path": "demo", "source": "carrier-pigeon"})).await;
    assert!(e.contains("source"), "{e}");
    let e = env.err("ci_job_log", json!({"run_id": "nope", "job": "x"})).await;
    assert!(e.contains("no run"), "{e}");
}
