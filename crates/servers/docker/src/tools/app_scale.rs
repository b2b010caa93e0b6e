//! `app_scale`: set an application's replica count (0 stops every replica;
//! they are kept for a later scale-up).

use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};

use super::app_deploy::{AppResult, text};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Application name.
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
    /// Replicas, 0..=20 (0 stops the app).
    pub replicas: u32,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_scale",
        "Scale an application's current revision to N replicas (0..=20; 0 stops them all). New replicas must become \
         healthy.",
        Annotations::destructive(true),
        run,
    )
    .title("Scale an app")
    .timeout(std::time::Duration::from_secs(900))
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<AppResult>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    if a.replicas > apps::MAX_REPLICAS {
        return Err(ToolError::invalid(format!("replicas {}: at most {}", a.replicas, apps::MAX_REPLICAS)));
    }
    let _guard = e.apps.lock().await;
    apps::scale(&e, &k, a.replicas).await?;
    let r = AppResult { state: apps::state(&e, &k, None).await?, message: None };
    let t = text(&r);
    Ok(Out::new(r).text(t))
}
