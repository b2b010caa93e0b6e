//! `pipeline_create`: start a pipeline on a branch or tag (modify mode only).

use mcp_core::prelude::*;
use reqwest::Method;

use crate::Gitlab;
use crate::api::types::Pipeline;

/// Most variables one call may pass.
const MAX_VARIABLES: usize = 50;

/// One pipeline variable.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// Name (`[A-Za-z0-9_]`, at most 255 characters).
    pub key: String,
    /// Value.
    pub value: String,
    /// `env_var` (default) or `file`.
    pub variable_type: Option<String>,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The branch or tag to run.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// Variables for this pipeline (at most 50).
    #[serde(default)]
    pub variables: Vec<Variable>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The new pipeline.
    pub pipeline: Pipeline,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "pipeline_create",
        "Start a new pipeline on a branch or tag, with optional variables. Follow it with pipeline_wait or \
         pipeline_get.",
        Annotations::additive(false).open_world(),
        run,
    )
    .title("Create a pipeline")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.git_ref.trim().is_empty() {
        return Err(ToolError::invalid("ref is empty: name a branch or tag"));
    }
    if a.variables.len() > MAX_VARIABLES {
        return Err(ToolError::invalid(format!("at most {MAX_VARIABLES} variables")));
    }
    let mut vars = Vec::new();
    for v in &a.variables {
        if v.key.is_empty() || v.key.len() > 255 || !v.key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(ToolError::invalid(format!(
                "variable key {:?} must be [A-Za-z0-9_], 1 to 255 characters",
                v.key
            )));
        }
        let t = v.variable_type.as_deref().unwrap_or("env_var");
        if t != "env_var" && t != "file" {
            return Err(ToolError::invalid(format!("variable_type {t:?}: use env_var or file")));
        }
        vars.push(json!({"key": v.key, "value": v.value, "variable_type": t}));
    }
    let p = g.project(&a.project).await?;
    let body = json!({"ref": a.git_ref, "variables": vars});
    let pipeline = g.api()?.call(Method::POST, &p.path("/pipeline"), Some(&body), "a new pipeline").await?;
    Ok(Out::new(Output { pipeline }))
}
