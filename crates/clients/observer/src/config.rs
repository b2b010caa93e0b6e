//! Configuration of `mcp-client-observer`: every variable it reads.
//!
//! The shared variables (`MCP_AUTH_TOKEN`, `MCP_LISTEN_ADDR`, ...) are read by
//! `mcp-core`. The ingest endpoint `POST /v1/traces` sits behind the same
//! bearer token as `/mcp`: fleet programs send their peer token
//! (`MCP_PEER_TOKEN`, default their own `MCP_AUTH_TOKEN`) to the OTLP
//! endpoint; other exporters use the standard
//! `OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer <token>`. Calls to the sql
//! server use the same peer token.

use std::fmt;
use std::time::Duration;

use mcp_core::Reader;

/// Where spans are stored: `sqlite:PATH` (default `sqlite:./.data/observer/observer.db`) or `postgres://...`
/// (compose: the fleet's one database, which the Grafana dashboards read).
pub const OBSERVER_DATABASE_URL: &str = "OBSERVER_DATABASE_URL";
/// Days spans are kept (default 14); older ones are deleted hourly. `0` keeps everything.
pub const OBSERVER_RETENTION_DAYS: &str = "OBSERVER_RETENTION_DAYS";
/// Largest OTLP request body accepted on `/v1/traces`, in bytes (default 8M); larger ones get 413.
pub const OBSERVER_MAX_INGEST_BYTES: &str = "OBSERVER_MAX_INGEST_BYTES";
/// Most spans one OTLP request may carry (default 10000); more gets 413 and the exporter should send smaller
/// batches (the OpenTelemetry SDKs send at most 512 by default).
pub const OBSERVER_MAX_SPANS_PER_BATCH: &str = "OBSERVER_MAX_SPANS_PER_BATCH";
/// Most spans one trace query returns (default 2000); a longer trace is cut, earliest spans kept, and says so.
pub const OBSERVER_MAX_TRACE_SPANS: &str = "OBSERVER_MAX_TRACE_SPANS";

/// The observer's settings.
#[derive(Clone)]
pub struct Config {
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// How long spans are kept; `None` keeps them forever.
    pub retention: Option<Duration>,
    /// Ingest body limit.
    pub max_ingest_bytes: usize,
    /// Spans per ingest request.
    pub max_spans_per_batch: usize,
    /// Spans per trace answer.
    pub max_trace_spans: usize,
    /// The sql server's `/mcp` URL (its token is the shared `MCP_PEER_TOKEN`).
    pub sql_url: String,
}

impl fmt::Debug for Config {
    // Hand-written so a database password never reaches a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &mcp_core::db::redact_url(&self.database_url))
            .field("retention", &self.retention)
            .field("max_ingest_bytes", &self.max_ingest_bytes)
            .field("max_spans_per_batch", &self.max_spans_per_batch)
            .field("max_trace_spans", &self.max_trace_spans)
            .field("sql_url", &self.sql_url)
            .finish()
    }
}

impl Config {
    /// Read from the environment (or a test map), collecting every problem.
    pub fn read(r: &mut Reader<'_>) -> Self {
        let database_url = r.string(OBSERVER_DATABASE_URL, "sqlite:./.data/observer/observer.db");
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            r.error(format!(
                "{OBSERVER_DATABASE_URL}={:?}: expected sqlite:PATH or postgres://...",
                mcp_core::db::redact_url(&database_url)
            ));
        }
        let days = r.parse(OBSERVER_RETENTION_DAYS, 14u64);
        if days > 36_500 {
            r.error(format!("{OBSERVER_RETENTION_DAYS}={days}: at most 36500"));
        }
        let retention = (days > 0).then(|| Duration::from_secs(days.min(36_500) * 86_400));
        let max_spans_per_batch = r.parse(OBSERVER_MAX_SPANS_PER_BATCH, 10_000usize);
        if max_spans_per_batch == 0 {
            r.error(format!("{OBSERVER_MAX_SPANS_PER_BATCH} must be at least 1"));
        }
        let max_trace_spans = r.parse(OBSERVER_MAX_TRACE_SPANS, 2_000usize);
        if max_trace_spans == 0 {
            r.error(format!("{OBSERVER_MAX_TRACE_SPANS} must be at least 1"));
        }
        // The sql server, for the decisions and messages of `project_audit`.
        let sql_url = r.peer_url("mcp-server-sql");
        Self {
            database_url,
            retention,
            max_ingest_bytes: r.bytes(OBSERVER_MAX_INGEST_BYTES, 8 << 20),
            max_spans_per_batch,
            max_trace_spans,
            sql_url,
        }
    }

    /// Settings for tests: this database, defaults otherwise, the sql server at `sql_url`.
    pub fn for_url(database_url: &str, sql_url: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            retention: Some(Duration::from_secs(14 * 86_400)),
            max_ingest_bytes: 8 << 20,
            max_spans_per_batch: 10_000,
            max_trace_spans: 2_000,
            sql_url: sql_url.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(env: &[(&str, &str)]) -> Result<Config, mcp_core::ConfigErrors> {
        mcp_core::config::read_vars(env, Config::read)
    }

    #[test]
    fn defaults() {
        let c = read(&[]).unwrap();
        assert_eq!(c.database_url, "sqlite:./.data/observer/observer.db");
        assert_eq!(c.retention, Some(Duration::from_secs(14 * 86_400)));
        assert_eq!(c.sql_url, "http://mcp-server-sql:8080/mcp");
    }

    #[test]
    fn every_problem_at_once_and_no_secret_in_debug() {
        let err = read(&[
            (OBSERVER_DATABASE_URL, "mysql://x"),
            (OBSERVER_RETENTION_DAYS, "soon"),
            (OBSERVER_MAX_SPANS_PER_BATCH, "0"),
            ("MCP_SERVER_SQL_URL", "ftp://x"),
        ])
        .unwrap_err();
        assert_eq!(err.0.len(), 4, "{err}");
        let c =
            read(&[(OBSERVER_DATABASE_URL, "postgres://u:pw-secret@db/x"), (OBSERVER_RETENTION_DAYS, "0")]).unwrap();
        assert!(c.retention.is_none());
        let shown = format!("{c:?}");
        assert!(!shown.contains("pw-secret"), "{shown}");
    }
}
