//! `app_list`: the applications this server deployed.

use mcp_core::prelude::*;

use crate::Engine;
use crate::apps::{self, Key};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this environment.
    pub environment: Option<String>,
}

/// An app.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Name.
    pub name: String,
    /// Environment.
    pub environment: String,
    /// Current revision.
    pub revision: u64,
    /// Its image.
    pub image: String,
    /// Status.
    pub status: String,
    /// Replicas of the current revision.
    pub replicas: usize,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Apps, by name.
    pub apps: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_list",
        "List the applications this server deployed with revision, image and status.",
        Annotations::read_only(),
        run,
    )
    .title("List apps")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut keys: Vec<(String, String)> = apps::all(&e).await?.into_keys().collect();
    keys.sort();
    let mut out = Vec::new();
    for (name, env) in keys {
        if a.environment.as_ref().is_some_and(|x| *x != env) {
            continue;
        }
        let Ok(k) = Key::new(&name, Some(&env)) else { continue };
        let s = apps::state(&e, &k, None).await?;
        out.push(Item {
            name,
            environment: env,
            revision: s.revision,
            image: s.image,
            status: s.status,
            replicas: s.replicas.len(),
        });
    }
    let text = out
        .iter()
        .map(|i| format!("{} ({}) r{} {} {} x{}", i.name, i.environment, i.revision, i.image, i.status, i.replicas))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { apps: out }).text(if text.is_empty() { "no apps".into() } else { text }))
}
