//! npm: the packument (`/<name>`, scoped names as `@scope%2fname`):
//! `versions`, `time`, `dist-tags`, and per-version `deprecated`. npm has no
//! yank (an unpublished version disappears); a deprecation is shown as a
//! note and a deprecated version is still a candidate.

use mcp_core::ToolError;
use mcp_types::registry::Ecosystem;
use serde_json::Value;

use super::{Metadata, Package, Release, clean, malformed, text};
use crate::Registry;
use crate::config::Source;
use crate::fetch::{Freshness, Req};
use crate::names::{Name, npm_path};
use crate::versions::Ver;

async fn packument(r: &Registry, name: &Name) -> Result<(Value, Freshness), ToolError> {
    let base = &r.fetch.config().npm_url;
    let what = format!("npm package {}", name.canonical);
    let a = r.fetch.get(&Req::get(Source::Npm, format!("{base}/{}", npm_path(&name.canonical)), &what)).await?;
    if a.not_found() {
        return Err(ToolError::not_found(format!("npm has no package named {}", name.given)));
    }
    let v: Value = serde_json::from_str(&a.body).map_err(|e| malformed(&what, e))?;
    if !v.get("versions").is_some_and(Value::is_object) {
        return Err(malformed(&what, "no `versions` object"));
    }
    Ok((v, a.freshness))
}

/// The package's releases.
pub async fn releases(r: &Registry, name: Name) -> Result<Package, ToolError> {
    let (doc, fresh) = packument(r, &name).await?;
    let times = doc.get("time").and_then(Value::as_object);
    let mut out = Vec::new();
    let mut unparsable = 0;
    for (v, meta) in doc["versions"].as_object().into_iter().flatten() {
        let Some(ver) = Ver::parse(Ecosystem::Npm, v) else {
            unparsable += 1;
            continue;
        };
        out.push(Release {
            version: v.clone(),
            ver,
            yanked: false,
            note: meta.get("deprecated").and_then(Value::as_str).map(|d| format!("deprecated: {}", clean(d, 300))),
            published: times
                .and_then(|t| t.get(v))
                .and_then(Value::as_str)
                .filter(|t| t.len() <= 40)
                .map(str::to_owned),
            requires_python: None,
        });
    }
    Ok(Package::new(Ecosystem::Npm, name, out, unparsable, fresh))
}

/// Package information from the packument.
pub async fn metadata(r: &Registry, pkg: &Package) -> Result<(Metadata, Freshness), ToolError> {
    let (doc, fresh) = packument(r, &pkg.name).await?;
    let repository = match doc.get("repository") {
        Some(Value::String(s)) => Some(clean(s, 300)),
        Some(o @ Value::Object(_)) => text(o, "url", 300),
        _ => None,
    };
    let latest = doc.get("dist-tags").and_then(|d| text(d, "latest", 128));
    let license = match doc.get("license") {
        Some(Value::String(s)) => Some(clean(s, 200)),
        Some(o @ Value::Object(_)) => text(o, "type", 200),
        _ => None,
    };
    Ok((
        Metadata {
            summary: text(&doc, "description", 500),
            license,
            homepage: text(&doc, "homepage", 300),
            repository,
            documentation: None,
            requires: latest
                .as_ref()
                .and_then(|l| doc["versions"].get(l))
                .and_then(|v| v.get("engines"))
                .and_then(|e| text(e, "node", 100))
                .map(|n| format!("node {n}")),
            described_version: latest,
            metadata_source: "npm packument".into(),
        },
        fresh,
    ))
}
