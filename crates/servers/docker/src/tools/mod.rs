//! The tools, one per file, and the helpers they share.

pub mod app_deploy;
pub mod app_list;
pub mod app_logs;
pub mod app_remove;
pub mod app_restart;
pub mod app_rollback;
pub mod app_scale;
pub mod app_status;
pub mod compose_down;
pub mod compose_logs;
pub mod compose_ps;
pub mod compose_up;
pub mod compose_validate;
pub mod container_exec;
pub mod container_inspect;
pub mod container_list;
pub mod container_logs;
pub mod container_remove;
pub mod container_restart;
pub mod container_run;
pub mod container_start;
pub mod container_stats;
pub mod container_stop;
pub mod container_top;
pub mod events;
pub mod image_build;
pub mod image_history;
pub mod image_inspect;
pub mod image_list;
pub mod image_remove;
pub mod image_tag;
pub mod network_create;
pub mod network_list;
pub mod network_remove;
pub mod security_audit;
pub mod system_health;
pub mod system_info;
pub mod volume_create;
pub mod volume_list;
pub mod volume_remove;

use mcp_core::ToolError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Destructive tools act only with `confirm: true`.
pub fn confirm(c: bool, what: &str) -> Result<(), ToolError> {
    if c { Ok(()) } else { Err(ToolError::invalid(format!("{what} is destructive: call again with confirm: true"))) }
}

/// A count within `1..=max`, `default` when absent.
pub fn limit(v: Option<u32>, default: u32, max: u32) -> Result<usize, ToolError> {
    match v {
        None => Ok(default as usize),
        Some(n) if (1..=max).contains(&n) => Ok(n as usize),
        Some(n) => Err(ToolError::invalid(format!("{n} is outside 1..={max}"))),
    }
}

/// A container named in an argument.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContainerArg {
    /// Container id or name.
    pub container: String,
}

/// A container after a state change.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ContainerState {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `running`, `exited`...
    pub state: String,
}

/// The state of a container now.
pub async fn state_of(e: &crate::Engine, id: &str) -> Result<ContainerState, ToolError> {
    let i = e.inspect(id).await?;
    Ok(ContainerState {
        id: i.id.clone().unwrap_or_default(),
        name: crate::engine::name_of(&i),
        state: i.state.and_then(|s| s.status).map(|s| s.to_string()).unwrap_or_default(),
    })
}

/// The part of a label map this fleet writes (`io.mcp-fleet.*`), spec excluded.
pub fn fleet_labels(
    l: Option<&std::collections::HashMap<String, String>>,
) -> std::collections::BTreeMap<String, String> {
    l.into_iter()
        .flatten()
        .filter(|(k, _)| k.starts_with("io.mcp-fleet.") && k.as_str() != crate::policy::SPEC)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
