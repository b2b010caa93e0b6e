//! The REST and UI routes' upstream calls. Requests, approvals, traces and
//! logs call fixed tools of fixed upstreams (`llm_agent__submit_request`,
//! `planner__approval_decide`, `log__logs_search`, ...) through
//! [`Gateway::call_for_route`], never through a client of their own.
//!
//! **The route is the policy.** Each route checks the role it needs before
//! it gets here (viewer reads, operator writes: `crate::api::need`), so the
//! role a tool's annotations ask for does not apply: an operator may cancel a
//! request through `POST /api/v1/requests/{id}/cancel` although the agent
//! annotates `request_cancel` destructive (admin over `/mcp`). The
//! annotation describes the whole tool with any arguments, which `/mcp`
//! offers; a route offers one narrow use of it, with arguments it builds
//! from checked input (`decided_by` is always the caller). A key's allow and
//! deny globs still apply: they are its owner's own narrowing, and a key made
//! for `git__*` should not submit requests.
//!
//! **Everything else is shared** with `/mcp` and REST tool calls
//! (`Gateway::forward`): the quota per caller and tool (over it: 429 with
//! `Retry-After`), one audit row per call naming the caller, the metrics and
//! the latency samples `/servers` takes its p95 from, and trace context.
//! The one exception is [`Gateway::poll_for_route`], the request event
//! stream's repeated polls (see [`Accounting::Repeat`]).
//!
//! **Not listed is not unknown.** The catalogue drops a down upstream's
//! tools; a route does not look its tool up there but calls it by name on
//! the configured upstream's client, so a down upstream answers 503 naming
//! it rather than 404.

use std::sync::Arc;

use mcp_core::auth::{Caller, Role};
use mcp_core::tracing::Instrument;
use mcp_core::{ErrorKind, Problem};
use serde_json::Value;

use crate::Gateway;
use crate::catalogue::split_qualified;
use crate::source::{Accounting, Target, Via, call_span};

/// The one mapping from an upstream's failure to a problem. A failure keeps
/// its kind (`unavailable` → 503, `timed_out` → 504, `not_found` → 404...);
/// an upstream's internal error is a 502, since the fault is behind the
/// gateway.
pub fn problem(kind: ErrorKind, detail: impl Into<String>) -> Problem {
    let p = Problem::new(kind, detail);
    if kind == ErrorKind::Internal { p.http_status(http::StatusCode::BAD_GATEWAY) } else { p }
}

/// A quota refusal as REST answers it: 429 with `Retry-After` in whole
/// seconds, at least one (a client told "0" would come straight back).
pub fn over_quota(detail: impl Into<String>, retry_after_secs: f64) -> Problem {
    let secs = retry_after_secs.ceil().max(1.0) as u64;
    Problem::new(ErrorKind::RateLimited, detail).retry_after(secs)
}

impl Gateway {
    /// Call the fixed upstream tool `name` (`{server}__{tool}`) for a route
    /// that has checked `caller`'s role itself: the structured result, or a
    /// problem — 403 when the key's globs exclude the tool, 429 over the
    /// quota, 503 naming the upstream when it cannot be reached or is not
    /// configured, the tool's own failure with its kind. Counted: quota and
    /// one audit row.
    pub async fn call_for_route(
        self: &Arc<Self>,
        caller: &Caller,
        name: &str,
        args: Value,
        via: Via,
    ) -> Result<Value, Problem> {
        self.route_call(caller, name, args, via, Accounting::Counted).await
    }

    /// [`Gateway::call_for_route`] for a repeat the gateway paces itself
    /// (the event stream's polls after the first): no quota, no audit row.
    pub async fn poll_for_route(
        self: &Arc<Self>,
        caller: &Caller,
        name: &str,
        args: Value,
        via: Via,
    ) -> Result<Value, Problem> {
        self.route_call(caller, name, args, via, Accounting::Repeat).await
    }

    async fn route_call(
        self: &Arc<Self>,
        caller: &Caller,
        name: &str,
        args: Value,
        via: Via,
        accounting: Accounting,
    ) -> Result<Value, Problem> {
        // Route names are constants of this crate; a malformed one is a
        // programming error, answered without a panic.
        let Some((server, tool)) = split_qualified(name) else {
            return Err(Problem::new(ErrorKind::Internal, format!("route tool {name:?} is not {{server}}__{{tool}}")));
        };
        let Some(link) = self.catalogue.link(server) else {
            return Err(Problem::new(
                ErrorKind::Unavailable,
                format!("this gateway has no {server} upstream (GATEWAY_UPSTREAMS), which this route needs"),
            ));
        };
        // Globs only: every caller has at least the viewer role, so asking
        // for it leaves the key's allow/deny lists as the one test.
        if !self.globs.view(&self.keys, caller).allows(name, Role::Viewer) {
            if accounting == Accounting::Counted {
                self.audit_denied(caller, name, Some(&args), None, via);
            }
            return Err(Problem::new(
                ErrorKind::Forbidden,
                format!("this key's allow/deny globs exclude {name}, which this route calls"),
            ));
        }
        let span = call_span(name, caller);
        let trace_id = mcp_core::trace::trace_id_of_span(&span);
        let target = Target { name, tool, link: &link };
        let f = self.forward(caller, target, args, trace_id, via, None, accounting).instrument(span).await;
        if let Some(over) = f.over {
            return Err(over_quota(f.result.text, over.retry_after.as_secs_f64()));
        }
        let r = f.result;
        match r.error {
            None => Ok(r.into_value()),
            // The upstream answered "unknown tool": not the version of the
            // program this route was written for. Not a 404 of the thing
            // asked for (a request, an approval).
            Some(ErrorKind::NotFound) if f.upstream_failed => Err(Problem::new(ErrorKind::Unavailable, r.text)),
            Some(kind) => Err(problem(kind, r.text)),
        }
    }
}
