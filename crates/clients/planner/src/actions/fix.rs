//! `fix`: while lint or the tests fail, give the agent the failing output
//! (`llm_fix`), let it change the code, and run lint and tests again; at
//! most `rounds` times. Its result carries the last lint and test results,
//! which win over the first ones for the outcome and the report.
//!
//! Repeatable like `implement`: each round starts from the working tree and
//! the checks as they are now.

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
        let failing = if test["passed"] == false { &test } else { &lint };
        let output: String = failing["commands"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["output_tail"].as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let phase = failing["phase"].as_str().unwrap_or("test").to_owned();
        let r = llm(cx, "llm_fix", json!({"failure": {"phase": phase, "output": output}})).await?;
        history.push(json!({"round": round, "phase": phase, "summary": r["summary"]}));
        lint = run_phase(cx, "lint").await?;
        test = run_phase(cx, "test").await?;
        if lint["passed"] == true && test["passed"] == true {
            return Ok(json!({"rounds": round, "passed": true, "lint": lint, "test": test, "history": history}));
        }
    }
    Ok(json!({"rounds": rounds, "passed": false, "lint": lint, "test": test, "history": history}))
}
