//! `package_versions`: a package's versions in the ecosystem's order.

use mcp_core::prelude::*;
use mcp_types::registry::Ecosystem;

use crate::Registry;
use crate::eco::{self, VersionInfo};
use crate::fetch::Freshness;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `pypi`, `crates` or `npm`.
    pub ecosystem: Ecosystem,
    /// The package name (`requests`, `serde`, `@types/node`).
    pub name: String,
    /// Include pre-releases (alpha, beta, rc, dev); default false.
    #[serde(default)]
    pub prereleases: bool,
    /// Include yanked versions (flagged); default true.
    pub include_yanked: Option<bool>,
    /// How many of the newest versions to return (1-500, default 50).
    pub limit: Option<u32>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as the registry knows it.
    pub name: String,
    /// Versions, newest first (PEP 440 or semver order, not text order).
    pub versions: Vec<VersionInfo>,
    /// Versions matching the filters, before `limit`.
    pub total: usize,
    /// The newest non-yanked, non-pre-release version.
    pub latest: Option<String>,
    /// Versions the registry listed that do not parse as versions of this ecosystem (left out).
    pub unparsable: usize,
    /// How old the answer is.
    pub freshness: Freshness,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "package_versions",
        "List a package's versions newest first, sorted the ecosystem's way (PEP 440 for pypi, semver for crates and \
         npm), with yanked versions flagged and publication times. Pre-releases only when asked.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Package versions")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = a.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ToolError::invalid("limit must be between 1 and 500"));
    }
    let pkg = eco::releases(&r, a.ecosystem, &a.name).await?;
    let yanked = a.include_yanked.unwrap_or(true);
    let all: Vec<VersionInfo> = pkg
        .releases
        .iter()
        .rev()
        .filter(|x| (a.prereleases || !x.ver.is_pre()) && (yanked || !x.yanked))
        .map(|x| x.info())
        .collect();
    let total = all.len();
    Ok(Out::new(Output {
        ecosystem: a.ecosystem,
        name: pkg.name.given.clone(),
        versions: all.into_iter().take(limit as usize).collect(),
        total,
        latest: pkg.latest_stable().map(|l| l.version.clone()),
        unparsable: pkg.unparsable,
        freshness: pkg.freshness.clone(),
    }))
}
