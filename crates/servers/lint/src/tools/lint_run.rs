//! `lint_run`: run a project's linters with its own configuration and report
//! every finding in one shape, paged, optionally only those new since a git
//! ref, or as SARIF 2.1.0.

use std::collections::BTreeMap;
use std::time::Duration;

use mcp_core::prelude::*;

use crate::Lint;
use crate::baseline;
use crate::detect::{self, Detected};
use crate::diag::Diagnostic;
use crate::linters::{self, RunInfo};

/// Largest page.
const MAX_PAGE: usize = 2000;

/// What to return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Runs, summary and a page of findings (the default).
    #[default]
    Findings,
    /// Runs and summary only.
    Summary,
    /// A SARIF 2.1.0 log of all findings (in `sarif` and as the text block).
    Sarif,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project directory, relative to the server's first root (e.g. `my-app`).
    pub path: String,
    /// Tools to run (default: every tool `lint_detect` finds). Known: ruff, flake8, black,
    /// isort, bandit, mypy, clippy, rustfmt, shellcheck, hadolint, yamllint, compose-schema,
    /// gitlab-ci-schema.
    #[serde(default)]
    pub tools: Option<Vec<String>>,
    /// Files or directories inside the project to check (default: what the project's own
    /// configuration or commands name, else the whole project). Relative, no `..`.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
    /// A git ref (e.g. `main`, `HEAD~1`): keep only findings on lines added or changed since
    /// it, and in new or untracked files; `baseline.dropped` counts the rest.
    #[serde(default)]
    pub since: Option<String>,
    /// Findings per page (default 200).
    #[serde(default)]
    pub max_findings: Option<usize>,
    /// Findings to skip (from a previous answer's `next_offset`).
    #[serde(default)]
    pub offset: Option<usize>,
    /// `findings` (default), `summary` (no findings listed) or `sarif` (a SARIF 2.1.0 log).
    #[serde(default)]
    pub format: Option<Format>,
    /// Time limit of each tool's run, seconds (default and maximum set by the server).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
}

/// Counts.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct Summary {
    /// Findings per tool.
    pub by_tool: BTreeMap<String, usize>,
    /// Findings per severity (`error`, `warning`, `note`).
    pub by_severity: BTreeMap<String, usize>,
}

/// What `since` dropped.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Baseline {
    /// The ref compared with.
    pub since: String,
    /// Findings on unchanged lines, left out.
    pub dropped: usize,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The project, as asked.
    pub project: String,
    /// True only when at least one tool ran and every run ended `ok`.
    pub passed: bool,
    /// `clean`, `findings`, or `incomplete` (a tool was missing, failed or timed out, or none ran).
    pub status: String,
    /// Each tool's run.
    pub runs: Vec<RunInfo>,
    /// This page of findings, ordered by file, line and column.
    pub findings: Vec<Diagnostic>,
    /// Findings in all (after `paths` and `since`).
    pub total: usize,
    /// Offset of this page.
    pub offset: usize,
    /// More findings follow this page.
    pub truncated: bool,
    /// The offset of the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<usize>,
    /// Counts of all findings.
    pub summary: Summary,
    /// Present with `since`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// The SARIF 2.1.0 log, with `format: sarif`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sarif: Option<Value>,
}

/// The tool.
pub fn tool() -> Tool<Lint> {
    Tool::new(
        "lint_run",
        "Run a project's linters (ruff, flake8, black --check, isort --check, bandit, mypy, clippy, rustfmt --check, \
         shellcheck, hadolint, yamllint) and schema checks (docker-compose, .gitlab-ci.yml) with the project's own \
         configuration and commands, and return every finding as {tool, file, line, column, rule, severity, message, \
         fix, help_uri}. A tool that is not installed is `missing`, never clean; `passed` is true only when a tool ran \
         and all ended ok. Use `since` for findings new since a git ref, `offset` to page, `format: sarif` for SARIF.",
        Annotations::read_only(),
        run,
    )
    .title("Run linters")
}

/// Select the runs: the tools asked for (detected or not), else all detected.
pub fn select(found: Vec<Detected>, asked: Option<&[String]>) -> Result<Vec<Detected>, ToolError> {
    let Some(asked) = asked else { return Ok(found) };
    let mut out = Vec::new();
    for t in asked {
        let Some(language) = detect::language(t) else {
            return Err(ToolError::invalid(format!(
                "unknown tool {t:?}; known: {}",
                detect::TOOLS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )));
        };
        if out.iter().any(|d: &Detected| d.tool == *t) {
            continue;
        }
        out.push(found.iter().find(|d| d.tool == *t).cloned().unwrap_or_else(|| Detected {
            tool: t.clone(),
            language: language.to_owned(),
            reason: "asked for".to_owned(),
            config: None,
            command: None,
        }));
    }
    Ok(out)
}

async fn run(lint: Arc<Lint>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let project = lint.runner.project(&a.path)?;
    let paths = match &a.paths {
        Some(p) if !p.is_empty() => Some(lint.paths(&project, p)?),
        _ => None,
    };
    if let Some(s) = &a.since {
        baseline::check_ref(s).map_err(ToolError::Invalid)?;
    }
    let timeout = lint.timeout(a.timeout_secs)?;
    let page = a.max_findings.unwrap_or(200).clamp(1, MAX_PAGE);
    let offset = a.offset.unwrap_or(0);
    let format = a.format.unwrap_or_default();
    if let Some(why) = lint.runner.refusal() {
        return Err(ToolError::Unavailable(why));
    }
    // The comparison is read before any tool runs (they may write files), and
    // a ref git cannot use fails the call before minutes of linting.
    let changes = match &a.since {
        Some(s) => Some(linters::git_changes(&lint, &project, s).await?),
        None => None,
    };
    let files = detect::files(&project);
    let (found, _notes) = detect::detect(&project, &files);
    let selected = select(found, a.tools.as_deref())?;

    let mut runs = Vec::new();
    let mut all: Vec<Diagnostic> = Vec::new();
    for d in &selected {
        // Each run gets its own limit, but never more than the call has left.
        let left = ctx.remaining().saturating_sub(Duration::from_secs(3));
        if left.is_zero() {
            let mut r = RunInfo {
                tool: d.tool.clone(),
                version: None,
                argv: vec![],
                status: "timeout".into(),
                findings: 0,
                exit_code: None,
                duration_ms: 0,
                message: None,
            };
            r.message = Some("the call's time limit was reached before this tool started".to_owned());
            runs.push(r);
            continue;
        }
        let (info, diags) = linters::run_tool(&lint, &project, d, &files, paths.as_deref(), timeout.min(left)).await;
        runs.push(info);
        all.extend(diags);
    }
    // Tools that cannot be narrowed to files (cargo) are narrowed here.
    if let Some(ps) = &paths {
        all.retain(|d| ps.iter().any(|p| linters::within(&d.file, p)));
    }
    let mut baseline_out = None;
    if let (Some(c), Some(s)) = (&changes, &a.since) {
        let before = all.len();
        let mut dropped_by: BTreeMap<String, usize> = BTreeMap::new();
        all.retain(|d| {
            let keep = c.keeps(d);
            if !keep {
                *dropped_by.entry(d.tool.clone()).or_default() += 1;
            }
            keep
        });
        baseline_out = Some(Baseline { since: s.clone(), dropped: before - all.len() });
        for r in &mut runs {
            if let Some(n) = dropped_by.get(&r.tool) {
                r.message = Some(match r.message.take() {
                    Some(m) => format!("{m}; {n} finding(s) on lines unchanged since {s} dropped"),
                    None => format!("{n} finding(s) on lines unchanged since {s} dropped"),
                });
            }
        }
    }
    for r in &mut runs {
        let n = all.iter().filter(|d| d.tool == r.tool).count();
        r.findings = n;
        // A run whose findings were all narrowed away by `paths` or `since`
        // is clean for this question; a failed one stays failed.
        if r.status == "findings" && n == 0 {
            r.status = "ok".to_owned();
        }
    }
    all.sort_by(|x, y| {
        (&x.file, x.line, x.column, &x.tool, &x.rule).cmp(&(&y.file, y.line, y.column, &y.tool, &y.rule))
    });
    let mut summary = Summary::default();
    for d in &all {
        *summary.by_tool.entry(d.tool.clone()).or_default() += 1;
        *summary.by_severity.entry(d.severity.as_str().to_owned()).or_default() += 1;
    }
    let ran = runs.iter().any(|r| r.status == "ok" || r.status == "findings");
    let broken = runs.iter().any(|r| matches!(r.status.as_str(), "error" | "timeout" | "missing"));
    let passed = ran && runs.iter().all(|r| r.status == "ok");
    let status = if !ran || broken {
        "incomplete"
    } else if all.is_empty() {
        "clean"
    } else {
        "findings"
    };
    let total = all.len();
    let sarif =
        if format == Format::Sarif { Some(crate::sarif::log(&runs, &all).map_err(ToolError::internal)?) } else { None };
    let (findings, truncated, next_offset) = if format == Format::Findings {
        let end = offset.saturating_add(page).min(total);
        let items: Vec<Diagnostic> = all.get(offset.min(total)..end).map(<[Diagnostic]>::to_vec).unwrap_or_default();
        (items, end < total, (end < total).then_some(end))
    } else {
        (vec![], false, None)
    };
    let mut text = format!("{}: {status} (passed: {passed}), {total} finding(s)", a.path);
    if let Some(b) = &baseline_out {
        text.push_str(&format!(", {} older dropped (since {})", b.dropped, b.since));
    }
    text.push('\n');
    for r in &runs {
        text.push_str(&format!(
            "- {} {}: {} ({} finding(s), {} ms){}\n",
            r.tool,
            r.version.as_deref().unwrap_or(""),
            r.status,
            r.findings,
            r.duration_ms,
            r.message.as_ref().map(|m| format!(": {m}")).unwrap_or_default()
        ));
    }
    for d in findings.iter().take(50) {
        text.push_str(&format!(
            "{}:{}:{}: {} {} [{}] {}\n",
            d.file,
            d.line,
            d.column,
            d.severity.as_str(),
            d.rule,
            d.tool,
            d.message.lines().next().unwrap_or("")
        ));
    }
    if findings.len() > 50 {
        text.push_str(&format!("… {} more on this page (see structured content)\n", findings.len() - 50));
    }
    if let Some(n) = next_offset {
        text.push_str(&format!(
            "TRUNCATED: {} of {total} shown; call again with offset={n} for more\n",
            findings.len()
        ));
    }
    let out = Output {
        project: a.path,
        passed,
        status: status.to_owned(),
        runs,
        findings,
        total,
        offset,
        truncated,
        next_offset,
        summary,
        baseline: baseline_out,
        sarif,
    };
    // SARIF's text block is the log itself, for clients that save it as is.
    let text = match &out.sarif {
        Some(s) => serde_json::to_string_pretty(s).map_err(ToolError::internal)?,
        None => text,
    };
    Ok(Out::new(out).text(text))
}
