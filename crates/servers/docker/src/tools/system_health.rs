//! `system_health`: is the engine up, is the disk filling, which containers
//! are restarting, unhealthy or exited with an error, and the host's load.

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::summary_name;

/// Arguments (none).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// A container needing attention.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Problem {
    /// Name.
    pub name: String,
    /// `restarting`, `unhealthy` or `exited_nonzero`.
    pub problem: String,
    /// The engine's status text.
    pub status: String,
    /// Created by this server.
    pub managed: bool,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// `ok`, `degraded` (containers need attention) or `down` (engine unreachable).
    pub status: String,
    /// The engine answered its ping.
    pub engine: bool,
    /// Engine version.
    pub version: Option<String>,
    /// Disk use.
    pub disk: Option<super::system_info::Disk>,
    /// Running containers.
    pub running: usize,
    /// Containers needing attention.
    pub problems: Vec<Problem>,
    /// Host load averages (1, 5, 15 minutes) from /proc/loadavg.
    pub load: Vec<f64>,
    /// Why the engine is down, when it is.
    pub error: Option<String>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "system_health",
        "Health of the Docker host: engine ping and version, disk use, restarting/unhealthy/failed containers, host \
         load averages. status is ok, degraded or down.",
        Annotations::read_only(),
        run,
    )
    .title("System health")
}

fn load() -> Vec<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .map(|t| t.split_whitespace().take(3).filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default()
}

async fn run(e: Arc<Engine>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if let Err(err) = e.docker.ping().await {
        let o = Output {
            status: "down".into(),
            engine: false,
            version: None,
            disk: None,
            running: 0,
            problems: vec![],
            load: load(),
            error: Some(err.to_string()),
        };
        return Ok(Out::new(o).text(format!("engine down: {err}")));
    }
    let version = e.docker.version().await.ok().and_then(|v| v.version);
    let disk = super::system_info::disk(&e).await.ok();
    let list = e.containers(false, &[]).await?;
    let mut problems = Vec::new();
    let mut running = 0;
    for c in &list {
        let state = c.state.map(|s| s.to_string()).unwrap_or_default();
        let status = c.status.clone().unwrap_or_default();
        running += usize::from(state == "running");
        let problem = if state == "restarting" {
            Some("restarting")
        } else if status.contains("(unhealthy)") {
            Some("unhealthy")
        } else if state == "exited" && !status.starts_with("Exited (0)") {
            Some("exited_nonzero")
        } else {
            None
        };
        if let Some(p) = problem {
            problems.push(Problem {
                name: summary_name(c),
                problem: p.into(),
                status,
                managed: e.policy.owns(c.labels.as_ref()),
            });
        }
    }
    let status = if problems.is_empty() { "ok" } else { "degraded" };
    let text = format!(
        "{status}: engine {}, {running} running, {} problems, load {:?}",
        version.clone().unwrap_or_default(),
        problems.len(),
        load()
    );
    Ok(Out::new(Output {
        status: status.into(),
        engine: true,
        version,
        disk,
        running,
        problems,
        load: load(),
        error: None,
    })
    .text(text))
}
