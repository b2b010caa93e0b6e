//! Applications: replicas as labelled containers on a per-app network,
//! reachable by the app's name (a network alias: Docker DNS round-robin).
//!
//! A revision's spec is stored twice. The replicas' `io.mcp-fleet.spec`
//! label holds it with every environment *value* removed (names kept), so
//! `docker inspect` of a label shows no secret; the full spec, values
//! included, is `DOCKER_DATA_DIR/apps/<instance>/<name>-<env>/<rev>.json`
//! (mode 0600), which is what rollback and scale-up redeploy. A lost data
//! directory means a revision can no longer be recreated (rollback says so)
//! while the running replicas keep serving.
//!
//! A rollout replaces one replica slot at a time: the new replica starts
//! (slot 0, which holds the fixed host port, after its predecessor stops),
//! must become healthy (the engine's health status from a `HealthConfig`
//! with `CMD` argv; running suffices without a health check), and only then
//! is the old one stopped. Old replicas are removed once every slot is
//! healthy; when a new replica fails, every new one is removed and the
//! stopped old ones start again: status `rolled_back`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::{StartContainerOptions, StopContainerOptions};
use mcp_core::ToolError;
use mcp_types::docker::{AppDeployArgs, AppState, Replica};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Engine, api, name_of};
use crate::policy::{APP, ENV, MANAGED_BY, PREVIOUS, REPLICA, REVISION, SPEC, SPEC_DIGEST, Spec};

/// Most replicas of one app.
pub const MAX_REPLICAS: u32 = 20;

/// A revision as stored: the deploy arguments with the image resolved.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored {
    /// The arguments (`build` replaced by the image it made).
    pub args: AppDeployArgs,
    /// The publish address asked for.
    #[serde(default)]
    pub publish_address: Option<String>,
}

/// An app: name and environment.
#[derive(Debug, Clone)]
pub struct Key {
    /// Name.
    pub name: String,
    /// Environment.
    pub env: String,
}

impl Key {
    /// Check a name and environment.
    pub fn new(name: &str, env: Option<&str>) -> Result<Self, ToolError> {
        let ok = !name.is_empty()
            && name.len() <= 41
            && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !ok {
            return Err(ToolError::invalid(format!("app name {name:?}: use ^[a-z0-9][a-z0-9-]{{0,40}}$")));
        }
        let env = env.unwrap_or("dev");
        if !["dev", "staging", "prod"].contains(&env) {
            return Err(ToolError::invalid(format!("environment {env:?}: use dev, staging or prod")));
        }
        Ok(Self { name: name.to_owned(), env: env.to_owned() })
    }
}

/// One replica as found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Container id.
    pub id: String,
    /// Revision.
    pub rev: u64,
    /// Slot.
    pub slot: u32,
    /// Inspection.
    pub inspect: ContainerInspectResponse,
}

impl Found {
    fn running(&self) -> bool {
        self.inspect.state.as_ref().and_then(|s| s.running).unwrap_or(false)
    }
}

fn label(i: &ContainerInspectResponse, k: &str) -> Option<String> {
    i.config.as_ref().and_then(|c| c.labels.as_ref()).and_then(|l| l.get(k)).cloned()
}

/// The app's network: `<instance>-app-<name>-<env>`.
pub fn network(e: &Engine, k: &Key) -> String {
    e.policy.prefixed(&format!("app-{}-{}", k.name, k.env))
}

fn dir(e: &Engine, k: &Key) -> PathBuf {
    e.config.data_dir.join("apps").join(&e.policy.instance).join(format!("{}-{}", k.name, k.env))
}

/// The replicas of an app, every revision, by slot.
pub async fn find(e: &Engine, k: &Key) -> Result<Vec<Found>, ToolError> {
    let list = e.containers(true, &[(APP, &k.name), (ENV, &k.env)]).await?;
    let mut out = Vec::new();
    for c in list {
        let Some(id) = c.id else { continue };
        let Ok(inspect) = e.inspect(&id).await else { continue };
        let rev = label(&inspect, REVISION).and_then(|r| r.parse().ok()).unwrap_or(0);
        let slot = label(&inspect, REPLICA).and_then(|r| r.parse().ok()).unwrap_or(0);
        out.push(Found { id, rev, slot, inspect });
    }
    out.sort_by_key(|f| (f.rev, f.slot));
    Ok(out)
}

/// Save a revision's full spec (0600); returns its digest.
pub fn save(e: &Engine, k: &Key, rev: u64, s: &Stored) -> Result<String, ToolError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let d = dir(e, k);
    std::fs::create_dir_all(&d).map_err(ToolError::internal)?;
    let bytes = serde_json::to_vec(s).map_err(ToolError::internal)?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(d.join(format!("{rev}.json")))
        .map_err(ToolError::internal)?;
    f.write_all(&bytes).map_err(ToolError::internal)?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

/// A stored revision.
pub fn load(e: &Engine, k: &Key, rev: u64) -> Result<Stored, ToolError> {
    let p = dir(e, k).join(format!("{rev}.json"));
    let t = std::fs::read(&p).map_err(|_| {
        ToolError::conflict(format!(
            "revision {rev} of {}/{} is not stored on this server (DOCKER_DATA_DIR); it cannot be recreated",
            k.name, k.env
        ))
    })?;
    serde_json::from_slice(&t).map_err(ToolError::internal)
}

/// Stored revision numbers, ascending.
pub fn stored_revisions(e: &Engine, k: &Key) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(dir(e, k))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|d| d.file_name().to_str()?.strip_suffix(".json")?.parse().ok())
        .collect();
    v.sort_unstable();
    v
}

/// Forget an app's stored revisions.
pub fn forget(e: &Engine, k: &Key) {
    let _ = std::fs::remove_dir_all(dir(e, k));
}

/// The label form of a spec: environment values removed.
fn public_spec(s: &Stored) -> String {
    let mut p = s.clone();
    p.args.env = p.args.env.keys().map(|k| (k.clone(), String::new())).collect();
    serde_json::to_string(&p).unwrap_or_default()
}

/// Start one replica of `rev` in `slot`.
async fn start_replica(
    e: &Engine,
    k: &Key,
    s: &Stored,
    rev: u64,
    slot: u32,
    digest: &str,
    previous: Option<u64>,
) -> Result<String, ToolError> {
    let a = &s.args;
    let image = a.image.clone().ok_or_else(|| ToolError::invalid("give `image` or `build`"))?;
    let mut labels = BTreeMap::from([
        (APP.to_owned(), k.name.clone()),
        (ENV.to_owned(), k.env.clone()),
        (REVISION.to_owned(), rev.to_string()),
        (REPLICA.to_owned(), slot.to_string()),
        (SPEC_DIGEST.to_owned(), digest.to_owned()),
        (SPEC.to_owned(), public_spec(s)),
    ]);
    if let Some(p) = previous {
        labels.insert(PREVIOUS.to_owned(), p.to_string());
    }
    let ports = a
        .ports
        .iter()
        .map(|p| mcp_types::docker::Port { container: p.container, host: if slot == 0 { p.host } else { None } })
        .collect();
    let spec = Spec {
        image,
        argv: a.argv.clone(),
        env: a.env.clone(),
        network: network(e, k),
        aliases: vec![k.name.clone()],
        limits: a.limits.clone(),
        ports,
        publish_address: s.publish_address.clone(),
        health: a.health_check.clone(),
        labels,
        restart: true,
        ..Default::default()
    };
    let name = e.policy.prefixed(&format!("{}-{}-r{rev}-{slot}", k.name, k.env));
    // Created, joined to the apps network (when one is configured) and only then started, so a replica is
    // never up unreachable from there.
    let id = e.create(&name, &spec, false).await?;
    let started = async {
        e.join_apps_network(&id, &k.name).await?;
        e.docker.start_container(&id, None::<StartContainerOptions>).await.map_err(api)
    };
    if let Err(err) = started.await {
        let _ = e.remove_force(&id).await;
        return Err(err);
    }
    Ok(id)
}

/// Wait until a replica is healthy (or running, without a health check).
pub async fn wait_healthy(e: &Engine, id: &str, limit: Duration) -> Result<(), String> {
    let end = Instant::now() + limit;
    loop {
        let i = e.inspect(id).await.map_err(|x| x.to_string())?;
        let st = i.state.clone().unwrap_or_default();
        if !st.running.unwrap_or(false) && st.status != Some(ContainerStateStatusEnum::CREATED) {
            return Err(format!("replica {} exited with code {}", name_of(&i), st.exit_code.unwrap_or(-1)));
        }
        match st.health.as_ref().and_then(|h| h.status) {
            None | Some(HealthStatusEnum::NONE) | Some(HealthStatusEnum::EMPTY) if st.running.unwrap_or(false) => {
                return Ok(());
            }
            Some(HealthStatusEnum::HEALTHY) => return Ok(()),
            Some(HealthStatusEnum::UNHEALTHY) => {
                return Err(format!("replica {} is unhealthy: {}", name_of(&i), last_probe(&i).unwrap_or_default()));
            }
            _ => {}
        }
        if Instant::now() > end {
            return Err(format!("replica {} did not become healthy within {}s", name_of(&i), limit.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
}

fn last_probe(i: &ContainerInspectResponse) -> Option<String> {
    let log = i.state.as_ref()?.health.as_ref()?.log.as_ref()?;
    let out = log.last()?.output.clone()?;
    Some(crate::engine::tail(&Engine::masker(i).mask(out.trim()), 500).0)
}

fn start_timeout(s: &Stored) -> Duration {
    Duration::from_secs(s.args.health_check.as_ref().and_then(|h| h.start_timeout_secs).unwrap_or(60).clamp(1, 600))
}

async fn stop(e: &Engine, id: &str) {
    let _ = e.docker.stop_container(id, Some(StopContainerOptions { t: Some(5), signal: None })).await;
}

/// Roll out `s` as revision `rev`: the status and a message.
pub async fn rollout(e: &Engine, k: &Key, s: &Stored, rev: u64) -> Result<(String, Option<String>), ToolError> {
    let digest = save(e, k, rev, s)?;
    e.ensure_network(&network(e, k), false).await?;
    let old = find(e, k).await?;
    let previous = old.iter().map(|f| f.rev).max();
    let n = s.args.replicas.unwrap_or(1).min(MAX_REPLICAS);
    let limit = start_timeout(s);
    let fixed_port = s.args.ports.iter().any(|p| p.host.is_some_and(|h| h != 0));
    let mut new_ids: Vec<String> = Vec::new();
    let mut stopped: Vec<String> = Vec::new();
    let mut failure = None;
    for slot in 0..n {
        let old_slot: Vec<&Found> = old.iter().filter(|f| f.slot == slot).collect();
        if slot == 0 && fixed_port {
            for o in &old_slot {
                if o.running() {
                    stop(e, &o.id).await;
                    stopped.push(o.id.clone());
                }
            }
        }
        let id = match start_replica(e, k, s, rev, slot, &digest, previous).await {
            Ok(id) => id,
            Err(err) => {
                failure = Some(err.to_string());
                break;
            }
        };
        new_ids.push(id.clone());
        if let Err(why) = wait_healthy(e, &id, limit).await {
            failure = Some(why);
            break;
        }
        for o in &old_slot {
            if o.running() && !stopped.contains(&o.id) {
                stop(e, &o.id).await;
                stopped.push(o.id.clone());
            }
        }
    }
    match failure {
        None => {
            for o in &old {
                let _ = e.remove_force(&o.id).await;
            }
            Ok(("healthy".into(), None))
        }
        Some(why) if previous.is_some() => {
            for id in &new_ids {
                let _ = e.remove_force(id).await;
            }
            for id in &stopped {
                let _ = e.docker.start_container(id, None::<StartContainerOptions>).await;
            }
            for id in &stopped {
                let _ = wait_healthy(e, id, Duration::from_secs(60)).await;
            }
            Ok((
                "rolled_back".into(),
                Some(format!(
                    "revision {rev} failed its health check ({why}); revision {} serves again",
                    previous.unwrap_or(0)
                )),
            ))
        }
        Some(why) => Ok(("unhealthy".into(), Some(why))),
    }
}

/// The next revision number.
pub async fn next_revision(e: &Engine, k: &Key) -> Result<u64, ToolError> {
    let live = find(e, k).await?.iter().map(|f| f.rev).max().unwrap_or(0);
    let stored = stored_revisions(e, k).last().copied().unwrap_or(0);
    Ok(live.max(stored) + 1)
}

/// The app's state now; `status` overrides the computed one (`rolled_back`).
pub async fn state(e: &Engine, k: &Key, status: Option<String>) -> Result<AppState, ToolError> {
    let found = find(e, k).await?;
    if found.is_empty() && stored_revisions(e, k).is_empty() {
        return Err(ToolError::not_found(format!("no app {} in {}", k.name, k.env)));
    }
    let rev = found.iter().map(|f| f.rev).max().unwrap_or(0);
    let current: Vec<&Found> = found.iter().filter(|f| f.rev == rev).collect();
    let image =
        current.first().and_then(|f| f.inspect.config.as_ref().and_then(|c| c.image.clone())).unwrap_or_default();
    let mut replicas = Vec::new();
    let (mut healthy, mut running) = (0, 0);
    for f in &current {
        let st = f.inspect.state.clone().unwrap_or_default();
        let health = st
            .health
            .as_ref()
            .and_then(|h| h.status)
            .map(|h| h.to_string())
            .filter(|h| !h.is_empty() && h != "none")
            .unwrap_or_else(|| "none".into());
        let is_running = st.running.unwrap_or(false);
        running += usize::from(is_running);
        healthy += usize::from(is_running && (health == "healthy" || health == "none"));
        let addresses = f
            .inspect
            .network_settings
            .as_ref()
            .and_then(|n| n.ports.as_ref())
            .map(|m| {
                m.values()
                    .flatten()
                    .flatten()
                    .filter_map(|b| Some(format!("{}:{}", b.host_ip.clone()?, b.host_port.clone()?)))
                    .collect()
            })
            .unwrap_or_default();
        replicas.push(Replica {
            name: name_of(&f.inspect),
            state: st.status.map(|s| s.to_string()).unwrap_or_default(),
            health,
            health_output: last_probe(&f.inspect),
            addresses,
        });
    }
    let computed = if current.is_empty() || running == 0 {
        "stopped"
    } else if healthy == current.len() {
        "healthy"
    } else if healthy > 0 {
        "degraded"
    } else {
        "unhealthy"
    };
    Ok(AppState {
        name: k.name.clone(),
        environment: k.env.clone(),
        revision: rev,
        image,
        status: status.unwrap_or_else(|| computed.to_owned()),
        replicas,
        alias: Some(k.name.clone()),
    })
}

/// Scale the current revision to `n` replicas (0 stops them all, kept for scale-up).
pub async fn scale(e: &Engine, k: &Key, n: u32) -> Result<(), ToolError> {
    let found = find(e, k).await?;
    let Some(rev) = found.iter().map(|f| f.rev).max() else {
        return Err(ToolError::not_found(format!("no replicas of {} in {}; deploy it first", k.name, k.env)));
    };
    let cur: Vec<&Found> = found.iter().filter(|f| f.rev == rev).collect();
    if n == 0 {
        for f in &cur {
            stop(e, &f.id).await;
        }
        return Ok(());
    }
    let mut s = None;
    let mut started = Vec::new();
    for slot in 0..n {
        match cur.iter().find(|f| f.slot == slot) {
            Some(f) if f.running() => {}
            Some(f) => {
                e.docker.start_container(&f.id, None::<StartContainerOptions>).await.map_err(api)?;
                started.push(f.id.clone());
            }
            None => {
                if s.is_none() {
                    s = Some(load(e, k, rev)?);
                }
                let st = s.as_ref().ok_or_else(|| ToolError::internal("spec"))?;
                let digest = label(&cur[0].inspect, SPEC_DIGEST).unwrap_or_default();
                let prev = label(&cur[0].inspect, PREVIOUS).and_then(|p| p.parse().ok());
                started.push(start_replica(e, k, st, rev, slot, &digest, prev).await?);
            }
        }
    }
    for f in cur.iter().filter(|f| f.slot >= n) {
        e.remove_force(&f.id).await?;
    }
    let limit = Duration::from_secs(60);
    let waits = started.iter().map(|id| wait_healthy(e, id, limit));
    for r in futures::future::join_all(waits).await {
        r.map_err(ToolError::failed)?;
    }
    Ok(())
}

/// Every app of this instance: `(name, env) -> replicas`.
pub async fn all(e: &Engine) -> Result<HashMap<(String, String), Vec<bollard::models::ContainerSummary>>, ToolError> {
    let list = e.containers(true, &[]).await?;
    let mut m: HashMap<(String, String), Vec<_>> = HashMap::new();
    for c in list {
        let l = c.labels.clone().unwrap_or_default();
        if let (Some(a), Some(env)) = (l.get(APP), l.get(ENV))
            && l.contains_key(MANAGED_BY)
        {
            m.entry((a.clone(), env.clone())).or_default().push(c);
        }
    }
    Ok(m)
}
