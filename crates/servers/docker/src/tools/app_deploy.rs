//! `app_deploy`: deploy an application — an image, or one built from a
//! context under the bind roots — as replicas behind a health check, on the
//! app's own network under its name. A new revision replaces the running
//! one slot by slot and rolls back by itself when a new replica fails its
//! health check (`status: rolled_back`). Arguments are a superset of
//! `mcp_types::docker::AppDeployArgs`, the result of `AppState`.

use std::collections::{BTreeMap, HashMap};

use mcp_core::prelude::*;
use mcp_types::docker::{AppBuild, AppDeployArgs, AppState, HealthCheck, Limits, Port};

use crate::Engine;
use crate::apps::{self, Key, Stored};

/// Arguments (`AppDeployArgs` plus `publish_address`).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Application name (`^[a-z0-9][a-z0-9-]{0,40}$`).
    pub name: String,
    /// `dev`, `staging` or `prod` (default `dev`).
    pub environment: Option<String>,
    /// A ready image matching the image allow-list; or give `build`.
    pub image: Option<String>,
    /// Build the image first from a directory under the bind roots (tagged `mcp-app/<name>:<environment>-<revision>`).
    pub build: Option<AppBuild>,
    /// The command as argv; the image's default when absent.
    #[serde(default)]
    pub argv: Vec<String>,
    /// Replicas (default 1, at most 20).
    pub replicas: Option<u32>,
    /// Environment (values never echoed; stored only in the server's data directory).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Published ports; only the first replica publishes a fixed host port, the others get engine-chosen ones.
    #[serde(default)]
    pub ports: Vec<Port>,
    /// Limits per replica (capped by the server's maxima).
    pub limits: Option<Limits>,
    /// Health check (argv run inside the replica); without one a replica counts as healthy once running.
    pub health_check: Option<HealthCheck>,
    /// Host address ports are published on (default the server's first allowed one, 127.0.0.1).
    pub publish_address: Option<String>,
}

/// An app's state, with what happened.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AppResult {
    /// The state (`mcp_types::docker::AppState`).
    #[serde(flatten)]
    pub state: AppState,
    /// What happened (why a revision was rolled back...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The text form of an app result.
pub fn text(r: &AppResult) -> String {
    let s = &r.state;
    let mut t = format!("{} ({}) revision {} {}: {}", s.name, s.environment, s.revision, s.image, s.status);
    for rep in &s.replicas {
        t.push_str(&format!("\n  {} {} {} {}", rep.name, rep.state, rep.health, rep.addresses.join(",")));
    }
    if let Some(m) = &r.message {
        t.push_str(&format!("\n{m}"));
    }
    t
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "app_deploy",
        "Deploy an application (image, or build from a context under the bind roots) as N replicas behind a health \
         check, reachable on its own network under its name. Redeploying rolls replicas one at a time and rolls back \
         automatically (status rolled_back) when a new replica fails its health check.",
        Annotations::destructive(false),
        run,
    )
    .title("Deploy an app")
    .timeout(std::time::Duration::from_secs(3600))
}

async fn run(e: Arc<Engine>, a: Args, ctx: Ctx) -> Result<Out<AppResult>, ToolError> {
    let k = Key::new(&a.name, a.environment.as_deref())?;
    let replicas = a.replicas.unwrap_or(1);
    if !(1..=apps::MAX_REPLICAS).contains(&replicas) {
        return Err(ToolError::invalid(format!(
            "replicas {replicas}: use 1..={} (app_scale 0 stops an app)",
            apps::MAX_REPLICAS
        )));
    }
    let _guard = e.apps.lock().await;
    let rev = apps::next_revision(&e, &k).await?;
    let image = match (&a.image, &a.build) {
        (Some(i), None) => i.clone(),
        (None, Some(b)) => {
            let tag = format!("mcp-app/{}:{}-{rev}", k.name, k.env);
            crate::build::build(&e, &b.context, b.dockerfile.as_deref(), &tag, &HashMap::new(), false, &ctx).await?.tag
        }
        _ => return Err(ToolError::invalid("give exactly one of `image` and `build`")),
    };
    e.policy.image(&image)?;
    if let Some(h) = &a.health_check
        && h.argv.is_empty()
    {
        return Err(ToolError::invalid("health_check.argv is empty"));
    }
    let stored = Stored {
        args: AppDeployArgs {
            name: k.name.clone(),
            environment: Some(k.env.clone()),
            image: Some(image),
            build: None,
            argv: a.argv.clone(),
            replicas: Some(replicas),
            env: a.env.clone(),
            ports: a.ports.clone(),
            limits: a.limits.clone(),
            health_check: a.health_check.clone(),
        },
        publish_address: a.publish_address.clone(),
    };
    // The whole spec is checked before anything is touched.
    if !a.ports.is_empty() {
        e.policy.publish_address(a.publish_address.as_deref())?;
    }
    e.policy.user(None)?;
    let (status, message) = apps::rollout(&e, &k, &stored, rev).await?;
    let state = apps::state(&e, &k, Some(status)).await?;
    let r = AppResult { state, message };
    let t = text(&r);
    Ok(Out::new(r).text(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_arguments_are_accepted() {
        let c = AppDeployArgs {
            name: "web".into(),
            image: Some("mcp-app/web:1".into()),
            replicas: Some(2),
            ports: vec![Port { container: 8080, host: Some(18080) }],
            health_check: Some(HealthCheck {
                argv: vec!["true".into()],
                interval_secs: None,
                retries: None,
                start_timeout_secs: None,
            }),
            ..Default::default()
        };
        let a: Args = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
        assert_eq!(a.replicas, Some(2));
        // The result reads back as the contract type.
        let r = AppResult {
            state: AppState {
                name: "web".into(),
                environment: "dev".into(),
                revision: 1,
                image: "i".into(),
                status: "healthy".into(),
                replicas: vec![],
                alias: Some("web".into()),
            },
            message: None,
        };
        let back: AppState = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
        assert_eq!(back.revision, 1);
    }
}
