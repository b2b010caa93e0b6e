//! The programs the planner drives, as MCP clients, and what their answers
//! mean for a step: a value, a failure worth retrying (the peer could not be
//! reached, timed out, or said "unavailable"), or a failure that retrying
//! cannot fix (refused by policy, invalid, failed).

use std::time::Duration;

use mcp_core::{CallResult, ClientError, ClientOptions, McpClient};
use serde_json::Value;

use crate::config::Config;

/// Why a call did not give a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// Worth another attempt.
    pub retryable: bool,
    /// What happened, for the run's record and the report.
    pub message: String,
}

impl StepError {
    /// A failure retrying cannot fix.
    pub fn fatal(m: impl Into<String>) -> Self {
        Self { retryable: false, message: m.into() }
    }
    /// A transient failure.
    pub fn transient(m: impl Into<String>) -> Self {
        Self { retryable: true, message: m.into() }
    }
}

/// One peer.
#[derive(Clone)]
pub struct Peer {
    /// Short name for messages (`fs`).
    pub name: &'static str,
    client: McpClient,
}

impl Peer {
    fn new(name: &'static str, url: &str, token: Option<String>, timeout: Duration) -> Result<Self, String> {
        let client = McpClient::new(ClientOptions::new(url).token(token).name(crate::NAME).call_timeout(timeout))
            .map_err(|e| format!("{name} at {url}: {e}"))?;
        Ok(Self { name, client })
    }

    /// Call a tool; `structuredContent` (or `{"text": ...}`) on success.
    pub async fn call(&self, tool: &str, args: Value) -> Result<Value, StepError> {
        let r = self.client.call(tool, args).await.map_err(|e| classify_client(self.name, tool, &e))?;
        result(self.name, tool, r)
    }

    /// The tools the peer lists.
    pub async fn tool_names(&self) -> Result<Vec<String>, StepError> {
        let tools = self.client.list_tools().await.map_err(|e| classify_client(self.name, "tools/list", &e))?;
        Ok(tools.into_iter().map(|t| t.name).collect())
    }
}

// Unreachable, broken connection, timeout, open breaker: the peer may be
// restarting, so the step is tried again later.
fn classify_client(peer: &str, tool: &str, e: &ClientError) -> StepError {
    StepError { retryable: e.is_transient(), message: format!("{peer} {tool}: {e}") }
}

fn result(peer: &str, tool: &str, r: CallResult) -> Result<Value, StepError> {
    if r.is_error {
        return Err(StepError { retryable: r.is_transient_error(), message: format!("{peer} {tool}: {}", r.text) });
    }
    Ok(r.into_value())
}

/// Every peer.
#[derive(Clone)]
pub struct Peers {
    /// fs.
    pub fs: Peer,
    /// git.
    pub git: Peer,
    /// shell (long calls: its timeout is the command timeout plus a margin).
    pub shell: Peer,
    /// email.
    pub email: Option<Peer>,
    /// sql.
    pub sql: Option<Peer>,
    /// log.
    pub log: Option<Peer>,
    /// llm-agent (LLM steps run long).
    pub agent: Option<Peer>,
}

impl Peers {
    /// Clients for the configured peers with the fleet's peer token.
    pub fn new(c: &Config, token: Option<String>) -> Result<Self, String> {
        let short = Duration::from_secs(60);
        let long = c.command_timeout + Duration::from_secs(30);
        let opt =
            |name, url: &Option<String>, t| url.as_deref().map(|u| Peer::new(name, u, token.clone(), t)).transpose();
        Ok(Self {
            fs: Peer::new("fs", &c.peers.fs, token.clone(), short)?,
            git: Peer::new("git", &c.peers.git, token.clone(), short)?,
            shell: Peer::new("shell", &c.peers.shell, token.clone(), long)?,
            email: opt("email", &c.peers.email, short)?,
            sql: opt("sql", &c.peers.sql, short)?,
            log: opt("log", &c.peers.log, short)?,
            agent: opt("llm-agent", &c.peers.agent, Duration::from_secs(1800))?,
        })
    }
}
