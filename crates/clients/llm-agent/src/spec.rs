//! What the agent understood of a request (a [`Draft`]: every field may be
//! missing), the deterministic completeness check that decides whether to
//! ask or to proceed, and the questions it asks. Providers only extract;
//! they never decide completeness, so the same draft gets the same answer
//! whatever model is configured.

use std::collections::BTreeSet;

use mcp_types::plan::TemplatesList;
use mcp_types::spec::ProjectSpec;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Fields a request must settle before the planner can start.
pub const REQUIRED: &[&str] = &["name", "summary", "language", "kind"];

/// A project spec under construction. `None` or empty means "not said".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Draft {
    /// Human name.
    #[serde(default)]
    pub name: Option<String>,
    /// What it does.
    #[serde(default)]
    pub summary: Option<String>,
    /// Languages mentioned, lowercase (more than one is a contradiction to ask about).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Kinds mentioned: `cli`, `library`, `service` (more than one is a contradiction).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Features, one each.
    #[serde(default)]
    pub features: Vec<String>,
    /// Acceptance criteria, one each.
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// `local` or `gitlab`.
    #[serde(default)]
    pub delivery: Option<String>,
}

/// The language/kind pairs the templates can build.
#[derive(Debug, Clone, Default)]
pub struct Offer {
    /// `(language, kind)` pairs.
    pub pairs: BTreeSet<(String, String)>,
}

impl Offer {
    /// What the planner's `templates_list` says this deployment builds: the
    /// one source of truth, so the agent never promises what the planner
    /// was configured not to build.
    pub fn from_templates(list: &TemplatesList) -> Self {
        Self { pairs: list.templates.iter().map(|t| (t.language.clone(), t.kind.clone())).collect() }
    }

    /// Languages offered.
    pub fn languages(&self) -> Vec<String> {
        let s: BTreeSet<&String> = self.pairs.iter().map(|(l, _)| l).collect();
        s.into_iter().cloned().collect()
    }

    /// Kinds offered for a language.
    pub fn kinds(&self, language: &str) -> Vec<String> {
        self.pairs.iter().filter(|(l, _)| l == language).map(|(_, k)| k.clone()).collect()
    }
}

/// One open point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Question {
    /// The field it settles.
    pub field: String,
    /// The full question (first round).
    pub text: String,
    /// The short form (follow-ups, so the same question is never sent twice).
    pub short: String,
}

/// Human words for a kind.
pub fn kind_words(kind: &str) -> &str {
    match kind {
        "cli" => "a command-line tool",
        "library" => "a library",
        "service" => "a web service",
        other => other,
    }
}

fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

impl Draft {
    /// Fold what a later message said into this draft. Anything the new
    /// message states replaces the old value (an answer may correct), and
    /// lists grow without duplicates.
    pub fn merge(&mut self, newer: &Draft) {
        if newer.name.is_some() {
            self.name.clone_from(&newer.name);
        }
        if newer.summary.is_some() {
            self.summary.clone_from(&newer.summary);
        }
        if !newer.languages.is_empty() {
            self.languages.clone_from(&newer.languages);
        }
        if !newer.kinds.is_empty() {
            self.kinds.clone_from(&newer.kinds);
        }
        for (mine, theirs) in [(&mut self.features, &newer.features), (&mut self.acceptance, &newer.acceptance)] {
            for f in theirs {
                if !mine.iter().any(|m| m.eq_ignore_ascii_case(f)) {
                    mine.push(f.clone());
                }
            }
        }
        if newer.delivery.is_some() {
            self.delivery.clone_from(&newer.delivery);
        }
    }

    /// Every missing or contradictory field, with its question, in a fixed order.
    pub fn open_questions(&self, offer: &Offer) -> Vec<Question> {
        let mut q = Vec::new();
        if self.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            q.push(Question {
                field: "name".into(),
                text: "What should the project be called? (for example \"Name: Word Counter\")".into(),
                short: "Name: what is the project called?".into(),
            });
        }
        if self.summary.as_deref().is_none_or(|s| s.split_whitespace().count() < 3) {
            q.push(Question {
                field: "summary".into(),
                text: "In a sentence or two, what should it do? (\"Summary: ...\")".into(),
                short: "Summary: what should it do, in one sentence?".into(),
            });
        }
        let langs = offer.languages();
        // For people: "Python or Rust", not "python or rust".
        let shown: Vec<String> = langs.iter().map(|l| cap(l)).collect();
        match self.languages.as_slice() {
            [] => q.push(Question {
                field: "language".into(),
                text: format!("Which programming language should it be written in? I can build {}.", or_list(&shown)),
                short: format!("Language: {}?", or_list(&shown)),
            }),
            [one] if !langs.contains(one) => q.push(Question {
                field: "language".into(),
                text: format!("I cannot build projects in {} yet; would {} do?", cap(one), or_list(&shown)),
                short: format!("Language: {} is not available; {}?", cap(one), or_list(&shown)),
            }),
            [_] => {}
            many => q.push(Question {
                field: "language".into(),
                text: format!(
                    "The request mentions {}; which one language should it be?",
                    or_list(&many.iter().map(|l| cap(l)).collect::<Vec<_>>())
                ),
                short: format!("Language: one of {}?", or_list(&many.iter().map(|l| cap(l)).collect::<Vec<_>>())),
            }),
        }
        let language = self.language();
        let kinds: Vec<String> = match &language {
            Some(l) if langs.contains(l) => offer.kinds(l),
            _ => {
                let all: BTreeSet<String> = offer.pairs.iter().map(|(_, k)| k.clone()).collect();
                all.into_iter().collect()
            }
        };
        let kind_list = || or_list(&kinds.iter().map(|k| kind_words(k).to_owned()).collect::<Vec<_>>());
        match self.kinds.as_slice() {
            [] => q.push(Question {
                field: "kind".into(),
                text: format!("What kind of program is it: {}?", kind_list()),
                short: format!("Kind: {}?", kind_list()),
            }),
            [one] if !kinds.contains(one) => q.push(Question {
                field: "kind".into(),
                text: format!(
                    "I cannot build {} {}yet; would {} do?",
                    kind_words(one),
                    language.as_deref().map(|l| format!("in {} ", cap(l))).unwrap_or_default(),
                    kind_list()
                ),
                short: format!("Kind: {} is not available; {}?", kind_words(one), kind_list()),
            }),
            [_] => {}
            many => q.push(Question {
                field: "kind".into(),
                text: format!(
                    "The request mentions {}; which one should it be?",
                    or_list(&many.iter().map(|k| kind_words(k).to_owned()).collect::<Vec<_>>())
                ),
                short: "Kind: which one?".into(),
            }),
        }
        if let Some(d) = &self.delivery
            && d != "local"
        {
            q.push(Question {
                field: "delivery".into(),
                text: format!(
                    "Delivery to {d} is not available in this installation; may I deliver a local git repository instead?"
                ),
                short: "Delivery: is a local git repository fine?".into(),
            });
        }
        q
    }

    /// The single language, if settled.
    pub fn language(&self) -> Option<String> {
        match self.languages.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// The planner's `ProjectSpec` (only meaningful when no question is open).
    pub fn to_spec(&self) -> ProjectSpec {
        ProjectSpec {
            name: self.name.clone().unwrap_or_default().trim().to_owned(),
            slug: None,
            summary: self.summary.clone().unwrap_or_default().trim().to_owned(),
            language: self.language().unwrap_or_default(),
            kind: self.kinds.first().cloned().unwrap_or_default(),
            features: self.features.clone(),
            acceptance: self.acceptance.clone(),
            delivery: self.delivery.clone().unwrap_or_else(|| "local".into()),
        }
    }

    /// What was understood, one line per known field, for the questions email.
    pub fn understood(&self) -> String {
        let mut lines = Vec::new();
        if let Some(n) = &self.name {
            lines.push(format!("- Name: {n}"));
        }
        if let Some(s) = &self.summary {
            lines.push(format!("- Summary: {s}"));
        }
        if !self.languages.is_empty() {
            lines.push(format!("- Language: {}", self.languages.join(", ")));
        }
        if !self.kinds.is_empty() {
            lines.push(format!("- Kind: {}", self.kinds.join(", ")));
        }
        for f in &self.features {
            lines.push(format!("- Feature: {f}"));
        }
        for a in &self.acceptance {
            lines.push(format!("- Acceptance: {a}"));
        }
        if lines.is_empty() { "- nothing yet".into() } else { lines.join("\n") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_types::plan::TemplateEntry;

    fn offer() -> Offer {
        Offer {
            pairs: [("python", "cli"), ("python", "library"), ("rust", "cli")]
                .iter()
                .map(|(l, k)| ((*l).to_owned(), (*k).to_owned()))
                .collect(),
        }
    }

    fn full() -> Draft {
        Draft {
            name: Some("Word Counter".into()),
            summary: Some("Counts the words of a file".into()),
            languages: vec!["python".into()],
            kinds: vec!["cli".into()],
            ..Draft::default()
        }
    }

    #[test]
    fn a_full_draft_has_no_questions() {
        assert!(full().open_questions(&offer()).is_empty());
        let spec = full().to_spec();
        assert_eq!(spec.language, "python");
        assert_eq!(spec.delivery, "local");
    }

    #[test]
    fn every_missing_field_is_asked_in_order() {
        let q = Draft::default().open_questions(&offer());
        let fields: Vec<&str> = q.iter().map(|q| q.field.as_str()).collect();
        assert_eq!(fields, REQUIRED);
        assert!(q[2].text.contains("Python or Rust"), "{}", q[2].text);
    }

    #[test]
    fn contradictions_and_unavailable_choices_are_asked() {
        let mut d = full();
        d.languages = vec!["python".into(), "rust".into()];
        assert_eq!(d.open_questions(&offer())[0].field, "language");
        let mut d = full();
        d.languages = vec!["go".into()];
        assert!(d.open_questions(&offer())[0].text.contains("cannot build projects in Go"));
        let mut d = full();
        d.languages = vec!["rust".into()];
        d.kinds = vec!["library".into()];
        let q = d.open_questions(&offer());
        assert_eq!(q[0].field, "kind");
        assert!(q[0].text.contains("in Rust"), "{}", q[0].text);
        let mut d = full();
        d.delivery = Some("gitlab".into());
        assert_eq!(d.open_questions(&offer())[0].field, "delivery");
    }

    #[test]
    fn a_deployment_offers_only_what_its_planner_lists() {
        let entry = |name: &str, language: &str, kind: &str| TemplateEntry {
            name: name.into(),
            language: language.into(),
            kind: kind.into(),
            description: String::new(),
        };
        let py = Offer::from_templates(&TemplatesList {
            templates: vec![entry("python-cli", "python", "cli"), entry("python-lib", "python", "library")],
        });
        assert_eq!(py.languages(), vec!["python"]);
        assert_eq!(py.kinds("python"), vec!["cli", "library"]);
        let mut d = full();
        d.languages = vec!["rust".into()];
        assert!(d.open_questions(&py)[0].text.contains("cannot build projects in Rust"));
    }

    #[test]
    fn answers_merge_and_correct() {
        let mut d = Draft { name: Some("X".into()), features: vec!["a".into()], ..Draft::default() };
        d.merge(&Draft {
            languages: vec!["rust".into()],
            features: vec!["A".into(), "b".into()],
            name: Some("Y".into()),
            ..Draft::default()
        });
        assert_eq!(d.name.as_deref(), Some("Y"));
        assert_eq!(d.languages, vec!["rust"]);
        assert_eq!(d.features, vec!["a", "b"]);
    }
}
