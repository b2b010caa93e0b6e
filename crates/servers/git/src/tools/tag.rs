//! `git_tag`: list, create (lightweight or annotated) and delete tags. A
//! create with an idempotency key is recorded before the tag reference is
//! written, so a retry returns the first tag instead of "already exists"
//! (see [`crate::idempotency`]).

use std::fmt::Write as _;

use git2::{ErrorCode, Oid, Repository};
use mcp_core::prelude::*;

use crate::idempotency::{self, Claim, Completion, Key, Record};
use crate::report::{commit_of, identity, short};
use crate::sandbox::{check_text, git_error};
use crate::{Git, blocking, names};

/// What to do.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
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
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
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
    /// For create: makes it safe to retry. The first call with a key creates the tag; a call with the same key and
    /// the same arguments returns that first tag (`duplicate: true`) instead of "already exists", and creates it if
    /// the first call was interrupted before it appeared; the same key with different arguments is refused as a
    /// conflict. Without a key, a tag that already exists exactly as asked is a conflict as before. Use one key per
    /// tag meant, e.g. "<run>/tag". At most 200 characters.
    pub idempotency_key: Option<String>,
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
    /// True when this is the tag of an earlier create with the same idempotency key (or one that already existed
    /// exactly as asked): nothing new was created.
    pub duplicate: bool,
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

/// A tag's target as the result describes it: `oid` is what `refs/tags/<name>`
/// points at (a tag object, or the commit of a lightweight tag).
fn describe(repo: &Repository, name: &str, oid: Oid) -> Result<TagInfo, ToolError> {
    let obj = repo.find_object(oid, None).map_err(git_error)?;
    let tag = obj.as_tag();
    Ok(TagInfo {
        name: name.to_owned(),
        commit: obj.peel_to_commit().map(|c| short(c.id())).unwrap_or_else(|_| short(oid)),
        annotated: tag.is_some(),
        message: tag.and_then(|t| t.message().ok().flatten().map(|m| m.trim_end().to_owned())),
    })
}

/// A keyed create: replay the key's tag, or record the new one before its reference is written.
fn create_keyed(git: &Git, repo: &Repository, a: &Args, name: &str, k: &Key) -> Result<(Output, String), ToolError> {
    let _one_at_a_time = idempotency::lock();
    if let Some(rec) = k.find(repo)? {
        return replay(repo, name, &rec);
    }
    let reference = format!("refs/tags/{name}");
    let target = commit_of(repo, a.target.as_deref().unwrap_or("HEAD"))?;
    let existing = match repo.refname_to_id(&reference) {
        Ok(id) => Some(id),
        Err(e) if e.code() == ErrorCode::NotFound => None,
        Err(e) => return Err(git_error(e)),
    };
    if let Some(e) = existing
        && !a.force
    {
        // The tag exists exactly as asked (say, made by a call from before
        // keys, or with a key now lost): it becomes this key's result.
        let same = match &a.message {
            None => e == target.id(),
            Some(m) => repo.find_tag(e).is_ok_and(|t| {
                t.target_id() == target.id() && t.message().ok().flatten().map(str::trim_end) == Some(m.trim_end())
            }),
        };
        if !same {
            return Err(ToolError::conflict(format!(
                "tag {name:?} already exists; pick a new name, or pass force: true to move it"
            )));
        }
        let rec = match k.claim(repo, &reference, Some(e), e)? {
            Claim::Mine(rec) => rec,
            Claim::Taken(rec) => return replay(repo, name, &rec),
        };
        let out = Output { action: "created".into(), tags: vec![describe(repo, name, rec.new)?], duplicate: true };
        return Ok((out, "the tag already existed exactly as asked; nothing new was created".into()));
    }
    let new = match &a.message {
        Some(m) => {
            if m.trim().is_empty() || m.contains('\0') {
                return Err(ToolError::invalid("message is empty or contains NUL"));
            }
            let tagger = identity(git, repo, a.tagger_name.as_deref(), a.tagger_email.as_deref())?;
            repo.tag_annotation_create(name, target.as_object(), &tagger, m).map_err(git_error)?
        }
        None => target.id(),
    };
    let rec = match k.claim(repo, &reference, existing, new)? {
        Claim::Mine(rec) => rec,
        Claim::Taken(rec) => return replay(repo, name, &rec),
    };
    // From the value read above (absent: the zero id), compared under the lock.
    let written = repo.reference_matching(&reference, new, true, existing.unwrap_or(Oid::ZERO_SHA1), "tag");
    k.finish(repo, &rec, written.map(|_| ()), |_| {
        ToolError::conflict(format!("tag {name:?} was created or moved meanwhile; list the tags and decide again"))
    })?;
    Ok((Output { action: "created".into(), tags: vec![describe(repo, name, new)?], duplicate: false }, String::new()))
}

/// The answer to a create whose key is already recorded: the recorded tag,
/// written now if an interruption kept it from appearing.
fn replay(repo: &Repository, name: &str, rec: &Record) -> Result<(Output, String), ToolError> {
    let note = match rec.complete(repo, false, "tag")? {
        Completion::Done => {
            "already created under this idempotency key with the same arguments; nothing new was created".to_owned()
        }
        Completion::Completed => "an earlier call with this idempotency key was interrupted before the tag appeared; \
                                  it now exists as that call made it"
            .to_owned(),
        Completion::Elsewhere(now) => format!(
            "already created under this idempotency key with the same arguments, but tag {name} has since {}; \
             nothing was changed",
            now.map_or_else(|| "been deleted".to_owned(), |o| format!("been moved to {}", short(o)))
        ),
    };
    Ok((Output { action: "created".into(), tags: vec![describe(repo, name, rec.new)?], duplicate: true }, note))
}

async fn run(git: Arc<Git>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let key = Key::new("git_tag", a.idempotency_key.as_deref(), &a)?;
    if key.is_some() && a.action != Some(Action::Create) {
        return Err(ToolError::invalid("idempotency_key applies to action create only; leave it out"));
    }
    blocking(move || {
        let repo = git.roots.open(&a.repo)?;
        let need_name = |what: &str| -> Result<String, ToolError> {
            let n = a.name.clone().ok_or_else(|| ToolError::invalid(format!("{what} needs name")))?;
            names::tag(&n)?;
            Ok(n)
        };
        let mut note = String::new();
        let out = match a.action.unwrap_or(Action::List) {
            Action::List => {
                if let Some(p) = &a.pattern {
                    check_text("pattern", p)?;
                }
                let names = repo.tag_names(a.pattern.as_deref()).map_err(git_error)?;
                let tags = names.iter().flatten().flatten().take(2000).filter_map(|n| info(&repo, n)).collect();
                Output { action: "listed".into(), tags, duplicate: false }
            }
            Action::Create => {
                let name = need_name("create")?;
                if let Some(k) = &key {
                    let (out, n) = create_keyed(&git, &repo, &a, &name, k)?;
                    note = n;
                    out
                } else {
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
                    Output {
                        action: "created".into(),
                        tags: info(&repo, &name).into_iter().collect(),
                        duplicate: false,
                    }
                }
            }
            Action::Delete => {
                let name = need_name("delete")?;
                let i = info(&repo, &name).ok_or_else(|| ToolError::not_found(format!("no tag {name:?}")))?;
                repo.tag_delete(&name).map_err(git_error)?;
                Output { action: "deleted".into(), tags: vec![i], duplicate: false }
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
            if out.duplicate {
                let _ = write!(t, "\n(duplicate: {note})");
            }
        }
        Ok(Out::new(out).text(t))
    })
    .await
}
