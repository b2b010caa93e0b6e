//! `app_status`: an application's revision, image, status and replicas.

use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};

use super::app_deploy::{AppResult, text};

/// An app named in an argument.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppArg {
    /// Application name.
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_status",
        "An application's current revision, image, status (healthy, degraded, unhealthy, stopped) and replicas with \
         their health and published addresses.",
        Annotations::read_only(),
        run,
    )
    .title("App status")
}

async fn run(e: Arc<Engine>, a: AppArg, _ctx: Ctx) -> Result<Out<AppResult>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    let r = AppResult { state: apps::state(&e, &k, None).await?, message: None };
    let t = text(&r);
    Ok(Out::new(r).text(t))
}
