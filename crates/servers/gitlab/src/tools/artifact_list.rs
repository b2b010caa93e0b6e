//! `artifact_list`: the files of a job's artifacts archive.

use mcp_core::prelude::*;

use super::{PageInfo, paging};
use crate::Gitlab;
use crate::api::types::{ArtifactEntry, Job, JobArtifact};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The project: a numeric id or a path such as `group/name`.
    pub project: String,
    /// The job's id.
    pub job_id: u64,
    /// A directory inside the archive (default: its root).
    pub path: Option<String>,
    /// List the whole tree below `path` (default true), or one level.
    pub recursive: Option<bool>,
    /// Page number, from 1 (default 1); continue with the result's `page.next_page`.
    pub page: Option<u32>,
    /// Entries per page, 1 to 100 (default 100).
    pub per_page: Option<u32>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The job's status.
    pub job_status: String,
    /// The job's artifact files (the archive, reports, the log), with sizes.
    pub artifacts: Vec<JobArtifact>,
    /// When they expire.
    pub expire_at: Option<String>,
    /// Entries of the archive (files and directories).
    pub entries: Vec<ArtifactEntry>,
    /// Paging of the entries.
    pub page: Option<PageInfo>,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "artifact_list",
        "List a job's artifacts: its artifact files (archive, reports) with sizes and expiry, and the entries of its \
         archive (paths and sizes). Read one file with artifact_file.",
        Annotations::read_only().open_world(),
        run,
    )
    .title("List job artifacts")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let (page, per_page) = paging(a.page, Some(a.per_page.unwrap_or(100)))?;
    let p = g.project(&a.project).await?;
    let api = g.api()?;
    let id = a.job_id;
    let job: Job = api.get(&p.path(&format!("/jobs/{id}")), &[], &format!("job {id}")).await?;
    let has_archive = job.artifacts.iter().any(|f| f.file_type.as_deref() == Some("archive"));
    let (entries, info) = if has_archive {
        let mut q = vec![("recursive", a.recursive.unwrap_or(true).to_string())];
        if let Some(path) = a.path.filter(|p| !p.is_empty()) {
            q.push(("path", path));
        }
        let got = api
            .page::<ArtifactEntry>(
                &p.path(&format!("/jobs/{id}/artifacts/tree")),
                &q,
                page,
                per_page,
                "that artifacts archive",
            )
            .await?;
        (got.items.clone(), Some(PageInfo::of(&got)))
    } else {
        (Vec::new(), None)
    };
    Ok(Out::new(Output {
        job_status: job.status,
        artifacts: job.artifacts,
        expire_at: job.artifacts_expire_at,
        entries,
        page: info,
    }))
}
