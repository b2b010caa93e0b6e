//! `app_remove`: remove an application — every replica, its network and its
//! stored revisions; requires `confirm: true`.

use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Application name.
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
    /// Must be true.
    #[serde(default)]
    pub confirm: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Containers removed.
    pub removed: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_remove",
        "Remove an application: every replica, its network and its stored revisions. Needs confirm: true.",
        Annotations::destructive(true),
        run,
    )
    .title("Remove an app")
    .timeout(std::time::Duration::from_secs(300))
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    super::confirm(a.confirm, "app_remove")?;
    let _guard = e.apps.lock().await;
    let found = apps::find(&e, &k).await?;
    if found.is_empty() && apps::stored_revisions(&e, &k).is_empty() {
        return Err(ToolError::not_found(format!("no app {} in {}", k.name, k.env)));
    }
    let mut removed = Vec::new();
    for f in &found {
        e.remove_force(&f.id).await?;
        removed.push(crate::engine::name_of(&f.inspect));
    }
    let _ = e.docker.remove_network(&apps::network(&e, &k)).await;
    apps::forget(&e, &k);
    Ok(Out::new(Output { removed }))
}
