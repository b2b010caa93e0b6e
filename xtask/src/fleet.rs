//! `cargo xtask up`: the fleet as plain processes on embedded defaults.
//!
//! Every program of the fleet has a fixed loopback port below. `up` runs the
//! ones that exist in this workspace, each with the environment it needs to
//! work without any outside service, writes logs under `.data/logs/`, and
//! waits. Ctrl-C reaches every process (they share the terminal's process
//! group) and each drains and stops on its own.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::util::{cargo, target_dir, workspace_root};

/// Every program of the fleet and its local port. Compose uses 8080 inside
/// each container; locally they need distinct ports.
pub const PROGRAMS: &[(&str, u16)] = &[
    ("mcp-server-email", 8101),
    ("mcp-server-git", 8102),
    ("mcp-server-fs", 8103),
    ("mcp-server-lint", 8104),
    ("mcp-server-test", 8105),
    ("mcp-server-sql", 8106),
    ("mcp-server-log", 8107),
    ("mcp-server-gitlab", 8108),
    ("mcp-server-docker", 8109),
    ("mcp-server-shell", 8110),
    ("mcp-server-browser", 8111),
    ("mcp-server-spec", 8112),
    ("mcp-server-registry", 8113),
    ("mcp-client-llm-agent", 8201),
    ("mcp-client-planner", 8202),
    ("mcp-client-api-gateway", 8203),
    ("mcp-client-observer", 8204),
];

/// The crate directory of a program, if it exists in this workspace.
pub fn crate_dir(root: &Path, name: &str) -> Option<PathBuf> {
    let (kind, short) = if let Some(s) = name.strip_prefix("mcp-server-") {
        ("servers", s)
    } else {
        ("clients", name.strip_prefix("mcp-client-")?)
    };
    let d = root.join("crates").join(kind).join(short);
    d.join("Cargo.toml").exists().then_some(d)
}

/// Programs present in this workspace.
pub fn present(root: &Path) -> Vec<(&'static str, u16)> {
    PROGRAMS.iter().copied().filter(|(n, _)| crate_dir(root, n).is_some()).collect()
}

/// `MCP_SERVER_FS_URL` for `mcp-server-fs`, `MCP_CLIENT_PLANNER_URL` for
/// `mcp-client-planner`: the variable a program reads to find that peer.
pub fn peer_var(name: &str) -> String {
    format!("{}_URL", name.replace('-', "_").to_uppercase())
}

/// The environment a program needs on embedded defaults. `present` are the
/// programs that run, with their ports: every program is told where its
/// peers, the log server and the observer are.
fn env_for(name: &str, root: &Path, data: &Path, present: &[(&str, u16)]) -> anyhow::Result<Vec<(String, String)>> {
    let projects = root.join("projects").display().to_string();
    let mut env: Vec<(String, String)> = vec![];
    for (peer, port) in present {
        env.push((peer_var(peer), format!("http://127.0.0.1:{port}/mcp")));
        match *peer {
            // Spans to the observer, log lines to the log server, with the
            // fleet's token (mcp-core sends MCP_PEER_TOKEN, which defaults
            // to MCP_AUTH_TOKEN).
            "mcp-client-observer" => {
                env.push(("OTEL_EXPORTER_OTLP_ENDPOINT".into(), format!("http://127.0.0.1:{port}")))
            }
            "mcp-server-log" => env.push(("MCP_LOG_ENDPOINT".into(), format!("http://127.0.0.1:{port}"))),
            _ => {}
        }
    }
    let sqlite = |dir: &str, file: &str| format!("sqlite:{}", data.join(dir).join(file).display());
    match name {
        "mcp-server-fs" => {
            env.push(("FS_ROOTS".into(), projects.clone()));
            env.push(("FS_WRITE".into(), "true".into()));
        }
        "mcp-server-git" => {
            env.push(("GIT_ROOTS".into(), projects.clone()));
            // Commits need an author; a fresh machine has no git identity.
            env.push(("GIT_AUTHOR_NAME".into(), "MCP DevOps fleet".into()));
            env.push(("GIT_AUTHOR_EMAIL".into(), "fleet@localhost".into()));
        }
        "mcp-server-shell" => {
            env.push(("SHELL_ROOTS".into(), projects));
            env.push(("SHELL_DATA_DIR".into(), data.join("shell").display().to_string()));
            // The active Rust toolchain's own bin directory (cargo, rustc,
            // clippy, rustfmt without rustup's proxies, which need the
            // user's HOME) next to the system directories.
            let mut path = vec!["/usr/local/bin".to_owned(), "/usr/bin".to_owned(), "/bin".to_owned()];
            if let Ok(sysroot) = crate::util::output(Command::new("rustc").args(["--print", "sysroot"])) {
                path.insert(0, Path::new(sysroot.trim()).join("bin").display().to_string());
            }
            env.push(("SHELL_PATH".into(), path.join(":")));
        }
        "mcp-server-sql" => env.push(("SQL_DATABASE_URL".into(), sqlite("sql", "fleet.db"))),
        "mcp-server-log" => env.push(("LOG_DATABASE_URL".into(), sqlite("log", "log.db"))),
        "mcp-client-observer" => env.push(("OBSERVER_DATABASE_URL".into(), sqlite("observer", "observer.db"))),
        // Templates come from ./templates (the working directory is the repository root).
        "mcp-client-planner" => env.push(("PLANNER_DATABASE_URL".into(), sqlite("planner", "planner.db"))),
        // The `rules` provider by default; LLM_PROVIDER=openai with LLM_BASE_URL/LLM_MODEL in the caller's
        // environment switches to a model.
        "mcp-client-llm-agent" => {
            env.push(("AGENT_DATABASE_URL".into(), sqlite("llm-agent", "agent.db")));
            for k in ["LLM_PROVIDER", "LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY_FILE"] {
                if let Ok(v) = std::env::var(k) {
                    env.push((k.into(), v));
                }
            }
        }
        "mcp-server-email" => {
            // The embedded mailbox: mail dropped into
            // .data/email/mail/inbox/new from a local sender is a request.
            env.push(("EMAIL_DATA_DIR".into(), data.join("email").display().to_string()));
            env.push(("EMAIL_ADDRESS".into(), "agent@localhost".into()));
            env.push((
                "EMAIL_TOKEN_SECRET_FILE".into(),
                secret_file(data, "email-token-secret")?.display().to_string(),
            ));
            let senders = std::env::var("EMAIL_ALLOWED_SENDERS").unwrap_or_else(|_| "@localhost".into());
            env.push(("EMAIL_ALLOWED_SENDERS".into(), senders));
        }
        _ => {}
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
    let programs = present(&root);
    if programs.is_empty() {
        bail!("no programs in this workspace");
    }
    let mut args = vec!["build"];
    if release {
        args.push("--release");
    }
    for (n, _) in &programs {
        args.extend(["-p", n]);
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
        let mut cmd = Command::new(bin.join(name));
        cmd.env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("MCP_AUTH_TOKEN", &token)
            .env("LOG_FORMAT", "json")
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .current_dir(&root);
        for (k, v) in env_for(name, &root, &data, &programs)? {
            cmd.env(k, v);
        }
        children.push((name, cmd.spawn().with_context(|| format!("cannot start {name}"))?));
    }
    for (name, port) in &programs {
        wait_healthy(name, *port)?;
    }
    eprintln!("\nthe fleet is up (logs in {}):", data.join("logs").display());
    for (name, port) in &programs {
        eprintln!("  {name:<24} http://127.0.0.1:{port}/mcp");
    }
    eprintln!("bearer token: in {} (e.g. TOKEN=$(cat .data/token))", data.join("token").display());
    if programs.iter().any(|(n, _)| *n == "mcp-client-llm-agent") {
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
    fn ports_and_names_are_unique_and_cover_the_seventeen() {
        assert_eq!(PROGRAMS.len(), 17);
        let mut names: Vec<_> = PROGRAMS.iter().map(|p| p.0).collect();
        let mut ports: Vec<_> = PROGRAMS.iter().map(|p| p.1).collect();
        names.dedup();
        ports.sort();
        ports.dedup();
        assert_eq!((names.len(), ports.len()), (17, 17));
    }
}
