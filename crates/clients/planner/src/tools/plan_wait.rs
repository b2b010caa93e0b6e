//! `plan_wait`: wait for a run to finish, with progress notifications as its
//! steps complete; returns its status when it ends or the wait times out.

use std::time::Duration;

use mcp_core::prelude::*;

use crate::Planner;

use super::{RunView, load, render};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run id.
    pub run_id: String,
    /// Longest wait, seconds (default 50, at most 55, inside the call timeout).
    pub timeout_secs: Option<u64>,
}

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "plan_wait",
        "Wait until a run finishes (or timeout_secs pass), sending a progress notification as each step completes; \
         returns the run's status. Call again to keep waiting.",
        Annotations::read_only(),
        run,
    )
    .title("Wait for a run")
}

async fn run(s: Arc<Planner>, a: Args, ctx: Ctx) -> Result<Out<RunView>, ToolError> {
    let secs = a.timeout_secs.unwrap_or(50);
    if !(1..=55).contains(&secs) {
        return Err(ToolError::invalid("timeout_secs must be 1..=55"));
    }
    // Subscribe before looking, so no event falls between.
    let mut events = s.subscribe();
    let mut v = load(&s, Some(&a.run_id), None).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs).min(ctx.remaining());
    let total = v.steps.len() as f64;
    let done = |v: &RunView| v.steps.iter().filter(|s| s.state.is_settled()).count() as f64;
    ctx.progress(done(&v), Some(total), Some(format!("run {}", v.run.state))).await;
    while !v.run.state.is_final() {
        tokio::select! {
            e = events.recv() => match e {
                Ok(e) if e.run_id == a.run_id => {
                    ctx.progress(e.done as f64, Some(e.total as f64), Some(e.message)).await;
                    if e.finished {
                        v = load(&s, Some(&a.run_id), None).await?;
                    }
                }
                Ok(_) => {}
                // Missed events: read the state instead.
                Err(_) => v = load(&s, Some(&a.run_id), None).await?,
            },
            () = tokio::time::sleep_until(deadline) => break,
            () = tokio::time::sleep(Duration::from_secs(2)) => v = load(&s, Some(&a.run_id), None).await?,
        }
    }
    let v = load(&s, Some(&a.run_id), None).await?;
    let text = render(&v);
    Ok(Out::new(v).text(text))
}
