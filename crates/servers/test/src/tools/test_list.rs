//! `test_list`: the tests a project has, without running them (`pytest
//! --collect-only -q`, `python -m unittest` discovery by listing, `cargo test
//! -- --list`, `cargo nextest list`).

use std::time::Duration;

use mcp_core::jobs::Run;
use mcp_core::prelude::*;

use crate::Tests;
use crate::detect::detect;
use crate::exec::{self, Selection};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Project directory, relative to the server's first root.
    pub path: String,
    /// `auto` (default), `pytest`, `unittest`, `cargo` or `nextest`.
    pub runner: Option<String>,
    /// Only tests under these files or directories (pytest).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Only tests matching this (pytest `-k`; a Rust name substring).
    pub keyword: Option<String>,
    /// Most ids returned (default 500, at most 5000).
    pub limit: Option<i64>,
}

/// The tests.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Project.
    pub project: String,
    /// Runner.
    pub runner: String,
    /// The command that listed them.
    pub argv: Vec<String>,
    /// Test ids (what test_run's `ids` takes).
    pub tests: Vec<String>,
    /// Tests found in all.
    pub count: usize,
    /// More than returned.
    pub truncated: bool,
    /// Why the list may be incomplete or what to know about its ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_list",
        "List a project's tests without running them (pytest --collect-only, cargo test -- --list, cargo nextest \
         list); the ids are what test_run's `ids` takes.",
        Annotations::read_only(),
        run,
    )
    .title("List tests")
    .timeout(Duration::from_secs(3600))
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let wanted = super::runner_arg(a.runner.as_deref())?;
    let limit = super::limit(a.limit, 500, 5000)? as usize;
    let (dir, project) = t.project(&a.path)?;
    let det = detect(&dir, wanted);
    let sel = exec::check_selection(&dir, &det.runner, &Selection { paths: a.paths, keyword: a.keyword, ids: vec![] })?;
    let mut argv = det.argv.clone();
    let mut note = None;
    match det.runner.as_str() {
        "pytest" => {
            argv.extend(["--collect-only".to_owned(), "-q".into()]);
            if let Some(k) = &sel.keyword {
                argv.extend(["-k".to_owned(), k.clone()]);
            }
            if !sel.paths.is_empty() {
                argv.push("--".into());
                argv.extend(sel.paths.iter().cloned());
            }
        }
        "unittest" => {
            // unittest has no listing mode; pytest collects unittest cases when it is installed.
            let py = exec::interpreter(&argv, &dir);
            argv = vec![
                py,
                "-m".into(),
                "pytest".into(),
                "-p".into(),
                "no:cacheprovider".into(),
                "--collect-only".into(),
                "-q".into(),
            ];
            note =
                Some("listed by pytest's collector; pytest node ids map to unittest ids as path.Class.test".to_owned());
        }
        "cargo" => {
            argv.extend(["--".to_owned()]);
            if let Some(k) = &sel.keyword {
                argv.push(k.clone());
            }
            argv.push("--list".into());
            note = Some(
                "cargo test -- --list names tests per binary without the binary; test_run prefixes integration tests \
                 with their target (cli::name)"
                    .to_owned(),
            );
        }
        "nextest" => {
            argv = vec!["cargo".into(), "nextest".into(), "list".into(), "--message-format".into(), "json".into()];
            if let Some(k) = &sel.keyword {
                argv.push(k.clone());
            }
        }
        _ => return Err(ToolError::not_found(format!("no tests found in {project}: {}", det.reasons.join("; ")))),
    }
    let f = t
        .runner
        .run(
            Run {
                argv: argv.clone(),
                cwd: dir.clone(),
                env: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into()), ("CARGO_TERM_COLOR".into(), "never".into())],
                timeout: t.config.timeout,
                network: false,
                display: format!("list tests in {project}"),
            },
            None,
        )
        .await?;
    let mut tests: Vec<String> = match det.runner.as_str() {
        "pytest" | "unittest" => f
            .stdout
            .lines()
            .filter(|l| l.contains("::") && !l.starts_with(' ') && !l.starts_with('='))
            .map(str::to_owned)
            .collect(),
        "nextest" => nextest_list(&f.stdout),
        _ => f.stdout.lines().filter_map(|l| l.strip_suffix(": test")).map(str::to_owned).collect(),
    };
    let ok = f.success() || (det.runner == "pytest" && f.exit_code == Some(5));
    if !ok {
        return Err(ToolError::failed(format!(
            "listing failed ({}): {}",
            f.ending(),
            crate::model::tail(format!("{}\n{}", f.stdout.trim(), f.stderr.trim()).trim(), 2000)
        )));
    }
    let count = tests.len();
    let truncated = count > limit;
    tests.truncate(limit);
    let text = format!("{count} tests\n{}", tests.join("\n"));
    Ok(Out::new(Output { project, runner: det.runner, argv, tests, count, truncated, note }).text(text))
}

/// `cargo nextest list --message-format json`: binaries and their test cases.
fn nextest_list(stdout: &str) -> Vec<String> {
    let Some(v) = stdout.lines().find_map(|l| serde_json::from_str::<Value>(l).ok()) else { return vec![] };
    let mut out = Vec::new();
    if let Some(suites) = v["rust-suites"].as_object() {
        for (binary_id, suite) in suites {
            if let Some(cases) = suite["testcases"].as_object() {
                for name in cases.keys() {
                    out.push(crate::junit::nextest_id(binary_id, name));
                }
            }
        }
    }
    out
}
