//! `mcp-server-fs`: files under configured roots, over MCP.
//!
//! The server is its tools (one per file under `tools/`) plus its
//! configuration. Every path goes through [`sandbox::Sandbox`]; nothing else
//! opens files. Writing tools exist only when `FS_WRITE` is on, and `delete`
//! only when `FS_DELETE` is on too: a tool switched off is neither listed nor
//! callable.

pub mod config;
pub mod resources;
pub mod sandbox;
pub mod tools;
pub mod walk;

use std::sync::{Arc, Mutex};

use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;

/// The program name (binary, compose service, default `Host`).
pub const NAME: &str = "mcp-server-fs";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Fs {
    /// The roots.
    pub sandbox: sandbox::Sandbox,
    /// Settings.
    pub config: Config,
    /// Snapshots behind `changes` tokens.
    pub changes: Mutex<tools::changes::Store>,
}

/// Build the server. The registry below is the whole list of tools.
pub fn server(config: Config) -> Result<Server, StartError> {
    let sandbox =
        sandbox::Sandbox::new(&config.roots).map_err(|e| StartError::config(format!("{}: {e}", config::FS_ROOTS)))?;
    let (write, delete) = (config.write, config.delete);
    let roots: Vec<String> = sandbox.roots().iter().map(|r| r.path.display().to_string()).collect();
    let fs = Fs { sandbox, config, changes: Mutex::new(tools::changes::Store::default()) };
    let fs = Arc::new(fs);
    let builder = Server::builder(NAME, VERSION, fs.clone()).instructions(format!(
        "Files under {}. Relative paths start at the first root. {}",
        roots.join(", "),
        if write { "Writing is enabled." } else { "Read-only: no tool here changes files." }
    ));
    let builder = builder.resources(resources::FileResources::new(fs));
    let builder = builder.ready_check("roots", |state: Arc<Fs>| async move {
        for r in state.sandbox.roots() {
            std::fs::read_dir(&r.path).map_err(|e| format!("{}: {e}", r.path.display()))?;
        }
        Ok(format!("{} root(s) readable", state.sandbox.roots().len()))
    });
    Ok(builder
        .tool(tools::changes::tool())
        .tool_if(write, tools::create_directory::tool())
        .tool_if(write && delete, tools::delete::tool())
        .tool_if(write, tools::edit_file::tool())
        .tool(tools::find::tool())
        .tool(tools::grep::tool())
        .tool(tools::list_directory::tool())
        .tool(tools::list_roots::tool())
        .tool_if(write, tools::move_path::tool())
        .tool(tools::read_file::tool())
        .tool(tools::read_many::tool())
        .tool(tools::stat::tool())
        .tool(tools::tree::tool())
        .tool_if(write, tools::write_file::tool())
        .build())
}

/// Blocking filesystem work runs off the async threads through mcp-core's one helper.
pub use mcp_core::tool::blocking;

pub use mcp_core::clock::rfc3339;

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// with no routes or background work of its own.
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config)?.into())
}
