//! What the planner asks `mcp-server-spec` for: documents (SPEC.md, README,
//! CHANGELOG, …) rendered from templates and structured data.
//!
//! The planner calls one tool, `spec_generate`, with a [`SpecGenerate`]: a
//! [`DocumentKind`] and that kind's data, built from one of the typed
//! structs here ([`SpecDoc`], [`ReadmeDoc`], [`ChangelogDoc`], [`AdrDoc`],
//! [`OpenApiDoc`], [`ArchitectureDoc`], [`RequirementsDoc`], [`DesignDoc`],
//! [`TasksDoc`]) through the `From` conversions, so a field the server does
//! not know fails a compile on this side rather than a call. The server
//! refuses unknown fields in `data` and answers a [`SpecGenerated`]: the
//! rendered text, where it would go, and which template made it. The
//! server writes nothing: the planner writes the file through the fs server.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::text_enum;

text_enum! {
    /// What a document is; each kind has its data shape and its built-in template.
    pub enum DocumentKind {
        /// `SPEC.md`: what was asked for ([`SpecDoc`]).
        Spec = "spec",
        /// `README.md` ([`ReadmeDoc`]).
        Readme = "readme",
        /// `CHANGELOG.md` in the Keep a Changelog format, from commits or changes ([`ChangelogDoc`]).
        Changelog = "changelog",
        /// An architecture decision record in the MADR format, `docs/adr/NNNN-title.md` ([`AdrDoc`]).
        Adr = "adr",
        /// An OpenAPI 3.1 skeleton for a service, `openapi.yaml` ([`OpenApiDoc`]).
        Openapi = "openapi",
        /// A Mermaid flowchart of components and edges, `docs/architecture.md` ([`ArchitectureDoc`]).
        Architecture = "architecture",
        /// A spec's requirements document ([`RequirementsDoc`]).
        Requirements = "requirements",
        /// A spec's design document ([`DesignDoc`]).
        Design = "design",
        /// A spec's tasks document, checkboxes `[ ]`, `[-]`, `[x]` ([`TasksDoc`]).
        Tasks = "tasks",
    }
}

text_enum! {
    /// Where a template came from.
    pub enum TemplateOrigin {
        /// Compiled into the server.
        Builtin = "builtin",
        /// The deployment's template directory (`SPEC_TEMPLATES_DIR`), overriding the built-in one of that name.
        User = "user",
    }
}

/// `spec_generate`'s arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecGenerate {
    /// The document kind: spec, readme, changelog, adr, openapi, architecture, requirements, design or tasks.
    pub kind: DocumentKind,
    /// The kind's data (see the kind's shape in the tool description); unknown fields are refused.
    pub data: serde_json::Value,
    /// A template other than the kind's own (a name from spec_templates_list, `[a-z0-9][a-z0-9_-]*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl SpecGenerate {
    /// A request for `kind` with `data` (any of the typed shapes below).
    pub fn new<T: Serialize>(kind: DocumentKind, data: &T) -> Self {
        // Serialising plain data types cannot fail.
        Self { kind, data: serde_json::to_value(data).unwrap_or_default(), template: None }
    }
}

macro_rules! generate_from {
    ($($ty:ident => $kind:ident),+ $(,)?) => {$(
        impl From<&$ty> for SpecGenerate {
            fn from(d: &$ty) -> Self {
                Self::new(DocumentKind::$kind, d)
            }
        }
    )+};
}

generate_from! {
    SpecDoc => Spec,
    ReadmeDoc => Readme,
    ChangelogDoc => Changelog,
    AdrDoc => Adr,
    OpenApiDoc => Openapi,
    ArchitectureDoc => Architecture,
    RequirementsDoc => Requirements,
    DesignDoc => Design,
    TasksDoc => Tasks,
}

/// What `spec_generate` returns (and what the planner reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SpecGenerated {
    /// The kind rendered.
    pub kind: DocumentKind,
    /// The template's name.
    pub template: String,
    /// Built-in or the deployment's own.
    pub template_source: TemplateOrigin,
    /// `template:<name> (builtin|user)`: what made the text.
    pub source: String,
    /// Where the document usually lives in a project (`SPEC.md`, `docs/adr/0001-use-postgresql.md`...).
    pub suggested_path: String,
    /// The document.
    pub content: String,
    /// Its length in bytes.
    pub bytes: u64,
}

/// A dependency named in SPEC.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// Package name.
    pub name: String,
    /// Version or requirement.
    pub version: String,
    /// Why it is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// SPEC.md: the facts the planner's `SPEC.md.tmpl` carries. The row `| Request | <request_id> |` is
/// always present (the planner recognises its projects by it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecDoc {
    /// Human name.
    pub name: String,
    /// One or two sentences.
    pub summary: String,
    /// `python` or `rust`.
    pub language: String,
    /// `cli`, `library` or `service`.
    pub kind: String,
    /// The project template used.
    pub template: String,
    /// `local` or `gitlab`.
    pub delivery: String,
    /// The agent's request id.
    pub request_id: String,
    /// The run's trace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// What state the project is in (implemented, or a scaffold), one paragraph of Markdown.
    pub status: String,
    /// What it must do.
    #[serde(default)]
    pub features: Vec<String>,
    /// How to tell it works.
    #[serde(default)]
    pub acceptance: Vec<String>,
    /// Who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    /// When (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<String>,
    /// Dependencies worth naming.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
}

/// README.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadmeDoc {
    /// Human name.
    pub name: String,
    /// One or two sentences.
    pub summary: String,
    /// `python` or `rust`.
    pub language: String,
    /// `cli`, `library` or `service`.
    pub kind: String,
    /// Commands that install or build it, one per item.
    #[serde(default)]
    pub install: Vec<String>,
    /// Commands that show it in use.
    #[serde(default)]
    pub usage: Vec<String>,
    /// Commands that run its tests.
    #[serde(default)]
    pub test: Vec<String>,
    /// What it does.
    #[serde(default)]
    pub features: Vec<String>,
}

/// A commit given to the changelog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commit {
    /// Commit id (shortened to 7 characters in the text).
    pub sha: String,
    /// First line (`feat(api): add login`, `fix!: ...`).
    pub subject: String,
    /// The rest of the message (`BREAKING CHANGE:` footers are read from it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

text_enum! {
    /// A Keep a Changelog section.
    pub enum ChangeKind {
        /// New features.
        Added = "added",
        /// Changes in existing functionality.
        Changed = "changed",
        /// Soon-to-be removed features.
        Deprecated = "deprecated",
        /// Removed features.
        Removed = "removed",
        /// Bug fixes.
        Fixed = "fixed",
        /// Vulnerabilities.
        Security = "security",
    }
}

/// A change given directly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// Section.
    pub kind: ChangeKind,
    /// One line.
    pub text: String,
    /// A breaking change.
    #[serde(default)]
    pub breaking: bool,
}

/// CHANGELOG.md: one version's section, from conventional commits (feat → Added, fix → Fixed, the
/// rest → Changed; `!` or `BREAKING CHANGE` marked) and/or changes given directly; with `existing`,
/// the section is inserted into that text below its header and `[Unreleased]` section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangelogDoc {
    /// The version (`1.2.0`).
    pub version: String,
    /// Release date, `YYYY-MM-DD`.
    pub date: String,
    /// Commits since the last version.
    #[serde(default)]
    pub commits: Vec<Commit>,
    /// Changes given directly (added after those from commits).
    #[serde(default)]
    pub changes: Vec<Change>,
    /// The current CHANGELOG.md, to merge the new section into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<String>,
}

/// An architecture decision record (MADR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdrDoc {
    /// Its number (1 → `0001`).
    pub number: u32,
    /// Short title of the decision.
    pub title: String,
    /// `proposed`, `accepted`, `rejected`, `deprecated` or `superseded`.
    #[serde(default = "proposed")]
    pub status: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The problem and its context.
    pub context: String,
    /// Options considered.
    #[serde(default)]
    pub options: Vec<String>,
    /// The chosen option and why.
    pub decision: String,
    /// Consequences, good and bad.
    #[serde(default)]
    pub consequences: Vec<String>,
    /// Who decided.
    #[serde(default)]
    pub deciders: Vec<String>,
}

fn proposed() -> String {
    "proposed".into()
}

/// A field of an API resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceField {
    /// Field name.
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` (default `string`).
    #[serde(default = "string_type", rename = "type")]
    pub ty: String,
    /// Required on create.
    #[serde(default)]
    pub required: bool,
}

fn string_type() -> String {
    "string".into()
}

/// A REST resource: `GET/POST /<name>`, `GET/PUT/DELETE /<name>/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    /// Plural path name (`items`): `[a-z][a-z0-9_-]*`.
    pub name: String,
    /// Its fields (an `id` is always there).
    #[serde(default)]
    pub fields: Vec<ResourceField>,
}

/// `openapi.yaml`: an OpenAPI 3.1 skeleton for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenApiDoc {
    /// API title.
    pub title: String,
    /// API version.
    pub version: String,
    /// One paragraph.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// The health path (default `/health`).
    #[serde(default = "health")]
    pub health_path: String,
}

fn health() -> String {
    "/health".into()
}

/// A box in the architecture diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Identifier edges refer to (sanitised into a Mermaid id).
    pub id: String,
    /// Label shown (default: the id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `service`, `database`, `queue`, `external`, `user` or `component` (the default): the shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// An arrow in the architecture diagram.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    /// Component id it starts at.
    pub from: String,
    /// Component id it ends at.
    pub to: String,
    /// Label on the arrow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// An architecture diagram (Mermaid `flowchart`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureDoc {
    /// Heading of the document (default `Architecture`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The components.
    pub components: Vec<Component>,
    /// The edges between them.
    #[serde(default)]
    pub edges: Vec<Edge>,
    /// `LR` (default), `TB`, `RL` or `BT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
}

/// One requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Short title.
    pub title: String,
    /// "As a …, I want …, so that …".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// Acceptance criteria (WHEN … THEN … SHALL …).
    #[serde(default)]
    pub acceptance: Vec<String>,
}

/// A spec's requirements document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementsDoc {
    /// The feature or project.
    pub name: String,
    /// What it is for.
    pub summary: String,
    /// The requirements, numbered 1, 2, … in the text.
    pub requirements: Vec<Requirement>,
}

/// A part of the design.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignPart {
    /// Name.
    pub name: String,
    /// What it does.
    pub responsibility: String,
}

/// A spec's design document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignDoc {
    /// The feature or project.
    pub name: String,
    /// The approach in a paragraph.
    pub overview: String,
    /// Its parts.
    #[serde(default)]
    pub components: Vec<DesignPart>,
    /// Decisions and their reasons, one each.
    #[serde(default)]
    pub decisions: Vec<String>,
    /// A diagram of the parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagram: Option<ArchitectureDoc>,
}

text_enum! {
    /// A task's checkbox.
    pub enum TaskState {
        /// `[ ]`.
        Pending = "pending",
        /// `[-]`.
        InProgress = "in_progress",
        /// `[x]`.
        Done = "done",
    }
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskItem {
    /// What to do.
    pub title: String,
    /// Its checkbox (default pending).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<TaskState>,
    /// Requirement numbers it serves (`1`, `2.1`).
    #[serde(default)]
    pub requirements: Vec<String>,
    /// Files or parts it touches.
    #[serde(default)]
    pub files: Vec<String>,
}

/// A spec's tasks document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TasksDoc {
    /// The feature or project.
    pub name: String,
    /// The tasks, numbered 1, 2, … in the text.
    pub tasks: Vec<TaskItem>,
}

text_enum! {
    /// A document of a spec's workflow, in the order they are written and approved.
    pub enum WorkflowDocument {
        /// What is wanted (first).
        Requirements = "requirements",
        /// How (after the requirements are approved).
        Design = "design",
        /// The steps (after the design is approved).
        Tasks = "tasks",
    }
}

impl WorkflowDocument {
    /// The document that must be approved before this one may be drafted.
    pub const fn previous(self) -> Option<Self> {
        match self {
            Self::Requirements => None,
            Self::Design => Some(Self::Requirements),
            Self::Tasks => Some(Self::Design),
        }
    }
}

text_enum! {
    /// Where a workflow document is.
    pub enum DocumentState {
        /// Being written; may be rewritten.
        Draft = "draft",
        /// Submitted; waits for an operator's decision and cannot change meanwhile.
        PendingApproval = "pending_approval",
        /// Approved: frozen; the next document may be drafted.
        Approved = "approved",
        /// Sent back with a comment: rewrite it and submit again.
        ChangesRequested = "changes_requested",
        /// Refused with a comment; a rewrite starts it over.
        Rejected = "rejected",
    }
}

text_enum! {
    /// An operator's decision on a submitted document.
    pub enum SpecDecision {
        /// → approved.
        Approve = "approve",
        /// → changes_requested (a comment is required).
        RequestChanges = "request_changes",
        /// → rejected (a comment is required).
        Reject = "reject",
    }
}

/// `spec_decide`'s arguments: what the gateway's approval queue sends for an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecDecide {
    /// The spec's name.
    pub spec: String,
    /// requirements, design or tasks.
    pub document: WorkflowDocument,
    /// approve, request_changes or reject.
    pub decision: SpecDecision,
    /// Why (required for request_changes and reject).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The person deciding, when the caller decides on someone's behalf (the gateway for an operator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The revision the person saw: a decision on another revision is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_data_becomes_a_generate_call() {
        let d = ChangelogDoc {
            version: "1.0.0".into(),
            date: "2026-12-06".into(),
            commits: vec![Commit { sha: "abc1234".into(), subject: "feat: x".into(), body: None }],
            changes: vec![],
            existing: None,
        };
        let g = SpecGenerate::from(&d);
        assert_eq!(g.kind, DocumentKind::Changelog);
        assert_eq!(g.data["commits"][0]["subject"], "feat: x");
        assert!(g.data.get("existing").is_none());
    }
}
