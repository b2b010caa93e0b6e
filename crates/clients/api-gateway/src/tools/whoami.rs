//! `gateway__whoami`: who the gateway thinks the caller is, and how many
//! tools that makes visible.

use mcp_core::prelude::*;

use crate::Gateway;

/// Arguments (none).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// The caller.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Who: the key's name, `jwt:<sub>`, or `fleet` for the fleet token.
    pub subject: String,
    /// `viewer` (read-only tools), `operator` (also non-destructive ones) or `admin` (everything).
    pub role: String,
    /// The API key's public id, when the caller used one.
    pub key_id: Option<String>,
    /// Tools this caller sees in tools/list (the gateway's own included).
    pub tools_visible: usize,
}

/// The tool.
pub fn tool() -> Tool<Gateway> {
    Tool::new(
        "gateway__whoami",
        "Who this gateway takes you for: your subject, your role (viewer: read-only tools; operator: also tools \
         that change but do not destroy; admin: everything), your API key's id, and how many tools you can see. \
         A tool you expected and do not see is hidden by your role or your key's allow/deny lists.",
        Annotations::read_only(),
        run,
    )
    .title("Who am I")
}

async fn run(gw: Arc<Gateway>, _a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let caller = ctx.caller().cloned().ok_or_else(|| ToolError::denied("no authenticated caller"))?;
    let out = Output {
        subject: caller.subject.clone(),
        role: caller.role.as_str().to_owned(),
        key_id: caller.key_id.clone(),
        tools_visible: gw.visible_count(&caller),
    };
    let text = format!(
        "{} ({}{}), {} tools visible",
        out.subject,
        out.role,
        out.key_id.as_deref().map(|k| format!(", key {k}")).unwrap_or_default(),
        out.tools_visible
    );
    Ok(Out::new(out).text(text))
}
