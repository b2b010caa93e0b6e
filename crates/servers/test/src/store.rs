//! Runs and their cases in the database: written once at the end of a run,
//! read by `test_results`, `test_history` and `only_failed` (the failed ids
//! of a project's last run are kept here, not in pytest's cache, which the
//! fleet's templates switch off).

use mcp_core::ToolError;
use mcp_core::db::sqlx::{self, Row};
use schemars::JsonSchema;
use serde::Serialize;

use crate::Tests;
use crate::model::{Case, Totals};

fn db_err(e: sqlx::Error) -> ToolError {
    ToolError::internal(e)
}

/// A run as stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// Project (relative to the first root).
    pub project: String,
    /// Runner.
    pub runner: String,
    /// Commit `HEAD` named when the run started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Verdict.
    pub verdict: String,
    /// Exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Duration.
    pub duration_ms: i64,
    /// Counts.
    pub totals: Totals,
    /// One line.
    pub summary: String,
    /// Why the verdict is not passed, when not obvious.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Coverage percent, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coverage_percent: Option<f64>,
    /// Start time (RFC 3339).
    pub started_at: String,
}

/// Store a run and its cases in one transaction.
pub async fn save(t: &Tests, run: &RunRow, argv: &[String], cases: &[Case]) -> Result<(), ToolError> {
    let db = &t.db;
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let ms = mcp_core::clock::now_pair().1;
    let tt = &run.totals;
    db.query(
        "INSERT INTO test_runs (run_id, project, runner, argv, commit_sha, verdict, exit_code, duration_ms, tests, passed, \
         failed, errors, skipped, xfailed, xpassed, flaky, summary, note, coverage_percent, started_at, started_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
    )
    .bind(run.run_id.clone())
    .bind(run.project.clone())
    .bind(run.runner.clone())
    .bind(serde_json::to_string(argv).unwrap_or_default())
    .bind(run.commit.clone())
    .bind(run.verdict.clone())
    .bind(run.exit_code)
    .bind(run.duration_ms)
    .bind(tt.tests as i64)
    .bind(tt.passed as i64)
    .bind(tt.failed as i64)
    .bind(tt.errors as i64)
    .bind(tt.skipped as i64)
    .bind(tt.xfailed as i64)
    .bind(tt.xpassed as i64)
    .bind(tt.flaky as i64)
    .bind(run.summary.clone())
    .bind(run.note.clone())
    .bind(run.coverage_percent)
    .bind(run.started_at.clone())
    .bind(ms)
    .execute(&mut *tx)
    .await
    .map_err(db_err)?;
    for (i, c) in cases.iter().enumerate() {
        db.query(
            "INSERT INTO test_cases (run_id, seq, case_id, name, suite, status, duration_ms, message, file, line, output, flaky) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(run.run_id.clone())
        .bind(i as i64)
        .bind(c.id.clone())
        .bind(c.name.clone())
        .bind(c.suite.clone())
        .bind(c.status.clone())
        .bind(c.duration_ms as i64)
        .bind(c.message.clone())
        .bind(c.file.clone())
        .bind(c.line.map(|l| l as i64))
        .bind(c.output.clone())
        .bind(i64::from(c.flaky))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
    }
    tx.commit().await.map_err(db_err)
}

const RUN_COLUMNS: &str = "run_id, project, runner, commit_sha, verdict, exit_code, duration_ms, tests, passed, failed, \
                           errors, skipped, xfailed, xpassed, flaky, summary, note, coverage_percent, started_at";

fn run_row(r: &mcp_core::db::sqlx::any::AnyRow) -> RunRow {
    let n = |i: usize| r.get::<i64, _>(i).max(0) as u64;
    RunRow {
        run_id: r.get(0),
        project: r.get(1),
        runner: r.get(2),
        commit: r.get(3),
        verdict: r.get(4),
        exit_code: r.get(5),
        duration_ms: r.get(6),
        totals: Totals {
            tests: n(7),
            passed: n(8),
            failed: n(9),
            errors: n(10),
            skipped: n(11),
            xfailed: n(12),
            xpassed: n(13),
            flaky: n(14),
        },
        summary: r.get(15),
        note: r.get(16),
        coverage_percent: r.get(17),
        started_at: r.get(18),
    }
}

/// One run.
pub async fn run(t: &Tests, run_id: &str) -> Result<Option<RunRow>, ToolError> {
    static SQL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    let sql = SQL
        .get_or_init(|| Box::leak(format!("SELECT {RUN_COLUMNS} FROM test_runs WHERE run_id = $1").into_boxed_str()));
    let row = t.db.query(sql).bind(run_id.to_owned()).fetch_optional(t.db.reader()).await.map_err(db_err)?;
    Ok(row.as_ref().map(run_row))
}

/// A project's runs, newest first.
pub async fn runs(t: &Tests, project: &str, limit: i64) -> Result<Vec<RunRow>, ToolError> {
    static SQL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        Box::leak(
            format!(
                "SELECT {RUN_COLUMNS} FROM test_runs WHERE project = $1 ORDER BY started_ms DESC, run_id DESC LIMIT $2"
            )
            .into_boxed_str(),
        )
    });
    let rows = t.db.query(sql).bind(project.to_owned()).bind(limit).fetch_all(t.db.reader()).await.map_err(db_err)?;
    Ok(rows.iter().map(run_row).collect())
}

/// A run's cases, optionally of one status, in stored order (failures first).
pub async fn cases(
    t: &Tests,
    run_id: &str,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Case>, i64), ToolError> {
    let rows =
        t.db.query(
            "SELECT case_id, name, suite, status, duration_ms, message, file, line, output, flaky FROM test_cases \
             WHERE run_id = $1 AND ($2 IS NULL OR status = $2) ORDER BY seq LIMIT $3 OFFSET $4",
        )
        .bind(run_id.to_owned())
        .bind(status.map(str::to_owned))
        .bind(limit)
        .bind(offset)
        .fetch_all(t.db.reader())
        .await
        .map_err(db_err)?;
    let total: i64 =
        t.db.query("SELECT COUNT(*) FROM test_cases WHERE run_id = $1 AND ($2 IS NULL OR status = $2)")
            .bind(run_id.to_owned())
            .bind(status.map(str::to_owned))
            .fetch_one(t.db.reader())
            .await
            .map_err(db_err)?
            .get(0);
    let cases = rows
        .iter()
        .map(|r| Case {
            id: r.get(0),
            name: r.get(1),
            suite: r.get(2),
            status: r.get(3),
            duration_ms: r.get::<i64, _>(4).max(0) as u64,
            message: r.get(5),
            file: r.get(6),
            line: r.get::<Option<i64>, _>(7).map(|l| l.max(0) as u64),
            output: r.get(8),
            flaky: r.get::<i64, _>(9) != 0,
        })
        .collect();
    Ok((cases, total))
}

/// The failed ids of the project's last run that reported any test, with that run's id.
pub async fn last_failed(t: &Tests, project: &str) -> Result<Option<(String, Vec<String>)>, ToolError> {
    let row = t
        .db
        .query("SELECT run_id FROM test_runs WHERE project = $1 AND tests > 0 ORDER BY started_ms DESC, run_id DESC LIMIT 1")
        .bind(project.to_owned())
        .fetch_optional(t.db.reader())
        .await
        .map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let run_id: String = row.get(0);
    let ids =
        t.db.query("SELECT case_id FROM test_cases WHERE run_id = $1 AND status IN ('failed', 'error') ORDER BY seq")
            .bind(run_id.clone())
            .fetch_all(t.db.reader())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
    Ok(Some((run_id, ids)))
}

/// One test's status in the project's runs that ran it, newest first.
pub async fn test_runs(
    t: &Tests,
    project: &str,
    test_id: &str,
    limit: i64,
) -> Result<Vec<(RunRow, String)>, ToolError> {
    static SQL: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    let sql = SQL.get_or_init(|| {
        let cols = RUN_COLUMNS.split(", ").map(|c| format!("r.{}", c.trim())).collect::<Vec<_>>().join(", ");
        Box::leak(
            format!(
                "SELECT {cols}, c.status FROM test_runs r JOIN test_cases c ON c.run_id = r.run_id \
                 WHERE r.project = $1 AND c.case_id = $2 ORDER BY r.started_ms DESC, r.run_id DESC LIMIT $3"
            )
            .into_boxed_str(),
        )
    });
    let rows =
        t.db.query(sql)
            .bind(project.to_owned())
            .bind(test_id.to_owned())
            .bind(limit)
            .fetch_all(t.db.reader())
            .await
            .map_err(db_err)?;
    Ok(rows.iter().map(|r| (run_row(r), r.get::<String, _>(19))).collect())
}
