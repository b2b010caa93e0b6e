//! `changes`: what was created, modified or deleted under a path since the
//! token a previous call returned. The agent calls it after every shell or
//! build step to see exactly what the step did to the tree.
//!
//! A token names a snapshot kept in memory (size, mtime, ctime and inode of
//! every entry, bounded by the walk limit); the store keeps the newest
//! [`MAX_SNAPSHOTS`]. A token from before a restart is reported as unknown
//! with the remedy, never silently treated as "no changes".

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;

use mcp_core::prelude::*;

use crate::sandbox::{Kind, os_error};
use crate::walk::{Options, walk};
use crate::{Fs, blocking};

/// Snapshots kept at once.
pub const MAX_SNAPSHOTS: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Sig {
    kind: Kind,
    size: i64,
    mtime: (i64, u64),
    ctime: (i64, u64),
    ino: u64,
}

struct Snapshot {
    path: PathBuf,
    entries: HashMap<PathBuf, Sig>,
}

/// The snapshots behind live tokens.
#[derive(Default)]
pub struct Store {
    map: HashMap<String, Snapshot>,
    order: VecDeque<String>,
}

impl Store {
    fn insert(&mut self, token: String, snap: Snapshot) {
        if self.order.len() >= MAX_SNAPSHOTS
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        self.order.push_back(token.clone());
        self.map.insert(token, snap);
    }
}

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Directory to watch (default: the first root).
    #[serde(default = "dot")]
    pub path: String,
    /// The token from the previous call. Omit it to take a baseline.
    pub since: Option<String>,
    /// Skip .gitignored paths and .git (default true).
    #[serde(default = "yes")]
    pub gitignore: bool,
}

fn dot() -> String {
    ".".into()
}
fn yes() -> bool {
    true
}

/// Differences since the token.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Pass this as `since` next time.
    pub token: String,
    /// Canonical directory watched.
    pub path: String,
    /// True when there was no `since` (this call only took the baseline).
    pub baseline: bool,
    /// Paths that appeared, relative to `path`.
    pub created: Vec<String>,
    /// Paths whose content or metadata changed.
    pub modified: Vec<String>,
    /// Paths that disappeared.
    pub deleted: Vec<String>,
    /// Entries in the tree now.
    pub entries: usize,
    /// True when the walk limit was reached: changes beyond it are not seen.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Fs> {
    Tool::new(
        "changes",
        "Report what was created, modified or deleted under a directory since a previous call. Call it once without \
         `since` to get a token, run your step, then call it with that token. Each call returns a new token.",
        Annotations::read_only(),
        run,
    )
    .title("Changes since a token")
}

fn new_token() -> String {
    format!("chg-{:032x}", rand_u128())
}

fn rand_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let s = std::collections::hash_map::RandomState::new();
    let (mut a, mut b) = (s.build_hasher(), s.build_hasher());
    a.write_u64(1);
    b.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    (u128::from(a.finish()) << 64) | u128::from(b.finish())
}

async fn run(fs: Arc<Fs>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    blocking(move || {
        let r = fs.sandbox.existing(&a.path)?;
        let abs = r.abs();
        let base = match &a.since {
            None => None,
            Some(t) => {
                let store = fs.changes.lock().map_err(|_| ToolError::internal("changes store poisoned"))?;
                let snap = store.map.get(t).ok_or_else(|| {
                    ToolError::invalid(format!(
                        "unknown token {t:?}: it expired or the server restarted. Call changes without `since` for a new baseline."
                    ))
                })?;
                if snap.path != abs {
                    return Err(ToolError::invalid(format!(
                        "token {t:?} belongs to {}, not {}; pass the same path as when it was issued",
                        snap.path.display(),
                        abs.display()
                    )));
                }
                Some(snap.entries.clone())
            }
        };
        let dir = fs.sandbox.open_dir(&r).map_err(|e| os_error(e, &a.path))?;
        let opts = Options { max_depth: 64, gitignore: a.gitignore, exclude: None, limit: fs.config.max_walk_entries };
        let mut now = HashMap::new();
        // The nanosecond fields are u64 on some targets and i64 on others.
        #[allow(clippy::unnecessary_cast)]
        let summary = walk(dir, &abs, &opts, &mut |e| {
            let st = &e.stat;
            now.insert(
                e.rel.clone(),
                Sig {
                    kind: e.kind,
                    size: st.st_size,
                    mtime: (st.st_mtime, st.st_mtime_nsec as u64),
                    ctime: (st.st_ctime, st.st_ctime_nsec as u64),
                    ino: st.st_ino,
                },
            );
            true
        });
        let (mut created, mut modified, mut deleted) = (Vec::new(), Vec::new(), Vec::new());
        if let Some(base) = &base {
            for (p, sig) in &now {
                match base.get(p) {
                    None => created.push(p.display().to_string()),
                    // A directory's times change whenever an entry does; its
                    // entries are reported themselves, so only report a dir
                    // when it was replaced.
                    Some(old) if old.kind == Kind::Dir && sig.kind == Kind::Dir && old.ino != sig.ino => {
                        modified.push(p.display().to_string());
                    }
                    Some(old) if old.kind == Kind::Dir && sig.kind == Kind::Dir => {}
                    Some(old) if old != sig => modified.push(p.display().to_string()),
                    _ => {}
                }
            }
            for p in base.keys() {
                if !now.contains_key(p) {
                    deleted.push(p.display().to_string());
                }
            }
        }
        created.sort();
        modified.sort();
        deleted.sort();
        let token = new_token();
        let entries = now.len();
        fs.changes
            .lock()
            .map_err(|_| ToolError::internal("changes store poisoned"))?
            .insert(token.clone(), Snapshot { path: abs.clone(), entries: now });
        let text = if base.is_none() {
            format!("baseline taken of {} ({entries} entries). token: {token}", abs.display())
        } else {
            let mut t = format!("since the token: {} created, {} modified, {} deleted\n", created.len(), modified.len(), deleted.len());
            for p in &created {
                t.push_str(&format!("+ {p}\n"));
            }
            for p in &modified {
                t.push_str(&format!("~ {p}\n"));
            }
            for p in &deleted {
                t.push_str(&format!("- {p}\n"));
            }
            t.push_str(&format!("next token: {token}"));
            t
        };
        Ok(Out::new(Output {
            token,
            path: abs.display().to_string(),
            baseline: base.is_none(),
            created,
            modified,
            deleted,
            entries,
            truncated: summary.truncated,
        })
        .text(text))
    })
    .await
}
