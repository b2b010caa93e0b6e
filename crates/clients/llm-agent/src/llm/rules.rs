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
/// name with one short unlabelled line, that line is the name; when it
/// answers a question about the summary, its first sentence of three words
/// or more is the summary.
pub fn extract_answer(input: ExtractInput<'_>) -> Draft {
    let mut d = extract(input.subject, input.text);
    if input.asked.iter().any(|a| a == "summary") && d.summary.is_none() {
        let body = body_of(input.text);
        d.summary = body
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .find(|p| p.split_whitespace().count() >= 3 && !p.contains(':') && !is_intent(p))
            .map(|p| clean(&p));
    }
    if let [only] = input.asked
        && only == "name"
        && d.name.is_none()
    {
        let body = body_of(input.text);
        let lines: Vec<&str> = body.lines().map(str::trim).filter(|l| !l.is_empty() && !is_greeting(l)).collect();
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
    ("python", &["python", "python3", "py", "pythonie", "pythona", "pythonem", "pytonie"]),
    ("rust", &["rust", "cargo", "ruście", "ruscie", "rusta", "rustem"]),
    ("go", &["golang", "go"]),
    ("javascript", &["javascript", "node", "nodejs", "typescript"]),
    ("java", &["java", "kotlin"]),
    ("c++", &["c++", "cpp"]),
];

fn label_of(key: &str) -> Option<&'static str> {
    Some(match key.trim().to_lowercase().as_str() {
        "name" | "project" | "project name" | "title" | "nazwa" | "nazwa projektu" | "projekt" | "tytuł" => "name",
        "summary" | "description" | "what" | "purpose" | "opis" | "cel" | "podsumowanie" | "co ma robić" => "summary",
        "language" | "lang" | "programming language" | "język" | "jezyk" | "język programowania" => "language",
        "kind" | "type" | "project type" | "rodzaj" | "typ" | "rodzaj projektu" => "kind",
        "features" | "feature" | "requirements" | "funkcje" | "funkcjonalności" | "wymagania" | "funkcjonalnosci" => {
            "features"
        }
        "acceptance"
        | "acceptance criteria"
        | "tests"
        | "done when"
        | "kryteria akceptacji"
        | "akceptacja"
        | "testy" => "acceptance",
        "delivery" | "deliver" | "repository" | "dostarczenie" | "repozytorium" | "dostawa" => "delivery",
        _ => return None,
    })
}

/// The words of `text`, lowercase, split on anything but letters, digits and `+`.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '+')).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// Words after which "go" is the language: "in Go", "w Go", "using Go".
const GO_BEFORE: &[&str] = &["in", "w", "using", "użyciu", "uzyciu"];

/// Languages named in `text`, in a fixed order.
pub fn languages_in(text: &str, strict: bool) -> Vec<String> {
    let w = words(text);
    LANGUAGES
        .iter()
        .filter(|(_, keys)| {
            keys.iter().any(|k| {
                // "go" and "py" are ordinary words or fragments in prose; only a labelled value counts them —
                // or "go" right after "in", "w" or "using" ("a web service in Go").
                (strict || (*k != "go" && *k != "py" && *k != "cargo")) && w.iter().any(|x| x == k)
            }) || (!strict
                && keys.contains(&"go")
                && w.windows(2).any(|p| p[1] == "go" && GO_BEFORE.contains(&p[0].as_str())))
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
    let any = |list: &[&str]| list.iter().any(|k| lower.contains(k));
    if has("cli")
        || has("terminal")
        || has("terminala")
        || has("terminalu")
        || has("konsoli")
        || has("konsolowe")
        || has("konsolowy")
        || has("konsolowa")
        || any(&["command-line", "command line", "commandline", "wiersza poleceń", "wiersza polecen", "linii poleceń"])
        || any(&["linii komend", "linii poleceń", "wiersza komend"])
    {
        out.push("cli".to_owned());
    }
    if has("library") || has("lib") || has("package") || has("module") || has("sdk") || any(&["bibliotek", "pakiet"]) {
        out.push("library".to_owned());
    }
    if any(&["web service", "web server", "rest api", "http api", "api rest", "api http", "usługa sieciowa"])
        || any(&["usługę sieciową", "serwer http", "serwer www", "web api", "http service", "http server"])
        || has("service")
        || has("webapp")
        || has("microservice")
        || any(&["usług", "serwis"])
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

/// Openings of a greeting line ("Hi Agent,", "Dzień dobry,").
const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "dear",
    "good morning",
    "good afternoon",
    "good evening",
    "greetings",
    "cześć",
    "czesc",
    "dzień dobry",
    "dzien dobry",
    "witam",
    "witaj",
    "hej",
    "siema",
    "szanowni",
    "szanowny",
    "szanowna",
];

/// Lines that end the message: what follows is a signature.
const SIGN_OFFS: &[&str] = &[
    "thanks",
    "thank you",
    "thanks a lot",
    "many thanks",
    "thanks in advance",
    "thx",
    "cheers",
    "best",
    "best regards",
    "regards",
    "kind regards",
    "warm regards",
    "all the best",
    "br",
    "yours",
    "sincerely",
    "pozdrawiam",
    "pozdrowienia",
    "serdecznie pozdrawiam",
    "dzięki",
    "dzieki",
    "dziękuję",
    "dziekuje",
    "z góry dziękuję",
    "z gory dziekuje",
    "z poważaniem",
    "z powazaniem",
    "--",
];

fn is_greeting(p: &str) -> bool {
    let l = p.trim().to_lowercase();
    let short = l.split_whitespace().count() <= 4;
    (GREETINGS.iter().any(|g| l.starts_with(g)) && short) || is_sign_off(&l)
}

/// A line that closes the message ("Thanks,", "Pozdrawiam", "-- ").
pub fn is_sign_off(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    let l = l.trim_end_matches([',', '.', '!', ' ']);
    SIGN_OFFS.contains(&l) || line.trim_end() == "--" || line == "-- "
}

/// The message without its greeting line and without the sign-off and
/// everything after it (the signature): greetings and names never reach a
/// summary.
pub fn body_of(text: &str) -> String {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if is_sign_off(line) {
            break;
        }
        if i < 3 && out.iter().all(|l: &&str| l.trim().is_empty()) && is_greeting(line) {
            continue;
        }
        out.push(line);
    }
    out.join("\n")
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

/// Phrases a name follows, in English and Polish. Lowercase; the Polish
/// ones with their letters as written (ASCII lowercasing leaves them).
const NAMING: &[&str] = &[
    "change the name to ",
    "rename it to ",
    "rename to ",
    "let's call it ",
    "lets call it ",
    "call it ",
    "name it ",
    "called ",
    "named ",
    "zmień nazwę na ",
    "zmien nazwe na ",
    "nazwij go ",
    "nazwij ją ",
    "nazwij to ",
    "nazwij ja ",
    "niech się nazywa ",
    "niech sie nazywa ",
    "o nazwie ",
    "nazwany ",
    "nazwana ",
    "nazwane ",
];

/// The phrases of [`NAMING`] that only describe a name ("a tool called X");
/// every other one (re)names on purpose ("call it X", "change the name to X").
const DESCRIBING: &[&str] = &["called ", "named ", "o nazwie ", "nazwany ", "nazwana ", "nazwane "];

/// Whether `lower` (ASCII-lowercased) names the project on purpose.
fn renames(lower: &str) -> bool {
    NAMING.iter().filter(|k| !DESCRIBING.contains(k)).any(|k| lower.contains(k))
}

/// `called "X"` / `named X` / `o nazwie X` (up to the end of the quote, or four words).
fn called(text: &str) -> Option<String> {
    // ASCII lowercase keeps byte offsets, so an index into `lower` is one into `text`.
    let lower = text.to_ascii_lowercase();
    for key in NAMING {
        // At a word's start: "renamed by date" names nothing.
        let at_word = |i: usize| lower[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        if let Some((i, _)) = lower.match_indices(key).find(|(i, _)| at_word(*i)) {
            let Some(rest) = text.get(i + key.len()..) else { continue };
            let rest = rest.trim_start();
            if let Some(q) =
                rest.strip_prefix('"').or_else(|| rest.strip_prefix('“')).or_else(|| rest.strip_prefix('„'))
            {
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
    let body = body_of(text);
    for raw in body.lines() {
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
    // Keywords count in the subject, the unlabelled lines and the labelled summary ("Opis: Biblioteka do…").
    let prose = format!("{subject}\n{}\n{}", plain.join("\n"), d.summary.as_deref().unwrap_or_default());
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
            // A short question ("can you help me with a project?") asks; it does not describe. A long one is
            // a polite request ("could you build a small REST API that reports …?").
            .filter(|p| {
                !p.trim().is_empty()
                    && !is_greeting(p)
                    && (!p.trim_end().ends_with('?') || p.split_whitespace().count() >= 10)
            })
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

/// Fields a message states on purpose — by a label, or by a phrase that
/// (re)names or corrects — as opposed to what keywords in its prose
/// suggest. Only these may change a field an earlier message settled; see
/// `Draft::merge_answer`. Deterministic, whatever provider read the text.
pub fn explicit_fields(text: &str) -> std::collections::BTreeSet<&'static str> {
    let body = body_of(text);
    let mut out = std::collections::BTreeSet::new();
    for line in body.lines() {
        if let Some((k, v)) = line.split_once(':')
            && k.len() <= 30
            && let Some(label) = label_of(k)
            && (!v.trim().is_empty() || matches!(label, "features" | "acceptance"))
        {
            out.insert(label);
        }
    }
    let lower = body.to_ascii_lowercase();
    if renames(&lower) {
        out.insert("name");
    }
    const CORRECTING: &[&str] = &[
        "instead",
        "actually",
        "rather",
        "switch to",
        "change it to",
        "change to",
        "make it",
        "on second thought",
        "zamiast",
        "jednak",
        "zmień na",
        "zmien na",
        "wolę",
        "wole",
        "lepiej",
    ];
    if CORRECTING.iter().any(|k| lower.contains(k)) {
        if !languages_in(&body, false).is_empty() {
            out.insert("language");
        }
        if !kinds_in(&body).is_empty() {
            out.insert("kind");
        }
    }
    out
}

/// What a short message asks the fleet to do with its request, besides
/// answering questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Call the request off ("never mind", "cancel", "anuluj", "Neither").
    Cancel,
    /// Build a failed project again ("please try again", "spróbuj ponownie").
    Retry,
}

const CANCEL: &[&str] = &[
    "never mind",
    "nevermind",
    "cancel",
    "forget it",
    "forget about it",
    "don't bother",
    "dont bother",
    "no longer needed",
    "not needed anymore",
    "no longer need",
    "don't need it",
    "dont need it",
    "neither",
    "call it off",
    "stop the request",
    "anuluj",
    "anulować",
    "anulowac",
    "rezygnuję",
    "rezygnuje",
    "nieaktualne",
    "już nieaktualne",
    "nie trzeba",
    "nie potrzebuję",
    "nie potrzebuje",
    "odwołuję",
    "odwoluje",
    "zapomnij",
    "żadne",
    "zadne",
    "żaden",
    "zaden",
    "porzuć",
    "porzuc",
];

const RETRY: &[&str] = &[
    "try again",
    "retry",
    "once more",
    "one more time",
    "rerun",
    "re-run",
    "run it again",
    "build it again",
    "spróbuj ponownie",
    "sprobuj ponownie",
    "spróbuj jeszcze raz",
    "sprobuj jeszcze raz",
    "ponów",
    "ponow",
    "jeszcze raz",
    "ponownie",
];

fn is_intent(text: &str) -> bool {
    intent(text).is_some()
}

/// The intent of a short reply (at most twelve words of its own, no labels):
/// a long message that mentions "cancel" describes a project, it does not
/// call one off.
pub fn intent(text: &str) -> Option<Intent> {
    let body = body_of(text);
    let said: Vec<String> = words(&body);
    // An answer that names a language or a kind ("Neither, make it Go") answers; it does not cancel.
    if said.is_empty()
        || said.len() > 12
        || !explicit_fields(&body).is_empty()
        || !languages_in(&body, false).is_empty()
        || !kinds_in(&body).is_empty()
    {
        return None;
    }
    let joined = format!(" {} ", said.join(" "));
    let has = |list: &[&str]| list.iter().any(|k| joined.contains(&format!(" {} ", words(k).join(" "))));
    if has(CANCEL) {
        Some(Intent::Cancel)
    } else if has(RETRY) {
        Some(Intent::Retry)
    } else {
        None
    }
}

/// The language a message is written in: Polish when it uses Polish letters
/// or at least two words only Polish has, English otherwise.
pub fn lang_of(subject: &str, text: &str) -> mcp_types::request::Lang {
    const POLISH: &[&str] = &[
        "jest",
        "się",
        "sie",
        "nie",
        "oraz",
        "który",
        "która",
        "które",
        "ktory",
        "ktora",
        "ktore",
        "proszę",
        "prosze",
        "chcę",
        "chce",
        "potrzebuję",
        "potrzebuje",
        "narzędzie",
        "narzedzie",
        "nazwie",
        "dzień",
        "dobry",
        "cześć",
        "czesc",
        "witam",
        "pozdrawiam",
        "dzięki",
        "dzieki",
        "dla",
        "żeby",
        "zeby",
        "plików",
        "plikow",
        "pliki",
        "pythonie",
        "rodzaj",
        "język",
        "jezyk",
        "nazwa",
        "opis",
        "anuluj",
        "może",
        "moze",
        "mój",
        "moj",
        "ma",
        "tak",
        "albo",
        "lub",
        "czy",
        "jak",
        "zrób",
        "zrob",
        "napisz",
        "zbuduj",
        "bibliotekę",
        "nazwij",
        "być",
        "byc",
        "chciałbym",
        "chciałabym",
        "chcialbym",
        "chcialabym",
        "potrzebny",
        "potrzebna",
        "zrobić",
        "zrobic",
    ];
    let all = format!("{subject}\n{}", body_of(text));
    let letters = all.chars().filter(|c| "ąćęłńóśźżĄĆĘŁŃÓŚŹŻ".contains(*c)).count();
    let w = words(&all);
    // Endings English words rarely have (konsolowy, konwersji, plików, miesięcznych).
    const ENDINGS: &[&str] =
        &["owy", "owa", "owe", "cji", "sji", "ości", "osci", "ych", "ymi", "ów", "ać", "ić", "ować", "owac"];
    let polish_words = w
        .iter()
        .filter(|x| POLISH.contains(&x.as_str()) || (x.chars().count() > 5 && ENDINGS.iter().any(|e| x.ends_with(e))))
        .count();
    if letters >= 2 || polish_words >= 2 { mcp_types::request::Lang::Pl } else { mcp_types::request::Lang::En }
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
    fn polish_is_read_and_recognised() {
        use mcp_types::request::Lang;
        let d = extract(
            "Prośba",
            "Cześć,\n\npotrzebuję narzędzia wiersza poleceń w Pythonie o nazwie licznik.\n\nDzięki,\nAnia",
        );
        assert_eq!(d.name.as_deref(), Some("licznik"));
        assert_eq!(d.languages, vec!["python"]);
        assert_eq!(d.kinds, vec!["cli"]);
        let d = extract("x", "Nazwa: Żółw\nOpis: Rysuje żółwia.\nJęzyk: Rust\nRodzaj: biblioteka");
        assert_eq!((d.name.as_deref(), d.languages.as_slice()), (Some("Żółw"), &["rust".to_owned()][..]));
        assert_eq!(d.kinds, vec!["library"]);
        for (text, lang) in [
            ("Konsolowy program do konwersji jednostek miary, nazwij go Konwerter.", Lang::Pl),
            ("Potrzebuję narzędzia w Pythonie.", Lang::Pl),
            ("Prosze o program, ktory liczy slowa", Lang::Pl),
            ("I need a shadowy command-line tool in Python.", Lang::En),
            ("Name: Word Counter\nLanguage: Python", Lang::En),
        ] {
            assert_eq!(lang_of("", text), lang, "{text}");
        }
    }

    #[test]
    fn names_as_people_give_them() {
        for (text, name) in [
            ("let's call it hashr. It hashes files.", Some("hashr")),
            ("Call it PhotoSort. It sorts photos.", Some("PhotoSort")),
            ("Please change the name to Calendar Pro.", Some("Calendar Pro")),
            ("biblioteka o nazwie Parser, która parsuje INI", Some("Parser")),
            ("Nazwij go Zegar. Ma wyświetlać czas.", Some("Zegar")),
            ("files are renamed by date so they sort nicely", None),
        ] {
            assert_eq!(extract("", text).name.as_deref(), name, "{text}");
        }
        assert!(explicit_fields("Please change the name to X.").contains("name"));
        assert!(explicit_fields("Actually, make it Rust instead.").contains("language"));
        assert!(explicit_fields("Rust, please.").is_empty());
        assert!(explicit_fields("Language: Rust").contains("language"));
    }

    #[test]
    fn intents_are_short_replies_only() {
        for t in [
            "Never mind, I found an existing one.",
            "Please cancel this request.",
            "Neither.",
            "Anuluj, proszę.",
            "Już nieaktualne, dziękuję.",
        ] {
            assert_eq!(intent(t), Some(Intent::Cancel), "{t}");
        }
        for t in ["Please try again.", "Spróbuj ponownie", "could you retry?"] {
            assert_eq!(intent(t), Some(Intent::Retry), "{t}");
        }
        for t in [
            "A tool that finds subscriptions and drafts emails to cancel them, with a summary per month and a total.",
            "Drag and drop it into the window.",
            "Neither, make it a Python library.",
            "Summary: cancel stale jobs",
            "Python",
        ] {
            assert_eq!(intent(t), None, "{t}");
        }
    }

    #[test]
    fn greetings_and_signatures_never_reach_a_summary() {
        let d = extract(
            "x",
            "Good morning!\n\nHope you're well.\n\nI need a Python library called Slugger that turns titles into slugs.\n\nKind regards,\nPeter Parker\nParker Industries",
        );
        assert_eq!(d.summary.as_deref(), Some("I need a Python library called Slugger that turns titles into slugs."));
        let d = extract("x", "Hello, can you help me with a project?");
        assert!(d.summary.is_none(), "a question is not a summary");
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
