//! `mcp-server-git`: git repositories under configured roots, over MCP.
//!
//! Local work (status, diff, commit, branches, merge, ...) goes through
//! libgit2 (`git2`), which never runs hooks, filters or other programs named
//! in a repository's configuration. Network work (clone, fetch, pull, push)
//! runs the `git` command line under the server's control (see [`cli`]):
//! argument vectors only, a cleared environment, overrides that neutralise a
//! repository's own configuration, a deadline, and credentials that are never
//! echoed. Every repository path goes through [`sandbox::Roots`]; every name,
//! revision and URL through [`names`] and [`policy`]. `git_commit` and
//! `git_tag` take idempotency keys, recorded in the repository itself
//! ([`idempotency`]).

pub mod cli;
pub mod config;
pub mod idempotency;
pub mod names;
pub mod policy;
pub mod report;
pub mod sandbox;
pub mod tools;

use std::sync::Arc;

use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;

/// The program name (binary, compose service, default `Host`).
pub const NAME: &str = "mcp-server-git";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Git {
    /// The roots.
    pub roots: sandbox::Roots,
    /// Settings.
    pub config: Config,
    /// Remote and branch policy, redaction.
    pub policy: Arc<policy::Policy>,
    /// The git command line, prepared.
    pub cli: cli::Cli,
}

/// Build the server. The registry below is the whole list of tools.
pub fn server(config: Config) -> Result<Server, StartError> {
    let roots =
        sandbox::Roots::new(&config.roots).map_err(|e| StartError::config(format!("{}: {e}", config::GIT_ROOTS)))?;
    let policy = Arc::new(
        policy::Policy::new(&config)
            .map_err(|e| StartError::config(format!("{}: {e}", config::GIT_PROTECTED_BRANCHES)))?,
    );
    let cli = cli::Cli::new(&config, policy.clone()).map_err(StartError::other)?;
    let net = config.network_timeout;
    let instructions = format!(
        "Git repositories under {}. `repo` is a repository's top folder, absolute or relative to the first root. \
         Protected branches ({}) refuse force-push and deletion unless confirm: true. Remote schemes allowed: {}.",
        roots.paths().iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", "),
        policy.protected_patterns().join(", "),
        policy.schemes().join(", ")
    );
    let git = Git { roots, config, policy, cli };
    let builder = Server::builder(NAME, VERSION, Arc::new(git)).instructions(instructions);
    let builder = builder.ready_check("roots", |state: Arc<Git>| async move {
        for r in state.roots.paths() {
            std::fs::read_dir(r).map_err(|e| format!("{}: {e}", r.display()))?;
        }
        Ok(format!("{} root(s) readable", state.roots.paths().len()))
    });
    let builder = builder.ready_check("git", |state: Arc<Git>| async move { tools::version(&state).await });
    // Never silent: how the git command line is confined, or why it is refused.
    let builder = builder.ready_check("sandbox", |state: Arc<Git>| async move { state.cli.sandbox_status() });
    Ok(builder
        .tool(tools::add::tool())
        .tool(tools::blame::tool())
        .tool(tools::branch::tool())
        .tool(tools::checkout::tool())
        .tool(tools::clone::tool(net))
        .tool(tools::commit::tool())
        .tool(tools::diff::tool())
        .tool(tools::fetch::tool(net))
        .tool(tools::init::tool())
        .tool(tools::log::tool())
        .tool(tools::merge::tool())
        .tool(tools::pull::tool(net))
        .tool(tools::push::tool(net))
        .tool(tools::reflog::tool())
        .tool(tools::remote::tool())
        .tool(tools::reset::tool())
        .tool(tools::show::tool())
        .tool(tools::stash::tool())
        .tool(tools::status::tool())
        .tool(tools::tag::tool())
        .build())
}

/// Blocking libgit2 work runs off the async threads through mcp-core's one helper.
pub use mcp_core::tool::blocking;

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// with no routes or background work of its own.
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config)?.into())
}
