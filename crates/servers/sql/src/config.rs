//! Configuration of `mcp-server-sql`.

use std::time::Duration;

use mcp_core::Reader;

/// Database URL: `sqlite:PATH` (default `sqlite:./.data/sql/fleet.db`) or `postgres://...`.
pub const SQL_DATABASE_URL: &str = "SQL_DATABASE_URL";
/// PostgreSQL only: the URL `sql_query` connects with — a role that may only SELECT the sql server's
/// tables (compose creates `fleet_query`). Unset on PostgreSQL, untrusted queries run as the service's
/// own role, and `/ready` says so.
pub const SQL_QUERY_DATABASE_URL: &str = "SQL_QUERY_DATABASE_URL";
/// Enable `sql_execute` (INSERT/UPDATE/DELETE through the generic tool). Default false.
pub const SQL_ALLOW_WRITE: &str = "SQL_ALLOW_WRITE";
/// Statement timeout of the generic query tools, seconds (default 5).
pub const SQL_STATEMENT_TIMEOUT_SECS: &str = "SQL_STATEMENT_TIMEOUT_SECS";
/// Most rows a generic query returns (default 500).
pub const SQL_MAX_ROWS: &str = "SQL_MAX_ROWS";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL (may hold a password; never logged whole).
    pub database_url: String,
    /// PostgreSQL: the SELECT-only role `sql_query` runs as.
    pub query_database_url: Option<String>,
    /// Generic writes enabled.
    pub allow_write: bool,
    /// Statement timeout.
    pub statement_timeout: Duration,
    /// Row cap.
    pub max_rows: usize,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        Self {
            database_url: r.string(SQL_DATABASE_URL, "sqlite:./.data/sql/fleet.db"),
            query_database_url: r.optional(SQL_QUERY_DATABASE_URL),
            allow_write: r.bool(SQL_ALLOW_WRITE, false),
            statement_timeout: r.secs(SQL_STATEMENT_TIMEOUT_SECS, Duration::from_secs(5)),
            max_rows: r.parse(SQL_MAX_ROWS, 500usize),
        }
    }

    /// Settings for tests.
    pub fn for_url(url: &str) -> Self {
        Self {
            database_url: url.to_owned(),
            query_database_url: None,
            allow_write: false,
            statement_timeout: Duration::from_secs(2),
            max_rows: 500,
        }
    }
}
