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

/// A commit in `git_log`'s list, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LoggedCommit {
    /// Full id.
    pub id: String,
    /// Abbreviated id.
    pub short_id: String,
    /// The message's first line.
    pub summary: String,
}

/// `git_log`'s result, as the planner reads it (newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitLog {
    /// The commits.
    pub commits: Vec<LoggedCommit>,
    /// More commits exist past `max_count`.
    pub more: bool,
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

/// One tool's run inside `lint_run`, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LintToolRun {
    /// The tool (`flake8`, `clippy`...).
    pub tool: String,
    /// `ok`, `findings`, `error`, `timeout` or `missing`.
    pub status: String,
    /// Findings it reported.
    pub findings: u64,
    /// Why it is `error`, `timeout` or `missing`.
    #[serde(default)]
    pub message: Option<String>,
}

/// One diagnostic, in the lint server's one shape for every tool; also what
/// the planner hands `llm_fix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// The tool that reported it.
    pub tool: String,
    /// File, relative to the project.
    pub file: String,
    /// Line (1-based; 0 when the tool names none).
    #[serde(default)]
    pub line: u64,
    /// Column (1-based; 0 when the tool names none).
    #[serde(default)]
    pub column: u64,
    /// Rule code (`E501`, `clippy::needless_return`).
    #[serde(default)]
    pub rule: String,
    /// `error`, `warning` or `note`.
    pub severity: String,
    /// What the tool says.
    pub message: String,
}

/// The lint server's `lint_run` result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LintReport {
    /// At least one tool ran and every run ended `ok`.
    pub passed: bool,
    /// `clean`, `findings` or `incomplete`.
    pub status: String,
    /// One entry per tool run.
    pub runs: Vec<LintToolRun>,
    /// The first findings (paged by the server).
    pub findings: Vec<Diagnostic>,
    /// Findings in all.
    pub total: u64,
    /// More findings than returned.
    pub truncated: bool,
}

/// Test counts of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestTotals {
    /// Tests reported.
    pub tests: u64,
    /// Passed.
    pub passed: u64,
    /// Failed.
    pub failed: u64,
    /// Errors (a fixture or collection failing).
    pub errors: u64,
    /// Skipped or ignored.
    pub skipped: u64,
}

/// One test of a run, as the planner reads it; also what it hands `llm_fix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestCase {
    /// Test id (a pytest node id, a Rust test path).
    pub id: String,
    /// `passed`, `failed`, `error`, `skipped`, `xfailed` or `xpassed`.
    pub status: String,
    /// The failure message.
    #[serde(default)]
    pub message: Option<String>,
    /// Where it failed.
    #[serde(default)]
    pub file: Option<String>,
    /// The line it failed on.
    #[serde(default)]
    pub line: Option<u64>,
    /// Captured output (an excerpt).
    #[serde(default)]
    pub output: Option<String>,
}

/// Line coverage of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Coverage {
    /// The tool that measured it.
    pub tool: String,
    /// Lines covered, percent.
    pub percent: f64,
}

/// The test server's `test_run` result, as the planner reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestReport {
    /// The run's id on the test server.
    pub run_id: String,
    /// `passed`, `failed`, `error`, `timed_out` or `no_tests`.
    pub verdict: String,
    /// The verdict is `passed`.
    pub passed: bool,
    /// Counts.
    pub totals: TestTotals,
    /// Failures and errors first, then the others (capped).
    pub cases: Vec<TestCase>,
    /// One line (`5 passed, 1 failed in 1.3 s`).
    pub summary: String,
    /// An excerpt of the run's output.
    #[serde(default)]
    pub output: String,
    /// Coverage, when it was measured.
    #[serde(default)]
    pub coverage: Option<Coverage>,
    /// Why the verdict is not `passed`, when that is not obvious.
    #[serde(default)]
    pub note: Option<String>,
}

/// What failed, as the planner hands it to the agent's `llm_fix`: the
/// failing tests with their messages and the diagnostics, not a text dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FixFailure {
    /// `lint` or `test`.
    pub phase: String,
    /// An excerpt of the failing run's output, for what the structured
    /// parts do not say (a collection error, a crash).
    #[serde(default)]
    pub output: String,
    /// The tests that failed or errored.
    #[serde(default)]
    pub tests: Vec<TestCase>,
    /// The lint findings.
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
}

/// `lint_run`'s arguments, as the planner sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LintRunArgs {
    /// The project folder, relative to the lint server's first root.
    pub path: String,
    /// Time limit of each tool's run, seconds.
    pub timeout_secs: u64,
    /// Findings to return (the rest are counted).
    pub max_findings: u64,
}

/// `test_run`'s arguments, as the planner sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestRunArgs {
    /// The project folder, relative to the test server's first root.
    pub path: String,
    /// Time limit of the run, seconds.
    pub timeout_secs: u64,
    /// Test cases to return (failures first).
    pub max_cases: u64,
    /// Measure line coverage where the project's tools can.
    pub coverage: bool,
}
