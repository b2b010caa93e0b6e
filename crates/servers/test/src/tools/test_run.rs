//! `test_run`: run a project's tests (all, a subset, or the ones that failed
//! last time), with optional reruns of failures (flaky detection), coverage
//! and time limits; store the run and return per-test results.

use std::time::{Duration, Instant};

use mcp_core::prelude::*;

use crate::Tests;
use crate::detect::detect;
use crate::exec::{self, Coverage, Selection};
use crate::model::{Case, Totals, failures_first};
use crate::store::{self, RunRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Project directory, relative to the server's first root.
    pub path: String,
    /// `auto` (default: detected), `pytest`, `unittest`, `cargo` or `nextest`.
    pub runner: Option<String>,
    /// Only these files or directories (relative to the project). Rust: `tests/<name>.rs` or `src/`.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Only tests matching this: a pytest `-k` expression, a unittest `-k` pattern, a Rust name substring.
    pub keyword: Option<String>,
    /// Only these tests: pytest node ids (`tests/test_app.py::test_x`), unittest dotted ids, Rust test paths
    /// (`tests::it_works`, `cli::prints_help`), as `test_run` reports them.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Run only the tests that failed or errored in this project's last run (kept by this server).
    #[serde(default)]
    pub only_failed: bool,
    /// Time limit of the whole run, seconds (default the server's, capped at its maximum). Every process of
    /// the run is killed when it passes and the verdict is `timed_out`.
    pub timeout_secs: Option<f64>,
    /// Time limit of each test, seconds: a hanging test fails with a clear message and the run goes on
    /// (pytest, nextest; not plain cargo test or unittest).
    pub test_timeout_secs: Option<f64>,
    /// Re-run the failures up to this many times (0-5); a test that passes on a retry is marked `flaky`.
    #[serde(default)]
    pub reruns: u32,
    /// Measure line coverage (coverage.py for Python runners).
    #[serde(default)]
    pub coverage: bool,
    /// Most cases in the result (default 50, at most 1000); failures come first. All are stored for
    /// `test_results`.
    pub max_cases: Option<i64>,
}

/// The run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Run id, for test_results, test_output and test_history.
    pub run_id: String,
    /// Project (relative to the first root).
    pub project: String,
    /// The runner used.
    pub runner: String,
    /// The command that ran.
    pub argv: Vec<String>,
    /// `passed`, `failed`, `error`, `timed_out` or `no_tests`.
    pub verdict: String,
    /// `verdict == "passed"`.
    pub passed: bool,
    /// The runner's exit code, when it exited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Wall-clock duration of the run (reruns and coverage included).
    pub duration_ms: u64,
    /// The commit `HEAD` named when the run started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Counts.
    pub totals: Totals,
    /// Failures and errors first, then the others, capped at `max_cases`.
    pub cases: Vec<Case>,
    /// More cases than returned (page them with test_results).
    pub cases_truncated: bool,
    /// Ids of the tests that failed or errored.
    pub failed_ids: Vec<String>,
    /// One line: `5 passed, 1 failed, 2 skipped in 1.3 s`.
    pub summary: String,
    /// The end of the run's output (page all of it with test_output).
    pub output: String,
    /// Coverage, when measured.
    pub coverage: Option<Coverage>,
    /// Why coverage is missing, when it was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_note: Option<String>,
    /// Why the verdict is not `passed`, when that is not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_run",
        "Run a project's tests (pytest, unittest, cargo test or cargo-nextest, detected or chosen) in the sandbox and \
         return per-test results: ids, statuses, failure messages with file and line, output excerpts, totals and a \
         verdict that is `passed` only when the run ended on its own and its results agree with its exit code. \
         Subsets: paths, keyword, ids, or only_failed (the failures of the project's last run). reruns finds flaky \
         tests; coverage measures line coverage; timeout_secs and test_timeout_secs bound the run and each test.",
        Annotations::additive(false),
        run,
    )
    .title("Run tests")
    // The run enforces its own (bounded) limit; the call waits for it.
    .timeout(Duration::from_secs(6 * 3600))
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let wanted = super::runner_arg(a.runner.as_deref())?;
    if a.reruns > 5 {
        return Err(ToolError::invalid("reruns must be 0 to 5"));
    }
    let max_cases = super::limit(a.max_cases, 50, 1000)? as usize;
    let timeout = match a.timeout_secs {
        None => t.config.timeout,
        Some(s) if s.is_finite() && s > 0.0 && s <= t.config.max_timeout.as_secs_f64() => Duration::from_secs_f64(s),
        Some(s) => {
            return Err(ToolError::invalid(format!(
                "timeout_secs {s} is outside 0..={}",
                t.config.max_timeout.as_secs_f64()
            )));
        }
    };
    let test_timeout = match a.test_timeout_secs {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 && s <= t.config.max_timeout.as_secs_f64() => Some(s),
        Some(s) => return Err(ToolError::invalid(format!("test_timeout_secs {s} is out of range"))),
    };
    let (dir, project) = t.project(&a.path)?;
    let det = detect(&dir, wanted);
    if det.runner == "none" {
        return Err(ToolError::not_found(format!(
            "no tests found in {project}: {}; pass runner to force one",
            det.reasons.join("; ")
        )));
    }
    let mut notes: Vec<String> = Vec::new();
    let mut ids = a.ids.clone();
    if a.only_failed {
        if !ids.is_empty() || !a.paths.is_empty() || a.keyword.is_some() {
            return Err(ToolError::invalid("only_failed cannot be combined with ids, paths or keyword"));
        }
        match store::last_failed(&t, &project).await? {
            None => {
                return Err(ToolError::conflict(format!(
                    "no run of {project} is recorded yet; run without only_failed"
                )));
            }
            Some((last, failed)) if failed.is_empty() => {
                return Err(ToolError::conflict(format!(
                    "the last run of {project} ({last}) had no failures; run without only_failed"
                )));
            }
            Some((last, failed)) => {
                notes.push(format!("only the {} failures of run {last}", failed.len()));
                ids = failed;
            }
        }
    }
    let sel = exec::check_selection(
        &dir,
        &det.runner,
        &Selection { paths: a.paths.clone(), keyword: a.keyword.clone(), ids },
    )?;
    if test_timeout.is_some() && matches!(det.runner.as_str(), "cargo" | "unittest") {
        notes.push(format!(
            "test_timeout_secs is not supported by {} (use nextest for Rust); only the run's time limit applies",
            det.runner
        ));
    }
    let mut coverage_tool = None;
    let mut coverage_note = None;
    if a.coverage {
        match det.runner.as_str() {
            "pytest" | "unittest" => {
                let py = exec::interpreter(&det.argv, &dir);
                match exec::probe_module(&t, &dir, &py, "coverage").await {
                    Some(v) => coverage_tool = Some(format!("coverage.py {v}")),
                    None => {
                        coverage_note = Some(format!("coverage.py is not installed for {py}; no coverage measured"))
                    }
                }
            }
            _ => coverage_note = Some(
                "Rust coverage needs -C instrument-coverage and LLVM 22's llvm-profdata/llvm-cov, which this server \
                     does not have; no coverage measured"
                    .to_owned(),
            ),
        }
    }
    let commit = crate::git::head_commit(&dir);
    let started_at = mcp_core::clock::now_pair().0;
    let started = Instant::now();
    let first = exec::attempt(&t, &dir, &det, &sel, timeout, test_timeout, coverage_tool.as_deref()).await?;
    let mut jobs = first.jobs.clone();
    let mut cases = first.cases.clone();
    // Flaky detection: re-run what failed, each round only what still fails.
    let mut still: Vec<String> = cases.iter().filter(|c| c.is_failure()).map(|c| c.id.clone()).collect();
    let mut round = 0;
    while round < a.reruns && !still.is_empty() && matches!(first.verdict, "failed") {
        round += 1;
        let left = timeout.saturating_sub(started.elapsed());
        if left < Duration::from_secs(1) {
            notes.push("no time left for more reruns".into());
            break;
        }
        let retry = match exec::check_selection(&dir, &det.runner, &Selection::ids(still.clone())) {
            Ok(sel) => exec::attempt(&t, &dir, &det, &sel, left, test_timeout, None).await?,
            Err(e) => {
                notes.push(format!("failures could not be re-run by id: {e}"));
                break;
            }
        };
        jobs.extend(retry.jobs.iter().cloned());
        for r in retry.cases.iter().filter(|r| r.status == "passed") {
            if let Some(c) = cases.iter_mut().find(|c| c.id == r.id && c.is_failure()) {
                c.flaky = true;
            }
        }
        still.retain(|id| cases.iter().any(|c| c.id == *id && !c.flaky));
    }
    let totals = Totals::of(&cases);
    if totals.flaky > 0 {
        notes.push(format!("{} failing tests passed on a retry (flaky)", totals.flaky));
    }
    let mut note_parts: Vec<String> = first.note.iter().cloned().collect();
    note_parts.extend(notes);
    let note = (!note_parts.is_empty()).then(|| note_parts.join("; "));
    let verdict = first.verdict.to_owned();
    let duration = started.elapsed();
    failures_first(&mut cases);
    let failed_ids: Vec<String> = cases.iter().filter(|c| c.is_failure()).map(|c| c.id.clone()).collect();
    let summary = format!(
        "{} in {:.1} s{}",
        totals.describe(),
        duration.as_secs_f64(),
        if verdict == "passed" || verdict == "failed" { String::new() } else { format!(" ({verdict})") }
    );
    let run_id = new_run_id();
    let coverage = first.coverage.clone();
    let coverage_note = coverage_note.or(first.coverage_note.clone());
    let row = RunRow {
        run_id: run_id.clone(),
        project: project.clone(),
        runner: det.runner.clone(),
        commit: commit.clone(),
        verdict: verdict.clone(),
        exit_code: first.finished.exit_code.map(i64::from),
        duration_ms: duration.as_millis() as i64,
        totals: totals.clone(),
        summary: summary.clone(),
        note: note.clone(),
        coverage_percent: coverage.as_ref().map(|c| c.percent),
        started_at,
    };
    store::save(&t, &row, &first.argv, &cases).await?;
    t.remember(&run_id, jobs);
    let output = exec::output_excerpt(&first.finished);
    let cases_truncated = cases.len() > max_cases;
    cases.truncate(max_cases);
    let mut text = format!("{verdict}: {summary} [{run_id}]");
    if let Some(n) = &note {
        text.push_str(&format!("\nnote: {n}"));
    }
    for c in cases.iter().filter(|c| c.is_failure()).take(10) {
        text.push_str(&format!("\n{} {}: {}", c.status.to_uppercase(), c.id, c.message.as_deref().unwrap_or("")));
    }
    Ok(Out::new(Output {
        run_id,
        project,
        runner: det.runner,
        argv: first.argv.clone(),
        passed: verdict == "passed",
        verdict,
        exit_code: first.finished.exit_code,
        duration_ms: duration.as_millis() as u64,
        commit,
        totals,
        cases,
        cases_truncated,
        failed_ids,
        summary,
        output,
        coverage,
        coverage_note,
        note,
    })
    .text(text))
}

/// A run id unique in this store: time and a per-process counter.
fn new_run_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ms = mcp_core::clock::now_pair().1;
    format!("run-{ms:x}-{:x}-{n}", std::process::id())
}
