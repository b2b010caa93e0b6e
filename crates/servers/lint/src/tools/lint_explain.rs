//! `lint_explain`: a rule's documentation where a tool carries it offline
//! (`ruff rule X`, `rustc --explain E0XXX`), else the link to it — and the
//! answer says which of the two it is.

use std::time::Duration;

use mcp_core::jobs::Run;
use mcp_core::prelude::*;

use crate::Lint;
use crate::parse;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The rule as a finding names it: `F401`, `E501`, `B602`, `SC2086`, `DL3007`, `E0308`,
    /// `clippy::needless_return`, `arg-type`, `key-duplicates`.
    pub rule: String,
    /// The tool that reported it (a finding's `tool`); guessed from the rule when absent.
    #[serde(default)]
    pub tool: Option<String>,
}

/// The answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The rule.
    pub rule: String,
    /// The tool whose rule it is.
    pub tool: String,
    /// `documentation` (the text is the tool's own documentation of the rule) or `link`
    /// (only a link is known; the text, if any, is a one-line pointer).
    pub kind: String,
    /// The documentation text (with `kind: documentation`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Where the rule is documented online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Lint> {
    Tool::new(
        "lint_explain",
        "Explain a lint rule: the tool's own documentation text where it has it offline (ruff rules via `ruff rule`, \
         rustc error codes via `rustc --explain`), otherwise the documentation link (clippy lints, shellcheck, hadolint, \
         bandit, mypy, yamllint, flake8/pycodestyle codes). `kind` says whether the answer is documentation text or only a link.",
        Annotations::read_only(),
        run,
    )
    .title("Explain a lint rule")
}

fn valid(rule: &str) -> bool {
    !rule.is_empty()
        && rule.len() <= 100
        && !rule.starts_with('-')
        && rule.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-:".contains(&b))
}

/// The tool a rule belongs to, from its shape.
fn guess(rule: &str) -> &'static str {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if rule.starts_with("clippy::") {
        "clippy"
    } else if rule.len() == 5 && rule.starts_with('E') && digits(&rule[1..]) && rule.as_bytes()[1] == b'0' {
        "rustc"
    } else if rule.starts_with("SC") && digits(&rule[2..]) {
        "shellcheck"
    } else if rule.starts_with("DL") && digits(&rule[2..]) {
        "hadolint"
    } else if rule.starts_with('B') && rule.len() == 4 && digits(&rule[1..]) {
        "bandit"
    } else if rule.contains('-') && rule.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        // mypy codes and yamllint rules are both kebab-case words; yamllint's set is small.
        if YAMLLINT_RULES.contains(&rule) { "yamllint" } else { "mypy" }
    } else {
        "ruff"
    }
}

const YAMLLINT_RULES: &[&str] = &[
    "anchors",
    "braces",
    "brackets",
    "colons",
    "commas",
    "comments",
    "comments-indentation",
    "document-end",
    "document-start",
    "empty-lines",
    "empty-values",
    "float-values",
    "hyphens",
    "indentation",
    "key-duplicates",
    "key-ordering",
    "line-length",
    "new-line-at-end-of-file",
    "new-lines",
    "octal-values",
    "quoted-strings",
    "trailing-spaces",
    "truthy",
];

fn link(rule: &str, tool: &str, url: Option<String>) -> Output {
    Output { rule: rule.to_owned(), tool: tool.to_owned(), kind: "link".to_owned(), text: None, url }
}

async fn offline(lint: &Lint, argv: &[&str]) -> Option<String> {
    let cwd = lint.runner.config().roots.first()?.clone();
    let argv: Vec<String> = argv.iter().map(|s| (*s).to_owned()).collect();
    let run = Run { display: argv.join(" "), argv, cwd, env: vec![], timeout: Duration::from_secs(30), network: false };
    let f = lint.runner.run(run, None).await.ok()?;
    (f.success() && !f.stdout.trim().is_empty()).then(|| f.stdout.trim().to_owned())
}

async fn run(lint: Arc<Lint>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let rule = a.rule.trim().to_owned();
    if !valid(&rule) {
        return Err(ToolError::invalid(
            "rule must be a rule code such as F401, SC2086, E0308 or clippy::needless_return",
        ));
    }
    let tool = a.tool.clone().unwrap_or_else(|| guess(&rule).to_owned());
    let out = match tool.as_str() {
        "ruff" | "flake8" => {
            // ruff documents most flake8/pycodestyle/pyflakes codes under the same names.
            let ruff_url = format!("https://docs.astral.sh/ruff/rules/#{}", rule.to_lowercase());
            match offline(&lint, &["ruff", "rule", &rule]).await {
                Some(text) => Output {
                    rule: rule.clone(),
                    tool: tool.clone(),
                    kind: "documentation".into(),
                    text: Some(text),
                    url: Some(ruff_url),
                },
                None if tool == "flake8" => link(&rule, &tool, parse::flake8_uri(&rule)),
                None => link(&rule, &tool, Some(ruff_url)),
            }
        }
        "rustc" | "clippy" if rule.len() == 5 && rule.starts_with('E') => {
            match offline(&lint, &["rustc", "--explain", &rule]).await {
                Some(text) => Output {
                    rule: rule.clone(),
                    tool: "rustc".into(),
                    kind: "documentation".into(),
                    text: Some(text),
                    url: parse::rust_uri(&rule),
                },
                None => link(&rule, "rustc", parse::rust_uri(&rule)),
            }
        }
        "clippy" => {
            let name = rule.strip_prefix("clippy::").unwrap_or(&rule).replace('-', "_");
            link(&rule, "clippy", parse::rust_uri(&format!("clippy::{name}")))
        }
        "shellcheck" => link(&rule, "shellcheck", Some(format!("https://www.shellcheck.net/wiki/{rule}"))),
        "hadolint" => link(&rule, "hadolint", parse::hadolint_uri(&rule)),
        "bandit" => link(
            &rule,
            "bandit",
            Some("https://bandit.readthedocs.io/en/latest/plugins/index.html#complete-test-plugin-listing".into()),
        ),
        "mypy" => link(&rule, "mypy", Some(parse::mypy_uri(&rule))),
        "yamllint" => link(&rule, "yamllint", Some(parse::yamllint_uri(&rule))),
        "black" | "isort" | "rustfmt" => Output {
            rule: rule.clone(),
            tool: tool.clone(),
            kind: "link".into(),
            text: Some(format!(
                "{tool} is a formatter: its finding is the diff in `fix`; it has no per-rule documentation"
            )),
            url: None,
        },
        "compose-schema" | "gitlab-ci-schema" => Output {
            rule: rule.clone(),
            tool: tool.clone(),
            kind: "link".into(),
            text: Some(format!(
                "`{rule}` is the JSON Schema keyword the file breaks; the message names the path and the expected value"
            )),
            url: Some("https://json-schema.org/understanding-json-schema/reference".into()),
        },
        other => return Err(ToolError::invalid(format!("unknown tool {other:?}"))),
    };
    let text = match (&out.kind[..], &out.text, &out.url) {
        ("documentation", Some(t), _) => format!("documentation text ({}):\n{t}", out.tool),
        (_, t, Some(u)) => {
            format!("only a link ({}): {u}{}", out.tool, t.as_ref().map(|t| format!("\n{t}")).unwrap_or_default())
        }
        (_, Some(t), None) => t.clone(),
        _ => format!("nothing is known about {} of {}", out.rule, out.tool),
    };
    Ok(Out::new(out).text(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses() {
        assert_eq!(guess("clippy::needless_return"), "clippy");
        assert_eq!(guess("E0308"), "rustc");
        assert_eq!(guess("E501"), "ruff");
        assert_eq!(guess("SC2086"), "shellcheck");
        assert_eq!(guess("DL3007"), "hadolint");
        assert_eq!(guess("B602"), "bandit");
        assert_eq!(guess("arg-type"), "mypy");
        assert_eq!(guess("key-duplicates"), "yamllint");
        assert!(!valid("--help") && !valid("a b") && valid("clippy::x"));
    }
}
