//! Python projects: every Python tool's findings with exact rules and lines,
//! a clean project, paging, missing tools, `since`, SARIF, formatting,
//! explanations and refused arguments.

use std::process::Command;

use serde_json::json;

use crate::{Fixture, err, owned, require, rules_of, run_of};

const APP: &str = "src/pkg/app.py";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_python_tool_reports_its_findings_with_rules_and_lines() {
    for t in ["flake8", "black", "isort", "mypy", "bandit"] {
        require(t);
    }
    let with_ruff = require("ruff");
    let f = Fixture::new(&["python-bad"]).await;
    let d = crate::ok(&f.call("lint_detect", json!({"path": "python-bad"})).await).clone();
    let tools: Vec<&str> = d["tools"].as_array().unwrap().iter().map(|t| t["tool"].as_str().unwrap()).collect();
    assert_eq!(tools, ["ruff", "flake8", "black", "isort", "bandit", "mypy"], "{d}");
    let flake8 = d["tools"].as_array().unwrap().iter().find(|t| t["tool"] == "flake8").unwrap();
    assert_eq!(flake8["reason"], "setup.cfg [flake8]");
    assert_eq!(flake8["available"], true);
    assert!(flake8["version"].as_str().unwrap().starts_with(char::is_numeric), "{flake8}");
    let ruff = d["tools"].as_array().unwrap().iter().find(|t| t["tool"] == "ruff").unwrap();
    assert_eq!(ruff["reason"], "pyproject.toml [tool.ruff]");

    let v = f.lint(json!({"path": "python-bad"})).await;
    assert_eq!(v["passed"], false);
    assert_eq!(v["status"], if with_ruff { "findings" } else { "incomplete" }, "{v}");
    assert_eq!(
        rules_of(&v, "flake8"),
        owned(&[("E231", APP, 19), ("F401", APP, 1), ("F401", APP, 2), ("F841", APP, 11)])
    );
    assert_eq!(rules_of(&v, "black"), owned(&[("black", APP, 19)]));
    assert_eq!(rules_of(&v, "isort"), owned(&[("isort", APP, 1)]));
    assert_eq!(rules_of(&v, "mypy"), owned(&[("arg-type", APP, 12)]));
    assert_eq!(rules_of(&v, "bandit"), owned(&[("B404", APP, 3), ("B602", APP, 16)]));
    if with_ruff {
        assert_eq!(
            rules_of(&v, "ruff"),
            owned(&[("F401", APP, 1), ("F401", APP, 2), ("F841", APP, 11), ("I001", APP, 1)])
        );
        let f401 =
            v["findings"].as_array().unwrap().iter().find(|d| d["tool"] == "ruff" && d["rule"] == "F401").unwrap();
        assert!(f401["fix"].as_str().unwrap().contains("Remove unused import"), "{f401}");
        assert_eq!(f401["help_uri"], "https://docs.astral.sh/ruff/rules/unused-import");
    }
    for t in ["flake8", "black", "isort", "mypy", "bandit"] {
        let r = run_of(&v, t);
        assert_eq!(r["status"], "findings", "{r}");
        assert!(r["argv"].as_array().unwrap().len() > 1, "{r}");
    }
    assert!(run_of(&v, "black")["argv"].as_array().unwrap().contains(&json!("--check")));
    let black = v["findings"].as_array().unwrap().iter().find(|d| d["tool"] == "black").unwrap();
    assert!(black["fix"].as_str().unwrap().contains("+CONFIG = {\"a\": 1}"), "{black}");
    let mypy = v["findings"].as_array().unwrap().iter().find(|d| d["tool"] == "mypy").unwrap();
    assert_eq!((mypy["column"].as_u64(), mypy["severity"].as_str()), (Some(19), Some("error")));
    assert_eq!(v["summary"]["by_tool"]["flake8"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_project_passes_with_the_templates_own_command() {
    require("flake8");
    let f = Fixture::new(&["python-clean"]).await;
    let d = crate::ok(&f.call("lint_detect", json!({"path": "python-clean"})).await).clone();
    assert_eq!(d["tools"][0]["tool"], "flake8");
    assert_eq!(d["tools"][0]["reason"], "template.json commands.lint[0]: python3 -m flake8 src");
    let v = f.lint(json!({"path": "python-clean"})).await;
    assert_eq!(v["passed"], true, "{v}");
    assert_eq!(v["status"], "clean");
    assert_eq!(v["total"], 0);
    let r = run_of(&v, "flake8");
    assert_eq!(r["status"], "ok");
    assert_eq!(r["exit_code"], 0);
    // The project's own path argument is kept.
    assert_eq!(r["argv"].as_array().unwrap().last().unwrap(), "src", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_are_paged_and_the_cut_is_visible() {
    require("flake8");
    let f = Fixture::new(&["python-bad"]).await;
    let a = f.lint(json!({"path": "python-bad", "tools": ["flake8"], "max_findings": 3})).await;
    assert_eq!((a["total"].as_u64(), a["findings"].as_array().unwrap().len()), (Some(4), 3));
    assert_eq!((a["truncated"].as_bool(), a["next_offset"].as_u64()), (Some(true), Some(3)));
    let b = f.lint(json!({"path": "python-bad", "tools": ["flake8"], "max_findings": 3, "offset": 3})).await;
    assert_eq!(b["findings"].as_array().unwrap().len(), 1);
    assert_eq!(b["truncated"], false);
    assert!(b.get("next_offset").is_none());
    assert_eq!(b["findings"][0]["line"], 19);
    let s = f.lint(json!({"path": "python-bad", "tools": ["flake8"], "format": "summary"})).await;
    assert_eq!((s["total"].as_u64(), s["findings"].as_array().unwrap().len()), (Some(4), 0));
    assert_eq!(s["summary"]["by_severity"]["warning"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tool_is_missing_and_never_clean() {
    require("flake8");
    // No virtualenv with ruff on this server's PATH.
    let f = Fixture::with(&["python-clean"], |c| c.path = vec!["/usr/bin".into(), "/bin".into()]).await;
    let v = f.lint(json!({"path": "python-clean", "tools": ["ruff", "flake8"]})).await;
    let ruff = run_of(&v, "ruff");
    assert_eq!(ruff["status"], "missing", "{v}");
    assert!(ruff["message"].as_str().unwrap().contains("not installed"), "{ruff}");
    assert_eq!(run_of(&v, "flake8")["status"], "ok");
    assert_eq!(v["passed"], false);
    assert_eq!(v["status"], "incomplete");
    let only = f.lint(json!({"path": "python-clean", "tools": ["ruff"]})).await;
    assert_eq!((only["passed"].as_bool(), only["status"].as_str()), (Some(false), Some("incomplete")));
    let d = crate::ok(&f.call("lint_detect", json!({"path": "python-clean"})).await).clone();
    assert_eq!(d["tools"][0]["available"], true);
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "commit.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn since_keeps_only_new_findings_and_counts_the_rest() {
    require("flake8");
    let f = Fixture::new(&[]).await;
    let p = f.root().join("proj");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(p.join("setup.cfg"), "[flake8]\nmax-line-length = 100\n").unwrap();
    std::fs::write(p.join("a.py"), "import os\n\n\ndef f(x):\n    return x\n").unwrap();
    git(&p, &["init", "-q", "-b", "main"]);
    git(&p, &["add", "."]);
    git(&p, &["commit", "-q", "-m", "old"]);
    // New findings: a changed line in a.py, a whole new untracked file.
    std::fs::write(p.join("a.py"), "import os\n\n\ndef f(x):\n    unused = 1\n    return x\n").unwrap();
    std::fs::write(p.join("b.py"), "import json\n").unwrap();
    let all = f.lint(json!({"path": "proj", "tools": ["flake8"]})).await;
    assert_eq!(rules_of(&all, "flake8"), owned(&[("F401", "a.py", 1), ("F401", "b.py", 1), ("F841", "a.py", 5)]));
    let v = f.lint(json!({"path": "proj", "tools": ["flake8"], "since": "HEAD"})).await;
    assert_eq!(rules_of(&v, "flake8"), owned(&[("F401", "b.py", 1), ("F841", "a.py", 5)]));
    assert_eq!(v["baseline"], json!({"since": "HEAD", "dropped": 1}));
    assert_eq!(v["total"], 2);
    // Only old findings: the run is clean for this question.
    std::fs::remove_file(p.join("b.py")).unwrap();
    git(&p, &["checkout", "-q", "--", "a.py"]);
    let clean = f.lint(json!({"path": "proj", "tools": ["flake8"], "since": "HEAD"})).await;
    assert_eq!((clean["passed"].as_bool(), clean["total"].as_u64()), (Some(true), Some(0)), "{clean}");
    assert_eq!(clean["baseline"]["dropped"], 1);
    // Refs that are options or unknown are refused.
    let e = err(&f.call("lint_run", json!({"path": "proj", "since": "--output=/tmp/x"})).await);
    assert!(e.contains("starts with '-'"), "{e}");
    let e = err(&f.call("lint_run", json!({"path": "proj", "since": "no-such-ref"})).await);
    assert!(e.contains("git could not compare"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sarif_export_is_a_sarif_2_1_0_log() {
    require("flake8");
    let f = Fixture::new(&["python-bad"]).await;
    let r = f.call("lint_run", json!({"path": "python-bad", "tools": ["flake8"], "format": "sarif"})).await;
    let v = crate::ok(&r).clone();
    let s = &v["sarif"];
    assert_eq!(s["version"], "2.1.0");
    assert!(s["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    let run = &s["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "flake8");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    let e231 = results.iter().find(|r| r["ruleId"] == "E231").unwrap();
    assert_eq!(e231["level"], "warning");
    assert_eq!(e231["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], APP);
    assert_eq!(e231["locations"][0]["physicalLocation"]["region"]["startLine"], 19);
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().iter().any(|r| r["id"] == "F401"));
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    // The text block is the log itself.
    let text: serde_json::Value = serde_json::from_str(r.result()["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text["version"], "2.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_format_applies_black_and_isort_and_returns_the_diff() {
    require("black");
    require("isort");
    let f = Fixture::with(&["python-bad"], |c| c.write = true).await;
    let v = crate::ok(&f.call("lint_format", json!({"path": "python-bad", "tools": ["black", "isort"]})).await).clone();
    assert_eq!(v["changed"], json!([APP]), "{v}");
    let diff = v["diff"].as_str().unwrap();
    assert!(diff.contains("+CONFIG = {\"a\": 1}") && diff.contains("-import sys"), "{diff}");
    let text = std::fs::read_to_string(f.root().join("python-bad").join(APP)).unwrap();
    assert!(text.starts_with("import os\nimport subprocess\nimport sys\n"), "{text}");
    let again =
        crate::ok(&f.call("lint_format", json!({"path": "python-bad", "tools": ["black", "isort"]})).await).clone();
    assert_eq!(again["changed"], json!([]));
    let after = f.lint(json!({"path": "python-bad", "tools": ["black", "isort"]})).await;
    assert_eq!(after["passed"], true, "{after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lint_explain_says_documentation_or_link() {
    let f = Fixture::new(&[]).await;
    let rustc = crate::ok(&f.call("lint_explain", json!({"rule": "E0308"})).await).clone();
    assert_eq!((rustc["tool"].as_str(), rustc["kind"].as_str()), (Some("rustc"), Some("documentation")), "{rustc}");
    assert!(rustc["text"].as_str().unwrap().contains("mismatched") || rustc["text"].as_str().unwrap().contains("type"));
    let clippy = crate::ok(&f.call("lint_explain", json!({"rule": "clippy::needless_return"})).await).clone();
    assert_eq!(clippy["kind"], "link");
    assert_eq!(clippy["url"], "https://rust-lang.github.io/rust-clippy/master/index.html#needless_return");
    let sc = crate::ok(&f.call("lint_explain", json!({"rule": "SC2086"})).await).clone();
    assert_eq!(sc["url"], "https://www.shellcheck.net/wiki/SC2086");
    if require("ruff") {
        let ruff = crate::ok(&f.call("lint_explain", json!({"rule": "F401"})).await).clone();
        assert_eq!(ruff["kind"], "documentation", "{ruff}");
        assert!(ruff["text"].as_str().unwrap().contains("unused-import"), "{ruff}");
    }
    let e = err(&f.call("lint_explain", json!({"rule": "--help"})).await);
    assert!(e.contains("rule must be"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_escaping_the_project_are_refused() {
    let f = Fixture::new(&["python-clean", "python-bad"]).await;
    for bad in ["../python-bad", "/etc", "src/../../python-bad", "-x"] {
        let e = err(&f.call("lint_run", json!({"path": "python-clean", "paths": [bad]})).await);
        assert!(e.contains("inside") || e.contains("relative"), "{bad}: {e}");
    }
    let e = err(&f.call("lint_run", json!({"path": "../"})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    // A symlink inside the project that points out of it.
    std::os::unix::fs::symlink(f.root().join("python-bad"), f.root().join("python-clean/link")).unwrap();
    let e = err(&f.call("lint_run", json!({"path": "python-clean", "paths": ["link"]})).await);
    assert!(e.contains("outside the project"), "{e}");
    let e = err(&f.call("lint_run", json!({"path": "python-clean", "tools": ["pylint"]})).await);
    assert!(e.contains("unknown tool"), "{e}");
}
