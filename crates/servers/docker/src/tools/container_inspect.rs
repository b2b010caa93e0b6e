//! `container_inspect`: the engine's description of any container
//! (read-only), with secret-looking environment values masked.

use mcp_core::prelude::*;

use crate::Engine;
use crate::policy::Masker;

use super::ContainerArg;

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Created by this server.
    pub managed: bool,
    /// The engine's inspect document (`Config.Env` values of secret-looking names masked).
    pub container: Value,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_inspect",
        "Inspect a container: configuration, state, health log, mounts, networks, host configuration. Values of \
         secret-looking environment variables are masked.",
        Annotations::read_only(),
        run,
    )
    .title("Inspect a container")
}

async fn run(e: Arc<Engine>, a: ContainerArg, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut i = e.inspect(&a.container).await?;
    let managed = e.policy.owns(i.config.as_ref().and_then(|c| c.labels.as_ref()));
    let masker = Engine::masker(&i);
    if let Some(c) = i.config.as_mut() {
        if let Some(env) = c.env.as_mut() {
            *env = Masker::mask_env_lines(env);
        }
        if let Some(l) = c.labels.as_mut() {
            l.remove(crate::policy::SPEC);
        }
    }
    let v = serde_json::to_value(&i).map_err(ToolError::internal)?;
    // Secret values can also appear in a health probe's output or the args.
    let v: Value = serde_json::from_str(&masker.mask(&v.to_string())).map_err(ToolError::internal)?;
    Ok(Out::new(Output { managed, container: v }))
}
