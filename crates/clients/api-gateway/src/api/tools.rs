//! `/api/v1/tools` and `/api/v1/servers`: the upstreams' tools as this
//! caller may use them, a call through REST under the same rule as `/mcp`,
//! and each upstream's state.

use axum::extract::{Path, State};
use axum::response::Response;
use mcp_core::auth::{Caller, Role};
use mcp_core::{ErrorKind, Problem};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::requests::answer;
use super::{ApiState, Body, ProblemDoc, Shared, Who, need};
use crate::catalogue::{CatalogueTool, ServerStatus};
use crate::route::{over_quota, problem};
use crate::source::Via;

/// A tool as REST shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolView {
    /// Qualified name, `{server}__{tool}`: the name to call.
    pub name: String,
    /// The upstream's short name.
    pub server: String,
    /// What it does.
    pub description: String,
    /// MCP annotations (`readOnlyHint`, `destructiveHint`, ...).
    #[schema(value_type = Object)]
    pub annotations: Value,
    /// The arguments' JSON Schema.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// The least role that may call it: `viewer`, `operator` or `admin`.
    pub role: String,
}

impl From<CatalogueTool> for ToolView {
    fn from(t: CatalogueTool) -> Self {
        // REST has always shown an object here; an upstream that lists no
        // annotations gets an empty one (its role is still admin).
        let annotations = if t.annotations.is_object() { t.annotations } else { Value::Object(Default::default()) };
        Self {
            name: t.name,
            server: t.server,
            description: t.description,
            annotations,
            input_schema: t.input_schema,
            role: t.role,
        }
    }
}

/// One upstream's state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerView {
    /// Short name (the prefix of its tools).
    pub name: String,
    /// The program.
    pub program: String,
    /// Its `/mcp` URL.
    pub url: String,
    /// `up` or `down` (`unknown` only before the gateway's first look, which
    /// happens before it answers).
    pub state: String,
    /// The program's version, when it said.
    pub version: Option<String>,
    /// Tools it contributes to the catalogue.
    pub tool_count: usize,
    /// Why it is down, when it is.
    pub last_error: Option<String>,
    /// When its tools were last listed, RFC 3339.
    pub refreshed_at: Option<String>,
    /// 95th percentile of this gateway's recent calls to it (every door), ms.
    pub p95_ms: Option<f64>,
}

impl From<ServerStatus> for ServerView {
    fn from(s: ServerStatus) -> Self {
        Self {
            name: s.name,
            program: s.program,
            url: s.url,
            state: s.state,
            version: s.version,
            tool_count: s.tool_count,
            last_error: s.last_error,
            refreshed_at: s.refreshed_at,
            p95_ms: s.p95_ms,
        }
    }
}

/// The tools this caller may use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ToolList {
    /// By qualified name.
    pub tools: Vec<ToolView>,
}

/// A call's arguments.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallBody {
    /// The tool's arguments (see its `input_schema`).
    #[serde(default = "empty")]
    #[schema(value_type = Object)]
    pub arguments: Value,
}

fn empty() -> Value {
    Value::Object(Default::default())
}

/// A tool's result. A tool failure is a result too (`is_error`, with its
/// kind), as in MCP: the HTTP status is 200 because the call was made.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallOutcome {
    /// The tool failed.
    pub is_error: bool,
    /// Why, as data, when it failed.
    pub error_kind: Option<String>,
    /// The text blocks, joined.
    pub text: String,
    /// `structuredContent`, when the tool has one.
    #[schema(value_type = Option<Object>)]
    pub structured: Option<Value>,
}

/// The upstreams.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerList {
    /// In configuration order.
    pub servers: Vec<ServerView>,
}

/// A qualified tool name: `{server}__{tool}`, what MCP clients accept.
pub fn check_tool_name(name: &str) -> Result<&str, Problem> {
    let ok = (1..=64).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && name.split_once("__").is_some_and(|(s, t)| !s.is_empty() && !t.is_empty());
    if ok {
        Ok(name)
    } else {
        Err(Problem::new(
            ErrorKind::InvalidInput,
            format!(
                "{:?} is not a tool name ({{server}}__{{tool}}, letters, digits, '_' and '-')",
                super::excerpt(name, 70)
            ),
        ))
    }
}

/// The tools `caller` may use (viewer): the gateway's catalogue under the
/// same per-caller rule as `/mcp`'s `tools/list`.
pub async fn list(s: &ApiState, caller: &Caller) -> Result<ToolList, Problem> {
    need(caller, Role::Viewer)?;
    Ok(ToolList { tools: s.gw.tools_for(caller).into_iter().map(ToolView::from).collect() })
}

/// Call a tool as `caller` through the gateway's one path
/// ([`crate::Gateway::call_tool`]): the role it needs is the policy's (a
/// viewer may call read-only tools), with quota and audit as over `/mcp`.
///
/// The mapping to HTTP: a hidden or unknown tool is 404; over the quota is
/// 429 with `Retry-After` (over `/mcp` it is a tool result, but an HTTP
/// client has a status for it); no tool result from the upstream (down,
/// timed out, refused) is a problem of that kind (503, 504...); any result
/// the tool gave, a failure included, is 200.
pub async fn call(s: &ApiState, caller: &Caller, name: &str, arguments: Value) -> Result<CallOutcome, Problem> {
    let name = check_tool_name(name)?;
    if !arguments.is_object() {
        return Err(Problem::new(ErrorKind::InvalidInput, "arguments must be a JSON object"));
    }
    let out = s.gw.call_tool(caller, name, arguments, Via::Rest).await.map_err(Problem::from)?;
    if let Some(secs) = out.retry_after_secs {
        return Err(over_quota(out.text, secs));
    }
    if out.upstream_failed {
        let kind = out.error_kind.as_deref().and_then(ErrorKind::parse).unwrap_or(ErrorKind::Unavailable);
        return Err(problem(kind, out.text));
    }
    Ok(CallOutcome { is_error: out.is_error, error_kind: out.error_kind, text: out.text, structured: out.structured })
}

/// The upstreams' state (viewer), as the catalogue last saw them, with the
/// p95 of the calls through the gateway.
pub async fn servers(s: &ApiState, caller: &Caller) -> Result<ServerList, Problem> {
    need(caller, Role::Viewer)?;
    Ok(ServerList { servers: s.gw.servers().into_iter().map(ServerView::from).collect() })
}

/// The tools this caller may use.
#[utoipa::path(get, path = "/api/v1/tools", tag = "tools",
    responses((status = 200, description = "Tools", body = ToolList)))]
pub async fn list_h(State(s): State<Shared>, Who(c): Who) -> Response {
    answer(list(&s, &c).await)
}

/// Call a tool (the same policy, limits and audit as `/mcp`).
#[utoipa::path(post, path = "/api/v1/tools/{name}/call", tag = "tools", request_body = CallBody,
    params(("name" = String, Path, description = "Qualified tool name", pattern = "^[A-Za-z0-9_-]{1,64}$")),
    responses(
        (status = 200, description = "The tool's result (a tool failure included)", body = CallOutcome),
        (status = 400, description = "Invalid input", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "No such tool for this caller", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "JSON of the wrong shape", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 429, description = "Over this caller's quota for this tool (or its rate limit); see Retry-After", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 502, description = "The upstream failed inside", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, description = "The upstream is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 504, description = "The upstream did not answer in time", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub async fn call_h(
    State(s): State<Shared>,
    Who(c): Who,
    Path(name): Path<String>,
    Body(b): Body<CallBody>,
) -> Response {
    answer(call(&s, &c, &name, b.arguments).await)
}

/// Each upstream's state.
#[utoipa::path(get, path = "/api/v1/servers", tag = "tools",
    responses((status = 200, description = "Upstreams", body = ServerList)))]
pub async fn servers_h(State(s): State<Shared>, Who(c): Who) -> Response {
    answer(servers(&s, &c).await)
}
