//! `container_list`: every container the engine has (read-only), with this
//! server's ownership and labels.

use std::collections::BTreeMap;

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::summary_name;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only containers this server created (default false: all).
    #[serde(default)]
    pub managed_only: bool,
    /// Only running ones (default false).
    #[serde(default)]
    pub running_only: bool,
    /// Only containers carrying this label (`key` or `key=value`).
    pub label: Option<String>,
}

/// A container.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Id (short).
    pub id: String,
    /// Name.
    pub name: String,
    /// Image.
    pub image: String,
    /// `running`, `exited`...
    pub state: String,
    /// The engine's status text (`Up 3 minutes (healthy)`).
    pub status: String,
    /// Created by this server (mutating tools act on it).
    pub managed: bool,
    /// The fleet's labels.
    pub labels: BTreeMap<String, String>,
    /// Published ports, `ip:public->private`.
    pub ports: Vec<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Containers.
    pub containers: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "container_list",
        "List containers (all of the engine's, or only this server's), with state, health status text, published \
         ports and the fleet's labels.",
        Annotations::read_only(),
        run,
    )
    .title("List containers")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let extra: Vec<(String, String)> = match &a.label {
        Some(l) => vec![match l.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.clone(), String::new()),
        }],
        None => vec![],
    };
    let mut list = e.containers(a.managed_only, &[]).await?;
    list.retain(|c| {
        let labels = c.labels.clone().unwrap_or_default();
        extra.iter().all(|(k, v)| labels.get(k).is_some_and(|x| v.is_empty() || x == v))
    });
    let containers: Vec<Item> = list
        .into_iter()
        .filter(|c| !a.running_only || c.state.map(|s| s.to_string()) == Some("running".into()))
        .map(|c| Item {
            id: c.id.clone().unwrap_or_default().chars().take(12).collect(),
            name: summary_name(&c),
            image: c.image.clone().unwrap_or_default(),
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            status: c.status.clone().unwrap_or_default(),
            managed: e.policy.owns(c.labels.as_ref()),
            labels: super::fleet_labels(c.labels.as_ref()),
            ports: c
                .ports
                .iter()
                .flatten()
                .map(|p| match p.public_port {
                    Some(pp) => format!("{}:{pp}->{}", p.ip.clone().unwrap_or_default(), p.private_port),
                    None => p.private_port.to_string(),
                })
                .collect(),
        })
        .collect();
    let text = containers
        .iter()
        .map(|c| format!("{} {} {} {} {}", c.id, c.name, c.image, c.status, if c.managed { "managed" } else { "" }))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { containers }).text(if text.is_empty() { "no containers".into() } else { text }))
}
