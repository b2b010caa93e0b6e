//! `compose_logs`: the end of a compose project's logs, through the CLI,
//! masked and capped.

use mcp_core::prelude::*;

use crate::Engine;
use crate::compose;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The compose file the project was started from.
    pub file: String,
    /// Project name as given to compose_up.
    pub name: String,
    /// Only these services.
    #[serde(default)]
    pub services: Vec<String>,
    /// Lines per container from the end (default 200, at most 5000).
    pub tail: Option<u32>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project.
    pub project: String,
    /// Log lines, prefixed by container (masked, capped).
    pub logs: String,
    /// Cut to the cap.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "compose_logs",
        "Read the end of a compose project's logs (per container, prefixed), secrets masked, capped.",
        Annotations::read_only(),
        run,
    )
    .title("Compose logs")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = super::limit(a.tail, 200, 5000)?;
    let project = compose::project(&e, &a.name)?;
    let c = compose::require_valid(&e, &a.file)?;
    let svc = super::compose_up::services(&c.doc, &a.services)?;
    let over = compose::write_override(&e, &project, &c.doc)?;
    let mut args = vec!["logs".to_owned(), "--no-color".into(), "--tail".into(), n.to_string()];
    args.extend(svc);
    let r = compose::run(
        &e,
        &project,
        &[&c.path, &over],
        &args,
        std::time::Duration::from_secs(60),
        &compose::masker(&c.doc),
    )
    .await?;
    if r.code != Some(0) {
        return Err(ToolError::failed(format!("compose logs failed ({:?}): {}", r.code, r.output)));
    }
    Ok(Out::new(Output { project, logs: r.output.clone(), truncated: r.truncated }).text(r.output))
}
