//! `security_audit`: what makes containers (this server's, one named, or
//! all) or a Dockerfile risky, with severities: privileged, capabilities,
//! root user, writable root, host mounts (the Docker socket above all),
//! host network/PID/IPC, ports on every address, no health check, no
//! limits, secret-looking environment names; hadolint's findings on a
//! Dockerfile when it is installed.

use bollard::models::ContainerInspectResponse;
use mcp_core::prelude::*;

use crate::Engine;
use crate::engine::name_of;
use crate::policy::{is_root_user, secret_name};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One container (any, id or name); default: every container this server created.
    pub container: Option<String>,
    /// Audit every container on the engine instead (read-only).
    #[serde(default)]
    pub all: bool,
    /// Also audit this Dockerfile (a path under the bind roots) with hadolint and the server's own checks.
    pub dockerfile: Option<String>,
}

/// A finding.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Finding {
    /// The container, or the Dockerfile's path.
    pub target: String,
    /// `critical`, `high`, `medium`, `low` or `info`.
    pub severity: String,
    /// Rule (`privileged`, `root-user`, `docker-socket`, hadolint's `DL3007`...).
    pub rule: String,
    /// What was found.
    pub message: String,
}

/// Result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Containers audited.
    pub containers: usize,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
    /// Count per severity.
    pub summary: std::collections::BTreeMap<String, usize>,
    /// `ran`, `not installed` or `not asked`.
    pub hadolint: String,
}

/// The tool.
pub fn tool() -> Tool<Engine> {
    Tool::new(
        "security_audit",
        "Audit containers (this server's by default, one named, or all) for privileged mode, added capabilities, root \
         user, writable root, host mounts (Docker socket), host network/PID/IPC, ports open on all addresses, missing \
         health checks and limits, secret-looking environment names; and a Dockerfile with hadolint when installed. \
         Findings carry severities.",
        Annotations::read_only(),
        run,
    )
    .title("Security audit")
    .timeout(std::time::Duration::from_secs(300))
}

fn rank(s: &str) -> u8 {
    match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

/// Findings of one container.
pub fn audit(i: &ContainerInspectResponse) -> Vec<Finding> {
    let name = name_of(i);
    let mut f = Vec::new();
    let mut add = |sev: &str, rule: &str, msg: String| {
        f.push(Finding { target: name.clone(), severity: sev.into(), rule: rule.into(), message: msg });
    };
    let h = i.host_config.clone().unwrap_or_default();
    let c = i.config.clone().unwrap_or_default();
    if h.privileged == Some(true) {
        add("critical", "privileged", "runs privileged: full access to the host's devices and kernel".into());
    }
    for cap in h.cap_add.iter().flatten() {
        let sev =
            if ["SYS_ADMIN", "CAP_SYS_ADMIN", "ALL", "SYS_PTRACE", "SYS_MODULE", "NET_ADMIN"].contains(&cap.as_str()) {
                "high"
            } else {
                "medium"
            };
        add(sev, "capabilities", format!("adds capability {cap}"));
    }
    if !h.cap_drop.iter().flatten().any(|c| c == "ALL") {
        add("medium", "capabilities", "keeps the engine's default capabilities (no cap_drop ALL)".into());
    }
    let user = c.user.clone().unwrap_or_default();
    if is_root_user(&user) {
        add("high", "root-user", format!("runs as root (user {:?})", user));
    }
    if h.readonly_rootfs != Some(true) {
        add("medium", "writable-root", "the root file system is writable".into());
    }
    if !h.security_opt.iter().flatten().any(|o| o.starts_with("no-new-privileges")) {
        add("medium", "no-new-privileges", "setuid binaries can gain privileges (no no-new-privileges)".into());
    }
    for o in h.security_opt.iter().flatten() {
        if o.contains("unconfined") {
            add("high", "security-opt", format!("security_opt {o}"));
        }
    }
    for m in i.mounts.iter().flatten() {
        let src = m.source.clone().unwrap_or_default();
        let kind = m.typ.as_ref().map(|t| t.to_string()).unwrap_or_default();
        if kind != "bind" {
            continue;
        }
        if src.ends_with("docker.sock") {
            add("critical", "docker-socket", format!("mounts the Docker socket {src}: root on the host"));
        } else if src == "/"
            || ["/etc", "/proc", "/sys", "/dev", "/root", "/boot", "/var/lib/docker"].iter().any(|p| src.starts_with(p))
        {
            add("high", "host-mount", format!("mounts the host's {src}"));
        } else {
            let rw = m.rw.unwrap_or(false);
            add(
                if rw { "low" } else { "info" },
                "host-mount",
                format!("bind-mounts {src} {}", if rw { "read-write" } else { "read-only" }),
            );
        }
    }
    let ns = |v: &Option<String>| v.clone().unwrap_or_default();
    if ns(&h.network_mode) == "host" {
        add("high", "host-network", "shares the host's network".into());
    }
    if ns(&h.pid_mode) == "host" {
        add("high", "host-pid", "shares the host's process table".into());
    }
    if ns(&h.ipc_mode) == "host" {
        add("medium", "host-ipc", "shares the host's IPC namespace".into());
    }
    if h.devices.as_ref().is_some_and(|d| !d.is_empty()) {
        add("high", "devices", "has host devices".into());
    }
    for (port, binds) in h.port_bindings.iter().flatten() {
        for b in binds.iter().flatten() {
            let ip = b.host_ip.clone().unwrap_or_default();
            if ip.is_empty() || ip == "0.0.0.0" || ip == "::" {
                add("medium", "public-port", format!("publishes {port} on every host address"));
            }
        }
    }
    if c.healthcheck.as_ref().and_then(|h| h.test.as_ref()).is_none_or(|t| t.first().is_some_and(|x| x == "NONE")) {
        add("low", "no-healthcheck", "has no health check".into());
    }
    if h.memory.unwrap_or(0) == 0 {
        add("low", "no-memory-limit", "has no memory limit".into());
    }
    if h.pids_limit.unwrap_or(0) <= 0 {
        add("low", "no-pids-limit", "has no process limit".into());
    }
    for kv in c.env.iter().flatten() {
        if let Some((k, _)) = kv.split_once('=')
            && secret_name(k)
        {
            add(
                "medium",
                "secret-env",
                format!("environment variable {k} looks like a secret (visible to docker inspect)"),
            );
        }
    }
    f
}

async fn hadolint(e: &Engine, path: &std::path::Path, target: &str) -> Result<Option<Vec<Finding>>, ToolError> {
    let Some(bin) = &e.hadolint else { return Ok(None) };
    let out = tokio::process::Command::new(bin)
        .args(["--format", "json", "--no-fail"])
        .arg(path)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .map_err(|_| ToolError::timeout("hadolint did not finish in 60s"))?
        .map_err(|err| ToolError::unavailable(format!("hadolint: {err}")))?;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Array(vec![]));
    Ok(Some(
        v.as_array()
            .into_iter()
            .flatten()
            .map(|x| Finding {
                target: format!("{target}:{}", x["line"].as_i64().unwrap_or(0)),
                severity: match x["level"].as_str().unwrap_or("") {
                    "error" => "high",
                    "warning" => "medium",
                    "info" => "low",
                    _ => "info",
                }
                .into(),
                rule: x["code"].as_str().unwrap_or("hadolint").into(),
                message: x["message"].as_str().unwrap_or("").into(),
            })
            .collect(),
    ))
}

/// The server's own Dockerfile checks (whether hadolint runs or not).
fn dockerfile_checks(text: &str, target: &str) -> Vec<Finding> {
    let mut f = Vec::new();
    let users: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter_map(|l| l.strip_prefix("USER ").or_else(|| l.strip_prefix("user ")))
        .collect();
    match users.last() {
        None => f.push(Finding {
            target: target.into(),
            severity: "medium".into(),
            rule: "root-user".into(),
            message: "no USER instruction: the image runs as root".into(),
        }),
        Some(u) if is_root_user(u.trim()) => f.push(Finding {
            target: target.into(),
            severity: "high".into(),
            rule: "root-user".into(),
            message: format!("the last USER is {u}"),
        }),
        _ => {}
    }
    if !text.lines().any(|l| l.trim_start().to_ascii_uppercase().starts_with("HEALTHCHECK")) {
        f.push(Finding {
            target: target.into(),
            severity: "low".into(),
            rule: "no-healthcheck".into(),
            message: "no HEALTHCHECK instruction".into(),
        });
    }
    f
}

async fn run(e: Arc<Engine>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let ids: Vec<String> = match &a.container {
        Some(c) => vec![c.clone()],
        None => e.containers(!a.all, &[]).await?.into_iter().filter_map(|c| c.id).collect(),
    };
    let mut findings = Vec::new();
    for id in &ids {
        match e.inspect(id).await {
            Ok(i) => findings.extend(audit(&i)),
            Err(err) if a.container.is_some() => return Err(err),
            Err(_) => {}
        }
    }
    let mut hadolint_state = "not asked".to_owned();
    if let Some(df) = &a.dockerfile {
        let p = e.policy.local_path(df)?;
        let text = std::fs::read_to_string(&p).map_err(|err| ToolError::invalid(format!("{df}: {err}")))?;
        findings.extend(dockerfile_checks(&text, df));
        match hadolint(&e, &p, df).await? {
            Some(h) => {
                hadolint_state = "ran".into();
                findings.extend(h);
            }
            None => hadolint_state = "not installed".into(),
        }
    }
    findings.sort_by_key(|f| rank(&f.severity));
    let mut summary = std::collections::BTreeMap::new();
    for f in &findings {
        *summary.entry(f.severity.clone()).or_insert(0) += 1;
    }
    let text = findings
        .iter()
        .map(|f| format!("[{}] {} {}: {}", f.severity, f.target, f.rule, f.message))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { containers: ids.len(), findings, summary, hadolint: hadolint_state })
        .text(if text.is_empty() { "no findings".into() } else { text }))
}
