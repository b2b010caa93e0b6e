//! `latest_release`: the newest release of a GitHub or GitLab project.

use mcp_core::prelude::*;

use crate::Registry;
use crate::names;
use crate::releases::{self, ReleaseInfo};

/// Where the project lives.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// GitHub (`owner/name`).
    Github,
    /// The configured GitLab instance (`group/name` or a numeric id).
    Gitlab,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `github` or `gitlab`.
    pub provider: Provider,
    /// `owner/name` (GitHub) or `group/name` / numeric id (GitLab).
    pub repo: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The provider.
    pub provider: Provider,
    /// The project.
    pub repo: String,
    /// The release.
    pub release: ReleaseInfo,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "latest_release",
        "Get the newest release of a GitHub repository (falling back to its highest version tag when it has no \
         releases) or of a project on the configured GitLab instance.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Latest release")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let release = match a.provider {
        Provider::Github => {
            let (o, n) = names::github_repo(&a.repo)?;
            releases::github(&r, &o, &n).await?
        }
        Provider::Gitlab => {
            let seg = names::gitlab_project(&a.repo)?;
            releases::gitlab(&r, &seg, a.repo.trim()).await?
        }
    };
    Ok(Out::new(Output { provider: a.provider, repo: a.repo.trim().to_owned(), release }))
}
