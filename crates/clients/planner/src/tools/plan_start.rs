//! `plan_start`: plan a complete spec and queue the run. One run per
//! request id: starting again returns the existing run, so a retried call or
//! a redelivered request never builds twice.

use mcp_core::prelude::*;

use mcp_types::peer::DecisionRecord;

use crate::Planner;

use super::{RunView, load, render, store_err};
use crate::config::Budget;
use crate::peers::gitlab_wait;
use crate::plan::{self, Shape};
use crate::store::NewRun;

/// Arguments: the contract with the agent, defined once in `mcp-types`.
pub use mcp_types::plan::{BudgetArgs, PlanStart as Args};

/// The tool.
pub fn tool() -> Tool<Planner> {
    Tool::new(
        "plan_start",
        "Plan and queue a run that builds the project: scaffold from the template for its language and kind, git init \
         and commit, install, build, lint, test, (with an LLM agent) implement and fix, commit, (when configured) run \
         the project's CI pipeline locally, tag v0.1.0, (with delivery \"gitlab\") push to GitLab and run its \
         pipeline there, (when configured, for services) deploy to dev, and report to the requester. Idempotent \
         on request.request_id. Returns the run and its planned steps; follow it with plan_wait or plan_status.",
        Annotations::additive(true),
        run,
    )
    .title("Start a plan")
}

fn check_request_id(id: &str) -> Result<(), ToolError> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)) {
        return Err(ToolError::invalid("request.request_id must be 1-128 characters of letters, digits and . _ : -"));
    }
    Ok(())
}

async fn run(s: Arc<Planner>, a: Args, ctx: Ctx) -> Result<Out<RunView>, ToolError> {
    let p = &s;
    check_request_id(&a.request.request_id)?;
    crate::spec::check(&a.spec, &p.config.runtime.gitlab_delivery_missing())?;
    if let Some(existing) = p.store.by_request(&a.request.request_id).await.map_err(store_err)? {
        let v = load(p, Some(&existing.id), None).await?;
        let text = format!("this request already has a run\n{}", render(&v));
        return Ok(Out::new(v).text(text));
    }
    let template = p.templates.find(&a.spec.language, &a.spec.kind).ok_or_else(|| {
        ToolError::invalid(format!(
            "no template builds a {} {}; available: {}",
            a.spec.language,
            a.spec.kind,
            p.templates.offered().join(", ")
        ))
    })?;
    let slug = crate::spec::slug(&a.spec)?;
    if let Some(other) =
        p.store.slug_taken(&slug, &a.request.request_id, a.request.requester.as_deref()).await.map_err(store_err)?
    {
        return Err(ToolError::conflict(format!(
            "a project named {slug} already exists (request {other}); choose another name"
        )));
    }
    // LLM steps only when the agent offers them (not with the rules provider).
    let llm = match &p.peers.agent {
        Some(agent) => match agent.tool_names().await {
            Ok(names) => names.iter().any(|n| n == "llm_implement") && names.iter().any(|n| n == "llm_fix"),
            Err(e) => {
                mcp_core::tracing::warn!(error = %e, "llm-agent not reachable; planning without LLM steps");
                false
            }
        },
        None => false,
    };
    let shape = Shape {
        llm,
        fix_rounds: p.config.fix_rounds,
        command_secs: p.config.command_timeout.as_secs(),
        pipeline: p.config.runtime.local_pipeline,
        deploy: p.config.runtime.deploy,
        gitlab: p.config.runtime.gitlab_remote.as_ref().map(|remote| plan::GitlabShape {
            remote: remote.clone(),
            project: p.config.runtime.gitlab_project.clone(),
            wait_secs: gitlab_wait(&p.config).as_secs(),
        }),
        pin: p.peers.registry.is_some(),
        changelog: p.peers.spec.is_some(),
        screenshot: p.peers.browser.is_some(),
    };
    let steps = plan::default_plan(&a.spec, &slug, template, &shape);
    plan::check(&steps).map_err(ToolError::internal)?;
    let b = a.budget.unwrap_or_default();
    let c = p.config.budget;
    let budget = Budget {
        max_steps: b.max_steps.map_or(c.max_steps, |v| v.min(c.max_steps)),
        max_wall_secs: b.max_wall_secs.map_or(c.max_wall_secs, |v| v.min(c.max_wall_secs)),
        max_tokens: b.max_tokens.map_or(c.max_tokens, |v| v.min(c.max_tokens)),
    };
    let carrier = mcp_core::trace::current_carrier();
    let id = format!("run-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    let (run, created) = p
        .store
        .create(NewRun {
            id: &id,
            spec: &a.spec,
            request: &a.request,
            slug: &slug,
            template: &template.name,
            budget,
            trace_id: ctx.trace_id(),
            traceparent: carrier.get("traceparent").map(String::as_str),
            steps: &steps,
        })
        .await
        .map_err(store_err)?;
    if created {
        if let Some(sql) = &p.peers.sql {
            let keys: Vec<&str> = steps.iter().map(|s| s.key.as_str()).collect();
            let record = DecisionRecord {
                project: Some(slug.clone()),
                trace_id: ctx.trace_id().map(str::to_owned),
                actor: crate::NAME.into(),
                decision: "planned".into(),
                rationale: Some(format!(
                    "{} steps from the {} template{}",
                    steps.len(),
                    template.name,
                    if llm { ", with LLM steps" } else { ", without LLM steps (no LLM provider)" }
                )),
                inputs: Some(json!({"request_id": a.request.request_id, "spec": a.spec})),
                outputs: Some(json!({"run_id": run.id, "steps": keys, "budget": budget})),
                // One per run: the run id is the request's, so a retried plan_start records nothing new.
                idempotency_key: Some(format!("{}/{}/decision/planned", crate::NAME, run.id)),
            };
            match sql.call("decision_record", json!(record)).await {
                Ok(_) => {}
                Err(e) if e.kind == mcp_core::ErrorKind::Conflict => {}
                Err(e) => mcp_core::tracing::warn!(error = %e, "decision not recorded"),
            }
        }
        p.wake.notify_one();
    }
    let v = load(p, Some(&run.id), None).await?;
    let text =
        format!("{}\n{}", if created { "planned and queued" } else { "this request already has a run" }, render(&v));
    Ok(Out::new(v).text(text))
}
