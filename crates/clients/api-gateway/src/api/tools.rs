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
use super::upstream::{ServerView, ToolView};
use super::{ApiState, Body, ProblemDoc, Shared, Who, need, upstream};

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

/// The tools `caller` may use (viewer).
pub async fn list(s: &ApiState, caller: &Caller) -> Result<ToolList, Problem> {
    need(caller, Role::Viewer)?;
    Ok(ToolList { tools: upstream::tools(s, caller).await })
}

/// Call a tool as `caller`; the role it needs is the policy's (a viewer may
/// call read-only tools).
pub async fn call(s: &ApiState, caller: &Caller, name: &str, arguments: Value) -> Result<CallOutcome, Problem> {
    let name = check_tool_name(name)?;
    if !arguments.is_object() {
        return Err(Problem::new(ErrorKind::InvalidInput, "arguments must be a JSON object"));
    }
    let r = upstream::call(s, caller, name, arguments).await?;
    Ok(CallOutcome {
        is_error: r.is_error(),
        error_kind: r.error.map(|k| k.as_str().to_owned()),
        text: r.text,
        structured: r.structured,
    })
}

/// The upstreams' state (viewer).
pub async fn servers(s: &ApiState, caller: &Caller) -> Result<ServerList, Problem> {
    need(caller, Role::Viewer)?;
    Ok(ServerList { servers: upstream::servers(s).await })
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
        (status = 503, description = "The upstream is unavailable", body = ProblemDoc, content_type = "application/problem+json"),
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
