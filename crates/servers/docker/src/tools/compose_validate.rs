//! `compose_validate`: a compose file against the Compose Specification's
//! schema and this server's policy (privileged, capabilities, host
//! namespaces, devices, the Docker socket, binds outside the roots, ports on
//! other addresses, images outside the allow-list).

use mcp_core::prelude::*;

use crate::Engine;
use crate::compose::{Finding, check};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The compose file: a path under the server's bind roots (relative to the first).
    pub file: Option<String>,
    /// Or the file's text (relative paths are judged against the first bind root).
    pub text: Option<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// No findings: compose_up would accept it.
    pub valid: bool,
    /// Schema and policy findings.
    pub findings: Vec<Finding>,
    /// Services in the file.
    pub services: Vec<String>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "compose_validate",
        "Check a compose file (path under the bind roots, or text) against the Compose Specification schema and the \
         server's policy; compose_up runs only files without findings.",
        Annotations::read_only(),
        run,
    )
    .title("Validate a compose file")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let c = check(&e, a.file.as_deref(), a.text.as_deref())?;
    let services =
        c.doc.get("services").and_then(Value::as_object).map(|m| m.keys().cloned().collect()).unwrap_or_default();
    let text = if c.findings.is_empty() {
        "valid".to_owned()
    } else {
        c.findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}{}: {}",
                    f.source,
                    f.rule,
                    f.service.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
                    f.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { valid: c.findings.is_empty(), findings: c.findings, services }).text(text))
}
