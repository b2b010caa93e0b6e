//! `deploy`: build the service's image from the project's `Dockerfile` and
//! run it behind its health check (the docker server's `app_deploy`), after
//! the tag, so only a release that passed its checks is deployed.
//!
//! The build context is the project's slug, which the docker server resolves
//! against its first bind root (the projects folder, as for the phase
//! containers). The template's `deploy` section gives the port the image
//! listens on and the health probe, an argv run inside the container.
//!
//! The result records what the docker server answered and nothing more:
//! its status, the addresses it published, what the health probe printed.
//! A deployment that is not healthy is a result with `passed: false`
//! (the run fails and the report says what the probe returned), not a lost
//! answer. Idempotent in effect: a repeat deploys the same project again as
//! a new revision of the same application, which is what a retry after a
//! crash wants.

use mcp_types::docker::{AppBuild, AppDeployArgs, AppState, HealthCheck, Port};
use serde_json::{Value, json};

use super::command::to_args;
use super::container::docker;
use super::vars::template;
use crate::exec::Ctx;
use crate::peers::StepError;

/// Deploy the project to `environment`.
pub(super) async fn run(cx: &mut Ctx<'_>, environment: &str) -> Result<Value, StepError> {
    let docker = docker(cx)?;
    let template = template(cx)?;
    let d = template
        .manifest
        .deploy
        .as_ref()
        .ok_or_else(|| StepError::fatal(format!("the {} template says nothing about deploying", template.name)))?;
    let args = AppDeployArgs {
        name: cx.run.slug.clone(),
        environment: Some(environment.to_owned()),
        build: Some(AppBuild { context: cx.run.slug.clone(), dockerfile: None }),
        ports: vec![Port { container: d.port, host: None }],
        health_check: Some(HealthCheck {
            argv: d.health.clone(),
            interval_secs: None,
            retries: None,
            start_timeout_secs: None,
        }),
        ..AppDeployArgs::default()
    };
    let app: AppState = docker.call_as("app_deploy", to_args(&args)?).await?;
    Ok(result(&app, d.port))
}

/// What the run records: `passed` only when every replica is healthy; the
/// alias and container `port` are where a container on the application
/// network reaches it (the screenshot step's browser, in compose).
fn result(app: &AppState, port: u16) -> Value {
    let passed = app.status == "healthy";
    let addresses: Vec<&str> = app.replicas.iter().flat_map(|r| r.addresses.iter().map(String::as_str)).collect();
    let probe = app.replicas.iter().find_map(|r| r.health_output.as_deref()).map(|o| flat(o, 300));
    let mut summary = format!("{} revision {}: {}", app.environment, app.revision, app.status);
    if let Some(a) = addresses.first() {
        summary.push_str(&format!(", published at {a}"));
    }
    if let Some(p) = &probe {
        summary.push_str(&format!("; health check said: {p}"));
    } else if !passed {
        summary.push_str("; the health check left no output");
    }
    json!({
        "phase": "deploy", "passed": passed, "summary": summary, "name": app.name,
        "environment": app.environment, "revision": app.revision, "status": app.status, "image": app.image,
        "addresses": addresses, "health_output": probe, "replicas": app.replicas, "alias": app.alias, "port": port,
    })
}

/// `text` on one line, at most `max` characters, quotes kept: what the
/// probe printed, as it printed it.
pub(super) fn flat(text: &str, max: usize) -> String {
    let s: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max { s.chars().take(max.saturating_sub(1)).collect::<String>() + "…" } else { s }
}

#[cfg(test)]
mod tests {
    use mcp_types::docker::Replica;

    use super::*;

    fn app(status: &str, health: &str, out: Option<&str>, addresses: &[&str]) -> AppState {
        AppState {
            name: "hello".into(),
            environment: "dev".into(),
            revision: 2,
            image: "fleet-app/hello:2".into(),
            status: status.into(),
            replicas: vec![Replica {
                name: "hello-dev-1".into(),
                state: "running".into(),
                health: health.into(),
                health_output: out.map(str::to_owned),
                addresses: addresses.iter().map(|a| (*a).to_owned()).collect(),
            }],
            alias: None,
        }
    }

    #[test]
    fn the_result_says_only_what_the_server_answered() {
        let r = result(&app("healthy", "healthy", Some("{\"status\": \"ok\"}\n"), &["127.0.0.1:49153"]), 8080);
        assert_eq!(r["passed"], true);
        assert_eq!(r["addresses"], json!(["127.0.0.1:49153"]));
        assert_eq!(
            r["summary"],
            "dev revision 2: healthy, published at 127.0.0.1:49153; health check said: {\"status\": \"ok\"}"
        );
        let r = result(&app("unhealthy", "unhealthy", None, &[]), 8080);
        assert_eq!(r["passed"], false);
        assert_eq!(r["summary"], "dev revision 2: unhealthy; the health check left no output");
    }
}
