//! Configuration of `mcp-server-log`.

use std::time::Duration;

use mcp_core::Reader;

/// Database URL: `sqlite:PATH` (default `sqlite:./.data/log/log.db`) or `postgres://...`.
pub const LOG_DATABASE_URL: &str = "LOG_DATABASE_URL";
/// Keep log lines this many days (default 7).
pub const LOG_RETENTION_DAYS: &str = "LOG_RETENTION_DAYS";
/// Keep at most this many log lines; the oldest go first (default 1000000).
pub const LOG_MAX_ROWS: &str = "LOG_MAX_ROWS";
/// A running task without a heartbeat for this long is stalled, seconds (default 120).
pub const LOG_TASK_STALL_SECS: &str = "LOG_TASK_STALL_SECS";
/// Most lines in one ingest batch (default 10000).
pub const LOG_MAX_BATCH_LINES: &str = "LOG_MAX_BATCH_LINES";

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Database URL.
    pub database_url: String,
    /// Retention by age.
    pub retention: Duration,
    /// Retention by count.
    pub max_rows: i64,
    /// Stall threshold.
    pub stall: Duration,
    /// Batch cap.
    pub max_batch: usize,
}

impl Config {
    /// Read from the environment (or a test map).
    pub fn read(r: &mut Reader<'_>) -> Self {
        let days: u64 = r.parse(LOG_RETENTION_DAYS, 7);
        if days == 0 {
            r.error(format!("{LOG_RETENTION_DAYS} must be at least 1"));
        }
        Self {
            database_url: r.string(LOG_DATABASE_URL, "sqlite:./.data/log/log.db"),
            retention: Duration::from_secs(days.max(1) * 86_400),
            max_rows: r.parse(LOG_MAX_ROWS, 1_000_000i64),
            stall: r.secs(LOG_TASK_STALL_SECS, Duration::from_secs(120)),
            max_batch: r.parse(LOG_MAX_BATCH_LINES, 10_000usize),
        }
    }

    /// Settings for tests.
    pub fn for_url(url: &str) -> Self {
        Self {
            database_url: url.to_owned(),
            retention: Duration::from_secs(7 * 86_400),
            max_rows: 1_000_000,
            stall: Duration::from_secs(120),
            max_batch: 10_000,
        }
    }
}
