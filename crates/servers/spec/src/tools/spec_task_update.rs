//! `spec_task_update`: tick a task of an approved tasks document — only its
//! checkbox changes (`[ ]`, `[-]`, `[x]`), so the approval stands.

use mcp_core::auth::Role;
use mcp_core::prelude::*;
use mcp_types::documents::{DocumentState, TaskState, WorkflowDocument};

use super::{actor, require};
use crate::Spec;
use crate::workflow::{self, TaskCounts};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The spec's name.
    pub spec: String,
    /// The task's number: its position among the top-level checkboxes, from 1.
    pub task: u32,
    /// pending, in_progress or done.
    pub state: TaskState,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: String,
    /// The task's line after the change.
    pub line: String,
    /// Counts after the change.
    pub tasks: TaskCounts,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_task_update",
        "Mark a task of a spec's approved tasks document pending, in_progress or done (its checkbox becomes [ ], [-] \
         or [x]); task is its number among the top-level checkboxes, from 1. Nothing else in the text changes, so \
         the approval stands.",
        Annotations::destructive(true),
        run,
    )
    .title("Update a task")
}

async fn run(s: Arc<Spec>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    require(&ctx, Role::Operator, "updating a task")?;
    workflow::need_spec(&s.db, &a.spec).await?;
    let doc = workflow::document(&s.db, &a.spec, WorkflowDocument::Tasks)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("{} has no tasks document yet", a.spec)))?;
    if doc.state != DocumentState::Approved {
        return Err(ToolError::conflict(format!(
            "the tasks document is {}; tasks are ticked once it is approved (edit a draft with spec_document_write)",
            doc.state
        )));
    }
    let old = doc.content.unwrap_or_default();
    let mark = match a.state {
        TaskState::Pending => ' ',
        TaskState::InProgress => '-',
        TaskState::Done => 'x',
    };
    let mut n = 0u32;
    let mut out = String::with_capacity(old.len());
    let mut changed = None;
    let mut fenced = false;
    for line in old.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        let top = !fenced && !line.starts_with([' ', '\t']);
        match workflow::checkbox(line).filter(|_| top) {
            Some((at, _)) => {
                n += 1;
                if n == a.task {
                    let mut l = line.to_owned();
                    l.replace_range(at..at + 1, &mark.to_string());
                    changed = Some(l.trim_end().to_owned());
                    out.push_str(&l);
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
    }
    let Some(line) = changed else {
        return Err(ToolError::not_found(format!("task {} does not exist: the document has {n} task(s)", a.task)));
    };
    if out != old {
        workflow::set_tasks_text(&s.db, &a.spec, &out, &old, &actor(&ctx), &format!("task {} {}", a.task, a.state))
            .await?;
    }
    let tasks = workflow::count_tasks(&out);
    let text = format!("{line}\n{} of {} done", tasks.done, tasks.total);
    Ok(Out::new(Output { spec: a.spec, line, tasks }).text(text))
}
