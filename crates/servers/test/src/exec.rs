//! One test run: the argv for the runner (the project's own command plus
//! report options and the selection), the run itself through
//! `mcp_core::jobs::Runner` (confined, own session, empty environment,
//! every process killed at its end), the results read back, and a verdict
//! that is `passed` only when the results and the exit code agree.

use std::hash::{BuildHasher, Hasher};
use std::path::{Component, Path};
use std::sync::Arc;
use std::time::Duration;

use mcp_core::ToolError;
use mcp_core::jobs::{Finished, Job, Run, Scratch};
use schemars::JsonSchema;
use serde::Serialize;

use crate::Tests;
use crate::detect::Detection;
use crate::model::{Case, excerpt, tail};
use crate::{junit, libtest, plugin, unittest};

/// Files listed in a coverage result.
const COVERAGE_FILES: usize = 50;
/// Bytes of the run's output in a result.
const OUTPUT_EXCERPT: usize = 4096;

/// Which tests to run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Files or directories, relative to the project.
    pub paths: Vec<String>,
    /// pytest `-k` expression, unittest `-k` pattern, or a Rust name filter.
    pub keyword: Option<String>,
    /// Test ids.
    pub ids: Vec<String>,
}

impl Selection {
    /// Only these ids.
    pub fn ids(ids: Vec<String>) -> Self {
        Self { ids, ..Self::default() }
    }
}

/// Coverage of a run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Coverage {
    /// The tool that measured it (`coverage.py 7.2.1`).
    pub tool: String,
    /// Lines covered, percent.
    pub percent: f64,
    /// Per file, least covered first (capped).
    pub files: Vec<FileCoverage>,
}

/// One file's coverage.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FileCoverage {
    /// File, relative to the project.
    pub file: String,
    /// Lines covered, percent.
    pub percent: f64,
}

/// One process run and what was read from it.
pub struct Attempt {
    /// The argv that ran.
    pub argv: Vec<String>,
    /// How it ended.
    pub finished: Finished,
    /// Its cases.
    pub cases: Vec<Case>,
    /// `passed`, `failed`, `error`, `timed_out` or `no_tests`.
    pub verdict: &'static str,
    /// Why the verdict is what it is, when not obvious.
    pub note: Option<String>,
    /// Coverage measured.
    pub coverage: Option<Coverage>,
    /// Why coverage is missing.
    pub coverage_note: Option<String>,
    /// The jobs of this attempt (the run, and the coverage report).
    pub jobs: Vec<Arc<Job>>,
}

/// Refuse values that could be read as options or leave the project.
pub fn check_value(what: &str, v: &str) -> Result<(), ToolError> {
    if v.is_empty() || v.len() > 2000 {
        return Err(ToolError::invalid(format!("{what} must be 1 to 2000 bytes")));
    }
    if v.starts_with('-') {
        return Err(ToolError::invalid(format!("{what} {v:?} starts with '-': options cannot be passed this way")));
    }
    if v.chars().any(char::is_control) {
        return Err(ToolError::invalid(format!("{what} {v:?} contains control characters")));
    }
    Ok(())
}

/// A path inside the project, relative, existing; returned relative.
pub fn check_path(project: &Path, what: &str, v: &str) -> Result<String, ToolError> {
    check_value(what, v)?;
    let p = Path::new(v);
    let rel = if p.is_absolute() {
        p.strip_prefix(project)
            .map_err(|_| ToolError::denied(format!("{what} {v} is outside the project")))?
            .to_path_buf()
    } else {
        p.to_path_buf()
    };
    if rel.components().any(|c| matches!(c, Component::ParentDir | Component::RootDir | Component::Prefix(_))) {
        return Err(ToolError::denied(format!("{what} {v} leaves the project ('..')")));
    }
    let full = std::fs::canonicalize(project.join(&rel))
        .map_err(|_| ToolError::not_found(format!("{what} {v} does not exist in the project")))?;
    if !full.starts_with(project) {
        return Err(ToolError::denied(format!("{what} {v} resolves outside the project")));
    }
    let s = rel.to_string_lossy().into_owned();
    Ok(if s.is_empty() { ".".to_owned() } else { s })
}

/// Check a selection for `runner` in `project`; paths come back relative.
pub fn check_selection(project: &Path, runner: &str, sel: &Selection) -> Result<Selection, ToolError> {
    let mut out = Selection { keyword: sel.keyword.clone(), ..Selection::default() };
    if let Some(k) = &sel.keyword {
        check_value("keyword", k)?;
    }
    if sel.paths.len() > 200 || sel.ids.len() > 500 {
        return Err(ToolError::invalid("at most 200 paths and 500 ids"));
    }
    for p in &sel.paths {
        out.paths.push(check_path(project, "path", p)?);
    }
    for id in &sel.ids {
        check_value("id", id)?;
        match runner {
            "pytest" => {
                // The file part of a node id must be a path inside the project.
                let file = id.split("::").next().unwrap_or(id);
                check_path(project, "id", file)?;
            }
            "unittest" if !id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') => {
                return Err(ToolError::invalid(format!("unittest id {id:?} must be a dotted name")));
            }
            "nextest" if !id.chars().all(|c| c.is_alphanumeric() || c == '_' || c == ':') => {
                return Err(ToolError::invalid(format!("nextest id {id:?} must be a Rust test path")));
            }
            _ => {}
        }
        out.ids.push(id.clone());
    }
    Ok(out)
}

fn token() -> String {
    let a = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    format!("{a:016x}{:016x}", h.finish())
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// `[py, -m, X, ...]` → `[py, -m, coverage, run, -m, X, ...]`.
fn with_coverage(argv: &[String]) -> Option<Vec<String>> {
    let i = argv.iter().position(|a| a == "-m")?;
    let mut out = argv[..i].to_vec();
    // `--source=.`: the project's own files, not the runner's or the plugin's.
    out.extend(strings(&["-m", "coverage", "run", "--source=.", "-m"]));
    out.extend(argv[i + 1..].iter().cloned());
    Some(out)
}

/// The interpreter of a Python runner's argv.
pub fn interpreter(argv: &[String], project: &Path) -> String {
    match argv.first() {
        Some(a) if a.rsplit('/').next().is_some_and(|n| n.starts_with("python")) => a.clone(),
        _ => crate::detect::python(project),
    }
}

/// Run a short Python snippet-free probe: does `module` import with `py`?
pub async fn probe_module(t: &Tests, project: &Path, py: &str, module: &str) -> Option<String> {
    let run = Run {
        argv: vec![py.to_owned(), "-c".into(), format!("import {module}; print(getattr({module}, '__version__', ''))")],
        cwd: project.to_path_buf(),
        env: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into())],
        timeout: Duration::from_secs(30),
        network: false,
        display: format!("probe {module}"),
    };
    let f = t.runner.run(run, None).await.ok()?;
    f.success().then(|| f.stdout.trim().to_owned())
}

/// Run once: `det`'s command with `sel`, to the end or `timeout`.
pub async fn attempt(
    t: &Tests,
    project: &Path,
    det: &Detection,
    sel: &Selection,
    timeout: Duration,
    test_timeout: Option<f64>,
    coverage: Option<&str>,
) -> Result<Attempt, ToolError> {
    let scratch = t.runner.scratch()?;
    let dir = scratch.path().to_path_buf();
    let mut argv = det.argv.clone();
    let mut env: Vec<(String, String)> = vec![
        ("PYTHONDONTWRITEBYTECODE".into(), "1".into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("CARGO_TERM_COLOR".into(), "never".into()),
        ("RUST_BACKTRACE".into(), "0".into()),
        ("NO_COLOR".into(), "1".into()),
    ];
    let tok = token();
    let mut nextest_junit = None;
    match det.runner.as_str() {
        "pytest" => {
            std::fs::write(dir.join(format!("{}.py", plugin::MODULE)), plugin::SOURCE).map_err(ToolError::internal)?;
            env.push(("PYTHONPATH".into(), dir.display().to_string()));
            env.push(("MCP_TEST_OUTCOMES".into(), dir.join("outcomes.jsonl").display().to_string()));
            env.push(("MCP_TEST_TOKEN".into(), tok.clone()));
            if let Some(s) = test_timeout {
                env.push(("MCP_TEST_TIMEOUT".into(), format!("{s}")));
            }
            argv.push(format!("--junitxml={}", dir.join("junit.xml").display()));
            argv.extend(strings(&["-o", "junit_family=xunit2", "-o", "junit_logging=all", "-p", plugin::MODULE]));
            if let Some(k) = &sel.keyword {
                argv.extend(["-k".to_owned(), k.clone()]);
            }
            if !sel.paths.is_empty() || !sel.ids.is_empty() {
                argv.push("--".into());
                argv.extend(sel.paths.iter().cloned());
                argv.extend(sel.ids.iter().cloned());
            }
        }
        "unittest" => {
            argv.push("-v".into());
            if let Some(k) = &sel.keyword {
                argv.extend(["-k".to_owned(), k.clone()]);
            }
            let dirs: Vec<&String> = sel.paths.iter().filter(|p| project.join(p).is_dir()).collect();
            if !dirs.is_empty() {
                if dirs.len() > 1 || sel.paths.len() > 1 || !sel.ids.is_empty() {
                    return Err(ToolError::invalid(
                        "unittest takes one directory (discovery) or files and ids, not both",
                    ));
                }
                argv.extend(["discover".to_owned(), "-s".into(), dirs[0].clone(), "-t".into(), ".".into()]);
            } else {
                for p in &sel.paths {
                    let m =
                        p.strip_suffix(".py").ok_or_else(|| ToolError::invalid(format!("{p} is not a .py file")))?;
                    argv.push(m.replace('/', "."));
                }
                argv.extend(sel.ids.iter().cloned());
            }
        }
        "cargo" | "nextest" => {
            let nextest = det.runner == "nextest";
            if nextest {
                let profile = "mcp-fleet:run";
                let mut cfg = format!("[profile.'{profile}']\nfail-fast = false\n");
                if let Some(s) = test_timeout {
                    // nextest's own per-test limit: slow after the period, killed after one.
                    let period = s.max(1.0).ceil() as u64;
                    cfg.push_str(&format!("slow-timeout = {{ period = \"{period}s\", terminate-after = 1 }}\n"));
                }
                cfg.push_str(&format!(
                    "[profile.'{profile}'.junit]\npath = \"junit.xml\"\nstore-success-output = true\nstore-failure-output = true\n"
                ));
                std::fs::write(dir.join("nextest.toml"), cfg).map_err(ToolError::internal)?;
                argv.extend([
                    "--tool-config-file".to_owned(),
                    format!("mcp-fleet:{}", dir.join("nextest.toml").display()),
                    "--profile".into(),
                    profile.into(),
                ]);
                let junit = project.join("target/nextest/mcp-fleet:run/junit.xml");
                let _ = std::fs::remove_file(&junit);
                nextest_junit = Some(junit);
            } else {
                argv.push("--no-fail-fast".into());
            }
            for p in &sel.paths {
                let pp = Path::new(p);
                if pp.starts_with("tests") && pp.extension().is_some_and(|e| e == "rs") {
                    let stem = pp.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                    argv.extend(["--test".to_owned(), stem]);
                } else if pp.starts_with("src") {
                    argv.push("--lib".into());
                } else {
                    return Err(ToolError::invalid(format!(
                        "{p}: Rust paths are tests/<name>.rs (an integration test) or src/ (the library's unit tests)"
                    )));
                }
            }
            let names: Vec<String> = sel
                .ids
                .iter()
                .map(|id| match id.split_once("::") {
                    Some((first, rest)) if project.join("tests").join(format!("{first}.rs")).is_file() => {
                        rest.to_owned()
                    }
                    _ => id.clone(),
                })
                .collect();
            if nextest {
                if !names.is_empty() {
                    let expr = names.iter().map(|n| format!("test(={n})")).collect::<Vec<_>>().join(" | ");
                    argv.extend(["-E".to_owned(), expr]);
                }
                if let Some(k) = &sel.keyword {
                    argv.push(k.clone());
                }
            } else {
                argv.push("--".into());
                if let Some(k) = &sel.keyword {
                    argv.push(k.clone());
                } else if !names.is_empty() {
                    argv.push("--exact".into());
                    argv.extend(names);
                }
            }
        }
        other => return Err(ToolError::unavailable(format!("no test runner for this project ({other})"))),
    }
    let cov_tool = coverage.map(str::to_owned);
    if cov_tool.is_some() {
        env.push(("COVERAGE_FILE".into(), dir.join(".coverage").display().to_string()));
        argv = with_coverage(&argv).ok_or_else(|| ToolError::invalid("coverage needs a `python -m ...` command"))?;
    }
    let finished = t
        .runner
        .run(
            Run {
                argv: argv.clone(),
                cwd: project.to_path_buf(),
                env: env.clone(),
                timeout,
                // Service tests bind and call loopback ports (see TEST_NETWORK).
                network: t.config.network,
                display: format!("{} in {}", det.runner, project.display()),
            },
            Some(&scratch),
        )
        .await?;
    let mut jobs = vec![finished.job.clone()];
    let (cases, verdict, note) = match det.runner.as_str() {
        "pytest" => read_pytest(project, &scratch, &finished, &tok),
        "unittest" => read_unittest(project, &finished),
        "nextest" => read_nextest(nextest_junit.as_deref(), &finished),
        _ => read_cargo(&finished),
    };
    let (mut cov, mut cov_note) = (None, None);
    if let Some(tool) = cov_tool {
        let py = interpreter(&argv, project);
        let report = t
            .runner
            .run(
                Run {
                    argv: vec![
                        py,
                        "-m".into(),
                        "coverage".into(),
                        "json".into(),
                        "-q".into(),
                        "-o".into(),
                        dir.join("cov.json").display().to_string(),
                    ],
                    cwd: project.to_path_buf(),
                    env,
                    timeout: Duration::from_secs(120),
                    network: false,
                    display: "coverage json".into(),
                },
                Some(&scratch),
            )
            .await;
        match report {
            Ok(f) => {
                jobs.push(f.job.clone());
                match std::fs::read_to_string(dir.join("cov.json")).ok().and_then(|t| read_coverage(&t, &tool)) {
                    Some(c) if f.success() => cov = Some(c),
                    _ => {
                        cov_note =
                            Some(format!("coverage json failed ({}): {}", f.ending(), tail(f.stderr.trim(), 300)))
                    }
                }
            }
            Err(e) => cov_note = Some(format!("coverage json could not run: {e}")),
        }
    }
    drop(scratch);
    Ok(Attempt { argv, finished, cases, verdict, note, coverage: cov, coverage_note: cov_note, jobs })
}

fn read_coverage(text: &str, tool: &str) -> Option<Coverage> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let percent = v["totals"]["percent_covered"].as_f64()?;
    let mut files: Vec<FileCoverage> = v["files"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(f, d)| FileCoverage {
                    file: f.clone(),
                    percent: round(d["summary"]["percent_covered"].as_f64().unwrap_or(0.0)),
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by(|a, b| a.percent.total_cmp(&b.percent).then(a.file.cmp(&b.file)));
    files.truncate(COVERAGE_FILES);
    Some(Coverage { tool: tool.to_owned(), percent: round(percent), files })
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The common part of every verdict: a run the server ended, or one a signal ended.
fn ended_early(f: &Finished) -> Option<(&'static str, String)> {
    if f.timed_out {
        return Some(("timed_out", format!("the run was stopped: {}; results are partial", f.ending())));
    }
    if f.killed.is_some() || f.exit_code.is_none() {
        return Some(("error", format!("the run did not exit on its own: {}", f.ending())));
    }
    None
}

fn read_pytest(
    project: &Path,
    scratch: &Scratch,
    f: &Finished,
    tok: &str,
) -> (Vec<Case>, &'static str, Option<String>) {
    let outcomes = std::fs::read_to_string(scratch.path().join("outcomes.jsonl"))
        .map(|t| plugin::Outcomes::parse(&t, tok))
        .unwrap_or_default();
    let junit = std::fs::read_to_string(scratch.path().join("junit.xml"))
        .map_err(|_| "pytest wrote no JUnit report".to_owned())
        .and_then(|x| junit::parse(&x, junit::Flavor::Pytest));
    let mut cases = match &junit {
        Ok(c) => map_node_ids(project, c.clone(), &outcomes),
        Err(_) => outcomes.cases(),
    };
    for c in &mut cases {
        if let Some(file) = &c.file
            && let Ok(rel) = Path::new(file).strip_prefix(project)
        {
            c.file = Some(rel.display().to_string());
        }
    }
    if let Some(early) = ended_early(f) {
        return (cases, early.0, Some(early.1));
    }
    let failures = cases.iter().filter(|c| c.is_failure()).count();
    let code = f.exit_code.unwrap_or(-1);
    let (verdict, note) = match code {
        5 => ("no_tests", Some("pytest collected no tests (exit code 5)".to_owned())),
        0 => match (&junit, outcomes.finish) {
            (Err(e), _) => ("error", Some(format!("pytest exited 0 but {e}: the results cannot be trusted"))),
            (Ok(_), _) if cases.is_empty() => ("error", Some("pytest exited 0 but reported no tests".to_owned())),
            (Ok(_), _) if failures > 0 => (
                "error",
                Some(format!("pytest exited 0 but its report shows {failures} failures: the results are inconsistent")),
            ),
            (Ok(_), None) => (
                "error",
                Some("pytest exited 0 but its session never finished normally (a test ended the process?)".to_owned()),
            ),
            (Ok(_), Some((status, count))) if status != 0 || count as usize != cases.len() || outcomes.forged => (
                "error",
                Some(format!(
                    "the JUnit report ({} tests) disagrees with what pytest ran ({count} tests, status {status}): \
                     the report may have been written by a test",
                    cases.len()
                )),
            ),
            _ => ("passed", None),
        },
        1 if failures > 0 => ("failed", None),
        1 => ("error", Some("pytest exited 1 (tests failed) but its report shows no failure".to_owned())),
        2 => (
            "error",
            Some("pytest was interrupted (exit code 2): a collection error or a keyboard interrupt".to_owned()),
        ),
        3 => ("error", Some("pytest hit an internal error (exit code 3)".to_owned())),
        4 => ("error", Some("pytest refused the command line (exit code 4)".to_owned())),
        c => ("error", Some(format!("pytest exited with code {c}"))),
    };
    let note = match (note, &junit) {
        (None, Err(e)) if verdict != "no_tests" => Some(e.clone()),
        (n, _) => n,
    };
    (cases, verdict, note)
}

/// JUnit's `classname::name` back to pytest node ids, through what the
/// plugin saw; the plugin also knows xpasses and the tests' locations.
fn map_node_ids(project: &Path, cases: Vec<Case>, outcomes: &plugin::Outcomes) -> Vec<Case> {
    let by_junit: std::collections::HashMap<(String, String), &plugin::Outcome> =
        outcomes.tests.iter().map(|o| (plugin::junit_names(&o.nodeid), o)).collect();
    cases
        .into_iter()
        .map(|mut c| {
            let classname = c.suite.clone().unwrap_or_default();
            if let Some(o) = by_junit.get(&(classname.clone(), c.name.clone())) {
                c.id = o.nodeid.clone();
                if o.status == "xpassed" && c.status == "passed" {
                    c.status = "xpassed".into();
                }
                if c.file.is_none() {
                    c.file = o.file.clone();
                    c.line = o.line;
                }
            } else if !classname.is_empty() {
                c.id = guess_node_id(project, &classname, &c.name);
            }
            c.suite = plugin::split_nodeid(&c.id).0.or(c.suite);
            c
        })
        .collect()
}

/// `tests.test_a.TestX` + `test_y` → `tests/test_a.py::TestX::test_y`, by
/// finding the longest dotted prefix that is a file of the project.
fn guess_node_id(project: &Path, classname: &str, name: &str) -> String {
    let parts: Vec<&str> = classname.split('.').collect();
    for n in (1..=parts.len()).rev() {
        let file = format!("{}.py", parts[..n].join("/"));
        if project.join(&file).is_file() {
            let mut id = file;
            for p in &parts[n..] {
                id.push_str("::");
                id.push_str(p);
            }
            return format!("{id}::{name}");
        }
    }
    format!("{classname}::{name}")
}

fn read_unittest(project: &Path, f: &Finished) -> (Vec<Case>, &'static str, Option<String>) {
    let p = unittest::parse(&f.stderr, &project.display().to_string());
    if let Some(early) = ended_early(f) {
        return (p.cases, early.0, Some(early.1));
    }
    if f.output_cut {
        return (p.cases, "error", Some("the output passed the spool cap, so the text results are incomplete".into()));
    }
    let failures = p.cases.iter().filter(|c| c.is_failure()).count();
    let consistent = p.ran == Some(p.cases.len());
    let (verdict, note) = match f.exit_code.unwrap_or(-1) {
        _ if p.ran == Some(0) => ("no_tests", Some("unittest ran no tests".to_owned())),
        5 => ("no_tests", Some("unittest ran no tests (exit code 5)".to_owned())),
        0 if p.cases.is_empty() || !consistent => (
            "error",
            Some(format!("unittest exited 0 but {} results were read for {:?} tests run", p.cases.len(), p.ran)),
        ),
        0 if failures > 0 => ("error", Some("unittest exited 0 but reported failures".to_owned())),
        0 => ("passed", None),
        1 if failures > 0 => ("failed", None),
        c => ("error", Some(format!("unittest exited with code {c} and no failure was read (an import error?)"))),
    };
    (p.cases, verdict, note)
}

fn read_cargo(f: &Finished) -> (Vec<Case>, &'static str, Option<String>) {
    let p = libtest::parse(&f.stdout, &f.stderr);
    if let Some(early) = ended_early(f) {
        return (p.cases, early.0, Some(early.1));
    }
    if f.output_cut {
        return (p.cases, "error", Some("the output passed the spool cap, so the text results are incomplete".into()));
    }
    let failures = p.cases.iter().filter(|c| c.is_failure()).count();
    let (verdict, note) = match f.exit_code.unwrap_or(-1) {
        _ if !p.problems.is_empty() => ("error", Some(format!("the results do not add up: {}", p.problems.join("; ")))),
        0 if p.results == 0 => ("error", Some("cargo test exited 0 but no test binary reported a result".to_owned())),
        0 if p.cases.is_empty() => ("no_tests", Some("no test matched".to_owned())),
        0 if failures > 0 => ("error", Some("cargo test exited 0 but reported failures".to_owned())),
        0 => ("passed", None),
        101 if failures > 0 => ("failed", None),
        101 => (
            "error",
            Some(format!("cargo test failed before any test failed (a build error?): {}", tail(f.stderr.trim(), 600))),
        ),
        c => ("error", Some(format!("cargo test exited with code {c}"))),
    };
    (p.cases, verdict, note)
}

fn read_nextest(junit_path: Option<&Path>, f: &Finished) -> (Vec<Case>, &'static str, Option<String>) {
    let junit = junit_path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .ok_or_else(|| "nextest wrote no JUnit report".to_owned())
        .and_then(|x| junit::parse(&x, junit::Flavor::Nextest));
    let cases = junit.clone().unwrap_or_default();
    if let Some(early) = ended_early(f) {
        return (cases, early.0, Some(early.1));
    }
    let failures = cases.iter().filter(|c| c.is_failure()).count();
    let (verdict, note) = match (f.exit_code.unwrap_or(-1), &junit) {
        (4, _) => ("no_tests", Some("nextest ran no tests (exit code 4)".to_owned())),
        (0, Err(e)) => ("error", Some(format!("nextest exited 0 but {e}"))),
        (0, Ok(_)) if cases.is_empty() => ("no_tests", Some("no test matched".to_owned())),
        (0, Ok(_)) if failures > 0 => ("error", Some("nextest exited 0 but its report shows failures".to_owned())),
        (0, Ok(_)) => ("passed", None),
        (100, Ok(_)) if failures > 0 => ("failed", None),
        (101, _) => ("error", Some(format!("the tests did not build: {}", tail(f.stderr.trim(), 600)))),
        (c, _) => ("error", Some(format!("nextest exited with code {c}: {}", tail(f.stderr.trim(), 600)))),
    };
    (cases, verdict, note)
}

/// The output excerpt of an attempt: the end of stdout and of stderr.
pub fn output_excerpt(f: &Finished) -> String {
    let mut s = tail(f.stdout.trim_end(), OUTPUT_EXCERPT * 3 / 4);
    if !f.stderr.trim().is_empty() {
        s.push_str("\n--- stderr ---\n");
        s.push_str(&tail(f.stderr.trim_end(), OUTPUT_EXCERPT / 4));
    }
    if f.output_cut {
        s.push_str("\n[output passed the spool cap; the rest was dropped]");
    }
    excerpt(&s, OUTPUT_EXCERPT + 200)
}
