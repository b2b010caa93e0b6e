//! `start`: start a long-running process and return its id at once.

use std::collections::BTreeMap;

use mcp_core::prelude::*;

use super::{Command, Report, prepare, report};
use crate::Shell;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The program and its arguments (no shell).
    pub argv: Option<Vec<String>>,
    /// A command line instead of argv, only when the server allows command strings.
    pub command: Option<String>,
    /// Working directory inside the roots. Default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables (allow-listed names only).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Seconds the process may live before it and its children are killed (default and maximum from the server).
    pub max_secs: Option<f64>,
    /// Run on this configured remote host instead.
    pub host: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "start",
        "Start a long-running command (a dev server, a watcher, a slow build) and return its id immediately. Its \
         stdin stays open for write_stdin; read its output with read_output, wait for it with wait, stop it with signal.",
        Annotations::destructive(false).open_world(),
        run,
    )
    .title("Start a process")
}

async fn run(shell: Arc<Shell>, a: Args, _ctx: Ctx) -> Result<Out<Report>, ToolError> {
    let life = match a.max_secs {
        None => shell.config.process_max,
        Some(s) if s.is_finite() && s > 0.0 && s <= shell.config.process_max.as_secs_f64() => {
            std::time::Duration::from_secs_f64(s)
        }
        Some(s) => {
            return Err(ToolError::invalid(format!(
                "max_secs {s} is outside (0, {}]",
                shell.config.process_max.as_secs_f64()
            )));
        }
    };
    let cmd = Command {
        argv: a.argv.as_deref(),
        command: a.command.as_deref(),
        cwd: a.cwd.as_deref(),
        env: &a.env,
        host: a.host.as_deref(),
    };
    let spec = prepare(&shell, cmd, None, true, life)?;
    let job = shell.jobs.start(spec)?;
    // Give a command that fails at once the chance to say so in this answer.
    let _ = job.wait(std::time::Duration::from_millis(100)).await;
    let (r, text) = report(&job, shell.config.max_output);
    Ok(Out::new(r).text(text))
}
