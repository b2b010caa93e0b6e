//! Configuration of `mcp-client-llm-agent`: which provider understands the
//! requests, where the peers are, and the limits of every loop. Fixed at
//! start-up; nothing a request says can change it.

use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;
use mcp_core::config::peer_var;

/// `rules` (default: built in, no model) or `openai` (any OpenAI-compatible chat-completions endpoint).
pub const LLM_PROVIDER: &str = "LLM_PROVIDER";
/// Base URL of the OpenAI-compatible API, up to and including `/v1` (e.g. `http://llm:11434/v1` for Ollama).
pub const LLM_BASE_URL: &str = "LLM_BASE_URL";
/// Model name sent with every request (e.g. `qwen2.5-coder:7b`).
pub const LLM_MODEL: &str = "LLM_MODEL";
/// API key, sent as a bearer token (optional: local servers need none). Never logged.
pub const LLM_API_KEY: &str = "LLM_API_KEY";
/// A file holding the API key (compose secrets), instead of `LLM_API_KEY`.
pub const LLM_API_KEY_FILE: &str = "LLM_API_KEY_FILE";
/// Timeout of one model request, seconds (default 120).
pub const LLM_TIMEOUT_SECS: &str = "LLM_TIMEOUT_SECS";
/// Attempts per model request on transient failures (connection, 429, 5xx; default 3).
pub const LLM_MAX_ATTEMPTS: &str = "LLM_MAX_ATTEMPTS";
/// Database for requests, processed messages and the intake cursor: `sqlite:PATH` (default
/// `sqlite:./.data/llm-agent/agent.db`) or `postgres://...`.
pub const AGENT_DATABASE_URL: &str = "AGENT_DATABASE_URL";
/// The templates folder (default `./templates`): what can be built (`projects/*/template.json`) and the emails.
pub const AGENT_TEMPLATES_DIR: &str = "AGENT_TEMPLATES_DIR";
/// Read requests from the email server's `wait_for_new` (default true when `MCP_SERVER_EMAIL_URL` is set).
pub const AGENT_EMAIL_INTAKE: &str = "AGENT_EMAIL_INTAKE";
/// Question rounds before the agent gives up on a request (default 3).
pub const AGENT_MAX_QUESTION_ROUNDS: &str = "AGENT_MAX_QUESTION_ROUNDS";
/// Most model turns of one LLM step (implement, fix; default 24).
pub const AGENT_CODER_MAX_TURNS: &str = "AGENT_CODER_MAX_TURNS";

/// Which provider.
#[derive(Clone, PartialEq, Eq)]
pub enum ProviderConfig {
    /// The built-in extractor.
    Rules,
    /// An OpenAI-compatible endpoint.
    OpenAi {
        /// Base URL, without a trailing `/`.
        base_url: String,
        /// Model.
        model: String,
        /// Key, if any.
        api_key: Option<String>,
        /// Per-request timeout.
        timeout: Duration,
        /// Attempts on transient failures.
        max_attempts: u32,
    },
}

// By hand, so the API key never reaches a log line.
impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rules => f.write_str("Rules"),
            Self::OpenAi { base_url, model, api_key, timeout, max_attempts } => f
                .debug_struct("OpenAi")
                .field("base_url", base_url)
                .field("model", model)
                .field("api_key", &api_key.as_ref().map(|_| "<redacted>"))
                .field("timeout", timeout)
                .field("max_attempts", max_attempts)
                .finish(),
        }
    }
}

/// Where the peers are.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    /// `MCP_SERVER_EMAIL_URL`: the watched inbox and the replies.
    pub email: Option<String>,
    /// `MCP_SERVER_SQL_URL`: decision and communication logs.
    pub sql: Option<String>,
    /// `MCP_SERVER_FS_URL`: LLM steps read and write project files through it.
    pub fs: Option<String>,
    /// `MCP_SERVER_SHELL_URL`: LLM steps run commands through it, under its policy.
    pub shell: Option<String>,
    /// `MCP_CLIENT_PLANNER_URL`: complete specs become plans.
    pub planner: Option<String>,
}

/// The agent's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The provider.
    pub provider: ProviderConfig,
    /// Database URL (never logged whole).
    pub database_url: String,
    /// Templates folder.
    pub templates: PathBuf,
    /// Long-poll the email server.
    pub email_intake: bool,
    /// Question rounds before giving up.
    pub max_question_rounds: u32,
    /// Model turns per LLM step.
    pub coder_max_turns: u32,
    /// Peers.
    pub peers: Peers,
}

impl Config {
    /// Read from the environment (or a test map); every error at once.
    pub fn read(r: &mut Reader<'_>) -> Self {
        let provider = match r.string(LLM_PROVIDER, "rules").as_str() {
            "rules" => ProviderConfig::Rules,
            "openai" => {
                let base_url = r.url(LLM_BASE_URL).unwrap_or_default().trim_end_matches('/').to_owned();
                if base_url.is_empty() {
                    r.error(format!("{LLM_PROVIDER}=openai needs {LLM_BASE_URL}"));
                }
                let model = r.optional(LLM_MODEL).unwrap_or_default();
                if model.is_empty() {
                    r.error(format!("{LLM_PROVIDER}=openai needs {LLM_MODEL}"));
                }
                let api_key = r.secret(LLM_API_KEY, LLM_API_KEY_FILE);
                let max_attempts: u32 = r.parse(LLM_MAX_ATTEMPTS, 3);
                if !(1..=10).contains(&max_attempts) {
                    r.error(format!("{LLM_MAX_ATTEMPTS} must be 1..=10"));
                }
                ProviderConfig::OpenAi {
                    base_url,
                    model,
                    api_key,
                    timeout: r.secs(LLM_TIMEOUT_SECS, Duration::from_secs(120)),
                    max_attempts: max_attempts.clamp(1, 10),
                }
            }
            other => {
                r.error(format!("{LLM_PROVIDER}={other:?}: expected \"rules\" or \"openai\""));
                ProviderConfig::Rules
            }
        };
        let peers = Peers {
            email: r.optional_peer("mcp-server-email"),
            sql: r.optional_peer("mcp-server-sql"),
            fs: r.optional_peer("mcp-server-fs"),
            shell: r.optional_peer("mcp-server-shell"),
            planner: r.optional_peer("mcp-client-planner"),
        };
        let email_intake = r.bool(AGENT_EMAIL_INTAKE, peers.email.is_some());
        if email_intake && peers.email.is_none() {
            r.error(format!("{AGENT_EMAIL_INTAKE}=true needs {}", peer_var("mcp-server-email")));
        }
        let rounds: u32 = r.parse(AGENT_MAX_QUESTION_ROUNDS, 3);
        if !(1..=10).contains(&rounds) {
            r.error(format!("{AGENT_MAX_QUESTION_ROUNDS} must be 1..=10"));
        }
        let turns: u32 = r.parse(AGENT_CODER_MAX_TURNS, 24);
        if !(1..=200).contains(&turns) {
            r.error(format!("{AGENT_CODER_MAX_TURNS} must be 1..=200"));
        }
        Self {
            provider,
            database_url: r.string(AGENT_DATABASE_URL, "sqlite:./.data/llm-agent/agent.db"),
            templates: PathBuf::from(r.string(AGENT_TEMPLATES_DIR, "./templates")),
            email_intake,
            max_question_rounds: rounds.clamp(1, 10),
            coder_max_turns: turns.clamp(1, 200),
            peers,
        }
    }

    /// Settings for tests.
    pub fn for_tests(database_url: &str, templates: PathBuf, provider: ProviderConfig, peers: Peers) -> Self {
        Self {
            provider,
            database_url: database_url.to_owned(),
            templates,
            email_intake: peers.email.is_some(),
            max_question_rounds: 3,
            coder_max_turns: 24,
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
    fn defaults_need_nothing() {
        let c = read(&[]).unwrap();
        assert_eq!(c.provider, ProviderConfig::Rules);
        assert!(!c.email_intake);
    }

    #[test]
    fn every_error_at_once() {
        let e = read(&[
            ("LLM_PROVIDER", "openai"),
            ("MCP_SERVER_EMAIL_URL", "ftp://x"),
            ("AGENT_MAX_QUESTION_ROUNDS", "0"),
        ])
        .unwrap_err();
        for needle in ["LLM_BASE_URL", "LLM_MODEL", "MCP_SERVER_EMAIL_URL", "AGENT_MAX_QUESTION_ROUNDS"] {
            assert!(e.contains(needle), "{needle} missing from {e}");
        }
        assert!(read(&[("LLM_PROVIDER", "gpt")]).unwrap_err().contains("expected \"rules\" or \"openai\""));
    }

    #[test]
    fn openai_settings() {
        let c = read(&[
            ("LLM_PROVIDER", "openai"),
            ("LLM_BASE_URL", "http://llm:11434/v1/"),
            ("LLM_MODEL", "qwen2.5-coder:7b"),
            ("LLM_API_KEY", "k"),
        ])
        .unwrap();
        match c.provider {
            ProviderConfig::OpenAi { base_url, api_key, .. } => {
                assert_eq!(base_url, "http://llm:11434/v1");
                assert_eq!(api_key.as_deref(), Some("k"));
            }
            other => panic!("{other:?}"),
        }
    }
}
