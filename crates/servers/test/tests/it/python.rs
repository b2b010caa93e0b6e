//! pytest and unittest projects: statuses, messages and lines, subsets,
//! only_failed, reruns, time limits, coverage, listing, output and history.

use serde_json::json;

use crate::{Env, case, err, ok, statuses};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pytest_results_subsets_and_output() {
    let env = Env::start().await;
    env.fixture("py_basic", "basic");
    let det = ok(&env.call("test_detect", json!({"path": "basic"})).await).clone();
    assert_eq!((det["runner"].as_str(), det["source"].as_str()), (Some("pytest"), Some("pyproject.toml")), "{det:#}");
    assert_eq!(det["available"], true, "{det:#}");

    let out = env.run(json!({"path": "basic"})).await;
    assert_eq!(out["verdict"], "failed", "{out:#}");
    assert_eq!(out["passed"], false);
    assert_eq!(out["exit_code"], 1);
    let t = &out["totals"];
    assert_eq!(
        (&t["tests"], &t["passed"], &t["failed"], &t["errors"], &t["skipped"], &t["xfailed"], &t["xpassed"]),
        (&json!(9), &json!(4), &json!(1), &json!(1), &json!(1), &json!(1), &json!(1)),
        "{out:#}"
    );
    let f = case(&out, "tests/test_basic.py::test_fail");
    assert_eq!(f["status"], "failed");
    assert!(f["message"].as_str().unwrap().contains("one plus one"), "{f:#}");
    assert_eq!((f["file"].as_str(), f["line"].as_u64()), (Some("tests/test_basic.py"), Some(14)), "{f:#}");
    assert!(f["output"].as_str().unwrap().contains("about to fail"), "{f:#}");
    assert_eq!(case(&out, "tests/test_basic.py::test_error")["status"], "error");
    assert_eq!(case(&out, "tests/test_basic.py::test_xpass")["status"], "xpassed");
    assert_eq!(case(&out, "tests/test_basic.py::test_param[2]")["status"], "passed");
    assert_eq!(case(&out, "tests/test_basic.py::TestGroup::test_method")["suite"], "tests/test_basic.py::TestGroup");
    // Failures first, then the rest.
    let first: Vec<&str> =
        out["cases"].as_array().unwrap()[..2].iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert!(first.iter().all(|s| *s == "failed" || *s == "error"), "{first:?}");
    assert_eq!(out["failed_ids"], json!(["tests/test_basic.py::test_fail", "tests/test_basic.py::test_error"]));
    assert!(
        out["summary"].as_str().unwrap().starts_with("4 passed, 1 failed, 1 errors, 1 skipped"),
        "{}",
        out["summary"]
    );
    assert!(out["output"].as_str().unwrap().contains("1 failed"), "{}", out["output"]);
    assert!(out["argv"].as_array().unwrap().iter().any(|a| a == "no:cacheprovider"));

    // The raw output, paged.
    let run_id = out["run_id"].as_str().unwrap();
    let page = ok(&env.call("test_output", json!({"run_id": run_id, "offset": 0, "max_bytes": 100})).await).clone();
    assert_eq!(page["text"].as_str().unwrap().len(), 100);
    assert_eq!(page["at_end"], false);
    let rest = ok(&env
        .call("test_output", json!({"run_id": run_id, "offset": page["next_offset"], "max_bytes": 1000000}))
        .await)
    .clone();
    assert!(rest["text"].as_str().unwrap().contains("short test summary"), "{rest:#}");

    // Subsets.
    let k = env.run(json!({"path": "basic", "keyword": "param"})).await;
    assert_eq!(
        statuses(&k),
        [
            ("tests/test_basic.py::test_param[1]".into(), "passed".into()),
            ("tests/test_basic.py::test_param[2]".into(), "passed".into())
        ]
    );
    assert_eq!(k["verdict"], "passed", "{k:#}");
    let ids = env.run(json!({"path": "basic", "ids": ["tests/test_basic.py::test_pass", "tests/test_basic.py::TestGroup::test_method"]})).await;
    assert_eq!(ids["totals"]["tests"], 2, "{ids:#}");
    assert_eq!(ids["verdict"], "passed");
    // The last run (ids) had no failures: nothing to rerun, said so.
    let e = err(&env.call("test_run", json!({"path": "basic", "only_failed": true})).await);
    assert!(e.contains("had no failures"), "{e}");

    // only_failed right after a failing run reruns exactly the failed ids.
    env.run(json!({"path": "basic"})).await;
    let only = env.run(json!({"path": "basic", "only_failed": true})).await;
    assert_eq!(
        statuses(&only),
        [
            ("tests/test_basic.py::test_error".into(), "error".into()),
            ("tests/test_basic.py::test_fail".into(), "failed".into())
        ],
        "{only:#}"
    );
    let one = env
        .run(json!({"path": "basic", "paths": ["tests/test_basic.py"], "keyword": "test_pass", "max_cases": 1}))
        .await;
    assert_eq!(one["totals"]["tests"], 1);

    // Listing.
    let list = ok(&env.call("test_list", json!({"path": "basic"})).await).clone();
    assert_eq!(list["count"], 9, "{list:#}");
    assert!(list["tests"].as_array().unwrap().iter().any(|t| t == "tests/test_basic.py::TestGroup::test_method"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_are_validated() {
    let env = Env::start().await;
    env.fixture("py_basic", "basic");
    for (args, want) in [
        (json!({"path": "basic", "keyword": "-x"}), "starts with '-'"),
        (json!({"path": "basic", "ids": ["--co"]}), "starts with '-'"),
        (json!({"path": "basic", "paths": ["../"]}), "leaves the project"),
        (json!({"path": "basic", "paths": ["/etc"]}), "outside the project"),
        (json!({"path": "basic", "ids": ["../x.py::t"]}), "leaves the project"),
        (json!({"path": "basic", "reruns": 9}), "reruns"),
        (json!({"path": "basic", "timeout_secs": 999999}), "timeout_secs"),
        (json!({"path": "basic", "runner": "make"}), "runner"),
        (json!({"path": "../.."}), "outside"),
        (json!({"path": "basic", "only_failed": true}), "no run"),
    ] {
        let e = err(&env.call("test_run", args.clone()).await);
        assert!(e.contains(want), "{args}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coverage_and_its_absence() {
    let env = Env::start().await;
    env.fixture("py_basic", "basic");
    let out = env.run(json!({"path": "basic", "coverage": true, "keyword": "test_pass"})).await;
    let cov = &out["coverage"];
    assert!(cov["tool"].as_str().unwrap().starts_with("coverage.py"), "{out:#}");
    let p = cov["percent"].as_f64().unwrap();
    assert!(p > 10.0 && p < 100.0, "{cov:#}");
    let calc = cov["files"].as_array().unwrap().iter().find(|f| f["file"] == "calc.py").unwrap();
    assert!(calc["percent"].as_f64().unwrap() < 100.0, "{calc:#}");
    assert_eq!(out["verdict"], "passed", "{out:#}");
    // Rust: said plainly, no coverage.
    env.fixture("rust_basic", "rb");
    let r = env.run(json!({"path": "rb", "coverage": true, "ids": ["tests::it_works"]})).await;
    assert!(r["coverage"].is_null());
    assert!(r["coverage_note"].as_str().unwrap().contains("llvm"), "{r:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_tests_are_found_by_reruns() {
    let env = Env::start().await;
    env.fixture("py_flaky", "fl");
    let out = env.run(json!({"path": "fl", "reruns": 2})).await;
    let f = case(&out, "tests/test_flaky.py::test_flaky");
    assert_eq!((f["status"].as_str(), f["flaky"].as_bool()), (Some("failed"), Some(true)), "{out:#}");
    assert_eq!(case(&out, "tests/test_flaky.py::test_steady")["flaky"], false);
    assert_eq!(out["totals"]["flaky"], 1);
    assert_ne!(out["verdict"], "passed");
    assert!(out["note"].as_str().unwrap().contains("flaky"), "{out:#}");
    // Without reruns nothing is called flaky.
    env.fixture("py_flaky", "fl2");
    let out = env.run(json!({"path": "fl2"})).await;
    assert_eq!(out["totals"]["flaky"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_limits_per_test_and_per_run() {
    let env = Env::start().await;
    env.fixture("py_hang", "hang");
    let started = std::time::Instant::now();
    let out = env.run(json!({"path": "hang", "test_timeout_secs": 2})).await;
    assert!(started.elapsed().as_secs() < 60);
    let h = case(&out, "tests/test_hang.py::test_hangs");
    assert_eq!(h["status"], "failed", "{out:#}");
    assert!(h["message"].as_str().unwrap().contains("per-test time limit"), "{h:#}");
    assert_eq!(case(&out, "tests/test_hang.py::test_ok")["status"], "passed");
    assert_eq!(out["verdict"], "failed");

    let started = std::time::Instant::now();
    let out = env.run(json!({"path": "hang", "timeout_secs": 3})).await;
    assert!(started.elapsed().as_secs() < 60);
    assert_eq!(out["verdict"], "timed_out", "{out:#}");
    assert_eq!(out["passed"], false);
    assert!(out["note"].as_str().unwrap().contains("time limit"), "{out:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unittest_project() {
    let env = Env::start().await;
    env.fixture("py_unittest", "u");
    let det = ok(&env.call("test_detect", json!({"path": "u"})).await).clone();
    assert_eq!(det["runner"], "unittest", "{det:#}");
    let out = env.run(json!({"path": "u"})).await;
    assert_eq!(
        statuses(&out),
        [
            ("tests.test_units.Units.test_error".into(), "error".into()),
            ("tests.test_units.Units.test_fail".into(), "failed".into()),
            ("tests.test_units.Units.test_pass".into(), "passed".into()),
            ("tests.test_units.Units.test_skip".into(), "skipped".into()),
            ("tests.test_units.Units.test_xfail".into(), "xfailed".into()),
        ],
        "{out:#}"
    );
    let f = case(&out, "tests.test_units.Units.test_fail");
    assert_eq!((f["file"].as_str(), f["line"].as_u64()), (Some("tests/test_units.py"), Some(10)));
    let one = env.run(json!({"path": "u", "ids": ["tests.test_units.Units.test_pass"]})).await;
    assert_eq!(one["verdict"], "passed", "{one:#}");
    assert_eq!(one["totals"]["tests"], 1);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

fn head(dir: &std::path::Path) -> String {
    let o = std::process::Command::new("git").args(["rev-parse", "HEAD"]).current_dir(dir).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_says_when_a_test_started_failing() {
    let env = Env::start().await;
    let p = env.project("h", &[("pytest.ini", "[pytest]\n"), ("tests/test_h.py", "def test_h():\n    assert True\n")]);
    git(&p, &["init", "-q", "-b", "main"]);
    git(&p, &["add", "."]);
    git(&p, &["commit", "-qm", "good"]);
    let good = head(&p);
    let r1 = env.run(json!({"path": "h"})).await;
    assert_eq!((r1["verdict"].as_str(), r1["commit"].as_str()), (Some("passed"), Some(good.as_str())), "{r1:#}");
    std::fs::write(p.join("tests/test_h.py"), "def test_h():\n    assert False, 'broken'\n").unwrap();
    git(&p, &["commit", "-qam", "break"]);
    let bad = head(&p);
    let r2 = env.run(json!({"path": "h"})).await;
    assert_eq!(r2["commit"], bad.as_str());
    git(&p, &["commit", "-q", "--allow-empty", "-m", "still broken"]);
    // Packed refs are read too.
    git(&p, &["pack-refs", "--all"]);
    let r3 = env.run(json!({"path": "h"})).await;
    assert_eq!(r3["commit"], head(&p).as_str());
    let h = ok(&env.call("test_history", json!({"path": "h", "test_id": "tests/test_h.py::test_h"})).await).clone();
    let t = &h["test"];
    assert_eq!(t["failing"], true, "{h:#}");
    assert_eq!(t["failing_runs"], 2);
    assert_eq!(
        (t["failing_since"]["run_id"].as_str(), t["failing_since"]["commit"].as_str()),
        (r2["run_id"].as_str(), Some(bad.as_str()))
    );
    assert_eq!(
        (t["last_passed"]["run_id"].as_str(), t["last_passed"]["commit"].as_str()),
        (r1["run_id"].as_str(), Some(good.as_str()))
    );
    assert_eq!(h["runs"].as_array().unwrap().len(), 3);
    assert_eq!(h["runs"][0]["run_id"], r3["run_id"]);
    // Fixed: passing again, no streak.
    std::fs::write(p.join("tests/test_h.py"), "def test_h():\n    assert True\n").unwrap();
    env.run(json!({"path": "h"})).await;
    let h = ok(&env.call("test_history", json!({"path": "h", "test_id": "tests/test_h.py::test_h", "limit": 2})).await)
        .clone();
    assert_eq!(h["test"]["failing"], false);
    assert!(h["test"]["failing_since"].is_null());
    assert_eq!(h["runs"].as_array().unwrap().len(), 2);
}

/// More runs than `TEST_MAX_PROCESSES` at once: the extra ones wait for a
/// slot and complete, rather than fail (a planner building several projects
/// would read a refusal as failed tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_limit_wait_for_a_slot() {
    let env = std::sync::Arc::new(Env::with(|c| c.max_processes = 1).await);
    let slow = "import time\n\ndef test_slow():\n    time.sleep(0.5)\n";
    for p in ["a", "b", "c"] {
        env.project(p, &[("pytest.ini", "[pytest]\n"), ("tests/test_slow.py", slow)]);
    }
    let started = std::time::Instant::now();
    let runs = ["a", "b", "c"].map(|p| {
        let env = env.clone();
        tokio::spawn(async move { env.run(serde_json::json!({"path": p})).await })
    });
    for r in runs {
        let out = r.await.unwrap();
        assert_eq!(out["verdict"], "passed", "{out:#}");
    }
    // One at a time: three half-second tests cannot have overlapped.
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500), "{:?}", started.elapsed());
}
