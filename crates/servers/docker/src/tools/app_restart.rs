//! `app_restart`: restart an application's replicas one at a time, each
//! waiting to be healthy again before the next.

use bollard::query_parameters::RestartContainerOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};
use crate::engine::api;

use super::app_deploy::{AppResult, text};
use super::app_status::AppArg;

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_restart",
        "Restart an application's running replicas one at a time, each waiting to be healthy before the next.",
        Annotations::destructive(true),
        run,
    )
    .title("Restart an app")
    .timeout(std::time::Duration::from_secs(900))
}

async fn run(e: Arc<Engine>, a: AppArg, _ctx: Ctx) -> Result<Out<AppResult>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    let _guard = e.apps.lock().await;
    let found = apps::find(&e, &k).await?;
    let rev =
        found.iter().map(|f| f.rev).max().ok_or_else(|| ToolError::not_found(format!("no replicas of {}", k.name)))?;
    let mut message = None;
    for f in found.iter().filter(|f| f.rev == rev) {
        e.docker
            .restart_container(&f.id, Some(RestartContainerOptions { t: Some(5), signal: None }))
            .await
            .map_err(api)?;
        if let Err(why) = apps::wait_healthy(&e, &f.id, std::time::Duration::from_secs(60)).await {
            message = Some(why);
            break;
        }
    }
    let r = AppResult { state: apps::state(&e, &k, None).await?, message };
    let t = text(&r);
    Ok(Out::new(r).text(t))
}
