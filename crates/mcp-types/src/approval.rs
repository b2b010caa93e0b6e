//! Human approval gates: the planner's side of the contract. A plan step
//! named in `PLANNER_APPROVAL_STEPS` waits for a person before it runs; the
//! planner keeps one [`Approval`] per run and step, and anyone who may
//! decide — the gateway's web UI, REST API and CLI, or the agent for an
//! approver's emailed answer — reads them with `approvals_list` and
//! `approval_get` and answers with `approval_decide` ([`ApprovalDecide`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::text_enum;

text_enum! {
    /// Where an approval is.
    pub enum ApprovalState {
        /// Waiting for a person; the step does not run yet.
        Pending = "pending",
        /// Approved: the step runs.
        Approved = "approved",
        /// Denied: the step does not run and the run ends.
        Denied = "denied",
        /// Nobody decided in time (or the run ended first): counts as a denial.
        Expired = "expired",
    }
}

impl ApprovalState {
    /// Decided one way or the other (expiry included): nothing changes it any more.
    pub const fn is_final(self) -> bool {
        !matches!(self, Self::Pending)
    }
}

text_enum! {
    /// A person's answer to an approval.
    pub enum ApprovalDecision {
        /// Let the step run.
        Approve = "approve",
        /// Stop it (and so the run).
        Deny = "deny",
    }
}

impl ApprovalDecision {
    /// The state this answer leads to.
    pub const fn state(self) -> ApprovalState {
        match self {
            Self::Approve => ApprovalState::Approved,
            Self::Deny => ApprovalState::Denied,
        }
    }
}

/// One approval: a step of a run that waits (or waited) for a person.
/// Times are RFC 3339 in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    /// The approval's id (`ap-` and 12 hex digits): the signed reply token of its email carries it.
    pub id: String,
    /// The planner's run.
    pub run_id: String,
    /// The request the run serves (the planner's request id: `<request>` or `<request>-retry<n>`).
    pub request_id: String,
    /// The plan step that waits (`tag`).
    pub step: String,
    /// What kind of action the step is (`tag`, `commit`, `command`...).
    pub action: String,
    /// What the step will do, in a sentence.
    pub summary: String,
    /// Where the approval is.
    pub state: ApprovalState,
    /// When it was asked for.
    pub requested_at: String,
    /// When it expires (and counts as denied) unless decided before.
    pub expires_at: String,
    /// When it was decided or expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// Who decided (an email address or the gateway's user).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// Why, when the decider said (or why it expired).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The run's trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

/// `approval_get`'s result: the approval and who may answer it by email
/// (what the agent checks an emailed answer's sender against).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalDetail {
    /// The approval.
    #[serde(flatten)]
    pub approval: Approval,
    /// The addresses the approval email went to: only they may answer it by email.
    #[serde(default)]
    pub approvers: Vec<String>,
}

/// `approval_decide`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecide {
    /// The approval's id.
    pub id: String,
    /// `approve` or `deny`.
    pub decision: ApprovalDecision,
    /// Who decides: an email address or the gateway's user name (1-254 characters, one line).
    pub decided_by: String,
    /// Why (optional; recorded and shown in the report; one line, at most 500 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `approvals_list`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalsList {
    /// Approvals, newest first.
    pub approvals: Vec<Approval>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_decisions_have_one_text_form() {
        for s in ApprovalState::ALL {
            assert_eq!(ApprovalState::parse(s.as_str()), Some(*s));
        }
        assert_eq!(ApprovalDecision::Deny.state(), ApprovalState::Denied);
        assert!(ApprovalState::Expired.is_final() && !ApprovalState::Pending.is_final());
        let d: ApprovalDecide =
            serde_json::from_value(serde_json::json!({"id": "ap-1", "decision": "approve", "decided_by": "a@b"}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.decision, ApprovalDecision::Approve);
    }
}
