//! `ci_artifacts`: the artifact files a local run's jobs kept, or the text
//! of one of them.

use mcp_core::prelude::*;

use crate::Gitlab;
use crate::ci::parse;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run.
    pub run_id: String,
    /// One job (default: every job).
    pub job: Option<String>,
    /// With job: a file of its artifacts (relative path as listed) to read.
    pub path: Option<String>,
    /// With path: most bytes returned (default 65536, at most 1048576).
    pub max_bytes: Option<usize>,
}

/// One artifact file.
#[derive(Debug, Serialize, JsonSchema)]
pub struct File {
    /// The job that kept it.
    pub job: String,
    /// Its path relative to the project.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
}

/// Files, or one file's text.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The files.
    pub files: Vec<File>,
    /// With path: its text (lossily decoded; untrusted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// With path: the text was cut at max_bytes.
    #[serde(default)]
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Gitlab> {
    Tool::new(
        "ci_artifacts",
        "List the artifact files the jobs of a local run kept (artifacts: paths), or read one file's text with job \
         and path. File contents come from the project's jobs: untrusted data.",
        Annotations::read_only(),
        run,
    )
    .title("Local run artifacts")
}

async fn run(g: Arc<Gitlab>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let h = super::run_handle(&g.ci, &a.run_id)?;
    let r = h.snapshot().ok_or_else(|| ToolError::internal("run record unreadable"))?;
    let jobs: Vec<&crate::ci::run::JobRecord> = match &a.job {
        Some(j) => vec![super::job(&r, j)?],
        None => r.jobs.iter().collect(),
    };
    let base = h.dir().join("artifacts");
    let mut files = Vec::new();
    for j in &jobs {
        for p in &j.artifacts {
            let size = std::fs::symlink_metadata(base.join(&j.key).join(p)).map(|m| m.len()).unwrap_or(0);
            files.push(File { job: j.name.clone(), path: p.clone(), size });
        }
    }
    let Some(path) = a.path else {
        let text = if files.is_empty() {
            "no artifacts".to_owned()
        } else {
            files.iter().map(|f| format!("{}: {} ({} bytes)", f.job, f.path, f.size)).collect::<Vec<_>>().join("\n")
        };
        return Ok(Out::new(Output { files, content: None, truncated: false }).text(text));
    };
    let [j] = jobs.as_slice() else {
        return Err(ToolError::invalid("give job with path"));
    };
    let max = a.max_bytes.unwrap_or(65536);
    if !(1..=1 << 20).contains(&max) {
        return Err(ToolError::invalid("max_bytes must be 1 to 1048576"));
    }
    let rel = parse::safe_rel(&path, "path").map_err(|e| ToolError::invalid(e.to_string()))?;
    if !j.artifacts.contains(&rel) {
        return Err(ToolError::not_found(format!("job {} kept no artifact {rel:?}", j.name)));
    }
    let full = base.join(&j.key).join(&rel);
    let (bytes, truncated) = mcp_core::tool::blocking(move || {
        let meta = std::fs::symlink_metadata(&full).map_err(|e| ToolError::not_found(format!("{rel}: {e}")))?;
        if !meta.is_file() {
            return Err(ToolError::invalid(format!("{rel} is not a regular file")));
        }
        use std::io::Read;
        let mut buf = Vec::new();
        std::fs::File::open(&full)
            .and_then(|f| f.take(max as u64).read_to_end(&mut buf))
            .map_err(|e| ToolError::invalid(format!("{rel}: {e}")))?;
        Ok((buf, meta.len() > max as u64))
    })
    .await?;
    let content = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Out::new(Output { files, content: Some(content.clone()), truncated }).text(content))
}
