//! `mcp-client-observer`: the fleet's audit trail.
//!
//! Every program exports its spans over OTLP/HTTP (`mcp-core`'s `trace`
//! module) to `POST /v1/traces` here, in protobuf or JSON. The observer
//! stores them in one `spans` table (SQLite by default, PostgreSQL in compose
//! where Grafana reads the same table) and answers questions about them, as
//! MCP tools and as HTTP JSON for scripts and people:
//!
//! - `trace_get` / `GET /api/traces/{trace_id}`: one trace as a tree;
//! - `traces_search` / `GET /api/traces?...`: one summary per matching trace;
//! - `project_audit` / `GET /api/projects/{project}`: a project's decisions and
//!   messages (from `mcp-server-sql`, over MCP) joined with their traces in
//!   one timeline.
//!
//! **No feedback loop.** The observer may export its own spans to itself.
//! That cannot amplify: the ingest path creates no spans (no span is opened
//! in the handler, the guard middleware or the store), so an export produces
//! no further export; only MCP calls made *to* the observer produce spans, one
//! request span each (plus client spans for the sql server), driven by its
//! callers. As a second line, spans of the observer's own service that are not
//! MCP spans (no `mcp.method.name`, e.g. HTTP internals a `RUST_LOG=trace`
//! might turn into spans) are dropped at ingest and counted in
//! `observer_spans_rejected_total{reason="own_internal"}`.

pub mod api;
pub mod audit;
pub mod config;
pub mod ingest;
pub mod otlp;
pub mod schema;
pub mod store;
pub mod tools;
pub mod tree;
pub mod when;

use std::sync::Arc;
use std::time::Duration;

use mcp_core::{ClientOptions, CoreConfig, McpClient, Program, Server, StartError, ToolError};
use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts};

pub use config::Config;
use store::{Search, Store, TraceSummary};
use tree::TraceTree;

/// The program name (binary, compose service, default `Host`).
pub const NAME: &str = "mcp-client-observer";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why an ingest request failed, as the `reason` label of
/// `observer_ingest_failures_total`. Every value exists from start-up at zero.
pub const FAILURE_REASONS: &[&str] =
    &["content_type", "encoding", "too_large", "read", "decode", "too_many_spans", "storage"];

/// The observer's own series, on the server's registry.
#[derive(Clone)]
pub struct IngestMetrics {
    /// Spans accepted (new or already stored).
    pub spans: IntCounter,
    /// Export requests stored.
    pub batches: IntCounter,
    /// Export requests refused or failed, by reason.
    pub failures: IntCounterVec,
    /// Spans left out of accepted batches, by reason.
    pub rejected: IntCounterVec,
    /// Time to handle one export request.
    pub duration: HistogramVec,
}

impl IngestMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let failures = IntCounterVec::new(
            Opts::new("observer_ingest_failures_total", "OTLP export requests refused or failed, by reason"),
            &["reason"],
        )?;
        for r in FAILURE_REASONS {
            failures.with_label_values(&[r]);
        }
        let rejected = IntCounterVec::new(
            Opts::new("observer_spans_rejected_total", "Spans left out of an accepted export, by reason"),
            &["reason"],
        )?;
        for r in ["invalid", "own_internal"] {
            rejected.with_label_values(&[r]);
        }
        let duration = HistogramVec::new(
            HistogramOpts::new("observer_ingest_duration_seconds", "Time to decode and store one OTLP export")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
            &["format"],
        )?;
        for f in ["protobuf", "json"] {
            duration.with_label_values(&[f]);
        }
        Ok(Self {
            spans: IntCounter::new("observer_spans_ingested_total", "Spans accepted from OTLP exports")?,
            batches: IntCounter::new("observer_ingest_batches_total", "OTLP export requests stored")?,
            failures,
            rejected,
            duration,
        })
    }

    fn register(&self, registry: &prometheus::Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.spans.clone()))?;
        registry.register(Box::new(self.batches.clone()))?;
        registry.register(Box::new(self.failures.clone()))?;
        registry.register(Box::new(self.rejected.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }
}

/// The state every tool and route shares.
pub struct Observer {
    /// The spans.
    pub store: Store,
    /// Settings.
    pub config: Config,
    /// The observer's own series.
    pub metrics: IngestMetrics,
    /// The sql server, for decisions and messages.
    pub sql: McpClient,
    /// Our own service name (spans from it that are not MCP spans are dropped).
    pub service_name: String,
}

impl Observer {
    /// Connect to the database (migrating it) and prepare the sql client.
    /// The peer token defaults to our own `MCP_AUTH_TOKEN`.
    pub async fn open(config: Config, core: &CoreConfig) -> Result<Self, StartError> {
        let store = Store::open(&config.database_url)
            .await
            .map_err(|e| StartError::config(format!("{}: {e}", config::OBSERVER_DATABASE_URL)))?;
        mcp_core::tracing::info!(database = %store.db().url(), backend = ?store.db().backend(), "database ready");
        let token = core.peer_token.clone();
        let sql = McpClient::new(
            ClientOptions::new(config.sql_url.clone()).token(token).name(NAME).call_timeout(Duration::from_secs(20)),
        )
        .map_err(StartError::other)?;
        let metrics = IngestMetrics::new().map_err(StartError::other)?;
        Ok(Self { store, config, metrics, sql, service_name: core.service_name.clone() })
    }

    /// One trace as a tree (see [`tools::trace_get`]).
    pub async fn trace(&self, a: &tools::trace_get::Args) -> Result<tools::trace_get::Output, ToolError> {
        let id = trace_id(&a.trace_id)?;
        let max = match a.max_spans {
            None => self.config.max_trace_spans,
            Some(n) if n >= 1 && n as usize <= self.config.max_trace_spans => n as usize,
            Some(n) => {
                return Err(ToolError::invalid(format!(
                    "max_spans {n} is outside 1..={} (OBSERVER_MAX_TRACE_SPANS)",
                    self.config.max_trace_spans
                )));
            }
        };
        let (spans, truncated) = self.store.trace(&id, max).await.map_err(ToolError::internal)?;
        if spans.is_empty() {
            return Err(ToolError::not_found(format!(
                "no spans stored for trace {id}: check the id (32 hex digits), or wait a few seconds \
                 (exporters send spans in batches), or search with traces_search"
            )));
        }
        let total =
            if truncated { self.store.count(&id).await.map_err(ToolError::internal)? } else { spans.len() as i64 };
        let tree: TraceTree = tree::build(&id, spans, total, truncated, a.attributes.unwrap_or(true));
        let (decisions, warning) = if a.decisions.unwrap_or(false) {
            match audit::list(&self.sql, "decision_list", serde_json::json!({"trace_id": id, "limit": 200})).await {
                Ok(items) => (Some(items), None),
                Err(e) => (None, Some(e)),
            }
        } else {
            (None, None)
        };
        Ok(tools::trace_get::Output { trace: tree, decisions, warnings: warning.into_iter().collect() })
    }

    /// Traces matching a search, one summary each (see [`tools::traces_search`]).
    pub async fn search(&self, a: &tools::traces_search::Args) -> Result<Vec<TraceSummary>, ToolError> {
        let now = when::now_ms();
        let since_ms = when::parse(a.since.as_deref().unwrap_or("24h"), now).map_err(ToolError::invalid)?;
        let until_ms = match &a.until {
            Some(u) => when::parse(u, now).map_err(ToolError::invalid)?,
            None => i64::MAX,
        };
        if until_ms < since_ms {
            return Err(ToolError::invalid("until is before since"));
        }
        let limit = a.limit.unwrap_or(20);
        if !(1..=500).contains(&limit) {
            return Err(ToolError::invalid(format!("limit {limit} is outside 1..=500")));
        }
        if let Some(d) = a.min_duration_ms
            && !(d.is_finite() && d >= 0.0)
        {
            return Err(ToolError::invalid("min_duration_ms must be a number of milliseconds, 0 or more"));
        }
        let slowest_first = match a.order.as_deref() {
            None | Some("recent") => false,
            Some("slowest") => true,
            Some(o) => return Err(ToolError::invalid(format!("order {o:?}: use \"recent\" or \"slowest\""))),
        };
        let s = Search {
            service: a.service.clone().filter(|s| !s.is_empty()),
            operation: a.operation.clone().filter(|s| !s.is_empty()),
            min_duration_ms: a.min_duration_ms,
            errors_only: a.errors_only.unwrap_or(false),
            project: a.project.clone().filter(|s| !s.is_empty()),
            since_ms,
            until_ms,
            slowest_first,
            limit,
        };
        self.store.search(&s).await.map_err(ToolError::internal)
    }
}

/// A trace id as stored: 32 lowercase hex digits, not all zero.
pub fn trace_id(s: &str) -> Result<String, ToolError> {
    let t = s.trim().to_ascii_lowercase();
    if t.len() != 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) || t.bytes().all(|b| b == b'0') {
        return Err(ToolError::invalid(format!(
            "{:?} is not a trace id: expected 32 hex digits (the second field of a traceparent)",
            otlp::cut(s, 80)
        )));
    }
    Ok(t)
}

/// Build the MCP server over `obs`, with its own series registered on the
/// server's registry.
pub fn server(obs: Observer) -> Result<(Server, Arc<Observer>), StartError> {
    let state = Arc::new(obs);
    let builder = Server::builder(NAME, VERSION, state.clone()).instructions(
        "The fleet's audit trail. Every program's spans are stored here by trace_id. Use traces_search to find \
         traces (by service, operation or tool, duration, errors, time), trace_get to see one as a tree with \
         timings, and project_audit to see a project's decisions and messages with the traces they belong to.",
    );
    let server = builder
        .ready_check("database", |s: Arc<Observer>| async move { s.store.db().ping().await })
        .tool(tools::project_audit::tool())
        .tool(tools::trace_get::tool())
        .tool(tools::traces_search::tool())
        .build();
    state.metrics.register(server.metrics().registry()).map_err(StartError::other)?;
    Ok((server, state))
}

/// The whole program (the fleet's one entry-point shape): the MCP server, the ingest and query routes, and the
/// retention sweep.
pub async fn start(config: Config, core: CoreConfig) -> Result<Program, StartError> {
    let core = &core;
    let obs = Observer::open(config, core).await?;
    let (server, state) = server(obs)?;
    let routes = api::routes(state.clone());
    Ok(Program { server, routes: Some(routes), background: Some(Box::pin(retention(state))) })
}

/// Delete spans past the retention period, at start and then hourly.
pub async fn retention(obs: Arc<Observer>) {
    let Some(keep) = obs.config.retention else { return };
    loop {
        let cutoff = when::now_ms() - keep.as_millis() as i64;
        match obs.store.purge(cutoff).await {
            Ok(0) => {}
            Ok(n) => mcp_core::tracing::info!(deleted = n, "retention: old spans deleted"),
            Err(e) => mcp_core::tracing::warn!(error = %e, "retention: deleting old spans failed"),
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
