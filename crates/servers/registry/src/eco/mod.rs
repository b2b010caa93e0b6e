//! Packages and their versions, one module per ecosystem, all answering in
//! one model: releases sorted by the ecosystem's own order, yanked ones
//! flagged, pre-releases marked, and how old the registry's answer is.

pub mod crates;
pub mod npm;
pub mod pypi;

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use schemars::JsonSchema;
use serde::Serialize;

use crate::Registry;
use crate::fetch::Freshness;
use crate::names::Name;
use crate::versions::{Constraint, Ver};

/// One published version.
#[derive(Debug, Clone)]
pub struct Release {
    /// The version as the registry writes it.
    pub version: String,
    /// Parsed.
    pub ver: Ver,
    /// Yanked (PyPI: every file yanked; crates: the index flag). npm has no yank.
    pub yanked: bool,
    /// Why, when the registry says (PyPI's yank reason, npm's deprecation).
    pub note: Option<String>,
    /// When it was published (RFC 3339), when the registry says.
    pub published: Option<String>,
    /// PyPI: the Python versions its files support (`>=3.10`), when stated.
    pub requires_python: Option<String>,
}

/// A version as tools show it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct VersionInfo {
    /// The version.
    pub version: String,
    /// Yanked: never chosen as "latest" or as a pin.
    pub yanked: bool,
    /// A pre-release (alpha, beta, rc, dev).
    pub prerelease: bool,
    /// Publication time (RFC 3339), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// The registry's yank reason or deprecation message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// PyPI: the Python versions it supports (`>=3.10`), when stated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
}

impl Release {
    /// As tools show it.
    pub fn info(&self) -> VersionInfo {
        VersionInfo {
            version: self.version.clone(),
            yanked: self.yanked,
            prerelease: self.ver.is_pre(),
            published: self.published.clone(),
            note: self.note.clone(),
            requires_python: self.requires_python.clone(),
        }
    }
}

/// A package's releases.
#[derive(Debug, Clone)]
pub struct Package {
    /// Its ecosystem.
    pub ecosystem: Ecosystem,
    /// Its name.
    pub name: Name,
    /// Every parseable release, oldest first in the ecosystem's order.
    pub releases: Vec<Release>,
    /// Versions the registry listed that do not parse (skipped).
    pub unparsable: usize,
    /// How old the answer is.
    pub freshness: Freshness,
}

impl Package {
    /// Sort and deduplicate.
    pub fn new(
        ecosystem: Ecosystem,
        name: Name,
        mut releases: Vec<Release>,
        unparsable: usize,
        freshness: Freshness,
    ) -> Self {
        releases.sort_by(|a, b| a.ver.cmp(&b.ver));
        releases.dedup_by(|a, b| a.ver == b.ver);
        Self { ecosystem, name, releases, unparsable, freshness }
    }

    /// The newest release that is neither yanked nor a pre-release.
    pub fn latest_stable(&self) -> Option<&Release> {
        self.releases.iter().rev().find(|r| !r.yanked && !r.ver.is_pre())
    }

    /// Releases satisfying `c`, newest first, without yanked ones and without
    /// pre-releases unless `prereleases` or the constraint names one.
    pub fn candidates<'a>(&'a self, c: &'a Constraint, prereleases: bool) -> impl Iterator<Item = &'a Release> + 'a {
        let pre = prereleases || c.mentions_pre();
        self.releases.iter().rev().filter(move |r| !r.yanked && (pre || !r.ver.is_pre()) && c.matches(&r.ver))
    }

    /// Whether the release supports Python `floor` (its `requires-python`
    /// contains it); releases that state nothing, and non-PyPI ones, do.
    pub fn supports_python(r: &Release, floor: Option<&pep440_rs::Version>) -> bool {
        let (Some(floor), Some(req)) = (floor, r.requires_python.as_deref()) else { return true };
        match req.parse::<pep440_rs::VersionSpecifiers>() {
            Ok(spec) => spec.contains(floor),
            // An unreadable `requires-python` does not exclude a release (pip ignores it too).
            Err(_) => true,
        }
    }

    /// The release equal to `v`.
    pub fn find(&self, v: &Ver) -> Option<&Release> {
        self.releases.iter().find(|r| &r.ver == v)
    }
}

/// What `package_info` shows.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Metadata {
    /// One-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// License (expression or text, cut to 200 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    /// Home page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// Source repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// Documentation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// Required Python (`>=3.10`) or Rust (`1.70`) version of the described release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires: Option<String>,
    /// The release the metadata describes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub described_version: Option<String>,
    /// Where the metadata came from (`pypi json api`, `Cargo.toml in the .crate`, `npm packument`).
    pub metadata_source: String,
}

/// Releases of `name` in `eco`.
pub async fn releases(r: &Registry, eco: Ecosystem, name: &str) -> Result<Package, ToolError> {
    let name = crate::names::package(eco, name)?;
    match eco {
        Ecosystem::Pypi => pypi::releases(r, name).await,
        Ecosystem::Crates => crates::releases(r, name).await,
        Ecosystem::Npm => npm::releases(r, name).await,
    }
}

/// Metadata of `pkg` (its newest stable release, else its newest).
pub async fn metadata(r: &Registry, pkg: &Package) -> Result<(Metadata, Freshness), ToolError> {
    match pkg.ecosystem {
        Ecosystem::Pypi => pypi::metadata(r, pkg).await,
        Ecosystem::Crates => crates::metadata(r, pkg).await,
        Ecosystem::Npm => npm::metadata(r, pkg).await,
    }
}

/// A malformed registry answer.
pub fn malformed(what: &str, e: impl std::fmt::Display) -> ToolError {
    let msg: String = e.to_string().chars().take(200).collect();
    ToolError::failed(format!("the registry's answer for {what} is malformed: {msg}"))
}

/// Cut a registry-written text to `n` characters, control characters removed.
pub fn clean(s: &str, n: usize) -> String {
    s.chars().filter(|c| !c.is_control() || *c == ' ').take(n).collect()
}

/// A string field of a JSON object, cleaned; absent, empty or not a string → `None`.
pub fn text(v: &serde_json::Value, key: &str, n: usize) -> Option<String> {
    v.get(key).and_then(|x| x.as_str()).map(|s| clean(s.trim(), n)).filter(|s| !s.is_empty())
}
