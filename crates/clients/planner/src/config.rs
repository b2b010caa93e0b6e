//! Configuration of `mcp-client-planner`.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Database URL for plans and checkpoints: `sqlite:PATH` (default `sqlite:./.data/planner/planner.db`) or `postgres://...`.
pub const PLANNER_DATABASE_URL: &str = "PLANNER_DATABASE_URL";
/// The templates folder (default `./templates`): `projects/<template>/template.json`, `SPEC.md.tmpl`, `email/`.
pub const PLANNER_TEMPLATES_DIR: &str = "PLANNER_TEMPLATES_DIR";
/// Templates this deployment offers, by folder name (default: every template in the folder). Compose sets
/// it to what its toolchain image can build.
pub const PLANNER_TEMPLATES: &str = "PLANNER_TEMPLATES";
/// Name of this planner instance, owner of the runs it claims (default: the host name). A restarted
/// planner with the same name takes its runs back at once; others wait for the lease to expire.
pub const PLANNER_INSTANCE: &str = "PLANNER_INSTANCE";
/// Runs executed at the same time (default 2).
pub const PLANNER_CONCURRENCY: &str = "PLANNER_CONCURRENCY";
/// Budget: most step attempts per run, retries included (default 60).
pub const PLANNER_MAX_STEPS: &str = "PLANNER_MAX_STEPS";
/// Budget: longest wall time of a run, seconds (default 1800).
pub const PLANNER_MAX_WALL_SECS: &str = "PLANNER_MAX_WALL_SECS";
/// Budget: most LLM tokens per run (default 200000).
pub const PLANNER_MAX_TOKENS: &str = "PLANNER_MAX_TOKENS";
/// Rounds of "fix the failing tests" with an LLM provider (default 3).
pub const PLANNER_FIX_ROUNDS: &str = "PLANNER_FIX_ROUNDS";
/// Timeout of one build, lint or test command, seconds (default 600).
pub const PLANNER_COMMAND_TIMEOUT_SECS: &str = "PLANNER_COMMAND_TIMEOUT_SECS";
/// Plan steps that wait for a person's approval before they run: a comma list of step keys (`tag`,
/// `commit_work`) or action kinds (`tag`, `commit`, `command`) (default empty: no step waits). The approvers get
/// an email to answer "approve" or "deny <reason>"; the gateway's UI, REST API and CLI decide too. `report`
/// cannot wait: the requester always hears back.
pub const PLANNER_APPROVAL_STEPS: &str = "PLANNER_APPROVAL_STEPS";
/// How long an approval waits for a decision: `90s`, `30m`, `24h`, `7d` or plain seconds (default `24h`).
/// Past it the approval is `expired`, which counts as a denial. Time spent waiting does not count against
/// `PLANNER_MAX_WALL_SECS`, which bounds the planner's own work.
pub const PLANNER_APPROVAL_TIMEOUT: &str = "PLANNER_APPROVAL_TIMEOUT";
/// Who may approve by email: a comma list of addresses (default: the request's requester). Each must be on
/// the email server's recipient allow-list to get the approval email.
pub const PLANNER_APPROVERS: &str = "PLANNER_APPROVERS";
/// The planner's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// Templates folder.
    pub templates: PathBuf,
    /// Templates offered (empty: all).
    pub offered: Vec<String>,
    /// Instance name.
    pub instance: String,
    /// Runs at once.
    pub concurrency: usize,
    /// Default budgets.
    pub budget: Budget,
    /// Fix rounds.
    pub fix_rounds: u32,
    /// Command timeout.
    pub command_timeout: Duration,
    /// Human approval gates.
    pub approval: Approval,
    /// Peers.
    pub peers: Peers,
}

/// Which steps wait for a person, how long, and who may answer by email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    /// Step keys or action kinds that wait (empty: none).
    pub steps: Vec<String>,
    /// How long an approval waits before it expires.
    pub timeout: Duration,
    /// Email approvers (empty: the request's requester).
    pub approvers: Vec<String>,
}

impl Approval {
    /// Nothing waits (the default).
    pub fn none() -> Self {
        Self { steps: Vec::new(), timeout: Duration::from_secs(24 * 3600), approvers: Vec::new() }
    }

    /// Whether a step with this key and action kind waits for approval.
    pub fn needed(&self, key: &str, kind: &str) -> bool {
        self.steps.iter().any(|s| s == key || s == kind)
    }

    fn read(r: &mut Reader<'_>) -> Self {
        let steps: Vec<String> = r.list(PLANNER_APPROVAL_STEPS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        for s in &steps {
            if s == "report" {
                r.error(format!(
                    "{PLANNER_APPROVAL_STEPS}: the report cannot wait for approval (the requester always hears back)"
                ));
            } else if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                r.error(format!(
                    "{PLANNER_APPROVAL_STEPS}: {s:?} is not a step key or action kind (letters, digits, _)"
                ));
            }
        }
        let timeout = match r.raw(PLANNER_APPROVAL_TIMEOUT) {
            None => Duration::from_secs(24 * 3600),
            Some(v) => match span(&v) {
                Some(d) => d,
                None => {
                    r.error(format!("{PLANNER_APPROVAL_TIMEOUT}={v:?}: expected a span such as 90s, 30m, 24h or 7d"));
                    Duration::from_secs(24 * 3600)
                }
            },
        };
        let approvers: Vec<String> = r.list(PLANNER_APPROVERS).into_iter().map(|a| a.to_ascii_lowercase()).collect();
        for a in &approvers {
            if a.len() > 254 || a.matches('@').count() != 1 || a.starts_with('@') || a.ends_with('@') {
                r.error(format!("{PLANNER_APPROVERS}: {a:?} is not an email address"));
            }
        }
        Self { steps, timeout, approvers }
    }
}

/// `90s`, `30m`, `24h`, `7d`, or plain seconds: at least a second, at most a year.
fn span(v: &str) -> Option<Duration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num.parse().ok()?;
    let secs = n.checked_mul(match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    })?;
    (1..=366 * 86_400).contains(&secs).then(|| Duration::from_secs(secs))
}

/// Where the other programs are.
#[derive(Debug, Clone)]
pub struct Peers {
    /// `MCP_SERVER_FS_URL`: its first root is the projects folder.
    pub fs: String,
    /// `MCP_SERVER_GIT_URL`: its first root must be the same projects folder.
    pub git: String,
    /// `MCP_SERVER_SHELL_URL`: its first root must be the same projects folder.
    pub shell: String,
    /// `MCP_SERVER_LINT_URL`: the lint phase (its first root must be the same projects folder).
    pub lint: String,
    /// `MCP_SERVER_TEST_URL`: the test phase (its first root must be the same projects folder).
    pub test: String,
    /// `MCP_SERVER_EMAIL_URL`, for completion reports (unset: no email; results stay in `plan_status`).
    pub email: Option<String>,
    /// `MCP_SERVER_SQL_URL`, for the decision and communication logs (unset: decisions only in logs and spans).
    pub sql: Option<String>,
    /// `MCP_SERVER_LOG_URL`, for task monitoring of runs (unset: no task records).
    pub log: Option<String>,
    /// `MCP_CLIENT_LLM_AGENT_URL`, for LLM steps (unset, or an agent without them: plans have no LLM steps).
    pub agent: Option<String>,
}

/// Limits of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Budget {
    /// Step attempts, retries included.
    pub max_steps: u32,
    /// Wall time, seconds.
    pub max_wall_secs: u64,
    /// LLM tokens.
    pub max_tokens: u64,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let instance = r.optional(PLANNER_INSTANCE).unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|h| h.trim().to_owned())
                .unwrap_or_else(|_| "planner".into())
        });
        let concurrency: usize = r.parse(PLANNER_CONCURRENCY, 2);
        if !(1..=64).contains(&concurrency) {
            r.error(format!("{PLANNER_CONCURRENCY} must be 1..=64"));
        }
        let budget = Budget {
            max_steps: r.parse(PLANNER_MAX_STEPS, 60),
            max_wall_secs: r.parse(PLANNER_MAX_WALL_SECS, 1800),
            max_tokens: r.parse(PLANNER_MAX_TOKENS, 200_000),
        };
        let peers = Peers {
            fs: r.peer_url("mcp-server-fs"),
            git: r.peer_url("mcp-server-git"),
            shell: r.peer_url("mcp-server-shell"),
            lint: r.peer_url("mcp-server-lint"),
            test: r.peer_url("mcp-server-test"),
            email: r.optional_peer("mcp-server-email"),
            sql: r.optional_peer("mcp-server-sql"),
            log: r.optional_peer("mcp-server-log"),
            agent: r.optional_peer("mcp-client-llm-agent"),
        };
        Self {
            database_url: r.string(PLANNER_DATABASE_URL, "sqlite:./.data/planner/planner.db"),
            templates: PathBuf::from(r.string(PLANNER_TEMPLATES_DIR, "./templates")),
            offered: r.list(PLANNER_TEMPLATES),
            instance,
            concurrency: concurrency.clamp(1, 64),
            budget,
            fix_rounds: r.parse(PLANNER_FIX_ROUNDS, 3),
            command_timeout: r.secs(PLANNER_COMMAND_TIMEOUT_SECS, Duration::from_secs(600)),
            approval: Approval::read(r),
            peers,
        }
    }

    /// Settings for tests: this database and templates folder, these peers.
    pub fn for_tests(database_url: &str, templates: PathBuf, peers: Peers) -> Self {
        Self {
            database_url: database_url.to_owned(),
            templates,
            offered: Vec::new(),
            instance: "test".into(),
            concurrency: 2,
            budget: Budget { max_steps: 60, max_wall_secs: 900, max_tokens: 200_000 },
            fix_rounds: 2,
            command_timeout: Duration::from_secs(300),
            approval: Approval::none(),
            peers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> Result<Config, String> {
        mcp_core::config::read_vars(vars, Config::read).map_err(|e| e.to_string())
    }

    #[test]
    fn approval_settings() {
        let c = read(&[]).unwrap();
        assert_eq!(c.approval, Approval::none());
        assert!(!c.approval.needed("tag", "tag"));
        let c = read(&[
            ("PLANNER_APPROVAL_STEPS", "tag, Command"),
            ("PLANNER_APPROVAL_TIMEOUT", "30m"),
            ("PLANNER_APPROVERS", "Ops@Example.test,bob@example.test"),
        ])
        .unwrap();
        assert!(c.approval.needed("tag", "tag") && c.approval.needed("lint", "command"));
        assert!(!c.approval.needed("commit_work", "commit"));
        assert_eq!(c.approval.timeout, Duration::from_secs(1800));
        assert_eq!(c.approval.approvers, ["ops@example.test", "bob@example.test"]);
        let e = read(&[
            ("PLANNER_APPROVAL_STEPS", "report,de ploy"),
            ("PLANNER_APPROVAL_TIMEOUT", "soon"),
            ("PLANNER_APPROVERS", "nobody"),
        ])
        .unwrap_err();
        for needle in ["report cannot wait", "\"de ploy\"", "soon", "\"nobody\""] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        assert_eq!(span("90"), Some(Duration::from_secs(90)));
        assert_eq!(span("0s"), None);
    }
}
