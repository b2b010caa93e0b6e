//! `test_output`: page the raw output of a recent run while the server
//! still holds it (the spools of the last runs; the results stay stored).

use mcp_core::prelude::*;

use crate::Tests;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The run, as test_run returned it.
    pub run_id: String,
    /// Byte offset to read from (0 = the start; use next_offset to continue).
    #[serde(default)]
    pub offset: u64,
    /// Most bytes to return (default 65536, at most 1048576).
    pub max_bytes: Option<u64>,
    /// `stdout` (default; where test runners report) or `stderr` (build output, warnings).
    pub stream: Option<String>,
    /// Which process of the run: 0 (default) the run itself, then reruns and the coverage report in order.
    #[serde(default)]
    pub process: usize,
}

/// A page.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// The text (lossily decoded).
    pub text: String,
    /// Where the next page starts.
    pub next_offset: u64,
    /// The page reaches the end of what was kept.
    pub at_end: bool,
    /// Bytes the process wrote to this stream.
    pub total_bytes: u64,
    /// Bytes kept (output beyond the spool cap is dropped).
    pub kept_bytes: u64,
    /// Processes this run has.
    pub processes: usize,
}

/// The tool.
pub fn tool() -> Tool<Tests> {
    Tool::new(
        "test_output",
        "Page the raw output of a recent test run (stdout or stderr of the run, its reruns or its coverage report) \
         while the server still holds it.",
        Annotations::read_only(),
        run,
    )
    .title("Test output")
}

async fn run(t: Arc<Tests>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let max = a.max_bytes.unwrap_or(65536);
    if max == 0 || max > 1 << 20 {
        return Err(ToolError::invalid("max_bytes must be 1 to 1048576"));
    }
    let jobs = t.jobs(&a.run_id).ok_or_else(|| {
        ToolError::not_found(format!(
            "the output of run {:?} is not held any more (only recent runs'); its results stay in test_results",
            a.run_id
        ))
    })?;
    let processes = jobs.len();
    let job = jobs
        .get(a.process)
        .ok_or_else(|| ToolError::invalid(format!("process {} does not exist; this run has {processes}", a.process)))?;
    let cap = match a.stream.as_deref().unwrap_or("stdout") {
        "stdout" => &job.stdout,
        "stderr" => &job.stderr,
        s => return Err(ToolError::invalid(format!("stream {s:?}: use stdout or stderr"))),
    };
    let page = cap
        .read(a.offset, max as usize)
        .map_err(|e| ToolError::not_found(format!("the output of run {} is not held any more: {e}", a.run_id)))?;
    Ok(Out::new(Output {
        text: page.text.clone(),
        next_offset: page.next_offset,
        at_end: page.at_end,
        total_bytes: cap.total(),
        kept_bytes: cap.spooled(),
        processes,
    })
    .text(page.text))
}
