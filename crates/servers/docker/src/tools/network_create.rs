//! `network_create`: a labelled bridge network, named `<instance>-<name>`.

use mcp_core::prelude::*;

use crate::Engine;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Name (`[a-z0-9-]`); the server's prefix `<instance>-` is added.
    pub name: String,
    /// No outside access (containers on it reach only each other).
    #[serde(default)]
    pub internal: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The network's full name (what container_run's `network` takes).
    pub name: String,
}

/// Check an object name.
pub fn check_name(n: &str) -> Result<(), ToolError> {
    let ok = !n.is_empty()
        && n.len() <= 60
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(ToolError::invalid(format!("name {n:?}: use [a-z0-9_-]{{1,60}}"))) }
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "network_create",
        "Create a bridge network (labelled as this server's, name prefixed) that containers and apps may join.",
        Annotations::additive(true),
        run,
    )
    .title("Create a network")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    check_name(&a.name)?;
    let name = e.policy.prefixed(&a.name);
    e.ensure_network(&name, a.internal).await?;
    Ok(Out::new(Output { name }))
}
