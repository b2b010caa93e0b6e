//! `compose_up`: start a compose project from a file under the bind roots
//! that passes `compose_validate`, as project `<instance>-<name>`, with the
//! policy override (labels, cap_drop, no-new-privileges, user, limits,
//! read-only root) added.

use mcp_core::prelude::*;

use crate::Engine;
use crate::compose;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The compose file, under the server's bind roots.
    pub file: String,
    /// Project name (`[a-z0-9_-]`); the server's prefix is added.
    pub name: String,
    /// Only these services (default all).
    #[serde(default)]
    pub services: Vec<String>,
    /// Seconds to wait for the CLI (default 300).
    pub timeout_secs: Option<u64>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project name used.
    pub project: String,
    /// The CLI's exit code (absent: killed at the time limit).
    pub exit_code: Option<i32>,
    /// The CLI's output (masked, capped).
    pub output: String,
    /// The compose CLI (`v1` or `v2`).
    pub cli: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "compose_up",
        "Start (create or update) a compose project from a file under the bind roots that passes compose_validate; \
         the project is named <instance>-<name> and every service gets the server's policy (labels, no capabilities, \
         no-new-privileges, non-root user, limits, read-only root) added.",
        Annotations::additive(true),
        run,
    )
    .title("Compose up")
    .timeout(std::time::Duration::from_secs(3600))
}

/// Check a service name list against a file.
pub fn services(doc: &Value, wanted: &[String]) -> Result<Vec<String>, ToolError> {
    for s in wanted {
        if doc.pointer(&format!("/services/{s}")).is_none() || s.starts_with('-') {
            return Err(ToolError::invalid(format!("no service {s:?} in the file")));
        }
    }
    Ok(wanted.to_vec())
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = compose::project(&e, &a.name)?;
    let c = compose::require_valid(&e, &a.file)?;
    let svc = services(&c.doc, &a.services)?;
    let over = compose::write_override(&e, &project, &c.doc)?;
    let mut args = vec!["up".to_owned(), "-d".into(), "--no-build".into(), "--remove-orphans".into()];
    args.extend(svc);
    let limit = e.time_limit(Some(a.timeout_secs.unwrap_or(300)));
    let r = compose::run(&e, &project, &[&c.path, &over], &args, limit, &compose::masker(&c.doc)).await?;
    let cli = e.compose.as_ref().map(|c| c.version.to_owned()).unwrap_or_default();
    if r.code != Some(0) {
        return Err(ToolError::failed(format!("compose up failed ({:?}): {}", r.code, r.output)));
    }
    Ok(Out::new(Output { project, exit_code: r.code, output: r.output, cli }))
}
