//! `image_inspect`: one image's configuration (read-only).

use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::api;
use crate::policy::Masker;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Image reference or id.
    pub image: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Id.
    pub id: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Built by this server.
    pub managed: bool,
    /// The image's user (empty: root).
    pub user: String,
    /// Default command.
    pub cmd: Vec<String>,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Exposed ports.
    pub exposed_ports: Vec<String>,
    /// Whether it declares a health check.
    pub healthcheck: bool,
    /// Size, bytes.
    pub size: i64,
    /// The engine's whole document (environment values of secret-looking names masked).
    pub image: Value,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "image_inspect",
        "Inspect an image: user, command, entrypoint, exposed ports, health check, labels, layers.",
        Annotations::read_only(),
        run,
    )
    .title("Inspect an image")
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let mut i = e.docker.inspect_image(&a.image).await.map_err(api)?;
    let cfg = i.config.clone().unwrap_or_default();
    if let Some(c) = i.config.as_mut()
        && let Some(env) = c.env.as_mut()
    {
        *env = Masker::mask_env_lines(env);
    }
    let o = Output {
        id: i.id.clone().unwrap_or_default(),
        tags: i.repo_tags.clone().unwrap_or_default(),
        managed: e.policy.owns(cfg.labels.as_ref()),
        user: cfg.user.clone().unwrap_or_default(),
        cmd: cfg.cmd.clone().unwrap_or_default(),
        entrypoint: cfg.entrypoint.clone().unwrap_or_default(),
        exposed_ports: cfg.exposed_ports.clone().unwrap_or_default(),
        healthcheck: cfg
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.as_ref())
            .is_some_and(|t| t.first().is_some_and(|x| x != "NONE")),
        size: i.size.unwrap_or(0),
        image: serde_json::to_value(&i).map_err(ToolError::internal)?,
    };
    Ok(Out::new(o))
}
