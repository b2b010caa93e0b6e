//! What a project uses, found from its files before anything runs: the
//! fleet's `template.json` first (its `commands.lint` argv lists are the
//! project's own word on how it is linted), then the tools' configuration
//! files, then the kinds of files present. Each finding says why.

use std::path::Path;

use serde_json::Value;

/// The tools this server knows, with their language.
pub const TOOLS: &[(&str, &str)] = &[
    ("ruff", "python"),
    ("flake8", "python"),
    ("black", "python"),
    ("isort", "python"),
    ("bandit", "python"),
    ("mypy", "python"),
    ("clippy", "rust"),
    ("rustfmt", "rust"),
    ("shellcheck", "shell"),
    ("hadolint", "dockerfile"),
    ("yamllint", "yaml"),
    ("compose-schema", "yaml"),
    ("gitlab-ci-schema", "yaml"),
];

/// Tools that are Python modules (run with the project's virtualenv when it has them).
pub const PYTHON_TOOLS: &[&str] = &["ruff", "flake8", "black", "isort", "bandit", "mypy", "yamllint"];

/// The language of a known tool.
pub fn language(tool: &str) -> Option<&'static str> {
    TOOLS.iter().find(|(t, _)| *t == tool).map(|(_, l)| *l)
}

/// The project's own command for a tool (from `template.json`).
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectCommand {
    /// The whole argv as the template gives it.
    pub argv: Vec<String>,
    /// The interpreter it names (`.venv/bin/python` of `python -m flake8`).
    pub interpreter: Option<String>,
    /// Its arguments after the tool (paths, flags such as `-D warnings`),
    /// minus the output and check flags this server sets itself.
    pub args: Vec<String>,
}

/// One tool found for a project.
#[derive(Debug, Clone)]
pub struct Detected {
    /// Tool name (see [`TOOLS`]).
    pub tool: String,
    /// Its language.
    pub language: String,
    /// Why: the file and section that named it.
    pub reason: String,
    /// The configuration file it will read, when there is one.
    pub config: Option<String>,
    /// The project's own command, when `template.json` gives one.
    pub command: Option<ProjectCommand>,
}

/// Files found by the walk that some tools take by name.
#[derive(Debug, Default, Clone)]
pub struct Files {
    /// `*.sh`.
    pub shell: Vec<String>,
    /// `Dockerfile*`, `*.dockerfile`.
    pub docker: Vec<String>,
    /// `*.yml`, `*.yaml`.
    pub yaml: Vec<String>,
    /// Compose files at the top.
    pub compose: Vec<String>,
    /// `.gitlab-ci.yml` at the top.
    pub gitlab: Vec<String>,
}

/// Directories never walked: dependencies, build output, caches, VCS.
pub(crate) const SKIP: &[&str] = &[
    ".git",
    ".venv",
    "venv",
    "target",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
];
const MAX_ENTRIES: usize = 20_000;
const MAX_DEPTH: usize = 8;

/// Walk the project (symlinks are not followed) for the files of [`Files`].
pub fn files(project: &Path) -> Files {
    let mut f = Files::default();
    let mut seen = 0usize;
    walk(project, project, 0, &mut seen, &mut f);
    for v in [&mut f.shell, &mut f.docker, &mut f.yaml] {
        v.sort();
    }
    for name in ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"] {
        if project.join(name).is_file() {
            f.compose.push(name.to_owned());
        }
    }
    if project.join(".gitlab-ci.yml").is_file() {
        f.gitlab.push(".gitlab-ci.yml".to_owned());
    }
    f
}

fn walk(project: &Path, dir: &Path, depth: usize, seen: &mut usize, f: &mut Files) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        *seen += 1;
        if *seen > MAX_ENTRIES {
            return;
        }
        let Ok(ft) = e.file_type() else { continue };
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if ft.is_dir() {
            if depth < MAX_DEPTH && !SKIP.contains(&name.as_str()) {
                walk(project, &path, depth + 1, seen, f);
            }
            continue;
        }
        if !ft.is_file() {
            continue;
        }
        let Ok(rel) = path.strip_prefix(project) else { continue };
        let rel = rel.to_string_lossy().into_owned();
        if name.ends_with(".sh") {
            f.shell.push(rel);
        } else if name.starts_with("Dockerfile") || name.ends_with(".dockerfile") {
            f.docker.push(rel);
        } else if name.ends_with(".yml") || name.ends_with(".yaml") {
            f.yaml.push(rel);
        }
    }
}

/// Map one argv of `template.json`'s `commands.lint` to a known tool.
pub fn map_command(argv: &[String]) -> Option<(String, ProjectCommand)> {
    let first = argv.first()?;
    let base = first.rsplit('/').next().unwrap_or(first);
    let (interpreter, name, rest): (Option<String>, String, &[String]) =
        if base.starts_with("python") && argv.get(1).map(String::as_str) == Some("-m") {
            (Some(first.clone()), argv.get(2)?.clone(), argv.get(3..).unwrap_or(&[]))
        } else {
            (None, base.to_owned(), &argv[1..])
        };
    let (tool, rest): (&str, &[String]) = match name.as_str() {
        "cargo" => match rest.first().map(String::as_str) {
            Some("clippy") => ("clippy", &rest[1..]),
            Some("fmt") => ("rustfmt", &rest[1..]),
            _ => return None,
        },
        "ruff" => match rest.first().map(String::as_str) {
            Some("check") => ("ruff", &rest[1..]),
            Some("format") => return None,
            _ => ("ruff", rest),
        },
        "flake8" | "black" | "isort" | "mypy" | "bandit" | "shellcheck" | "hadolint" | "yamllint" => {
            (TOOLS.iter().find(|(t, _)| *t == name)?.0, rest)
        }
        _ => return None,
    };
    // Flags this server sets itself (check mode, output formats) are dropped
    // from the project's; everything else — paths, `-D warnings`, rule
    // selections — is kept.
    let ours: &[&str] = match tool {
        "black" => &["--check", "--diff", "--quiet", "-q"],
        "isort" => &["--check-only", "--check", "--diff", "-c"],
        "rustfmt" => &["--check"],
        "ruff" => &["--quiet", "-q"],
        _ => &[],
    };
    let mut args = Vec::new();
    let mut skip_next = false;
    for a in rest {
        if skip_next {
            skip_next = false;
            continue;
        }
        if ours.contains(&a.as_str())
            || a.starts_with("--output-format=")
            || a.starts_with("--message-format=")
            || a.starts_with("--format=")
        {
            continue;
        }
        if matches!(a.as_str(), "--output-format" | "--message-format" | "--format" | "-f") {
            skip_next = true;
            continue;
        }
        args.push(a.clone());
    }
    Some((tool.to_owned(), ProjectCommand { argv: argv.to_vec(), interpreter, args }))
}

fn ini_sections(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else { return vec![] };
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix('[').and_then(|r| r.strip_suffix(']')).map(|s| s.trim().to_owned())
        })
        .collect()
}

/// Everything found for a project, in the order of [`TOOLS`], and the
/// problems met while reading its files (a `template.json` that does not parse).
pub fn detect(project: &Path, files: &Files) -> (Vec<Detected>, Vec<String>) {
    let mut found: Vec<Detected> = Vec::new();
    let mut notes = Vec::new();
    let add = |found: &mut Vec<Detected>, tool: &str, reason: String, config: Option<&str>| {
        if let Some(d) = found.iter_mut().find(|d| d.tool == tool) {
            if d.config.is_none() {
                d.config = config.map(str::to_owned);
            }
            return;
        }
        found.push(Detected {
            tool: tool.to_owned(),
            language: language(tool).unwrap_or("other").to_owned(),
            reason,
            config: config.map(str::to_owned),
            command: None,
        });
    };
    // 1. template.json: the project's own commands.
    let tj = project.join("template.json");
    if tj.is_file() {
        match std::fs::read_to_string(&tj).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok()) {
            Some(v) => {
                for (i, cmd) in v["commands"]["lint"].as_array().into_iter().flatten().enumerate() {
                    let argv: Vec<String> =
                        cmd.as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_owned)).collect();
                    match map_command(&argv) {
                        Some((tool, command)) if !found.iter().any(|d| d.tool == tool) => {
                            found.push(Detected {
                                tool: tool.clone(),
                                language: language(&tool).unwrap_or("other").to_owned(),
                                reason: format!("template.json commands.lint[{i}]: {}", argv.join(" ")),
                                config: None,
                                command: Some(command),
                            });
                        }
                        Some(_) => {}
                        None => notes.push(format!(
                            "template.json commands.lint[{i}] ({}) is not a tool this server knows",
                            argv.join(" ")
                        )),
                    }
                }
            }
            None => notes.push("template.json is not valid JSON; ignored".to_owned()),
        }
    }
    // 2. Configuration files.
    let pyproject = project.join("pyproject.toml");
    if pyproject.is_file() {
        match std::fs::read_to_string(&pyproject).ok().map(|t| t.parse::<toml::Table>()) {
            Some(Ok(t)) => {
                let tool = t.get("tool").and_then(|v| v.as_table());
                for name in ["ruff", "black", "isort", "mypy", "bandit"] {
                    if tool.is_some_and(|tt| tt.contains_key(name)) {
                        add(&mut found, name, format!("pyproject.toml [tool.{name}]"), Some("pyproject.toml"));
                    }
                }
            }
            _ => notes.push("pyproject.toml does not parse as TOML; its [tool.*] sections were not read".to_owned()),
        }
    }
    for name in ["ruff.toml", ".ruff.toml"] {
        if project.join(name).is_file() {
            add(&mut found, "ruff", name.to_owned(), Some(name));
        }
    }
    for (file, sections) in [
        ("setup.cfg", &[("flake8", "flake8"), ("mypy", "mypy"), ("isort", "isort"), ("tool:isort", "isort")][..]),
        ("tox.ini", &[("flake8", "flake8"), ("isort", "isort"), ("mypy", "mypy")][..]),
        (".flake8", &[("flake8", "flake8")][..]),
        ("mypy.ini", &[("mypy", "mypy")][..]),
        (".mypy.ini", &[("mypy", "mypy")][..]),
        (".isort.cfg", &[("settings", "isort"), ("isort", "isort")][..]),
    ] {
        let p = project.join(file);
        if !p.is_file() {
            continue;
        }
        let have = ini_sections(&p);
        for (section, tool) in sections {
            if have.iter().any(|s| s == section) {
                add(&mut found, tool, format!("{file} [{section}]"), Some(file));
            }
        }
    }
    if project.join("Cargo.toml").is_file() {
        let clippy_cfg = ["clippy.toml", ".clippy.toml"].into_iter().find(|n| project.join(n).is_file());
        let fmt_cfg = ["rustfmt.toml", ".rustfmt.toml"].into_iter().find(|n| project.join(n).is_file());
        add(&mut found, "clippy", "Cargo.toml (a Rust package or workspace)".to_owned(), clippy_cfg);
        add(&mut found, "rustfmt", "Cargo.toml (a Rust package or workspace)".to_owned(), fmt_cfg);
    }
    // 3. Files of a kind.
    let shellrc = project.join(".shellcheckrc").is_file().then_some(".shellcheckrc");
    if shellrc.is_some() {
        add(&mut found, "shellcheck", ".shellcheckrc".to_owned(), shellrc);
    } else if !files.shell.is_empty() {
        add(&mut found, "shellcheck", listing("shell script", &files.shell), None);
    }
    let hadorc = [".hadolint.yaml", ".hadolint.yml"].into_iter().find(|n| project.join(n).is_file());
    if !files.docker.is_empty() {
        add(&mut found, "hadolint", listing("Dockerfile", &files.docker), hadorc);
    } else if let Some(h) = hadorc {
        add(&mut found, "hadolint", h.to_owned(), Some(h));
    }
    let yamlrc = [".yamllint", ".yamllint.yml", ".yamllint.yaml"].into_iter().find(|n| project.join(n).is_file());
    if let Some(y) = yamlrc {
        add(&mut found, "yamllint", y.to_owned(), Some(y));
    } else if !files.yaml.is_empty() {
        add(&mut found, "yamllint", listing("YAML file", &files.yaml), None);
    }
    if !files.compose.is_empty() {
        add(&mut found, "compose-schema", format!("{} (Compose file)", files.compose.join(", ")), None);
    }
    if !files.gitlab.is_empty() {
        add(&mut found, "gitlab-ci-schema", ".gitlab-ci.yml (GitLab CI)".to_owned(), None);
    }
    found.sort_by_key(|d| TOOLS.iter().position(|(t, _)| *t == d.tool).unwrap_or(usize::MAX));
    (found, notes)
}

fn listing(what: &str, files: &[String]) -> String {
    let shown: Vec<&str> = files.iter().take(3).map(String::as_str).collect();
    let more = if files.len() > 3 { format!(", and {} more", files.len() - 3) } else { String::new() };
    format!("{} {what}{} ({}{more})", files.len(), if files.len() == 1 { "" } else { "s" }, shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn template_commands() {
        let (t, c) = map_command(&v(&[".venv/bin/python", "-m", "flake8", "src", "tests"])).unwrap();
        assert_eq!(t, "flake8");
        assert_eq!(c.interpreter.as_deref(), Some(".venv/bin/python"));
        assert_eq!(c.args, v(&["src", "tests"]));
        let (t, c) =
            map_command(&v(&["cargo", "clippy", "--offline", "--all-targets", "--", "-D", "warnings"])).unwrap();
        assert_eq!(t, "clippy");
        assert_eq!(c.args, v(&["--offline", "--all-targets", "--", "-D", "warnings"]));
        let (t, c) = map_command(&v(&["cargo", "fmt", "--check"])).unwrap();
        assert_eq!((t.as_str(), c.args.len()), ("rustfmt", 0));
        let (t, c) = map_command(&v(&["ruff", "check", "--output-format", "text", "src"])).unwrap();
        assert_eq!((t.as_str(), c.args.clone()), ("ruff", v(&["src"])));
        assert!(map_command(&v(&["make", "lint"])).is_none());
    }
}
