//! What the agent understood of a request (a [`Draft`]: every field may be
//! missing), the deterministic completeness check that decides whether to
//! ask or to proceed, and the questions it asks. Providers only extract;
//! they never decide completeness, so the same draft gets the same answer
//! whatever model is configured.

use std::collections::BTreeSet;

use mcp_types::plan::TemplatesList;
pub use mcp_types::request::Lang;
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

    /// What this deployment builds, in words: "a command-line tool or a
    /// library in Python; a command-line tool in Rust".
    pub fn describe(&self, lang: Lang) -> String {
        let parts: Vec<String> = self
            .languages()
            .iter()
            .map(|l| {
                let kinds: Vec<String> = self.kinds(l).iter().map(|k| kind_words(k, lang)).collect();
                match lang {
                    Lang::Pl => format!("{} w języku {}", or_list(&kinds, lang), cap(l)),
                    _ => format!("{} in {}", or_list(&kinds, lang), cap(l)),
                }
            })
            .collect();
        parts.join("; ")
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
    /// The short form (the second round, so the same question is never sent twice).
    pub short: String,
    /// The form with an example answer (later rounds: the question was not understood twice).
    pub example: String,
}

impl Question {
    /// The wording for round `round` (1-based): never the same twice in a row.
    pub fn for_round(&self, round: i64) -> &str {
        match round {
            ..=1 => &self.text,
            2 => &self.short,
            _ => &self.example,
        }
    }
}

/// English or Polish, picked by the request's language.
fn t<'a>(lang: Lang, en: &'a str, pl: &'a str) -> &'a str {
    match lang {
        Lang::Pl => pl,
        _ => en,
    }
}

/// Human words for a kind.
pub fn kind_words(kind: &str, lang: Lang) -> String {
    match (kind, lang) {
        ("cli", Lang::Pl) => "narzędzie wiersza poleceń".into(),
        ("library", Lang::Pl) => "biblioteka".into(),
        ("service", Lang::Pl) => "usługa sieciowa (REST API)".into(),
        ("cli", _) => "a command-line tool".into(),
        ("library", _) => "a library".into(),
        ("service", _) => "a web service".into(),
        (other, Lang::Pl) => other.to_owned(),
        (other, _) if other.starts_with(['a', 'e', 'i', 'o', 'u']) => format!("an {other}"),
        (other, _) => format!("a {other}"),
    }
}

/// "a, b or c" / "a, b lub c".
pub fn or_list(items: &[String], lang: Lang) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} {} {last}", init.join(", "), t(lang, "or", "lub")),
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// Whether a summary says enough to build from.
fn summary_settled(s: Option<&str>) -> bool {
    s.is_some_and(|s| s.split_whitespace().count() >= 3)
}

impl Draft {
    /// Fold what a later message said into this draft. Anything the new
    /// message states replaces the old value (an answer may correct), and
    /// lists grow without duplicates. Used for a first message; answers go
    /// through [`Draft::merge_answer`].
    pub fn merge(&mut self, newer: &Draft) {
        let all: BTreeSet<&str> = ["name", "summary", "language", "kind", "delivery"].into_iter().collect();
        self.merge_answer(newer, &all, &[]);
    }

    /// Fold an answer into this draft without erasing the request: a field
    /// the draft has settled changes only when the answer states it on
    /// purpose (`explicit`: a label, "change the name to X") or when it was
    /// among the fields just asked about (`asked`: open, contradictory or not
    /// buildable). Everything else an answer says fills open fields only —
    /// "It's a command-line tool, I want to run it from the terminal" settles
    /// the kind and leaves the summary alone. Lists grow without duplicates.
    pub fn merge_answer(&mut self, newer: &Draft, explicit: &BTreeSet<&str>, asked: &[String]) {
        let may = |field: &str, settled: bool| !settled || explicit.contains(field) || asked.iter().any(|a| a == field);
        if newer.name.is_some() && may("name", self.name.as_deref().is_some_and(|n| !n.trim().is_empty())) {
            self.name.clone_from(&newer.name);
        }
        // A short summary is kept only where there was none (the question still asks for more).
        let better =
            summary_settled(newer.summary.as_deref()) && may("summary", summary_settled(self.summary.as_deref()));
        if better || (self.summary.is_none() && newer.summary.is_some()) {
            self.summary.clone_from(&newer.summary);
        }
        if !newer.languages.is_empty() && may("language", self.languages.len() == 1) {
            self.languages.clone_from(&newer.languages);
        }
        if !newer.kinds.is_empty() && may("kind", self.kinds.len() == 1) {
            self.kinds.clone_from(&newer.kinds);
        }
        for (mine, theirs) in [(&mut self.features, &newer.features), (&mut self.acceptance, &newer.acceptance)] {
            for f in theirs {
                if !mine.iter().any(|m| m.eq_ignore_ascii_case(f)) {
                    mine.push(f.clone());
                }
            }
        }
        if newer.delivery.is_some() && may("delivery", self.delivery.is_some()) {
            self.delivery.clone_from(&newer.delivery);
        }
    }

    /// Every missing or contradictory field, with its question, in a fixed
    /// order, in the requester's language.
    pub fn open_questions(&self, offer: &Offer, lang: Lang) -> Vec<Question> {
        let mut q = Vec::new();
        let mut ask = |field: &str, text: String, short: String, example: String| {
            q.push(Question { field: field.into(), text, short, example });
        };
        if self.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
            ask(
                "name",
                t(lang, "What should the project be called? (for example \"Name: Word Counter\")", "Jak ma się nazywać projekt? (na przykład „Nazwa: Licznik słów”)").into(),
                t(lang, "Name: what is the project called?", "Nazwa: jak ma się nazywać projekt?").into(),
                t(lang, "I still do not know the project's name; please answer with one line such as \"Name: Photo Sorter\".", "Nadal nie znam nazwy projektu; proszę odpisać jedną linią, np. „Nazwa: Sorter zdjęć”.").into(),
            );
        }
        if !summary_settled(self.summary.as_deref()) {
            ask(
                "summary",
                t(lang, "In a sentence or two, what should it do? (\"Summary: ...\")", "Co ma robić, w jednym lub dwóch zdaniach? („Opis: ...”)").into(),
                t(lang, "Summary: what should it do, in one sentence?", "Opis: co ma robić, w jednym zdaniu?").into(),
                t(lang, "I still do not know what it should do; please answer with one line such as \"Summary: renames photos by the date they were taken\".", "Nadal nie wiem, co program ma robić; proszę odpisać jedną linią, np. „Opis: zmienia nazwy zdjęć według daty wykonania”.").into(),
            );
        }
        let langs = offer.languages();
        // For people: "Python or Rust", not "python or rust".
        let shown: Vec<String> = langs.iter().map(|l| cap(l)).collect();
        let lang_list = or_list(&shown, lang);
        let lang_example = format!(
            "{} \"{}: {}\".",
            t(
                lang,
                "I still do not know the language; please answer with one line such as",
                "Nadal nie znam języka; proszę odpisać jedną linią, np."
            ),
            t(lang, "Language", "Język"),
            shown.first().cloned().unwrap_or_default()
        );
        match self.languages.as_slice() {
            [] => ask(
                "language",
                match lang {
                    Lang::Pl => format!("W jakim języku programowania ma być napisany? Mogę zbudować: {lang_list}."),
                    _ => format!("Which programming language should it be written in? I can build {lang_list}."),
                },
                format!("{}: {lang_list}?", t(lang, "Language", "Język")),
                lang_example,
            ),
            [one] if !langs.contains(one) => ask(
                "language",
                match lang {
                    Lang::Pl => format!(
                        "Nie potrafię jeszcze budować projektów w języku {}; czy może być {lang_list}?",
                        cap(one)
                    ),
                    _ => format!("I cannot build projects in {} yet; would {lang_list} do?", cap(one)),
                },
                match lang {
                    Lang::Pl => format!("Język: {} jest niedostępny; {lang_list}?", cap(one)),
                    _ => format!("Language: {} is not available; {lang_list}?", cap(one)),
                },
                lang_example,
            ),
            [_] => {}
            many => {
                let m = or_list(&many.iter().map(|l| cap(l)).collect::<Vec<_>>(), lang);
                ask(
                    "language",
                    match lang {
                        Lang::Pl => format!("W prośbie pojawia się {m}; który jeden język wybrać?"),
                        _ => format!("The request mentions {m}; which one language should it be?"),
                    },
                    match lang {
                        Lang::Pl => format!("Język: który z {m}?"),
                        _ => format!("Language: one of {m}?"),
                    },
                    lang_example,
                )
            }
        }
        let language = self.language();
        let kinds: Vec<String> = match &language {
            Some(l) if langs.contains(l) => offer.kinds(l),
            _ => {
                let all: BTreeSet<String> = offer.pairs.iter().map(|(_, k)| k.clone()).collect();
                all.into_iter().collect()
            }
        };
        let kind_list = or_list(&kinds.iter().map(|k| kind_words(k, lang)).collect::<Vec<_>>(), lang);
        let kind_example = format!(
            "{} \"{}: {}\".",
            t(
                lang,
                "I still do not know what kind of program it is; please answer with one line such as",
                "Nadal nie wiem, jakiego rodzaju to program; proszę odpisać jedną linią, np."
            ),
            t(lang, "Kind", "Rodzaj"),
            kinds
                .first()
                .map(|k| match (k.as_str(), lang) {
                    ("cli", Lang::Pl) => "wiersz poleceń".to_owned(),
                    ("cli", _) => "command-line tool".to_owned(),
                    (k, _) => k.to_owned(),
                })
                .unwrap_or_default()
        );
        match self.kinds.as_slice() {
            [] => ask(
                "kind",
                match lang {
                    Lang::Pl => format!("Jakiego rodzaju to program: {kind_list}?"),
                    _ => format!("What kind of program is it: {kind_list}?"),
                },
                format!("{}: {kind_list}?", t(lang, "Kind", "Rodzaj")),
                kind_example,
            ),
            [one] if !kinds.contains(one) => {
                let lang_part = language.as_deref().map(|l| match lang {
                    Lang::Pl => format!("w języku {} ", cap(l)),
                    _ => format!("in {} ", cap(l)),
                });
                ask(
                    "kind",
                    match lang {
                        Lang::Pl => format!(
                            "Nie potrafię jeszcze zbudować takiego programu ({}) {}; czy może być: {kind_list}?",
                            kind_words(one, lang),
                            lang_part.unwrap_or_default().trim_end()
                        ),
                        _ => format!(
                            "I cannot build {} {}yet; would {kind_list} do?",
                            kind_words(one, lang),
                            lang_part.unwrap_or_default()
                        ),
                    },
                    match lang {
                        Lang::Pl => format!("Rodzaj: {} jest niedostępny; {kind_list}?", kind_words(one, lang)),
                        _ => format!("Kind: {} is not available; {kind_list}?", kind_words(one, lang)),
                    },
                    kind_example,
                )
            }
            [_] => {}
            many => {
                let m = or_list(&many.iter().map(|k| kind_words(k, lang)).collect::<Vec<_>>(), lang);
                ask(
                    "kind",
                    match lang {
                        Lang::Pl => format!("W prośbie pojawia się {m}; który rodzaj wybrać?"),
                        _ => format!("The request mentions {m}; which one should it be?"),
                    },
                    match lang {
                        Lang::Pl => format!("Rodzaj: {m}?"),
                        _ => format!("Kind: {m}?"),
                    },
                    kind_example,
                )
            }
        }
        if let Some(d) = &self.delivery
            && d != "local"
        {
            ask(
                "delivery",
                match lang {
                    Lang::Pl => format!(
                        "Dostarczenie do {d} nie jest dostępne w tej instalacji; czy może być lokalne repozytorium git?"
                    ),
                    _ => format!(
                        "Delivery to {d} is not available in this installation; may I deliver a local git repository instead?"
                    ),
                },
                t(
                    lang,
                    "Delivery: is a local git repository fine?",
                    "Dostarczenie: czy lokalne repozytorium git wystarczy?",
                )
                .into(),
                t(
                    lang,
                    "Please answer \"Delivery: local\" if a local git repository is fine.",
                    "Proszę odpisać „Dostarczenie: lokalne”, jeśli lokalne repozytorium git wystarczy.",
                )
                .into(),
            );
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
    pub fn understood(&self, lang: Lang) -> String {
        let label = |en: &'static str, pl: &'static str| t(lang, en, pl);
        let mut lines = Vec::new();
        if let Some(n) = &self.name {
            lines.push(format!("- {}: {n}", label("Name", "Nazwa")));
        }
        if let Some(s) = &self.summary {
            lines.push(format!("- {}: {s}", label("Summary", "Opis")));
        }
        if !self.languages.is_empty() {
            lines.push(format!("- {}: {}", label("Language", "Język"), self.languages.join(", ")));
        }
        if !self.kinds.is_empty() {
            let k: Vec<String> = self.kinds.iter().map(|k| kind_words(k, lang)).collect();
            lines.push(format!("- {}: {}", label("Kind", "Rodzaj"), k.join(", ")));
        }
        for f in &self.features {
            lines.push(format!("- {}: {f}", label("Feature", "Funkcja")));
        }
        for a in &self.acceptance {
            lines.push(format!("- {}: {a}", label("Acceptance", "Akceptacja")));
        }
        if lines.is_empty() { format!("- {}", label("nothing yet", "jeszcze nic")) } else { lines.join("\n") }
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
        assert!(full().open_questions(&offer(), Lang::En).is_empty());
        let spec = full().to_spec();
        assert_eq!(spec.language, "python");
        assert_eq!(spec.delivery, "local");
    }

    #[test]
    fn every_missing_field_is_asked_in_order() {
        let q = Draft::default().open_questions(&offer(), Lang::En);
        let fields: Vec<&str> = q.iter().map(|q| q.field.as_str()).collect();
        assert_eq!(fields, REQUIRED);
        assert!(q[2].text.contains("Python or Rust"), "{}", q[2].text);
    }

    #[test]
    fn contradictions_and_unavailable_choices_are_asked() {
        let mut d = full();
        d.languages = vec!["python".into(), "rust".into()];
        assert_eq!(d.open_questions(&offer(), Lang::En)[0].field, "language");
        let mut d = full();
        d.languages = vec!["go".into()];
        assert!(d.open_questions(&offer(), Lang::En)[0].text.contains("cannot build projects in Go"));
        let mut d = full();
        d.languages = vec!["rust".into()];
        d.kinds = vec!["library".into()];
        let q = d.open_questions(&offer(), Lang::En);
        assert_eq!(q[0].field, "kind");
        assert!(q[0].text.contains("in Rust"), "{}", q[0].text);
        let mut d = full();
        d.delivery = Some("gitlab".into());
        assert_eq!(d.open_questions(&offer(), Lang::En)[0].field, "delivery");
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
        assert!(d.open_questions(&py, Lang::En)[0].text.contains("cannot build projects in Rust"));
    }

    #[test]
    fn an_answer_fills_open_fields_and_changes_settled_ones_only_on_purpose() {
        let mut d = Draft {
            name: Some("PhotoSort".into()),
            summary: Some("rename photos by the date they were taken".into()),
            ..Draft::default()
        };
        let answer = Draft {
            summary: Some("It's a command-line tool, I want to run it from the terminal".into()),
            kinds: vec!["cli".into()],
            languages: vec!["python".into()],
            ..Draft::default()
        };
        let asked = vec!["language".to_owned(), "kind".to_owned()];
        d.merge_answer(&answer, &BTreeSet::new(), &asked);
        assert_eq!(d.summary.as_deref(), Some("rename photos by the date they were taken"));
        assert_eq!((d.languages.as_slice(), d.kinds.as_slice()), (&["python".to_owned()][..], &["cli".to_owned()][..]));
        // Labelled or "change the name to": a correction.
        d.merge_answer(
            &Draft { name: Some("Photo Sorter".into()), ..Draft::default() },
            &BTreeSet::from(["name"]),
            &[],
        );
        assert_eq!(d.name.as_deref(), Some("Photo Sorter"));
        d.merge_answer(&Draft { name: Some("terminal".into()), ..Draft::default() }, &BTreeSet::new(), &[]);
        assert_eq!(d.name.as_deref(), Some("Photo Sorter"), "a name in prose does not replace a settled one");
    }

    #[test]
    fn questions_in_polish_and_never_twice_the_same() {
        let q = Draft::default().open_questions(&offer(), Lang::Pl);
        assert!(q[2].text.contains("Python lub Rust"), "{}", q[2].text);
        for q in &q {
            assert!(q.text != q.short && q.short != q.example, "{q:?}");
            assert_ne!(q.for_round(2), q.for_round(3));
        }
        assert!(offer().describe(Lang::En).contains("a command-line tool or a library in Python"));
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
