//! `lint_format` (only with `LINT_WRITE`): apply the project's formatters —
//! isort, black, ruff format, rustfmt — and return what changed as a unified
//! diff, computed here from the files before and after (so it is the same
//! for every formatter and shows exactly what was written).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use mcp_core::jobs::Run;
use mcp_core::prelude::*;

use crate::Lint;
use crate::detect::{self, Detected};
use crate::linters::{Launch, RunInfo};
use crate::tools::lint_run::select;

/// Formatters, in the order they run (isort before black, so black has the last word).
const FORMATTERS: &[&str] = &["isort", "black", "ruff", "rustfmt"];
/// The diff returned is cut here (the files are written in full).
const MAX_DIFF: usize = 256 << 10;
/// Source files larger than this are not compared.
const MAX_FILE: u64 = 2 << 20;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project directory, relative to the server's first root.
    pub path: String,
    /// Formatters to apply: `isort`, `black`, `ruff` (ruff format), `rustfmt` (default: those the
    /// project uses, as `lint_detect` finds them).
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// Files or directories inside the project to format (Python formatters only; rustfmt
    /// formats the whole crate).
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// Time limit of each formatter's run, seconds.
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project, as asked.
    pub project: String,
    /// Each formatter's run.
    pub runs: Vec<RunInfo>,
    /// Files the formatters changed.
    pub changed: Vec<String>,
    /// What changed, as a unified diff (`a/` before, `b/` after).
    pub diff: String,
    /// The diff was cut at 256 KiB.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Lint> {
    Tool::new(
        "lint_format",
        "Apply the project's formatters (isort, black, ruff format, rustfmt) with its own configuration, rewriting \
         files in place, and return the unified diff of what changed. Formatting again changes nothing.",
        Annotations::additive(true),
        run,
    )
    .title("Format a project")
}

fn snapshot(project: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![project.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for e in rd.filter_map(Result::ok) {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if ft.is_dir() {
                // The directories detection never walks: no formatter writes the project's
                // sources there.
                if !crate::detect::SKIP.contains(&name.as_str()) {
                    stack.push(e.path());
                }
            } else if ft.is_file()
                && (name.ends_with(".py") || name.ends_with(".pyi") || name.ends_with(".rs"))
                && e.metadata().is_ok_and(|m| m.len() <= MAX_FILE)
                && out.len() < 20_000
                && let (Ok(text), Ok(rel)) = (std::fs::read_to_string(e.path()), e.path().strip_prefix(project))
            {
                out.insert(rel.to_string_lossy().into_owned(), text);
            }
        }
    }
    out
}

async fn run(lint: Arc<Lint>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = lint.runner.project(&a.path)?;
    let paths = match &a.paths {
        Some(p) if !p.is_empty() => Some(lint.paths(&project, p)?),
        _ => None,
    };
    let timeout = lint.timeout(a.timeout_secs)?;
    if let Some(t) = a.tools.iter().flatten().find(|t| !FORMATTERS.contains(&t.as_str())) {
        return Err(ToolError::invalid(format!("{t:?} is not a formatter; use {}", FORMATTERS.join(", "))));
    }
    let files = detect::files(&project);
    let (found, _) = detect::detect(&project, &files);
    let mut chosen: Vec<Detected> =
        select(found, a.tools.as_deref())?.into_iter().filter(|d| FORMATTERS.contains(&d.tool.as_str())).collect();
    chosen.sort_by_key(|d| FORMATTERS.iter().position(|f| *f == d.tool));
    if chosen.is_empty() {
        return Err(ToolError::invalid(
            "the project uses none of isort, black, ruff, rustfmt; name them in `tools` to apply them anyway",
        ));
    }
    let before = {
        let p = project.clone();
        mcp_core::tool::blocking(move || Ok(snapshot(&p))).await?
    };
    let mut runs = Vec::new();
    for d in &chosen {
        let mut info = RunInfo {
            tool: d.tool.clone(),
            version: None,
            argv: vec![],
            status: "ok".into(),
            findings: 0,
            exit_code: None,
            duration_ms: 0,
            message: None,
        };
        let prefix = match lint.launch(&project, d).await {
            Launch::Program { prefix, version } => {
                info.version = version;
                prefix
            }
            Launch::Missing(m) => {
                info.status = "missing".into();
                info.message = Some(m);
                runs.push(info);
                continue;
            }
            Launch::Refused(m) => {
                info.status = "error".into();
                info.message = Some(m);
                runs.push(info);
                continue;
            }
            Launch::Builtin(_) => continue,
        };
        let targets: Vec<String> = paths.clone().unwrap_or_else(|| vec![".".to_owned()]);
        let mut argv = prefix;
        match d.tool.as_str() {
            "isort" => argv.extend(targets),
            "black" => {
                argv.push("-q".into());
                argv.extend(targets);
            }
            "ruff" => {
                argv.extend(["format".to_owned(), "--no-cache".to_owned()]);
                argv.extend(targets);
            }
            _ => {}
        }
        info.argv = argv.clone();
        let started = Instant::now();
        let run = Run {
            display: argv.join(" "),
            argv,
            cwd: project.clone(),
            env: vec![("PYTHONDONTWRITEBYTECODE".into(), "1".into())],
            timeout,
            network: false,
        };
        match lint.runner.run(run, None).await {
            Ok(f) => {
                info.exit_code = f.exit_code;
                info.duration_ms = f.duration.as_millis() as u64;
                if f.timed_out {
                    info.status = "timeout".into();
                    info.message = Some(f.ending());
                } else if !f.success() {
                    info.status = "error".into();
                    let err = f.stderr.trim();
                    info.message = Some(format!(
                        "{}: {}",
                        f.ending(),
                        &err[err.len().saturating_sub(800)..].trim_start_matches(|c: char| !c.is_ascii())
                    ));
                }
            }
            Err(e) => {
                info.status = "error".into();
                info.duration_ms = started.elapsed().as_millis() as u64;
                info.message = Some(e.to_string());
            }
        }
        runs.push(info);
    }
    let after = {
        let p = project.clone();
        mcp_core::tool::blocking(move || Ok(snapshot(&p))).await?
    };
    let mut diff = String::new();
    let mut changed = Vec::new();
    for (file, new) in &after {
        let old = before.get(file).map(String::as_str).unwrap_or("");
        if old == new {
            continue;
        }
        changed.push(file.clone());
        let d = similar::TextDiff::from_lines(old, new.as_str());
        diff.push_str(
            &d.unified_diff().context_radius(3).header(&format!("a/{file}"), &format!("b/{file}")).to_string(),
        );
    }
    let truncated = diff.len() > MAX_DIFF;
    if truncated {
        let mut cut = MAX_DIFF;
        while !diff.is_char_boundary(cut) {
            cut -= 1;
        }
        diff.truncate(cut);
    }
    let mut text = format!("{}: {} file(s) changed\n", a.path, changed.len());
    for r in &runs {
        text.push_str(&format!(
            "- {}: {}{}\n",
            r.tool,
            r.status,
            r.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        ));
    }
    text.push_str(&diff);
    if truncated {
        text.push_str("\n[diff cut at 256 KiB; the files are written in full]\n");
    }
    Ok(Out::new(Output { project: a.path, runs, changed, diff, truncated }).text(text))
}
