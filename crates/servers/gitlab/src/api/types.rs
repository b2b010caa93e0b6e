//! GitLab REST v4 resources, as much of each as the tools use. Every field
//! is optional or defaulted and unknown fields are ignored, so a GitLab
//! version that adds, drops or renames a field degrades a result instead of
//! failing it. Shapes follow GitLab's OpenAPI v2 description
//! (`doc/api/openapi/openapi_v2.yaml` in gitlabhq: `API_Entities_Ci_Pipeline`,
//! `API_Entities_Ci_Job`, `API_Entities_MergeRequest`...). The same types
//! are the tools' results, so what the model reads is what GitLab said.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A user, as GitLab embeds one.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct User {
    /// Numeric id.
    pub id: Option<u64>,
    /// Login.
    pub username: Option<String>,
    /// Display name (untrusted text).
    pub name: Option<String>,
}

/// A project.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Project {
    /// Numeric id.
    pub id: u64,
    /// `group/name`.
    pub path_with_namespace: String,
    /// Display name.
    pub name: Option<String>,
    /// Default branch.
    pub default_branch: Option<String>,
    /// Web page.
    pub web_url: Option<String>,
}

/// A pipeline (list entries carry fewer fields than a single pipeline).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Pipeline {
    /// Instance-wide id (what the other tools take).
    pub id: u64,
    /// Per-project number.
    pub iid: Option<u64>,
    /// Project id.
    pub project_id: Option<u64>,
    /// `created`, `waiting_for_resource`, `preparing`, `pending`, `running`, `success`, `failed`,
    /// `canceling`, `canceled`, `skipped`, `manual`, `scheduled`.
    pub status: String,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// Commit.
    pub sha: Option<String>,
    /// What started it (`push`, `web`, `api`, `merge_request_event`, `schedule`...).
    pub source: Option<String>,
    /// Pipeline name, if the configuration sets one.
    pub name: Option<String>,
    /// Web page.
    pub web_url: Option<String>,
    /// When created.
    pub created_at: Option<String>,
    /// When last updated.
    pub updated_at: Option<String>,
    /// When started.
    pub started_at: Option<String>,
    /// When finished.
    pub finished_at: Option<String>,
    /// Seconds it ran.
    pub duration: Option<f64>,
    /// Seconds it waited.
    pub queued_duration: Option<f64>,
    /// Coverage, when reported.
    pub coverage: Option<String>,
    /// The configuration had errors.
    pub yaml_errors: Option<String>,
    /// Who started it.
    pub user: Option<User>,
}

/// A job's pipeline, as embedded in the job.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PipelineRef {
    /// Pipeline id.
    pub id: u64,
    /// Its status.
    pub status: Option<String>,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}

/// One artifact file of a job (the archive, its metadata, reports, the trace).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct JobArtifact {
    /// `archive`, `metadata`, `trace`, `junit`...
    pub file_type: Option<String>,
    /// Bytes.
    pub size: Option<u64>,
    /// File name.
    pub filename: Option<String>,
    /// `zip`, `gzip`, `raw`.
    pub file_format: Option<String>,
}

/// A job.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Job {
    /// Job id.
    pub id: u64,
    /// Job name.
    pub name: String,
    /// Stage.
    pub stage: Option<String>,
    /// `created`, `pending`, `running`, `success`, `failed`, `canceled`, `skipped`, `manual`...
    pub status: String,
    /// Branch or tag.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// A failure here does not fail the pipeline.
    pub allow_failure: bool,
    /// GitLab's reason for a failure (`script_failure`, `runner_system_failure`, ...).
    pub failure_reason: Option<String>,
    /// When created.
    pub created_at: Option<String>,
    /// When started.
    pub started_at: Option<String>,
    /// When finished.
    pub finished_at: Option<String>,
    /// Seconds it ran.
    pub duration: Option<f64>,
    /// Seconds it waited.
    pub queued_duration: Option<f64>,
    /// Web page.
    pub web_url: Option<String>,
    /// Its pipeline.
    pub pipeline: Option<PipelineRef>,
    /// Artifact files.
    pub artifacts: Vec<JobArtifact>,
    /// When the artifacts expire.
    pub artifacts_expire_at: Option<String>,
    /// Coverage, when reported.
    pub coverage: Option<f64>,
    /// Whether it was retried (a newer job replaced it).
    pub retried: Option<bool>,
    /// Who started it.
    pub user: Option<User>,
}

/// An entry of a job's artifacts archive.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ArtifactEntry {
    /// Base name.
    pub name: String,
    /// Path inside the archive (directories end in `/`).
    pub path: String,
    /// `file` or `directory`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Bytes (files).
    pub size: Option<u64>,
    /// Unix mode.
    pub mode: Option<String>,
}

/// A merge request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MergeRequest {
    /// Instance-wide id.
    pub id: u64,
    /// Per-project number (what the other tools take).
    pub iid: u64,
    /// Project id.
    pub project_id: Option<u64>,
    /// Title (untrusted text).
    pub title: String,
    /// Description (untrusted text; absent in lists).
    pub description: Option<String>,
    /// `opened`, `closed`, `locked`, `merged`.
    pub state: String,
    /// Source branch.
    pub source_branch: Option<String>,
    /// Target branch.
    pub target_branch: Option<String>,
    /// Draft.
    pub draft: Option<bool>,
    /// Mergeability (`mergeable`, `ci_must_pass`, `conflict`, ...).
    pub detailed_merge_status: Option<String>,
    /// Conflicts with the target.
    pub has_conflicts: Option<bool>,
    /// Head commit.
    pub sha: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
    /// Author.
    pub author: Option<User>,
    /// Web page.
    pub web_url: Option<String>,
    /// When created.
    pub created_at: Option<String>,
    /// When last updated.
    pub updated_at: Option<String>,
    /// When merged.
    pub merged_at: Option<String>,
    /// The head pipeline (single merge requests only).
    pub head_pipeline: Option<PipelineRef>,
}

/// A file's change in a merge request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Diff {
    /// Path before.
    pub old_path: String,
    /// Path after.
    pub new_path: String,
    /// The unified diff hunk text (untrusted text).
    pub diff: String,
    /// Added.
    pub new_file: bool,
    /// Renamed.
    pub renamed_file: bool,
    /// Deleted.
    pub deleted_file: bool,
    /// GitLab left the diff out (too large).
    pub too_large: Option<bool>,
    /// GitLab collapsed the diff.
    pub collapsed: Option<bool>,
}

/// A comment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Note {
    /// Id.
    pub id: u64,
    /// Text as stored (untrusted text).
    pub body: String,
    /// Author.
    pub author: Option<User>,
    /// When created.
    pub created_at: Option<String>,
    /// A system note (GitLab's own record of an action).
    pub system: bool,
}

/// The answer of `POST /projects/:id/ci/lint`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Lint {
    /// The configuration is valid.
    pub valid: bool,
    /// Errors (GitLab's messages).
    pub errors: Vec<String>,
    /// Warnings.
    pub warnings: Vec<String>,
    /// The configuration with includes and `extends` resolved.
    pub merged_yaml: Option<String>,
}
