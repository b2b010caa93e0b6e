//! `compose_down`: stop and remove a compose project this server started.

use mcp_core::prelude::*;

use crate::Engine;
use crate::compose;

use super::compose_up::Output;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The compose file the project was started from.
    pub file: String,
    /// Project name as given to compose_up.
    pub name: String,
    /// Also remove the project's named volumes (their data is lost).
    #[serde(default)]
    pub remove_volumes: bool,
    /// Seconds to wait for the CLI (default 300).
    pub timeout_secs: Option<u64>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "compose_down",
        "Stop and remove a compose project this server started (its containers and networks; volumes too with \
         remove_volumes).",
        Annotations::destructive(true),
        run,
    )
    .title("Compose down")
    .timeout(std::time::Duration::from_secs(3600))
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = compose::project(&e, &a.name)?;
    let c = compose::require_valid(&e, &a.file)?;
    let over = compose::write_override(&e, &project, &c.doc)?;
    let mut args = vec!["down".to_owned(), "--remove-orphans".into()];
    if a.remove_volumes {
        args.push("--volumes".into());
    }
    let limit = e.time_limit(Some(a.timeout_secs.unwrap_or(300)));
    let r = compose::run(&e, &project, &[&c.path, &over], &args, limit, &compose::masker(&c.doc)).await?;
    let cli = e.compose.as_ref().map(|c| c.version.to_owned()).unwrap_or_default();
    if r.code != Some(0) {
        return Err(ToolError::failed(format!("compose down failed ({:?}): {}", r.code, r.output)));
    }
    Ok(Out::new(Output { project, exit_code: r.code, output: r.output, cli }))
}
