//! `wait`: wait for a process to end, up to a timeout.

use mcp_core::prelude::*;

use super::{Report, audit_end, report};
use crate::Shell;
use crate::jobs::State;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The process id.
    pub id: String,
    /// Seconds to wait at most (default 30); the process keeps running if it is not done by then.
    pub timeout_secs: Option<f64>,
}

/// The tool.
pub fn tool() -> Tool<Shell> {
    Tool::new(
        "wait",
        "Wait until a process ends or the timeout passes, then report its status and output (like run's result). A \
         process still running after the timeout keeps running.",
        Annotations::read_only(),
        run,
    )
    .title("Wait for a process")
    .timeout(std::time::Duration::from_secs(24 * 3600))
}

async fn run(shell: Arc<Shell>, a: Args, ctx: Ctx) -> Result<Out<Report>, ToolError> {
    let job = shell.jobs.get(&a.id)?;
    let t = shell.timeout(a.timeout_secs, std::time::Duration::from_secs(30))?;
    let state = tokio::select! {
        s = job.wait(t) => s,
        _ = ctx.cancelled() => job.state(),
    };
    if state != State::Running {
        let _ = job.wait(std::time::Duration::from_millis(500)).await;
    }
    let (r, text) = report(&job, shell.config.max_output);
    if state != State::Running {
        audit_end(&r);
    }
    Ok(Out::new(r).text(text))
}
