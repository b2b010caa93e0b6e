//! The observer's HTTP routes next to `/mcp`, behind the same guards (Host,
//! Origin, bearer token): the OTLP ingest and JSON queries for scripts
//! (`scripts/mcp_monitor.sh`) and people.
//!
//! - `POST /v1/traces` — OTLP/HTTP ingest ([`crate::ingest`]).
//! - `GET /api/traces/{trace_id}?max_spans=&attributes=&decisions=` — a trace as a tree.
//! - `GET /api/traces?service=&operation=&min_duration_ms=&errors_only=&project=&since=&until=&order=&limit=` —
//!   `{ "traces": [summary...] }`.
//! - `GET /api/projects/{project}?limit=&max_spans=` — the project's audit.
//!
//! The answers are the tools' structured results, so the two interfaces
//! cannot drift apart. Errors are RFC 9457 problem documents
//! (`mcp_core::Problem`): 400 (bad parameter), 404 (nothing stored), 503 (a
//! dependency is down) or 500, the status derived from the error's kind.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use mcp_core::error::ApiQuery;
use mcp_core::{Problem, ToolError};

use crate::tools::{project_audit, trace_get, traces_search};
use crate::{Observer, audit, ingest};

/// The routes, over `obs`.
pub fn routes(obs: Arc<Observer>) -> Router {
    Router::new()
        .route("/v1/traces", post(ingest::handle))
        .route("/api/traces", get(search))
        .route("/api/traces/{trace_id}", get(trace))
        .route("/api/projects/{project}", get(project))
        .with_state(obs)
}

type Params = ApiQuery<HashMap<String, String>>;

/// A query's failure in the fleet's one REST error shape (RFC 9457).
fn error(e: ToolError) -> Response {
    Problem::from(e).into_response()
}

fn bool_param(p: &HashMap<String, String>, key: &str) -> Result<Option<bool>, ToolError> {
    match p.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => match v.as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(ToolError::invalid(format!("{key}={v:?}: expected true or false"))),
        },
    }
}

fn num_param<T: std::str::FromStr>(p: &HashMap<String, String>, key: &str) -> Result<Option<T>, ToolError> {
    match p.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| ToolError::invalid(format!("{key}={v:?}: expected a number"))),
    }
}

fn text_param(p: &HashMap<String, String>, key: &str) -> Option<String> {
    p.get(key).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

async fn trace(State(obs): State<Arc<Observer>>, Path(trace_id): Path<String>, ApiQuery(p): Params) -> Response {
    let args = (|| {
        Ok::<_, ToolError>(trace_get::Args {
            trace_id,
            max_spans: num_param(&p, "max_spans")?,
            attributes: bool_param(&p, "attributes")?,
            decisions: bool_param(&p, "decisions")?,
        })
    })();
    match args {
        Ok(a) => match obs.trace(&a).await {
            Ok(out) => axum::Json(out).into_response(),
            Err(e) => error(e),
        },
        Err(e) => error(e),
    }
}

async fn search(State(obs): State<Arc<Observer>>, ApiQuery(p): Params) -> Response {
    let args = (|| {
        Ok::<_, ToolError>(traces_search::Args {
            service: text_param(&p, "service"),
            operation: text_param(&p, "operation"),
            min_duration_ms: num_param(&p, "min_duration_ms")?,
            errors_only: bool_param(&p, "errors_only")?,
            project: text_param(&p, "project"),
            since: text_param(&p, "since"),
            until: text_param(&p, "until"),
            order: text_param(&p, "order"),
            limit: num_param(&p, "limit")?,
        })
    })();
    match args {
        Ok(a) => match obs.search(&a).await {
            Ok(traces) => axum::Json(traces_search::Output { traces }).into_response(),
            Err(e) => error(e),
        },
        Err(e) => error(e),
    }
}

async fn project(State(obs): State<Arc<Observer>>, Path(project): Path<String>, ApiQuery(p): Params) -> Response {
    let args = (|| {
        Ok::<_, ToolError>(project_audit::Args {
            project,
            limit: num_param(&p, "limit")?,
            max_spans: num_param(&p, "max_spans")?,
        })
    })();
    match args {
        Ok(a) => match audit::audit(&obs, &a).await {
            Ok(out) => axum::Json(out).into_response(),
            Err(e) => error(e),
        },
        Err(e) => error(e),
    }
}
