//! What the planner is asked to build: a complete `ProjectSpec` and the
//! request it came from. The agent decides completeness; the planner checks
//! again what it depends on (a template for the language and kind, a valid
//! slug, a supported delivery), so a bad spec fails at `plan_start` with a
//! message instead of in the middle of a run.

use mcp_core::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project, as the agent understood it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSpec {
    /// Human name ("Word Counter").
    pub name: String,
    /// Folder and package name: `[a-z][a-z0-9-]*`, at most 40 (default: derived from `name`).
    #[serde(default)]
    pub slug: Option<String>,
    /// One or two sentences: what it does.
    pub summary: String,
    /// `python` or `rust`.
    pub language: String,
    /// `cli`, `library` or `service`.
    pub kind: String,
    /// What it must do, one item each.
    #[serde(default)]
    pub features: Vec<String>,
    /// How to tell it works, one item each.
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// Where the result goes: `local` (a repository under projects/, the default) or `gitlab`.
    #[serde(default = "local")]
    pub delivery: String,
}

fn local() -> String {
    "local".into()
}

/// Where the request came from and where to answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RequestRef {
    /// The agent's request id: the idempotency key of the run (one run per request).
    pub request_id: String,
    /// Who asked (an email address), for the report.
    #[serde(default)]
    pub requester: Option<String>,
    /// The subject of the request.
    #[serde(default)]
    pub subject: Option<String>,
    /// The email server's id of the message to answer with the report (the latest of the thread).
    #[serde(default)]
    pub reply_to: Option<String>,
    /// When the request arrived (RFC 3339).
    #[serde(default)]
    pub received_at: Option<String>,
}

/// A slug from free text: lowercase ASCII words joined by `-`.
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    for w in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w.to_ascii_lowercase());
    }
    let mut s: String = out.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').chars().take(40).collect();
    while s.ends_with('-') {
        s.pop();
    }
    s
}

/// Whether `s` is a valid slug.
pub fn valid_slug(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

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

impl ProjectSpec {
    /// The slug: given and valid, or derived from the name.
    pub fn slug(&self) -> Result<String, ToolError> {
        match &self.slug {
            Some(s) if valid_slug(s) => Ok(s.clone()),
            Some(s) => Err(ToolError::invalid(format!(
                "slug {s:?} must be 1-40 characters of a-z, 0-9 and single dashes, starting with a letter"
            ))),
            None => {
                let s = slugify(&self.name);
                if valid_slug(&s) {
                    Ok(s)
                } else {
                    Err(ToolError::invalid(format!("cannot make a folder name from {:?}; give a slug", self.name)))
                }
            }
        }
    }

    /// The Python/Rust module name.
    pub fn module(&self) -> Result<String, ToolError> {
        Ok(self.slug()?.replace('-', "_"))
    }

    /// Check what the planner depends on.
    pub fn check(&self) -> Result<(), ToolError> {
        if self.name.trim().is_empty() || self.name.len() > 200 {
            return Err(ToolError::invalid("name must be 1-200 characters"));
        }
        if self.summary.trim().is_empty() || self.summary.len() > 2000 {
            return Err(ToolError::invalid("summary must be 1-2000 characters"));
        }
        if self.features.len() > 50 || self.acceptance.len() > 50 {
            return Err(ToolError::invalid("at most 50 features and 50 acceptance criteria"));
        }
        if self.features.iter().chain(&self.acceptance).any(|f| f.len() > 1000) {
            return Err(ToolError::invalid("each feature and acceptance criterion is at most 1000 characters"));
        }
        self.slug()?;
        match self.delivery.as_str() {
            "local" => Ok(()),
            "gitlab" => Err(ToolError::invalid(
                "delivery to GitLab needs mcp-server-gitlab, which this fleet does not run yet; use delivery \"local\"",
            )),
            other => Err(ToolError::invalid(format!("delivery {other:?} is not known: use \"local\""))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Word Counter!"), "word-counter");
        assert_eq!(slugify("  42 Tools: the Sequel "), "tools-the-sequel");
        assert_eq!(slugify("日本"), "");
        assert!(valid_slug("a-b-1"));
        assert!(!valid_slug("-a") && !valid_slug("a-") && !valid_slug("A") && !valid_slug("a--b") && !valid_slug(""));
        assert!(!valid_slug("../x") && !valid_slug("a/b"));
        assert_eq!(slugify(&"x".repeat(80)).len(), 40);
    }

    #[test]
    fn one_line_is_safe_everywhere() {
        assert_eq!(one_line("a \"quoted\"\n\\path\u{7}", 100), "a 'quoted' /path");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert!(!one_line("\"\"\"; import os", 100).contains('"'));
    }
}
