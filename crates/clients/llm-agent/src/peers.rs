//! The programs the agent calls, and what their answers mean: a value, a
//! transient failure (unreachable, timed out, "unavailable": try again
//! later, the message stays unprocessed), or a definite one.

use std::time::Duration;

use mcp_core::{ClientOptions, McpClient};
use serde_json::Value;

use crate::config::Config;

/// A failed call.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct PeerError {
    /// Worth trying again later.
    pub transient: bool,
    /// What happened.
    pub message: String,
}

/// One peer.
#[derive(Clone)]
pub struct Peer {
    name: &'static str,
    client: McpClient,
}

impl Peer {
    fn new(name: &'static str, url: &str, token: Option<String>, timeout: Duration) -> Result<Self, String> {
        let client = McpClient::new(ClientOptions::new(url).token(token).name(crate::NAME).call_timeout(timeout))
            .map_err(|e| format!("{name} at {url}: {e}"))?;
        Ok(Self { name, client })
    }

    /// Call a tool: its `structuredContent` (or `{"text": ...}`).
    pub async fn call(&self, tool: &str, args: Value) -> Result<Value, PeerError> {
        let r = self
            .client
            .call(tool, args)
            .await
            .map_err(|e| PeerError { transient: e.is_transient(), message: format!("{} {tool}: {e}", self.name) })?;
        if r.is_error {
            return Err(PeerError {
                transient: r.is_transient_error(),
                message: format!("{} {tool}: {}", self.name, r.text),
            });
        }
        Ok(r.into_value())
    }
}

/// Every configured peer.
#[derive(Clone, Default)]
pub struct Peers {
    /// email.
    pub email: Option<Peer>,
    /// sql.
    pub sql: Option<Peer>,
    /// fs.
    pub fs: Option<Peer>,
    /// shell (long calls).
    pub shell: Option<Peer>,
    /// planner.
    pub planner: Option<Peer>,
}

impl Peers {
    /// Clients with the fleet's peer token.
    pub fn new(c: &Config, token: Option<String>) -> Result<Self, String> {
        let make =
            |name, url: &Option<String>, t| url.as_deref().map(|u| Peer::new(name, u, token.clone(), t)).transpose();
        let short = Duration::from_secs(60);
        Ok(Self {
            email: make("email", &c.peers.email, short)?,
            sql: make("sql", &c.peers.sql, short)?,
            fs: make("fs", &c.peers.fs, short)?,
            shell: make("shell", &c.peers.shell, Duration::from_secs(660))?,
            planner: make("planner", &c.peers.planner, short)?,
        })
    }
}
