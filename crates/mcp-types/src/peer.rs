//! What the clients send to and read from the servers. Each type lists only
//! what its caller uses; `tests/it/contracts.rs` holds it against the
//! callee's golden `tools/list`, so a rename on the server's side fails a
//! test instead of a run.
//!
//! Result types do not refuse unknown fields (servers may add fields);
//! argument types skip what is unset, so they send only what they mean.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A commit as git reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommitId {
    /// Full id.
    pub id: String,
    /// Abbreviated id.
    pub short_id: String,
}

/// `git_commit`'s result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitCommitted {
    /// The new commit (HEAD when `unchanged`).
    pub commit: CommitId,
    /// Files changed relative to the first parent.
    pub files_changed: u64,
    /// Nothing was committed because nothing changed (asked with `skip_unchanged`).
    #[serde(default)]
    pub unchanged: bool,
}

/// `git_status`'s result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitStatus {
    /// Abbreviated id of HEAD; absent before the first commit.
    pub head: Option<String>,
    /// Nothing staged, modified, conflicted or untracked.
    pub clean: bool,
}

/// One tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TagInfo {
    /// Name.
    pub name: String,
    /// The commit it points at.
    pub commit: String,
}

/// `git_tag`'s result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitTags {
    /// Tags (listed, or the one affected).
    pub tags: Vec<TagInfo>,
}

/// The shell server's `run` result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShellRun {
    /// `running`, `exited`, `killed` or `failed`.
    pub status: String,
    /// Exited with code 0.
    pub success: bool,
    /// Exit code, when it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did.
    #[serde(default)]
    pub signal: Option<i32>,
    /// Why it was killed or failed to start.
    pub reason: Option<String>,
    /// Run time, milliseconds.
    pub duration_ms: u64,
    /// stdout (start and end when long).
    pub stdout: String,
    /// stderr (start and end when long).
    pub stderr: String,
}

/// One message of the email server's `wait_for_new`, as the agent reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MailSummary {
    /// The email server's id of the message.
    pub id: String,
    /// Message-ID.
    pub message_id: String,
    /// Sender address.
    pub from: Option<String>,
    /// Subject.
    pub subject: String,
    /// Date (RFC 3339).
    pub date: Option<String>,
    /// Whether the fleet may act on it.
    pub trusted: bool,
    /// Why it is (not) trusted.
    pub trust_reason: String,
    /// The request a signed Reply-To token maps it to.
    pub request_id: Option<String>,
    /// The new text (quoted history separated out).
    pub text: String,
}

/// `wait_for_new`'s result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NewMail {
    /// Pass this as `cursor` next time.
    pub cursor: String,
    /// New messages, oldest first.
    pub messages: Vec<MailSummary>,
}

/// The email server's `reply` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// The id of the message answered.
    pub id: String,
    /// Plain-text body.
    pub text: String,
    /// A request id: the Reply-To then carries a signed token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Makes the send idempotent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// The sql server's `decision_record` arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRecord {
    /// The project (request id) it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Trace id (defaults to the call's trace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Who decided.
    pub actor: String,
    /// What was decided.
    pub decision: String,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// What it was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<serde_json::Value>,
    /// What came of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<serde_json::Value>,
    /// Makes the record idempotent: the same key with the same details returns the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

/// The sql server's `message_record` arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageRecord {
    /// `in` or `out`.
    pub direction: String,
    /// `email`, `mcp`, `rest`...
    pub channel: String,
    /// The project (request id) it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Conversation thread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// Sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_addr: Option<String>,
    /// Recipient(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_addr: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Message-ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Trace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// Makes the record idempotent: the same key with the same details returns the first record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}
