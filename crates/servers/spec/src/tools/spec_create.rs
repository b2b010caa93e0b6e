//! `spec_create`: a new spec, whose documents are then written in order.
//! Repeating the call with the same title returns the spec as it is.

use mcp_core::auth::Role;
use mcp_core::prelude::*;

use super::{actor, require};
use crate::Spec;
use crate::engine::one_line;
use crate::workflow::{self, SpecRow};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The spec's name: `[a-z0-9][a-z0-9_-]*`, at most 64 (`user-login`).
    pub spec: String,
    /// A human title (default: the name).
    pub title: Option<String>,
}

/// The spec.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The spec.
    pub spec: SpecRow,
    /// Created now (false: it already existed with this title).
    pub created: bool,
}

/// The tool.
pub fn tool() -> Tool<Spec> {
    Tool::new(
        "spec_create",
        "Create a spec: a named set of three documents written and approved in order — requirements, then design, \
         then tasks. Next: spec_document_write for its requirements. Creating it again with the same title returns \
         it; another title is a conflict.",
        Annotations::additive(true),
        run,
    )
    .title("Create a spec")
}

async fn run(s: Arc<Spec>, a: Args, ctx: Ctx) -> Result<Out<Output>, ToolError> {
    require(&ctx, Role::Operator, "creating a spec")?;
    workflow::check_spec_name(&a.spec)?;
    let title = one_line(a.title.as_deref().unwrap_or(&a.spec));
    if title.is_empty() || title.len() > 200 {
        return Err(ToolError::invalid("title must be 1-200 characters"));
    }
    let created = workflow::create(&s.db, &a.spec, &title, &actor(&ctx)).await?;
    let spec = workflow::need_spec(&s.db, &a.spec).await?;
    let text = format!(
        "spec {} {}; next: write its requirements with spec_document_write",
        spec.name,
        if created { "created" } else { "already exists" }
    );
    Ok(Out::new(Output { spec, created }).text(text))
}
