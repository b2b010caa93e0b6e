//! What the fleet is asked to build: the project spec the agent settles and
//! the planner builds, the request it came from, and the one slug rule both
//! sides (and the LLM steps) use for folder and package names.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The project, as the agent understood it. Unknown fields are refused: a
/// field the planner does not know would be silently dropped otherwise.
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

/// Where a request came from and where to answer.
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
    /// The language the requester wrote in: the report is written in it.
    #[serde(default)]
    pub lang: crate::request::Lang,
}

/// Why a spec has no usable slug.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    /// The given slug breaks the rule.
    #[error("slug {0:?} must be 1-40 characters of a-z, 0-9 and single dashes, starting with a letter")]
    Invalid(String),
    /// No slug was given and none can be made from the name.
    #[error("cannot make a folder name from {0:?}; give a slug")]
    Underivable(String),
}

/// A slug from free text: transliterated to ASCII ("Żółw Łódź" →
/// `zolw-lodz`, so a name never collapses to fragments), lowercase words
/// joined by `-`, at most 40 characters, starting with a letter (may be
/// empty when nothing is left).
pub fn slugify(text: &str) -> String {
    let ascii = deunicode::deunicode(text);
    let mut out = String::new();
    for w in ascii.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
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

/// Whether `s` is a valid slug: `[a-z][a-z0-9-]*`, 1-40 characters, no
/// leading, trailing or doubled dash. A valid slug is also a safe single
/// path component.
pub fn valid_slug(s: &str) -> bool {
    (1..=40).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

impl ProjectSpec {
    /// The slug: given and valid, or derived from the name.
    pub fn slug(&self) -> Result<String, SlugError> {
        match &self.slug {
            Some(s) if valid_slug(s) => Ok(s.clone()),
            Some(s) => Err(SlugError::Invalid(s.clone())),
            None => {
                let s = slugify(&self.name);
                if valid_slug(&s) { Ok(s) } else { Err(SlugError::Underivable(self.name.clone())) }
            }
        }
    }

    /// The Python/Rust module name (the slug with `_` for `-`).
    pub fn module(&self) -> Result<String, SlugError> {
        Ok(self.slug()?.replace('-', "_"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Word Counter!"), "word-counter");
        assert_eq!(slugify("  42 Tools: the Sequel "), "tools-the-sequel");
        // Transliterated, never cut into fragments.
        assert_eq!(slugify("Żółw Łódź"), "zolw-lodz");
        assert_eq!(slugify("Licznik słów"), "licznik-slow");
        assert_eq!(slugify("Café Crème"), "cafe-creme");
        assert_eq!(slugify("Straße"), "strasse");
        assert!(valid_slug(&slugify("日本")), "{}", slugify("日本"));
        assert_eq!(slugify("🎲 roller"), "game-die-roller", "emoji become words");
        assert_eq!(slugify("---"), "");
        assert!(valid_slug("a-b-1"));
        assert!(!valid_slug("-a") && !valid_slug("a-") && !valid_slug("A") && !valid_slug("a--b") && !valid_slug(""));
        assert!(!valid_slug("../x") && !valid_slug("a/b"));
        assert_eq!(slugify(&"x".repeat(80)).len(), 40);
    }

    #[test]
    fn a_spec_refuses_fields_it_does_not_know_and_derives_its_slug() {
        let v = serde_json::json!({"name": "Word Counter", "summary": "s", "language": "python", "kind": "cli"});
        let spec: ProjectSpec = serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.delivery, "local");
        assert_eq!(spec.slug(), Ok("word-counter".into()));
        assert_eq!(spec.module(), Ok("word_counter".into()));
        let mut extra = v;
        extra["colour"] = "blue".into();
        assert!(serde_json::from_value::<ProjectSpec>(extra).is_err());
        let bad = ProjectSpec { slug: Some("../up".into()), ..spec };
        assert!(matches!(bad.slug(), Err(SlugError::Invalid(_))));
    }
}
