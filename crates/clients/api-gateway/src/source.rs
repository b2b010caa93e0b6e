//! The upstreams' tools as mcp-core's [`ToolSource`], and the one forwarding
//! path every door uses: `/mcp` (through [`GatewaySource`]), REST's tool
//! calls (through [`Gateway::call_tool`]), and the REST and UI routes that
//! call fixed upstream tools (through `Gateway::call_for_route`, in
//! `crate::route`, which swaps the per-tool role for the route's own).
//!
//! A call goes: policy (a hidden tool is an unknown one) → quota (over it: a
//! `rate_limited` tool result) → the upstream, statelessly, inside the
//! caller's span so the upstream's span continues the caller's trace → the
//! upstream's result back unchanged in substance (content, structured
//! content, `isError` with the same kind) → one audit row. Transport failures
//! are `unavailable` results naming the upstream, and make the catalogue
//! look at that upstream again at once; so does an upstream answering
//! "unknown tool".

use std::sync::Arc;
use std::time::Instant;

use mcp_core::auth::{Caller, Role};
use mcp_core::tool::{BoxFuture, Content, Ctx, Handler, ToolDef};
use mcp_core::tracing::{self, Instrument};
use mcp_core::{CallResult, ClientError, ErrorKind, ToolError, ToolResponse};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::Gateway;
use crate::audit::{args_sha256, shape};
use crate::catalogue::{CatalogueTool, Link};
use crate::limits::OverQuota;
use crate::store::{AuditRow, Decision};

/// Which door a call came through (the audit's `via`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `/mcp`.
    Mcp,
    /// The REST API (`/api/v1/tools/{name}/call` and the routes that call
    /// fixed tools) and the web UI, which uses the same functions.
    Rest,
}

impl Via {
    /// The one text form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mcp => "mcp",
            Self::Rest => "rest",
        }
    }
}

/// A call's result for REST: what the tool answered, a tool failure
/// included (as in MCP, a failed tool is a result, not a transport error).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallOutcome {
    /// The qualified tool.
    pub tool: String,
    /// The tool failed (or the gateway refused it as over quota, or the
    /// upstream was unavailable).
    pub is_error: bool,
    /// Why, as data, when it failed (`rate_limited`, `unavailable`, the
    /// upstream's own kind...).
    pub error_kind: Option<String>,
    /// The text blocks, joined with newlines.
    pub text: String,
    /// `structuredContent`, when the tool has one.
    #[schema(value_type = Option<Object>)]
    pub structured: Option<Value>,
    /// The content blocks as the upstream sent them.
    #[schema(value_type = Vec<Object>)]
    pub content: Vec<Value>,
    /// How long the call took through the gateway, ms.
    pub duration_ms: f64,
    /// The call's trace.
    pub trace_id: Option<String>,
    /// With `rate_limited`: seconds until this tool may be called again (a
    /// REST answer may turn it into `Retry-After`).
    pub retry_after_secs: Option<f64>,
    /// The upstream gave no tool result (it could not be reached, timed
    /// out or refused the request): the error is the gateway's, not the
    /// tool's, and REST answers it as a problem (503, 504...) rather than a
    /// tool result.
    pub upstream_failed: bool,
}

/// How a forwarded call is accounted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accounting {
    /// A call a caller made: it takes its quota and leaves an audit row.
    Counted,
    /// A repeat the gateway itself paces (the request event stream's polls
    /// after its opening one): no quota, no audit row. The caller asked
    /// once, and that opening call was counted; counting every poll would
    /// spend a watcher's quota on the gateway's own timer and fill the audit
    /// with a row a second that says nothing new.
    Repeat,
}

/// Where a forwarded call goes: its qualified name (quota, audit,
/// metrics), the tool's name on its upstream, and the upstream.
pub(crate) struct Target<'a> {
    pub(crate) name: &'a str,
    pub(crate) tool: &'a str,
    pub(crate) link: &'a Arc<Link>,
}

/// What [`Gateway::forward`] got: the result, the quota refusal when there
/// was one, and whether the upstream failed to give a tool result at all.
pub(crate) struct Forwarded {
    pub(crate) result: CallResult,
    pub(crate) over: Option<OverQuota>,
    pub(crate) upstream_failed: bool,
}

/// The upstreams' tools, per caller, plus the admin-only own tools (see
/// `crate::tools` for why those are here).
pub struct GatewaySource {
    state: Arc<Gateway>,
}

impl GatewaySource {
    /// Over the gateway's state.
    pub fn new(state: Arc<Gateway>) -> Self {
        Self { state }
    }
}

impl mcp_core::ToolSource for GatewaySource {
    fn list(&self, caller: &Caller) -> BoxFuture<'_, Vec<ToolDef>> {
        let defs = self.state.visible_defs(caller);
        Box::pin(async move { defs })
    }

    fn resolve(&self, caller: &Caller, name: &str) -> BoxFuture<'_, Option<(ToolDef, Handler)>> {
        let found = self.state.resolve(caller, name);
        Box::pin(async move { found })
    }
}

impl Gateway {
    /// Every tool the source offers `caller` (the own admin tools and the
    /// upstreams' tools it may use), sorted.
    pub fn visible_defs(&self, caller: &Caller) -> Vec<ToolDef> {
        let view = self.globs.view(&self.keys, caller);
        let mut defs: Vec<ToolDef> = crate::tools::sourced()
            .iter()
            .filter(|t| view.allows(&t.def.name, t.role))
            .map(|t| t.def.clone())
            .collect();
        defs.extend(
            self.catalogue.entries().iter().filter(|e| view.allows(&e.info.name, e.role)).map(|e| e.def.clone()),
        );
        defs.sort_by(|a, b| a.name.cmp(&b.name));
        defs
    }

    /// The upstreams' tools `caller` may use, for REST and the UI (the
    /// gateway's own tools are MCP-only).
    pub fn tools_for(&self, caller: &Caller) -> Vec<CatalogueTool> {
        let view = self.globs.view(&self.keys, caller);
        self.catalogue.entries().iter().filter(|e| view.allows(&e.info.name, e.role)).map(|e| e.info.clone()).collect()
    }

    /// Find `name` for `caller`: `None` when there is no such tool or the
    /// caller may not use it — the same answer, so a key cannot probe for
    /// hidden tools. A hidden tool asked for by name is audited as `denied`
    /// (without arguments: mcp-core resolves before it hands them over).
    fn resolve(self: &Arc<Self>, caller: &Caller, name: &str) -> Option<(ToolDef, Handler)> {
        let view = self.globs.view(&self.keys, caller);
        if let Some(own) = crate::tools::sourced().iter().find(|t| t.def.name == name) {
            if view.allows(name, own.role) {
                return Some((own.def.clone(), (own.make)(self.clone())));
            }
            self.audit_denied(caller, name, None, None, Via::Mcp);
            return None;
        }
        let entry = self.catalogue.get(name)?;
        if !view.allows(name, entry.role) {
            self.audit_denied(caller, name, None, None, Via::Mcp);
            return None;
        }
        let state = self.clone();
        let resolved_for = caller.clone();
        let def = entry.def.clone();
        let handler: Handler = Arc::new(move |args: Value, ctx: Ctx| {
            let state = state.clone();
            let entry = entry.clone();
            let caller = ctx.caller().cloned().unwrap_or_else(|| resolved_for.clone());
            Box::pin(async move {
                let trace_id = ctx.trace_id().map(str::to_owned);
                let target = Target { name: &entry.info.name, tool: &entry.info.tool, link: &entry.link };
                let f = state.forward(&caller, target, args, trace_id, Via::Mcp, Some(&ctx), Accounting::Counted).await;
                to_response(f.result)
            }) as BoxFuture<'static, ToolResponse>
        });
        Some((def, handler))
    }

    /// Call the upstream tool `name` as `caller` from REST: the same policy,
    /// quota and audit as `/mcp`. `Err` (`not_found`) when there is no such
    /// tool for this caller, hidden or absent alike; every other outcome,
    /// failures included, is a [`CallOutcome`]. The call runs in a span of
    /// its own, a child of the current span when there is one (a REST
    /// handler's), so the upstream's span joins that trace.
    pub async fn call_tool(
        self: &Arc<Self>,
        caller: &Caller,
        name: &str,
        args: Value,
        via: Via,
    ) -> Result<CallOutcome, ToolError> {
        let view = self.globs.view(&self.keys, caller);
        let unknown =
            || ToolError::not_found(format!("no tool {name:?} for this caller; GET /api/v1/tools lists them"));
        let Some(entry) = self.catalogue.get(name) else { return Err(unknown()) };
        if !view.allows(name, entry.role) {
            self.audit_denied(caller, name, Some(&args), None, via);
            return Err(unknown());
        }
        let span = call_span(name, caller);
        let trace_id = mcp_core::trace::trace_id_of_span(&span);
        let started = Instant::now();
        let target = Target { name, tool: &entry.info.tool, link: &entry.link };
        let f =
            self.forward(caller, target, args, trace_id.clone(), via, None, Accounting::Counted).instrument(span).await;
        let r = f.result;
        Ok(CallOutcome {
            tool: name.to_owned(),
            is_error: r.is_error(),
            error_kind: r.error.map(|k| k.as_str().to_owned()),
            text: r.text,
            structured: r.structured,
            content: r.content,
            duration_ms: started.elapsed().as_secs_f64() * 1e3,
            trace_id,
            retry_after_secs: f.over.map(|o| o.retry_after.as_secs_f64()),
            upstream_failed: f.upstream_failed,
        })
    }

    /// Quota, upstream call, metrics, audit: the one forwarding path of
    /// `/mcp`, REST's tool calls and the REST and UI routes
    /// (`crate::route`). `ctx` (MCP only) relays the upstream's progress
    /// notifications to the caller when it asked for them. `accounting`
    /// says whether the call takes quota and leaves an audit row.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn forward(
        self: &Arc<Self>,
        caller: &Caller,
        target: Target<'_>,
        args: Value,
        trace_id: Option<String>,
        via: Via,
        ctx: Option<&Ctx>,
        accounting: Accounting,
    ) -> Forwarded {
        let Target { name, tool, link } = target;
        let counted = accounting == Accounting::Counted;
        let started = Instant::now();
        let mut row = AuditRow {
            at_ms: mcp_core::clock::now_ms(),
            subject: caller.subject.clone(),
            key_id: caller.key_id.clone(),
            role: caller.role.as_str().to_owned(),
            tool: name.to_owned(),
            args_shape: shape(&args).to_string(),
            args_sha256: args_sha256(&args),
            decision: Decision::Allowed,
            outcome: None,
            error_kind: None,
            duration_ms: 0.0,
            trace_id,
            via: via.as_str().to_owned(),
        };
        if counted && let Err(over) = self.quotas.check(caller, name) {
            self.catalogue.metrics().calls.with_label_values(&[&link.name, "rate_limited"]).inc();
            row.decision = Decision::RateLimited;
            row.error_kind = Some(ErrorKind::RateLimited.as_str().to_owned());
            row.duration_ms = started.elapsed().as_secs_f64() * 1e3;
            self.audit.record(row);
            return Forwarded {
                result: CallResult::err(ErrorKind::RateLimited, over.message(name)),
                over: Some(over),
                upstream_failed: false,
            };
        }
        let answer = match ctx.filter(|c| c.wants_progress()) {
            Some(ctx) => {
                let (tx, mut rx) = mpsc::unbounded_channel::<mcp_core::ProgressEvent>();
                let relay = async {
                    while let Some(p) = rx.recv().await {
                        ctx.progress(p.progress, p.total, p.message).await;
                    }
                };
                // The sender moves into the call and is dropped when it
                // ends, which ends the relay.
                let (answer, ()) = tokio::join!(link.client.call_with_progress(tool, args, tx), relay);
                answer
            }
            None => link.client.call(tool, args).await,
        };
        let elapsed = started.elapsed();
        link.sample(elapsed);
        let metrics = self.catalogue.metrics();
        metrics.duration.with_label_values(&[&link.name]).observe(elapsed.as_secs_f64());
        let upstream_failed = answer.is_err();
        let result = match answer {
            Ok(r) => {
                metrics
                    .calls
                    .with_label_values(&[link.name.as_str(), if r.is_error() { "tool_error" } else { "ok" }])
                    .inc();
                r
            }
            Err(e) => {
                let (outcome, result, look_again) = self.upstream_failure(name, &link.name, &e);
                metrics.calls.with_label_values(&[&link.name, outcome]).inc();
                if look_again {
                    let state = self.clone();
                    let upstream = link.name.clone();
                    tokio::spawn(async move { state.refresh_upstream(&upstream).await });
                }
                result
            }
        };
        row.outcome = Some(if result.is_error() { "error" } else { "ok" }.to_owned());
        row.error_kind = result.error.map(|k| k.as_str().to_owned());
        row.duration_ms = elapsed.as_secs_f64() * 1e3;
        if counted {
            self.audit.record(row);
        }
        Forwarded { result, over: None, upstream_failed }
    }

    /// A call that got no tool result: the outcome label, the result the
    /// caller gets, and whether the upstream should be listed again now.
    fn upstream_failure(&self, name: &str, upstream: &str, e: &ClientError) -> (&'static str, CallResult, bool) {
        match e {
            // mcp-core servers answer an unknown tool with -32602 "Unknown
            // tool: ..."; -32601 is an unknown method. Either way the tool is
            // not (or no longer) there: say so and list the upstream again.
            ClientError::Protocol { code: -32601, .. } => (
                "rejected",
                CallResult::err(
                    ErrorKind::NotFound,
                    format!("{name} is no longer offered by {upstream}; call tools/list for the current tools"),
                ),
                true,
            ),
            ClientError::Protocol { code: -32602, message }
                if message.to_ascii_lowercase().contains("unknown tool") =>
            {
                (
                    "rejected",
                    CallResult::err(
                        ErrorKind::NotFound,
                        format!("{name} is no longer offered by {upstream}; call tools/list for the current tools"),
                    ),
                    true,
                )
            }
            ClientError::Protocol { message, .. } => (
                "rejected",
                CallResult::err(
                    e.kind(),
                    format!("{upstream} refused the call to {name}: {}", crate::catalogue::short_error(message)),
                ),
                false,
            ),
            ClientError::Timeout { secs, .. } => (
                "timed_out",
                CallResult::err(
                    ErrorKind::TimedOut,
                    format!("{name}: {upstream} did not answer within {secs:.0} s (the call may still have run)"),
                ),
                false,
            ),
            _ => (
                "unavailable",
                CallResult::err(
                    ErrorKind::Unavailable,
                    format!(
                        "upstream {upstream} is unavailable ({}); retry later, gateway__servers shows its state",
                        crate::catalogue::describe(e)
                    ),
                ),
                true,
            ),
        }
    }

    /// Record a refused call to a hidden tool.
    pub(crate) fn audit_denied(
        &self,
        caller: &Caller,
        name: &str,
        args: Option<&Value>,
        trace_id: Option<String>,
        via: Via,
    ) {
        self.audit.record(AuditRow {
            at_ms: mcp_core::clock::now_ms(),
            subject: caller.subject.clone(),
            key_id: caller.key_id.clone(),
            role: caller.role.as_str().to_owned(),
            tool: name.to_owned(),
            // `null` shape and no hash: mcp-core asks the source for the
            // tool before it hands over the arguments.
            args_shape: args.map_or_else(|| "null".to_owned(), |a| shape(a).to_string()),
            args_sha256: args.map(args_sha256).unwrap_or_default(),
            decision: Decision::Denied,
            outcome: None,
            error_kind: Some(ErrorKind::Forbidden.as_str().to_owned()),
            duration_ms: 0.0,
            trace_id,
            via: via.as_str().to_owned(),
        });
    }

    /// How many tools `caller` sees in `tools/list`: the statically
    /// registered own tools plus what the source lists for them.
    pub fn visible_count(&self, caller: &Caller) -> usize {
        crate::tools::STATIC.len() + self.visible_defs(caller).len()
    }

    /// The role `name` needs, when the catalogue has it.
    pub fn role_of(&self, name: &str) -> Option<Role> {
        self.catalogue.get(name).map(|e| e.role)
    }
}

/// The span a REST or route call runs in: a child of the current span when
/// there is one (a REST handler's), so the upstream's span joins that trace.
pub(crate) fn call_span(name: &str, caller: &Caller) -> tracing::Span {
    tracing::info_span!(
        "gateway.call",
        otel.name = %format!("tools/call {name}"),
        otel.kind = "server",
        "gen_ai.tool.name" = %name,
        "gen_ai.operation.name" = "execute_tool",
        "enduser.id" = %caller.subject,
        "enduser.role" = caller.role.as_str(),
    )
}

/// An upstream's result as mcp-core's response: the content blocks mcp-core
/// can carry, the structured content, the error kind. A result the gateway
/// made itself (no blocks) carries its text.
pub fn to_response(r: CallResult) -> ToolResponse {
    let mut content: Vec<Content> = r.content.iter().filter_map(block).collect();
    if content.is_empty() && !r.text.is_empty() {
        content.push(Content::Text(r.text));
    }
    ToolResponse { content, structured: r.structured, error: r.error }
}

/// One raw content block in mcp-core's terms. mcp-core carries text, images
/// and binary resources; a text resource becomes its text, and anything else
/// (audio, resource links) a text line saying what it was, so nothing
/// vanishes without a trace.
fn block(v: &Value) -> Option<Content> {
    let s = |x: &Value, k: &str| x.get(k).and_then(Value::as_str).map(str::to_owned);
    match v.get("type").and_then(Value::as_str)? {
        "text" => Some(Content::Text(s(v, "text").unwrap_or_default())),
        "image" => Some(Content::Image {
            data: s(v, "data").unwrap_or_default(),
            mime_type: s(v, "mimeType").unwrap_or_else(|| "application/octet-stream".into()),
        }),
        "resource" => {
            let r = v.get("resource")?;
            match (s(r, "blob"), s(r, "text")) {
                (Some(blob), _) => Some(Content::Blob {
                    uri: s(r, "uri").unwrap_or_default(),
                    data: blob,
                    mime_type: s(r, "mimeType").unwrap_or_else(|| "application/octet-stream".into()),
                }),
                (None, Some(text)) => Some(Content::Text(text)),
                (None, None) => None,
            }
        }
        "resource_link" => Some(Content::Text(format!("[resource link: {}]", s(v, "uri").unwrap_or_default()))),
        other => Some(Content::Text(format!("[{other} content not forwarded by the gateway]"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn results_map_back_with_their_kind_and_blocks() {
        let r = CallResult {
            error: Some(ErrorKind::NotFound),
            text: "no such file".into(),
            structured: None,
            content: vec![json!({"type": "text", "text": "no such file"})],
        };
        let t = to_response(r);
        assert_eq!(t.error, Some(ErrorKind::NotFound));
        assert_eq!(t.content, vec![Content::Text("no such file".into())]);
        let ok = CallResult {
            error: None,
            text: "a".into(),
            structured: Some(json!({"a": 1})),
            content: vec![
                json!({"type": "text", "text": "a"}),
                json!({"type": "image", "data": "AAAA", "mimeType": "image/png"}),
                json!({"type": "resource", "resource": {"uri": "file:///x", "blob": "QQ==", "mimeType": "text/plain"}}),
                json!({"type": "audio", "data": "AAAA", "mimeType": "audio/wav"}),
            ],
        };
        let t = to_response(ok);
        assert_eq!(t.structured, Some(json!({"a": 1})));
        assert_eq!(t.content.len(), 4);
        assert!(matches!(&t.content[1], Content::Image { mime_type, .. } if mime_type == "image/png"));
        assert!(matches!(&t.content[2], Content::Blob { uri, .. } if uri == "file:///x"));
        // A result the gateway made itself keeps its text.
        let own = to_response(CallResult::err(ErrorKind::RateLimited, "wait"));
        assert_eq!(own.content, vec![Content::Text("wait".into())]);
    }
}
