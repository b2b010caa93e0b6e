//! The template engine: minijinja with the fleet's rules.
//!
//! - **Names** are `[a-z0-9][a-z0-9_-]*` (at most 64): never a path, so `../`,
//!   absolute paths, `%2e`, backslashes and NUL are refused before any file is
//!   looked at. `include`, `extends` and `import` inside a template go through
//!   the same rule.
//! - **Where a template comes from**: the deployment's directory
//!   (`SPEC_TEMPLATES_DIR`) first — a file `<name>.j2` or `<name>.<ext>.j2`,
//!   resolved, canonicalised and required to stay inside the directory (a
//!   symlink out of it is refused) and to be a regular file within the input
//!   cap — then the built-in set compiled into the binary.
//! - **Strict undefined**: a value the template names and the data lacks is
//!   an `invalid_input` error naming it (`is defined` still works).
//! - **Data is data**: user values are the render's context, never template
//!   source, so `{{ ... }}` inside them is printed as text. Templates reach
//!   no environment variables and no files but other templates by name.
//! - **Bounds**: fuel per render (loops, recursion), a recursion limit, and
//!   an output cap enforced while the text is written.
//! - **No escaping**: the output is Markdown or YAML, not HTML; the YAML
//!   template quotes every user string with `tojson` (a JSON string is a YAML
//!   double-quoted scalar).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcp_core::ToolError;
use mcp_types::documents::TemplateOrigin;
use minijinja::{AutoEscape, Environment, ErrorKind as MjKind, TemplateSource, UndefinedBehavior, Value};

/// A built-in template: name, what it makes, source.
pub struct Builtin {
    /// Name.
    pub name: &'static str,
    /// One line.
    pub description: &'static str,
    /// Source.
    pub source: &'static str,
}

/// The built-in templates, in name order.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "adr",
        description: "architecture decision record (MADR)",
        source: include_str!("../templates/adr.md.j2"),
    },
    Builtin {
        name: "architecture",
        description: "Markdown page around a Mermaid flowchart",
        source: include_str!("../templates/architecture.md.j2"),
    },
    Builtin {
        name: "changelog",
        description: "CHANGELOG.md in the Keep a Changelog format",
        source: include_str!("../templates/changelog.md.j2"),
    },
    Builtin {
        name: "design",
        description: "a spec's design document",
        source: include_str!("../templates/design.md.j2"),
    },
    Builtin {
        name: "openapi",
        description: "OpenAPI 3.1 YAML skeleton of a service's resources",
        source: include_str!("../templates/openapi.yaml.j2"),
    },
    Builtin { name: "readme", description: "README.md", source: include_str!("../templates/readme.md.j2") },
    Builtin {
        name: "requirements",
        description: "a spec's requirements document",
        source: include_str!("../templates/requirements.md.j2"),
    },
    Builtin {
        name: "spec",
        description: "SPEC.md: what was asked for",
        source: include_str!("../templates/spec.md.j2"),
    },
    Builtin {
        name: "tasks",
        description: "a spec's tasks document with checkboxes",
        source: include_str!("../templates/tasks.md.j2"),
    },
];

/// Longest template name.
const MAX_NAME: usize = 64;

/// Whether `name` is a template name (`[a-z0-9][a-z0-9_-]*`, at most 64).
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_NAME
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_' || *c == b'-')
}

fn name_error(name: &str) -> String {
    let shown: String = name.chars().take(80).flat_map(char::escape_debug).collect();
    format!(
        "template name \"{shown}\" is not allowed: use a name like `spec` or `my-readme` ([a-z0-9][a-z0-9_-]*, no paths)"
    )
}

/// A user template file found for a name.
struct Found {
    path: PathBuf,
    len: u64,
    modified: Option<std::time::SystemTime>,
}

/// The deployment's template directory (canonical).
#[derive(Debug, Clone)]
pub struct UserDir {
    dir: PathBuf,
    max_bytes: u64,
}

impl UserDir {
    /// The directory at `dir` (must exist and be a directory).
    pub fn open(dir: &Path, max_bytes: usize) -> Result<Self, String> {
        let dir = std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if !dir.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        Ok(Self { dir, max_bytes: max_bytes as u64 })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The file for `name`, or `None`; refusals are errors (a symlink out of
    /// the directory, a non-file, an oversized file, two candidates).
    fn find(&self, name: &str) -> Result<Option<Found>, String> {
        let mut hits = Vec::new();
        let entries = std::fs::read_dir(&self.dir).map_err(|e| format!("cannot read the template directory: {e}"))?;
        for e in entries.flatten() {
            let file = e.file_name();
            let Some(file) = file.to_str() else { continue };
            let Some(stem) = file.strip_suffix(".j2") else { continue };
            let base = stem.split('.').next().unwrap_or_default();
            // `<name>.j2` or `<name>.<ext>.j2` with one plain extension.
            let ext_ok = stem.len() == base.len()
                || stem[base.len() + 1..].bytes().all(|c| c.is_ascii_alphanumeric()) && stem.matches('.').count() == 1;
            if base == name && ext_ok {
                hits.push(e.path());
            }
        }
        hits.sort();
        match hits.len() {
            0 => Ok(None),
            1 => {
                let p = &hits[0];
                let real = std::fs::canonicalize(p).map_err(|e| format!("template {name}: {e}"))?;
                if !real.starts_with(&self.dir) {
                    return Err(format!("template {name} is a link that leads out of the template directory; refused"));
                }
                let meta = std::fs::metadata(&real).map_err(|e| format!("template {name}: {e}"))?;
                if !meta.is_file() {
                    return Err(format!("template {name} is not a regular file"));
                }
                if meta.len() > self.max_bytes {
                    return Err(format!("template {name} is larger than {} bytes", self.max_bytes));
                }
                Ok(Some(Found { path: real, len: meta.len(), modified: meta.modified().ok() }))
            }
            _ => Err(format!("template {name} is ambiguous: {} files match in the template directory", hits.len())),
        }
    }
}

/// Why a render failed, as data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The name breaks the rule.
    #[error("{0}")]
    Name(String),
    /// No template has that name.
    #[error("no template named {0}: see spec_templates_list")]
    NotFound(String),
    /// A template names a value the data lacks.
    #[error("{0}")]
    Undefined(String),
    /// Loops or recursion went past the fuel or recursion limit.
    #[error("{0}")]
    Limit(String),
    /// The output went past the cap.
    #[error("the document would be larger than {0} bytes (SPEC_MAX_OUTPUT_BYTES); give less data")]
    TooLarge(usize),
    /// The template itself is broken or refused (a user template's syntax, a link out of the directory).
    #[error("{0}")]
    Template(String),
    /// The data broke an operation of the template (a filter on the wrong type).
    #[error("{0}")]
    Data(String),
}

impl From<RenderError> for ToolError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::NotFound(_) => ToolError::not_found(e.to_string()),
            RenderError::Template(_) => ToolError::failed(e.to_string()),
            _ => ToolError::invalid(e.to_string()),
        }
    }
}

/// A rendered document.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Template name.
    pub template: String,
    /// Where it came from.
    pub origin: TemplateOrigin,
    /// The text.
    pub content: String,
}

/// A writer that refuses to grow past a cap.
struct Capped {
    buf: Vec<u8>,
    cap: usize,
    over: bool,
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + data.len() > self.cap {
            self.over = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The engine: one minijinja environment whose loader applies the rules.
pub struct Engine {
    env: Environment<'static>,
    user: Option<UserDir>,
    max_output: usize,
}

impl Engine {
    /// An engine over the built-ins and, when given, the deployment's directory.
    pub fn new(user: Option<UserDir>, fuel: u64, max_output: usize) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(fuel));
        env.set_recursion_limit(100);
        // Markdown and YAML, not HTML: nothing is escaped (YAML strings are quoted by the template).
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // Block tags on lines of their own leave no blank lines behind; files end with their newline.
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        // `debug()` would print the whole context and the engine's state into a document.
        env.remove_global("debug");
        env.add_filter("cell", cell);
        env.add_filter("one_line", one_line_filter);
        let u = user.clone();
        env.set_loader(move |name: &str| -> Result<Option<TemplateSource>, minijinja::Error> {
            if !valid_name(name) {
                return Err(minijinja::Error::new(MjKind::InvalidOperation, name_error(name)));
            }
            if let Some(u) = &u {
                match u.find(name) {
                    Err(e) => return Err(minijinja::Error::new(MjKind::InvalidOperation, e)),
                    Ok(Some(f)) => {
                        let text = std::fs::read_to_string(&f.path).map_err(|e| {
                            minijinja::Error::new(MjKind::InvalidOperation, format!("template {name}: {e}"))
                        })?;
                        // Reload when the file changes (size or time), as minijinja's path loader does.
                        let (path, len, modified) = (f.path, f.len, f.modified);
                        let stamp = move || {
                            std::fs::metadata(&path).ok().map(|m| (m.len(), m.modified().ok())) == Some((len, modified))
                        };
                        return Ok(Some(TemplateSource::new(text).with_uptodate_check(stamp)));
                    }
                    Ok(None) => {}
                }
            }
            let Some(b) = BUILTINS.iter().find(|b| b.name == name) else { return Ok(None) };
            let source = TemplateSource::new(b.source);
            // A user file of this name added later must win from the next render on, not after a restart.
            Ok(Some(match u.clone() {
                Some(u) => {
                    let name = name.to_owned();
                    source.with_uptodate_check(move || matches!(u.find(&name), Ok(None)))
                }
                None => source,
            }))
        });
        env.set_auto_reload(true);
        Self { env, user, max_output }
    }

    /// The deployment's directory.
    pub fn user_dir(&self) -> Option<&UserDir> {
        self.user.as_ref()
    }

    /// Where `name` comes from now (user file first), or why not.
    pub fn origin(&self, name: &str) -> Result<TemplateOrigin, RenderError> {
        if !valid_name(name) {
            return Err(RenderError::Name(name_error(name)));
        }
        if let Some(u) = &self.user {
            match u.find(name) {
                Err(e) => return Err(RenderError::Template(e)),
                Ok(Some(_)) => return Ok(TemplateOrigin::User),
                Ok(None) => {}
            }
        }
        if BUILTINS.iter().any(|b| b.name == name) {
            Ok(TemplateOrigin::Builtin)
        } else {
            Err(RenderError::NotFound(name.to_owned()))
        }
    }

    /// The user templates (names and files), for listing.
    pub fn user_templates(&self) -> Vec<(String, String)> {
        let Some(u) = &self.user else { return Vec::new() };
        let mut out: Vec<(String, String)> = std::fs::read_dir(u.path())
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| {
                        let file = e.file_name().to_str()?.to_owned();
                        let stem = file.strip_suffix(".j2")?;
                        let name = stem.split('.').next()?.to_owned();
                        valid_name(&name).then_some((name, file))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// Render `name` with `data` as its context.
    pub fn render(&self, name: &str, data: &serde_json::Value) -> Result<Rendered, RenderError> {
        let origin = self.origin(name)?;
        let tmpl = self.env.get_template(name).map_err(|e| self.error(&e, data))?;
        let mut w = Capped { buf: Vec::new(), cap: self.max_output, over: false };
        let ctx = Value::from(minijinja::value::Serde(data));
        if let Err(e) = tmpl.render_captured_to(ctx, &mut w) {
            if w.over {
                return Err(RenderError::TooLarge(self.max_output));
            }
            return Err(self.error(&e, data));
        }
        let content = String::from_utf8(w.buf).map_err(|_| RenderError::Data("the output is not UTF-8".into()))?;
        Ok(Rendered { template: name.to_owned(), origin, content })
    }

    /// One minijinja error as data, naming the value or place it is about.
    fn error(&self, e: &minijinja::Error, data: &serde_json::Value) -> RenderError {
        // An error inside an included template arrives wrapped: report the inner one, which names its place.
        if e.kind() == MjKind::BadInclude
            && let Some(inner) = std::error::Error::source(e).and_then(|s| s.downcast_ref::<minijinja::Error>())
        {
            return self.error(inner, data);
        }
        let at = match (e.name(), e.line()) {
            (Some(n), Some(l)) => format!(" (template {n}, line {l})"),
            (Some(n), None) => format!(" (template {n})"),
            _ => String::new(),
        };
        match e.kind() {
            MjKind::UndefinedError => RenderError::Undefined(self.undefined(e, data, &at)),
            MjKind::OutOfFuel => RenderError::Limit(format!(
                "the template ran out of fuel{at}: its loops or recursion do too much work (SPEC_TEMPLATE_FUEL)"
            )),
            MjKind::TemplateNotFound => RenderError::NotFound(
                e.name().map(str::to_owned).unwrap_or_else(|| e.detail().unwrap_or("?").to_owned()),
            ),
            MjKind::SyntaxError | MjKind::BadInclude => {
                RenderError::Template(format!("the template is broken: {}{at}", e.detail().unwrap_or("syntax error")))
            }
            MjKind::InvalidOperation if e.detail().is_some_and(|d| d.starts_with("template ")) => {
                RenderError::Template(e.detail().unwrap_or_default().to_owned())
            }
            _ if e.to_string().contains("recursion") => {
                RenderError::Limit(format!("the template recursed too deeply{at}"))
            }
            _ => RenderError::Data(format!("{}{at}", e.detail().map(str::to_owned).unwrap_or_else(|| e.to_string()))),
        }
    }
}

impl Engine {
    /// The message of a strict-undefined error: the names the failing line
    /// uses that the data lacks (from the template's undeclared variables),
    /// else the line itself.
    fn undefined(&self, e: &minijinja::Error, data: &serde_json::Value, at: &str) -> String {
        let Some(tmpl) = e.name().and_then(|n| self.env.get_template(n).ok()) else {
            return format!("a value the template needs is missing from the data{at}");
        };
        let line = e.line().and_then(|l| tmpl.source().lines().nth(l.saturating_sub(1))).unwrap_or("").trim();
        let resolves = |path: &str| {
            let mut v = data;
            for part in path.split('.') {
                match v.get(part) {
                    Some(x) => v = x,
                    None => return false,
                }
            }
            true
        };
        let mut missing: Vec<String> = tmpl
            .undeclared_variables(true)
            .into_iter()
            .filter(|n| {
                line.match_indices(n.as_str()).any(|(i, _)| {
                    let before = line[..i].chars().next_back();
                    let after = line[i + n.len()..].chars().next();
                    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
                    !word(before) && !word(after)
                })
            })
            .filter(|n| !resolves(n))
            .collect();
        missing.sort();
        // `a` missing makes `a.b` missing too: name the shortest.
        let shown: Vec<&String> =
            missing.iter().filter(|m| !missing.iter().any(|o| m.starts_with(&format!("{o}.")))).collect();
        if shown.is_empty() {
            let snippet: String = line.chars().take(120).collect();
            format!("a value the template needs is missing from the data{at}: `{snippet}`")
        } else {
            let names = shown.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
            format!("missing value {names}{at}: the data has no such field; add it")
        }
    }
}

/// A Markdown table cell: one line, `|` escaped.
fn cell(v: String) -> String {
    one_line(&v).replace('|', "\\|")
}

fn one_line_filter(v: String) -> String {
    one_line(&v)
}

/// Whitespace runs (newlines included) as one space, trimmed.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Shared handle.
pub type SharedEngine = Arc<Engine>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["spec", "my-readme", "a_1", "0x"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "../spec", "/etc/passwd", "%2e%2e", "Spec", "a/b", "a\0", "-x", "a.b", "a\\b", &"a".repeat(65)]
        {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn undefined_is_named() {
        let e = Engine::new(None, 100_000, 1 << 20);
        let err = e.render("readme", &serde_json::json!({"name": "x"})).unwrap_err();
        assert!(matches!(err, RenderError::Undefined(_)), "{err}");
        assert!(err.to_string().contains("missing value `summary`"), "{err}");
    }
}
