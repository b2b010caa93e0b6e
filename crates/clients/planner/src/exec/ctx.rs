//! [`Ctx`]: one run as the engine and the actions see it while it runs —
//! the planner, the run, its steps so far — and the questions both ask of
//! it (a step's result, whether the checks passed, budget left).

use std::time::Instant;

use serde_json::Value;

use crate::Planner;
use crate::store::{Run, Step, StepState};

/// What the run has done so far, for conditions, budgets and the report.
pub(crate) struct Ctx<'a> {
    /// The planner (store, peers, templates, settings).
    pub p: &'a Planner,
    /// The run, refreshed from the store before each step.
    pub run: Run,
    /// Its steps, kept in step with the store as they settle.
    pub steps: Vec<Step>,
    /// When this planner took the run up (for the log line at the end).
    pub started: Instant,
    /// Milliseconds the run has spent waiting for people (approvals): the
    /// wall-time budget bounds the planner's work, not a person's answer.
    pub waited_ms: i64,
}

impl Ctx<'_> {
    /// The step with this key.
    pub fn state_of(&self, key: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.def.key == key)
    }

    /// The result of the step with this key, if it succeeded.
    pub fn result_of(&self, key: &str) -> Option<&Value> {
        self.state_of(key).filter(|s| s.state == StepState::Succeeded).and_then(|s| s.result.as_ref())
    }

    /// Whether lint and tests passed, and a line for each; and, once it has
    /// run, the local CI pipeline's verdict (which blocks the tag as they do).
    pub fn checks(&self) -> (bool, Vec<String>) {
        let mut all = true;
        let mut lines = Vec::new();
        for phase in ["lint", "test"] {
            let r = self.check_result(phase);
            match r {
                Some(r) => {
                    let passed = r["passed"].as_bool().unwrap_or(false);
                    all &= passed;
                    let summary = r["summary"].as_str().unwrap_or("");
                    lines.push(format!("- {phase}: {} {summary}", if passed { "passed" } else { "FAILED" }));
                }
                None => {
                    all = false;
                    lines.push(format!("- {phase}: not run"));
                }
            }
        }
        if let Some(r) = self.result_of("pipeline")
            && let Some(passed) = r["passed"].as_bool()
        {
            all &= passed;
            let summary = r["summary"].as_str().unwrap_or("");
            lines.push(format!("- pipeline: {} {summary}", if passed { "passed" } else { "FAILED" }));
        }
        (all, lines)
    }

    /// The last result of a check phase (`lint`, `test`): the fix loop's
    /// last round wins over the first run.
    pub fn check_result(&self, phase: &str) -> Option<&Value> {
        self.result_of("fix").and_then(|f| f.get(phase)).or_else(|| self.result_of(phase))
    }

    /// `Err(why)` when a budget (attempts, wall time, tokens) is spent.
    pub fn budget_left(&self) -> Result<(), String> {
        let b = self.run.budget;
        if self.run.steps_used >= i64::from(b.max_steps) {
            return Err(format!("the step budget ({} attempts) is used up", b.max_steps));
        }
        let wall = (mcp_core::clock::now_ms() - self.run.created_ms - self.waited_ms).max(0) as u64 / 1000;
        if wall >= b.max_wall_secs {
            return Err(format!("the time budget ({} s) is used up", b.max_wall_secs));
        }
        if self.run.tokens_used >= b.max_tokens as i64 {
            return Err(format!("the LLM token budget ({}) is used up", b.max_tokens));
        }
        Ok(())
    }
}
