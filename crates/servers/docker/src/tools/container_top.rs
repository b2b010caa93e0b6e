//! `container_top`: the processes running in a container (read-only).

use bollard::query_parameters::TopOptions;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;

use super::ContainerArg;

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Column titles (`UID PID PPID C STIME TTY TIME CMD`).
    pub titles: Vec<String>,
    /// One row per process.
    pub processes: Vec<Vec<String>>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new("container_top", "List the processes running in a container.", Annotations::read_only(), run)
        .title("Container processes")
}

async fn run(e: Arc<Engine>, a: ContainerArg, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let i = e.inspect(&a.container).await?;
    let masker = Engine::masker(&i);
    let t = e
        .docker
        .top_processes(i.id.as_deref().unwrap_or_default(), Some(TopOptions { ps_args: "-ef".into() }))
        .await
        .map_err(api)?;
    let processes: Vec<Vec<String>> = t
        .processes
        .unwrap_or_default()
        .into_iter()
        .map(|row| row.into_iter().map(|c| masker.mask(&c)).collect())
        .collect();
    let titles = t.titles.unwrap_or_default();
    let text =
        std::iter::once(titles.join("\t")).chain(processes.iter().map(|r| r.join("\t"))).collect::<Vec<_>>().join("\n");
    Ok(Out::new(Output { titles, processes }).text(text))
}
