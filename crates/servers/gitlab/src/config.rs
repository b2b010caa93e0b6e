//! Configuration of `mcp-server-gitlab`: every variable it reads, fixed for
//! the life of the process.

use std::fmt;
use std::time::Duration;

use globset::{GlobBuilder, GlobMatcher};
use mcp_core::Reader;

use crate::ci;

/// The GitLab instance, `https://gitlab.example.com` (a relative root such as
/// `https://example.com/gitlab` works too). Unset, the server still starts,
/// but `/ready` says it is not configured and every GitLab tool answers with
/// an `unavailable` error saying so.
pub const GITLAB_URL: &str = "GITLAB_URL";
/// The access token (a personal, project or group access token), inline.
/// Prefer [`GITLAB_TOKEN_FILE`]. It is sent as `PRIVATE-TOKEN` to
/// [`GITLAB_URL`] only, and never appears in results, logs, errors or
/// `Debug` output; log text that contains it is masked.
pub const GITLAB_TOKEN: &str = "GITLAB_TOKEN";
/// A file holding the access token (compose secrets); set this or
/// [`GITLAB_TOKEN`], not both.
pub const GITLAB_TOKEN_FILE: &str = "GITLAB_TOKEN_FILE";
/// `read-only` (the default) or `modify`. In read-only mode the tools that
/// change GitLab (`pipeline_create`, `pipeline_retry`, `pipeline_cancel`,
/// `job_retry`, `job_cancel`, `job_play`, `mr_create`, `mr_note`) are not
/// registered, so they are neither listed nor callable (the fleet's
/// hidden-tool rule).
pub const GITLAB_MODE: &str = "GITLAB_MODE";
/// Projects the tools may touch, comma-separated: numeric ids (`42`) or
/// paths (`group/name`), paths with globs (`group/*` one level,
/// `group/**` any depth; compared case-insensitively). **Empty or unset
/// means every project the token can see**; set it in any deployment whose
/// token reaches more than the projects the fleet works on.
pub const GITLAB_PROJECTS: &str = "GITLAB_PROJECTS";
/// Hosts (`name` or `name:port`) [`GITLAB_URL`] may point at, and the only
/// hosts a redirect is followed to (default: [`GITLAB_URL`]'s host). A
/// redirect anywhere else is refused, so the token never leaves them.
pub const GITLAB_ALLOWED_HOSTS: &str = "GITLAB_ALLOWED_HOSTS";
/// Allow a plain `http://` [`GITLAB_URL`] on a host other than loopback
/// (default false: the token would cross the network in clear text).
pub const GITLAB_ALLOW_HTTP: &str = "GITLAB_ALLOW_HTTP";
/// Time limit of each request to GitLab, seconds (default 30).
pub const GITLAB_TIMEOUT_SECS: &str = "GITLAB_TIMEOUT_SECS";
/// How many times a request answered `429 Too Many Requests` is retried after
/// the delay GitLab's `Retry-After` names (default 3); then the call fails
/// with the `rate_limited` kind.
pub const GITLAB_MAX_RETRIES: &str = "GITLAB_MAX_RETRIES";
/// The longest `Retry-After` honoured, seconds (default 60); a longer one
/// fails the call at once with the `rate_limited` kind and the delay.
pub const GITLAB_MAX_RETRY_WAIT_SECS: &str = "GITLAB_MAX_RETRY_WAIT_SECS";
/// Bytes of a job log read from GitLab (default 16M); of a longer log the
/// last bytes are kept (where failures are) and the result says so.
pub const GITLAB_MAX_TRACE_BYTES: &str = "GITLAB_MAX_TRACE_BYTES";
/// Largest file `artifact_file` returns (default 4M; the caller may ask for
/// less).
pub const GITLAB_MAX_ARTIFACT_BYTES: &str = "GITLAB_MAX_ARTIFACT_BYTES";
/// Longest `pipeline_wait`, seconds (default 3600).
pub const GITLAB_MAX_WAIT_SECS: &str = "GITLAB_MAX_WAIT_SECS";

/// What the mutating tools may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only reading tools are registered.
    ReadOnly,
    /// Pipelines, jobs, merge requests and notes may be changed.
    Modify,
}

impl Mode {
    /// The text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "read-only",
            Self::Modify => "modify",
        }
    }
}

/// The access token: mcp-core's secret wrapper, whose `Debug` never shows it.
pub type Token = mcp_core::config::Secret;

/// One entry of [`GITLAB_PROJECTS`].
#[derive(Debug, Clone)]
pub enum ProjectRule {
    /// A numeric project id.
    Id(u64),
    /// A path or path glob.
    Path(String, GlobMatcher),
}

impl ProjectRule {
    /// Parse one entry.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().trim_matches('/');
        if let Ok(id) = s.parse::<u64>() {
            return Ok(Self::Id(id));
        }
        if s.is_empty() {
            return Err("empty project entry".into());
        }
        let glob = GlobBuilder::new(s)
            .case_insensitive(true)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("{s:?}: {e}"))?;
        Ok(Self::Path(s.to_owned(), glob.compile_matcher()))
    }

    /// Whether the project with this id and path matches.
    pub fn matches(&self, id: u64, path: &str) -> bool {
        match self {
            Self::Id(i) => *i == id,
            Self::Path(_, g) => g.is_match(path),
        }
    }
}

/// The GitLab connection, when configured.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The instance URL without a trailing slash.
    pub url: String,
    /// The token, when one is set (without one only public projects answer).
    pub token: Option<Token>,
    /// Hosts requests and redirects may go to.
    pub allowed_hosts: Vec<String>,
}

/// The server's settings.
pub struct Config {
    /// The GitLab instance; `None` = not configured.
    pub remote: Option<Remote>,
    /// Read-only or modify.
    pub mode: Mode,
    /// The project allow-list; empty = every project the token sees.
    pub projects: Vec<ProjectRule>,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Retries after 429.
    pub max_retries: u32,
    /// Longest Retry-After honoured.
    pub max_retry_wait: Duration,
    /// Bytes of a job log kept.
    pub max_trace_bytes: usize,
    /// Largest artifact file returned.
    pub max_artifact_bytes: usize,
    /// Longest pipeline_wait.
    pub max_wait: Duration,
    /// The local pipeline runner's settings.
    pub ci: ci::CiConfig,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("remote", &self.remote)
            .field("mode", &self.mode)
            .field("projects", &self.projects)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("max_retry_wait", &self.max_retry_wait)
            .field("max_trace_bytes", &self.max_trace_bytes)
            .field("max_artifact_bytes", &self.max_artifact_bytes)
            .field("max_wait", &self.max_wait)
            .finish_non_exhaustive()
    }
}

/// `host` or `host:port` of a URL, lowercased.
pub fn host_of(url: &reqwest::Url) -> Option<(String, Option<u16>)> {
    Some((url.host_str()?.to_ascii_lowercase(), url.port()))
}

/// Whether `url`'s host is one of `allowed` (`name` matches any port,
/// `name:port` that port only).
pub fn host_allowed(url: &reqwest::Url, allowed: &[String]) -> bool {
    let Some((host, port)) = host_of(url) else { return false };
    let port = port.or_else(|| url.port_or_known_default());
    allowed.iter().any(|a| match a.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() && !a.ends_with(']') => {
            h.eq_ignore_ascii_case(&host) && p.parse::<u16>().ok() == port
        }
        _ => a.eq_ignore_ascii_case(&host),
    })
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let url = r.url(GITLAB_URL).map(|u| u.trim_end_matches('/').to_owned());
        let token = r.secret(GITLAB_TOKEN, GITLAB_TOKEN_FILE).map(Token::new);
        let allow_http = r.bool(GITLAB_ALLOW_HTTP, false);
        let mut allowed_hosts: Vec<String> =
            r.list(GITLAB_ALLOWED_HOSTS).into_iter().map(|h| h.to_ascii_lowercase()).collect();
        let remote = match url {
            None => {
                if token.is_some() {
                    r.error(format!("{GITLAB_TOKEN_FILE} is set but {GITLAB_URL} is not"));
                }
                None
            }
            Some(u) => match reqwest::Url::parse(&u) {
                Err(e) => {
                    r.error(format!("{GITLAB_URL}={u:?}: {e}"));
                    None
                }
                Ok(parsed) => {
                    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
                    if allowed_hosts.is_empty() {
                        allowed_hosts.push(host.clone());
                    }
                    if !host_allowed(&parsed, &allowed_hosts) {
                        r.error(format!("{GITLAB_URL}: host {host} is not in {GITLAB_ALLOWED_HOSTS}"));
                    }
                    let loopback = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "::1");
                    if parsed.scheme() == "http" && !loopback && !allow_http {
                        r.error(format!(
                            "{GITLAB_URL} is plain http:// on {host}: the token would cross the network in clear \
                             text; use https:// or set {GITLAB_ALLOW_HTTP}=true"
                        ));
                    }
                    if !parsed.username().is_empty() || parsed.password().is_some() || parsed.query().is_some() {
                        r.error(format!("{GITLAB_URL} must not carry credentials or a query"));
                    }
                    Some(Remote { url: u, token, allowed_hosts })
                }
            },
        };
        let mode = match r.string(GITLAB_MODE, "read-only").trim().to_ascii_lowercase().as_str() {
            "read-only" | "readonly" | "read_only" => Mode::ReadOnly,
            "modify" => Mode::Modify,
            other => {
                r.error(format!("{GITLAB_MODE}={other:?}: expected read-only or modify"));
                Mode::ReadOnly
            }
        };
        let mut projects = Vec::new();
        for p in r.list(GITLAB_PROJECTS) {
            match ProjectRule::parse(&p) {
                Ok(rule) => projects.push(rule),
                Err(e) => r.error(format!("{GITLAB_PROJECTS}: {e}")),
            }
        }
        let max_retries = r.parse(GITLAB_MAX_RETRIES, 3u32);
        if max_retries > 20 {
            r.error(format!("{GITLAB_MAX_RETRIES}: at most 20"));
        }
        Self {
            remote,
            mode,
            projects,
            timeout: r.secs(GITLAB_TIMEOUT_SECS, Duration::from_secs(30)),
            max_retries: max_retries.min(20),
            max_retry_wait: r.secs(GITLAB_MAX_RETRY_WAIT_SECS, Duration::from_secs(60)),
            max_trace_bytes: r.bytes(GITLAB_MAX_TRACE_BYTES, 16 << 20),
            max_artifact_bytes: r.bytes(GITLAB_MAX_ARTIFACT_BYTES, 4 << 20),
            max_wait: r.secs(GITLAB_MAX_WAIT_SECS, Duration::from_secs(3600)),
            ci: ci::CiConfig::read(r),
        }
    }

    /// Read from `(name, value)` pairs (tests); panics on a configuration
    /// error, naming it.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        let mut r = Reader::new(&map);
        let c = Self::read(&mut r);
        if let Err(e) = r.finish() {
            panic!("configuration: {e}");
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)]) -> Result<Config, String> {
        let map: std::collections::HashMap<&str, &str> = pairs.iter().copied().collect();
        let mut r = Reader::new(&map);
        let c = Config::read(&mut r);
        r.finish().map(|_| c).map_err(|e| e.to_string())
    }

    #[test]
    fn unset_url_is_not_configured_but_valid() {
        let c = check(&[]).unwrap();
        assert!(c.remote.is_none());
        assert_eq!(c.mode, Mode::ReadOnly);
    }

    #[test]
    fn host_must_be_allowed_and_http_only_on_loopback() {
        let e = check(&[(GITLAB_URL, "https://gitlab.example.com"), (GITLAB_ALLOWED_HOSTS, "other.example.com")])
            .unwrap_err();
        assert!(e.contains("not in GITLAB_ALLOWED_HOSTS"), "{e}");
        let e = check(&[(GITLAB_URL, "http://gitlab.example.com")]).unwrap_err();
        assert!(e.contains("clear"), "{e}");
        assert!(check(&[(GITLAB_URL, "http://127.0.0.1:8080")]).is_ok());
        let c = check(&[(GITLAB_URL, "https://gitlab.example.com/")]).unwrap();
        assert_eq!(c.remote.unwrap().allowed_hosts, ["gitlab.example.com"]);
    }

    #[test]
    fn project_rules_match_ids_and_globs() {
        let rules: Vec<_> = ["42", "group/*", "deep/**"].iter().map(|s| ProjectRule::parse(s).unwrap()).collect();
        let any = |id, p: &str| rules.iter().any(|r| r.matches(id, p));
        assert!(any(42, "x/y"));
        assert!(any(1, "Group/App"));
        assert!(!any(1, "group/sub/app"));
        assert!(any(1, "deep/a/b"));
        assert!(!any(1, "other/app"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c =
            check(&[(GITLAB_URL, "https://gitlab.example.com"), (GITLAB_TOKEN, "glpat-secret-value-123456")]).unwrap();
        assert!(!format!("{c:?}").contains("glpat-secret"));
    }
}
