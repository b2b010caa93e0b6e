//! `llm_implement`: the planner's LLM step that implements the spec's
//! features in a scaffolded project (listed only with a provider that can
//! write code).

use std::time::Duration;

use mcp_core::prelude::*;

use crate::Agent;

use super::coder_err;
use crate::coder::StepReport;

/// Arguments (as the planner sends them).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The project folder (its slug) under the projects root.
    pub project: String,
    /// The project spec.
    pub spec: Value,
    /// The request it serves.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Token budget left for this step.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// Check a project slug: `[a-z][a-z0-9-]*`, at most 40.
pub fn check_project(p: &str) -> Result<(), ToolError> {
    if (1..=40).contains(&p.len())
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(())
    } else {
        Err(ToolError::invalid(format!("project {p:?} must be a slug: a-z, 0-9 and '-', starting with a letter")))
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
