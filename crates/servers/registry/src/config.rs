//! Configuration of `mcp-server-registry`: every variable it reads, fixed for
//! the life of the process.
//!
//! Every registry's base URL is configurable, so the server can point at a
//! private index or mirror (and the tests at their double). A base URL never
//! carries credentials: tokens come from files and are sent only to their
//! own registry's host, so neither a URL with userinfo nor a token ever
//! reaches a result, a log line or an error.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use mcp_core::Reader;

/// Where the cache lives: `sqlite:PATH` (default
/// `sqlite:<REGISTRY_DATA_DIR>/registry.db`) or `postgres://...` (compose).
pub const REGISTRY_DATABASE_URL: &str = "REGISTRY_DATABASE_URL";
/// The data directory of the default SQLite cache (default `./.data/registry`).
pub const REGISTRY_DATA_DIR: &str = "REGISTRY_DATA_DIR";
/// `true`: never touch the network. Every answer comes from the cache and
/// says how old it is (`offline: true`, `age_secs`, `fetched_at`); what the
/// cache does not hold is an `unavailable` error.
pub const REGISTRY_OFFLINE: &str = "REGISTRY_OFFLINE";
/// PyPI (JSON API `/pypi/<name>/json` and Simple API `/simple/<name>/`),
/// default `https://pypi.org`.
pub const REGISTRY_PYPI_URL: &str = "REGISTRY_PYPI_URL";
/// The crates.io sparse index, default `https://index.crates.io`.
pub const REGISTRY_CRATES_INDEX_URL: &str = "REGISTRY_CRATES_INDEX_URL";
/// Where `.crate` files are downloaded from (`<url>/<name>/<name>-<version>.crate`),
/// default `https://static.crates.io/crates`.
pub const REGISTRY_CRATES_DOWNLOAD_URL: &str = "REGISTRY_CRATES_DOWNLOAD_URL";
/// The npm registry, default `https://registry.npmjs.org`.
pub const REGISTRY_NPM_URL: &str = "REGISTRY_NPM_URL";
/// Docker Hub's API (`/v2/namespaces/<ns>/repositories/<repo>/tags`), default `https://hub.docker.com`.
pub const REGISTRY_DOCKERHUB_URL: &str = "REGISTRY_DOCKERHUB_URL";
/// GitHub's REST API, default `https://api.github.com`.
pub const REGISTRY_GITHUB_URL: &str = "REGISTRY_GITHUB_URL";
/// A GitLab instance (`https://gitlab.com`); unset, `latest_release` with
/// `provider: gitlab` says it is not configured.
pub const REGISTRY_GITLAB_URL: &str = "REGISTRY_GITLAB_URL";
/// OSV's API (`POST /v1/query`), default `https://api.osv.dev`.
pub const REGISTRY_OSV_URL: &str = "REGISTRY_OSV_URL";
/// Allow plain `http://` registry URLs on hosts other than loopback
/// (default false: a token would cross the network in clear text).
pub const REGISTRY_ALLOW_HTTP: &str = "REGISTRY_ALLOW_HTTP";
/// Default time a cached answer is fresh, seconds (default 900).
pub const REGISTRY_TTL_SECS: &str = "REGISTRY_TTL_SECS";
/// Per-source freshness, `source=seconds` pairs separated by commas
/// (`pypi=600,osv=3600`); sources: `pypi`, `crates`, `npm`, `dockerhub`,
/// `github`, `gitlab`, `osv`.
pub const REGISTRY_TTLS: &str = "REGISTRY_TTLS";
/// Cached answers older than this are deleted, seconds (default 2592000,
/// 30 days): at start-up and every few hundred stores. Never in offline
/// mode, which lives on what the cache holds.
pub const REGISTRY_CACHE_MAX_AGE_SECS: &str = "REGISTRY_CACHE_MAX_AGE_SECS";
/// Largest registry answer read, bytes (default 16M); a longer one is
/// refused with the `failed` kind, never truncated into a wrong answer.
pub const REGISTRY_MAX_BODY_BYTES: &str = "REGISTRY_MAX_BODY_BYTES";
/// Time limit of each request, seconds (default 20).
pub const REGISTRY_TIMEOUT_SECS: &str = "REGISTRY_TIMEOUT_SECS";
/// The longest `Retry-After` (429 or 503) waited before the one retry,
/// seconds (default 10); a longer one is a `rate_limited` error naming it.
pub const REGISTRY_MAX_RETRY_WAIT_SECS: &str = "REGISTRY_MAX_RETRY_WAIT_SECS";

/// Token variables, per source: `REGISTRY_<X>_TOKEN` inline or
/// `REGISTRY_<X>_TOKEN_FILE` (prefer the file). PyPI and crates tokens of the
/// form `user:password` are sent as HTTP Basic credentials (private indexes),
/// others as `Authorization: Bearer` (GitLab: `PRIVATE-TOKEN`; crates: the
/// raw token, as cargo sends it).
pub const TOKEN_SOURCES: &[(Source, &str, &str)] = &[
    (Source::Pypi, "REGISTRY_PYPI_TOKEN", "REGISTRY_PYPI_TOKEN_FILE"),
    (Source::Crates, "REGISTRY_CRATES_TOKEN", "REGISTRY_CRATES_TOKEN_FILE"),
    (Source::Npm, "REGISTRY_NPM_TOKEN", "REGISTRY_NPM_TOKEN_FILE"),
    (Source::Dockerhub, "REGISTRY_DOCKERHUB_TOKEN", "REGISTRY_DOCKERHUB_TOKEN_FILE"),
    (Source::Github, "REGISTRY_GITHUB_TOKEN", "REGISTRY_GITHUB_TOKEN_FILE"),
    (Source::Gitlab, "REGISTRY_GITLAB_TOKEN", "REGISTRY_GITLAB_TOKEN_FILE"),
];

/// A registry the server talks to (each has a base URL, a TTL and maybe a token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// PyPI's JSON and Simple APIs.
    Pypi,
    /// The crates.io sparse index and its `.crate` downloads.
    Crates,
    /// The npm registry.
    Npm,
    /// Docker Hub's API.
    Dockerhub,
    /// GitHub's REST API.
    Github,
    /// A GitLab instance's REST API.
    Gitlab,
    /// OSV.
    Osv,
}

impl Source {
    /// Every source.
    pub const ALL: &'static [Source] =
        &[Self::Pypi, Self::Crates, Self::Npm, Self::Dockerhub, Self::Github, Self::Gitlab, Self::Osv];

    /// The text form (cache rows, status, TTL configuration).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pypi => "pypi",
            Self::Crates => "crates",
            Self::Npm => "npm",
            Self::Dockerhub => "dockerhub",
            Self::Github => "github",
            Self::Gitlab => "gitlab",
            Self::Osv => "osv",
        }
    }

    /// The source named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// A registry token: mcp-core's secret wrapper, whose `Debug` never shows it.
pub type Token = mcp_core::config::Secret;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The cache database URL.
    pub database_url: String,
    /// Never touch the network.
    pub offline: bool,
    /// PyPI base URL (no trailing slash).
    pub pypi_url: String,
    /// Sparse index base URL.
    pub crates_index_url: String,
    /// `.crate` download base URL.
    pub crates_download_url: String,
    /// npm base URL.
    pub npm_url: String,
    /// Docker Hub base URL.
    pub dockerhub_url: String,
    /// GitHub API base URL.
    pub github_url: String,
    /// GitLab base URL, when configured.
    pub gitlab_url: Option<String>,
    /// OSV base URL.
    pub osv_url: String,
    /// Tokens per source.
    pub tokens: BTreeMap<Source, Token>,
    /// Default freshness.
    pub ttl: Duration,
    /// Freshness per source.
    pub ttls: BTreeMap<Source, Duration>,
    /// Cached answers older than this are deleted.
    pub cache_max_age: Duration,
    /// Largest body read.
    pub max_body_bytes: usize,
    /// Per-request time limit.
    pub timeout: Duration,
    /// Longest `Retry-After` waited.
    pub max_retry_wait: Duration,
}

impl Config {
    /// How long `source`'s answers stay fresh.
    pub fn ttl_of(&self, source: Source) -> Duration {
        self.ttls.get(&source).copied().unwrap_or(self.ttl)
    }

    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let data_dir = PathBuf::from(r.string(REGISTRY_DATA_DIR, "./.data/registry"));
        let default_db = format!("sqlite:{}", data_dir.join("registry.db").display());
        let database_url = r.string(REGISTRY_DATABASE_URL, &default_db);
        let allow_http = r.bool(REGISTRY_ALLOW_HTTP, false);
        let base = |r: &mut Reader<'_>, key: &str, default: &str| -> String {
            let u = r.url(key).unwrap_or_else(|| default.to_owned());
            check_base(r, key, &u, allow_http);
            u.trim_end_matches('/').to_owned()
        };
        let pypi_url = base(r, REGISTRY_PYPI_URL, "https://pypi.org");
        let crates_index_url = base(r, REGISTRY_CRATES_INDEX_URL, "https://index.crates.io");
        let crates_download_url = base(r, REGISTRY_CRATES_DOWNLOAD_URL, "https://static.crates.io/crates");
        let npm_url = base(r, REGISTRY_NPM_URL, "https://registry.npmjs.org");
        let dockerhub_url = base(r, REGISTRY_DOCKERHUB_URL, "https://hub.docker.com");
        let github_url = base(r, REGISTRY_GITHUB_URL, "https://api.github.com");
        let osv_url = base(r, REGISTRY_OSV_URL, "https://api.osv.dev");
        let gitlab_url = r.url(REGISTRY_GITLAB_URL).map(|u| {
            check_base(r, REGISTRY_GITLAB_URL, &u, allow_http);
            u.trim_end_matches('/').to_owned()
        });
        let mut tokens = BTreeMap::new();
        for (source, key, file_key) in TOKEN_SOURCES {
            if let Some(t) = r.secret(key, file_key) {
                if t.chars().any(char::is_control) {
                    r.error(format!("{file_key}: the token contains control characters"));
                } else {
                    tokens.insert(*source, Token::new(t));
                }
            }
        }
        if tokens.contains_key(&Source::Gitlab) && gitlab_url.is_none() {
            r.error(format!("a GitLab token is set but {REGISTRY_GITLAB_URL} is not"));
        }
        let mut ttls = BTreeMap::new();
        for pair in r.list(REGISTRY_TTLS) {
            let parsed = pair.split_once('=').and_then(|(s, v)| {
                Some((Source::parse(s.trim())?, v.trim().parse::<u64>().ok().filter(|n| *n < 10_000_000)?))
            });
            match parsed {
                Some((s, secs)) => {
                    ttls.insert(s, Duration::from_secs(secs));
                }
                None => r.error(format!("{REGISTRY_TTLS}: {pair:?} is not source=seconds")),
            }
        }
        Self {
            database_url,
            offline: r.bool(REGISTRY_OFFLINE, false),
            pypi_url,
            crates_index_url,
            crates_download_url,
            npm_url,
            dockerhub_url,
            github_url,
            gitlab_url,
            osv_url,
            tokens,
            ttl: r.secs(REGISTRY_TTL_SECS, Duration::from_secs(900)),
            ttls,
            cache_max_age: r.secs(REGISTRY_CACHE_MAX_AGE_SECS, Duration::from_secs(30 * 24 * 3600)),
            max_body_bytes: r.bytes(REGISTRY_MAX_BODY_BYTES, 16 << 20),
            timeout: r.secs(REGISTRY_TIMEOUT_SECS, Duration::from_secs(20)),
            max_retry_wait: r.secs(REGISTRY_MAX_RETRY_WAIT_SECS, Duration::from_secs(10)),
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

/// Refuse base URLs that carry credentials, a query or a fragment (they
/// would be echoed in cache keys and results), and clear-text HTTP off
/// loopback unless allowed.
fn check_base(r: &mut Reader<'_>, key: &str, u: &str, allow_http: bool) {
    match reqwest::Url::parse(u) {
        Err(e) => r.error(format!("{key}: {e}")),
        Ok(p) => {
            if !p.username().is_empty() || p.password().is_some() {
                // The URL itself is not repeated: it holds a credential.
                r.error(format!("{key} must not carry credentials: put the token in the matching _TOKEN_FILE"));
            }
            if p.query().is_some() || p.fragment().is_some() {
                r.error(format!("{key} must not carry a query or fragment"));
            }
            let host = p.host_str().unwrap_or_default();
            let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1");
            if p.scheme() == "http" && !loopback && !allow_http {
                r.error(format!("{key} is plain http:// on {host}: use https:// or set {REGISTRY_ALLOW_HTTP}=true"));
            }
        }
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
    fn defaults_are_the_public_registries() {
        let c = check(&[]).unwrap();
        assert_eq!(c.pypi_url, "https://pypi.org");
        assert_eq!(c.crates_index_url, "https://index.crates.io");
        assert!(c.gitlab_url.is_none());
        assert!(!c.offline);
        assert!(c.database_url.starts_with("sqlite:"));
    }

    #[test]
    fn credentials_in_urls_are_refused_without_echoing_them() {
        let e = check(&[(REGISTRY_PYPI_URL, "https://user:s3cret@pypi.example.com")]).unwrap_err();
        assert!(e.contains("credentials"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        let e = check(&[(REGISTRY_NPM_URL, "http://npm.example.com")]).unwrap_err();
        assert!(e.contains("http://"), "{e}");
        assert!(check(&[(REGISTRY_NPM_URL, "http://127.0.0.1:9")]).is_ok());
    }

    #[test]
    fn ttls_parse_per_source() {
        let c = check(&[(REGISTRY_TTLS, "pypi=5, osv=7")]).unwrap();
        assert_eq!(c.ttl_of(Source::Pypi), Duration::from_secs(5));
        assert_eq!(c.ttl_of(Source::Osv), Duration::from_secs(7));
        assert_eq!(c.ttl_of(Source::Npm), Duration::from_secs(900));
        assert!(check(&[(REGISTRY_TTLS, "nope=5")]).is_err());
    }

    #[test]
    fn debug_never_shows_a_token() {
        let c = check(&[("REGISTRY_GITHUB_TOKEN", "ghp_supersecret")]).unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
