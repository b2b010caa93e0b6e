//! Masking of secrets in text GitLab hands back (job logs, artifact files):
//! GitLab's own token prefixes (`glpat-`…), `Bearer`/`Basic` credentials,
//! `password=`/`token: ` style assignments, AWS access key ids, credentials
//! in URLs, GitHub and Slack tokens, JWTs, private key blocks, and the
//! server's own configured token. Each mask is `[MASKED]`, GitLab's own
//! marker for masked variables, and every result counts its masks so the
//! caller knows text was hidden.
//!
//! Masking is best effort by nature (a secret in no known shape passes); the
//! configured token is masked by value, so the one secret this server holds
//! is never echoed back whatever its shape.

use std::sync::OnceLock;

use regex::{Captures, Regex};

/// The mask.
pub const MASK: &str = "[MASKED]";

/// A pattern and the capture group holding the secret (0 = all of it).
struct Rule {
    re: Regex,
    group: usize,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let r = |p: &str, group: usize| Rule { re: Regex::new(p).expect("redaction pattern compiles"), group };
        vec![
            // GitLab tokens by prefix (personal, OAuth, deploy, runner, CI build, trigger, feed, ...).
            r(r"\bgl(?:pat|oas|dt|rt|rtr|cbt|ptt|ft|imt|agent|soat|ffct|wt|ltk|cit|sst)-[0-9A-Za-z_\-]{16,}", 0),
            // Runner registration tokens.
            r(r"\bGR1348941[0-9A-Za-z_\-]{20,}", 0),
            // URLs with credentials: scheme://user:secret@host.
            r(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:([^\s@/]+)@", 1),
            // Authorization header values.
            r(r"(?i)\b(?:bearer|basic|token)\s+([A-Za-z0-9._~+/\-]{8,}=*)", 1),
            // Assignments whose name says secret: KEY=v, key: v, "key": "v".
            r(
                r#"(?i)\b[A-Za-z0-9_.\-]*(?:password|passwd|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|credentials?)[A-Za-z0-9_.\-]*["']?\s*[:=]\s*("[^"\r\n]*"|'[^'\r\n]*'|[^\s"',;&]+)"#,
                1,
            ),
            // AWS access key ids.
            r(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b", 0),
            // GitHub, Slack.
            r(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})", 0),
            r(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}", 0),
            // JWTs.
            r(r"\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", 0),
        ]
    })
}

fn key_begin() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").expect("pattern compiles"))
}

fn key_end() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"-----END [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----").expect("pattern compiles"))
}

/// Masks secrets; holds the literal values (the configured token) masked
/// wherever they appear.
#[derive(Clone, Default)]
pub struct Redactor {
    literals: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} literal(s))", self.literals.len())
    }
}

impl Redactor {
    /// A redactor that also masks each of `literals` (8 characters or more;
    /// shorter values would mask ordinary words).
    pub fn new<S: AsRef<str>>(literals: &[S]) -> Self {
        let literals = literals.iter().map(|s| s.as_ref().to_owned()).filter(|s| s.len() >= 8).collect();
        Self { literals }
    }

    /// `line` with secrets masked, and how many masks were applied.
    pub fn line(&self, line: &str) -> (String, usize) {
        let mut out = line.to_owned();
        let mut count = 0;
        for lit in &self.literals {
            let n = out.matches(lit.as_str()).count();
            if n > 0 {
                out = out.replace(lit.as_str(), MASK);
                count += n;
            }
        }
        for rule in rules() {
            if !rule.re.is_match(&out) {
                continue;
            }
            let replaced = rule.re.replace_all(&out, |c: &Captures<'_>| {
                let whole = c.get(0).map_or("", |m| m.as_str());
                let Some(secret) = c.get(rule.group) else { return whole.to_owned() };
                let value = secret.as_str().trim_matches(|ch| ch == '"' || ch == '\'');
                // Already masked (by GitLab or an earlier rule), or empty: leave it.
                if value.is_empty() || value.contains(MASK) || value == "[MASKED" {
                    return whole.to_owned();
                }
                count += 1;
                let mut start = secret.start() - c.get(0).map_or(0, |m| m.start());
                let mut end = start + secret.as_str().len();
                // A quoted value keeps its quotes.
                if secret.as_str().len() >= 2 && secret.as_str().starts_with(['"', '\'']) {
                    start += 1;
                    end -= 1;
                }
                format!("{}{MASK}{}", &whole[..start], &whole[end..])
            });
            out = replaced.into_owned();
        }
        (out, count)
    }

    /// Every line masked, private key blocks hidden whole; the total count.
    pub fn lines(&self, lines: &mut [String]) -> usize {
        let mut count = 0;
        let mut in_key = false;
        for l in lines.iter_mut() {
            if in_key || key_begin().is_match(l) {
                let ends = key_end().is_match(l);
                in_key = !ends;
                *l = MASK.to_owned();
                count += 1;
                continue;
            }
            let (masked, n) = self.line(l);
            if n > 0 {
                *l = masked;
                count += n;
            }
        }
        count
    }

    /// A whole text masked (line by line, line breaks kept).
    pub fn text(&self, text: &str) -> (String, usize) {
        let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
        let n = self.lines(&mut lines);
        (lines.join("\n"), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, want: &str, n: usize) {
        let r = Redactor::new(&["s3cr3t-configured-token"]);
        let (got, count) = r.line(input);
        assert_eq!(got, want, "{input}");
        assert_eq!(count, n, "{input}");
    }

    #[test]
    fn masks_known_shapes() {
        check("token glpat-abcdefghijklmnopqrst0", "token [MASKED]", 1);
        check("curl -H 'Authorization: Bearer abc.def-ghi_123'", "curl -H 'Authorization: Bearer [MASKED]'", 1);
        check("export DB_PASSWORD=hunter22", "export DB_PASSWORD=[MASKED]", 1);
        check(r#"{"api_key": "k-123456"}"#, r#"{"api_key": "[MASKED]"}"#, 1);
        check("key AKIAIOSFODNN7EXAMPLE used", "key [MASKED] used", 1);
        check("git clone https://ci:pa55word@example.com/r.git", "git clone https://ci:[MASKED]@example.com/r.git", 1);
        check("using s3cr3t-configured-token here", "using [MASKED] here", 1);
        check("plain line with no secret", "plain line with no secret", 0);
        check("PASSWORD=[MASKED]", "PASSWORD=[MASKED]", 0);
    }

    #[test]
    fn masks_private_key_blocks_whole() {
        let r = Redactor::new::<&str>(&[]);
        let (t, n) = r.text("a\n-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----\nb");
        assert_eq!(t, "a\n[MASKED]\n[MASKED]\n[MASKED]\nb");
        assert_eq!(n, 3);
    }
}
