//! `compose_ps`: the containers of a compose project this server started,
//! read from the engine by the project's label (the same for v1 and v2).

use mcp_core::prelude::*;

use crate::Engine;
use crate::compose;
use crate::engine::summary_name;
use crate::policy::MANAGED_BY;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Project name as given to compose_up.
    pub name: String,
}

/// A service container.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Container name.
    pub name: String,
    /// Service.
    pub service: String,
    /// `running`, `exited`...
    pub state: String,
    /// The engine's status text.
    pub status: String,
    /// Image.
    pub image: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project.
    pub project: String,
    /// Its containers.
    pub containers: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "compose_ps",
        "List the containers of a compose project this server started, with service, state and status.",
        Annotations::read_only(),
        run,
    )
    .title("Compose ps")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = compose::project(&e, &a.name)?;
    let list =
        e.containers(false, &[("com.docker.compose.project", &project), (MANAGED_BY, &e.policy.instance)]).await?;
    let containers: Vec<Item> = list
        .into_iter()
        .map(|c| Item {
            name: summary_name(&c),
            service: c.labels.as_ref().and_then(|l| l.get("com.docker.compose.service").cloned()).unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            status: c.status.clone().unwrap_or_default(),
            image: c.image.clone().unwrap_or_default(),
        })
        .collect();
    let text = containers
        .iter()
        .map(|c| format!("{} {} {} {}", c.name, c.service, c.state, c.status))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { project, containers }).text(if text.is_empty() { "no containers".into() } else { text }))
}
