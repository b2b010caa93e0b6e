//! HTTP routes beside `/mcp`, guarded by the same token:
//!
//! - `POST /v1/logs`: ingest a batch (NDJSON or a JSON array of the fleet's
//!   log lines). Answers `{"accepted": n, "rejected": [{index, reason}]}`;
//!   200 when every line was stored, 207 when some were refused, 400 when the
//!   body as a whole is unusable, 503 when the database failed (nothing of
//!   the batch was stored, so the sender may retry it as is). Errors are
//!   RFC 9457 problem documents (`mcp_core::Problem`), like every REST API
//!   of the fleet.
//! - `GET /api/logs?trace_id=&service=&level=&since=&until=&q=&limit=`: the
//!   same lines the tools return, for scripts and dashboards.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mcp_core::error::{ApiQuery, ErrorKind, Problem};
use serde::Deserialize;
use serde_json::json;

use crate::Log;
use crate::lines::{self, Line};
use crate::tools::query::{self, Filter};

/// The routes, over the shared state.
pub fn routes(state: Arc<Log>) -> Router {
    Router::new().route("/v1/logs", post(ingest)).route("/api/logs", get(search)).with_state(state)
}

async fn ingest(State(s): State<Arc<Log>>, body: Bytes) -> Response {
    match ingest_body(&s, &body).await {
        Ok((accepted, rejected)) => {
            let status = if rejected.is_empty() { StatusCode::OK } else { StatusCode::MULTI_STATUS };
            (status, axum::Json(json!({"accepted": accepted, "rejected": rejected}))).into_response()
        }
        Err(IngestError::Body(e)) => {
            s.metrics.rejected.with_label_values(&["body"]).inc();
            Problem::new(ErrorKind::InvalidInput, e).into_response()
        }
        Err(IngestError::Store(e)) => {
            mcp_core::tracing::error!(error = %e, "storing log lines failed");
            Problem::new(ErrorKind::Unavailable, "the log store is unavailable; retry").retry_after(1).into_response()
        }
    }
}

/// Why a batch was not stored.
#[derive(Debug)]
pub enum IngestError {
    /// The body as a whole is unusable.
    Body(String),
    /// The database failed.
    Store(mcp_core::db::sqlx::Error),
}

/// Parse, check and store a body; shared by the route and `log_write`.
pub async fn ingest_body(s: &Log, body: &[u8]) -> Result<(u64, Vec<lines::Refused>), IngestError> {
    let (ok, refused) =
        lines::parse_body(body, s.config.max_batch, mcp_core::clock::now_ms()).map_err(IngestError::Body)?;
    let n = lines::insert(&s.db, &ok).await.map_err(IngestError::Store)?;
    s.metrics.ingested.inc_by(n);
    if !refused.is_empty() {
        s.metrics.rejected.with_label_values(&["line"]).inc_by(refused.len() as u64);
    }
    Ok((n, refused))
}

#[derive(Debug, Deserialize)]
struct Params {
    trace_id: Option<String>,
    service: Option<String>,
    level: Option<String>,
    since: Option<String>,
    until: Option<String>,
    q: Option<String>,
    limit: Option<i64>,
}

async fn search(State(s): State<Arc<Log>>, ApiQuery(p): ApiQuery<Params>) -> Response {
    let filter = Filter {
        trace_id: p.trace_id,
        service: p.service,
        min_level: p.level,
        contains: p.q,
        since: p.since,
        until: p.until,
    };
    match query::run(&s, filter, p.limit, query::Order::Oldest).await {
        Ok(lines) => axum::Json(json!({ "lines": lines.iter().collect::<Vec<&Line>>() })).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}
