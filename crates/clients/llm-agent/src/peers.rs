//! The programs the agent calls, and what their answers mean: a value, a
//! transient failure (unreachable, timed out, "unavailable": try again
//! later, the message stays unprocessed), or a definite one.

use std::time::Duration;

use crate::config::Config;

pub use mcp_core::client::{Peer, PeerError};

fn peer(name: &str, url: &str, token: Option<String>, timeout: Duration) -> Result<Peer, String> {
    Peer::new(name, url, token, crate::NAME, timeout).map_err(|e| format!("{name} at {url}: {e}"))
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
        let make = |name, url: &Option<String>, t| url.as_deref().map(|u| peer(name, u, token.clone(), t)).transpose();
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
