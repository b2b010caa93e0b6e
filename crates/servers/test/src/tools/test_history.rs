//! `test_history`: a project's recent runs and, for one test, its status
//! run by run and when its current failing streak began (at which commit),
//! with the last passing run before it.

use mcp_core::prelude::*;

use crate::Tests;
use crate::store::{self, RunRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Project directory, relative to the server's first root.
    pub path: String,
    /// A test id (as test_run reports it): adds its status in each run that ran it and when it started failing.
    pub test_id: Option<String>,
    /// Most runs (default 20, at most 500).
    pub limit: Option<i64>,
}

/// A run, as one test saw it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestRun {
    /// Run id.
    pub run_id: String,
    /// Commit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Start time.
    pub started_at: String,
    /// The test's status in it.
    pub status: String,
}

/// One test's history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TestHistory {
    /// The test.
    pub test_id: String,
    /// Its status in the latest run that ran it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// It fails now.
    pub failing: bool,
    /// The first run of the current failing streak.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<TestRun>,
    /// The last run it passed in before the streak (or the latest pass when it passes now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_passed: Option<TestRun>,
    /// Runs in the current failing streak.
    pub failing_runs: u64,
    /// Its status run by run, newest first.
    pub runs: Vec<TestRun>,
}

/// The history.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Project.
    pub project: String,
    /// Recent runs, newest first.
    pub runs: Vec<RunRow>,
    /// The test's history, when test_id was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<TestHistory>,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_history",
        "A project's recent test runs (verdict, totals, commit) and, for one test_id, its status run by run: when \
         its current failing streak started (run and commit) and the last run it passed before that.",
        Annotations::read_only(),
        run,
    )
    .title("Test history")
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = super::limit(a.limit, 20, 500)?;
    let (_, project) = t.project(&a.path)?;
    let runs = store::runs(&t, &project, limit).await?;
    let mut text: Vec<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.started_at,
                r.run_id,
                r.verdict,
                r.commit.as_deref().map(|c| &c[..c.len().min(12)]).unwrap_or("-")
            )
        })
        .collect();
    let test = match &a.test_id {
        None => None,
        Some(id) => {
            let rows = store::test_runs(&t, &project, id, 500).await?;
            let h = streak(id, rows);
            text.push(match &h.failing_since {
                Some(f) => format!(
                    "{id} fails since run {} (commit {}); last passed in {}",
                    f.run_id,
                    f.commit.as_deref().unwrap_or("unknown"),
                    h.last_passed.as_ref().map(|p| p.run_id.as_str()).unwrap_or("no recorded run")
                ),
                None => format!("{id}: {}", h.status.as_deref().unwrap_or("never run")),
            });
            Some(h)
        }
    };
    Ok(Out::new(Output { project, runs, test }).text(text.join("\n")))
}

/// The streak of `rows` (newest first).
fn streak(id: &str, rows: Vec<(RunRow, String)>) -> TestHistory {
    let runs: Vec<TestRun> = rows
        .into_iter()
        .map(|(r, status)| TestRun { run_id: r.run_id, commit: r.commit, started_at: r.started_at, status })
        .collect();
    let bad = |s: &str| s == "failed" || s == "error";
    let failing = runs.first().is_some_and(|r| bad(&r.status));
    let n = runs.iter().take_while(|r| bad(&r.status)).count();
    let pick = |r: &TestRun| TestRun {
        run_id: r.run_id.clone(),
        commit: r.commit.clone(),
        started_at: r.started_at.clone(),
        status: r.status.clone(),
    };
    let failing_since = (n > 0).then(|| pick(&runs[n - 1]));
    let last_passed = runs[n..].iter().find(|r| r.status == "passed").map(pick);
    TestHistory {
        test_id: id.to_owned(),
        status: runs.first().map(|r| r.status.clone()),
        failing,
        failing_since,
        last_passed,
        failing_runs: n as u64,
        runs: runs.into_iter().take(50).collect(),
    }
}
