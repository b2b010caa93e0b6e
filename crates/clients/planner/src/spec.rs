//! What the planner is asked to build: a complete `ProjectSpec` and the
//! request it came from (both defined in `mcp-types`, the contract with the
//! agent). The agent decides completeness; the planner checks
//! again what it depends on (a template for the language and kind, a valid
//! slug, a supported delivery), so a bad spec fails at `plan_start` with a
//! message instead of in the middle of a run.

use mcp_core::ToolError;
pub use mcp_types::spec::{ProjectSpec, RequestRef, SlugError, slugify, valid_slug};

/// Free text made safe for every file a template writes (TOML strings,
/// Python docstrings, Rust doc comments, Markdown): one line, no control
/// characters, no backslashes or double quotes, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if s.chars().count() > max {
        s = s.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    s
}

/// The spec's slug, as a tool error the caller can act on.
pub fn slug(spec: &ProjectSpec) -> Result<String, ToolError> {
    spec.slug().map_err(|e| ToolError::invalid(e.to_string()))
}

/// Check what the planner depends on. `gitlab_missing` names what
/// `delivery: "gitlab"` needs and this planner lacks
/// ([`crate::config::Runtime::gitlab_delivery_missing`]).
pub fn check(spec: &ProjectSpec, gitlab_missing: &[String]) -> Result<(), ToolError> {
    if spec.name.trim().is_empty() || spec.name.len() > 200 {
        return Err(ToolError::invalid("name must be 1-200 characters"));
    }
    if spec.summary.trim().is_empty() || spec.summary.len() > 2000 {
        return Err(ToolError::invalid("summary must be 1-2000 characters"));
    }
    if spec.features.len() > 50 || spec.acceptance.len() > 50 {
        return Err(ToolError::invalid("at most 50 features and 50 acceptance criteria"));
    }
    if spec.features.iter().chain(&spec.acceptance).any(|f| f.len() > 1000) {
        return Err(ToolError::invalid("each feature and acceptance criterion is at most 1000 characters"));
    }
    slug(spec)?;
    match spec.delivery.as_str() {
        "local" => Ok(()),
        "gitlab" if gitlab_missing.is_empty() => Ok(()),
        "gitlab" => Err(ToolError::invalid(format!(
            "delivery \"gitlab\" pushes the project to GitLab and runs its pipeline through mcp-server-gitlab, and \
             this planner is not set up for it: {} not set; use delivery \"local\", or ask the operator to set {}",
            gitlab_missing.join(" and "),
            if gitlab_missing.len() == 1 { "it" } else { "them" }
        ))),
        other => Err(ToolError::invalid(format!("delivery {other:?} is not known: use \"local\" or \"gitlab\""))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_is_safe_everywhere() {
        assert_eq!(one_line("a \"quoted\"\n\\path\u{7}", 100), "a 'quoted' /path");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert!(!one_line("\"\"\"; import os", 100).contains('"'));
    }

    #[test]
    fn gitlab_delivery_needs_its_settings() {
        let spec: ProjectSpec = serde_json::from_value(serde_json::json!({
            "name": "Remote", "summary": "s", "language": "python", "kind": "cli", "delivery": "gitlab"}))
        .unwrap();
        assert!(check(&spec, &[]).is_ok());
        let missing = ["MCP_SERVER_GITLAB_URL (the gitlab server)".to_owned(), "PLANNER_GITLAB_REMOTE".to_owned()];
        let e = check(&spec, &missing).unwrap_err().to_string();
        assert!(e.contains("MCP_SERVER_GITLAB_URL (the gitlab server) and PLANNER_GITLAB_REMOTE not set"), "{e}");
        let other = ProjectSpec { delivery: "ftp".into(), ..spec };
        assert!(check(&other, &[]).unwrap_err().to_string().contains("\"ftp\" is not known"));
    }
}
