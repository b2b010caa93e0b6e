//! The project's current commit, read from `.git` directly (`HEAD`, the ref
//! file or `packed-refs`): running `git` would execute the project's own
//! configuration (fsmonitor, hooks) in the server.

use std::path::Path;

/// Most bytes read from any file here.
const MAX: u64 = 1 << 20;

fn read(p: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(p).ok()?;
    let mut s = String::new();
    f.take(MAX).read_to_string(&mut s).ok()?;
    Some(s)
}

fn is_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commit `HEAD` names in `project`, when it is a repository with one.
pub fn head_commit(project: &Path) -> Option<String> {
    let mut git = project.join(".git");
    if git.is_file() {
        // A worktree or submodule: `gitdir: <path>`.
        let text = read(&git)?;
        let dir = text.trim().strip_prefix("gitdir:")?.trim().to_owned();
        git = project.join(dir);
    }
    let head = read(&git.join("HEAD"))?;
    let head = head.trim();
    let Some(name) = head.strip_prefix("ref:").map(str::trim) else {
        return is_sha(head).then(|| head.to_owned());
    };
    if !name.starts_with("refs/") || name.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    // A worktree keeps branch refs in the common directory.
    let common = read(&git.join("commondir")).map(|c| git.join(c.trim())).unwrap_or_else(|| git.clone());
    for dir in [&git, &common] {
        if let Some(v) = read(&dir.join(name)) {
            let v = v.trim();
            if is_sha(v) {
                return Some(v.to_owned());
            }
        }
    }
    for dir in [&git, &common] {
        if let Some(packed) = read(&dir.join("packed-refs")) {
            for line in packed.lines() {
                if let Some((sha, r)) = line.split_once(' ')
                    && r.trim() == name
                    && is_sha(sha)
                {
                    return Some(sha.to_owned());
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_packed_and_detached() {
        let d = tempfile::tempdir().unwrap();
        let g = d.path().join(".git");
        std::fs::create_dir_all(g.join("refs/heads")).unwrap();
        assert_eq!(head_commit(d.path()), None);
        std::fs::write(g.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(head_commit(d.path()), None, "unborn branch");
        let a = "a".repeat(40);
        std::fs::write(g.join("packed-refs"), format!("# pack-refs with: peeled\n{a} refs/heads/main\n")).unwrap();
        assert_eq!(head_commit(d.path()), Some(a.clone()));
        let b = "b".repeat(40);
        std::fs::write(g.join("refs/heads/main"), format!("{b}\n")).unwrap();
        assert_eq!(head_commit(d.path()), Some(b));
        std::fs::write(g.join("HEAD"), format!("{a}\n")).unwrap();
        assert_eq!(head_commit(d.path()), Some(a));
        std::fs::write(g.join("HEAD"), "ref: refs/../../etc\n").unwrap();
        assert_eq!(head_commit(d.path()), None);
    }
}
