//! The programs the planner drives, as MCP clients, and what their answers
//! mean for a step: a value, a failure worth retrying (the peer could not be
//! reached, timed out, or said "unavailable"), or a failure that retrying
//! cannot fix (refused by policy, invalid, failed).

use std::time::Duration;

use mcp_core::ErrorKind;

use crate::config::Config;

/// Why a step did not give a value: its kind decides whether another
/// attempt may help, and a budget stop is recognised by it, never by text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StepError {
    /// Why, as data.
    pub kind: ErrorKind,
    /// What happened, for the run's record and the report.
    pub message: String,
}

impl StepError {
    /// A failure retrying cannot fix.
    pub fn fatal(m: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Failed, message: m.into() }
    }
    /// A transient failure (a dependency away).
    pub fn transient(m: impl Into<String>) -> Self {
        Self { kind: ErrorKind::Unavailable, message: m.into() }
    }
    /// An error of `kind`.
    pub fn of(kind: ErrorKind, m: impl Into<String>) -> Self {
        Self { kind, message: m.into() }
    }
    /// Worth another attempt.
    pub fn retryable(&self) -> bool {
        self.kind.is_transient()
    }
}

/// One peer: mcp-core's, whose errors carry their kind.
pub use mcp_core::client::Peer;

impl From<mcp_core::client::PeerError> for StepError {
    fn from(e: mcp_core::client::PeerError) -> Self {
        Self { kind: e.kind, message: e.message }
    }
}

fn peer(name: &str, url: &str, token: Option<String>, timeout: Duration) -> Result<Peer, String> {
    Peer::new(name, url, token, crate::NAME, timeout).map_err(|e| format!("{name} at {url}: {e}"))
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
    /// lint (long calls, like shell's).
    pub lint: Peer,
    /// test (long calls, like shell's).
    pub test: Peer,
    /// email.
    pub email: Option<Peer>,
    /// sql.
    pub sql: Option<Peer>,
    /// log.
    pub log: Option<Peer>,
    /// llm-agent (LLM steps run long).
    pub agent: Option<Peer>,
    /// docker: phase containers and deployments (long calls: a command, or an
    /// image build and its health check).
    pub docker: Option<Peer>,
    /// gitlab: local pipelines and delivery (long calls: every job of a pipeline; a GitLab pipeline is waited
    /// for in calls shorter than this).
    pub gitlab: Option<Peer>,
    /// registry: the project's dependencies checked and pinned.
    pub registry: Option<Peer>,
    /// spec: SPEC.md, README.md and CHANGELOG.md rendered.
    pub spec: Option<Peer>,
    /// browser: a deployed service opened and shot.
    pub browser: Option<Peer>,
}

impl Peers {
    /// Clients for the configured peers with the fleet's peer token.
    pub fn new(c: &Config, token: Option<String>) -> Result<Self, String> {
        let short = Duration::from_secs(60);
        let long = c.command_timeout + Duration::from_secs(30);
        let opt = |name, url: &Option<String>, t| url.as_deref().map(|u| peer(name, u, token.clone(), t)).transpose();
        Ok(Self {
            fs: peer("fs", &c.peers.fs, token.clone(), short)?,
            git: peer("git", &c.peers.git, token.clone(), short)?,
            shell: peer("shell", &c.peers.shell, token.clone(), long)?,
            lint: peer("lint", &c.peers.lint, token.clone(), long)?,
            test: peer("test", &c.peers.test, token.clone(), long)?,
            email: opt("email", &c.peers.email, short)?,
            sql: opt("sql", &c.peers.sql, short)?,
            log: opt("log", &c.peers.log, short)?,
            agent: opt("llm-agent", &c.peers.agent, Duration::from_secs(1800))?,
            docker: opt("docker", &c.runtime.docker, c.command_timeout + Duration::from_secs(180))?,
            gitlab: opt("gitlab", &c.runtime.gitlab, pipeline_timeout(c))?,
            registry: opt("registry", &c.runtime.registry, short)?,
            spec: opt("spec", &c.runtime.spec, short)?,
            // A page load and a screenshot, each bounded by the browser's own timeouts.
            browser: opt("browser", &c.runtime.browser, Duration::from_secs(120))?,
        })
    }
}

/// How long a local pipeline may take: its jobs one after another, each
/// installing and running one phase.
pub fn pipeline_timeout(c: &Config) -> Duration {
    c.command_timeout * 4 + Duration::from_secs(60)
}

/// How long the deliver step waits for a GitLab pipeline: `PLANNER_GITLAB_WAIT_SECS`, else as long as a
/// local pipeline may take.
pub fn gitlab_wait(c: &Config) -> Duration {
    c.runtime.gitlab_wait.unwrap_or_else(|| pipeline_timeout(c))
}
