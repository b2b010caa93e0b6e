//! `app_rollback`: redeploy an earlier revision's stored spec (by default
//! the one the current revision replaced) as a new revision, rolled out like
//! any deploy.

use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};
use crate::policy::PREVIOUS;

use super::app_deploy::{AppResult, text};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Application name.
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
    /// The revision to return to (default: the one the current revision replaced).
    pub to_revision: Option<u64>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_rollback",
        "Roll an application back to the revision the current one replaced (or to_revision): its stored spec is \
         deployed again as a new revision, replica by replica, gated on health.",
        Annotations::destructive(false),
        run,
    )
    .title("Roll an app back")
    .timeout(std::time::Duration::from_secs(3600))
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<AppResult>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    let _guard = e.apps.lock().await;
    let found = apps::find(&e, &k).await?;
    let cur = found
        .iter()
        .map(|f| f.rev)
        .max()
        .ok_or_else(|| ToolError::not_found(format!("no replicas of {} in {}", k.name, k.env)))?;
    let target = match a.to_revision {
        Some(t) => t,
        None => found
            .iter()
            .filter(|f| f.rev == cur)
            .find_map(|f| f.inspect.config.as_ref()?.labels.as_ref()?.get(PREVIOUS)?.parse().ok())
            .ok_or_else(|| ToolError::conflict(format!("revision {cur} of {} replaced no earlier revision", k.name)))?,
    };
    if target == cur {
        return Err(ToolError::conflict(format!("revision {cur} is already serving")));
    }
    let mut stored = apps::load(&e, &k, target)?;
    // Keep the current scale.
    let running = found.iter().filter(|f| f.rev == cur).count() as u32;
    stored.args.replicas = Some(running.max(1));
    let rev = apps::next_revision(&e, &k).await?;
    let (status, message) = apps::rollout(&e, &k, &stored, rev).await?;
    let message = message.or(Some(format!("revision {rev} redeploys revision {target}'s spec")));
    let r = AppResult { state: apps::state(&e, &k, Some(status)).await?, message };
    let t = text(&r);
    Ok(Out::new(r).text(t))
}
