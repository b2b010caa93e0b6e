//! Compose files: validation (the Compose Specification's schema through
//! `mcp_core::schemas`, then the policy's checks of every service), the
//! policy override every `up` adds, and the CLI (`docker compose` v2 or
//! Debian's `docker-compose` v1) run as argv with a cleared environment.
//!
//! The override (a second `-f` file in the data directory) gives every
//! service the instance label, `cap_drop: ALL`, `no-new-privileges`, the
//! default user, limits and a read-only root with a tmpfs `/tmp` where the
//! file does not say otherwise within the policy. It repeats the file's
//! `version` key, as v1 refuses files of different versions together.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mcp_core::ToolError;
use mcp_core::schemas::{Kind, check_text};
use serde_json::{Value, json};

use crate::engine::{Engine, tail};
use crate::policy::{MANAGED_BY, Masker};

/// Largest compose file read.
const MAX_FILE: u64 = 1 << 20;
/// The label naming the compose project (server-side name) on services.
pub const PROJECT: &str = "io.mcp-fleet.compose";

/// The compose CLI found at start.
#[derive(Debug, Clone)]
pub struct ComposeCli {
    /// The program.
    pub program: PathBuf,
    /// Leading arguments (`compose` for v2).
    pub prefix: Vec<String>,
    /// `v1` or `v2`.
    pub version: &'static str,
}

impl ComposeCli {
    /// Find the CLI: `choice` is `auto`, `none` or a path to `docker-compose`.
    pub fn detect(choice: &str) -> Option<Self> {
        match choice {
            "none" => None,
            "auto" => {
                let dirs = ["/usr/local/bin", "/usr/bin", "/bin"];
                let find = |n: &str| dirs.iter().map(|d| Path::new(d).join(n)).find(|p| p.is_file());
                if let Some(docker) = find("docker") {
                    let ok = std::process::Command::new(&docker)
                        .args(["compose", "version"])
                        .env_clear()
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|s| s.success());
                    if ok {
                        return Some(Self { program: docker, prefix: vec!["compose".into()], version: "v2" });
                    }
                }
                find("docker-compose").map(|p| Self { program: p, prefix: vec![], version: "v1" })
            }
            path => Some(Self { program: PathBuf::from(path), prefix: vec![], version: "v1" }),
        }
    }
}

/// One finding of `compose_validate`.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// `schema` (the Compose Specification) or `policy`.
    pub source: String,
    /// The schema keyword or the policy rule (`privileged`, `bind-roots`...).
    pub rule: String,
    /// The service (policy findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Line (schema findings).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

/// A compose file read and judged.
pub struct Checked {
    /// Its canonical path.
    pub path: PathBuf,
    /// The parsed document.
    pub doc: Value,
    /// Every finding; empty means valid.
    pub findings: Vec<Finding>,
}

/// Read a compose file under the bind roots (or take `text`, judged as if
/// in the first root) and check it against the schema and the policy.
pub fn check(e: &Engine, file: Option<&str>, text: Option<&str>) -> Result<Checked, ToolError> {
    let (path, text) = match (file, text) {
        (Some(f), None) => {
            let p = e.policy.local_path(f).map_err(|err| match err {
                ToolError::Denied(m) => ToolError::denied(m.replacen("build-context", "compose-file", 1)),
                other => other,
            })?;
            let meta = std::fs::metadata(&p).map_err(|er| ToolError::not_found(format!("{f}: {er}")))?;
            if !meta.is_file() || meta.len() > MAX_FILE {
                return Err(ToolError::invalid(format!("{f} is not a regular file under {MAX_FILE} bytes")));
            }
            let t = std::fs::read_to_string(&p).map_err(|er| ToolError::invalid(format!("{f}: {er}")))?;
            (p, t)
        }
        (None, Some(t)) => {
            let root = e.policy.local_path(".").unwrap_or_else(|_| PathBuf::from("/nonexistent"));
            (root.join("compose.yaml"), t.to_owned())
        }
        _ => return Err(ToolError::invalid("give either `file` or `text`")),
    };
    let mut findings: Vec<Finding> = check_text(&text, Kind::Compose)
        .map_err(ToolError::internal)?
        .into_iter()
        .map(|f| Finding {
            source: "schema".into(),
            rule: f.rule,
            service: None,
            line: Some(f.line),
            message: f.message,
        })
        .collect();
    let doc = match yaml_serde::from_str::<yaml_serde::Value>(&text) {
        Ok(mut y) => {
            let _ = y.apply_merge();
            mcp_core::schemas::to_json(y)
        }
        Err(_) => Value::Null,
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    for (service, rule, message) in e.policy.compose_findings(&doc, &dir) {
        findings.push(Finding { source: "policy".into(), rule, service: Some(service), line: None, message });
    }
    Ok(Checked { path, doc, findings })
}

/// A checked file that must be clean, or a refusal listing what is wrong.
pub fn require_valid(e: &Engine, file: &str) -> Result<Checked, ToolError> {
    let c = check(e, Some(file), None)?;
    if c.findings.is_empty() {
        return Ok(c);
    }
    let list: Vec<String> = c
        .findings
        .iter()
        .take(10)
        .map(|f| {
            format!(
                "{} {}{}: {}",
                f.source,
                f.rule,
                f.service.as_ref().map(|s| format!(" ({s})")).unwrap_or_default(),
                f.message
            )
        })
        .collect();
    let policy = c.findings.iter().any(|f| f.source == "policy");
    let msg = format!("compose-validate: {file} fails compose_validate: {}", list.join("; "));
    Err(if policy { ToolError::denied(msg) } else { ToolError::invalid(msg) })
}

/// The project name: `<instance>-<name>`.
pub fn project(e: &Engine, name: &str) -> Result<String, ToolError> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err(ToolError::invalid(format!("project name {name:?}: use [a-z0-9_-]{{1,40}}")));
    }
    Ok(e.policy.prefixed(name))
}

/// Write the policy override for `doc` and return its path.
pub fn write_override(e: &Engine, project: &str, doc: &Value) -> Result<PathBuf, ToolError> {
    let version = doc.get("version").and_then(Value::as_str);
    // v1 refuses mem_limit & co. in version 3 files (they moved under deploy).
    let limits_ok = version.is_none_or(|v| v.starts_with('2'));
    let (mem, cpus, pids) = e.policy.limit_defaults();
    let mut services = serde_json::Map::new();
    for (name, s) in doc.get("services").and_then(Value::as_object).into_iter().flatten() {
        let mut o = serde_json::Map::new();
        o.insert("labels".into(), json!({ MANAGED_BY: e.policy.instance, PROJECT: project }));
        o.insert("cap_drop".into(), json!(["ALL"]));
        o.insert("security_opt".into(), json!(["no-new-privileges:true"]));
        if s.get("user").is_none() {
            o.insert("user".into(), json!(e.policy.default_user()));
        }
        if s.get("privileged").is_none() {
            o.insert("privileged".into(), json!(false));
        }
        if limits_ok {
            if s.get("mem_limit").is_none() {
                o.insert("mem_limit".into(), json!(mem));
            }
            if s.get("pids_limit").is_none() {
                o.insert("pids_limit".into(), json!(pids));
            }
            if s.get("cpus").is_none() {
                o.insert("cpus".into(), json!(cpus));
            }
        }
        if e.policy.read_only_root() && s.get("read_only").is_none() {
            o.insert("read_only".into(), json!(true));
            o.insert("tmpfs".into(), json!(["/tmp"]));
        }
        services.insert(name.clone(), Value::Object(o));
    }
    let mut top = serde_json::Map::new();
    if let Some(v) = version {
        top.insert("version".into(), json!(v));
    }
    top.insert("services".into(), Value::Object(services));
    let dir = e.config.data_dir.join("compose");
    std::fs::create_dir_all(&dir).map_err(ToolError::internal)?;
    let path = dir.join(format!("{project}.override.json"));
    // JSON is YAML; compose reads it as such.
    std::fs::write(&path, serde_json::to_vec_pretty(&Value::Object(top)).map_err(ToolError::internal)?)
        .map_err(ToolError::internal)?;
    Ok(path)
}

/// What a compose command printed.
pub struct CliOutput {
    /// Exit code (`None`: killed at the time limit).
    pub code: Option<i32>,
    /// Output, stdout then stderr, masked and capped.
    pub output: String,
    /// Cut to the cap.
    pub truncated: bool,
}

/// Run the compose CLI: `-p project -f file [-f override] args...`, argv
/// only, environment cleared but for `PATH`, `HOME` (the data directory) and
/// `DOCKER_HOST`, working directory the file's.
pub async fn run(
    e: &Engine,
    project: &str,
    files: &[&Path],
    args: &[String],
    limit: Duration,
    masker: &Masker,
) -> Result<CliOutput, ToolError> {
    let cli = e.compose.as_ref().ok_or_else(|| {
        ToolError::unavailable("no compose CLI on this server (neither `docker compose` nor `docker-compose`)")
    })?;
    let mut cmd = tokio::process::Command::new(&cli.program);
    cmd.args(&cli.prefix).arg("--project-name").arg(project);
    for f in files {
        cmd.arg("--file").arg(f);
    }
    cmd.args(args);
    let home = e.config.data_dir.join("compose-home");
    std::fs::create_dir_all(&home).map_err(ToolError::internal)?;
    cmd.env_clear().env("PATH", "/usr/local/bin:/usr/bin:/bin").env("HOME", &home);
    if let Some(h) = &e.config.host {
        cmd.env("DOCKER_HOST", h);
    }
    if let Some(dir) = files.first().and_then(|f| f.parent()) {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    let child = cmd.spawn().map_err(|er| ToolError::unavailable(format!("{}: {er}", cli.program.display())))?;
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(o)) => {
            let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            let (output, truncated) = tail(&masker.mask(&text), e.config.max_output);
            Ok(CliOutput { code: o.status.code(), output, truncated })
        }
        Ok(Err(er)) => Err(ToolError::internal(er)),
        Err(_) => Ok(CliOutput { code: None, output: format!("killed after {}s", limit.as_secs()), truncated: false }),
    }
}

/// The environment values of a compose file's services, for masking.
pub fn masker(doc: &Value) -> Masker {
    let mut m = Masker::default();
    for s in doc.get("services").and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
        match s.get("environment") {
            Some(Value::Object(o)) => {
                m.extend(&Masker::from_env(o.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))))
            }
            Some(Value::Array(a)) => {
                let lines: Vec<String> = a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect();
                m.extend(&Masker::from_env_lines(&lines));
            }
            _ => {}
        }
    }
    m
}
