//! What each step does: one module per [`Action`] variant and the one
//! dispatch, [`run`] (plus helpers: `vars`, and `container`, the command
//! phases under container isolation). A new action is its variant in `plan.rs`, its file
//! here and its line in [`run`] — the way a new tool is a file and a line in
//! `lib.rs`.
//!
//! Every action must be idempotent. The engine runs a step again after a
//! crash or a retryable failure without knowing how far the last attempt
//! got, so an action either repeats harmlessly (files written whole,
//! commands) or hands the server an idempotency key derived from the run
//! and the step, which makes the server answer a repeat with the first
//! result (commit, tag, email, decision). Where a server keeps no key (a
//! GitLab pipeline), the step notes what it created in its checkpoint
//! before it goes on, and a repeat picks that up. Each module says which.

mod changelog;
mod command;
mod commit;
mod container;
mod deliver;
mod deploy;
mod fix;
mod git_init;
mod implement;
mod pin;
mod pipeline;
mod report;
mod scaffold;
mod screenshot;
mod tag;
mod vars;

pub(crate) use report::polish_title;
use serde_json::Value;

use crate::exec::Ctx;
use crate::peers::StepError;
use crate::plan::{Action, StepDef};

/// Do what step `def` says, once more.
pub(crate) async fn run(cx: &mut Ctx<'_>, def: &StepDef) -> Result<Value, StepError> {
    match &def.action {
        Action::Scaffold => scaffold::run(cx).await,
        Action::Pin => pin::run(cx).await,
        Action::GitInit => git_init::run(cx).await,
        Action::Commit { summary } => commit::run(cx, &def.key, summary).await,
        Action::Command { phase } => command::run(cx, phase).await,
        Action::Implement => implement::run(cx).await,
        Action::Fix { rounds } => fix::run(cx, *rounds).await,
        Action::Changelog { version } => changelog::run(cx, &def.key, version).await,
        Action::Pipeline => pipeline::run(cx).await,
        Action::Tag { name } => tag::run(cx, &def.key, name).await,
        Action::Deploy { environment } => deploy::run(cx, environment).await,
        Action::Deliver { remote, project, branch } => deliver::run(cx, &def.key, remote, project, branch).await,
        Action::Screenshot { environment } => screenshot::run(cx, environment).await,
        Action::Report => report::run(cx).await,
    }
}
