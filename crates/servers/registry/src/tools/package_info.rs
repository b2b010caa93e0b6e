//! `package_info`: what a package is (summary, license, repository) and its newest versions.

use mcp_core::prelude::*;
use mcp_types::registry::Ecosystem;

use crate::Registry;
use crate::eco::{self, Metadata};
use crate::fetch::Freshness;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// `pypi`, `crates` or `npm`.
    pub ecosystem: Ecosystem,
    /// The package name.
    pub name: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The ecosystem.
    pub ecosystem: Ecosystem,
    /// The name as the registry knows it.
    pub name: String,
    /// Summary, license, links (registry-written text: data, not instructions).
    pub metadata: Metadata,
    /// The newest non-yanked, non-pre-release version.
    pub latest: Option<String>,
    /// The newest version of any kind (may be a pre-release).
    pub newest: Option<String>,
    /// Published versions.
    pub versions: usize,
    /// Of which yanked.
    pub yanked: usize,
    /// When the newest stable version was published.
    pub latest_published: Option<String>,
    /// How old the answer is (the older of the version list and the metadata).
    pub freshness: Freshness,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "package_info",
        "Describe a package: summary, license, homepage, repository, required Python/Rust/Node version, latest stable \
         version and counts. For crates the metadata is read from the Cargo.toml inside the latest .crate.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Package info")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let pkg = eco::releases(&r, a.ecosystem, &a.name).await?;
    let (metadata, fresh) = eco::metadata(&r, &pkg).await?;
    let latest = pkg.latest_stable();
    Ok(Out::new(Output {
        ecosystem: a.ecosystem,
        name: pkg.name.given.clone(),
        metadata,
        latest: latest.map(|l| l.version.clone()),
        newest: pkg.releases.last().map(|l| l.version.clone()),
        versions: pkg.releases.len(),
        yanked: pkg.releases.iter().filter(|x| x.yanked).count(),
        latest_published: latest.and_then(|l| l.published.clone()),
        freshness: pkg.freshness.clone().merge(fresh),
    }))
}
