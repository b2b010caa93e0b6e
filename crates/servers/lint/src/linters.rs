//! Running the tools: which program each detected tool is (the project's
//! virtualenv, the server's `PATH`, or built in), the argv with this
//! server's output flags and the project's own arguments, the run through
//! `mcp_core::jobs::Runner` (every process of every run is confined and
//! killed at its end), and the parse of what it printed into diagnostics
//! with a status that never calls a broken or missing tool clean.

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_core::jobs::{Finished, Run, Scratch};
use mcp_core::prelude::*;

use crate::Lint;
use crate::detect::{Detected, Files, PYTHON_TOOLS};
use crate::diag::{Diagnostic, Severity};
use crate::parse;
use mcp_core::schemas as schema;

/// How one tool's run ended.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// The tool.
    pub tool: String,
    /// Its version, as it reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The argv run (empty for built-in checks and tools that did not start).
    pub argv: Vec<String>,
    /// `ok` (ran, nothing found), `findings`, `error` (crashed, refused, output unreadable
    /// or cut), `timeout`, or `missing` (not installed: never clean).
    pub status: String,
    /// Findings it reported (after `paths` and `since`).
    pub findings: usize,
    /// Its exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Wall-clock time, milliseconds.
    pub duration_ms: u64,
    /// Why it is not `ok`, or what was dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl RunInfo {
    fn new(tool: &str, status: &str) -> Self {
        Self {
            tool: tool.to_owned(),
            version: None,
            argv: vec![],
            status: status.to_owned(),
            findings: 0,
            exit_code: None,
            duration_ms: 0,
            message: None,
        }
    }
}

/// What a tool is on this server for this project.
#[derive(Debug, Clone)]
pub enum Launch {
    /// A program: the argv prefix (`[".venv/bin/python", "-m", "flake8"]`,
    /// `["ruff"]`, `["cargo", "clippy"]`) and its version.
    Program {
        /// Prefix of every argv.
        prefix: Vec<String>,
        /// Its version.
        version: Option<String>,
    },
    /// Checked in this process (the schema checks).
    Builtin(&'static str),
    /// Not installed; the message says where it was looked for.
    Missing(String),
    /// Refused (a virtualenv interpreter that is not a Python).
    Refused(String),
}

/// The first version-looking word of a `--version` output.
pub fn version_of(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
        .map(|w| w.trim_start_matches('v'))
        .find(|w| {
            let mut parts = w.split('.');
            w.contains('.') && parts.next().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_owned)
}

fn words(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| (*s).to_owned()).collect()
}

impl Lint {
    /// Run `argv` in `project` for a short probe; `None` when it did not exit 0.
    async fn probe(&self, project: &Path, argv: Vec<String>) -> Result<Option<String>, ToolError> {
        let run = Run {
            display: argv.join(" "),
            argv,
            cwd: project.to_path_buf(),
            env: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into())],
            timeout: Duration::from_secs(60),
            network: false,
        };
        let f = self.runner.run(run, None).await?;
        Ok(f.success().then(|| version_of(&format!("{}\n{}", f.stdout, f.stderr)).unwrap_or_default()))
    }

    /// A program on `PATH`, probed once per server for its version.
    async fn on_path(&self, project: &Path, names: &[&str], version_argv: &[&str]) -> Option<Option<String>> {
        if names.iter().any(|n| self.runner.which(n).is_none()) {
            return None;
        }
        let key = version_argv.join(" ");
        if let Some(v) = self.versions.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Some(v);
        }
        let v = self.probe(project, words(version_argv)).await.ok().flatten().filter(|v| !v.is_empty());
        if let Ok(mut m) = self.versions.lock() {
            m.insert(key, v.clone());
        }
        Some(v)
    }

    /// Which program a tool is for this project. Python tools prefer the
    /// project's interpreter (the template's, else `.venv/bin/python`) when
    /// `python -m <tool>` works there, then the tool on `PATH`.
    pub async fn launch(&self, project: &Path, d: &Detected) -> Launch {
        let tool = d.tool.as_str();
        match tool {
            "compose-schema" => return Launch::Builtin(schema::Kind::Compose.version()),
            "gitlab-ci-schema" => return Launch::Builtin(schema::Kind::GitlabCi.version()),
            "clippy" => {
                return match self.on_path(project, &["cargo", "cargo-clippy"], &["cargo", "clippy", "--version"]).await
                {
                    Some(version) => Launch::Program { prefix: words(&["cargo", "clippy"]), version },
                    None => Launch::Missing(format!(
                        "cargo and cargo-clippy are not both on LINT_PATH ({})",
                        self.runner.path_var()
                    )),
                };
            }
            "rustfmt" => {
                return match self
                    .on_path(project, &["cargo", "cargo-fmt", "rustfmt"], &["cargo", "fmt", "--version"])
                    .await
                {
                    Some(version) => Launch::Program { prefix: words(&["cargo", "fmt"]), version },
                    None => Launch::Missing(format!(
                        "cargo, cargo-fmt and rustfmt are not all on LINT_PATH ({})",
                        self.runner.path_var()
                    )),
                };
            }
            _ => {}
        }
        let python = PYTHON_TOOLS.contains(&tool);
        if python {
            let mut candidates: Vec<String> = Vec::new();
            if let Some(i) = d.command.as_ref().and_then(|c| c.interpreter.clone()) {
                // An absolute interpreter is looked up by name on PATH: runs
                // only start programs from PATH or the project.
                let i = if i.starts_with('/') { i.rsplit('/').next().unwrap_or("python3").to_owned() } else { i };
                candidates.push(i);
            }
            if std::fs::symlink_metadata(project.join(".venv/bin/python")).is_ok()
                && !candidates.iter().any(|c| c == ".venv/bin/python")
            {
                candidates.push(".venv/bin/python".to_owned());
            }
            for interp in candidates {
                let prefix = vec![interp.clone(), "-m".to_owned(), tool.to_owned()];
                let mut argv = prefix.clone();
                argv.push("--version".to_owned());
                match self.probe(project, argv).await {
                    Ok(Some(v)) => return Launch::Program { prefix, version: (!v.is_empty()).then_some(v) },
                    Ok(None) => {}
                    Err(ToolError::Denied(m)) => {
                        return Launch::Refused(format!("the project's interpreter is refused: {m}"));
                    }
                    Err(_) => {}
                }
            }
        }
        match self.on_path(project, &[tool], &[tool, "--version"]).await {
            Some(version) => Launch::Program { prefix: vec![tool.to_owned()], version },
            None => Launch::Missing(format!(
                "{tool} is not installed: not on LINT_PATH ({}){}",
                self.runner.path_var(),
                if python {
                    " and not in the project's virtualenv (.venv/bin/python -m ".to_owned() + tool + ")"
                } else {
                    String::new()
                }
            )),
        }
    }
}

/// The project's arguments for a tool, with `paths` in place of the path
/// arguments when the caller gave some.
fn targets(project: &Path, d: &Detected, paths: Option<&[String]>, default: &[&str]) -> Vec<String> {
    match (d.command.as_ref(), paths) {
        (Some(c), Some(p)) => {
            let mut out: Vec<String> =
                c.args.iter().filter(|a| a.starts_with('-') || !project.join(a.as_str()).exists()).cloned().collect();
            out.extend(p.iter().cloned());
            out
        }
        (Some(c), None) if !c.args.is_empty() => c.args.clone(),
        (_, Some(p)) => p.to_vec(),
        _ => words(default),
    }
}

/// Files of a kind, narrowed to `paths`.
fn narrowed(files: &[String], paths: Option<&[String]>) -> Vec<String> {
    files.iter().filter(|f| paths.is_none_or(|ps| ps.iter().any(|p| within(f, p)))).cloned().collect()
}

/// `file` is `p` or below it.
pub fn within(file: &str, p: &str) -> bool {
    let p = p.trim_end_matches('/');
    p.is_empty() || p == "." || file == p || file.strip_prefix(p).is_some_and(|r| r.starts_with('/'))
}

/// The argv a tool runs with, or the files a built-in check reads.
pub fn argv(
    project: &Path,
    d: &Detected,
    prefix: &[String],
    files: &Files,
    paths: Option<&[String]>,
    version: Option<&str>,
    scratch: Option<&Path>,
) -> Vec<String> {
    let mut a: Vec<String> = prefix.to_vec();
    let push = |a: &mut Vec<String>, s: &[&str]| a.extend(s.iter().map(|x| (*x).to_owned()));
    match d.tool.as_str() {
        "ruff" => {
            push(&mut a, &["check", "--output-format", "json", "--no-cache"]);
            a.extend(targets(project, d, paths, &["."]));
        }
        "flake8" => {
            push(
                &mut a,
                &[
                    "--format=%(path)s:%(row)d:%(col)d:%(code)s:%(text)s",
                    "--extend-exclude=.venv,venv,target,node_modules",
                ],
            );
            a.extend(targets(project, d, paths, &["."]));
        }
        "black" => {
            push(&mut a, &["--check", "--diff", "--no-color"]);
            a.extend(targets(project, d, paths, &["."]));
        }
        "isort" => {
            push(&mut a, &["--check-only", "--diff"]);
            a.extend(targets(project, d, paths, &["."]));
        }
        "mypy" => {
            push(
                &mut a,
                &[
                    "--show-column-numbers",
                    "--show-error-codes",
                    "--no-error-summary",
                    "--no-color-output",
                    "--no-pretty",
                ],
            );
            if mypy_json(version) {
                push(&mut a, &["-O", "json"]);
            }
            if let Some(s) = scratch {
                a.push(format!("--cache-dir={}", s.join("mypy").display()));
            }
            let t = targets(project, d, paths, &["."]);
            if t == ["."] {
                push(&mut a, &["--exclude", "(^|/)(\\.venv|venv|target|node_modules)/"]);
            }
            a.extend(t);
        }
        "bandit" => {
            push(&mut a, &["-f", "json", "-q"]);
            // bandit reads `[tool.bandit]` only when named with `-c`, and
            // reads TOML there from 1.7 on (1.6 parses it as YAML and fails).
            if d.config.as_deref() == Some("pyproject.toml") && version_at_least(version, 1, 7) {
                push(&mut a, &["-c", "pyproject.toml"]);
            } else {
                push(&mut a, &["-x", ".venv,venv,target,node_modules,./.venv,./venv,./target,./node_modules"]);
            }
            a.push("-r".to_owned());
            a.extend(targets(project, d, paths, &["."]));
        }
        "clippy" => {
            let mut rest =
                d.command.as_ref().map(|c| c.args.clone()).unwrap_or_else(|| words(&["--offline", "--all-targets"]));
            let at = rest.iter().position(|x| x == "--").unwrap_or(rest.len());
            rest.insert(at, "--message-format=json".to_owned());
            a.extend(rest);
        }
        "rustfmt" => {
            a.push("--check".to_owned());
            let mut rest = d.command.as_ref().map(|c| c.args.clone()).unwrap_or_default();
            if !rest.iter().any(|x| x == "--") {
                rest.push("--".to_owned());
            }
            rest.push("--color=never".to_owned());
            a.extend(rest);
        }
        "shellcheck" => {
            push(&mut a, &["-f", "json1"]);
            a.extend(narrowed(&files.shell, paths));
        }
        "hadolint" => {
            push(&mut a, &["-f", "json", "--no-color"]);
            a.extend(narrowed(&files.docker, paths));
        }
        "yamllint" => {
            push(&mut a, &["-f", "parsable"]);
            a.extend(narrowed(&files.yaml, paths));
        }
        _ => {}
    }
    a
}

/// `version` is at least `major.minor` (unknown versions are not).
fn version_at_least(version: Option<&str>, major: u32, minor: u32) -> bool {
    let Some(v) = version else { return false };
    let mut it = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (it.next().unwrap_or(0), it.next().unwrap_or(0));
    a > major || (a == major && b >= minor)
}

/// mypy prints JSON lines (`-O json`) from 1.11 on.
fn mypy_json(version: Option<&str>) -> bool {
    version_at_least(version, 1, 11)
}

/// The files a tool that takes them by name would check (`None` for the
/// tools that find their own).
fn named_files<'a>(tool: &str, files: &'a Files) -> Option<&'a [String]> {
    match tool {
        "shellcheck" => Some(&files.shell),
        "hadolint" => Some(&files.docker),
        "yamllint" => Some(&files.yaml),
        _ => None,
    }
}

/// Run one tool to its end and read its findings.
pub async fn run_tool(
    lint: &Lint,
    project: &Path,
    d: &Detected,
    files: &Files,
    paths: Option<&[String]>,
    timeout: Duration,
) -> (RunInfo, Vec<Diagnostic>) {
    let launch = lint.launch(project, d).await;
    let (prefix, version) = match launch {
        Launch::Missing(m) => {
            let mut r = RunInfo::new(&d.tool, "missing");
            r.message = Some(m);
            return (r, vec![]);
        }
        Launch::Refused(m) => {
            let mut r = RunInfo::new(&d.tool, "error");
            r.message = Some(m);
            return (r, vec![]);
        }
        Launch::Builtin(version) => return builtin(project, d, files, paths, version).await,
        Launch::Program { prefix, version } => (prefix, version),
    };
    let scratch: Option<Scratch> = lint.runner.scratch().ok();
    let argv = argv(project, d, &prefix, files, paths, version.as_deref(), scratch.as_ref().map(Scratch::path));
    let mut info = RunInfo::new(&d.tool, "ok");
    info.version = version;
    info.argv = argv.clone();
    if named_files(&d.tool, files).is_some_and(|f| narrowed(f, paths).is_empty()) {
        info.message = Some("no files of its kind to check".to_owned());
        return (info, vec![]);
    }
    let mut env = vec![
        ("PYTHONDONTWRITEBYTECODE".to_owned(), "1".to_owned()),
        ("NO_COLOR".to_owned(), "1".to_owned()),
        ("CARGO_TERM_COLOR".to_owned(), "never".to_owned()),
    ];
    if let Some(s) = &scratch {
        // Caches (black's, pip's, mypy's) go to the run's scratch, removed after.
        env.push(("XDG_CACHE_HOME".to_owned(), s.path().join("cache").display().to_string()));
    }
    let started = Instant::now();
    let run = Run { display: argv.join(" "), argv, cwd: project.to_path_buf(), env, timeout, network: false };
    let finished = match lint.runner.run(run, scratch.as_ref()).await {
        Ok(f) => f,
        Err(e) => {
            info.status = if matches!(e, ToolError::Unavailable(_)) && lint.runner.refusal().is_none() {
                "missing"
            } else {
                "error"
            }
            .to_owned();
            info.duration_ms = started.elapsed().as_millis() as u64;
            info.message = Some(e.to_string());
            return (info, vec![]);
        }
    };
    info.exit_code = finished.exit_code;
    info.duration_ms = finished.duration.as_millis() as u64;
    let parsed = parse_output(&d.tool, project, &finished, version_is_json(&d.tool, info.version.as_deref()));
    classify(&mut info, &finished, parsed)
}

fn version_is_json(tool: &str, version: Option<&str>) -> bool {
    tool == "mypy" && mypy_json(version)
}

fn parse_output(tool: &str, project: &Path, f: &Finished, mypy_json: bool) -> Result<Vec<Diagnostic>, String> {
    let out = f.stdout.as_str();
    let empty_ok =
        |r: Result<Vec<Diagnostic>, String>| if out.trim().is_empty() && f.success() { Ok(vec![]) } else { r };
    match tool {
        "ruff" => empty_ok(parse::ruff(project, out)),
        "flake8" => Ok(parse::flake8(project, out)),
        "black" => Ok(parse::format_hunks(
            "black",
            "black",
            "black would reformat these lines",
            project,
            parse::unified_diff(out),
        )),
        "isort" => Ok(parse::format_hunks(
            "isort",
            "isort",
            "imports are incorrectly sorted or formatted (isort)",
            project,
            parse::unified_diff(out),
        )),
        "mypy" if mypy_json => Ok(parse::mypy_json(project, out)),
        "mypy" => Ok(parse::mypy_text(project, out)),
        "bandit" => empty_ok(parse::bandit(project, out)),
        "clippy" => Ok(parse::clippy(project, out)),
        "rustfmt" => Ok(parse::rustfmt(project, out)),
        "shellcheck" => empty_ok(parse::shellcheck(project, out)),
        "hadolint" => empty_ok(parse::hadolint(project, out)),
        "yamllint" => Ok(parse::yamllint(project, out)),
        other => Err(format!("no parser for {other}")),
    }
}

/// Exit codes that mean the tool itself failed, whatever it printed.
fn failure_code(tool: &str, code: i32) -> bool {
    matches!((tool, code), ("ruff", 2) | ("mypy", 2) | ("black", 123) | ("bandit", 2))
}

fn tail(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.len() <= n {
        return s.to_owned();
    }
    let mut start = s.len() - n;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

fn classify(info: &mut RunInfo, f: &Finished, parsed: Result<Vec<Diagnostic>, String>) -> (RunInfo, Vec<Diagnostic>) {
    let diags = parsed.clone().unwrap_or_default();
    info.findings = diags.len();
    let (status, message) = if f.timed_out {
        ("timeout", Some(format!("{}; its findings are incomplete", f.ending())))
    } else if f.killed.is_some() || f.exit_code.is_none() {
        ("error", Some(format!("{}; its findings are incomplete", f.ending())))
    } else if f.output_cut {
        (
            "error",
            Some(format!(
                "its output was larger than {} and was cut; findings are incomplete",
                crate::config::LINT_MAX_OUTPUT_BYTES
            )),
        )
    } else if let Err(e) = &parsed {
        ("error", Some(format!("{e}; stderr: {}", tail(&f.stderr, 600))))
    } else if f.exit_code.is_some_and(|c| failure_code(&info.tool, c)) {
        ("error", Some(format!("{} (the tool failed): {}", f.ending(), tail(&f.stderr, 800))))
    } else if !diags.is_empty() {
        ("findings", None)
    } else if f.success() {
        ("ok", None)
    } else {
        (
            "error",
            Some(format!(
                "{} with no findings it could report: {}",
                f.ending(),
                tail(&format!("{}\n{}", f.stderr, f.stdout), 800)
            )),
        )
    };
    info.status = status.to_owned();
    info.message = message;
    (info.clone(), diags)
}

async fn builtin(
    project: &Path,
    d: &Detected,
    files: &Files,
    paths: Option<&[String]>,
    version: &str,
) -> (RunInfo, Vec<Diagnostic>) {
    let (kind, list) = if d.tool == "compose-schema" {
        (schema::Kind::Compose, narrowed(&files.compose, paths))
    } else {
        (schema::Kind::GitlabCi, narrowed(&files.gitlab, paths))
    };
    let mut info = RunInfo::new(&d.tool, "ok");
    info.version = Some(version.to_owned());
    let started = Instant::now();
    let project = project.to_path_buf();
    let checked = list.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        let mut errors = Vec::new();
        for f in &checked {
            match schema::check(&project, f, kind) {
                Ok(found) => all.extend(found.into_iter().map(|x| {
                    Diagnostic::new(kind.tool(), f.clone(), x.line, x.column, x.rule, Severity::Error, x.message)
                })),
                Err(e) => errors.push(e),
            }
        }
        (all, errors)
    })
    .await;
    info.duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok((diags, errors)) => {
            info.findings = diags.len();
            if !errors.is_empty() {
                info.status = "error".to_owned();
                info.message = Some(errors.join("; "));
            } else if list.is_empty() {
                info.message = Some("no files of its kind to check".to_owned());
            } else if !diags.is_empty() {
                info.status = "findings".to_owned();
            }
            info.argv = vec![];
            (info, diags)
        }
        Err(e) => {
            info.status = "error".to_owned();
            info.message = Some(format!("the check failed: {e}"));
            (info, vec![])
        }
    }
}

/// The lines changed since `since` (already checked with
/// [`crate::baseline::check_ref`]) and the untracked files, from git run
/// like any tool: confined, with the repository's hooks, fsmonitor, external
/// diff and textconv drivers switched off, so a project's `.git/config`
/// cannot make the diff run its programs.
pub async fn git_changes(lint: &Lint, project: &Path, since: &str) -> Result<crate::baseline::Changes, ToolError> {
    let git = |args: &[&str]| -> Vec<String> {
        let mut a = words(&[
            "git",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.hooksPath=/dev/null",
            "-c",
            "diff.noprefix=false",
            "-c",
            "diff.mnemonicPrefix=false",
            "-c",
            "core.quotePath=true",
        ]);
        a.extend(args.iter().map(|s| (*s).to_owned()));
        a
    };
    let mut changes = crate::baseline::Changes::default();
    let diff = git(&["diff", "--no-ext-diff", "--no-textconv", "--no-color", "-U0", since, "--"]);
    let untracked = git(&["ls-files", "--others", "--exclude-standard", "-z"]);
    for (i, argv) in [diff, untracked].into_iter().enumerate() {
        let run = Run {
            display: argv.join(" "),
            argv,
            cwd: project.to_path_buf(),
            env: vec![],
            timeout: Duration::from_secs(120),
            network: false,
        };
        let f = lint.runner.run(run, None).await?;
        if !f.success() || !f.completed() {
            return Err(ToolError::invalid(format!(
                "since {since:?}: git could not compare with it ({}): {}",
                f.ending(),
                tail(&f.stderr, 600)
            )));
        }
        if i == 0 {
            crate::baseline::parse_diff(&f.stdout, &mut changes);
        } else {
            changes.new_files.extend(f.stdout.split('\0').filter(|s| !s.is_empty()).map(str::to_owned));
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version_of("5.0.4 (mccabe: 0.7.0, pycodestyle: 2.10.0)").as_deref(), Some("5.0.4"));
        assert_eq!(version_of("python -m black, 23.1.0 (compiled: no)").as_deref(), Some("23.1.0"));
        assert_eq!(version_of("__main__.py 1.6.2\n  python version = 3.11.2").as_deref(), Some("1.6.2"));
        assert_eq!(version_of("Haskell Dockerfile Linter 2.15.1").as_deref(), Some("2.15.1"));
        assert_eq!(version_of("clippy 0.1.95 (abc 2026-01-01)").as_deref(), Some("0.1.95"));
        assert!(mypy_json(Some("1.11.0")) && !mypy_json(Some("1.0.1")) && mypy_json(Some("2.4.1")));
    }

    #[test]
    fn within_paths() {
        assert!(within("src/a.py", "src"));
        assert!(within("src/a.py", "src/"));
        assert!(within("src/a.py", "src/a.py"));
        assert!(!within("srcx/a.py", "src"));
        assert!(within("x", "."));
    }
}
