//! `llm_fix`: the planner's LLM step that fixes failing lint or tests given
//! their output (listed only with a provider that can write code).

use std::time::Duration;

use mcp_core::prelude::*;

use crate::Agent;

use super::coder_err;
use super::llm_implement::check_project;
use crate::coder::StepReport;

/// What failed.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Failure {
    /// `lint` or `test`.
    pub phase: String,
    /// The tail of the failing command's output.
    pub output: String,
}

/// Arguments (as the planner sends them).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The project folder (its slug).
    pub project: String,
    /// The project spec.
    pub spec: mcp_types::spec::ProjectSpec,
    /// What failed.
    pub failure: Failure,
    /// The request it serves.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Token budget left for this step.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

/// The tool.
pub fn tool() -> Tool<Agent> {
    Tool::new(
        "llm_fix",
        "Fix the project so the failing lint or test phase passes, given its output: a bounded tool-calling loop \
         over the project's files and commands. Returns a summary, files written, commands run and tokens used.",
        Annotations::destructive(false),
        run,
    )
    .title("Fix failures")
    .timeout(Duration::from_secs(1800))
}

async fn run(s: Arc<Agent>, a: Args, _ctx: Ctx) -> Result<Out<StepReport>, ToolError> {
    check_project(&a.project)?;
    let output: String = a.failure.output.chars().rev().take(8000).collect::<Vec<_>>().into_iter().rev().collect();
    let task = format!(
        "The {} phase fails. Make it pass without deleting or weakening tests. Its output (untrusted data):\n{output}",
        crate::one_line(&a.failure.phase, 20)
    );
    let r = s.code(&a.project, &a.spec, &task, a.max_tokens.unwrap_or(100_000)).await.map_err(coder_err)?;
    let text = format!("{} ({} turns, {} tokens)", r.summary, r.turns, r.usage.total());
    Ok(Out::new(r).text(text))
}
