//! The REST tools, one per file, and what several of them share: paging
//! arguments and results, the quick-action escape, and the fetch of a job
//! log as clean, masked lines.

pub mod artifact_file;
pub mod artifact_list;
pub mod ci_lint;
pub mod job_cancel;
pub mod job_get;
pub mod job_list;
pub mod job_log;
pub mod job_play;
pub mod job_retry;
pub mod mr_create;
pub mod mr_diffs;
pub mod mr_get;
pub mod mr_list;
pub mod mr_note;
pub mod mr_pipelines;
pub mod pipeline_cancel;
pub mod pipeline_create;
pub mod pipeline_failures;
pub mod pipeline_get;
pub mod pipeline_latest;
pub mod pipeline_list;
pub mod pipeline_retry;
pub mod pipeline_wait;

use mcp_core::prelude::*;

use crate::api::Page;
use crate::{Gitlab, ProjectRef, logwin};

/// Where a page of a list is and how to get the next one.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PageInfo {
    /// This page (1-based).
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
    /// Pass this as `page` for the next page; absent on the last page.
    pub next_page: Option<u32>,
    /// All items, when GitLab counts them.
    pub total: Option<u64>,
    /// All pages, when GitLab counts them.
    pub total_pages: Option<u64>,
}

impl PageInfo {
    /// The paging part of `p`.
    pub fn of<T>(p: &Page<T>) -> Self {
        Self { page: p.page, per_page: p.per_page, next_page: p.next_page, total: p.total, total_pages: p.total_pages }
    }
}

/// `page` and `per_page` with their defaults and bounds.
pub fn paging(page: Option<u32>, per_page: Option<u32>) -> Result<(u32, u32), ToolError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(20);
    if page == 0 {
        return Err(ToolError::invalid("page starts at 1"));
    }
    if !(1..=crate::api::MAX_PER_PAGE).contains(&per_page) {
        return Err(ToolError::invalid("per_page must be between 1 and 100"));
    }
    Ok((page, per_page))
}

/// Escape GitLab quick actions: a line whose first non-blank character is
/// `/` (`/merge`, `/approve`, `/close`...) would be executed by GitLab as a
/// command when the text is posted, so the slash is preceded by a
/// backslash, which Markdown renders as the plain slash. Lines inside code
/// blocks are escaped too: whether GitLab skips them is its parser's detail,
/// and a visible backslash costs less than an unintended merge. Returns the
/// text and how many lines were escaped.
pub fn escape_quick_actions(text: &str) -> (String, usize) {
    let mut escaped = 0;
    let out: Vec<String> = text
        .split('\n')
        .map(|line| {
            let t = line.trim_start();
            if t.starts_with('/') {
                escaped += 1;
                format!("{}\\{t}", &line[..line.len() - t.len()])
            } else {
                line.to_owned()
            }
        })
        .collect();
    (out.join("\n"), escaped)
}

/// A job's log as clean, masked lines, and facts about it.
pub struct JobLog {
    /// Clean, masked lines.
    pub lines: Vec<String>,
    /// Masks applied.
    pub redactions: usize,
    /// Bytes GitLab sent.
    pub bytes: u64,
    /// The log was longer than `GITLAB_MAX_TRACE_BYTES`: only its end was kept.
    pub truncated: bool,
}

/// Fetch `job_id`'s log (its end, when longer than the cap), clean and mask it.
pub async fn job_log(g: &Gitlab, p: &ProjectRef, job_id: u64) -> Result<JobLog, ToolError> {
    let api = g.api()?;
    let (bytes, seen, truncated) = api
        .bytes(
            &p.path(&format!("/jobs/{job_id}/trace")),
            g.config.max_trace_bytes,
            true,
            &format!("job {job_id}'s log"),
        )
        .await?;
    let raw = String::from_utf8_lossy(&bytes);
    let mut lines = logwin::clean_lines(&raw);
    if truncated && !lines.is_empty() {
        // The first kept line starts mid-line.
        lines.remove(0);
    }
    let redactions = g.redactor.lines(&mut lines);
    Ok(JobLog { lines, redactions, bytes: seen, truncated })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_actions_are_escaped() {
        let (t, n) = escape_quick_actions("LGTM\n/merge\n  /approve now\n```\n/in-code\n```\nsee a/b");
        assert_eq!(t, "LGTM\n\\/merge\n  \\/approve now\n```\n\\/in-code\n```\nsee a/b");
        assert_eq!(n, 3);
    }
}
