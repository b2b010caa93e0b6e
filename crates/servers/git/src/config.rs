//! Configuration of `mcp-server-git`: every variable it reads.
//!
//! Policy (roots, protected branches, remote schemes and hosts, credentials)
//! is fixed here at start-up; no tool can change it.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Directories whose repositories the server may touch, separated by `,` or `:` (default `projects`).
/// Relative `repo` arguments start at the first root.
pub const GIT_ROOTS: &str = "GIT_ROOTS";
/// `on` (default) or `off`: run the git command line inside the kernel sandbox (Landlock: the roots and a
/// private HOME writable, system directories readable, nothing else). With `on` and no Landlock on the machine,
/// network operations are refused; `off` runs git unconfined and `/ready` says so.
pub const GIT_SANDBOX: &str = "GIT_SANDBOX";
/// Default author and committer name for commits, tags, stashes and merges when the call gives none.
pub const GIT_AUTHOR_NAME: &str = "GIT_AUTHOR_NAME";
/// Default author and committer e-mail, used with `GIT_AUTHOR_NAME`.
pub const GIT_AUTHOR_EMAIL: &str = "GIT_AUTHOR_EMAIL";
/// Comma-separated branch names or glob patterns (`release/*`) that force-push and remote deletion refuse
/// without `confirm: true` (default `main,master`).
pub const GIT_PROTECTED_BRANCHES: &str = "GIT_PROTECTED_BRANCHES";
/// Token for HTTPS remotes, sent as an `Authorization` header: `user:secret` is sent as Basic, anything else as
/// Bearer. Never echoed in results or logs.
pub const GIT_HTTPS_TOKEN: &str = "GIT_HTTPS_TOKEN";
/// File holding the HTTPS token (compose secrets); used when `GIT_HTTPS_TOKEN` is unset.
pub const GIT_HTTPS_TOKEN_FILE: &str = "GIT_HTTPS_TOKEN_FILE";
/// Comma-separated hosts the HTTPS token is sent to (default: `GIT_ALLOWED_REMOTE_HOSTS`; when both are empty,
/// every HTTPS host). The token also goes over plain `http` to loopback hosts, for local testing only.
pub const GIT_HTTPS_TOKEN_HOSTS: &str = "GIT_HTTPS_TOKEN_HOSTS";
/// Private key for SSH remotes (used with `-o IdentitiesOnly=yes`).
pub const GIT_SSH_KEY_FILE: &str = "GIT_SSH_KEY_FILE";
/// `known_hosts` file for SSH remotes. Host keys are checked strictly; without this file no SSH host is trusted.
pub const GIT_SSH_KNOWN_HOSTS: &str = "GIT_SSH_KNOWN_HOSTS";
/// Time limit of one network operation (clone, fetch, pull, push), in seconds (default 120).
pub const GIT_NETWORK_TIMEOUT_SECS: &str = "GIT_NETWORK_TIMEOUT_SECS";
/// Comma-separated remote URL schemes allowed: any of `https`, `http`, `ssh`, `git`, `file` (default
/// `https,ssh,git`). `file` (and plain local paths) additionally requires the path to be inside the roots.
pub const GIT_ALLOWED_REMOTE_SCHEMES: &str = "GIT_ALLOWED_REMOTE_SCHEMES";
/// Comma-separated remote hosts allowed (exact names or `*.example.com`); empty (the default) allows any host.
pub const GIT_ALLOWED_REMOTE_HOSTS: &str = "GIT_ALLOWED_REMOTE_HOSTS";
/// Largest diff or patch text one result carries, in bytes (default 256K); longer ones are cut with a note.
pub const GIT_MAX_DIFF_BYTES: &str = "GIT_MAX_DIFF_BYTES";

/// The URL schemes the server knows.
pub const KNOWN_SCHEMES: &[&str] = &["https", "http", "ssh", "git", "file"];

/// A secret value whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Root directories.
    pub roots: Vec<PathBuf>,
    /// Run the git command line inside the kernel sandbox.
    pub sandbox: bool,
    /// Default author name.
    pub author_name: Option<String>,
    /// Default author e-mail.
    pub author_email: Option<String>,
    /// Protected branch patterns.
    pub protected_branches: Vec<String>,
    /// HTTPS token.
    pub https_token: Option<Secret>,
    /// Hosts the token is sent to (empty: any host allowed by policy).
    pub token_hosts: Vec<String>,
    /// SSH private key.
    pub ssh_key_file: Option<PathBuf>,
    /// SSH known_hosts.
    pub ssh_known_hosts: Option<PathBuf>,
    /// Network operation time limit.
    pub network_timeout: Duration,
    /// Allowed remote URL schemes.
    pub allowed_schemes: Vec<String>,
    /// Allowed remote hosts (empty: any).
    pub allowed_hosts: Vec<String>,
    /// Diff text cap.
    pub max_diff_bytes: usize,
}

impl Config {
    /// Read from the environment (or a test map), collecting every problem.
    pub fn read(r: &mut Reader<'_>) -> Self {
        let mut roots = r.paths(GIT_ROOTS);
        if roots.is_empty() {
            roots.push(PathBuf::from("projects"));
        }
        let author_name = r.optional(GIT_AUTHOR_NAME);
        let author_email = r.optional(GIT_AUTHOR_EMAIL);
        if author_name.is_some() != author_email.is_some() {
            r.error(format!("{GIT_AUTHOR_NAME} and {GIT_AUTHOR_EMAIL} must be set together"));
        }
        let mut protected_branches = r.list(GIT_PROTECTED_BRANCHES);
        if r.raw(GIT_PROTECTED_BRANCHES).is_none() {
            protected_branches = vec!["main".into(), "master".into()];
        }
        for p in &protected_branches {
            if let Err(e) = globset::Glob::new(p) {
                r.error(format!("{GIT_PROTECTED_BRANCHES}: {p:?} is not a valid pattern: {e}"));
            }
        }
        let https_token = r.secret(GIT_HTTPS_TOKEN, GIT_HTTPS_TOKEN_FILE);
        if let Some(t) = &https_token
            && t.chars().any(|c| c.is_control())
        {
            r.error(format!("{GIT_HTTPS_TOKEN}: the token contains control characters"));
        }
        let ssh_key_file = r.optional(GIT_SSH_KEY_FILE).map(PathBuf::from);
        let ssh_known_hosts = r.optional(GIT_SSH_KNOWN_HOSTS).map(PathBuf::from);
        for (key, p) in [(GIT_SSH_KEY_FILE, &ssh_key_file), (GIT_SSH_KNOWN_HOSTS, &ssh_known_hosts)] {
            if let Some(p) = p {
                if !p.is_file() {
                    r.error(format!("{key}={}: not a readable file", p.display()));
                }
                // The path goes into GIT_SSH_COMMAND, which git runs through the shell.
                if p.to_string_lossy().chars().any(|c| c == '\'' || c.is_control()) {
                    r.error(format!("{key}={}: the path must not contain quotes or control characters", p.display()));
                }
            }
        }
        let network_timeout = r.secs(GIT_NETWORK_TIMEOUT_SECS, Duration::from_secs(120));
        let mut allowed_schemes: Vec<String> =
            r.list(GIT_ALLOWED_REMOTE_SCHEMES).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        if allowed_schemes.is_empty() {
            allowed_schemes = vec!["https".into(), "ssh".into(), "git".into()];
        }
        for s in &allowed_schemes {
            if !KNOWN_SCHEMES.contains(&s.as_str()) {
                r.error(format!(
                    "{GIT_ALLOWED_REMOTE_SCHEMES}: unknown scheme {s:?}; use {}",
                    KNOWN_SCHEMES.join(", ")
                ));
            }
        }
        let allowed_hosts: Vec<String> =
            r.list(GIT_ALLOWED_REMOTE_HOSTS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        let mut token_hosts: Vec<String> =
            r.list(GIT_HTTPS_TOKEN_HOSTS).into_iter().map(|s| s.to_ascii_lowercase()).collect();
        if token_hosts.is_empty() {
            token_hosts = allowed_hosts.clone();
        }
        for (key, list) in [(GIT_ALLOWED_REMOTE_HOSTS, &allowed_hosts), (GIT_HTTPS_TOKEN_HOSTS, &token_hosts)] {
            for h in list {
                let bare = h.strip_prefix("*.").unwrap_or(h);
                if bare.is_empty() || !bare.chars().all(|c| c.is_ascii_alphanumeric() || ".-_[]:".contains(c)) {
                    r.error(format!("{key}: {h:?} is not a host name"));
                }
            }
        }
        let max_diff_bytes = r.bytes(GIT_MAX_DIFF_BYTES, 256 << 10);
        Self {
            roots,
            sandbox: r.bool(GIT_SANDBOX, true),
            author_name,
            author_email,
            protected_branches,
            https_token: https_token.map(Secret),
            token_hosts,
            ssh_key_file,
            ssh_known_hosts,
            network_timeout,
            allowed_schemes,
            allowed_hosts,
            max_diff_bytes,
        }
    }

    /// Settings for tests: one root, defaults otherwise (as if nothing else were set).
    pub fn for_root(root: impl Into<PathBuf>) -> Self {
        let env: [(&str, &str); 0] = [];
        let mut r = Reader::new(&env);
        let mut c = Self::read(&mut r);
        c.roots = vec![root.into()];
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(env: &[(&str, &str)]) -> Result<Config, mcp_core::ConfigErrors> {
        mcp_core::config::read_vars(env, Config::read)
    }

    #[test]
    fn defaults() {
        let c = check(&[]).unwrap();
        assert_eq!(c.roots, [PathBuf::from("projects")]);
        assert_eq!(c.protected_branches, ["main", "master"]);
        assert_eq!(c.allowed_schemes, ["https", "ssh", "git"]);
        assert!(c.allowed_hosts.is_empty());
        assert_eq!(c.network_timeout, Duration::from_secs(120));
    }

    #[test]
    fn every_error_is_reported_at_once() {
        let err = check(&[
            (GIT_AUTHOR_NAME, "only the name"),
            (GIT_ALLOWED_REMOTE_SCHEMES, "https,ftp"),
            (GIT_SSH_KEY_FILE, "/definitely/not/here"),
            (GIT_NETWORK_TIMEOUT_SECS, "soon"),
            (GIT_HTTPS_TOKEN_FILE, "/definitely/not/here"),
            (GIT_PROTECTED_BRANCHES, "release/[*"),
        ])
        .unwrap_err();
        assert_eq!(err.0.len(), 6, "{err}");
    }

    #[test]
    fn debug_redacts_the_token() {
        let c = check(&[(GIT_HTTPS_TOKEN, "super-secret-token-value")]).unwrap();
        assert!(!format!("{c:?}").contains("super-secret"));
    }
}
