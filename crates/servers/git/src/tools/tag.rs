//! `git_tag`: list, create (lightweight or annotated) and delete tags.

use std::fmt::Write as _;

use mcp_core::prelude::*;

use crate::report::{commit_of, identity, short};
use crate::sandbox::{check_text, git_error};
use crate::{Git, blocking, names};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// List tags (default).
    List,
    /// Create tag `name` at `target`.
    Create,
    /// Delete tag `name`.
    Delete,
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Repository folder, absolute or relative to the first root.
    pub repo: String,
    /// list (default), create or delete.
    pub action: Option<Action>,
    /// Tag name, e.g. "v1.2.0".
    pub name: Option<String>,
    /// What to tag (default HEAD).
    pub target: Option<String>,
    /// Message: makes an annotated tag (recommended for releases). Without it the tag is lightweight.
    pub message: Option<String>,
    /// Tagger name for annotated tags (default: the server's GIT_AUTHOR_NAME). Give with tagger_email.
    pub tagger_name: Option<String>,
    /// Tagger e-mail. Give with tagger_name.
    pub tagger_email: Option<String>,
    /// For list: only tags matching this glob, e.g. "v1.*".
    pub pattern: Option<String>,
    /// For create: replace an existing tag of that name (default false).
    #[serde(default)]
    pub force: bool,
}

/// One tag.
#[derive(Debug, Serialize, JsonSchema)]
pub struct TagInfo {
    /// Name.
    pub name: String,
    /// Abbreviated id of the tagged commit.
    pub commit: String,
    /// True for annotated tags.
    pub annotated: bool,
    /// The annotation message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// listed, created or deleted.
    pub action: String,
    /// Tags (for list) or the one affected.
    pub tags: Vec<TagInfo>,
}

/// The tool.
pub fn tool() -> Tool<Git> {
    Tool::new(
        "git_tag",
        "Tags: list (optionally by glob pattern), create lightweight or annotated (with message) at a revision, or \
         delete.",
        Annotations::destructive(false),
        run,
    )
    .title("Tags")
}

fn info(repo: &git2::Repository, name: &str) -> Option<TagInfo> {
    let r = repo.find_reference(&format!("refs/tags/{name}")).ok()?;
    let obj = r.peel(git2::ObjectType::Any).ok()?;
    let tag = r.peel_to_tag().ok();
    let commit = obj.peel_to_commit().ok().map(|c| short(c.id())).unwrap_or_else(|| short(obj.id()));
    Some(TagInfo {
        name: name.to_owned(),
        commit,
        annotated: tag.is_some(),
        message: tag.and_then(|t| t.message().ok().flatten().map(|m| m.trim_end().to_owned())),
    })
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let need_name = |what: &str| -> Result<String, ToolError> {
            let n = a.name.clone().ok_or_else(|| ToolError::invalid(format!("{what} needs name")))?;
            names::tag(&n)?;
            Ok(n)
        };
        let out = match a.action.unwrap_or(Action::List) {
            Action::List => {
                if let Some(p) = &a.pattern {
                    check_text("pattern", p)?;
                }
                let names = repo.tag_names(a.pattern.as_deref()).map_err(git_error)?;
                let tags = names.iter().flatten().flatten().take(2000).filter_map(|n| info(&repo, n)).collect();
                Output { action: "listed".into(), tags }
            }
            Action::Create => {
                let name = need_name("create")?;
                let target = commit_of(&repo, a.target.as_deref().unwrap_or("HEAD"))?;
                if !a.force && repo.find_reference(&format!("refs/tags/{name}")).is_ok() {
                    return Err(ToolError::conflict(format!(
                        "tag {name:?} already exists; pick a new name, or pass force: true to move it"
                    )));
                }
                match &a.message {
                    Some(m) => {
                        if m.trim().is_empty() || m.contains('\0') {
                            return Err(ToolError::invalid("message is empty or contains NUL"));
                        }
                        let tagger = identity(&git, &repo, a.tagger_name.as_deref(), a.tagger_email.as_deref())?;
                        repo.tag(&name, target.as_object(), &tagger, m, a.force).map_err(git_error)?;
                    }
                    None => {
                        repo.tag_lightweight(&name, target.as_object(), a.force).map_err(git_error)?;
                    }
                }
                Output { action: "created".into(), tags: info(&repo, &name).into_iter().collect() }
            }
            Action::Delete => {
                let name = need_name("delete")?;
                let i = info(&repo, &name).ok_or_else(|| ToolError::not_found(format!("no tag {name:?}")))?;
                repo.tag_delete(&name).map_err(git_error)?;
                Output { action: "deleted".into(), tags: vec![i] }
            }
        };
        let mut t = String::new();
        if out.action == "listed" {
            for tg in &out.tags {
                let _ = writeln!(
                    t,
                    "{} {}{}",
                    tg.name,
                    tg.commit,
                    tg.message.as_ref().map(|m| format!(" {}", m.lines().next().unwrap_or(""))).unwrap_or_default()
                );
            }
            if out.tags.is_empty() {
                t.push_str("no tags\n");
            }
        } else if let Some(tg) = out.tags.first() {
            let _ = write!(
                t,
                "{} {} tag {} at {}",
                out.action,
                if tg.annotated { "annotated" } else { "lightweight" },
                tg.name,
                tg.commit
            );
        }
        Ok(Out::new(out).text(t))
    })
    .await
}
