//! Idempotency keys for `git_commit` and `git_tag` (action create), with the
//! contract `mcp-server-email` uses for sends and `mcp-server-sql` for records:
//! no key, the tool behaves as it always did; a new key, the write happens and
//! is recorded under the key; the same key with the same arguments, the first
//! result comes back marked `duplicate: true` and nothing new is written; the
//! same key with other arguments, a `conflict`. The key rule, "the same
//! arguments" (a SHA-256 of the canonical JSON of what the caller sent,
//! without the key) and the conflict message are [`mcp_core::idempotency`]'s.
//!
//! This server has no database, so the records live in the repository they
//! are about, where they survive any crash of the server the repository
//! itself survives, and travel with it when the folder is moved.
//!
//! **The record** of key `k` for tool `t` is the reference
//! `refs/mcp-idempotency/<t>/<sha256(k)>` pointing at a small annotated tag
//! object (never under `refs/tags/`) whose target is the result (the commit,
//! or the tag object or commit a tag points at) and whose message holds the
//! arguments' hash, the reference the write moves and that reference's value
//! before the write. A tag object rather than a bare reference to the commit
//! plus a reflog entry or a blob: reflogs are written only for branches and
//! HEAD by default and expire, a blob would leave the result unreachable (a
//! later reset or amend would let `git gc` prune the very commit a replay must
//! return), and a tag object is immutable, names its target in the object
//! graph (so the result stays reachable as long as the record exists) and
//! carries free text.
//!
//! **The order of the writes** makes every crash recoverable: (1) the result
//! object (commit or tag), (2) the record object, (3) the record reference,
//! created only if absent (the one atomic step that claims the key: libgit2
//! compares the old value with "none" under the reference's lock; its plain
//! create-if-absent checks before locking and lets two writers both win),
//! (4) the branch or tag moved from the recorded old value, again compared
//! under the lock. A crash before (3) leaves only unreachable objects, and a
//! retry writes afresh. A crash between (3) and (4) leaves the key claimed and
//! the branch where it was; the replay finds the reference still at the
//! recorded old value and completes (4). A replay after (4) finds the
//! reference at the result (or, for a branch, past it) and only reports. If
//! the reference has meanwhile gone somewhere else, the replay moves nothing
//! and says where it is. When (4) fails because the reference changed under
//! another writer, the write certainly did not happen and the record is
//! removed again so the key stays free, as the email server frees a key whose
//! send certainly delivered nothing; any other failure (a lock held by another
//! git process) keeps the record, so the retry completes the write.
//!
//! **One at a time**: keyed writes in this process hold [`lock`] from the
//! lookup to the end of the write, so concurrent retries of one key queue
//! behind the first and replay it, and never meet each other's reference
//! locks (libgit2 fails at once on a held lock rather than waiting). Between
//! processes the atomic claim still holds: the loser answers as a replay.
//!
//! **Hidden**: `git_branch` lists only `refs/heads` and `refs/remotes`,
//! `git_tag` only `refs/tags`, `git_log` walks from a revision, `git_fetch`
//! compares heads, tags and remote-tracking references; `git_push` pushes
//! explicit `refs/heads/...` refspecs and at most `refs/tags/*`, and a clone
//! copies heads and tags only, so the records never leave the repository.
//! [`crate::names`] refuses revisions, references and refspecs naming the
//! namespace, so the model can neither read nor forge a record through a tool.
//! Records are never expired: each is one reference and one small object.

use std::sync::{Mutex, MutexGuard, PoisonError};

use git2::{ErrorCode, Oid, Repository, Signature};
use mcp_core::ToolError;
use mcp_core::idempotency::{KEY_FIELD, Replay, args_hash, check_key, sha256_hex};
use serde::Serialize;

use crate::sandbox::git_error;

/// Where the records live.
pub const PREFIX: &str = "refs/mcp-idempotency/";

/// First line of every record's message, with the format's version.
const HEADER: &str = "mcp-server-git idempotency record 1";

/// Serialises keyed writes in this process (see the module docs).
static WRITES: Mutex<()> = Mutex::new(());

/// Hold while a keyed write looks up its key and writes. A keyed write is one
/// commit of an already staged index or one tag, so the wait is short.
pub fn lock() -> MutexGuard<'static, ()> {
    // A panic while holding it left nothing half-done in memory: the state is in the repository.
    WRITES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// True for a reference of the private namespace (or a name reaching it).
pub fn is_private(name: &str) -> bool {
    name.contains("mcp-idempotency/")
}

/// A checked key of one call, with the hash of the call's other arguments.
#[derive(Debug, Clone)]
pub struct Key {
    tool: &'static str,
    key: String,
    args: String,
    reference: String,
}

/// What a key recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record object (the tag the private reference points at).
    pub id: Oid,
    /// Hash of the arguments.
    pub args: String,
    /// The reference the write moves: `refs/heads/<branch>`, `HEAD` when detached, `refs/tags/<name>`.
    pub reference: String,
    /// Its value before the write (none for an unborn branch or a new tag).
    pub old: Option<Oid>,
    /// The result: the commit, or what the tag reference points at.
    pub new: Oid,
}

/// The outcome of claiming a key.
#[derive(Debug)]
pub enum Claim {
    /// The record was created: this call makes the write.
    Mine(Record),
    /// Another call with the same key and arguments got there first.
    Taken(Record),
}

/// Where a replay found the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    /// At the result (or, for a branch, at a descendant of it).
    Done,
    /// Still at the old value: the write was interrupted, and has now been completed.
    Completed,
    /// Somewhere else (or gone): nothing was changed.
    Elsewhere(Option<Oid>),
}

impl Key {
    /// The key of a call to `tool` with `args`; `None` when the caller gave none.
    pub fn new<A: Serialize>(tool: &'static str, key: Option<&str>, args: &A) -> Result<Option<Self>, ToolError> {
        let Some(key) = key else { return Ok(None) };
        check_key(key)?;
        let args = mcp_core::serde_json::to_value(args).map_err(ToolError::internal)?;
        Ok(Some(Self {
            tool,
            key: key.to_owned(),
            args: args_hash(&args, KEY_FIELD),
            reference: format!("{PREFIX}{tool}/{}", sha256_hex(key.as_bytes())),
        }))
    }

    /// The private reference holding this key's record.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// The record of this key, `None` when the key is unused. A key used
    /// with other arguments is a conflict.
    pub fn find(&self, repo: &Repository) -> Result<Option<Record>, ToolError> {
        let id = match repo.refname_to_id(&self.reference) {
            Ok(id) => id,
            Err(e) if e.code() == ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(git_error(e)),
        };
        let rec = parse(repo, id, self.tool)?;
        let args = rec.args.clone();
        Replay::of(&self.args, Some((&args, rec)))
            .into_result(&self.key, |r| format!("its {} wrote {}", self.tool, crate::report::short(r.new)))
    }

    /// Claim the key for a write of `reference` from `old` to `new`: write
    /// the record object, then create the private reference unless it exists.
    pub fn claim(&self, repo: &Repository, reference: &str, old: Option<Oid>, new: Oid) -> Result<Claim, ToolError> {
        let message = format!(
            "{HEADER}\ntool {}\nargs {}\nref {reference}\nold {}\n",
            self.tool,
            self.args,
            old.map_or_else(|| "-".to_owned(), |o| o.to_string())
        );
        let target = repo.find_object(new, None).map_err(git_error)?;
        let who = Signature::now(crate::NAME, "mcp-server-git@localhost").map_err(git_error)?;
        let id = repo.tag_annotation_create("mcp-idempotency", &target, &who, &message).map_err(git_error)?;
        // Compared with "absent" under the reference's lock: atomic.
        match repo.reference_matching(&self.reference, id, true, Oid::ZERO_SHA1, "idempotency record") {
            Ok(_) => Ok(Claim::Mine(Record { id, args: self.args.clone(), reference: reference.to_owned(), old, new })),
            Err(e) if e.code() == ErrorCode::Modified || e.code() == ErrorCode::Exists => {
                self.find(repo)?.map(Claim::Taken).ok_or_else(|| ToolError::internal("an idempotency record vanished"))
            }
            Err(e) => Err(git_error(e)),
        }
    }

    /// After a claim: how the write of the reference went. Success, or a
    /// failure after which the reference is at the result anyway, is `Ok`. A
    /// reference that changed under another writer means the write certainly
    /// did not happen: the key is freed again and `changed` says why. Any
    /// other failure keeps the record, and the error says a retry with the
    /// key completes the write.
    pub fn finish(
        &self,
        repo: &Repository,
        rec: &Record,
        written: Result<(), git2::Error>,
        changed: impl FnOnce(git2::Error) -> ToolError,
    ) -> Result<(), ToolError> {
        let Err(e) = written else { return Ok(()) };
        if repo.refname_to_id(&rec.reference).ok() == Some(rec.new) {
            return Ok(());
        }
        if e.code() == ErrorCode::Modified || e.code() == ErrorCode::Exists {
            self.release(repo, rec);
            return Err(changed(e));
        }
        Err(ToolError::failed(format!(
            "git: {}. The result ({}) is recorded under the idempotency key: repeat the call with the same key and \
             arguments to complete it",
            e.message(),
            crate::report::short(rec.new)
        )))
    }

    /// Free the key again after the write it guarded failed for certain.
    /// Only the record this call created is removed.
    pub fn release(&self, repo: &Repository, rec: &Record) {
        if let Ok(mut r) = repo.find_reference(&self.reference)
            && r.target() == Some(rec.id)
            && let Err(e) = r.delete()
        {
            mcp_core::tracing::warn!(error = %e.message(), "an idempotency record could not be removed");
        }
    }
}

impl Record {
    /// Bring the reference to the result if the write was interrupted, and
    /// say where it was found. With `ancestry`, a reference that moved on
    /// past the result (later commits on the branch) counts as done.
    pub fn complete(&self, repo: &Repository, ancestry: bool, reflog: &str) -> Result<Completion, ToolError> {
        let current = |repo: &Repository| -> Result<Option<Oid>, ToolError> {
            match repo.refname_to_id(&self.reference) {
                Ok(id) => Ok(Some(id)),
                Err(e) if e.code() == ErrorCode::NotFound || e.code() == ErrorCode::UnbornBranch => Ok(None),
                Err(e) => Err(git_error(e)),
            }
        };
        // A record for a detached HEAD is about HEAD only while it stays detached:
        // once a branch is checked out, HEAD resolves to that branch instead.
        if self.reference == "HEAD" && !repo.head_detached().unwrap_or(false) {
            return Ok(Completion::Elsewhere(repo.head().ok().and_then(|h| h.target())));
        }
        let cur = current(repo)?;
        if cur == Some(self.new) {
            return Ok(Completion::Done);
        }
        if ancestry
            && let Some(c) = cur
            && repo.graph_descendant_of(c, self.new).unwrap_or(false)
        {
            return Ok(Completion::Done);
        }
        if cur != self.old {
            return Ok(Completion::Elsewhere(cur));
        }
        // From the old value (or from absent: the zero id), compared under the lock.
        let old = self.old.unwrap_or(Oid::ZERO_SHA1);
        match repo.reference_matching(&self.reference, self.new, true, old, reflog) {
            Ok(_) => Ok(Completion::Completed),
            // A concurrent replay may have completed it first.
            Err(_) if current(repo)? == Some(self.new) => Ok(Completion::Done),
            Err(e) if e.code() == ErrorCode::Modified => Ok(Completion::Elsewhere(current(repo)?)),
            Err(e) => Err(git_error(e)),
        }
    }
}

/// Read the record object `id`.
fn parse(repo: &Repository, id: Oid, tool: &str) -> Result<Record, ToolError> {
    let damaged = |why: &str| ToolError::internal(format!("the idempotency record {id} is damaged: {why}"));
    let tag = repo.find_tag(id).map_err(|_| damaged("not a tag object"))?;
    let message = tag.message().ok().flatten().ok_or_else(|| damaged("no message"))?;
    let mut lines = message.lines();
    if lines.next() != Some(HEADER) {
        return Err(damaged("unknown format"));
    }
    let (mut t, mut args, mut reference, mut old) = (None, None, None, None);
    for line in lines {
        match line.split_once(' ') {
            Some(("tool", v)) => t = Some(v),
            Some(("args", v)) => args = Some(v.to_owned()),
            Some(("ref", v)) => reference = Some(v.to_owned()),
            Some(("old", "-")) => old = Some(None),
            Some(("old", v)) => old = Some(Some(Oid::from_str(v).map_err(|_| damaged("bad old value"))?)),
            _ => {}
        }
    }
    if t != Some(tool) {
        return Err(damaged("recorded for another tool"));
    }
    match (args, reference, old) {
        (Some(args), Some(reference), Some(old)) => Ok(Record { id, args, reference, old, new: tag.target_id() }),
        _ => Err(damaged("a field is missing")),
    }
}

#[cfg(test)]
mod tests {
    use mcp_core::serde_json::json;

    use super::*;

    #[test]
    fn records_round_trip_and_claims_are_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let who = Signature::now("t", "t@example.test").unwrap();
        let tree = repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap()).unwrap();
        let c = repo.commit(None, &who, &who, "one", &tree, &[]).unwrap();
        let args = json!({"repo": "r", "message": "one"});
        let k = Key::new("git_commit", Some("run-1/commit"), &args).unwrap().unwrap();
        assert!(k.reference().starts_with(PREFIX) && is_private(k.reference()));
        assert_eq!(k.find(&repo).unwrap(), None);
        let Claim::Mine(rec) = k.claim(&repo, "refs/heads/main", None, c).unwrap() else { panic!("first claim") };
        assert_eq!(k.find(&repo).unwrap(), Some(rec.clone()));
        // The record keeps the result reachable, and a second claim finds the first.
        assert_eq!(repo.revparse_single(&format!("{}^{{commit}}", k.reference())).unwrap().id(), c);
        assert!(matches!(k.claim(&repo, "refs/heads/main", None, c).unwrap(), Claim::Taken(r) if r == rec));
        // Other arguments under the key: a conflict.
        let other =
            Key::new("git_commit", Some("run-1/commit"), &json!({"repo": "r", "message": "two"})).unwrap().unwrap();
        assert!(matches!(other.find(&repo), Err(ToolError::Conflict(_))));
        // The interrupted write completes once; a moved branch is left alone.
        assert_eq!(rec.complete(&repo, true, "test").unwrap(), Completion::Completed);
        assert_eq!(repo.refname_to_id("refs/heads/main").unwrap(), c);
        assert_eq!(rec.complete(&repo, true, "test").unwrap(), Completion::Done);
        let d = repo.commit(None, &who, &who, "elsewhere", &tree, &[]).unwrap();
        repo.reference("refs/heads/main", d, true, "test").unwrap();
        assert_eq!(rec.complete(&repo, true, "test").unwrap(), Completion::Elsewhere(Some(d)));
        k.release(&repo, &rec);
        assert_eq!(k.find(&repo).unwrap(), None);
    }

    #[test]
    fn of_concurrent_claims_of_one_key_exactly_one_wins() {
        // Without the in-process lock, as two server processes would race:
        // several handles on one repository claim each key at the same moment.
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let who = Signature::now("t", "t@example.test").unwrap();
        let tree = repo.find_tree(repo.treebuilder(None).unwrap().write().unwrap()).unwrap();
        let commits: Vec<Oid> =
            (0..6).map(|i| repo.commit(None, &who, &who, &format!("c{i}"), &tree, &[]).unwrap()).collect();
        for round in 0..30 {
            let k = Key::new("git_commit", Some(&format!("race-{round}")), &json!({"repo": "r"})).unwrap().unwrap();
            let start = std::sync::Barrier::new(commits.len());
            let mine = std::thread::scope(|s| {
                let handles: Vec<_> = commits
                    .iter()
                    .map(|c| {
                        let (k, path, start) = (&k, dir.path(), &start);
                        s.spawn(move || {
                            let repo = Repository::open(path).unwrap();
                            start.wait();
                            loop {
                                match k.claim(&repo, "refs/heads/main", None, *c) {
                                    Ok(Claim::Mine(_)) => return true,
                                    Ok(Claim::Taken(_)) => return false,
                                    // Another handle holds the reference's lock: try again.
                                    Err(e) if e.to_string().contains("lock") => std::thread::yield_now(),
                                    Err(e) => panic!("{e}"),
                                }
                            }
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).filter(|m| *m).count()
            });
            assert_eq!(mine, 1, "round {round}");
            assert!(commits.contains(&k.find(&repo).unwrap().unwrap().new));
        }
    }
}
