//! `llm_implement`: the planner's LLM step that implements the spec's
//! features in a scaffolded project (listed only with a provider that can
//! write code).

use std::time::Duration;

use mcp_core::prelude::*;

use mcp_types::spec::{ProjectSpec, valid_slug};

use crate::Agent;

use super::coder_err;
use crate::coder::StepReport;

/// Arguments (as the planner sends them).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The project folder (its slug) under the projects root.
    pub project: String,
    /// The project spec.
    pub spec: ProjectSpec,
    /// The request it serves.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Token budget left for this step.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// Check a project folder with the fleet's one slug rule (`mcp-types`).
pub fn check_project(p: &str) -> Result<(), ToolError> {
    if valid_slug(p) {
        Ok(())
    } else {
        Err(ToolError::invalid(format!(
            "project {p:?} must be a slug: 1-40 characters of a-z, 0-9 and single '-', starting with a letter"
        )))
    }
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "llm_implement",
        "Implement the spec's features in the project with the configured model: a bounded tool-calling loop that \
         reads and writes the project's files (fs) and runs its tests (shell, under its policy). Returns a summary, \
         the files written, the commands run and the tokens used.",
        Annotations::destructive(false),
        run,
    )
    .title("Implement features")
    .timeout(Duration::from_secs(1800))
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<StepReport>, ToolError> {
    check_project(&a.project)?;
    let task = "Implement every feature of the specification in this project, with tests for each, keeping the \
                existing tests passing and the code lint-clean.";
    let r = s.code(&a.project, &a.spec, task, a.max_tokens.unwrap_or(100_000)).await.map_err(coder_err)?;
    let text = format!("{} ({} turns, {} tokens)", r.summary, r.turns, r.usage.total());
    Ok(Out::new(r).text(text))
}
