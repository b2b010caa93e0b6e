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
/// Confine the whole server with Landlock at start to the SQLite database's
/// directory and the system directories (default `on`; `off` is the
/// documented way to run without it).
pub const SQL_SANDBOX: &str = "SQL_SANDBOX";

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
    /// Self-confinement at start.
    pub sandbox: bool,
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
            sandbox: r.bool(SQL_SANDBOX, true),
        }
    }

    /// What the whole process may touch once started (for
    /// `mcp_core::run_confined`): the SQLite database's directory (created
    /// here, before the kernel closes everything else) and the system
    /// directories. On PostgreSQL no file at all beyond those. Under the
    /// engine's authorizer this is the second wall against `ATTACH` of
    /// another file.
    pub fn confinement(&self) -> Result<Option<mcp_core::sandbox::Confinement>, String> {
        if !self.sandbox {
            return Ok(None);
        }
        let mut write = Vec::new();
        if let Some(file) = mcp_core::db::sqlite_file(&self.database_url) {
            let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            std::fs::create_dir_all(dir).map_err(|e| format!("{SQL_DATABASE_URL}: {}: {e}", dir.display()))?;
            write.push(dir.to_path_buf());
        }
        Ok(Some(mcp_core::sandbox::Confinement::system(&[], &write, true)))
    }

    /// Settings for tests.
    pub fn for_url(url: &str) -> Self {
        Self {
            database_url: url.to_owned(),
            query_database_url: None,
            allow_write: false,
            statement_timeout: Duration::from_secs(2),
            max_rows: 500,
            sandbox: true,
        }
    }
}
