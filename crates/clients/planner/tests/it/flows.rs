//! Whole runs against the real servers and toolchains.

use std::time::Duration;

use serde_json::json;

use crate::{Fleet, err, ok, spec, wait_done};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_cli_is_built_tested_tagged_and_reported_once() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|_| {}).await;
    let mail = fleet.request_mail("Word counter please").await;
    let request = json!({"request_id": "req-wc-1", "requester": "alice@example.test", "subject": "Word counter please",
                         "reply_to": mail});
    let tp = "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let r = planner
        .raw()
        .request(
            "tools/call",
            json!({"name": "plan_start", "arguments": {"spec": spec("Word Counter", "python", "cli"), "request": request}}),
            json!({"traceparent": tp}),
            &[],
        )
        .await;
    let v = ok(&r).clone();
    let run_id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["slug"], "word-counter");
    assert_eq!(v["template"], "python-cli");
    assert_eq!(v["trace_id"], "5bf92f3577b34da6a3ce929d0e0e4736");
    let keys: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["def"]["key"].as_str().unwrap()).collect();
    assert_eq!(
        keys,
        ["scaffold", "git_init", "commit_scaffold", "install", "build", "lint", "test", "commit_work", "tag", "report"]
    );

    // The same request again: the same run, nothing new.
    let again = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Word Counter", "python", "cli"), "request": request}))
        .await)
    .clone();
    assert_eq!(again["id"], run_id.as_str());

    let done = wait_done(&planner, &run_id, Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let states: Vec<&str> = done["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["succeeded"; 10], "{done}");
    let test = &done["steps"][6]["result"];
    assert_eq!(test["passed"], true);
    assert!(test["summary"].as_str().unwrap().contains("3 passed"), "{test}");
    // What was asked for and is not built (no model): pending tests, named and skipped with the reason.
    assert!(test["summary"].as_str().unwrap().contains("2 skipped"), "{test}");
    let pending = std::fs::read_to_string(fleet.projects().join("word-counter/tests/test_requirements.py")).unwrap();
    assert!(pending.contains("feature: greets people") && pending.contains("acceptance: tests pass"), "{pending}");

    // The project: SPEC.md with the request, the scaffold commit, the tag.
    let spec_md = std::fs::read_to_string(fleet.projects().join("word-counter/SPEC.md")).unwrap();
    assert!(spec_md.contains("| Request | req-wc-1 |") && spec_md.contains("- greets people"), "{spec_md}");
    assert!(fleet.projects().join("word-counter/src/word_counter/cli.py").exists());
    assert_eq!(fleet.commits("word-counter"), ["Scaffold word-counter from the python-cli template"]);
    assert_eq!(fleet.tags("word-counter"), ["v0.1.0"]);

    // One email, in the thread, with the result and the trace.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert!(m.contains("Subject: Re: Word counter please"), "{m}");
    assert!(m.contains("is ready") && m.contains("v0.1.0") && m.contains("5bf92f3577b34da6a3ce929d0e0e4736"), "{m}");
    assert!(m.contains("test: passed"), "{m}");
    // The results table, from the lint and test servers' records: 3 passed, 0 failed, 2 skipped, 0 errors.
    let m = &unfold(m);
    let table = m.split_once("Tests:\n").map(|(_, t)| t).unwrap_or_else(|| panic!("no results table: {m}"));
    let rows: Vec<Vec<&str>> = table.lines().take(2).map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows, [vec!["passed", "failed", "skipped", "errors"], vec!["3", "0", "2", "0"]], "{m}");
    // Every tool the lint server found ran clean: flake8 from template.json, and the CI file's checks.
    let lint = m.split_once("Lint findings by tool:\n").map(|(_, t)| t).unwrap_or_else(|| panic!("{m}"));
    let rows: Vec<(&str, &str)> = lint
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.trim().split_once(char::is_whitespace).map(|(t, n)| (t, n.trim())))
        .collect();
    assert_eq!(rows, [("flake8", "0"), ("yamllint", "0"), ("gitlab-ci-schema", "0")], "{m}");
    assert!(m.contains("Line coverage: ") && m.contains("% (coverage.py"), "{m}");

    // The decision log: planned, then completed; the task is finished.
    let d = ok(&fleet.sql.raw().call("decision_list", json!({"project": "word-counter"})).await).clone();
    let kinds: Vec<&str> = d["items"].as_array().unwrap().iter().map(|i| i["decision"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["planned", "completed"], "{d}");
    assert_eq!(d["items"][1]["trace_id"], "5bf92f3577b34da6a3ce929d0e0e4736");
    let t =
        ok(&fleet.log.raw().call("task_list", json!({"state": "finished", "project": "word-counter"})).await).clone();
    assert_eq!(t["tasks"][0]["state"], "succeeded", "{t}");

    // Status by request id, and the list.
    let s = ok(&planner.raw().call("plan_status", json!({"request_id": "req-wc-1"})).await).clone();
    assert_eq!(s["id"], run_id.as_str());
    let l = ok(&planner.raw().call("plan_list", json!({"state": "succeeded"})).await).clone();
    assert_eq!(l["runs"].as_array().unwrap().len(), 1);
    assert!(err(&planner.raw().call("plan_cancel", json!({"run_id": run_id})).await).contains("already succeeded"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rust_cli_and_a_python_library_build_side_by_side() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|_| {}).await;
    let mut runs = Vec::new();
    for (id, name, lang, kind) in
        [("req-rust", "Hello Rust", "rust", "cli"), ("req-lib", "Slug Tools", "python", "library")]
    {
        let request = json!({"request_id": id, "requester": "alice@example.test"});
        let v =
            ok(&planner.raw().call("plan_start", json!({"spec": spec(name, lang, kind), "request": request})).await)
                .clone();
        runs.push((v["id"].as_str().unwrap().to_owned(), v["slug"].as_str().unwrap().to_owned()));
    }
    for (run_id, slug) in &runs {
        let done = wait_done(&planner, run_id, Duration::from_secs(600)).await;
        assert_eq!(done["state"], "succeeded", "{slug}: {done}");
        assert_eq!(fleet.tags(slug), ["v0.1.0"], "{slug}");
    }
    // cargo wrote Cargo.lock: the second commit holds it.
    let rust = fleet.commits("hello-rust");
    assert_eq!(rust, ["Build hello-rust: Hello Rust", "Scaffold hello-rust from the rust-cli template"]);
    assert!(fleet.projects().join("hello-rust/target/debug/hello-rust").exists());
    let pending = std::fs::read_to_string(fleet.projects().join("hello-rust/tests/requirements.rs")).unwrap();
    assert!(pending.contains("#[ignore") && pending.contains("// feature: greets people"), "{pending}");
    // No reply_to: the reports went as new mail to the requester.
    assert_eq!(fleet.outbox().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budgets_and_cancellation_stop_cleanly_and_still_report() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|_| {}).await;
    let mail = fleet.request_mail("Tiny budget").await;
    let request = json!({"request_id": "req-budget", "requester": "alice@example.test", "reply_to": mail});
    let v = ok(&planner
        .raw()
        .call(
            "plan_start",
            json!({"spec": spec("Tiny", "python", "cli"), "request": request, "budget": {"max_steps": 3}}),
        )
        .await)
    .clone();
    assert_eq!(v["budget"]["max_steps"], 3);
    let done = wait_done(&planner, v["id"].as_str().unwrap(), Duration::from_secs(120)).await;
    assert_eq!(done["state"], "budget_exhausted", "{done}");
    let steps = done["steps"].as_array().unwrap();
    assert_eq!(steps[2]["state"], "succeeded", "scaffold, git init and the first commit fit: {done}");
    assert_eq!(steps[3]["state"], "skipped");
    assert_eq!(steps[3]["error_kind"], "budget_exhausted", "{done}");
    assert!(steps[3]["error"].as_str().unwrap().contains("step budget"), "{done}");
    assert_eq!(steps[9]["state"], "succeeded", "the report always runs: {done}");
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("could not finish") && mails[0].contains("step budget"), "{}", mails[0]);
    assert!(fleet.tags("tiny").is_empty());

    // Cancel a run as it starts.
    let v = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Stopper", "rust", "cli"), "request": {"request_id": "req-stop"}}))
        .await)
    .clone();
    let run_id = v["id"].as_str().unwrap().to_owned();
    ok(&planner.raw().call("plan_cancel", json!({"run_id": run_id})).await);
    let done = wait_done(&planner, &run_id, Duration::from_secs(120)).await;
    assert_eq!(done["state"], "cancelled", "{done}");
    assert_eq!(done["steps"].as_array().unwrap().last().unwrap()["state"], "succeeded");
    assert!(fleet.tags("stopper").is_empty());
    let d = ok(&fleet.sql.raw().call("decision_list", json!({"project": "stopper"})).await).clone();
    assert_eq!(d["items"].as_array().unwrap().last().unwrap()["decision"], "cancelled", "{d}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_specs_are_refused_before_anything_runs() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|_| {}).await;
    let c = planner.raw();
    let start = |spec: serde_json::Value, id: &str| {
        let c = c.clone();
        let id = id.to_owned();
        async move { c.call("plan_start", json!({"spec": spec, "request": {"request_id": id}})).await }
    };
    let e = err(&start(spec("Gui", "python", "desktop"), "r1").await);
    assert!(e.contains("no template builds a python desktop") && e.contains("rust cli"), "{e}");
    let mut s = spec("Remote", "python", "cli");
    s["delivery"] = json!("gitlab");
    // This planner has neither the gitlab server nor a remote: the refusal names both settings.
    let e = err(&start(s, "r2").await);
    assert!(e.contains("MCP_SERVER_GITLAB_URL") && e.contains("PLANNER_GITLAB_REMOTE"), "{e}");
    let mut s = spec("X", "python", "cli");
    s["slug"] = json!("../../etc");
    assert!(err(&start(s, "r3").await).contains("slug"));
    assert!(err(&start(spec("Ok", "python", "cli"), "bad id!").await).contains("request_id"));
    let mut s = spec("X", "python", "cli");
    s["summary"] = json!("");
    assert!(err(&start(s, "r4").await).contains("summary"));
    // Two requests, one folder: the second is refused.
    ok(&start(spec("Shared Name", "python", "cli"), "r5").await);
    assert!(err(&start(spec("Shared Name", "python", "library"), "r6").await).contains("already exists"));
    assert!(err(&c.call("plan_status", json!({"run_id": "run-nope"})).await).contains("not found"));
    assert!(err(&c.call("plan_wait", json!({"run_id": "x", "timeout_secs": 99})).await).contains("timeout_secs"));
}

/// A lint that runs and finds problems and a test that fails: the report's
/// reason and its step list agree (Lint under "not done", marked FAILED with
/// the linter's summary), its table counts the findings and names the
/// failing test, and the same requester may build the failed project again —
/// a new run that takes over its folder — while someone else may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_is_reported_as_failed_and_its_project_can_be_retried() {
    let fleet = Fleet::start().await;
    // The repository's templates, with python-cli's lint made to fail (a 20-column limit).
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp").arg("-r").arg(crate::templates()).arg(dir.path()).status().unwrap();
    assert!(status.success());
    let t = dir.path().join("templates");
    let manifest = t.join("projects/python-cli/template.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"flake8\", \"src\"", "\"flake8\", \"--max-line-length=20\", \"src\""))
        .unwrap();
    std::fs::write(
        t.join("projects/python-cli/tests/test_broken.py"),
        "def test_broken():\n    assert 1 + 1 == 3, \"arithmetic\"\n",
    )
    .unwrap();
    let strict = fleet.planner(|c| c.templates = t.clone()).await;
    let mail = fleet.request_mail("Strict lint").await;
    let request = json!({"request_id": "req-strict", "requester": "alice@example.test", "reply_to": mail});
    let v = ok(&strict
        .raw()
        .call("plan_start", json!({"spec": spec("Strict Lint", "python", "cli"), "request": request}))
        .await)
    .clone();
    let done = wait_done(&strict, v["id"].as_str().unwrap(), Duration::from_secs(300)).await;
    assert_eq!(done["state"], "failed", "{done}");
    let mails = fleet.outbox();
    let m = &unfold(mails.iter().find(|m| m.contains("Strict Lint")).unwrap());
    let (done_part, rest) = m.split_once("What was not done:").unwrap();
    assert!(!done_part.contains("- Lint"), "lint is not listed as done: {m}");
    assert!(rest.contains("- Lint: FAILED"), "{m}");
    assert!(rest.contains("- Run the tests: FAILED"), "{m}");
    // The table: the failing test by its id with its message, and flake8's findings counted.
    assert!(rest.contains("  Failing:\n  - tests/test_broken.py::test_broken (") && rest.contains("arithmetic"), "{m}");
    let flake8 = rest.lines().find(|l| l.trim_start().starts_with("flake8")).unwrap_or_else(|| panic!("{m}"));
    let n: u64 = flake8.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(n > 0, "{flake8}");
    // The lint step's record has the findings in the one shape: E501 at a line of a file.
    let lint = done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "lint").unwrap();
    let f = &lint["result"]["lint"]["findings"][0];
    assert_eq!((f["tool"].as_str(), f["rule"].as_str()), (Some("flake8"), Some("E501")), "{lint}");
    assert!(f["line"].as_u64().unwrap() >= 1 && f["file"].as_str().unwrap().ends_with(".py"), "{lint}");
    assert!(rest.contains("please try again"), "the failure mail says how to retry: {m}");

    // Someone else may not take the failed project's name; its requester may, as a new run.
    let other = json!({"request_id": "req-strict-bob", "requester": "bob@example.test"});
    let e = err(&strict
        .raw()
        .call("plan_start", json!({"spec": spec("Strict Lint", "python", "cli"), "request": other}))
        .await);
    assert!(e.contains("already exists"), "{e}");
    drop(strict);
    // The retry takes the folder over as it is: the broken test came from the first run's (test-made)
    // template, which the retry's does not have, so it goes the way a person would remove it.
    std::fs::remove_file(fleet.projects().join("strict-lint/tests/test_broken.py")).unwrap();
    let planner = fleet.planner(|_| {}).await;
    let again = json!({"request_id": "req-strict-retry2", "requester": "alice@example.test"});
    let v = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Strict Lint", "python", "cli"), "request": again}))
        .await)
    .clone();
    let done = wait_done(&planner, v["id"].as_str().unwrap(), Duration::from_secs(300)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(fleet.tags("strict-lint"), ["v0.1.0"]);
}

/// A sent message's text with CRLF line ends and quoted-printable soft line
/// breaks undone, so multi-line parts (the results table) can be matched.
pub(crate) fn unfold(raw: &str) -> String {
    raw.replace("\r\n", "\n").replace("=\n", "").replace("=3D", "=")
}
