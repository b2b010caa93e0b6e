//! Validation of branch, tag and remote names and of revisions.
//!
//! Every name or revision the model gives is checked before git sees it: no
//! leading `-` (git would read an option: `--upload-pack=...`), no NUL,
//! whitespace or control characters, and names must follow git's reference
//! name rules. The CLI additionally gets `--` before positional arguments.
//! References, revisions and refspecs may not name the server's private
//! namespace (`refs/mcp-idempotency/`, [`crate::idempotency`]): its records
//! are neither shown nor writable through a tool.

use mcp_core::ToolError;

/// Longest accepted name or revision, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

fn basic(what: &str, s: &str) -> Result<(), ToolError> {
    if s.is_empty() {
        return Err(ToolError::invalid(format!("{what} is empty")));
    }
    if s.len() > MAX_NAME_BYTES {
        return Err(ToolError::invalid(format!("{what} is longer than {MAX_NAME_BYTES} bytes")));
    }
    if s.starts_with('-') {
        return Err(ToolError::invalid(format!(
            "{what} {s:?} starts with '-', which git would read as an option; names and revisions cannot start with '-'"
        )));
    }
    if s.contains('\0') || s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ToolError::invalid(format!("{what} {s:?} contains whitespace, NUL or control characters")));
    }
    Ok(())
}

/// A local or remote branch name such as `feature/x`.
pub fn branch(s: &str) -> Result<(), ToolError> {
    basic("branch name", s)?;
    if s == "HEAD" || !git2::Branch::name_is_valid(s).unwrap_or(false) {
        return Err(ToolError::invalid(format!(
            "{s:?} is not a valid branch name (no spaces, '..', '~', '^', ':', '?', '*', '[', '\\', no trailing '.lock' or '/')"
        )));
    }
    Ok(())
}

/// A tag name.
pub fn tag(s: &str) -> Result<(), ToolError> {
    basic("tag name", s)?;
    if !git2::Reference::is_valid_name(&format!("refs/tags/{s}")) {
        return Err(ToolError::invalid(format!("{s:?} is not a valid tag name")));
    }
    Ok(())
}

/// A remote name such as `origin`.
pub fn remote(s: &str) -> Result<(), ToolError> {
    basic("remote name", s)?;
    if !git2::Remote::is_valid_name(s) || s.contains('/') {
        return Err(ToolError::invalid(format!(
            "{s:?} is not a valid remote name (use letters, digits, '-', '_', '.')"
        )));
    }
    Ok(())
}

fn public(what: &str, s: &str) -> Result<(), ToolError> {
    if crate::idempotency::is_private(s) {
        return Err(ToolError::invalid(format!(
            "{what} {s:?} names the server's private references ({}), which no tool exposes",
            crate::idempotency::PREFIX
        )));
    }
    Ok(())
}

/// A full reference name such as `refs/heads/main` or `HEAD`.
pub fn reference(s: &str) -> Result<(), ToolError> {
    basic("reference", s)?;
    public("reference", s)?;
    if s != "HEAD" && !git2::Reference::is_valid_name(s) {
        return Err(ToolError::invalid(format!("{s:?} is not a valid reference name")));
    }
    Ok(())
}

/// A revision (`HEAD~2`, a commit id, `v1.0`, `origin/main`, `a..b` where ranges are accepted).
/// Only the shape is checked here; libgit2 resolves it and never runs anything.
pub fn revision(s: &str) -> Result<(), ToolError> {
    basic("revision", s)?;
    public("revision", s)
}

/// A refspec for fetch (`+refs/heads/*:refs/remotes/origin/*`, `main`, `main:local`).
pub fn refspec(s: &str) -> Result<(), ToolError> {
    let body = s.strip_prefix('+').unwrap_or(s);
    basic("refspec", body)?;
    public("refspec", body)?;
    for side in body.split(':') {
        if side.is_empty() {
            continue;
        }
        let probe = side.replacen('*', "x", 1);
        let full = if probe.starts_with("refs/") { probe } else { format!("refs/heads/{probe}") };
        if !git2::Reference::is_valid_name(&full) {
            return Err(ToolError::invalid(format!("{s:?} is not a valid refspec")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(branch("feature/x-1").is_ok());
        for bad in ["-f", "--upload-pack=touch /tmp/x", "a b", "a..b", "a~1", "x.lock", "HEAD", "", "a\0", "a\n"] {
            assert!(branch(bad).is_err(), "{bad:?}");
        }
        assert!(tag("v1.0.0").is_ok());
        assert!(tag("-d").is_err());
        assert!(remote("origin").is_ok());
        assert!(remote("-c").is_err());
        assert!(remote("a/b").is_err());
        assert!(revision("HEAD~2").is_ok());
        assert!(revision("main..feature").is_ok());
        assert!(revision("--all").is_err());
        assert!(refspec("+refs/heads/*:refs/remotes/origin/*").is_ok());
        assert!(refspec("main").is_ok());
        assert!(refspec("--exec=x").is_err());
        assert!(refspec("+-x").is_err());
        for private in ["refs/mcp-idempotency/git_commit/ab", "mcp-idempotency/git_tag/ab^{commit}"] {
            assert!(reference(private).is_err() && revision(private).is_err(), "{private}");
        }
        assert!(refspec("+refs/mcp-idempotency/*:refs/mcp-idempotency/*").is_err());
    }
}
