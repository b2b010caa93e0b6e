//! `run`: run a command to completion (or its timeout) and return its exit
//! status and output. Output of a long run streams as progress notifications
//! when the caller asks for progress.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_core::prelude::*;

use super::{Command, Report, audit_end, prepare, report};
use crate::Shell;
use crate::jobs::State;

/// Arguments. Give `argv` (preferred) or, when the server allows it, `command`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The program and its arguments, e.g. ["pytest", "-q"] or [".venv/bin/python", "-m", "pip", "install", "-e", "."]. Run without a shell: no globbing, variables or redirection.
    pub argv: Option<Vec<String>>,
    /// A command line instead of argv, only when the server allows command strings: words, quotes, `|`, `&&`, `||`, `;`.
    pub command: Option<String>,
    /// Working directory inside the roots (absolute, or relative to the first root). Default: the first root.
    pub cwd: Option<String>,
    /// Extra environment variables (only names on the server's allow-list; see `policy`).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Text to feed to the command's stdin.
    pub stdin: Option<String>,
    /// Seconds before the command and its children are killed (default from the server, usually 30).
    pub timeout_secs: Option<f64>,
    /// Run on this configured remote host instead (see `policy`).
    pub host: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "run",
        "Run a command (argv array, no shell) in a project directory and wait for it: exit code, stdout, stderr, \
         duration. Long output is cut to its start and end here and kept whole for read_output. Only programs \
         allowed by the server's policy run (see the policy tool). For commands that run long, use start.",
        Annotations::destructive(false).open_world(),
        run,
    )
    .title("Run a command")
    // The call may take up to the policy's longest timeout; the tool itself
    // enforces the command's timeout.
    .timeout(Duration::from_secs(24 * 3600))
}

async fn run(shell: Arc<Shell>, a: Args, ctx: Ctx) -> Result<Out<Report>, ToolError> {
    let timeout = shell.timeout(a.timeout_secs, shell.config.timeout)?;
    let cmd = Command {
        argv: a.argv.as_deref(),
        command: a.command.as_deref(),
        cwd: a.cwd.as_deref(),
        env: &a.env,
        host: a.host.as_deref(),
    };
    let spec = prepare(&shell, cmd, a.stdin.map(String::into_bytes), false, timeout)?;
    let job = shell.jobs.start(spec)?;
    let ticker = ctx.wants_progress().then(|| {
        let (job, ctx) = (job.clone(), ctx.clone());
        tokio::spawn(async move {
            loop {
                if job.wait(Duration::from_millis(250)).await != State::Running {
                    break;
                }
                let mut fresh = job.stdout.take_fresh();
                fresh.extend(job.stderr.take_fresh());
                if !fresh.is_empty() {
                    let tail = &fresh[fresh.len().saturating_sub(2048)..];
                    let total = (job.stdout.total() + job.stderr.total()) as f64;
                    ctx.progress(total, None, Some(String::from_utf8_lossy(tail).into_owned())).await;
                }
            }
        })
    });
    // Cancellation by the client kills the command too.
    let state = tokio::select! {
        s = job.wait(timeout + Duration::from_secs(5)) => s,
        _ = ctx.cancelled() => {
            job.kill_tree("cancelled by the client");
            job.state()
        }
    };
    if state == State::Running {
        job.kill_tree("did not stop after its time limit");
    }
    // Let the pumps drain what the command wrote last.
    let _ = job.wait(Duration::from_secs(1)).await;
    if let Some(t) = ticker {
        t.abort();
    }
    let (r, text) = report(&job, shell.config.max_output);
    audit_end(&r);
    Ok(Out::new(r).text(text))
}
