//! The document kinds: each kind's data is read into its typed shape from
//! `mcp_types::documents` (unknown fields refused, the error naming the
//! field), checked, and turned into the template's context plus what the
//! server computes for it (changelog sections, the Mermaid text, OpenAPI
//! schema names, the ADR's padded number); then rendered, and for a
//! changelog with `existing`, merged.

use mcp_core::ToolError;
use mcp_types::documents::{
    AdrDoc, ArchitectureDoc, ChangelogDoc, DesignDoc, DocumentKind, OpenApiDoc, ReadmeDoc, RequirementsDoc, SpecDoc,
    TasksDoc,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::engine::{Engine, Rendered};
use crate::{changelog, mermaid};

/// A rendered document and where it would go.
#[derive(Debug, Clone)]
pub struct Document {
    /// The render.
    pub rendered: Rendered,
    /// Suggested path in a project.
    pub suggested_path: String,
}

fn typed<T: DeserializeOwned>(kind: DocumentKind, data: &Value) -> Result<T, ToolError> {
    serde_json::from_value(data.clone())
        .map_err(|e| ToolError::invalid(format!("data for kind {kind} does not fit its shape: {e}")))
}

fn context<T: serde::Serialize>(d: &T, extra: Value) -> Value {
    let mut v = serde_json::to_value(d).unwrap_or_default();
    if let (Some(o), Value::Object(x)) = (v.as_object_mut(), extra) {
        o.extend(x);
    }
    v
}

/// Lowercase ASCII words joined by `-`, at most `max` characters.
pub fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for w in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if out.len() + w.len() + 1 > max {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w.to_ascii_lowercase());
    }
    if out.is_empty() { "untitled".into() } else { out }
}

fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

/// A fence longer than any backtick run in `texts` (at least three).
fn fence(texts: &[&String]) -> String {
    let longest = texts.iter().map(|t| t.split(|c| c != '`').map(str::len).max().unwrap_or(0)).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Render `kind` with `data` through `template` (default: the kind's own).
pub fn generate(
    engine: &Engine,
    kind: DocumentKind,
    data: &Value,
    template: Option<&str>,
) -> Result<Document, ToolError> {
    if !data.is_object() {
        return Err(ToolError::invalid("data must be an object with the kind's fields"));
    }
    let name = template.unwrap_or(kind.as_str());
    let (ctx, path, merge): (Value, String, Option<(String, String)>) = match kind {
        DocumentKind::Spec => {
            let d: SpecDoc = typed(kind, data)?;
            (context(&d, json!({})), "SPEC.md".into(), None)
        }
        DocumentKind::Readme => {
            let d: ReadmeDoc = typed(kind, data)?;
            let all: Vec<&String> = d.install.iter().chain(&d.usage).chain(&d.test).collect();
            (context(&d, json!({"fence": fence(&all)})), "README.md".into(), None)
        }
        DocumentKind::Changelog => {
            let d: ChangelogDoc = typed(kind, data)?;
            changelog::check(&d)?;
            let ctx = context(&d, json!({"sections": changelog::sections(&d)}));
            let merge = d.existing.clone().map(|e| (e, d.version.clone()));
            (ctx, "CHANGELOG.md".into(), merge)
        }
        DocumentKind::Adr => {
            let d: AdrDoc = typed(kind, data)?;
            const STATUSES: [&str; 5] = ["proposed", "accepted", "rejected", "deprecated", "superseded"];
            if !STATUSES.iter().any(|s| d.status == *s || d.status.starts_with("superseded by ")) {
                return Err(ToolError::invalid(
                    "status must be proposed, accepted, rejected, deprecated, superseded or `superseded by NNNN`",
                ));
            }
            if d.number == 0 || d.number > 9999 {
                return Err(ToolError::invalid("number must be 1..=9999"));
            }
            let padded = format!("{:04}", d.number);
            let path = format!("docs/adr/{padded}-{}.md", slug(&d.title, 60));
            (context(&d, json!({"number_padded": padded})), path, None)
        }
        DocumentKind::Openapi => {
            let d: OpenApiDoc = typed(kind, data)?;
            (openapi_context(&d)?, "openapi.yaml".into(), None)
        }
        DocumentKind::Architecture => {
            let d: ArchitectureDoc = typed(kind, data)?;
            let diagram = mermaid::flowchart(&d.components, &d.edges, d.direction.as_deref())?;
            let title = d.title.clone().unwrap_or_else(|| "Architecture".into());
            (context(&d, json!({"diagram": diagram, "title": title})), "docs/architecture.md".into(), None)
        }
        DocumentKind::Requirements => {
            let d: RequirementsDoc = typed(kind, data)?;
            let path = format!("docs/specs/{}/requirements.md", slug(&d.name, 60));
            (context(&d, json!({})), path, None)
        }
        DocumentKind::Design => {
            let d: DesignDoc = typed(kind, data)?;
            let extra = match &d.diagram {
                Some(a) => json!({"diagram": mermaid::flowchart(&a.components, &a.edges, a.direction.as_deref())?}),
                None => json!({}),
            };
            let path = format!("docs/specs/{}/design.md", slug(&d.name, 60));
            // The diagram's data is replaced by its text.
            let mut ctx = context(&d, json!({}));
            if let Some(o) = ctx.as_object_mut() {
                o.remove("diagram");
                if let Value::Object(x) = extra {
                    o.extend(x);
                }
            }
            (ctx, path, None)
        }
        DocumentKind::Tasks => {
            let d: TasksDoc = typed(kind, data)?;
            let path = format!("docs/specs/{}/tasks.md", slug(&d.name, 60));
            (context(&d, json!({})), path, None)
        }
    };
    let mut rendered = engine.render(name, &ctx)?;
    if let Some((existing, version)) = merge {
        rendered.content = changelog::merge(&existing, &rendered.content, &version)?;
    }
    Ok(Document { rendered, suggested_path: path })
}

/// The OpenAPI context: names and types checked (they are written into
/// YAML keys and paths unquoted), schema names and required lists added.
fn openapi_context(d: &OpenApiDoc) -> Result<Value, ToolError> {
    let hp = &d.health_path;
    if !hp.starts_with('/')
        || hp.len() > 100
        || !hp[1..].chars().all(|c| c.is_ascii_alphanumeric() || "-_/.".contains(c))
        || hp.contains("//")
    {
        return Err(ToolError::invalid("health_path must be a plain path such as /health"));
    }
    if d.resources.len() > 100 {
        return Err(ToolError::invalid("at most 100 resources"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut resources = Vec::new();
    for r in &d.resources {
        let ok = r.name.len() <= 64
            && r.name.starts_with(|c: char| c.is_ascii_lowercase())
            && r.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !ok {
            return Err(ToolError::invalid(format!(
                "resource name {:?} must be [a-z][a-z0-9_-]* (at most 64): it becomes a path segment",
                r.name.chars().take(64).collect::<String>()
            )));
        }
        let schema = pascal(&r.name);
        if !seen.insert(schema.clone()) || format!("/{}", r.name) == *hp {
            return Err(ToolError::invalid(format!("resource {} is given twice (or is the health path)", r.name)));
        }
        let mut fields = Vec::new();
        let mut required = Vec::new();
        let mut names = std::collections::HashSet::new();
        for f in &r.fields {
            let ok = f.name.len() <= 64
                && f.name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok || f.name == "id" || !names.insert(f.name.clone()) {
                return Err(ToolError::invalid(format!(
                    "field {:?} of {}: names are [A-Za-z_][A-Za-z0-9_]*, unique, and not `id` (always present)",
                    f.name.chars().take(64).collect::<String>(),
                    r.name
                )));
            }
            if !["string", "integer", "number", "boolean"].contains(&f.ty.as_str()) {
                return Err(ToolError::invalid(format!(
                    "field {} of {}: type must be string, integer, number or boolean",
                    f.name, r.name
                )));
            }
            if f.required {
                required.push(f.name.clone());
            }
            fields.push(json!({"name": f.name, "type": f.ty}));
        }
        resources.push(json!({"name": r.name, "schema": schema, "fields": fields, "required": required}));
    }
    Ok(context(d, json!({"resources": resources})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(slug("Use PostgreSQL, not SQLite!", 60), "use-postgresql-not-sqlite");
        assert_eq!(slug("///", 60), "untitled");
        assert_eq!(pascal("line-items"), "LineItems");
        let t = "a ```` b".to_owned();
        assert_eq!(fence(&[&t]), "`````");
    }
}
