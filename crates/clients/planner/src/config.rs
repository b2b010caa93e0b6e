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
/// The fs server (`http://mcp-server-fs:8080/mcp` by default). Its first root is the projects folder.
pub const MCP_SERVER_FS_URL: &str = "MCP_SERVER_FS_URL";
/// The git server (default `http://mcp-server-git:8080/mcp`); its first root must be the same projects folder.
pub const MCP_SERVER_GIT_URL: &str = "MCP_SERVER_GIT_URL";
/// The shell server (default `http://mcp-server-shell:8080/mcp`); its first root must be the same projects folder.
pub const MCP_SERVER_SHELL_URL: &str = "MCP_SERVER_SHELL_URL";
/// The email server, for completion reports (unset: no email; results stay available through `plan_status`).
pub const MCP_SERVER_EMAIL_URL: &str = "MCP_SERVER_EMAIL_URL";
/// The sql server, for the decision and communication logs (unset: decisions only in logs and spans).
pub const MCP_SERVER_SQL_URL: &str = "MCP_SERVER_SQL_URL";
/// The log server, for task monitoring of runs (unset: no task records).
pub const MCP_SERVER_LOG_URL: &str = "MCP_SERVER_LOG_URL";
/// The llm-agent, for LLM steps (implement features, fix failing tests). Unset, or an agent that does not
/// offer them (the `rules` provider): plans have no LLM steps.
pub const MCP_CLIENT_LLM_AGENT_URL: &str = "MCP_CLIENT_LLM_AGENT_URL";

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
    /// Peers.
    pub peers: Peers,
}

/// Where the other programs are.
#[derive(Debug, Clone)]
pub struct Peers {
    /// fs.
    pub fs: String,
    /// git.
    pub git: String,
    /// shell.
    pub shell: String,
    /// email.
    pub email: Option<String>,
    /// sql.
    pub sql: Option<String>,
    /// log.
    pub log: Option<String>,
    /// llm-agent.
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

fn url(r: &mut Reader<'_>, key: &str, default: Option<&str>) -> Option<String> {
    let v = match default {
        Some(d) => Some(r.string(key, d)),
        None => r.optional(key),
    };
    if let Some(u) = &v
        && !(u.starts_with("http://") || u.starts_with("https://"))
    {
        r.error(format!("{key}={u:?}: expected an http:// or https:// URL"));
    }
    v
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
            fs: url(r, MCP_SERVER_FS_URL, Some("http://mcp-server-fs:8080/mcp")).unwrap_or_default(),
            git: url(r, MCP_SERVER_GIT_URL, Some("http://mcp-server-git:8080/mcp")).unwrap_or_default(),
            shell: url(r, MCP_SERVER_SHELL_URL, Some("http://mcp-server-shell:8080/mcp")).unwrap_or_default(),
            email: url(r, MCP_SERVER_EMAIL_URL, None),
            sql: url(r, MCP_SERVER_SQL_URL, None),
            log: url(r, MCP_SERVER_LOG_URL, None),
            agent: url(r, MCP_CLIENT_LLM_AGENT_URL, None),
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
            peers,
        }
    }
}
