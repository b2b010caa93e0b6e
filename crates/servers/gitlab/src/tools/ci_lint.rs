//! `ci_lint`: validate a `.gitlab-ci.yml` text with the GitLab instance's own
//! linter (`POST /projects/:id/ci/lint`).

use mcp_core::prelude::*;
use reqwest::Method;

use crate::Gitlab;
use crate::api::types::Lint;

/// Largest configuration sent.
const MAX_CONTENT: usize = 1 << 20;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project whose context (includes, variables) the lint uses: a numeric id or `group/name`.
    pub project: String,
    /// The whole `.gitlab-ci.yml` text.
    pub content: String,
    /// Also simulate creating a pipeline (rules, needs, includes resolved against a ref); default false.
    pub dry_run: Option<bool>,
    /// With dry_run, the branch or tag to simulate (default: the project's default branch).
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Return the configuration with includes and `extends` resolved (default false).
    pub include_merged_yaml: Option<bool>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The configuration is valid.
    pub valid: bool,
    /// Errors, as GitLab words them.
    pub errors: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The merged configuration, when asked for.
    pub merged_yaml: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_lint",
        "Validate a .gitlab-ci.yml text with the GitLab instance's own linter, in a project's context (includes, \
         optionally a dry-run pipeline simulation on a ref). Changes nothing. For an offline check use ci_validate.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Lint CI configuration on GitLab")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.content.trim().is_empty() {
        return Err(ToolError::invalid("content is empty: pass the whole .gitlab-ci.yml text"));
    }
    if a.content.len() > MAX_CONTENT {
        return Err(ToolError::invalid("content is larger than 1 MiB"));
    }
    let p = g.project(&a.project).await?;
    let mut body = json!({"content": a.content, "dry_run": a.dry_run.unwrap_or(false)});
    if let Some(r) = a.git_ref {
        body["ref"] = json!(r);
    }
    let lint: Lint = g.api()?.call(Method::POST, &p.path("/ci/lint"), Some(&body), "CI lint").await?;
    Ok(Out::new(Output {
        valid: lint.valid,
        errors: lint.errors,
        warnings: lint.warnings,
        merged_yaml: if a.include_merged_yaml == Some(true) { lint.merged_yaml } else { None },
    }))
}
