//! `spec_status`: where a spec is — its phase (the first document not yet
//! approved, then implementation, then complete), each document's state, the
//! task counts from the tasks document's checkboxes, and recent events.

use mcp_core::prelude::*;
use mcp_types::documents::{DocumentState, WorkflowDocument};

use crate::Spec;
use crate::workflow::{self, DocRow, Event, SpecRow, TaskCounts};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The spec's name.
    pub spec: String,
}

/// The status.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: SpecRow,
    /// requirements, design, tasks (the document being worked on), implementation (all approved), complete (every task done).
    pub phase: String,
    /// The documents written so far, in order (without text).
    pub documents: Vec<DocRow>,
    /// Checkbox counts of the tasks document (zero before it exists).
    pub tasks: TaskCounts,
    /// What to do next.
    pub next: String,
    /// The latest events, newest first.
    pub events: Vec<Event>,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_status",
        "A spec's status: its phase (requirements, design, tasks, implementation, complete), each document's \
         approval state and revision, task counts from the tasks document's checkboxes ([ ] pending, [-] in \
         progress, [x] done), the next step and the latest events.",
        Annotations::read_only(),
        run,
    )
    .title("Spec status")
}

/// Phase and next step from the documents (with text, for the tasks).
pub fn phase(docs: &[DocRow]) -> (String, String, TaskCounts) {
    let tasks = docs
        .iter()
        .find(|d| d.document == WorkflowDocument::Tasks)
        .and_then(|d| d.content.as_deref())
        .map(workflow::count_tasks)
        .unwrap_or_default();
    for w in WorkflowDocument::ALL {
        let d = docs.iter().find(|d| d.document == *w);
        let next = match d.map(|d| d.state) {
            None => format!("write the {w} with spec_document_write"),
            Some(DocumentState::Draft) => format!("finish the {w} draft and submit it with spec_submit"),
            Some(DocumentState::PendingApproval) => format!("the {w} waits for an operator's decision (spec_decide)"),
            Some(DocumentState::ChangesRequested) => {
                format!("changes were requested on the {w}: rewrite it (see the comment) and submit again")
            }
            Some(DocumentState::Rejected) => format!("the {w} was rejected: rewrite it or drop the spec"),
            Some(DocumentState::Approved) => continue,
        };
        return (w.as_str().to_owned(), next, tasks);
    }
    if tasks.total > 0 && tasks.done == tasks.total {
        ("complete".into(), "every task is done".into(), tasks)
    } else {
        (
            "implementation".into(),
            format!("implement the tasks ({} of {} done); tick them with spec_task_update", tasks.done, tasks.total),
            tasks,
        )
    }
}

async fn run(s: Arc<Spec>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let spec = workflow::need_spec(&s.db, &a.spec).await?;
    let mut documents = workflow::documents(&s.db, &a.spec, true).await?;
    let (phase, next, tasks) = phase(&documents);
    for d in &mut documents {
        d.content = None;
    }
    let events = workflow::events(&s.db, &a.spec, 20).await?;
    let mut text = format!("{} ({}): phase {phase}", spec.name, spec.title);
    for d in &documents {
        text.push_str(&format!("\n{}: {} (revision {})", d.document, d.state, d.revision));
    }
    text.push_str(&format!(
        "\ntasks: {} total, {} pending, {} in progress, {} done\nnext: {next}",
        tasks.total, tasks.pending, tasks.in_progress, tasks.done
    ));
    Ok(Out::new(Output { spec, phase, documents, tasks, next, events }).text(text))
}
