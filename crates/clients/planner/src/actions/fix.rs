//! `fix`: while lint or the tests fail, give the agent what failed as data
//! (`llm_fix` with the failing tests and their messages, or the findings;
//! under container isolation, the failing commands and their output),
//! let it change the code, and run lint and tests again; at
//! most `rounds` times. Its result carries the last lint and test results,
//! which win over the first ones for the outcome and the report.
//!
//! Repeatable like `implement`: each round starts from the working tree and
//! the checks as they are now.

use mcp_types::peer::{FixFailure, LintReport, TestReport};
use serde_json::{Value, json};

use super::command::run_phase;
use super::implement::llm;
use crate::exec::Ctx;
use crate::peers::StepError;

/// Fix until the checks pass or the rounds run out.
pub(super) async fn run(cx: &mut Ctx<'_>, rounds: u32) -> Result<Value, StepError> {
    let mut lint = cx.result_of("lint").cloned().unwrap_or(Value::Null);
    let mut test = cx.result_of("test").cloned().unwrap_or(Value::Null);
    let mut history = Vec::new();
    for round in 1..=rounds {
        let failure = if test["passed"] == false { test_failure(&test) } else { lint_failure(&lint) };
        let phase = failure.phase.clone();
        let r = llm(cx, "llm_fix", json!({"failure": failure})).await?;
        history.push(json!({"round": round, "phase": phase, "summary": r["summary"]}));
        lint = run_phase(cx, "lint").await?;
        test = run_phase(cx, "test").await?;
        if lint["passed"] == true && test["passed"] == true {
            return Ok(json!({"rounds": round, "passed": true, "lint": lint, "test": test, "history": history}));
        }
    }
    Ok(json!({"rounds": rounds, "passed": false, "lint": lint, "test": test, "history": history}))
}

/// The failing tests of a test phase's result, with the run's output.
fn test_failure(result: &Value) -> FixFailure {
    let report: Option<TestReport> = serde_json::from_value(result["tests"].clone()).ok();
    let (tests, output) = match report {
        Some(r) => {
            let failing = r.cases.into_iter().filter(|c| matches!(c.status.as_str(), "failed" | "error")).collect();
            let mut output = r.output;
            if let Some(n) = r.note {
                output = format!("{n}\n{output}");
            }
            (failing, output)
        }
        None => (Vec::new(), failing_output(result)),
    };
    FixFailure { phase: "test".into(), output, tests, diagnostics: Vec::new() }
}

/// The findings of a lint phase's result; the tools that could not run are
/// said in the output.
fn lint_failure(result: &Value) -> FixFailure {
    let report: Option<LintReport> = serde_json::from_value(result["lint"].clone()).ok();
    let (diagnostics, output) = match report {
        Some(r) => {
            let broken: Vec<String> = r
                .runs
                .iter()
                .filter(|t| !matches!(t.status.as_str(), "ok" | "findings"))
                .map(|t| format!("{}: {} {}", t.tool, t.status, t.message.clone().unwrap_or_default()))
                .collect();
            (r.findings, broken.join("\n"))
        }
        None => (Vec::new(), failing_output(result)),
    };
    FixFailure { phase: "lint".into(), output, tests: Vec::new(), diagnostics }
}

/// A phase run in containers has no structured report: the failing
/// commands and the end of what each printed.
fn failing_output(result: &Value) -> String {
    result["commands"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["exit_code"] != 0 || c["timed_out"] == true)
        .map(|c| {
            let argv: Vec<&str> = c["argv"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            format!("$ {} (exit {})\n{}", argv.join(" "), c["exit_code"], c["output_tail"].as_str().unwrap_or(""))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
