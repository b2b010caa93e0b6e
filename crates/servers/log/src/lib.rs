//! `mcp-server-log`: the fleet's structured logs, by trace_id, and task
//! monitoring.
//!
//! Every program in the fleet writes JSON log lines (see `mcp_core::trace`)
//! and, when `MCP_LOG_ENDPOINT` is set, ships them here in batches over
//! `POST /v1/logs`. Lines are stored with their trace_id and span_id, so one
//! query returns what every service said about one request. The tools read
//! them back (by trace, by search over a bounded time range, as a tail with a
//! cursor, as an error summary) and keep a task table: a long job registers
//! itself, sends heartbeats, and finishes; one that stops sending heartbeats
//! is reported as stalled, in `task_list` and in the `mcp_tasks_stalled`
//! gauge that the alert rules watch.

pub mod api;
pub mod config;
pub mod lines;
pub mod retention;
pub mod schema;
pub mod tools;

use std::sync::Arc;

use mcp_core::db::Db;
use mcp_core::{CoreConfig, Program, Server, StartError};
use prometheus::{IntCounter, IntCounterVec, IntGauge, Opts};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-log";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state the tools, the HTTP routes and the retention loop share.
pub struct Log {
    /// The database.
    pub db: Db,
    /// Settings.
    pub config: Config,
    /// This server's own series.
    pub metrics: LogMetrics,
}

/// Series beyond the ones every server has.
#[derive(Clone)]
pub struct LogMetrics {
    /// Lines stored.
    pub ingested: IntCounter,
    /// Lines refused, by reason.
    pub rejected: IntCounterVec,
    /// Lines removed by retention.
    pub pruned: IntCounter,
    /// Running tasks without a recent heartbeat.
    pub stalled: IntGauge,
}

impl LogMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        Ok(Self {
            ingested: IntCounter::new("mcp_log_lines_ingested_total", "Log lines stored.")?,
            rejected: IntCounterVec::new(
                Opts::new("mcp_log_lines_rejected_total", "Log lines refused, by reason."),
                &["reason"],
            )?,
            pruned: IntCounter::new("mcp_log_lines_pruned_total", "Log lines removed by retention.")?,
            stalled: IntGauge::new(
                "mcp_tasks_stalled",
                "Running tasks whose last heartbeat is older than the stall threshold.",
            )?,
        })
    }

    /// Register in `server`'s registry. The series are shared handles, so the
    /// copies held by the state count into the same values.
    fn register(&self, server: &Server) -> Result<(), prometheus::Error> {
        let r = server.metrics().registry();
        r.register(Box::new(self.ingested.clone()))?;
        r.register(Box::new(self.rejected.clone()))?;
        r.register(Box::new(self.pruned.clone()))?;
        r.register(Box::new(self.stalled.clone()))
    }
}

/// Build the MCP server and the state it shares with the HTTP routes.
pub async fn server(config: Config) -> Result<(Server, Arc<Log>), StartError> {
    let db = Db::connect(&config.database_url, "log", schema::MIGRATIONS)
        .await
        .map_err(|e| StartError::config(format!("{}: {e}", config::LOG_DATABASE_URL)))?;
    mcp_core::tracing::info!(database = %db.url(), backend = ?db.backend(), "database ready");
    let metrics = LogMetrics::new().map_err(StartError::other)?;
    let state = Arc::new(Log { db, config, metrics });
    let b = Server::builder(NAME, VERSION, state.clone()).instructions(
        "The fleet's logs by trace_id (logs_by_trace, logs_search, logs_tail, error_summary, log_write) and task \
         monitoring (task_start, task_heartbeat, task_finish, task_list; a running task without heartbeats is stalled).",
    );
    let b = b.ready_check("database", |s: Arc<Log>| async move { s.db.ping().await });
    let server = b
        .tool(tools::error_summary::tool())
        .tool(tools::log_write::tool())
        .tool(tools::logs_by_trace::tool())
        .tool(tools::logs_search::tool())
        .tool(tools::logs_tail::tool())
        .tool(tools::task_finish::tool())
        .tool(tools::task_heartbeat::tool())
        .tool(tools::task_list::tool())
        .tool(tools::task_start::tool())
        .build();
    state.metrics.register(&server).map_err(StartError::other)?;
    Ok((server, state))
}

/// The whole program (the fleet's one entry-point shape): the server, the
/// ingest and query routes, and the retention loop (which also keeps the
/// stalled-task gauge current).
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    let (server, state) = server(config).await?;
    Ok(Program { server, routes: Some(api::routes(state.clone())), background: Some(Box::pin(retention::run(state))) })
}
