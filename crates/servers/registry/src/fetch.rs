//! Every request to a registry goes through here: the cache in the database,
//! conditional requests, rate limits, caps, and the offline mode.
//!
//! - **Cache**: one row per request key (the URL; for OSV's POST queries the
//!   URL and the body). A row younger than its source's TTL is the answer; an
//!   older one is revalidated with `If-None-Match` / `If-Modified-Since`
//!   when the registry gave validators, and a `304` only refreshes its time.
//!   `404` answers are cached too, so "no such package" is fast and known
//!   offline.
//! - **Offline** (`REGISTRY_OFFLINE=true`): the network is never touched;
//!   a row of any age is the answer and says how old it is, a miss is an
//!   `unavailable` error.
//! - **Stale if error**: when a registry cannot be reached and an expired
//!   row exists, the row is the answer, marked `stale`.
//! - **Rate limits**: `429` or `503` with `Retry-After` is waited out and
//!   retried once when the delay is at most `REGISTRY_MAX_RETRY_WAIT_SECS`;
//!   otherwise the call fails with `rate_limited` saying when to retry.
//! - **Limits**: bodies above `REGISTRY_MAX_BODY_BYTES` are refused (never
//!   cut into a wrong answer), redirects are followed only on the same host,
//!   and a token is sent only to its own registry's host.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_core::ToolError;
use mcp_core::db::Db;
use mcp_core::db::sqlx::{self, Row};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, HeaderValue};
use schemars::JsonSchema;
use serde::Serialize;

use crate::config::{Config, Source};

/// How many recent failures `registry_status` shows.
const LAST_ERRORS: usize = 20;
/// Old rows are pruned after this many stores.
const PRUNE_EVERY: u64 = 500;

/// How old an answer is and where it came from. Every result carries one.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Freshness {
    /// When the registry last gave (or confirmed) this answer (RFC 3339).
    pub fetched_at: String,
    /// Seconds since then.
    pub age_secs: u64,
    /// Answered from the cache without asking the registry.
    pub from_cache: bool,
    /// The server runs offline: nothing was asked, the cache answered.
    pub offline: bool,
    /// The registry could not be reached and an expired cached answer was used.
    pub stale: bool,
}

impl Freshness {
    /// The older of two (a result built from several answers is as old as its oldest part).
    pub fn merge(self, other: Freshness) -> Freshness {
        let mut older = if other.age_secs > self.age_secs { other.clone() } else { self.clone() };
        older.from_cache = self.from_cache && other.from_cache;
        older.offline = self.offline || other.offline;
        older.stale = self.stale || other.stale;
        older
    }
}

/// One registry answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status: 200, or 404 for "not there".
    pub status: u16,
    /// The body text.
    pub body: String,
    /// Its age and origin.
    pub freshness: Freshness,
}

impl Answer {
    /// Whether the registry said the thing does not exist.
    pub fn not_found(&self) -> bool {
        self.status == 404
    }
}

/// A request.
#[derive(Debug, Clone)]
pub struct Req<'a> {
    /// Which registry.
    pub source: Source,
    /// The full URL.
    pub url: String,
    /// The `Accept` header.
    pub accept: Option<&'static str>,
    /// A JSON body: the request is a POST (OSV).
    pub post: Option<String>,
    /// What is asked for, for messages ("PyPI project requests").
    pub what: &'a str,
}

impl<'a> Req<'a> {
    /// A GET of `url`.
    pub fn get(source: Source, url: String, what: &'a str) -> Self {
        Self { source, url, accept: Some("application/json"), post: None, what }
    }

    /// With this `Accept` header.
    pub fn accept(mut self, a: &'static str) -> Self {
        self.accept = Some(a);
        self
    }

    fn key(&self) -> String {
        match &self.post {
            Some(b) => format!("POST {} {b}", self.url),
            None => self.url.clone(),
        }
    }
}

/// Counters for `registry_status`.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Stats {
    /// Answered from a fresh cache row.
    pub cache_hits: u64,
    /// Asked the registry with no usable row.
    pub cache_misses: u64,
    /// Revalidations the registry answered `304 Not Modified`.
    pub revalidated: u64,
    /// Answers taken from an expired row because the registry failed.
    pub stale_answers: u64,
    /// Requests sent to registries.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Rate-limit answers (429/503) received.
    pub rate_limited: u64,
    /// Cache rows deleted for being older than `REGISTRY_CACHE_MAX_AGE_SECS`.
    pub pruned: u64,
}

/// One recent failure.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LastError {
    /// When (RFC 3339).
    pub at: String,
    /// Which registry.
    pub source: String,
    /// The error kind.
    pub kind: String,
    /// What happened (no URL credentials, no tokens: neither can be in a request URL).
    pub message: String,
}

/// The fetcher: HTTP client, cache, counters.
pub struct Fetcher {
    http: reqwest::Client,
    db: Db,
    config: Config,
    stats: Mutex<Stats>,
    errors: Mutex<VecDeque<LastError>>,
    stores: AtomicU64,
}

fn db_err(e: sqlx::Error) -> ToolError {
    ToolError::internal(e)
}

/// The scheme, host (lowercased) and port of a URL: where a token may go
/// (`None` for a URL without a host).
fn host(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = reqwest::Url::parse(url).ok()?;
    Some((u.scheme().to_owned(), u.host_str()?.to_ascii_lowercase(), u.port_or_known_default()))
}

/// `Retry-After` as a delay: seconds, or an HTTP date. Unreadable → `None`.
pub fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let v = h.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (when - time::OffsetDateTime::now_utc()).whole_seconds();
    Some(Duration::from_secs(secs.max(0) as u64))
}

impl Fetcher {
    /// A fetcher over `db` with `config`'s URLs, tokens and limits.
    pub fn new(config: Config, db: Db) -> Result<Self, String> {
        mcp_core::install_crypto_provider();
        // Same-host redirects only: a registry that moves a path within its
        // own host is followed; one that sends us elsewhere is not, so a
        // token never follows a redirect and a hostile index cannot point
        // the server at arbitrary hosts.
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let same = attempt.previous().first().map(|u| (u.scheme(), u.host_str(), u.port_or_known_default()))
                == Some((attempt.url().scheme(), attempt.url().host_str(), attempt.url().port_or_known_default()));
            if attempt.previous().len() >= 5 {
                attempt.error("too many redirects")
            } else if same {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = reqwest::Client::builder()
            .redirect(policy)
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10).min(config.timeout))
            .user_agent(concat!("mcp-fleet-registry/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            http,
            db,
            config,
            stats: Mutex::new(Stats::default()),
            errors: Mutex::new(VecDeque::new()),
            stores: AtomicU64::new(0),
        })
    }

    /// Delete rows older than `REGISTRY_CACHE_MAX_AGE_SECS` (never offline:
    /// the cache is then all there is). Returns how many went.
    pub async fn prune(&self) -> Result<u64, ToolError> {
        if self.config.offline {
            return Ok(0);
        }
        let cutoff = mcp_core::clock::now_ms().saturating_sub(self.config.cache_max_age.as_millis() as i64);
        let done = self
            .db
            .query("DELETE FROM registry_cache WHERE fetched_ms < $1")
            .bind(cutoff)
            .execute(self.db.writer())
            .await
            .map_err(db_err)?
            .rows_affected();
        self.count(|s| s.pruned += done);
        Ok(done)
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The recent failures, newest first.
    pub fn last_errors(&self) -> Vec<LastError> {
        self.errors.lock().map(|e| e.iter().rev().cloned().collect()).unwrap_or_default()
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(&mut s);
        }
    }

    fn note_error(&self, source: Source, e: &ToolError) {
        self.count(|s| s.errors += 1);
        if let Ok(mut q) = self.errors.lock() {
            if q.len() >= LAST_ERRORS {
                q.pop_front();
            }
            q.push_back(LastError {
                at: mcp_core::clock::now_rfc3339_secs(),
                source: source.as_str().to_owned(),
                kind: e.kind().as_str().to_owned(),
                message: e.to_string(),
            });
        }
    }

    /// The registry's answer to `req`, from the cache when fresh.
    pub async fn get(&self, req: &Req<'_>) -> Result<Answer, ToolError> {
        let key = req.key();
        let row = self.load(&key).await?;
        let now = mcp_core::clock::now_ms();
        let fresh = |fetched_ms: i64, from_cache: bool, offline: bool, stale: bool| Freshness {
            fetched_at: mcp_core::clock::rfc3339_ms(fetched_ms),
            age_secs: (now.saturating_sub(fetched_ms).max(0) / 1000) as u64,
            from_cache,
            offline,
            stale,
        };
        if self.config.offline {
            return match row {
                Some(r) => {
                    self.count(|s| s.cache_hits += 1);
                    Ok(Answer { status: r.status, body: r.body, freshness: fresh(r.fetched_ms, true, true, false) })
                }
                None => Err(ToolError::unavailable(format!(
                    "the server runs offline (REGISTRY_OFFLINE) and its cache holds no answer for {}; ask again \
                     when it runs online, or use what the cache has",
                    req.what
                ))),
            };
        }
        let ttl = self.config.ttl_of(req.source).as_millis() as i64;
        if let Some(r) = &row
            && now.saturating_sub(r.fetched_ms) < ttl
        {
            self.count(|s| s.cache_hits += 1);
            return Ok(Answer {
                status: r.status,
                body: r.body.clone(),
                freshness: fresh(r.fetched_ms, true, false, false),
            });
        }
        if row.is_none() {
            self.count(|s| s.cache_misses += 1);
        }
        match self.fetch(req, row.as_ref()).await {
            Ok(Fetched::NotModified) => {
                let Some(r) = row else {
                    return Err(ToolError::failed("the registry answered 304 to a plain request"));
                };
                self.count(|s| s.revalidated += 1);
                self.touch(&key, now).await?;
                Ok(Answer { status: r.status, body: r.body, freshness: fresh(now, false, false, false) })
            }
            Ok(Fetched::Body { status, body, etag, last_modified }) => {
                self.store(&key, req.source, status, &body, etag.as_deref(), last_modified.as_deref(), now).await?;
                Ok(Answer { status, body, freshness: fresh(now, false, false, false) })
            }
            Err(e) => {
                self.note_error(req.source, &e);
                // Stale if error: an old answer that says how old it is beats
                // none when the registry is down; a rate limit is not an
                // outage and is reported as such.
                match row {
                    Some(r) if matches!(e, ToolError::Unavailable(_) | ToolError::Timeout(_)) => {
                        self.count(|s| s.stale_answers += 1);
                        Ok(Answer { status: r.status, body: r.body, freshness: fresh(r.fetched_ms, true, false, true) })
                    }
                    _ => Err(e),
                }
            }
        }
    }

    /// The bytes at `url` (a `.crate`), not cached (the caller caches what it
    /// reads out of them), at most `max` bytes.
    pub async fn bytes(&self, source: Source, url: &str, max: usize, what: &str) -> Result<Vec<u8>, ToolError> {
        if self.config.offline {
            return Err(ToolError::unavailable(format!(
                "the server runs offline (REGISTRY_OFFLINE) and {what} is not cached"
            )));
        }
        let req = Req { source, url: url.to_owned(), accept: None, post: None, what };
        let resp = match self.send(&req, None).await {
            Ok(r) => r,
            Err(e) => {
                self.note_error(source, &e);
                return Err(e);
            }
        };
        if resp.status() == StatusCode::NOT_FOUND {
            return Err(ToolError::not_found(format!("{what} does not exist")));
        }
        match read_capped(resp, max).await {
            Ok(b) => Ok(b),
            Err(e) => {
                let e = e.into_tool(what);
                self.note_error(source, &e);
                Err(e)
            }
        }
    }

    /// Store a derived answer under `key` (what a `.crate` held).
    pub async fn put(&self, key: &str, source: Source, body: &str) -> Result<Freshness, ToolError> {
        let now = mcp_core::clock::now_ms();
        self.store(key, source, 200, body, None, None, now).await?;
        Ok(Freshness {
            fetched_at: mcp_core::clock::rfc3339_ms(now),
            age_secs: 0,
            from_cache: false,
            offline: false,
            stale: false,
        })
    }

    /// A stored answer under `key` of any age, with its freshness (for
    /// derived answers, which never change for one version).
    pub async fn cached(&self, key: &str) -> Result<Option<(String, Freshness)>, ToolError> {
        let now = mcp_core::clock::now_ms();
        Ok(self.load(key).await?.map(|r| {
            (
                r.body,
                Freshness {
                    fetched_at: mcp_core::clock::rfc3339_ms(r.fetched_ms),
                    age_secs: (now.saturating_sub(r.fetched_ms).max(0) / 1000) as u64,
                    from_cache: true,
                    offline: self.config.offline,
                    stale: false,
                },
            )
        }))
    }

    /// Cache rows per source: `(source, rows, oldest fetched_ms)`.
    pub async fn cache_rows(&self) -> Result<Vec<(String, i64, i64)>, ToolError> {
        let rows = self
            .db
            .query("SELECT source, COUNT(*) AS n, MIN(fetched_ms) AS oldest FROM registry_cache GROUP BY source ORDER BY source")
            .fetch_all(self.db.reader())
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("source").map_err(db_err)?,
                    r.try_get("n").map_err(db_err)?,
                    r.try_get("oldest").map_err(db_err)?,
                ))
            })
            .collect()
    }

    async fn load(&self, key: &str) -> Result<Option<Row0>, ToolError> {
        let row = self
            .db
            .query("SELECT status, body, etag, last_modified, fetched_ms FROM registry_cache WHERE cache_key = $1")
            .bind(key.to_owned())
            .fetch_optional(self.db.reader())
            .await
            .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let status: i64 = r.try_get("status").map_err(db_err)?;
        Ok(Some(Row0 {
            status: u16::try_from(status).unwrap_or(200),
            body: r.try_get("body").map_err(db_err)?,
            etag: r.try_get("etag").map_err(db_err)?,
            last_modified: r.try_get("last_modified").map_err(db_err)?,
            fetched_ms: r.try_get("fetched_ms").map_err(db_err)?,
        }))
    }

    #[allow(clippy::too_many_arguments)]
    async fn store(
        &self,
        key: &str,
        source: Source,
        status: u16,
        body: &str,
        etag: Option<&str>,
        last_modified: Option<&str>,
        now: i64,
    ) -> Result<(), ToolError> {
        self.db
            .query(
                "INSERT INTO registry_cache (cache_key, source, status, body, etag, last_modified, fetched_ms, fetched_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (cache_key) DO UPDATE SET source = excluded.source, status = excluded.status, \
                 body = excluded.body, etag = excluded.etag, last_modified = excluded.last_modified, \
                 fetched_ms = excluded.fetched_ms, fetched_at = excluded.fetched_at",
            )
            .bind(key.to_owned())
            .bind(source.as_str())
            .bind(i64::from(status))
            .bind(body.to_owned())
            .bind(etag.map(str::to_owned))
            .bind(last_modified.map(str::to_owned))
            .bind(now)
            .bind(mcp_core::clock::rfc3339_ms(now))
            .execute(self.db.writer())
            .await
            .map_err(db_err)?;
        if self.stores.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1
            && let Err(e) = self.prune().await
        {
            mcp_core::tracing::warn!(error = %e, "pruning the registry cache failed");
        }
        Ok(())
    }

    async fn touch(&self, key: &str, now: i64) -> Result<(), ToolError> {
        self.db
            .query("UPDATE registry_cache SET fetched_ms = $1, fetched_at = $2 WHERE cache_key = $3")
            .bind(now)
            .bind(mcp_core::clock::rfc3339_ms(now))
            .bind(key.to_owned())
            .execute(self.db.writer())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// The base URL and token of `source`.
    fn base_of(&self, source: Source) -> Option<&str> {
        let c = &self.config;
        Some(match source {
            Source::Pypi => &c.pypi_url,
            Source::Crates => &c.crates_index_url,
            Source::Npm => &c.npm_url,
            Source::Dockerhub => &c.dockerhub_url,
            Source::Github => &c.github_url,
            Source::Gitlab => c.gitlab_url.as_deref()?,
            Source::Osv => &c.osv_url,
        })
    }

    /// The authentication header for `source`, when a token is configured
    /// and `url` lies under that source's own base URL (or, for crates, the
    /// download URL): a prefix match on the whole base, so a token never
    /// reaches another registry even on a shared host.
    fn auth(&self, source: Source, url: &str) -> Option<(&'static str, HeaderValue)> {
        let token = self.config.tokens.get(&source)?;
        let under = |base: &str| url.starts_with(&format!("{base}/")) && host(url) == host(base);
        let own = self.base_of(source).is_some_and(under);
        let download = source == Source::Crates && under(&self.config.crates_download_url);
        if !own && !download {
            return None;
        }
        let t = token.expose();
        use base64::Engine as _;
        let value = match source {
            Source::Gitlab => {
                return HeaderValue::from_str(t).ok().map(|mut v| {
                    v.set_sensitive(true);
                    ("private-token", v)
                });
            }
            Source::Pypi | Source::Crates if t.contains(':') => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(t))
            }
            Source::Crates => t.to_owned(),
            _ => format!("Bearer {t}"),
        };
        let mut v = HeaderValue::from_str(&value).ok()?;
        v.set_sensitive(true);
        Some(("authorization", v))
    }

    /// Send once, and once more after a short `Retry-After`.
    async fn send(&self, req: &Req<'_>, validators: Option<&Row0>) -> Result<reqwest::Response, ToolError> {
        let name = req.source.as_str();
        let url = reqwest::Url::parse(&req.url).map_err(|e| ToolError::invalid(format!("not a usable URL: {e}")))?;
        let shown_host = url.host_str().unwrap_or_default().to_owned();
        let mut retried = false;
        loop {
            let mut rb = match &req.post {
                Some(b) => self.http.post(url.clone()).header("content-type", "application/json").body(b.clone()),
                None => self.http.get(url.clone()),
            };
            if let Some(a) = req.accept {
                rb = rb.header("accept", a);
            }
            if let Some((h, v)) = self.auth(req.source, &req.url) {
                rb = rb.header(h, v);
            }
            if let Some(r) = validators {
                if let Some(e) = &r.etag {
                    rb = rb.header("if-none-match", e.as_str());
                }
                if let Some(lm) = &r.last_modified {
                    rb = rb.header("if-modified-since", lm.as_str());
                }
            }
            self.count(|s| s.requests += 1);
            let resp = rb.send().await.map_err(|e| {
                let e = e.without_url();
                if e.is_timeout() {
                    ToolError::timeout(format!("{name} at {shown_host} did not answer in time ({})", req.what))
                } else {
                    ToolError::unavailable(format!("{name} at {shown_host} cannot be reached ({}): {e}", req.what))
                }
            })?;
            let status = resp.status();
            if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
                self.count(|s| s.rate_limited += 1);
                let wait = retry_after(resp.headers());
                match wait {
                    Some(w) if !retried && w <= self.config.max_retry_wait => {
                        retried = true;
                        mcp_core::tracing::info!(
                            source = name,
                            wait_ms = w.as_millis() as u64,
                            "registry asks to wait; retrying once"
                        );
                        tokio::time::sleep(w).await;
                        continue;
                    }
                    Some(w) => {
                        return Err(ToolError::RateLimited(format!(
                            "{name} at {shown_host} is rate limiting this server ({}){}; call again after about {} s",
                            status.as_u16(),
                            if retried { " after one retry" } else { "" },
                            w.as_secs().max(1)
                        )));
                    }
                    None if status == StatusCode::TOO_MANY_REQUESTS => {
                        return Err(ToolError::RateLimited(format!(
                            "{name} at {shown_host} is rate limiting this server (429, no Retry-After); call again later"
                        )));
                    }
                    None => {
                        return Err(ToolError::unavailable(format!(
                            "{name} at {shown_host} is unavailable (503) for {}",
                            req.what
                        )));
                    }
                }
            }
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let to = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| "another host".into());
                return Err(ToolError::denied(format!(
                    "{name} at {shown_host} redirected the request for {} to {to}; redirects to other hosts are not \
                     followed",
                    req.what
                )));
            }
            return Ok(resp);
        }
    }

    async fn fetch(&self, req: &Req<'_>, row: Option<&Row0>) -> Result<Fetched, ToolError> {
        let resp = self.send(req, row).await?;
        let status = resp.status();
        let name = req.source.as_str();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(Fetched::Body { status: 404, body: String::new(), etag: None, last_modified: None });
        }
        if !status.is_success() {
            let kind = if status.is_server_error() {
                ToolError::unavailable(format!("{name} answered {} for {}", status.as_u16(), req.what))
            } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                ToolError::denied(format!(
                    "{name} refused the request for {} ({}): a token may be missing or lack access",
                    req.what,
                    status.as_u16()
                ))
            } else {
                ToolError::failed(format!("{name} answered {} for {}", status.as_u16(), req.what))
            };
            return Err(kind);
        }
        let header =
            |h: &str| resp.headers().get(h).and_then(|v| v.to_str().ok()).filter(|v| v.len() <= 512).map(str::to_owned);
        let etag = header("etag");
        let last_modified = header("last-modified");
        let bytes = read_capped(resp, self.config.max_body_bytes).await.map_err(|e| e.into_tool(req.what))?;
        let body = String::from_utf8(bytes)
            .map_err(|_| ToolError::failed(format!("{name}'s answer for {} is not UTF-8 text", req.what)))?;
        Ok(Fetched::Body { status: 200, body, etag, last_modified })
    }
}

/// A cache row.
struct Row0 {
    status: u16,
    body: String,
    etag: Option<String>,
    last_modified: Option<String>,
    fetched_ms: i64,
}

enum Fetched {
    NotModified,
    Body { status: u16, body: String, etag: Option<String>, last_modified: Option<String> },
}

/// Why a body was not read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// Longer than the cap.
    #[error("larger than {0} bytes")]
    TooLarge(usize),
    /// The connection failed mid-body.
    #[error("{0}")]
    Read(String),
}

impl BodyError {
    fn into_tool(self, what: &str) -> ToolError {
        match self {
            Self::TooLarge(n) => ToolError::failed(format!(
                "the registry's answer for {what} is larger than {n} bytes (REGISTRY_MAX_BODY_BYTES); refused"
            )),
            Self::Read(e) => ToolError::unavailable(format!("reading the answer for {what} failed: {e}")),
        }
    }
}

/// Read a body, refusing it once it passes `max` bytes (before reading when
/// `Content-Length` says so).
pub async fn read_capped(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge(max));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| BodyError::Read(e.without_url().to_string()))? {
        if out.len() + chunk.len() > max {
            return Err(BodyError::TooLarge(max));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: &str) -> Option<Duration> {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_str(v).unwrap());
        retry_after(&h)
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(check("7"), Some(Duration::from_secs(7)));
        assert_eq!(check("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO), "a past date means now");
        let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(120);
        let text = future.format(&time::format_description::well_known::Rfc2822).unwrap();
        let d = check(&text).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
        assert_eq!(check("soon"), None);
        assert_eq!(check("-5"), None);
    }

    #[test]
    fn freshness_merges_to_the_oldest() {
        let f = |age, from_cache, stale| Freshness {
            fetched_at: format!("t{age}"),
            age_secs: age,
            from_cache,
            offline: false,
            stale,
        };
        let m = f(5, true, false).merge(f(50, false, true));
        assert_eq!(m.age_secs, 50);
        assert_eq!(m.fetched_at, "t50");
        assert!(!m.from_cache);
        assert!(m.stale);
    }
}
