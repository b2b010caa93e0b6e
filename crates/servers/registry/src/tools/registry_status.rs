//! `registry_status`: the cache, the counters, recent failures, the offline flag.

use mcp_core::prelude::*;

use crate::Registry;
use crate::config::Source;
use crate::fetch::{LastError, Stats};

/// Arguments (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// Cache rows of one source.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SourceCache {
    /// The source.
    pub source: String,
    /// Cached answers.
    pub entries: i64,
    /// Age of the oldest, seconds.
    pub oldest_age_secs: u64,
    /// Fresh for this many seconds after fetching.
    pub ttl_secs: u64,
}

/// One configured registry (its host only: never a credential).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Endpoint {
    /// The source.
    pub source: String,
    /// The host asked.
    pub host: Option<String>,
    /// A token is configured (never shown).
    pub token: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Offline mode: answers come from the cache only.
    pub offline: bool,
    /// The cache database backend (`Sqlite`, `Postgres`).
    pub database: String,
    /// Cache rows per source.
    pub cache: Vec<SourceCache>,
    /// Counters since start.
    pub stats: Stats,
    /// Recent failures, newest first.
    pub last_errors: Vec<LastError>,
    /// Configured registries.
    pub endpoints: Vec<Endpoint>,
}

/// The tool.
pub fn tool() -> Tool<Registry> {
    Tool::new(
        "registry_status",
        "Show the registry server's state: offline mode, cache entries and ages per registry, cache hits and misses, \
         rate limits met, recent failures, and which registries are configured (hosts only).",
        Annotations::read_only(),
        run,
    )
    .title("Registry status")
}

fn host(url: &str) -> Option<String> {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned))
}

async fn run(r: Arc<Registry>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let c = r.fetch.config();
    let now = mcp_core::clock::now_ms();
    let cache = r
        .fetch
        .cache_rows()
        .await?
        .into_iter()
        .map(|(source, entries, oldest)| SourceCache {
            ttl_secs: Source::parse(&source).map(|s| c.ttl_of(s).as_secs()).unwrap_or(c.ttl.as_secs()),
            source,
            entries,
            oldest_age_secs: (now.saturating_sub(oldest).max(0) / 1000) as u64,
        })
        .collect();
    let endpoints = Source::ALL
        .iter()
        .map(|s| {
            let url = match s {
                Source::Pypi => Some(c.pypi_url.as_str()),
                Source::Crates => Some(c.crates_index_url.as_str()),
                Source::Npm => Some(c.npm_url.as_str()),
                Source::Dockerhub => Some(c.dockerhub_url.as_str()),
                Source::Github => Some(c.github_url.as_str()),
                Source::Gitlab => c.gitlab_url.as_deref(),
                Source::Osv => Some(c.osv_url.as_str()),
            };
            Endpoint { source: s.as_str().to_owned(), host: url.and_then(host), token: c.tokens.contains_key(s) }
        })
        .collect();
    Ok(Out::new(Output {
        offline: c.offline,
        database: format!("{:?}", r.fetch.db().backend()),
        cache,
        stats: r.fetch.stats(),
        last_errors: r.fetch.last_errors(),
        endpoints,
    }))
}
