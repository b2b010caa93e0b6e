//! `cargo xtask up`: the fleet as plain processes on embedded defaults.
//!
//! Every program of the fleet has a fixed loopback port in `fleet.toml`. `up`
//! runs the ones that exist in this workspace, each with the environment its
//! `[programs.X.local]` table and its peers give it, which works without any
//! outside service, writes logs under `.data/logs/`, and
//! waits. Ctrl-C reaches every process (they share the terminal's process
//! group) and each drains and stops on its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::manifest::{self, LocalContext, Manifest, Sink, peer_var};
use crate::util::{cargo, target_dir, workspace_root};

/// The crate directory of a program, if it exists in this workspace.
pub fn crate_dir(root: &Path, name: &str) -> Option<PathBuf> {
    let kind = manifest::Kind::of_name(name)?;
    let d = root.join("crates").join(kind.folder()).join(name.strip_prefix(kind.prefix())?);
    d.join("Cargo.toml").exists().then_some(d)
}

/// The programs of the manifest whose crates are in this workspace, with
/// their local ports, by port.
pub fn present(root: &Path) -> anyhow::Result<Vec<(String, u16)>> {
    let m = Manifest::load(root)?;
    Ok(m.by_port()
        .into_iter()
        .filter(|(n, _)| crate_dir(root, n).is_some())
        .map(|(n, p)| (n.to_owned(), p.port))
        .collect())
}

/// What the local placeholders of `fleet.toml` mean under `cargo xtask up`.
struct Local<'a> {
    root: &'a Path,
    data: &'a Path,
}

impl LocalContext for Local<'_> {
    fn data(&self) -> PathBuf {
        self.data.to_path_buf()
    }

    fn projects(&self) -> PathBuf {
        self.root.join("projects")
    }

    fn secret(&self, name: &str) -> anyhow::Result<PathBuf> {
        secret_file(self.data, name)
    }

    fn rust_sysroot_bin(&self) -> anyhow::Result<PathBuf> {
        let sysroot = crate::util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
        Ok(Path::new(sysroot.trim()).join("bin"))
    }

    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The environment a program needs on embedded defaults: the sinks, its
/// peers (at their local ports) and its `[programs.X.local]` variables.
/// `present` are the programs that run, with their ports.
fn env_for(
    m: &Manifest,
    name: &str,
    root: &Path,
    data: &Path,
    present: &[(String, u16)],
) -> anyhow::Result<Vec<(String, String)>> {
    let port_of = |n: &str| present.iter().find(|(p, _)| p == n).map(|(_, port)| *port);
    let program = m.programs.get(name).with_context(|| format!("{name} is not in {}", manifest::FILE))?;
    let mut env: Vec<(String, String)> = vec![];
    // Spans to the observer, log lines to the log server, with the fleet's
    // token (mcp-core sends MCP_PEER_TOKEN, which defaults to MCP_AUTH_TOKEN).
    for sink in [Sink::Otlp, Sink::Logs] {
        if let Some(port) = m.sink(sink).and_then(port_of) {
            env.push((sink.variable().into(), format!("http://127.0.0.1:{port}")));
        }
    }
    for peer in &program.peers {
        if let Some(port) = port_of(peer) {
            env.push((peer_var(peer), format!("http://127.0.0.1:{port}/mcp")));
        }
    }
    let cx = Local { root, data };
    for (k, v) in program.local.env.iter() {
        if let Some(v) = manifest::expand(v, &cx).with_context(|| format!("[programs.{name}.local.env] {k}"))? {
            env.push((k.to_owned(), v));
        }
    }
    Ok(env)
}

/// A random secret kept in `data/name` (created once, owner-only).
fn secret_file(data: &Path, name: &str) -> anyhow::Result<PathBuf> {
    let path = data.join(name);
    if !path.exists() {
        let mut bytes = [0u8; 32];
        std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes))?;
        let t: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(&path, &t)?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    }
    Ok(path)
}

fn token(data: &Path) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(secret_file(data, "token")?)?.trim().to_owned())
}

/// Build and run the fleet.
pub fn up(release: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let m = Manifest::load(&root)?;
    let programs = present(&root)?;
    if programs.is_empty() {
        bail!("no programs in this workspace");
    }
    let mut args = vec!["build"];
    if release {
        args.push("--release");
    }
    for (n, _) in &programs {
        args.extend(["-p", n.as_str()]);
    }
    cargo(&root, &args, &[])?;
    let bin = target_dir(&root).join(if release { "release" } else { "debug" });
    let data = root.join(".data");
    std::fs::create_dir_all(data.join("logs"))?;
    std::fs::create_dir_all(root.join("projects"))?;
    let token = token(&data)?;
    let mut children: Vec<(&str, Child)> = Vec::new();
    for (name, port) in &programs {
        let log = std::fs::File::create(data.join("logs").join(format!("{name}.log")))?;
        let mut cmd = Command::new(bin.join(name.as_str()));
        cmd.env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("MCP_AUTH_TOKEN", &token)
            .env("LOG_FORMAT", "json")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .current_dir(&root);
        for (k, v) in env_for(&m, name, &root, &data, &programs)? {
            cmd.env(k, v);
        }
        children.push((name.as_str(), cmd.spawn().with_context(|| format!("cannot start {name}"))?));
    }
    for (name, port) in &programs {
        wait_healthy(name, *port)?;
    }
    eprintln!("\nthe fleet is up (logs in {}):", data.join("logs").display());
    for (name, port) in &programs {
        eprintln!("  {name:<24} http://127.0.0.1:{port}/mcp");
    }
    eprintln!("bearer token: in {} (e.g. TOKEN=$(cat .data/token))", data.join("token").display());
    if programs.iter().any(|(n, _)| n == "mcp-client-llm-agent") {
        eprintln!(
            "send a request: save an email from you@localhost as a file in {}, or call the agent's \
             submit_request tool; replies and reports appear in {}",
            data.join("email/mail/inbox/new").display(),
            data.join("email/mail/outbox").display()
        );
    }
    eprintln!("Ctrl-C stops everything.");
    loop {
        let mut exited = None;
        for (name, child) in &mut children {
            if let Some(status) = child.try_wait()? {
                exited = Some((*name, status));
                break;
            }
        }
        if let Some((name, status)) = exited {
            for (_, other) in &mut children {
                let _ = other.kill();
            }
            bail!("{name} exited ({status}); see its log in .data/logs/");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn wait_healthy(name: &str, port: u16) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if crate::util::http_get_ok(port, "/health") {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{name} did not become healthy on port {port}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_program_gets_the_sinks_its_peers_and_its_local_environment() {
        let root = workspace_root();
        let m = Manifest::load(&root).unwrap();
        let data = tempfile::tempdir().unwrap();
        let present = present(&root).unwrap();
        let port = |n: &str| present.iter().find(|(p, _)| p == n).unwrap().1;
        let env = |name: &str| -> std::collections::BTreeMap<String, String> {
            env_for(&m, name, &root, data.path(), &present).unwrap().into_iter().collect()
        };
        let planner = env("mcp-client-planner");
        assert_eq!(planner["MCP_SERVER_FS_URL"], format!("http://127.0.0.1:{}/mcp", port("mcp-server-fs")));
        assert_eq!(
            planner["MCP_CLIENT_LLM_AGENT_URL"],
            format!("http://127.0.0.1:{}/mcp", port("mcp-client-llm-agent"))
        );
        assert_eq!(planner["OTEL_EXPORTER_OTLP_ENDPOINT"], format!("http://127.0.0.1:{}", port("mcp-client-observer")));
        assert_eq!(planner["MCP_LOG_ENDPOINT"], format!("http://127.0.0.1:{}", port("mcp-server-log")));
        let db = format!("sqlite:{}", data.path().join("planner/planner.db").display());
        assert_eq!(planner["PLANNER_DATABASE_URL"], db);
        // Only declared peers: fs calls no one, so it gets no peer URL.
        assert!(!env("mcp-server-fs").keys().any(|k| k.ends_with("_URL")));
        // A {secret:...} placeholder makes the file once, owner-only.
        let email = env("mcp-server-email");
        let secret = Path::new(&email["EMAIL_TOKEN_SECRET_FILE"]);
        assert_eq!(secret, data.path().join("email-token-secret"));
        assert_eq!(std::fs::read_to_string(secret).unwrap().len(), 64);
    }
}
