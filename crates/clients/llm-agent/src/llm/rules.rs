//! The `rules` provider: a deterministic extractor that needs no model.
//!
//! What it reads, in this order of trust:
//! 1. Labelled lines — `Name:`, `Summary:` (or `Description:`), `Language:`,
//!    `Kind:` (or `Type:`), `Features:`, `Acceptance:`, `Delivery:` — with
//!    list items either on the label's line (separated by `;`) or as `-`, `*`
//!    or `1.` bullets under it.
//! 2. Keywords where no label settled a field: language names, kind words
//!    ("command-line", "CLI", "library", "web service"…), `called "X"` /
//!    `named X` for the name, and the first plain paragraph of at least five
//!    words as the summary.
//!
//! Its limits, on purpose: it does not understand negation ("not in
//! Rust" mentions Rust), paraphrase or context, and it never invents a value.
//! When it is unsure the completeness check asks; it does not guess. It
//! never claims to be a model: its decisions are recorded with
//! `provider: rules`.

use serde_json::Value;

use super::{ExtractInput, Extraction, Llm, LlmError, Turn};
use crate::spec::Draft;

/// The provider.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules;

impl Llm for Rules {
    fn name(&self) -> &'static str {
        "rules"
    }
    fn model(&self) -> Option<&str> {
        None
    }
    fn can_code(&self) -> bool {
        false
    }
    async fn extract(&self, input: ExtractInput<'_>) -> Result<Extraction, LlmError> {
        Ok(Extraction { draft: extract_answer(input), ..Extraction::default() })
    }
    async fn chat(&self, _: &[Value], _: &[Value], _: u64) -> Result<Turn, LlmError> {
        Err(LlmError::Unsupported("rules", "write code"))
    }
}

/// [`extract`], and when the message answers a single question about the
/// name with one short unlabelled line, that line is the name.
pub fn extract_answer(input: ExtractInput<'_>) -> Draft {
    let mut d = extract(input.subject, input.text);
    if let [only] = input.asked
        && only == "name"
        && d.name.is_none()
    {
        let lines: Vec<&str> = input.text.lines().map(str::trim).filter(|l| !l.is_empty() && !is_greeting(l)).collect();
        if let [line] = lines.as_slice()
            && line.split_whitespace().count() <= 6
            && !line.contains(':')
        {
            d.name = Some(clean(line.trim_end_matches(['.', '!'])));
        }
    }
    d
}

/// Languages recognised by keyword (the templates decide which can be built).
const LANGUAGES: &[(&str, &[&str])] = &[
    ("python", &["python", "python3", "py"]),
    ("rust", &["rust", "cargo"]),
    ("go", &["golang", "go"]),
    ("javascript", &["javascript", "node", "nodejs", "typescript"]),
    ("java", &["java", "kotlin"]),
    ("c++", &["c++", "cpp"]),
];

fn label_of(key: &str) -> Option<&'static str> {
    Some(match key.trim().to_ascii_lowercase().as_str() {
        "name" | "project" | "project name" | "title" => "name",
        "summary" | "description" | "what" | "purpose" => "summary",
        "language" | "lang" | "programming language" => "language",
        "kind" | "type" | "project type" => "kind",
        "features" | "feature" | "requirements" => "features",
        "acceptance" | "acceptance criteria" | "tests" | "done when" => "acceptance",
        "delivery" | "deliver" | "repository" => "delivery",
        _ => return None,
    })
}

/// The words of `text`, lowercase, split on anything but letters, digits and `+`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '+')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Languages named in `text`, in a fixed order.
pub fn languages_in(text: &str, strict: bool) -> Vec<String> {
    let w = words(text);
    LANGUAGES
        .iter()
        .filter(|(_, keys)| {
            keys.iter().any(|k| {
                // "go" and "py" are ordinary words or fragments in prose; only a labelled value counts them.
                (strict || (*k != "go" && *k != "py" && *k != "cargo")) && w.iter().any(|x| x == k)
            })
        })
        .map(|(l, _)| (*l).to_owned())
        .collect()
}

/// Kinds named in `text`.
pub fn kinds_in(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let w = words(text);
    let has = |k: &str| w.iter().any(|x| x == k);
    let mut out = Vec::new();
    if has("cli")
        || lower.contains("command-line")
        || lower.contains("command line")
        || lower.contains("commandline")
        || lower.contains("terminal tool")
    {
        out.push("cli".to_owned());
    }
    if has("library") || has("lib") || has("package") || has("module") || has("sdk") {
        out.push("library".to_owned());
    }
    if lower.contains("web service")
        || lower.contains("web server")
        || lower.contains("rest api")
        || lower.contains("http api")
        || has("service")
        || has("webapp")
        || has("microservice")
    {
        out.push("service".to_owned());
    }
    out
}

fn delivery_in(value: &str) -> Option<String> {
    let v = value.to_lowercase();
    if v.contains("gitlab") {
        Some("gitlab".into())
    } else if v.contains("local") || v.contains("repository") || v.contains("repo") || v.contains("git") {
        Some("local".into())
    } else {
        None
    }
}

fn bullet(line: &str) -> Option<&str> {
    let t = line.trim_start();
    for p in ["- ", "* ", "• "] {
        if let Some(r) = t.strip_prefix(p) {
            return Some(r.trim());
        }
    }
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits < 3 {
        let rest = &t[digits..];
        if let Some(r) = rest.strip_prefix(". ").or_else(|| rest.strip_prefix(") ")) {
            return Some(r.trim());
        }
    }
    None
}

fn is_greeting(p: &str) -> bool {
    let l = p.trim().to_lowercase();
    ["hi", "hello", "hey", "dear", "good morning", "good afternoon", "thanks", "thank you", "regards", "best", "cheers"]
        .iter()
        .any(|g| l.starts_with(g) && l.split_whitespace().count() <= 4)
}

/// Trimmed, and without quotes that wrap the whole value.
fn clean(s: &str) -> String {
    let t = s.trim();
    for q in ['"', '\'', '`'] {
        if t.len() >= 2
            && let Some(inner) = t.strip_prefix(q).and_then(|r| r.strip_suffix(q))
        {
            return inner.trim().to_owned();
        }
    }
    t.to_owned()
}

/// `called "X"` / `named X` (up to the end of the quote, or four words).
fn called(text: &str) -> Option<String> {
    // ASCII lowercase keeps byte offsets, so an index into `lower` is one into `text`.
    let lower = text.to_ascii_lowercase();
    for key in ["called ", "named "] {
        if let Some(i) = lower.find(key) {
            let rest = &text[i + key.len()..];
            let rest = rest.trim_start();
            if let Some(q) = rest.strip_prefix('"').or_else(|| rest.strip_prefix('“')) {
                let end = q.find(['"', '”']).unwrap_or(q.len());
                let n = clean(&q[..end].chars().take(80).collect::<String>());
                return (!n.is_empty()).then_some(n);
            }
            let n: Vec<&str> = rest
                .split_whitespace()
                .take(4)
                .take_while(|w| !w.ends_with(['.', ',', ';', ':']) || w.len() > 1)
                .collect();
            let mut n = n.join(" ");
            if let Some(cut) = n.find(['.', ',', ';', ':', '!', '?']) {
                n.truncate(cut);
            }
            // Only the words that look like a name: stop at the first lowercase word after the first.
            let parts: Vec<&str> = n.split_whitespace().collect();
            let mut keep = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                if i > 0 && p.chars().next().is_some_and(char::is_lowercase) {
                    break;
                }
                keep.push(*p);
            }
            let n = clean(&keep.join(" "));
            return (!n.is_empty()).then_some(n);
        }
    }
    None
}

/// Extract a draft from the new text of a message (and its subject).
pub fn extract(subject: &str, text: &str) -> Draft {
    let mut d = Draft::default();
    let mut lang_label: Option<String> = None;
    let mut kind_label: Option<String> = None;
    let mut current: Option<&'static str> = None;
    let mut plain = Vec::new(); // lines that belong to no label
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            current = None;
            plain.push(String::new());
            continue;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.len() <= 30
            && let Some(label) = label_of(k)
        {
            let v = clean(v);
            current = Some(label);
            match label {
                "name" if !v.is_empty() => d.name = Some(v),
                "summary" if !v.is_empty() => d.summary = Some(v),
                "language" if !v.is_empty() => lang_label = Some(v),
                "kind" if !v.is_empty() => kind_label = Some(v),
                "features" | "acceptance" => {
                    let list = if label == "features" { &mut d.features } else { &mut d.acceptance };
                    list.extend(v.split(';').map(clean).filter(|x| !x.is_empty()));
                }
                "delivery" => d.delivery = delivery_in(&v),
                _ => {}
            }
            continue;
        }
        match (current, bullet(line)) {
            (Some("features"), Some(b)) => d.features.push(clean(b)),
            (Some("acceptance"), Some(b)) => d.acceptance.push(clean(b)),
            (Some("summary"), None) => {
                let s = d.summary.get_or_insert_with(String::new);
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(line.trim());
            }
            _ => {
                current = None;
                plain.push(line.trim().to_owned());
            }
        }
    }
    let prose = format!("{subject}\n{}", plain.join("\n"));
    d.languages = match &lang_label {
        Some(v) => {
            let found = languages_in(v, true);
            if found.is_empty() { vec![v.to_lowercase()] } else { found }
        }
        None => languages_in(&prose, false),
    };
    d.kinds = match &kind_label {
        Some(v) => {
            let found = kinds_in(v);
            if found.is_empty() { vec![v.to_lowercase()] } else { found }
        }
        None => kinds_in(&prose),
    };
    if d.name.is_none() {
        d.name = called(&prose);
    }
    if d.summary.is_none() {
        // The first plain paragraph that says something.
        let paragraphs: Vec<String> = plain
            .split(String::is_empty)
            .map(|p| p.join(" "))
            .filter(|p| !p.trim().is_empty() && !is_greeting(p))
            .collect();
        d.summary = paragraphs.into_iter().find(|p| p.split_whitespace().count() >= 5).map(|p| clean(&p));
    }
    if d.delivery.is_none() && prose.to_lowercase().contains("gitlab") {
        d.delivery = Some("gitlab".into());
    }
    if let Some(s) = &mut d.summary
        && s.chars().count() > 1000
    {
        *s = s.chars().take(1000).collect();
    }
    d.features.truncate(50);
    d.acceptance.truncate(50);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_fields() {
        let d = extract(
            "New project",
            "Hi,\n\nName: Word Counter\nSummary: Counts words in text files.\nLanguage: Python\nKind: CLI\n\
             Features:\n- count words\n- count lines\nAcceptance: counts 3 words in \"a b c\"; exits 0\n\
             Delivery: local repository\n\nThanks",
        );
        assert_eq!(d.name.as_deref(), Some("Word Counter"));
        assert_eq!(d.summary.as_deref(), Some("Counts words in text files."));
        assert_eq!(d.languages, vec!["python"]);
        assert_eq!(d.kinds, vec!["cli"]);
        assert_eq!(d.features, vec!["count words", "count lines"]);
        assert_eq!(d.acceptance, vec!["counts 3 words in \"a b c\"", "exits 0"]);
        assert_eq!(d.delivery.as_deref(), Some("local"));
    }

    #[test]
    fn keywords_and_prose() {
        let d = extract(
            "Tool request",
            "Hello,\n\nI need a command-line tool called \"Temp Convert\" that converts temperatures between \
             Celsius and Fahrenheit.\n\nBest",
        );
        assert_eq!(d.name.as_deref(), Some("Temp Convert"));
        assert_eq!(d.kinds, vec!["cli"]);
        assert!(d.languages.is_empty(), "no language was named");
        assert!(d.summary.unwrap().starts_with("I need a command-line tool"));
    }

    #[test]
    fn a_short_answer_settles_the_asked_field() {
        let d = extract("Re: Tool request", "Python, please.");
        assert_eq!(d.languages, vec!["python"]);
        assert!(d.summary.is_none(), "two words are not a summary");
        let d = extract("Re: x", "Language: Go");
        assert_eq!(d.languages, vec!["go"]);
        let d = extract("Re: x", "Let's go with rust then");
        assert_eq!(d.languages, vec!["rust"], "prose 'go' is not the Go language");
    }

    #[test]
    fn two_languages_are_both_reported() {
        let d = extract("x", "A library in Python or Rust, whichever is easier.");
        assert_eq!(d.languages, vec!["python", "rust"]);
        assert_eq!(d.kinds, vec!["library"]);
    }

    #[test]
    fn hostile_text_is_just_text() {
        for t in [
            "",
            "\0\0\0",
            "Name:",
            ":::::",
            "Features:\n-\n- \n*",
            &"x".repeat(100_000),
            "named",
            "called \"",
            "called \"ÄÖÜ€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€",
            "İİİİ called x",
        ] {
            let _ = extract(t, t);
        }
    }
}
