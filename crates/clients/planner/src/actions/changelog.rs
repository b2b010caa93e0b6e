//! `changelog`: write `CHANGELOG.md` for the release from the project's
//! commits (git's `git_log`, rendered by the spec server's `spec_generate`,
//! kind `changelog`) and commit it, so the tagged release carries it.
//!
//! Idempotent: the file is written whole from the same commits (the log is
//! read below the run's own changelog commit, which a repeat finds by its
//! key), and the commit goes through [`super::commit`], whose key makes a
//! repeat answer with the first commit.

use mcp_types::documents::{ChangelogDoc, Commit, SpecGenerate, SpecGenerated};
use mcp_types::peer::GitLog;
use serde_json::{Value, json};

use super::command::to_args;
use crate::exec::Ctx;
use crate::peers::StepError;

/// Commits read at most: a new project has a handful.
const MAX_COMMITS: usize = 200;

/// Write and commit the changelog of `version`.
pub(super) async fn run(cx: &mut Ctx<'_>, key: &str, version: &str) -> Result<Value, StepError> {
    let Some(spec) = cx.p.peers.spec.clone() else {
        return Err(StepError::fatal("no spec server is configured to write the changelog"));
    };
    let repo = cx.run.slug.clone();
    let log: GitLog = cx.p.peers.git.call_as("git_log", json!({"repo": repo, "max_count": MAX_COMMITS})).await?;
    // A repeat after the changelog was committed finds that commit in the log and leaves it out, so the text
    // is the same on every attempt.
    let ours = summary(version);
    let commits: Vec<Commit> = log
        .commits
        .iter()
        .filter(|c| c.summary != ours)
        .map(|c| Commit { sha: c.short_id.clone(), subject: c.summary.clone(), body: None })
        .collect();
    let date = mcp_core::clock::now_rfc3339().chars().take(10).collect::<String>();
    let doc = ChangelogDoc { version: version.to_owned(), date, commits, changes: Vec::new(), existing: None };
    let generated: SpecGenerated = spec.call_as("spec_generate", to_args(&SpecGenerate::from(&doc))?).await?;
    let path = format!("{repo}/{}", generated.suggested_path);
    cx.p.peers
        .fs
        .call("write_file", json!({"path": path, "content": generated.content, "create_parents": true}))
        .await?;
    let committed = super::commit::run(cx, key, &ours).await?;
    let n = doc.commits.len();
    let commits = if n == 1 { "1 commit".to_owned() } else { format!("{n} commits") };
    Ok(json!({
        "file": generated.suggested_path, "template": generated.template, "template_source": generated.template_source,
        "commits": doc.commits.len(), "commit": committed["commit"], "short_id": committed["short_id"],
        "summary": format!("{} for {version} from {commits} ({} template)", generated.suggested_path,
                           generated.template_source),
    }))
}

/// The changelog commit's summary.
fn summary(version: &str) -> String {
    format!("Changelog for {version}")
}
