//! When a job is in the pipeline: the `rules:if` expression language
//! (`$VAR`, `==`, `!=`, `=~`, `!~` with `/re/flags`, `&&` binding tighter
//! than `||`, parentheses, `null`, quoted strings), `rules: changes` and
//! `exists`, and the older `only`/`except` filters; plus `$VAR`/`${VAR}`
//! expansion, which both the planner and the rules use.
//!
//! Semantics follow GitLab's: an undefined variable is `null`, a variable
//! alone is true when it is defined and not empty, `=~` against `null` is
//! false, a variable on the right of `=~` holding `/re/` is a pattern.
//! Patterns are compiled with Rust's `regex` (GitLab uses RE2: the same
//! family, no backreferences or look-around), with a size limit.

use std::collections::HashMap;

use regex::{Regex, RegexBuilder};

use super::model::{Filter, Rule, Vars, When};

/// Expand `$VAR` and `${VAR}` from `vars` (undefined: empty); `$$` is a
/// literal `$`.
pub fn expand(s: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            if b.get(i + 1) == Some(&b'$') {
                out.push('$');
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'{')
                && let Some(end) = s[i + 2..].find('}')
            {
                let name = &s[i + 2..i + 2 + end];
                if is_name(name) {
                    out.push_str(vars.get(name).map(String::as_str).unwrap_or(""));
                    i += end + 3;
                    continue;
                }
            }
            let n = name_len(&s[i + 1..]);
            if n > 0 {
                out.push_str(vars.get(&s[i + 1..i + 1 + n]).map(String::as_str).unwrap_or(""));
                i += n + 1;
                continue;
            }
        }
        let ch = s[i..].chars().next().unwrap_or('\0');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

fn name_len(s: &str) -> usize {
    let mut n = 0;
    for (k, c) in s.char_indices() {
        let ok = if k == 0 { c.is_ascii_alphabetic() || c == '_' } else { c.is_ascii_alphanumeric() || c == '_' };
        if !ok {
            break;
        }
        n = k + 1;
    }
    n
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && name_len(s) == s.len()
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Var(String),
    Str(String),
    Re(String, String),
    Null,
    Eq,
    Ne,
    Match,
    NoMatch,
    And,
    Or,
    Open,
    Close,
}

fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        match c {
            c if c.is_whitespace() => i += 1,
            '$' => {
                let braced = chars.get(i + 1) == Some(&'{');
                let start = if braced { i + 2 } else { i + 1 };
                let mut j = start;
                while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                let name: String = chars[start..j].iter().collect();
                if !is_name(&name) {
                    return Err(format!("a variable name must follow `$` at column {}", i + 1));
                }
                if braced {
                    if chars.get(j) != Some(&'}') {
                        return Err(format!("`${{{name}` is not closed"));
                    }
                    j += 1;
                }
                out.push(Tok::Var(name));
                i = j;
            }
            '"' | '\'' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("string starting at column {} is not closed", i + 1)),
                        Some('\\') if chars.get(j + 1) == Some(&c) || chars.get(j + 1) == Some(&'\\') => {
                            s.push(chars[j + 1]);
                            j += 2;
                        }
                        Some(&x) if x == c => break,
                        Some(&x) => {
                            s.push(x);
                            j += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
                i = j + 1;
            }
            '/' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("pattern starting at column {} is not closed", i + 1)),
                        Some('\\') if chars.get(j + 1) == Some(&'/') => {
                            s.push('/');
                            j += 2;
                        }
                        Some('\\') => {
                            s.push('\\');
                            if let Some(&n) = chars.get(j + 1) {
                                s.push(n);
                            }
                            j += 2;
                        }
                        Some('/') => break,
                        Some(&x) => {
                            s.push(x);
                            j += 1;
                        }
                    }
                }
                j += 1;
                let mut flags = String::new();
                while let Some(&f) = chars.get(j) {
                    if !f.is_ascii_alphabetic() {
                        break;
                    }
                    flags.push(f);
                    j += 1;
                }
                out.push(Tok::Re(s, flags));
                i = j;
            }
            _ if two == "==" => {
                out.push(Tok::Eq);
                i += 2;
            }
            _ if two == "!=" => {
                out.push(Tok::Ne);
                i += 2;
            }
            _ if two == "=~" => {
                out.push(Tok::Match);
                i += 2;
            }
            _ if two == "!~" => {
                out.push(Tok::NoMatch);
                i += 2;
            }
            _ if two == "&&" => {
                out.push(Tok::And);
                i += 2;
            }
            _ if two == "||" => {
                out.push(Tok::Or);
                i += 2;
            }
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            _ if chars[i..].iter().take(4).collect::<String>() == "null"
                && chars.get(i + 4).is_none_or(|c| !c.is_ascii_alphanumeric() && *c != '_') =>
            {
                out.push(Tok::Null);
                i += 4;
            }
            _ => return Err(format!("unexpected {c:?} at column {}", i + 1)),
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Str(String),
    Re(String, String),
    Bool(bool),
}

impl Val {
    fn truthy(&self) -> bool {
        match self {
            Self::Null => false,
            Self::Str(s) => !s.is_empty(),
            Self::Re(..) => true,
            Self::Bool(b) => *b,
        }
    }
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a HashMap<String, String>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or(&mut self) -> Result<Val, String> {
        let mut v = self.and()?.truthy();
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let r = self.and()?.truthy();
            v = v || r;
        }
        Ok(Val::Bool(v))
    }

    fn and(&mut self) -> Result<Val, String> {
        let first = self.cmp()?;
        if self.peek() != Some(&Tok::And) {
            return Ok(first);
        }
        let mut v = first.truthy();
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let r = self.cmp()?.truthy();
            v = v && r;
        }
        Ok(Val::Bool(v))
    }

    fn cmp(&mut self) -> Result<Val, String> {
        let left = self.primary()?;
        let op = match self.peek() {
            Some(t @ (Tok::Eq | Tok::Ne | Tok::Match | Tok::NoMatch)) => t.clone(),
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.primary()?;
        let b = match op {
            Tok::Eq => equal(&left, &right),
            Tok::Ne => !equal(&left, &right),
            Tok::Match => matches(&left, &right)?,
            _ => !matches(&left, &right)?,
        };
        Ok(Val::Bool(b))
    }

    fn primary(&mut self) -> Result<Val, String> {
        let t = self.peek().cloned().ok_or("the expression ends too early")?;
        self.pos += 1;
        match t {
            Tok::Open => {
                let v = self.or()?;
                if self.peek() != Some(&Tok::Close) {
                    return Err("a `(` is not closed".into());
                }
                self.pos += 1;
                Ok(v)
            }
            Tok::Var(n) => Ok(self.vars.get(&n).map_or(Val::Null, |v| Val::Str(v.clone()))),
            Tok::Str(s) => Ok(Val::Str(s)),
            Tok::Re(p, f) => Ok(Val::Re(p, f)),
            Tok::Null => Ok(Val::Null),
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

fn equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Re(p, f), Val::Str(s)) | (Val::Str(s), Val::Re(p, f)) => *s == format!("/{p}/{f}"),
        _ => false,
    }
}

fn matches(left: &Val, right: &Val) -> Result<bool, String> {
    let (p, f) = match right {
        Val::Re(p, f) => (p.clone(), f.clone()),
        // A variable holding `/re/flags` is a pattern; other text matches literally.
        Val::Str(s) => match split_regex(s) {
            Some((p, f)) => (p, f),
            None => (regex::escape(s), String::new()),
        },
        Val::Null => return Ok(false),
        Val::Bool(_) => return Err("the right side of =~ must be a /pattern/".into()),
    };
    let Val::Str(text) = left else { return Ok(false) };
    Ok(compile(&p, &f)?.is_match(text))
}

/// `/pattern/flags` → its parts.
pub fn split_regex(s: &str) -> Option<(String, String)> {
    let rest = s.strip_prefix('/')?;
    let end = rest.rfind('/')?;
    let flags = &rest[end + 1..];
    flags.chars().all(|c| c.is_ascii_alphabetic()).then(|| (rest[..end].replace("\\/", "/"), flags.to_owned()))
}

/// Compile a pattern with GitLab's flags (`i`, `m`, `s`).
pub fn compile(pattern: &str, flags: &str) -> Result<Regex, String> {
    let mut b = RegexBuilder::new(pattern);
    for f in flags.chars() {
        match f {
            'i' => b.case_insensitive(true),
            'm' => b.multi_line(true),
            's' => b.dot_matches_new_line(true),
            'x' => b.ignore_whitespace(true),
            other => return Err(format!("unknown pattern flag {other:?}")),
        };
    }
    b.size_limit(1 << 20).build().map_err(|e| format!("pattern /{pattern}/: {e}"))
}

/// Evaluate a `rules:if` (or `only: variables`) expression.
pub fn eval_if(expr: &str, vars: &HashMap<String, String>) -> Result<bool, String> {
    let toks = lex(expr).map_err(|e| format!("if {expr:?}: {e}"))?;
    if toks.is_empty() {
        return Err("an empty if expression".into());
    }
    let mut p = Parser { toks, pos: 0, vars };
    let v = p.or().map_err(|e| format!("if {expr:?}: {e}"))?;
    if p.pos != p.toks.len() {
        return Err(format!("if {expr:?}: unexpected {:?} after the expression", p.toks[p.pos]));
    }
    Ok(v.truthy())
}

/// What the rules see of the pipeline being planned.
pub struct Facts<'a> {
    /// Variables (expanded) visible to the job.
    pub vars: &'a HashMap<String, String>,
    /// The ref name (branch or tag).
    pub ref_name: &'a str,
    /// The ref is a tag.
    pub is_tag: bool,
    /// `CI_PIPELINE_SOURCE`.
    pub source: &'a str,
    /// Files changed against the base (all tracked files when there is no base).
    pub changed: &'a [String],
    /// Tracked files of the work tree.
    pub files: &'a [String],
    /// Files changed against another ref (`changes: compare_to`).
    pub compare: &'a dyn Fn(&str) -> Result<Vec<String>, String>,
}

fn any_match(globs: &[String], files: &[String], vars: &HashMap<String, String>) -> Result<bool, String> {
    for g in globs {
        let g = expand(g, vars);
        let m = super::parse::glob(&g, "changes/exists").map_err(|e| e.to_string())?;
        // A directory pattern (`dir/` or `dir/**/*`) matches the files inside.
        if files.iter().any(|f| m.is_match(f)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The first rule that matches, or `None` (the job is not added).
pub fn first_match<'r>(rules: &'r [Rule], f: &Facts<'_>) -> Result<Option<(usize, &'r Rule)>, String> {
    for (i, r) in rules.iter().enumerate() {
        if let Some(e) = &r.if_
            && !eval_if(e, f.vars)?
        {
            continue;
        }
        if let Some(c) = &r.changes {
            let files = match &c.compare_to {
                Some(base) => (f.compare)(&expand(base, f.vars))?,
                None => f.changed.to_vec(),
            };
            if !any_match(&c.paths, &files, f.vars)? {
                continue;
            }
        }
        if let Some(e) = &r.exists
            && !any_match(e, f.files, f.vars)?
        {
            continue;
        }
        return Ok(Some((i, r)));
    }
    Ok(None)
}

/// What a matching rule decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleOutcome {
    /// The rule's index.
    pub index: usize,
    /// Its `when`.
    pub when: Option<When>,
    /// Its `allow_failure`.
    pub allow_failure: Option<bool>,
    /// Its variables.
    pub variables: Vars,
}

/// Evaluate `rules:`: `Ok(None)` when no rule matches.
pub fn evaluate(rules: &[Rule], f: &Facts<'_>) -> Result<Option<RuleOutcome>, String> {
    Ok(first_match(rules, f)?.map(|(index, r)| RuleOutcome {
        index,
        when: r.when,
        allow_failure: r.allow_failure,
        variables: r.variables.clone(),
    }))
}

fn ref_matches(p: &str, f: &Facts<'_>) -> Result<bool, String> {
    let source_is = |s: &str| f.source == s;
    Ok(match p {
        "branches" => !f.is_tag,
        "tags" => f.is_tag,
        "api" => source_is("api"),
        "chats" => source_is("chat"),
        "external" => source_is("external"),
        "pipelines" => source_is("pipeline"),
        "pushes" => source_is("push"),
        "schedules" => source_is("schedule"),
        "triggers" => source_is("trigger"),
        "web" => source_is("web"),
        "merge_requests" => source_is("merge_request_event"),
        "external_pull_requests" => source_is("external_pull_request_event"),
        p => match split_regex(p) {
            Some((re, flags)) => compile(&re, &flags)?.is_match(f.ref_name),
            None => p == f.ref_name,
        },
    })
}

fn filter_matches(x: &Filter, f: &Facts<'_>) -> Result<bool, String> {
    if let Some(refs) = &x.refs {
        let mut any = false;
        for r in refs {
            if ref_matches(r, f)? {
                any = true;
                break;
            }
        }
        if !any {
            return Ok(false);
        }
    }
    if let Some(vs) = &x.variables {
        let mut any = false;
        for e in vs {
            if eval_if(e, f.vars)? {
                any = true;
                break;
            }
        }
        if !any {
            return Ok(false);
        }
    }
    if let Some(c) = &x.changes
        && !any_match(c, f.changed, f.vars)?
    {
        return Ok(false);
    }
    Ok(true)
}

/// `only`/`except`: `None` when the job is in, else why not. Without
/// either, GitLab's default `only: [branches, tags]` applies.
pub fn only_except(only: Option<&Filter>, except: Option<&Filter>, f: &Facts<'_>) -> Result<Option<String>, String> {
    let default = Filter { refs: Some(vec!["branches".into(), "tags".into()]), ..Filter::default() };
    let only = only.unwrap_or(&default);
    if !filter_matches(only, f)? {
        return Ok(Some("`only` does not match this ref, source or these variables".into()));
    }
    if let Some(e) = except
        && filter_matches(e, f)?
    {
        return Ok(Some("`except` matches this ref, source or these variables".into()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expr: &str, vars: &[(&str, &str)], want: bool) {
        let v: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(eval_if(expr, &v).expect(expr), want, "{expr} with {vars:?}");
    }

    #[test]
    fn expressions() {
        let main = [("CI_COMMIT_BRANCH", "main"), ("EMPTY", ""), ("RE", "/^ma/")];
        check("$CI_COMMIT_BRANCH == \"main\"", &main, true);
        check("$CI_COMMIT_BRANCH == 'dev'", &main, false);
        check("$CI_COMMIT_BRANCH != \"dev\"", &main, true);
        check("$CI_COMMIT_TAG", &main, false);
        check("$CI_COMMIT_BRANCH", &main, true);
        check("$EMPTY", &main, false);
        check("$CI_COMMIT_TAG == null", &main, true);
        check("$EMPTY == null", &main, false);
        check("$CI_COMMIT_BRANCH =~ /^MA/i", &main, true);
        check("$CI_COMMIT_BRANCH =~ /^MA/", &main, false);
        check("$CI_COMMIT_BRANCH !~ /^release/", &main, true);
        check("$CI_COMMIT_TAG =~ /x/", &main, false);
        check("$CI_COMMIT_BRANCH =~ $RE", &main, true);
        check("$A || $CI_COMMIT_BRANCH && $EMPTY", &main, false);
        check("($A || $CI_COMMIT_BRANCH) && $CI_COMMIT_BRANCH == \"main\"", &main, true);
        check("$X == \"a\" || $Y == \"b\" && $Z", &[("X", "a")], true);
        check("${CI_COMMIT_BRANCH} == \"main\"", &main, true);
        check("$V =~ /a\\/b/", &[("V", "xa/b")], true);
        assert!(eval_if("$A ==", &HashMap::new()).is_err());
        assert!(eval_if("$A = \"x\"", &HashMap::new()).is_err());
        assert!(eval_if("($A", &HashMap::new()).is_err());
        assert!(eval_if("\"open", &HashMap::new()).is_err());
    }

    #[test]
    fn expansion() {
        let v: HashMap<String, String> =
            [("A", "1"), ("B_2", "two")].iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        assert_eq!(expand("x$A-${B_2}-$C-$$A-$", &v), "x1-two--$A-$");
        assert_eq!(expand("héllo $A", &v), "héllo 1");
    }
}
