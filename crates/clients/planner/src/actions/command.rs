//! `command`: one phase of the project's checks and builds. `install` and
//! `build` run the template's argv lists through the shell server, which
//! applies its policy to each. `lint` and `test` go to the lint and test
//! servers (`lint_run`, `test_run`), which detect the same template's tools,
//! run them confined and answer with data: diagnostics in one shape, and a
//! result per test. With `PLANNER_ISOLATION=container` every phase runs the
//! template's argv lists in containers instead (`container`). Idempotent by
//! nature: installs, builds and checks may be repeated. For lint and test a
//! failed check is a result (the check did not pass), not a step failure;
//! the fix loop and the report read it.

use mcp_core::ErrorKind;
use mcp_types::peer::{LintReport, LintRunArgs, ShellRun, TestReport, TestRunArgs};
use serde_json::{Value, json};

use super::vars::template;
use crate::config::Isolation;
use crate::exec::Ctx;
use crate::peers::StepError;
use crate::spec::one_line;

/// Findings the lint phase keeps in its result (the report's table counts
/// them all; the fix loop gets these).
const MAX_FINDINGS: u64 = 50;
/// Test cases the test phase keeps (failures first).
const MAX_CASES: u64 = 30;

/// Run the phase; see [`run_phase`].
pub(super) async fn run(cx: &mut Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    run_phase(cx, phase).await
}

/// Run a phase: the checks on their servers, the rest through the shell;
/// or, with container isolation, all of it in containers.
pub(super) async fn run_phase(cx: &Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    if cx.p.config.runtime.isolation == Isolation::Container {
        return super::container::run_phase(cx, phase).await;
    }
    match phase {
        "lint" => lint(cx).await,
        "test" => test(cx).await,
        _ => shell_phase(cx, phase).await,
    }
}

/// `lint_run` on the project: passed when every tool ran and found nothing.
async fn lint(cx: &Ctx<'_>) -> Result<Value, StepError> {
    let timeout = cx.p.config.command_timeout.as_secs();
    let r: LintReport =
        cx.p.peers
            .lint
            .call_as(
                "lint_run",
                to_args(&LintRunArgs { path: cx.run.slug.clone(), timeout_secs: timeout, max_findings: MAX_FINDINGS })?,
            )
            .await?;
    let summary = lint_summary(&r);
    Ok(json!({"phase": "lint", "passed": r.passed, "summary": summary, "lint": r}))
}

/// One line: each tool and what it found (`flake8: 2 findings, black: clean`).
fn lint_summary(r: &LintReport) -> String {
    let parts: Vec<String> = r
        .runs
        .iter()
        .map(|t| match t.status.as_str() {
            "ok" => format!("{}: clean", t.tool),
            "findings" => format!("{}: {} finding{}", t.tool, t.findings, if t.findings == 1 { "" } else { "s" }),
            other => format!(
                "{}: {other}{}",
                t.tool,
                t.message.as_deref().map(|m| format!(" ({})", one_line(m, 80))).unwrap_or_default()
            ),
        })
        .collect();
    if parts.is_empty() { "no lint tool found for this project".to_owned() } else { one_line(&parts.join(", "), 300) }
}

/// `test_run` on the project: passed only on the server's `passed` verdict.
async fn test(cx: &Ctx<'_>) -> Result<Value, StepError> {
    let timeout = cx.p.config.command_timeout.as_secs();
    let r: TestReport =
        cx.p.peers
            .test
            .call_as(
                "test_run",
                to_args(&TestRunArgs {
                    path: cx.run.slug.clone(),
                    timeout_secs: timeout,
                    max_cases: MAX_CASES,
                    coverage: true,
                })?,
            )
            .await?;
    let summary = match &r.note {
        Some(n) if !r.passed => one_line(&format!("{} ({n})", r.summary), 300),
        _ => one_line(&r.summary, 300),
    };
    Ok(json!({"phase": "test", "passed": r.passed, "summary": summary, "tests": r}))
}

/// A contract type as a call's arguments.
pub(super) fn to_args(a: &impl serde::Serialize) -> Result<Value, StepError> {
    serde_json::to_value(a).map_err(|e| StepError::of(ErrorKind::Internal, e.to_string()))
}

/// Run a phase's commands through the shell server, stopping at the first
/// that fails, which fails the step.
async fn shell_phase(cx: &Ctx<'_>, phase: &str) -> Result<Value, StepError> {
    let template = template(cx)?;
    let mut results = Vec::new();
    let mut last_summary = String::new();
    let timeout = cx.p.config.command_timeout.as_secs();
    for argv in template.manifest.commands.get(phase).into_iter().flatten() {
        let r: ShellRun =
            cx.p.peers.shell.call_as("run", json!({"argv": argv, "cwd": cx.run.slug, "timeout_secs": timeout})).await?;
        let out = format!("{}{}", r.stdout, r.stderr);
        last_summary = summary_line(if r.stdout.trim().is_empty() { &out } else { &r.stdout });
        results.push(json!({
            "argv": argv, "exit_code": r.exit_code, "status": r.status, "duration_ms": r.duration_ms,
            "summary": last_summary, "output_tail": tail(&out, 4000),
        }));
        if !r.success {
            let why = r
                .reason
                .clone()
                .or_else(|| r.exit_code.map(|c| format!("exit code {c}")))
                .or_else(|| r.signal.map(|s| format!("ended by signal {s}")))
                .unwrap_or_else(|| r.status.clone());
            let message = format!("{phase}: `{}` failed ({why}): {}", argv.join(" "), tail(&out, 1500));
            // Ended by a signal nobody in the plan sent (no time limit, no kill: the machine's
            // memory, a neighbour's sweep): worth the step's retry, unlike a command that said no.
            if r.exit_code.is_none() && r.signal.is_some() && r.reason.is_none() {
                return Err(StepError::of(ErrorKind::Unavailable, message));
            }
            return Err(StepError::fatal(message));
        }
    }
    Ok(json!({"phase": phase, "passed": true, "summary": last_summary, "commands": results}))
}

/// Last non-empty line of a command's output: pytest's and cargo's summaries.
pub(super) fn summary_line(out: &str) -> String {
    out.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| one_line(l, 160)).unwrap_or_default()
}

/// The last `n` bytes of `s` (fewer, to start on a character boundary).
pub(super) fn tail(s: &str, n: usize) -> String {
    let start = s.len().saturating_sub(n);
    let mut i = start;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    s[i..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_and_tails_keep_the_end() {
        assert_eq!(summary_line("collected 3\n\n=== 3 passed in 0.1s ===\n  \n"), "=== 3 passed in 0.1s ===");
        assert_eq!(summary_line(""), "");
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ab", 10), "ab");
        // Never splits a character: "é" is two bytes.
        assert_eq!(tail("aé", 1), "");
        assert_eq!(tail("aé", 2), "é");
    }
}
