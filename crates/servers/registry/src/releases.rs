//! The newest release of a GitHub or GitLab project.
//!
//! GitHub: `/repos/<o>/<r>/releases/latest` (the newest non-draft,
//! non-pre-release release); a repository without releases falls back to its
//! tags, the highest that reads as a version. GitLab: `/projects/:id/releases`
//! (newest first), upcoming releases skipped.

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::Registry;
use crate::config::Source;
use crate::eco::{clean, malformed, text};
use crate::fetch::{Freshness, Req};
use crate::versions::Ver;

/// A release.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseInfo {
    /// The tag (`v1.2.3`).
    pub tag: String,
    /// The release's title, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was published (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// Its web page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Marked as a pre-release.
    pub prerelease: bool,
    /// `release`, or `tag` when the project has no releases and its highest tag answered.
    pub kind: String,
    /// How old the answer is.
    pub freshness: Freshness,
}

const GITHUB_JSON: &str = "application/vnd.github+json";

/// GitHub's latest release of `owner/name`.
pub async fn github(r: &Registry, owner: &str, name: &str) -> Result<ReleaseInfo, ToolError> {
    let base = &r.fetch.config().github_url;
    let what = format!("GitHub releases of {owner}/{name}");
    let a = r
        .fetch
        .get(
            &Req::get(Source::Github, format!("{base}/repos/{owner}/{name}/releases/latest"), &what)
                .accept(GITHUB_JSON),
        )
        .await?;
    if !a.not_found() {
        let v: Value = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
        let tag = text(&v, "tag_name", 200).ok_or_else(|| malformed(&what, "no `tag_name`"))?;
        return Ok(ReleaseInfo {
            tag,
            name: text(&v, "name", 200),
            published_at: text(&v, "published_at", 40),
            url: text(&v, "html_url", 300),
            prerelease: v.get("prerelease").and_then(Value::as_bool).unwrap_or(false),
            kind: "release".into(),
            freshness: a.freshness,
        });
    }
    let what = format!("GitHub tags of {owner}/{name}");
    let a = r
        .fetch
        .get(
            &Req::get(Source::Github, format!("{base}/repos/{owner}/{name}/tags?per_page=100"), &what)
                .accept(GITHUB_JSON),
        )
        .await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("GitHub has no repository {owner}/{name} (or it is private)")));
    }
    let v: Value = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
    let tags: Vec<String> = v
        .as_array()
        .ok_or_else(|| malformed(&what, "not a list"))?
        .iter()
        .filter_map(|t| text(t, "name", 200))
        .collect();
    // The highest stable version among the tags; else the first listed.
    let best = tags
        .iter()
        .filter_map(|t| Ver::parse(Ecosystem::Crates, t).filter(|v| !v.is_pre()).map(|v| (v, t)))
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, t)| t.clone())
        .or_else(|| tags.first().cloned())
        .ok_or_else(|| ToolError::not_found(format!("{owner}/{name} has no releases and no tags")))?;
    Ok(ReleaseInfo {
        tag: best,
        name: None,
        published_at: None,
        url: None,
        prerelease: false,
        kind: "tag".into(),
        freshness: a.freshness,
    })
}

/// GitLab's newest release of a project (`segment` already encoded).
pub async fn gitlab(r: &Registry, segment: &str, shown: &str) -> Result<ReleaseInfo, ToolError> {
    let Some(base) = &r.fetch.config().gitlab_url else {
        return Err(ToolError::unavailable("no GitLab instance is configured for this server (REGISTRY_GITLAB_URL)"));
    };
    let what = format!("GitLab releases of {shown}");
    let a = r
        .fetch
        .get(&Req::get(Source::Gitlab, format!("{base}/api/v4/projects/{segment}/releases?per_page=20"), &what))
        .await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("GitLab has no project {shown} (or the token cannot see it)")));
    }
    let v: Value = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
    let list = v.as_array().ok_or_else(|| malformed(&what, "not a list"))?;
    let rel = list
        .iter()
        .find(|x| !x.get("upcoming_release").and_then(Value::as_bool).unwrap_or(false))
        .ok_or_else(|| ToolError::not_found(format!("{shown} has no releases")))?;
    Ok(ReleaseInfo {
        tag: text(rel, "tag_name", 200).ok_or_else(|| malformed(&what, "no `tag_name`"))?,
        name: text(rel, "name", 200),
        published_at: text(rel, "released_at", 40),
        url: rel.get("_links").and_then(|l| text(l, "self", 300)).map(|s| clean(&s, 300)),
        prerelease: false,
        kind: "release".into(),
        freshness: a.freshness,
    })
}
