//! `container_stats`: one sample of a container's resource use (read-only).

use bollard::query_parameters::StatsOptions;
use futures::StreamExt;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::{api, name_of};

use super::ContainerArg;

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Name.
    pub name: String,
    /// CPU use since the previous sample, percent of one CPU times CPUs online.
    pub cpu_percent: f64,
    /// Memory in use, bytes.
    pub memory_bytes: u64,
    /// Memory limit, bytes.
    pub memory_limit: u64,
    /// Processes.
    pub pids: u64,
    /// Process limit.
    pub pids_limit: Option<u64>,
    /// Bytes received over all networks.
    pub net_rx_bytes: u64,
    /// Bytes sent over all networks.
    pub net_tx_bytes: u64,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_stats",
        "One sample of a running container's CPU, memory, process and network use.",
        Annotations::read_only(),
        run,
    )
    .title("Container stats")
}

async fn run(e: Arc<Engine>, a: ContainerArg, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let i = e.inspect(&a.container).await?;
    let id = i.id.clone().unwrap_or_default();
    let mut s = e.docker.stats(&id, Some(StatsOptions { stream: false, one_shot: false }));
    let st = tokio::time::timeout(std::time::Duration::from_secs(20), s.next())
        .await
        .map_err(|_| ToolError::timeout("the engine sent no stats within 20s"))?
        .ok_or_else(|| ToolError::failed("no stats"))?
        .map_err(api)?;
    let cpu = st.cpu_stats.clone().unwrap_or_default();
    let pre = st.precpu_stats.clone().unwrap_or_default();
    let total = |c: &bollard::models::ContainerCpuStats| c.cpu_usage.as_ref().and_then(|u| u.total_usage).unwrap_or(0);
    let d_cpu = total(&cpu).saturating_sub(total(&pre)) as f64;
    let d_sys = cpu.system_cpu_usage.unwrap_or(0).saturating_sub(pre.system_cpu_usage.unwrap_or(0)) as f64;
    let online = cpu.online_cpus.unwrap_or(1).max(1) as f64;
    let cpu_percent = if d_sys > 0.0 { (d_cpu / d_sys) * online * 100.0 } else { 0.0 };
    let mem = st.memory_stats.clone().unwrap_or_default();
    let (rx, tx) = st
        .networks
        .iter()
        .flatten()
        .fold((0, 0), |(r, t), (_, n)| (r + n.rx_bytes.unwrap_or(0), t + n.tx_bytes.unwrap_or(0)));
    let o = Output {
        name: name_of(&i),
        cpu_percent: (cpu_percent * 100.0).round() / 100.0,
        memory_bytes: mem.usage.unwrap_or(0),
        memory_limit: mem.limit.unwrap_or(0),
        pids: st.pids_stats.as_ref().and_then(|p| p.current).unwrap_or(0),
        pids_limit: st.pids_stats.as_ref().and_then(|p| p.limit),
        net_rx_bytes: rx,
        net_tx_bytes: tx,
    };
    let text =
        format!("{}: cpu {}%, memory {} / {}, pids {}", o.name, o.cpu_percent, o.memory_bytes, o.memory_limit, o.pids);
    Ok(Out::new(o).text(text))
}
