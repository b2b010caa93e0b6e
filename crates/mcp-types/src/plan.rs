//! The planner's side of the contract: the states of runs and steps, what
//! `plan_start` takes, the run a caller reads back, and the templates it
//! offers (`templates_list`, which decides what a deployment can build).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::spec::{ProjectSpec, RequestRef};
use crate::text_enum;

text_enum! {
    /// Where a run is.
    pub enum RunState {
        /// Waiting for an executor.
        Queued = "queued",
        /// Being worked on.
        Running = "running",
        /// Built, checked, tagged and reported.
        Succeeded = "succeeded",
        /// A step failed that the plan could not get past.
        Failed = "failed",
        /// Cancelled on request.
        Cancelled = "cancelled",
        /// Stopped by its budget (steps, time or tokens).
        BudgetExhausted = "budget_exhausted",
    }
}

impl RunState {
    /// Over: nothing more will happen to the run.
    pub const fn is_final(self) -> bool {
        !matches!(self, Self::Queued | Self::Running)
    }
}

text_enum! {
    /// Where a step is.
    pub enum StepState {
        /// Not started.
        Pending = "pending",
        /// An attempt is under way (or was, when the planner died).
        Running = "running",
        /// Waiting for a person's approval (`approvals_list`) before its first attempt.
        AwaitingApproval = "awaiting_approval",
        /// Done; its result is recorded.
        Succeeded = "succeeded",
        /// Failed for good.
        Failed = "failed",
        /// Not run (a condition, a failed dependency, a stop).
        Skipped = "skipped",
    }
}

impl StepState {
    /// Settled: the step will not run again in this run.
    pub const fn is_settled(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// Budget limits for one run; each at most the planner's configured one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetArgs {
    /// Step attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_steps: Option<u32>,
    /// Wall time, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wall_secs: Option<u64>,
    /// LLM tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
}

/// `plan_start`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanStart {
    /// The complete project spec.
    pub spec: ProjectSpec,
    /// The request it serves (its request_id is the idempotency key).
    pub request: RequestRef,
    /// Lower budgets than the configured ones, if wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<BudgetArgs>,
}

/// What a caller reads of a run (`plan_start`, `plan_status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunRef {
    /// The run's id.
    pub id: String,
    /// Where it is.
    pub state: RunState,
    /// Why it ended as it did.
    #[serde(default)]
    pub reason: Option<String>,
}

/// One template the planner builds from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplateEntry {
    /// Folder name (`python-cli`).
    pub name: String,
    /// Language (`python`).
    pub language: String,
    /// Kind (`cli`).
    pub kind: String,
    /// What it is.
    pub description: String,
}

/// `templates_list`'s result: what this deployment can build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TemplatesList {
    /// The templates offered.
    pub templates: Vec<TemplateEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_have_one_text_form() {
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).ok(), Some(serde_json::Value::String(s.as_str().into())));
        }
        for s in StepState::ALL {
            assert_eq!(s.as_str().parse::<StepState>(), Ok(*s));
        }
        assert!(RunState::BudgetExhausted.is_final() && !RunState::Running.is_final());
        assert!("done".parse::<StepState>().is_err());
    }
}
