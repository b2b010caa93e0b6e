//! `git_reflog`: where a reference (HEAD by default) has pointed, newest first.

use std::fmt::Write as _;

use mcp_core::prelude::*;

use crate::report::{rfc3339, short};
use crate::sandbox::git_error;
use crate::{Git, blocking, names};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// Reference: HEAD (default), a branch name, or a full name like refs/heads/main.
    pub reference: Option<String>,
    /// Most entries (default 50, at most 500).
    pub max_count: Option<usize>,
}

/// One entry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    /// Position: 0 is the newest (HEAD@{0}).
    pub index: usize,
    /// Abbreviated id before.
    pub old: String,
    /// Abbreviated id after.
    pub new: String,
    /// What happened, e.g. "commit: add x" or "checkout: moving from a to b".
    pub message: String,
    /// Who did it.
    pub committer: String,
    /// When, RFC 3339.
    pub time: String,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The reference.
    pub reference: String,
    /// Entries, newest first.
    pub entries: Vec<Entry>,
    /// Entries in all.
    pub total: usize,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_reflog",
        "The reflog: every position HEAD (or a branch) has had, newest first, with the operation that moved it. Use \
         it to find commits lost by a reset or amend.",
        Annotations::read_only(),
        run,
    )
    .title("Reflog")
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let max = a.max_count.unwrap_or(50);
    if max == 0 || max > 500 {
        return Err(ToolError::invalid("max_count must be between 1 and 500"));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let r = a.reference.clone().unwrap_or_else(|| "HEAD".into());
        let full = if r == "HEAD" || r.starts_with("refs/") {
            names::reference(&r)?;
            r.clone()
        } else {
            names::branch(&r)?;
            format!("refs/heads/{r}")
        };
        let log = repo.reflog(&full).map_err(git_error)?;
        let entries: Vec<Entry> = log
            .iter()
            .take(max)
            .enumerate()
            .map(|(i, e)| Entry {
                index: i,
                old: short(e.id_old()),
                new: short(e.id_new()),
                message: e.message().ok().flatten().unwrap_or("").to_owned(),
                committer: e.committer().name().unwrap_or("").to_owned(),
                time: rfc3339(e.committer().when().seconds()),
            })
            .collect();
        let mut t = String::new();
        let label = if r.starts_with("refs/heads/") { r.trim_start_matches("refs/heads/") } else { r.as_str() };
        for e in &entries {
            let _ = writeln!(t, "{} {label}@{{{}}}: {}", e.new, e.index, e.message);
        }
        if entries.is_empty() {
            t.push_str("no reflog entries\n");
        }
        Ok(Out::new(Output { reference: full, total: log.len(), entries }).text(t))
    })
    .await
}
