//! `image_tags`: a Docker Hub repository's tags, newest first.
//!
//! Docker Hub's API (`/v2/namespaces/<ns>/repositories/<repo>/tags`) lists
//! tags by last update, newest first, with their digests and platforms. One
//! page of 100 is read, and up to four more while the filter leaves fewer
//! than `limit` (following `next` only on the same host).

use mcp_core::prelude::*;
use serde_json::Value as Json;

use crate::Registry;
use crate::config::Source;
use crate::eco::{clean, malformed, text};
use crate::fetch::{Freshness, Req};
use crate::names;

/// Pages read at most.
const MAX_PAGES: usize = 5;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The image: `python` (an official image) or `namespace/name`; a tag is ignored.
    pub image: String,
    /// A glob the tag must match (`3.12*`, `*-slim`); default every tag.
    pub filter: Option<String>,
    /// How many tags to return (1-100, default 20).
    pub limit: Option<u32>,
}

/// One tag.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Tag {
    /// The tag.
    pub name: String,
    /// When it was last pushed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated: Option<String>,
    /// The manifest (list) digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Platforms (`linux/amd64`).
    pub platforms: Vec<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// `namespace/name`.
    pub image: String,
    /// Tags, newest first.
    pub tags: Vec<Tag>,
    /// Tags the registry counts for the repository (all, before the filter).
    pub count: Option<u64>,
    /// More matching tags may exist beyond the pages read.
    pub truncated: bool,
    /// How old the answer is (the oldest page).
    pub freshness: Freshness,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "image_tags",
        "List a Docker Hub image's tags, most recently pushed first, with digests and platforms; optionally only tags \
         matching a glob (`3.12*`, `*-alpine`).",
        Annotations::read_only().open_world(),
        run,
    )
    .title("Image tags")
}

async fn run(r: Arc<Registry>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (ns, repo) = names::image(&a.image)?;
    let limit = a.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ToolError::invalid("limit must be between 1 and 100"));
    }
    let glob = match &a.filter {
        Some(f) if f.len() > 200 || f.chars().any(char::is_control) => {
            return Err(ToolError::invalid("filter must be a glob of at most 200 characters"));
        }
        Some(f) => Some(
            globset::Glob::new(f)
                .map_err(|e| ToolError::invalid(format!("filter is not a glob: {e}")))?
                .compile_matcher(),
        ),
        None => None,
    };
    let base = r.fetch.config().dockerhub_url.clone();
    let base_host = reqwest::Url::parse(&base).ok().and_then(|u| u.host_str().map(str::to_owned));
    let what = format!("Docker Hub tags of {ns}/{repo}");
    let mut url = format!("{base}/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100");
    let mut tags = Vec::new();
    let mut count = None;
    let mut freshness: Option<Freshness> = None;
    let mut truncated = false;
    for page in 0..MAX_PAGES {
        let ans = r.fetch.get(&Req::get(Source::Dockerhub, url.clone(), &what)).await?;
        if ans.not_found() {
            return Err(ToolError::not_found(format!("Docker Hub has no repository {ns}/{repo}")));
        }
        freshness = Some(match freshness {
            Some(f) => f.merge(ans.freshness.clone()),
            None => ans.freshness.clone(),
        });
        let v: Json = serde_json::from_str(&ans.body).map_err(|e| malformed(&what, e))?;
        let results = v.get("results").and_then(Json::as_array).ok_or_else(|| malformed(&what, "no `results` list"))?;
        if page == 0 {
            count = v.get("count").and_then(Json::as_u64);
        }
        for t in results {
            let Some(name) = text(t, "name", 128) else { continue };
            if glob.as_ref().is_some_and(|g| !g.is_match(&name)) {
                continue;
            }
            let platforms = t
                .get("images")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(|i| {
                    let os = text(i, "os", 30)?;
                    let arch = text(i, "architecture", 30)?;
                    Some(match text(i, "variant", 20) {
                        Some(var) => format!("{os}/{arch}/{var}"),
                        None => format!("{os}/{arch}"),
                    })
                })
                .take(32)
                .collect();
            tags.push(Tag {
                name,
                last_updated: text(t, "last_updated", 40),
                digest: text(t, "digest", 100),
                platforms,
            });
        }
        let next = v.get("next").and_then(Json::as_str).map(|s| clean(s, 1000));
        if tags.len() >= limit as usize {
            truncated = tags.len() > limit as usize || next.is_some();
            break;
        }
        match next {
            // Only a `next` on the registry's own host is followed.
            Some(n) if reqwest::Url::parse(&n).ok().and_then(|u| u.host_str().map(str::to_owned)) == base_host => {
                if page + 1 == MAX_PAGES {
                    truncated = true;
                }
                url = n;
            }
            Some(_) => {
                truncated = true;
                break;
            }
            None => break,
        }
    }
    tags.truncate(limit as usize);
    Ok(Out::new(Output {
        image: format!("{ns}/{repo}"),
        tags,
        count,
        truncated,
        freshness: freshness.ok_or_else(|| ToolError::failed("no page was read"))?,
    }))
}
