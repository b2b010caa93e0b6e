//! The steps that use the spec and registry servers: with a spec server the
//! scaffold's SPEC.md and README.md are its documents and a `changelog` step
//! commits CHANGELOG.md before the tag; with a registry server a `pin` step
//! pins the template manifest's dependencies, and when the registries cannot
//! answer the run goes on with the template's constraints and says so.
//!
//! Both servers run in-process. PyPI cannot be relied on from the project's
//! machines (and would make the expected pins change over time), so the
//! registry server reads `mcp_test::registry::Double`, a double built from
//! PyPI's documented Simple and JSON APIs and OSV's query API, serving
//! `pytest` and `flake8` with a newer yanked release, a newer release that
//! needs a newer Python than the template's `requires-python`, and
//! pre-releases, all of which a pin must pass over.

use std::path::Path;
use std::time::Duration;

use mcp_test::TestServer;
use mcp_test::registry::{Double, PypiRelease};
use serde_json::{Value, json};

use crate::flows::unfold;
use crate::{Fleet, ok, reader_config, spec, wait_done};

/// What the template's pyproject.toml asks for, and must still say when nothing was pinned.
const DEV_CONSTRAINTS: &str = r#"dev = ["pytest>=7", "flake8>=6"]"#;
const BUILD_REQUIRES: &str = r#"requires = ["setuptools>=61"]"#;

/// The spec server, its database under the fleet's folder.
async fn spec_server(fleet: &Fleet) -> TestServer {
    let dir = fleet.dir.path();
    let config = reader_config(
        &[
            ("SPEC_DATA_DIR", dir.join("spec").display().to_string()),
            ("SPEC_DATABASE_URL", mcp_test::services::sqlite_url(dir, "spec")),
        ],
        mcp_server_spec::Config::read,
    );
    TestServer::start(mcp_server_spec::server(config).await.unwrap()).await
}

/// The double with this test's PyPI projects: the pins must be pytest
/// 8.3.5 and flake8 7.1.2.
async fn registries() -> Double {
    let double = Double::start().await;
    double.set_pypi(
        "pytest",
        &[
            PypiRelease::new("7.4.4"),
            PypiRelease::new("8.3.5"),
            PypiRelease::new("8.4.0").yanked("broken wheel"),
            PypiRelease::new("8.4.1").requires_python(">=3.10"),
            PypiRelease::new("9.0.0rc1"),
        ],
    );
    double.set_pypi(
        "flake8",
        &[
            PypiRelease::new("6.1.0"),
            PypiRelease::new("7.1.2"),
            PypiRelease::new("7.2.0").yanked("wrong metadata"),
            PypiRelease::new("7.3.0b1"),
        ],
    );
    double
}

/// The registry server over `double`, its cache under the fleet's folder.
async fn registry_server(fleet: &Fleet, double: &Double) -> TestServer {
    let dir = fleet.dir.path();
    let mut vars: Vec<(String, String)> = double.vars();
    vars.push(("REGISTRY_DATA_DIR".into(), dir.join("registry").display().to_string()));
    vars.push(("REGISTRY_DATABASE_URL".into(), mcp_test::services::sqlite_url(dir, "registry")));
    vars.push(("REGISTRY_MAX_RETRY_WAIT_SECS".into(), "1".into()));
    vars.push(("REGISTRY_TIMEOUT_SECS".into(), "10".into()));
    let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let config = reader_config(&vars, mcp_server_registry::Config::read);
    TestServer::start(mcp_server_registry::server(config).await.unwrap()).await
}

/// Start a Python CLI run and wait for it; its step keys and its end.
async fn run_python_cli(fleet: &Fleet, planner: &TestServer, name: &str, request_id: &str) -> (Vec<String>, Value) {
    let subject = format!("{name} please");
    let mail = fleet.request_mail(&subject).await;
    let request = json!({"request_id": request_id, "requester": "alice@example.test", "subject": subject,
                         "reply_to": mail});
    let v =
        ok(&planner.raw().call("plan_start", json!({"spec": spec(name, "python", "cli"), "request": request})).await)
            .clone();
    let keys = v["steps"].as_array().unwrap().iter().map(|s| s["def"]["key"].as_str().unwrap().to_owned()).collect();
    let run_id = v["id"].as_str().unwrap().to_owned();
    (keys, wait_done(planner, &run_id, Duration::from_secs(300)).await)
}

/// A step of a finished run, by key.
fn step<'a>(done: &'a Value, key: &str) -> &'a Value {
    done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == key).unwrap_or_else(|| panic!("{key}: {done}"))
}

/// `git` in a project, its output.
fn git(project: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git").args(args).current_dir(project).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn position(keys: &[String], key: &str) -> usize {
    keys.iter().position(|k| k == key).unwrap_or_else(|| panic!("no {key} step in {keys:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documents_come_from_the_spec_server_and_pins_from_the_registry() {
    let fleet = Fleet::start().await;
    let spec_srv = spec_server(&fleet).await;
    let double = registries().await;
    let registry = registry_server(&fleet, &double).await;
    let planner = fleet
        .planner(|c| {
            c.runtime.spec = Some(spec_srv.url());
            c.runtime.registry = Some(registry.url());
        })
        .await;
    let (keys, done) = run_python_cli(&fleet, &planner, "Line Counter", "req-docs-1").await;

    // The plan: pins right after the scaffold, the changelog right after the work's commit.
    assert_eq!(position(&keys, "pin"), position(&keys, "scaffold") + 1, "{keys:?}");
    assert_eq!(position(&keys, "changelog"), position(&keys, "commit_work") + 1, "{keys:?}");
    assert!(position(&keys, "changelog") < position(&keys, "tag"), "{keys:?}");
    assert_eq!(done["state"], "succeeded", "{done}");
    let pin = &step(&done, "pin")["result"];
    assert_eq!(pin["passed"], true, "{pin}");
    assert_eq!(pin["manifest"], "pyproject.toml", "{pin}");

    // pyproject.toml: the newest release of each that is stable, not yanked and supports Python 3.9; the
    // build system's requirement is the template's.
    let project = fleet.projects().join("line-counter");
    let pyproject = std::fs::read_to_string(project.join("pyproject.toml")).unwrap();
    assert!(pyproject.contains(r#"dev = ["pytest==8.3.5", "flake8==7.1.2"]"#), "{pyproject}");
    assert!(pyproject.contains(BUILD_REQUIRES), "{pyproject}");
    assert!(pyproject.contains(r#"requires-python = ">=3.9""#), "{pyproject}");
    // The pins were asked of the double (its Simple API), not guessed.
    assert!(double.hits("/simple/pytest/") >= 1 && double.hits("/simple/flake8/") >= 1);
    // ... and committed: the repository holds the pinned file.
    assert!(git(&project, &["show", "HEAD:pyproject.toml"]).contains("pytest==8.3.5"));

    // SPEC.md and README.md are the spec server's.
    let spec_md = std::fs::read_to_string(project.join("SPEC.md")).unwrap();
    assert!(spec_md.contains("| Request | req-docs-1 |") && spec_md.contains("greets people"), "{spec_md}");
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    // Its readme template's sections and kind line; the template's own README has neither.
    assert!(readme.starts_with("# Line Counter\n"), "{readme}");
    assert!(readme.contains("A python cli.") && readme.contains("## Features\n\n- greets people"), "{readme}");
    assert!(readme.contains("## Tests") && readme.contains(".venv/bin/python -m pytest -q"), "{readme}");
    let scaffold = &step(&done, "scaffold")["result"];
    let by: Vec<&str> = scaffold["documents"].as_array().unwrap().iter().map(|d| d["by"].as_str().unwrap()).collect();
    assert!(by.iter().all(|b| b.starts_with("spec server, ")), "{scaffold}");

    // CHANGELOG.md: committed before the tag, listing the scaffold's commit.
    let changelog = std::fs::read_to_string(project.join("CHANGELOG.md")).unwrap();
    assert!(changelog.contains("0.1.0"), "{changelog}");
    assert!(changelog.contains("Scaffold line-counter from the python-cli template"), "{changelog}");
    let commits = fleet.commits("line-counter");
    assert_eq!(commits.first().map(String::as_str), Some("Changelog for 0.1.0"), "{commits:?}");
    assert!(git(&project, &["ls-files"]).lines().any(|f| f == "CHANGELOG.md"));
    assert_eq!(git(&project, &["status", "--porcelain", "--", "CHANGELOG.md"]), "");
    assert_eq!(fleet.tags("line-counter"), ["v0.1.0"]);
    let history = git(&project, &["log", "--format=%s", "v0.1.0"]);
    assert!(history.lines().any(|l| l == "Changelog for 0.1.0"), "the tag does not carry the changelog: {history}");
    let changelog_step = &step(&done, "changelog")["result"];

    // The report says who wrote what and what was pinned.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = unfold(&mails[0]);
    assert!(m.contains("Dependencies (pinned in pyproject.toml by the registry server):"), "{m}");
    // pytest's newest (8.4.1) needs Python 3.10, so its pin is not "latest"; flake8's is.
    assert!(m.contains("  pytest 8.3.5 (not yanked, no known vulnerabilities (osv), was >=7)"), "{m}");
    assert!(m.contains("  flake8 7.1.2 (latest, not yanked, no known vulnerabilities (osv), was >=6)"), "{m}");
    assert!(m.contains("SPEC.md: spec server, template:spec (builtin)"), "{m}");
    assert!(m.contains("README.md: spec server, "), "{m}");
    // One commit before it (the scaffold's; the work had nothing new to commit), from the built-in template.
    assert_eq!(
        changelog_step["summary"], "CHANGELOG.md for 0.1.0 from 1 commit (builtin template)",
        "{changelog_step}"
    );
    assert!(
        m.contains("CHANGELOG: CHANGELOG.md for 0.1.0 from 1 commit (builtin template), rendered by the spec server"),
        "{m}"
    );
    // The commit reported is the one tagged: the changelog's, the project's last.
    let tagged = git(&project, &["rev-parse", "v0.1.0^{commit}"]);
    assert_eq!(changelog_step["commit"], tagged.trim(), "{changelog_step}");
    let short = changelog_step["short_id"].as_str().unwrap();
    assert!(m.contains(&format!("Commit:         {short} ({})", tagged.trim())), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_leaves_the_pins_and_says_so() {
    let fleet = Fleet::start().await;
    let double = registries().await;
    // Every registry answers 503: nothing can be pinned.
    double.set_down(true);
    let registry = registry_server(&fleet, &double).await;
    let planner = fleet.planner(|c| c.runtime.registry = Some(registry.url())).await;
    let (keys, done) = run_python_cli(&fleet, &planner, "Char Counter", "req-docs-2").await;

    assert_eq!(position(&keys, "pin"), position(&keys, "scaffold") + 1, "{keys:?}");
    // No spec server: no changelog step.
    assert!(!keys.iter().any(|k| k == "changelog"), "{keys:?}");
    assert_eq!(done["state"], "succeeded", "{done}");
    let pin = step(&done, "pin");
    assert_eq!(pin["state"], "succeeded", "{pin}");
    assert_eq!(pin["result"]["passed"], false, "{pin}");
    assert!(double.total_hits() >= 1, "the registries were never asked");

    // The template's constraints, as written.
    let project = fleet.projects().join("char-counter");
    let pyproject = std::fs::read_to_string(project.join("pyproject.toml")).unwrap();
    assert!(pyproject.contains(DEV_CONSTRAINTS) && pyproject.contains(BUILD_REQUIRES), "{pyproject}");
    assert!(!pyproject.contains("=="), "{pyproject}");
    assert_eq!(fleet.tags("char-counter"), ["v0.1.0"]);

    // The report says they were not pinned, and lists the pin step under what was not done.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = unfold(&mails[0]);
    assert!(m.contains("Dependencies: none pinned, pyproject.toml keeps the template's constraints:\n"), "{m}");
    assert!(!m.contains("(pinned in pyproject.toml"), "{m}");
    // Each with the registry server's reason: PyPI answered 503.
    for name in ["pytest", "flake8"] {
        let line =
            m.lines().find(|l| l.starts_with(&format!("  {name}: not pinned ("))).unwrap_or_else(|| panic!("{m}"));
        assert!(line.contains("unavailable") && line.contains("503"), "{line}");
    }
    assert!(m.contains("- Pin the dependencies to current, safe versions: FAILED (0 of 2 pinned; not pinned: "), "{m}");
    // The documents are the planner's own without a spec server.
    assert!(m.contains("SPEC.md: the planner's SPEC.md.tmpl (no spec server configured)"), "{m}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_server_that_cannot_be_reached_leaves_the_pins_and_says_so() {
    let fleet = Fleet::start().await;
    // A port nothing listens on: bound, then let go.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let planner = fleet.planner(|c| c.runtime.registry = Some(format!("http://{closed}/mcp"))).await;
    let (_, done) = run_python_cli(&fleet, &planner, "Word Lister", "req-docs-3").await;

    assert_eq!(done["state"], "succeeded", "{done}");
    let pin = step(&done, "pin");
    assert_eq!(pin["state"], "succeeded", "{pin}");
    assert_eq!(pin["result"]["passed"], false, "{pin}");
    let summary = pin["result"]["summary"].as_str().unwrap();
    assert!(summary.starts_with("the registry server could not pin them: "), "{summary}");
    let pyproject = std::fs::read_to_string(fleet.projects().join("word-lister/pyproject.toml")).unwrap();
    assert!(pyproject.contains(DEV_CONSTRAINTS) && pyproject.contains(BUILD_REQUIRES), "{pyproject}");
    let m = unfold(&fleet.outbox()[0]);
    assert!(m.contains(&format!("Dependencies: {summary}")), "{summary}\n{m}");
    assert!(!m.contains("(pinned in pyproject.toml"), "{m}");
}
