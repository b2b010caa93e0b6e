//! `events`: the engine's events in a time window (read-only), capped.

use std::collections::HashMap;

use bollard::query_parameters::EventsOptions;
use futures::StreamExt;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;
use crate::policy::MANAGED_BY;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Start of the window: RFC 3339 or a span back from now (default `15m`).
    pub since: Option<String>,
    /// End of the window: RFC 3339 or a span back from now (default now).
    pub until: Option<String>,
    /// Only this object type: `container`, `image`, `network`, `volume`...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Only events of objects this server created (by label).
    #[serde(default)]
    pub managed_only: bool,
    /// Most events returned, newest kept (default 200, at most 2000).
    pub limit: Option<u32>,
}

/// An event.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Event {
    /// RFC 3339.
    pub time: String,
    /// Object type.
    pub kind: String,
    /// `start`, `die`, `health_status: healthy`...
    pub action: String,
    /// Object id.
    pub id: String,
    /// Object name, when the engine gives one.
    pub name: Option<String>,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Events, oldest first.
    pub events: Vec<Event>,
    /// More events than returned.
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "events",
        "The engine's events (container start/die/health_status, image, network, volume...) in a time window, \
         oldest first, capped.",
        Annotations::read_only(),
        run,
    )
    .title("Engine events")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let limit = super::limit(a.limit, 200, 2000)?;
    let now = mcp_core::clock::now_ms() / 1000;
    let t = |v: Option<&str>, d: i64, w: &str| -> Result<i64, ToolError> {
        match v {
            None => Ok(d),
            Some(s) => mcp_core::clock::parse_time(s)
                .map(|ms| ms / 1000)
                .ok_or_else(|| ToolError::invalid(format!("{w} {s:?}: give RFC 3339 or a span like 15m"))),
        }
    };
    let since = t(a.since.as_deref(), now - 900, "since")?;
    // The engine's `until` is whole seconds and leaves out the second it names: asking for the next one keeps
    // what happened in the current second (a container removed just before the call), at the cost of the
    // engine holding the answer until that second has passed.
    let until = t(a.until.as_deref(), now + 1, "until")?.min(now + 1);
    if since > until {
        return Err(ToolError::invalid("since is after until"));
    }
    let mut filters: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(k) = &a.kind {
        filters.insert("type".into(), vec![k.clone()]);
    }
    if a.managed_only {
        filters.insert("label".into(), vec![format!("{MANAGED_BY}={}", e.policy.instance)]);
    }
    let opts = EventsOptions {
        since: Some(since.to_string()),
        until: Some(until.to_string()),
        filters: (!filters.is_empty()).then_some(filters),
    };
    let mut events = Vec::new();
    let mut truncated = false;
    let stream = e.docker.events(Some(opts));
    futures::pin_mut!(stream);
    let read = async {
        while let Some(ev) = stream.next().await {
            let ev = ev.map_err(api)?;
            let actor = ev.actor.unwrap_or_default();
            let attrs = actor.attributes.unwrap_or_default();
            events.push(Event {
                time: mcp_core::clock::rfc3339_ns(ev.time_nano.unwrap_or(ev.time.unwrap_or(0) * 1_000_000_000)),
                kind: ev.typ.map(|t| t.to_string()).unwrap_or_default(),
                action: ev.action.unwrap_or_default(),
                id: actor.id.unwrap_or_default(),
                name: attrs.get("name").cloned(),
            });
            if events.len() > limit {
                events.remove(0);
                truncated = true;
            }
        }
        Ok::<(), ToolError>(())
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .map_err(|_| ToolError::timeout("the engine's event stream did not end"))??;
    let text = events
        .iter()
        .map(|v| format!("{} {} {} {}", v.time, v.kind, v.action, v.name.clone().unwrap_or(v.id.clone())))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { events, truncated }).text(text))
}
