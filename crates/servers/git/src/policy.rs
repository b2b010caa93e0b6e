//! Remote policy: which URLs may be contacted, which branches are protected,
//! where the HTTPS token may go, and redaction of credentials from any text
//! that leaves the server (results, errors, logs).

use std::path::PathBuf;

use globset::{Glob, GlobSet, GlobSetBuilder};
use mcp_core::ToolError;

use crate::config::Config;
use crate::sandbox::Roots;

/// A remote URL that passed the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteUrl {
    /// `https`, `http`, `ssh`, `git` or `file`.
    pub scheme: String,
    /// Lower-case host (`None` for `file`).
    pub host: Option<String>,
    /// What to hand to git: the URL as given, or `file://<canonical path>` for local paths.
    pub url: String,
}

/// The fixed policy of this server.
#[derive(Debug)]
pub struct Policy {
    schemes: Vec<String>,
    hosts: Vec<String>,
    token_hosts: Vec<String>,
    protected: GlobSet,
    protected_patterns: Vec<String>,
    secrets: Vec<String>,
}

/// Why the policy cannot be built.
#[derive(Debug, thiserror::Error)]
#[error("bad protected branch pattern {0:?}: {1}")]
pub struct PolicyError(String, globset::Error);

fn host_matches(list: &[String], host: &str) -> bool {
    list.iter().any(|h| match h.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1 && host.ends_with(suffix) && host[..host.len() - suffix.len()].ends_with('.')
        }
        None => h == host,
    })
}

/// True for loopback host names and addresses.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Policy {
    /// Build from the configuration.
    pub fn new(c: &Config) -> Result<Self, PolicyError> {
        let mut b = GlobSetBuilder::new();
        for p in &c.protected_branches {
            b.add(Glob::new(p).map_err(|e| PolicyError(p.clone(), e))?);
        }
        let protected = b.build().map_err(|e| PolicyError(c.protected_branches.join(","), e))?;
        let mut secrets = Vec::new();
        if let Some(t) = &c.https_token {
            secrets.push(t.0.clone());
            secrets.push(auth_value(&t.0));
            if let Some((_, pw)) = t.0.split_once(':')
                && pw.len() >= 4
            {
                secrets.push(pw.to_owned());
            }
            use base64::Engine as _;
            secrets.push(base64::engine::general_purpose::STANDARD.encode(&t.0));
        }
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Ok(Self {
            schemes: c.allowed_schemes.clone(),
            hosts: c.allowed_hosts.clone(),
            token_hosts: c.token_hosts.clone(),
            protected,
            protected_patterns: c.protected_branches.clone(),
            secrets,
        })
    }

    /// The protected branch patterns.
    pub fn protected_patterns(&self) -> &[String] {
        &self.protected_patterns
    }

    /// Whether `branch` (short name) is protected.
    pub fn is_protected(&self, branch: &str) -> bool {
        self.protected.is_match(branch)
    }

    /// The allowed schemes.
    pub fn schemes(&self) -> &[String] {
        &self.schemes
    }

    /// Check a remote URL (or local path) against the policy.
    pub fn check_url(&self, roots: &Roots, url: &str) -> Result<RemoteUrl, ToolError> {
        let shown = redact_urls(url);
        if url.is_empty() || url.len() > 2048 {
            return Err(ToolError::invalid("url is empty or longer than 2048 bytes"));
        }
        if url.starts_with('-') {
            return Err(ToolError::invalid(format!(
                "url {shown:?} starts with '-', which git would read as an option"
            )));
        }
        if !url.contains("://") && url.contains("::") {
            return Err(ToolError::denied(format!(
                "url {shown:?} uses git's '<transport>::<address>' helper syntax, which this server never allows"
            )));
        }
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ToolError::invalid(format!("url {shown:?} contains whitespace or control characters")));
        }
        let parsed = if let Some((scheme, rest)) = url.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if scheme.contains("::") || scheme.contains('+') || !crate::config::KNOWN_SCHEMES.contains(&scheme.as_str())
            {
                return Err(self.scheme_refused(&scheme, &shown));
            }
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let (userinfo, hostport) = match authority.rsplit_once('@') {
                Some((u, h)) => (Some(u), h),
                None => (None, authority),
            };
            if scheme == "file" {
                if !(hostport.is_empty() || hostport.eq_ignore_ascii_case("localhost")) || userinfo.is_some() {
                    return Err(ToolError::invalid(format!("file URL {shown:?} must be file:///absolute/path")));
                }
                return self.local(roots, path, &shown);
            }
            if userinfo.is_some() && (scheme == "https" || scheme == "http" || scheme == "git") {
                return Err(ToolError::denied(format!(
                    "url {shown:?} carries credentials; give the URL without 'user@' and let the server's configured \
                     token authenticate"
                )));
            }
            let host = host_of(hostport);
            if host.is_empty() {
                return Err(ToolError::invalid(format!("url {shown:?} has no host")));
            }
            RemoteUrl { scheme, host: Some(host), url: url.to_owned() }
        } else if let Some((left, _)) = url.split_once(':')
            && !left.contains('/')
        {
            // scp-like `[user@]host:path` is ssh.
            let host = left.rsplit_once('@').map_or(left, |(_, h)| h).to_ascii_lowercase();
            if host.is_empty() {
                return Err(ToolError::invalid(format!("url {shown:?} has no host")));
            }
            RemoteUrl { scheme: "ssh".into(), host: Some(host), url: url.to_owned() }
        } else {
            return self.local(roots, url, &shown);
        };
        if !self.schemes.contains(&parsed.scheme) {
            return Err(self.scheme_refused(&parsed.scheme, &shown));
        }
        if let Some(h) = &parsed.host
            && !self.hosts.is_empty()
            && !host_matches(&self.hosts, h)
        {
            return Err(ToolError::denied(format!(
                "host {h:?} is not in GIT_ALLOWED_REMOTE_HOSTS ({}); use a remote on an allowed host",
                self.hosts.join(", ")
            )));
        }
        Ok(parsed)
    }

    fn scheme_refused(&self, scheme: &str, shown: &str) -> ToolError {
        ToolError::denied(format!(
            "url {shown:?}: the {scheme:?} scheme is not allowed here (allowed: {}); use one of those",
            self.schemes.join(", ")
        ))
    }

    fn local(&self, roots: &Roots, path: &str, shown: &str) -> Result<RemoteUrl, ToolError> {
        if !self.schemes.iter().any(|s| s == "file") {
            return Err(ToolError::denied(format!(
                "url {shown:?} is a local path, and the file scheme is not allowed here (allowed: {})",
                self.schemes.join(", ")
            )));
        }
        let canonical: PathBuf = roots.existing("remote path", path)?;
        // A local source is a repository under the roots whose git directory,
        // work tree and object store (alternates included) are all inside them
        // too: a `.git` file, a `.git` symlink or alternates pointing elsewhere
        // would make a clone or fetch copy objects from outside.
        roots.open(&canonical.display().to_string())?;
        let s = canonical.to_str().ok_or_else(|| ToolError::invalid("the remote path is not UTF-8"))?;
        Ok(RemoteUrl { scheme: "file".into(), host: None, url: format!("file://{s}") })
    }

    /// Whether the token may be sent to this URL: HTTPS to a token host, or
    /// plain HTTP to loopback (local tests), never anywhere else.
    pub fn token_allowed(&self, u: &RemoteUrl) -> bool {
        let Some(host) = &u.host else { return false };
        let host_ok = self.token_hosts.is_empty() || host_matches(&self.token_hosts, host);
        match u.scheme.as_str() {
            "https" => host_ok,
            "http" => host_ok && is_loopback(host),
            _ => false,
        }
    }

    /// Remove every credential from `s`: the configured token in its forms,
    /// and the user-info part of any URL.
    pub fn redact(&self, s: &str) -> String {
        let mut out = redact_urls(s);
        for secret in &self.secrets {
            if !secret.is_empty() && out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "<redacted>");
            }
        }
        out
    }
}

/// The host part of `host[:port]` or `[v6]:port`, lower case.
fn host_of(hostport: &str) -> String {
    if let Some(rest) = hostport.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("").to_ascii_lowercase();
    }
    hostport.split(':').next().unwrap_or("").to_ascii_lowercase()
}

/// The `Authorization` header value for a token: `user:secret` is Basic, anything else Bearer.
pub fn auth_value(token: &str) -> String {
    use base64::Engine as _;
    if token.contains(':') {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(token))
    } else {
        format!("Bearer {token}")
    }
}

/// Replace the user-info of every `scheme://user[:password]@host` in `s` with `***`.
pub fn redact_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c == '/' || c.is_whitespace() || "\"'<>`".contains(c)).unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(env: &[(&str, &str)]) -> (Policy, Roots, tempfile::TempDir) {
        let d = tempfile::tempdir().unwrap();
        // A local source must be a repository (its git directory and object store are checked).
        git2::Repository::init_bare(d.path().join("bare.git")).unwrap();
        let mut c = mcp_core::config::read_vars(env, Config::read).unwrap();
        c.roots = vec![d.path().to_path_buf()];
        (Policy::new(&c).unwrap(), Roots::new(&c.roots).unwrap(), d)
    }

    #[test]
    fn urls() {
        let (p, roots, d) = policy(&[("GIT_ALLOWED_REMOTE_HOSTS", "github.com,*.corp.example")]);
        assert!(p.check_url(&roots, "https://github.com/a/b.git").is_ok());
        assert!(p.check_url(&roots, "git@github.com:a/b.git").is_ok());
        assert!(p.check_url(&roots, "ssh://git@git.corp.example/a").is_ok());
        assert!(p.check_url(&roots, "https://evil.com/a").is_err());
        assert!(p.check_url(&roots, "https://corp.example.evil.com/a").is_err());
        assert!(p.check_url(&roots, "http://github.com/a").is_err(), "http not allowed by default");
        assert!(p.check_url(&roots, "ext::sh -c touch% /tmp/pwned").is_err());
        assert!(p.check_url(&roots, "ext::sh").is_err());
        assert!(p.check_url(&roots, "--upload-pack=touch /tmp/pwned").is_err());
        assert!(p.check_url(&roots, "https://user:pw@github.com/a").is_err());
        assert!(p.check_url(&roots, "/etc").is_err(), "file not allowed by default");
        let bare = d.path().join("bare.git").display().to_string();
        let (p, roots, _d2) = policy(&[("GIT_ALLOWED_REMOTE_SCHEMES", "file")]);
        assert!(p.check_url(&roots, &bare).is_err(), "another root");
        let _ = roots;
        let (p, roots, d) = policy(&[("GIT_ALLOWED_REMOTE_SCHEMES", "file,https")]);
        let bare = d.path().join("bare.git").display().to_string();
        let u = p.check_url(&roots, &bare).unwrap();
        assert!(u.url.starts_with("file:///"), "{u:?}");
        assert!(p.check_url(&roots, &format!("file://{bare}")).is_ok());
        assert!(p.check_url(&roots, "file:///etc").is_err());
        assert!(p.check_url(&roots, "/etc").is_err());
    }

    #[test]
    fn redaction() {
        let (p, _, _d) = policy(&[("GIT_HTTPS_TOKEN", "tok-123456789")]);
        let s = "fatal: https://bob:hunter2@host/x failed; header Bearer tok-123456789";
        let r = p.redact(s);
        assert!(!r.contains("hunter2") && !r.contains("tok-123456789") && !r.contains("bob"), "{r}");
        assert!(r.contains("https://***@host/x"), "{r}");
    }

    #[test]
    fn token_goes_only_where_allowed() {
        let (p, roots, _d) = policy(&[
            ("GIT_HTTPS_TOKEN", "t"),
            ("GIT_HTTPS_TOKEN_HOSTS", "git.example"),
            ("GIT_ALLOWED_REMOTE_SCHEMES", "https,http"),
        ]);
        let u = p.check_url(&roots, "https://git.example/a").unwrap();
        assert!(p.token_allowed(&u));
        let u = p.check_url(&roots, "https://other.example/a").unwrap();
        assert!(!p.token_allowed(&u));
        let u = p.check_url(&roots, "http://git.example/a").unwrap();
        assert!(!p.token_allowed(&u), "never over plain http to a real host");
    }

    #[test]
    fn protected() {
        let (p, _, _d) = policy(&[("GIT_PROTECTED_BRANCHES", "main,release/*")]);
        assert!(p.is_protected("main"));
        assert!(p.is_protected("release/1.0"));
        assert!(!p.is_protected("feature"));
    }
}
