//! Reading a `.gitlab-ci.yml` into the typed [`Pipeline`], in GitLab's
//! order: each file is read with `yaml_serde` (anchors and aliases expand
//! while reading; `<<` merge keys are applied with `Value::apply_merge`),
//! local `include:`s are merged into it (deeply, the including file wins),
//! then `!reference [job, key, ...]` tags are replaced by what they point
//! to, then `extends:` is resolved (multi-level, lists, deep merge of
//! mappings, the job's own keys last), then `default:` fills what a job
//! leaves unset (`inherit:` respected), and finally each visible job is
//! checked keyword by keyword against the tables in [`super::model`]: a
//! refused keyword is an error naming it, an ignored one a warning, an
//! unknown one an error (GitLab refuses those too).
//!
//! Includes are files of the repository only: a path with `..`, an absolute
//! path out of the repository, or a symbolic link that leads out of it is
//! refused; nesting and count are bounded like GitLab's.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path};
use std::time::Duration;

use yaml_serde::{Mapping, Value};

use super::model::{
    AllowFailure, Artifacts, ArtifactsWhen, Changes, DEFAULT_STAGES, Filter, Job, Need, Parallel, Pipeline, Retry,
    Rule, VarDef, Vars, When, ignored, refused,
};

/// Largest file read (the main file or an include).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Deepest include nesting.
pub const MAX_INCLUDE_DEPTH: usize = 20;
/// Most files in one pipeline (GitLab's default limit).
pub const MAX_INCLUDES: usize = 150;
/// Deepest `extends` chain (GitLab's limit).
pub const MAX_EXTENDS_DEPTH: usize = 11;
/// Deepest chain of `!reference`s inside referenced values (GitLab's limit).
pub const MAX_REFERENCE_DEPTH: usize = 10;
/// Most jobs one `parallel:` may create (GitLab's limit).
pub const MAX_PARALLEL: usize = 200;
/// Most `needs` of one job (GitLab's default limit).
pub const MAX_NEEDS: usize = 50;

/// Why a file cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// Not valid: the message says what and where.
    Invalid(String),
    /// A keyword the local runner refuses (see [`super::model::REFUSED`]).
    Refused {
        /// The keyword, as listed in `REFUSED`.
        keyword: String,
        /// Why it is refused.
        reason: String,
        /// Where it was found (`job build`, `include`…).
        context: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(m) => f.write_str(m),
            Self::Refused { keyword, reason, context } => write!(
                f,
                "{context}: keyword `{keyword}` is not supported by the local runner and is refused rather than ignored: {reason}"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

type R<T> = Result<T, ParseError>;

fn invalid<T>(m: impl Into<String>) -> R<T> {
    Err(ParseError::Invalid(m.into()))
}

fn refuse<T>(keyword: &str, context: &str) -> R<T> {
    Err(ParseError::Refused {
        keyword: keyword.to_owned(),
        reason: refused(keyword).unwrap_or("not supported").to_owned(),
        context: context.to_owned(),
    })
}

fn warn_ignored(warnings: &mut Vec<String>, keyword: &str, context: &str) {
    let why = ignored(keyword).unwrap_or("ignored");
    let w = format!("{context}: `{keyword}` is ignored locally: {why}");
    if !warnings.contains(&w) {
        warnings.push(w);
    }
}

/// Read `file` (relative to `repo`, a canonical directory) with its includes.
pub fn load(repo: &Path, file: &str) -> R<Pipeline> {
    let rel = safe_rel(file, "the pipeline file")?;
    let text = read(repo, &rel)?;
    parse_with(&text, &rel, Some(repo))
}

/// Parse text alone; an `include:` is an error (there is no repository).
pub fn parse_str(text: &str) -> R<Pipeline> {
    parse_with(text, ".gitlab-ci.yml", None)
}

/// Parse text read from `name`, resolving includes in `repo` when given.
pub fn parse_with(text: &str, name: &str, repo: Option<&Path>) -> R<Pipeline> {
    let mut loader = Loader { repo, files: vec![name.to_owned()], stack: vec![name.to_owned()] };
    let mut root = loader.file(name, text)?;
    resolve_references(&mut root)?;
    build(root, loader.files)
}

struct Loader<'a> {
    repo: Option<&'a Path>,
    files: Vec<String>,
    stack: Vec<String>,
}

impl Loader<'_> {
    fn file(&mut self, name: &str, text: &str) -> R<Mapping> {
        let mut v: Value = match yaml_serde::from_str(text) {
            Ok(v) => v,
            Err(e) => return invalid(format!("{name}: not valid YAML: {e}")),
        };
        merge_keys(&mut v).map_err(|e| ParseError::Invalid(format!("{name}: merge keys (<<) do not resolve: {e}")))?;
        let mut m = match v {
            Value::Mapping(m) => m,
            Value::Null => Mapping::new(),
            _ => return invalid(format!("{name}: the top level must be a mapping of keywords and jobs")),
        };
        let Some(inc) = m.remove("include") else { return Ok(m) };
        let mut acc = Mapping::new();
        for target in self.targets(&inc, name)? {
            if self.stack.contains(&target) {
                return invalid(format!("include cycle: {} -> {target}", self.stack.join(" -> ")));
            }
            if self.files.contains(&target) {
                continue;
            }
            if self.stack.len() > MAX_INCLUDE_DEPTH {
                return invalid(format!("includes nest deeper than {MAX_INCLUDE_DEPTH} levels at {target}"));
            }
            if self.files.len() >= MAX_INCLUDES {
                return invalid(format!("more than {MAX_INCLUDES} files included"));
            }
            let Some(repo) = self.repo else {
                return invalid(format!("{name}: include {target:?} needs the repository; give a project path"));
            };
            let text = read(repo, &target)?;
            self.files.push(target.clone());
            self.stack.push(target.clone());
            let inner = self.file(&target, &text)?;
            self.stack.pop();
            deep_merge(&mut acc, inner);
        }
        deep_merge(&mut acc, m);
        Ok(acc)
    }

    /// The local files one `include:` value names, in order.
    fn targets(&self, inc: &Value, from: &str) -> R<Vec<String>> {
        let items: Vec<&Value> = match inc {
            Value::Sequence(s) => s.iter().collect(),
            v => vec![v],
        };
        let ctx = format!("{from}: include");
        let mut out = Vec::new();
        for item in items {
            let local = match item {
                Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
                    return refuse("include:remote", &ctx);
                }
                Value::String(s) => s.clone(),
                Value::Mapping(m) => {
                    let mut local = None;
                    for (k, v) in m {
                        match k.as_str().unwrap_or("") {
                            "local" => local = v.as_str().map(str::to_owned),
                            "remote" | "cache" | "integrity" => return refuse("include:remote", &ctx),
                            "template" => return refuse("include:template", &ctx),
                            "project" | "file" | "ref" => return refuse("include:project", &ctx),
                            "component" => return refuse("include:component", &ctx),
                            "rules" => return refuse("include:rules", &ctx),
                            "inputs" => return refuse("include:inputs", &ctx),
                            other => return invalid(format!("{ctx}: unknown key {other:?}")),
                        }
                    }
                    match local {
                        Some(l) => l,
                        None => return invalid(format!("{ctx}: `local` must be a path")),
                    }
                }
                _ => return invalid(format!("{ctx}: each entry is a path or a mapping with `local`")),
            };
            let path = local.trim().trim_start_matches('/');
            if path.contains('*') {
                let Some(repo) = self.repo else {
                    return invalid(format!("{ctx}: {local:?} needs the repository; give a project path"));
                };
                let matcher = glob(path, &ctx)?;
                let found: Vec<String> = walk(repo)
                    .into_iter()
                    .filter(|f| matcher.is_match(f) && (f.ends_with(".yml") || f.ends_with(".yaml")))
                    .collect();
                if found.is_empty() {
                    return invalid(format!("{ctx}: {local:?} matches no file"));
                }
                out.extend(found);
            } else {
                let rel = safe_rel(path, &ctx)?;
                if !(rel.ends_with(".yml") || rel.ends_with(".yaml")) {
                    return invalid(format!("{ctx}: {local:?} must be a .yml or .yaml file"));
                }
                out.push(rel);
            }
        }
        Ok(out)
    }
}

/// A path relative to the repository, checked lexically: no `..`, not absolute.
pub fn safe_rel(p: &str, ctx: &str) -> R<String> {
    let mut parts = Vec::new();
    for c in Path::new(p).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => return invalid(format!("{ctx}: {p:?} must stay inside the repository (no `..`, not absolute)")),
        }
    }
    if parts.is_empty() {
        return invalid(format!("{ctx}: empty path"));
    }
    Ok(parts.join("/"))
}

/// Read a file of the repository; a symbolic link out of it is refused.
fn read(repo: &Path, rel: &str) -> R<String> {
    let full = repo.join(rel);
    let real = std::fs::canonicalize(&full).map_err(|e| ParseError::Invalid(format!("{rel}: {e}")))?;
    if !real.starts_with(repo) {
        return invalid(format!("{rel} leads out of the repository"));
    }
    let meta = std::fs::metadata(&real).map_err(|e| ParseError::Invalid(format!("{rel}: {e}")))?;
    if !meta.is_file() {
        return invalid(format!("{rel} is not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return invalid(format!("{rel} is larger than {MAX_FILE_BYTES} bytes"));
    }
    std::fs::read_to_string(&real).map_err(|e| ParseError::Invalid(format!("{rel}: {e}")))
}

/// A glob in GitLab's `fnmatch` style: `*` stays within a directory, `**`
/// crosses them, `{a,b}` alternates.
pub fn glob(pattern: &str, ctx: &str) -> R<globset::GlobMatcher> {
    globset::GlobBuilder::new(pattern.trim_start_matches("./"))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| ParseError::Invalid(format!("{ctx}: bad glob {pattern:?}: {e}")))
}

/// Every regular file under `root` (relative, `/`-separated, sorted), not
/// following links and skipping `.git`; bounded.
pub fn walk(root: &Path) -> Vec<String> {
    const MAX: usize = 100_000;
    let mut out = Vec::new();
    let mut dirs = vec![std::path::PathBuf::new()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(root.join(&d)) else { continue };
        for e in rd.flatten() {
            let name = e.file_name();
            if d.as_os_str().is_empty() && name == ".git" {
                continue;
            }
            let rel = d.join(&name);
            match e.file_type() {
                Ok(t) if t.is_dir() => dirs.push(rel),
                Ok(t) if t.is_file() => out.push(rel.to_string_lossy().into_owned()),
                _ => {}
            }
            if out.len() >= MAX {
                break;
            }
        }
    }
    out.sort();
    out
}

/// `<<` merge keys, applied until none is left (a merged mapping may carry
/// its own `<<`, which one pass of `apply_merge` leaves in place).
fn merge_keys(v: &mut Value) -> Result<(), yaml_serde::Error> {
    for _ in 0..16 {
        v.apply_merge()?;
        if !has_merge_key(v) {
            break;
        }
    }
    Ok(())
}

fn has_merge_key(v: &Value) -> bool {
    match v {
        Value::Mapping(m) => m.contains_key("<<") || m.values().any(has_merge_key),
        Value::Sequence(s) => s.iter().any(has_merge_key),
        Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

/// Merge `over` into `base`: mappings merge key by key, anything else is replaced.
pub fn deep_merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn resolve_references(root: &mut Mapping) -> R<()> {
    let orig = root.clone();
    for v in root.values_mut() {
        resolve_in(v, &orig, 0)?;
    }
    Ok(())
}

fn resolve_in(v: &mut Value, orig: &Mapping, depth: usize) -> R<()> {
    if let Value::Tagged(t) = v {
        if t.tag != "reference" {
            return invalid(format!("unknown YAML tag {}; only !reference is supported", t.tag));
        }
        if depth >= MAX_REFERENCE_DEPTH {
            return invalid(format!("!reference nests deeper than {MAX_REFERENCE_DEPTH} levels"));
        }
        let mut found = lookup(orig, &t.value)?;
        resolve_in(&mut found, orig, depth + 1)?;
        *v = found;
        return Ok(());
    }
    match v {
        Value::Mapping(m) => m.values_mut().try_for_each(|x| resolve_in(x, orig, depth)),
        Value::Sequence(s) => s.iter_mut().try_for_each(|x| resolve_in(x, orig, depth)),
        _ => Ok(()),
    }
}

fn lookup(orig: &Mapping, path: &Value) -> R<Value> {
    let segs: Vec<String> = match path {
        Value::Sequence(s) if !s.is_empty() => s.iter().filter_map(scalar).collect(),
        _ => return invalid("!reference takes a list: [job, key, ...]"),
    };
    let shown = format!("!reference [{}]", segs.join(", "));
    let mut cur: Option<&Value> = orig.get(segs[0].as_str());
    for s in &segs[1..] {
        cur = cur.and_then(|c| c.as_mapping()).and_then(|m| m.get(s.as_str()));
    }
    match cur {
        Some(v) => Ok(v.clone()),
        None => invalid(format!("{shown} points to nothing")),
    }
}

/// A scalar's text (numbers and booleans as written; null as empty).
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn string(v: &Value, ctx: &str) -> R<String> {
    match v {
        Value::Null => invalid(format!("{ctx}: a value is required")),
        v => scalar(v).map_or_else(|| invalid(format!("{ctx}: expected a string")), Ok),
    }
}

/// A string or a list of strings; nested lists (anchors, `!reference`) are
/// flattened like GitLab flattens scripts.
fn strings(v: &Value, ctx: &str) -> R<Vec<String>> {
    fn go(v: &Value, ctx: &str, depth: usize, out: &mut Vec<String>) -> R<()> {
        match v {
            Value::Sequence(s) if depth < 10 => s.iter().try_for_each(|x| go(x, ctx, depth + 1, out)),
            Value::Null if depth == 0 => Ok(()),
            v => {
                out.push(string(v, ctx)?);
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    go(v, ctx, 0, &mut out)?;
    Ok(out)
}

/// A list's items with nested lists flattened.
fn items(v: &Value) -> Vec<&Value> {
    fn go<'a>(v: &'a Value, depth: usize, out: &mut Vec<&'a Value>) {
        match v {
            Value::Sequence(s) if depth < 10 => s.iter().for_each(|x| go(x, depth + 1, out)),
            v => out.push(v),
        }
    }
    let mut out = Vec::new();
    match v {
        Value::Sequence(_) => go(v, 0, &mut out),
        Value::Null => {}
        v => out.push(v),
    }
    out
}

fn boolean(v: &Value, ctx: &str) -> R<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => invalid(format!("{ctx}: expected true or false")),
    }
}

fn mapping<'a>(v: &'a Value, ctx: &str) -> R<&'a Mapping> {
    v.as_mapping().map_or_else(|| invalid(format!("{ctx}: expected a mapping")), Ok)
}

fn key(k: &Value, ctx: &str) -> R<String> {
    k.as_str().map(str::to_owned).map_or_else(|| invalid(format!("{ctx}: keys must be strings")), Ok)
}

fn ints(v: &Value, ctx: &str) -> R<Vec<i64>> {
    items(v).into_iter().map(|x| x.as_i64().map_or_else(|| invalid(format!("{ctx}: expected integers")), Ok)).collect()
}

/// A variable name GitLab accepts.
pub fn var_name_ok(n: &str) -> bool {
    let mut c = n.chars();
    c.next().is_some_and(|f| f.is_ascii_alphabetic() || f == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// `variables:` (values, or `{value, description, expand, options}`).
pub fn variables(v: &Value, ctx: &str) -> R<Vars> {
    let ctx = format!("{ctx}: variables");
    let mut out = Vars::new();
    if v.is_null() {
        return Ok(out);
    }
    for (k, val) in mapping(v, &ctx)? {
        let name = key(k, &ctx)?;
        if !var_name_ok(&name) {
            return invalid(format!("{ctx}: {name:?} is not a variable name"));
        }
        let def = match val {
            Value::Mapping(m) => {
                let mut d = VarDef { value: String::new(), expand: true };
                for (mk, mv) in m {
                    match mk.as_str().unwrap_or("") {
                        "value" => d.value = string(mv, &format!("{ctx}: {name}"))?,
                        "expand" => d.expand = boolean(mv, &format!("{ctx}: {name}: expand"))?,
                        "description" | "options" => {}
                        other => return invalid(format!("{ctx}: {name}: unknown key {other:?}")),
                    }
                }
                d
            }
            v => VarDef {
                value: scalar(v).map_or_else(|| invalid(format!("{ctx}: {name}: expected a string")), Ok)?,
                expand: true,
            },
        };
        out.retain(|(n, _)| *n != name);
        out.push((name, def));
    }
    Ok(out)
}

/// `timeout:`-style durations: `3600`, `90s`, `10 minutes`, `1h 30m`, `2 days`.
pub fn duration(s: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let n_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if n_end == 0 {
            return None;
        }
        let n: u64 = rest[..n_end].parse().ok()?;
        rest = rest[n_end..].trim_start();
        let u_end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..u_end];
        rest = rest[u_end..].trim_start().trim_start_matches(',').trim_start();
        if let Some(r) = rest.strip_prefix("and ") {
            rest = r.trim_start();
        }
        let mult = match unit.to_ascii_lowercase().as_str() {
            "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    (total > 0).then(|| Duration::from_secs(total))
}

/// `rules:` (for jobs and `workflow:`).
pub fn rules(v: &Value, ctx: &str, warnings: &mut Vec<String>) -> R<Vec<Rule>> {
    let ctx = format!("{ctx}: rules");
    let mut out = Vec::new();
    for item in items(v) {
        let m = mapping(item, &ctx)?;
        let mut r = Rule::default();
        for (k, val) in m {
            match key(k, &ctx)?.as_str() {
                "if" => r.if_ = Some(string(val, &format!("{ctx}: if"))?),
                "changes" => {
                    r.changes = Some(match val {
                        Value::Mapping(cm) => {
                            let mut c = Changes::default();
                            for (ck, cv) in cm {
                                match key(ck, &ctx)?.as_str() {
                                    "paths" => c.paths = strings(cv, &format!("{ctx}: changes: paths"))?,
                                    "compare_to" => {
                                        c.compare_to = Some(string(cv, &format!("{ctx}: changes: compare_to"))?)
                                    }
                                    other => return invalid(format!("{ctx}: changes: unknown key {other:?}")),
                                }
                            }
                            c
                        }
                        v => Changes { paths: strings(v, &format!("{ctx}: changes"))?, compare_to: None },
                    })
                }
                "exists" => {
                    r.exists = Some(match val {
                        Value::Mapping(em) => {
                            let mut paths = Vec::new();
                            for (ek, ev) in em {
                                match key(ek, &ctx)?.as_str() {
                                    "paths" => paths = strings(ev, &format!("{ctx}: exists: paths"))?,
                                    other => {
                                        return invalid(format!(
                                            "{ctx}: exists: {other:?} is not supported (only paths of this repository)"
                                        ));
                                    }
                                }
                            }
                            paths
                        }
                        v => strings(v, &format!("{ctx}: exists"))?,
                    })
                }
                "when" => {
                    r.when = Some(When::parse(&string(val, &format!("{ctx}: when"))?).map_err(ParseError::Invalid)?)
                }
                "allow_failure" => r.allow_failure = Some(boolean(val, &format!("{ctx}: allow_failure"))?),
                "variables" => r.variables = variables(val, &ctx)?,
                "needs" => return refuse("rules:needs", &ctx),
                "interruptible" => warn_ignored(warnings, "rules:interruptible", &ctx),
                other => return invalid(format!("{ctx}: unknown key {other:?}")),
            }
        }
        out.push(r);
    }
    Ok(out)
}

fn filter(v: &Value, ctx: &str) -> R<Filter> {
    match v {
        Value::Mapping(m) => {
            let mut f = Filter::default();
            for (k, val) in m {
                match key(k, ctx)?.as_str() {
                    "refs" => f.refs = Some(strings(val, &format!("{ctx}: refs"))?),
                    "variables" => f.variables = Some(strings(val, &format!("{ctx}: variables"))?),
                    "changes" => f.changes = Some(strings(val, &format!("{ctx}: changes"))?),
                    "kubernetes" => {
                        let kw = if ctx.ends_with("except") { "except:kubernetes" } else { "only:kubernetes" };
                        return refuse(kw, ctx);
                    }
                    other => return invalid(format!("{ctx}: unknown key {other:?}")),
                }
            }
            Ok(f)
        }
        v => Ok(Filter { refs: Some(strings(v, ctx)?), ..Filter::default() }),
    }
}

fn needs(v: &Value, ctx: &str) -> R<Vec<Need>> {
    let ctx = format!("{ctx}: needs");
    let mut out = Vec::new();
    for item in items(v) {
        let n = match item {
            Value::Mapping(m) => {
                let mut n = Need { job: String::new(), artifacts: true, optional: false };
                for (k, val) in m {
                    match key(k, &ctx)?.as_str() {
                        "job" => n.job = string(val, &ctx)?,
                        "artifacts" => n.artifacts = boolean(val, &format!("{ctx}: artifacts"))?,
                        "optional" => n.optional = boolean(val, &format!("{ctx}: optional"))?,
                        "pipeline" => {
                            return Err(ParseError::Refused {
                                keyword: "needs:pipeline".into(),
                                reason: "artifacts of other pipelines are GitLab's".into(),
                                context: ctx,
                            });
                        }
                        "project" | "ref" => {
                            return Err(ParseError::Refused {
                                keyword: "needs:project".into(),
                                reason: "other projects' jobs are GitLab's".into(),
                                context: ctx,
                            });
                        }
                        "parallel" => {
                            return Err(ParseError::Refused {
                                keyword: "needs:parallel".into(),
                                reason: "needing one matrix instance is not implemented; need the whole job".into(),
                                context: ctx,
                            });
                        }
                        other => return invalid(format!("{ctx}: unknown key {other:?}")),
                    }
                }
                if n.job.is_empty() {
                    return invalid(format!("{ctx}: an entry needs `job`"));
                }
                n
            }
            v => Need { job: string(v, &ctx)?, artifacts: true, optional: false },
        };
        out.push(n);
    }
    if out.len() > MAX_NEEDS {
        return invalid(format!("{ctx}: more than {MAX_NEEDS} entries"));
    }
    Ok(out)
}

fn artifacts(v: &Value, ctx: &str, warnings: &mut Vec<String>) -> R<Artifacts> {
    let ctx = format!("{ctx}: artifacts");
    let mut a = Artifacts::default();
    for (k, val) in mapping(v, &ctx)? {
        match key(k, &ctx)?.as_str() {
            "paths" => a.paths = strings(val, &format!("{ctx}: paths"))?,
            "exclude" => a.exclude = strings(val, &format!("{ctx}: exclude"))?,
            "when" => {
                a.when = match string(val, &format!("{ctx}: when"))?.as_str() {
                    "on_success" => ArtifactsWhen::OnSuccess,
                    "on_failure" => ArtifactsWhen::OnFailure,
                    "always" => ArtifactsWhen::Always,
                    o => return invalid(format!("{ctx}: when {o:?} (on_success, on_failure, always)")),
                }
            }
            // Names and lifetimes mean nothing to a local run directory.
            "name" | "expire_in" | "expose_as" | "public" => {}
            "reports" => warn_ignored(warnings, "artifacts:reports", &ctx),
            "untracked" => return refuse("artifacts:untracked", &ctx),
            "access" => return refuse("artifacts:access", &ctx),
            other => return invalid(format!("{ctx}: unknown key {other:?}")),
        }
    }
    Ok(a)
}

fn image(v: &Value, ctx: &str, warnings: &mut Vec<String>) -> R<String> {
    let ctx = format!("{ctx}: image");
    match v {
        Value::Mapping(m) => {
            let mut name = None;
            for (k, val) in m {
                match key(k, &ctx)?.as_str() {
                    "name" => name = Some(string(val, &ctx)?),
                    "entrypoint" => return refuse("image:entrypoint", &ctx),
                    "docker" => return refuse("image:docker", &ctx),
                    "kubernetes" => return refuse("image:kubernetes", &ctx),
                    "pull_policy" => warn_ignored(warnings, "image:pull_policy", &ctx),
                    other => return invalid(format!("{ctx}: unknown key {other:?}")),
                }
            }
            name.map_or_else(|| invalid(format!("{ctx}: `name` is required")), Ok)
        }
        v => string(v, &ctx),
    }
}

fn retry(v: &Value, ctx: &str) -> R<Retry> {
    let ctx = format!("{ctx}: retry");
    let mut r = Retry::default();
    match v {
        Value::Mapping(m) => {
            for (k, val) in m {
                match key(k, &ctx)?.as_str() {
                    "max" => {
                        r.max = val.as_u64().map_or_else(|| invalid(format!("{ctx}: max is 0, 1 or 2")), Ok)? as u32
                    }
                    "when" => r.when = strings(val, &format!("{ctx}: when"))?,
                    "exit_codes" => r.exit_codes = ints(val, &format!("{ctx}: exit_codes"))?,
                    other => return invalid(format!("{ctx}: unknown key {other:?}")),
                }
            }
        }
        v => r.max = v.as_u64().map_or_else(|| invalid(format!("{ctx}: expected 0, 1 or 2")), Ok)? as u32,
    }
    if r.max > 2 {
        return invalid(format!("{ctx}: max is at most 2"));
    }
    Ok(r)
}

fn parallel(v: &Value, ctx: &str) -> R<Parallel> {
    let ctx = format!("{ctx}: parallel");
    let p = match v {
        Value::Number(n) => match n.as_u64() {
            Some(c) if (1..=MAX_PARALLEL as u64).contains(&c) => Parallel::Count(c as u32),
            _ => return invalid(format!("{ctx}: a number from 1 to {MAX_PARALLEL}")),
        },
        Value::Mapping(m) => {
            let mut combos = Vec::new();
            for (k, val) in m {
                if key(k, &ctx)? != "matrix" {
                    return invalid(format!("{ctx}: only `matrix` is allowed"));
                }
                for entry in items(val) {
                    let em = mapping(entry, &format!("{ctx}: matrix"))?;
                    let mut these: Vec<Vec<(String, String)>> = vec![Vec::new()];
                    for (vk, vv) in em {
                        let name = key(vk, &ctx)?;
                        if !var_name_ok(&name) {
                            return invalid(format!("{ctx}: matrix: {name:?} is not a variable name"));
                        }
                        let values = strings(vv, &format!("{ctx}: matrix: {name}"))?;
                        let mut next = Vec::new();
                        for c in &these {
                            for value in &values {
                                let mut c = c.clone();
                                c.push((name.clone(), value.clone()));
                                next.push(c);
                            }
                        }
                        these = next;
                        if these.len() > MAX_PARALLEL {
                            break;
                        }
                    }
                    combos.extend(these);
                }
            }
            if combos.is_empty() || combos.len() > MAX_PARALLEL {
                return invalid(format!("{ctx}: matrix must give 1 to {MAX_PARALLEL} jobs"));
            }
            Parallel::Matrix(combos)
        }
        _ => return invalid(format!("{ctx}: a number or {{matrix: [...]}}")),
    };
    Ok(p)
}

/// `inherit: default|variables`: all (`None`), none or a list of names.
fn inherit_list(v: &Value, ctx: &str) -> R<Option<Vec<String>>> {
    match v {
        Value::Bool(true) => Ok(None),
        Value::Bool(false) => Ok(Some(Vec::new())),
        v => Ok(Some(strings(v, ctx)?)),
    }
}

/// Keys `default:` may hold.
const DEFAULT_KEYS: &[&str] = &[
    "image",
    "before_script",
    "after_script",
    "artifacts",
    "retry",
    "timeout",
    "interruptible",
    "tags",
    "cache",
    "services",
    "hooks",
    "id_tokens",
    "identity",
];

fn build(root: Mapping, files: Vec<String>) -> R<Pipeline> {
    let mut warnings = Vec::new();
    let mut stages_v = None;
    let mut global_vars = Vars::new();
    let mut default = Mapping::new();
    let mut globals = Mapping::new();
    let mut workflow = None;
    let mut all: HashMap<String, Value> = HashMap::new();
    let mut visible: Vec<String> = Vec::new();
    for (k, v) in root {
        let name = key(&k, "top level")?;
        match name.as_str() {
            "stages" => stages_v = Some(strings(&v, "stages")?),
            "variables" => global_vars = variables(&v, "top level")?,
            "default" => {
                for (dk, _) in mapping(&v, "default")? {
                    let dk = key(dk, "default")?;
                    if !DEFAULT_KEYS.contains(&dk.as_str()) {
                        return invalid(format!("default: unknown keyword {dk:?}"));
                    }
                }
                default = mapping(&v, "default")?.clone();
            }
            "workflow" => {
                for (wk, wv) in mapping(&v, "workflow")? {
                    match key(wk, "workflow")?.as_str() {
                        "rules" => workflow = Some(rules(wv, "workflow", &mut warnings)?),
                        "name" => warn_ignored(&mut warnings, "workflow:name", "workflow"),
                        "auto_cancel" => warn_ignored(&mut warnings, "workflow:auto_cancel", "workflow"),
                        other => return invalid(format!("workflow: unknown keyword {other:?}")),
                    }
                }
            }
            "image" | "before_script" | "after_script" | "cache" | "services" => {
                globals.insert(Value::String(name), v);
            }
            "spec" => return refuse("spec", "top level"),
            "types" => return invalid("`types` was removed from GitLab CI; use `stages`"),
            _ if name.starts_with('.') => {
                all.insert(name, v);
            }
            _ => {
                if !v.is_mapping() {
                    return invalid(format!(
                        "{name:?} is neither a keyword nor a job (a job is a mapping with a script)"
                    ));
                }
                visible.push(name.clone());
                all.insert(name, v);
            }
        }
    }
    // The deprecated top-level globals act as defaults.
    for (k, v) in globals {
        if !default.contains_key(&k) {
            default.insert(k, v);
        }
    }
    if default.contains_key("services") {
        return refuse("services", "default");
    }
    for kw in ["hooks", "id_tokens", "identity"] {
        if default.contains_key(kw) {
            return refuse(kw, "default");
        }
    }
    for kw in ["cache", "tags", "interruptible"] {
        if default.contains_key(kw) {
            warn_ignored(&mut warnings, kw, "default");
        }
    }

    let mut stages: Vec<String> = vec![".pre".to_owned()];
    let declared = stages_v.unwrap_or_else(|| DEFAULT_STAGES.iter().map(|s| (*s).to_owned()).collect());
    for s in declared {
        if s != ".pre" && s != ".post" && !stages.contains(&s) {
            stages.push(s);
        }
    }
    stages.push(".post".to_owned());

    let mut resolved: HashMap<String, Mapping> = HashMap::new();
    let mut jobs = Vec::new();
    for name in &visible {
        let mut m = extend(name, &all, &mut resolved, &mut Vec::new())?;
        let ctx = format!("job {name}");
        let (inherit_default, inherit_vars) = match m.get("inherit") {
            Some(Value::Mapping(im)) => {
                let mut d = None;
                let mut v = None;
                for (ik, iv) in im {
                    match key(ik, &ctx)?.as_str() {
                        "default" => d = inherit_list(iv, &format!("{ctx}: inherit: default"))?,
                        "variables" => v = inherit_list(iv, &format!("{ctx}: inherit: variables"))?,
                        other => return invalid(format!("{ctx}: inherit: unknown key {other:?}")),
                    }
                }
                (d, v)
            }
            Some(_) => return invalid(format!("{ctx}: inherit: expected a mapping")),
            None => (None, None),
        };
        for (dk, dv) in &default {
            let dk_s = dk.as_str().unwrap_or("");
            let allowed = inherit_default.as_ref().is_none_or(|l| l.iter().any(|x| x == dk_s));
            if allowed && !m.contains_key(dk) {
                m.insert(dk.clone(), dv.clone());
            }
        }
        let mut job = job(name, &m, &mut warnings)?;
        job.inherit_variables = inherit_vars;
        if !stages.contains(&job.stage) {
            return invalid(format!("{ctx}: stage {:?} is not defined in `stages` ({})", job.stage, stages.join(", ")));
        }
        jobs.push(job);
    }
    if jobs.is_empty() {
        return invalid("the pipeline has no visible jobs (names starting with `.` are hidden)");
    }
    Ok(Pipeline { stages, variables: global_vars, workflow, jobs, files, warnings })
}

/// A job's mapping with `extends` resolved.
fn extend(
    name: &str,
    all: &HashMap<String, Value>,
    done: &mut HashMap<String, Mapping>,
    stack: &mut Vec<String>,
) -> R<Mapping> {
    if let Some(m) = done.get(name) {
        return Ok(m.clone());
    }
    if stack.iter().any(|s| s == name) {
        return invalid(format!("extends cycle: {} -> {name}", stack.join(" -> ")));
    }
    if stack.len() >= MAX_EXTENDS_DEPTH {
        return invalid(format!("extends nests deeper than {MAX_EXTENDS_DEPTH} levels at {name}"));
    }
    let own = match all.get(name) {
        Some(Value::Mapping(m)) => m.clone(),
        Some(_) => return invalid(format!("{name} is extended but is not a mapping")),
        None => {
            let from = stack.last().map(String::as_str).unwrap_or("?");
            return invalid(format!("job {from}: extends unknown job {name:?}"));
        }
    };
    let parents = match own.get("extends") {
        Some(v) => strings(v, &format!("job {name}: extends"))?,
        None => Vec::new(),
    };
    let mut acc = Mapping::new();
    stack.push(name.to_owned());
    for p in &parents {
        let pm = extend(p, all, done, stack)?;
        deep_merge(&mut acc, pm);
    }
    stack.pop();
    let mut own = own;
    own.remove("extends");
    deep_merge(&mut acc, own);
    acc.remove("extends");
    done.insert(name.to_owned(), acc.clone());
    Ok(acc)
}

/// Job keywords the runner reads (see `model::SUPPORTED`).
const JOB_KEYS: &[&str] = &[
    "script",
    "before_script",
    "after_script",
    "stage",
    "image",
    "variables",
    "rules",
    "only",
    "except",
    "when",
    "allow_failure",
    "needs",
    "dependencies",
    "artifacts",
    "timeout",
    "retry",
    "parallel",
    "inherit",
];

fn job(name: &str, m: &Mapping, warnings: &mut Vec<String>) -> R<Job> {
    let ctx = format!("job {name}");
    let mut j = Job {
        name: name.to_owned(),
        stage: "test".to_owned(),
        image: None,
        before_script: Vec::new(),
        script: Vec::new(),
        after_script: Vec::new(),
        variables: Vars::new(),
        rules: None,
        only: None,
        except: None,
        when: None,
        allow_failure: None,
        needs: None,
        dependencies: None,
        artifacts: None,
        timeout: None,
        retry: Retry::default(),
        parallel: None,
        inherit_variables: None,
    };
    let mut has_script = false;
    for (k, v) in m {
        let kw = key(k, &ctx)?;
        if refused(&kw).is_some() {
            return refuse(&kw, &ctx);
        }
        if ignored(&kw).is_some() {
            warn_ignored(warnings, &kw, &ctx);
            continue;
        }
        if !JOB_KEYS.contains(&kw.as_str()) {
            return invalid(format!("{ctx}: unknown keyword {kw:?}"));
        }
        match kw.as_str() {
            "script" => {
                j.script = strings(v, &format!("{ctx}: script"))?;
                has_script = true;
            }
            "before_script" => j.before_script = strings(v, &format!("{ctx}: before_script"))?,
            "after_script" => j.after_script = strings(v, &format!("{ctx}: after_script"))?,
            "stage" => j.stage = string(v, &format!("{ctx}: stage"))?,
            "image" => j.image = Some(image(v, &ctx, warnings)?),
            "variables" => j.variables = variables(v, &ctx)?,
            "rules" => j.rules = Some(rules(v, &ctx, warnings)?),
            "only" => j.only = Some(filter(v, &format!("{ctx}: only"))?),
            "except" => j.except = Some(filter(v, &format!("{ctx}: except"))?),
            "when" => {
                j.when = Some(When::parse(&string(v, &format!("{ctx}: when"))?).map_err(|e| {
                    if e.contains("delayed") {
                        ParseError::Refused {
                            keyword: "when:delayed".into(),
                            reason: refused("when:delayed").unwrap_or_default().into(),
                            context: ctx.clone(),
                        }
                    } else {
                        ParseError::Invalid(format!("{ctx}: {e}"))
                    }
                })?)
            }
            "allow_failure" => {
                j.allow_failure = Some(match v {
                    Value::Bool(b) => AllowFailure { allowed: *b, exit_codes: Vec::new() },
                    Value::Mapping(am) => {
                        let mut codes = Vec::new();
                        for (ak, av) in am {
                            match key(ak, &ctx)?.as_str() {
                                "exit_codes" => codes = ints(av, &format!("{ctx}: allow_failure: exit_codes"))?,
                                other => return invalid(format!("{ctx}: allow_failure: unknown key {other:?}")),
                            }
                        }
                        AllowFailure { allowed: true, exit_codes: codes }
                    }
                    _ => return invalid(format!("{ctx}: allow_failure: true, false or {{exit_codes}}")),
                })
            }
            "needs" => j.needs = Some(needs(v, &ctx)?),
            "dependencies" => j.dependencies = Some(strings(v, &format!("{ctx}: dependencies"))?),
            "artifacts" => j.artifacts = Some(artifacts(v, &ctx, warnings)?),
            "timeout" => {
                let s = string(v, &format!("{ctx}: timeout"))?;
                j.timeout =
                    Some(duration(&s).map_or_else(|| invalid(format!("{ctx}: timeout {s:?} is not a duration")), Ok)?);
            }
            "retry" => j.retry = retry(v, &ctx)?,
            "parallel" => j.parallel = Some(parallel(v, &ctx)?),
            // Read by the caller (it decides what `default:` contributes).
            "inherit" => {}
            _ => {}
        }
    }
    if !has_script || j.script.is_empty() {
        return invalid(format!("{ctx}: `script` is required (a job runs commands)"));
    }
    if j.rules.is_some() && (j.only.is_some() || j.except.is_some()) {
        return invalid(format!("{ctx}: `rules` cannot be used with `only` or `except`"));
    }
    let unique: BTreeSet<&str> = j.needs.iter().flatten().map(|n| n.job.as_str()).collect();
    if unique.len() != j.needs.as_ref().map_or(0, Vec::len) {
        return invalid(format!("{ctx}: needs lists a job twice"));
    }
    Ok(j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = |s: &str| duration(s).map(|d| d.as_secs());
        assert_eq!(d("3600"), Some(3600));
        assert_eq!(d("90s"), Some(90));
        assert_eq!(d("1h 30m"), Some(5400));
        assert_eq!(d("2h30m"), Some(9000));
        assert_eq!(d("10 minutes"), Some(600));
        assert_eq!(d("1 hour and 5 minutes"), Some(3900));
        assert_eq!(d("soon"), None);
        assert_eq!(d(""), None);
    }

    #[test]
    fn rel_paths() {
        assert_eq!(safe_rel("./ci/a.yml", "x").ok().as_deref(), Some("ci/a.yml"));
        assert!(safe_rel("../a.yml", "x").is_err());
        assert!(safe_rel("ci/../../a.yml", "x").is_err());
        assert!(safe_rel("/etc/passwd", "x").is_err());
    }

    #[test]
    fn nested_merge_keys() {
        let p = parse_str(".a: &a {image: x}\n.b: &b\n  <<: *a\n  stage: build\nj:\n  <<: *b\n  script: [ls]\n")
            .expect("parses");
        assert_eq!(p.jobs[0].image.as_deref(), Some("x"));
        assert_eq!(p.jobs[0].stage, "build");
    }
}
