//! `implement`: the agent's `llm_implement` writes the spec's features into
//! the project, and [`llm`], the call every LLM step (this one and `fix`)
//! makes, counting its tokens against the run's budget.
//!
//! Repeatable rather than keyed: the agent edits the working tree towards
//! the spec, so a second attempt starts from what the first left and
//! nothing outside the project changes. Tokens are added to the run's
//! count as soon as the agent reports them; an attempt cut short before its
//! answer goes uncounted.

use mcp_core::ErrorKind;
use serde_json::{Value, json};

use crate::exec::Ctx;
use crate::peers::StepError;

/// Implement the spec's features.
pub(super) async fn run(cx: &mut Ctx<'_>) -> Result<Value, StepError> {
    llm(cx, "llm_implement", json!({})).await
}

/// Call an LLM step `tool` on the agent with the run's project, spec,
/// request and the tokens left, plus `extra` arguments, and count its tokens.
pub(super) async fn llm(cx: &mut Ctx<'_>, tool: &str, extra: Value) -> Result<Value, StepError> {
    let agent = cx.p.peers.agent.as_ref().ok_or_else(|| StepError::fatal("no llm-agent is configured"))?;
    let left = (cx.run.budget.max_tokens as i64 - cx.run.tokens_used).max(0);
    if left == 0 {
        return Err(StepError::of(
            ErrorKind::BudgetExhausted,
            format!("the LLM token budget ({}) is used up", cx.run.budget.max_tokens),
        ));
    }
    let mut args = json!({
        "project": cx.run.slug, "spec": cx.run.spec, "request_id": cx.run.request.request_id, "max_tokens": left,
    });
    if let (Some(a), Some(e)) = (args.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            a.insert(k.clone(), v.clone());
        }
    }
    let r = agent.call(tool, args).await?;
    let used = r["usage"]["input_tokens"].as_i64().unwrap_or(0) + r["usage"]["output_tokens"].as_i64().unwrap_or(0);
    if used > 0 {
        cx.p.store.add_tokens(&cx.run.id, used).await.map_err(|e| StepError::transient(e.to_string()))?;
        cx.run.tokens_used += used;
    }
    Ok(r)
}
