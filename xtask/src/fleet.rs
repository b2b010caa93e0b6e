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

/// The program people use the fleet through (its web UI, REST API and
/// `mcp-fleet`, the command line shipped in the same package).
const GATEWAY: &str = "mcp-client-api-gateway";

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
    data: &'a Path,
    projects: &'a Path,
}

impl LocalContext for Local<'_> {
    fn data(&self) -> PathBuf {
        self.data.to_path_buf()
    }

    fn projects(&self) -> PathBuf {
        self.projects.to_path_buf()
    }

    fn secret(&self, name: &str) -> anyhow::Result<PathBuf> {
        secret_file(self.data, name)
    }

    fn rust_sysroot_bin(&self) -> anyhow::Result<PathBuf> {
        let sysroot = crate::util::output(Command::new("rustc").args(["--print", "sysroot"]))?;
        Ok(Path::new(sysroot.trim()).join("bin"))
    }

    fn cache(&self) -> PathBuf {
        crate::util::cache_dir()
    }

    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn root(&self) -> bool {
        running_as_root()
    }
}

/// The environment a program needs on embedded defaults: the sinks, its
/// peers (at their local ports) and its `[programs.X.local]` variables.
/// `present` are the programs that run, with their ports.
fn env_for(
    m: &Manifest,
    name: &str,
    projects: &Path,
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
    let cx = Local { data, projects };
    for (k, raw) in program.local.env.iter() {
        if let Some(v) = manifest::expand(raw, &cx).with_context(|| format!("[programs.{name}.local.env] {k}"))? {
            if raw.contains("{as_root:") && cx.root() {
                eprintln!(
                    "WARNING: running as root, so {name} gets {k}={v} (fleet.toml); run `cargo xtask up` as another \
                     user to keep that protection"
                );
            }
            env.push((k.to_owned(), v));
        }
    }
    Ok(env)
}

/// Whether xtask (and so the programs it starts) runs as root.
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
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

/// How to start the fleet's processes.
struct Launch<'a> {
    manifest: &'a Manifest,
    /// The programs to start, with their ports.
    programs: &'a [(String, u16)],
    /// Where the binaries are.
    bin: &'a Path,
    /// The working directory of every program.
    root: &'a Path,
    /// `{data}`: databases, mailboxes, secrets, and `logs/`.
    data: &'a Path,
    /// `{projects}`.
    projects: &'a Path,
    /// The fleet's bearer token.
    token: &'a str,
    /// Run as this uid and gid (the test of the unprivileged fleet).
    user: Option<u32>,
    /// Set in every program's environment, after its own.
    extra_env: &'a [(&'a str, &'a str)],
}

/// Start every program of `l` with its local environment, logging to
/// `data/logs/NAME.log`. Returns the children in start order.
fn launch(l: &Launch<'_>) -> anyhow::Result<Vec<(String, Child)>> {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(l.data.join("logs"))?;
    std::fs::create_dir_all(l.projects)?;
    let mut children = Vec::new();
    for (name, port) in l.programs {
        let env = env_for(l.manifest, name, l.projects, l.data, l.programs)?;
        let log = std::fs::File::create(l.data.join("logs").join(format!("{name}.log")))?;
        let mut cmd = Command::new(l.bin.join(name.as_str()));
        cmd.env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .env("MCP_AUTH_TOKEN", l.token)
            .env("LOG_FORMAT", "json")
            .envs(env)
            .envs(l.extra_env.iter().copied())
            .stdout(log.try_clone()?)
            .stderr(log)
            .stdin(Stdio::null())
            .current_dir(l.root);
        if let Some(id) = l.user {
            // The program that holds the engine's socket gets its group, as
            // compose's group_add gives it (fleet.toml's docker_socket).
            let socket = l.manifest.programs.get(name.as_str()).is_some_and(|p| p.compose.docker_socket);
            let gid = if socket { crate::images::docker_gid().parse().unwrap_or(id) } else { id };
            cmd.uid(id).gid(gid);
        }
        children.push((name.clone(), cmd.spawn().with_context(|| format!("cannot start {name}"))?));
    }
    Ok(children)
}

/// Build and run the fleet.
pub fn up(release: bool) -> anyhow::Result<()> {
    let root = workspace_root();
    let m = Manifest::load(&root)?;
    let programs = present(&root)?;
    if programs.is_empty() {
        bail!("no programs in this workspace");
    }
    crate::provision::template_tools()?;
    // Not fatal: without PyPI the lint server reports ruff and hadolint as
    // missing, which no template needs.
    if let Err(e) = crate::provision::lint_tools(&root) {
        eprintln!("warning: ruff and hadolint not installed ({e:#}); the lint server reports them as missing");
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
    let token = token(&data)?;
    let mut children = launch(&Launch {
        manifest: &m,
        programs: &programs,
        bin: &bin,
        root: &root,
        data: &data,
        projects: &root.join("projects"),
        token: &token,
        user: None,
        extra_env: &[],
    })?;
    for (name, port) in &programs {
        wait_healthy(name, *port)?;
    }
    eprintln!("\nthe fleet is up (logs in {}):", data.join("logs").display());
    for (name, port) in &programs {
        eprintln!("  {name:<24} http://127.0.0.1:{port}/mcp");
    }
    eprintln!("bearer token: in {} (e.g. TOKEN=$(cat .data/token))", data.join("token").display());
    if let Some((_, port)) = programs.iter().find(|(n, _)| n == GATEWAY) {
        // The gateway takes the fleet token as its admin credential, which is
        // how the first API key is made; people then use keys, not the token.
        eprintln!("web UI: http://127.0.0.1:{port}/ui (the gateway: REST under /api/v1, every tool behind its /mcp)");
        eprintln!(
            "an API key for it (printed once): {} --url http://127.0.0.1:{port} --key-file {} keys create \
             --name me --role admin",
            bin.join("mcp-fleet").display(),
            data.join("token").display()
        );
    }
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
                exited = Some((name.clone(), status));
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

    /// Kills the fleet when the test ends, however it ends.
    struct Fleet(Vec<(String, Child)>);

    impl Drop for Fleet {
        fn drop(&mut self) {
            for (_, c) in &mut self.0 {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }

    const MARKER: &str = "marker-secret-in-every-program-environment";

    /// The programs of this workspace, each on a free loopback port (not
    /// their fixed `up` ports: a running fleet may hold those), after
    /// checking that `built` holds every binary.
    fn built_programs(root: &Path, built: &Path) -> Vec<(String, u16)> {
        let mut programs = present(root).unwrap();
        for (name, port) in &mut programs {
            let bin = built.join(name.as_str());
            assert!(bin.exists(), "{} is missing: run `cargo build --workspace --bins` first", bin.display());
            *port = free_port();
        }
        programs
    }

    /// A loopback port nobody listens on, never handed out twice in this
    /// process: the tests here start whole fleets side by side, and a port
    /// released by one `bind(0)` may come back from the next, so two fleets
    /// could otherwise be given the same port (one program then answers
    /// another's calls).
    fn free_port() -> u16 {
        static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
            std::sync::Mutex::new(std::collections::BTreeSet::new());
        loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            if HANDED_OUT.lock().unwrap().insert(port) {
                return port;
            }
        }
    }

    /// Each program's `/ready` once it says ready (peers up, databases and
    /// mailboxes made), in the order of `programs`.
    fn wait_ready(programs: &[(String, u16)], token: &str, data: &Path) -> Vec<serde_json::Value> {
        let log =
            |name: &str| std::fs::read_to_string(data.join("logs").join(format!("{name}.log"))).unwrap_or_default();
        let deadline = Instant::now() + Duration::from_secs(60);
        programs
            .iter()
            .map(|(name, port)| {
                loop {
                    match crate::util::http_get(*port, "/ready", Some(token)) {
                        Some((200, body)) => break serde_json::from_str(&body).unwrap(),
                        other => {
                            assert!(Instant::now() < deadline, "{name} is not ready: {other:?}\n{}", log(name));
                            std::thread::sleep(Duration::from_millis(200));
                        }
                    }
                }
            })
            .collect()
    }

    /// One stateless MCP `tools/call` (2026-07-28) through curl; the tool's
    /// structured result, or a panic with the answer.
    fn call(port: u16, token: &str, tool: &str, args: serde_json::Value) -> serde_json::Value {
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": tool, "arguments": args,
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {}}}});
        let out = Command::new("curl")
            .args(["-sS", "--noproxy", "*", "-X", "POST", "--max-time", "900"])
            .arg(format!("http://127.0.0.1:{port}/mcp"))
            .args(["-H", "content-type: application/json", "-H", "accept: application/json, text/event-stream"])
            .args(["-H", "mcp-protocol-version: 2026-07-28", "-H", "mcp-method: tools/call"])
            .args(["-H", &format!("mcp-name: {tool}"), "-H", &format!("authorization: Bearer {token}")])
            .args(["--data-binary", &body.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // JSON, or the last `data:` event of an SSE answer.
        let json = text.lines().rev().find_map(|l| l.strip_prefix("data:")).unwrap_or(&text).trim().to_owned();
        let v: serde_json::Value = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{tool}: {e}: {text} {}", String::from_utf8_lossy(&out.stderr)));
        assert!(v["result"]["isError"] != true && v.get("error").is_none(), "{tool}: {v}");
        v["result"]["structuredContent"].clone()
    }

    /// The quick start's layout, exactly: `cargo xtask up`'s environment for
    /// every program, run from a folder that is itself a Cargo workspace with
    /// `projects/` inside it (as the fleet's own repository is). Every
    /// template the planner offers is requested through the agent and must
    /// build, lint, test and be tagged.
    #[test]
    fn every_template_builds_in_the_up_layout() {
        let root = workspace_root();
        let m = Manifest::load(&root).unwrap();
        let bin = target_dir(&root).join("debug");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("Cargo.toml"), "[workspace]\nmembers = []\nresolver = \"2\"\n").unwrap();
        crate::util::run(Command::new("cp").arg("-r").arg(root.join("templates")).arg(d)).unwrap();
        let programs = built_programs(&root, &bin);
        let (data, projects) = (d.join(".data"), d.join("projects"));
        let token = "fleet-token-templates-0123456789abcdef";
        let _fleet = Fleet(
            launch(&Launch {
                manifest: &m,
                programs: &programs,
                bin: &bin,
                root: d,
                data: &data,
                projects: &projects,
                token,
                user: None,
                extra_env: &[],
            })
            .unwrap(),
        );
        wait_ready(&programs, token, &data);
        let port = |n: &str| programs.iter().find(|(p, _)| p == n).unwrap().1;
        let offered = call(port("mcp-client-planner"), token, "templates_list", serde_json::json!({}));
        let templates: Vec<(String, String, String)> = offered["templates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let s = |k: &str| t[k].as_str().unwrap().to_owned();
                (s("name"), s("language"), s("kind"))
            })
            .collect();
        assert!(templates.len() >= 5, "{offered}");
        let mut runs = Vec::new();
        for (name, language, kind) in &templates {
            // A long name: the slug is cut at its 40 characters, the longest every file must lint with.
            let text = format!(
                "Name: Up {name} with a deliberately long project name\nSummary: A project made from the {name} \
                 template in the quick start layout.\nLanguage: {language}\nKind: {kind}\n"
            );
            let args = serde_json::json!({"text": text, "requester": "you@localhost"});
            let o = call(port("mcp-client-llm-agent"), token, "submit_request", args);
            assert_eq!(o["decision"], "proceeded", "{name}: {o}");
            runs.push((name.clone(), o["run_id"].as_str().unwrap().to_owned()));
        }
        for (name, run_id) in runs {
            let done = loop {
                let args = serde_json::json!({"run_id": run_id, "timeout_secs": 50});
                let r = call(port("mcp-client-planner"), token, "plan_wait", args);
                if !matches!(r["state"].as_str(), Some("queued" | "running")) {
                    break r;
                }
            };
            assert_eq!(done["state"], "succeeded", "{name}: {done}");
            let slug = done["slug"].as_str().unwrap();
            assert_eq!(slug.len(), 40, "{name}: the longest slug: {slug}");
            let git_tags = Command::new("git").arg("-C").arg(projects.join(slug)).args(["tag", "--list"]).output();
            assert_eq!(String::from_utf8_lossy(&git_tags.unwrap().stdout).trim(), "v0.1.0", "{name}");
            // The checks went through the lint and test servers: per-test results and per-tool runs.
            let status = call(port("mcp-client-planner"), token, "plan_status", serde_json::json!({"run_id": run_id}));
            let step = |key: &str| status["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == key).cloned();
            let test = step("test").unwrap_or_else(|| panic!("{name}: no test step: {status}"));
            assert_eq!(test["result"]["tests"]["verdict"], "passed", "{name}: {test}");
            assert!(test["result"]["tests"]["totals"]["passed"].as_u64().unwrap_or(0) >= 1, "{name}: {test}");
            let lint = step("lint").unwrap_or_else(|| panic!("{name}: no lint step: {status}"));
            assert_eq!(lint["result"]["lint"]["passed"], true, "{name}: {lint}");
            assert!(!lint["result"]["lint"]["runs"].as_array().unwrap().is_empty(), "{name}: {lint}");
        }
    }

    /// The images run every program as an unprivileged user (10001); this
    /// runs the whole `cargo xtask up` fleet that way (as 65534 when the
    /// tests run as root) and checks what that user's other processes can
    /// see: each program's environment (the fleet token and a marker secret)
    /// stays unreadable through `/proc` (non-dumpable, which root's
    /// `CAP_SYS_PTRACE` would bypass — hence a real unprivileged user), each
    /// is ready on its own, and the programs that confine code or themselves
    /// report a working sandbox in `/ready`. Needs the workspace's debug
    /// binaries (`cargo xtask test` builds them first).
    #[test]
    fn the_fleet_runs_unprivileged_and_keeps_its_secrets() {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::process::CommandExt;
        let root = workspace_root();
        let m = Manifest::load(&root).unwrap();
        let built = target_dir(&root).join("debug");
        let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        let user = as_root.then_some(65534u32);
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // /root (where the target directory usually is) is closed to other
        // users: the binaries are linked (or copied) where 65534 can run them,
        // and the templates copied into the working directory.
        let bin = d.join("bin");
        std::fs::create_dir(&bin).unwrap();
        let programs = built_programs(&root, &built);
        for (name, _) in &programs {
            let src = built.join(name.as_str());
            if std::fs::hard_link(&src, bin.join(name.as_str())).is_err() {
                std::fs::copy(&src, bin.join(name.as_str())).unwrap();
            }
        }
        crate::util::run(Command::new("cp").arg("-r").arg(root.join("templates")).arg(d)).unwrap();
        let (data, projects) = (d.join("data"), d.join("projects"));
        std::fs::create_dir_all(data.join("logs")).unwrap();
        std::fs::create_dir_all(&projects).unwrap();
        // Secret files are made by the first expansion; then everything but
        // the binaries becomes the unprivileged user's.
        for (name, _) in &programs {
            env_for(&m, name, &projects, &data, &programs).unwrap();
        }
        if let Some(id) = user {
            crate::util::run(Command::new("chown").arg("-R").arg(format!("{id}:{id}")).args([&data, &projects]))
                .unwrap();
            for p in [d.to_path_buf(), d.join("templates")] {
                std::os::unix::fs::chown(&p, Some(id), Some(id)).unwrap();
            }
        }
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let token = "fleet-token-unprivileged-0123456789abcdef";
        let fleet = Fleet(
            launch(&Launch {
                manifest: &m,
                programs: &programs,
                bin: &bin,
                root: d,
                data: &data,
                projects: &projects,
                token,
                user,
                extra_env: &[("FLEET_MARKER_SECRET", MARKER)],
            })
            .unwrap(),
        );
        let readiness = wait_ready(&programs, token, &data);
        for (((name, _), (_, child)), ready) in programs.iter().zip(&fleet.0).zip(readiness) {
            let sandbox = ready["checks"].as_array().unwrap().iter().find(|c| c["name"] == "sandbox");
            if [
                "mcp-server-fs",
                "mcp-server-sql",
                "mcp-server-shell",
                "mcp-server-git",
                "mcp-server-lint",
                "mcp-server-test",
            ]
            .contains(&name.as_str())
            {
                let s = sandbox.unwrap_or_else(|| panic!("{name} reports no sandbox: {ready}"));
                assert_eq!(s["ok"], true, "{name}: {s}");
            }
            let pid = child.id();
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
            if let Some(id) = user {
                let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
                assert!(uid.split_whitespace().skip(1).all(|u| u == id.to_string()), "{name}: {uid}");
            }
            // Another process of the same user reads the program's environment.
            let mut cat = Command::new("cat");
            cat.arg(format!("/proc/{pid}/environ"));
            if let Some(id) = user {
                cat.uid(id).gid(id);
            }
            let out = cat.output().unwrap();
            let seen = String::from_utf8_lossy(&out.stdout);
            assert!(!out.status.success() && !seen.contains(MARKER) && !seen.contains(token), "{name}: {seen}");
        }
        // Shown to fail: as root the same read succeeds (CAP_SYS_PTRACE), so
        // the check above sees a leak when there is one.
        if as_root {
            let pid = fleet.0[0].1.id();
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
            assert!(String::from_utf8_lossy(&environ).contains(MARKER));
        }
    }

    #[test]
    fn each_program_gets_the_sinks_its_peers_and_its_local_environment() {
        let root = workspace_root();
        let m = Manifest::load(&root).unwrap();
        let data = tempfile::tempdir().unwrap();
        let present = present(&root).unwrap();
        let port = |n: &str| present.iter().find(|(p, _)| p == n).unwrap().1;
        let env = |name: &str| -> std::collections::BTreeMap<String, String> {
            env_for(&m, name, &root.join("projects"), data.path(), &present).unwrap().into_iter().collect()
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
        // The gateway: every peer, and a key secret of at least 32 bytes.
        let gateway = env(GATEWAY);
        for peer in &m.programs[GATEWAY].peers {
            assert_eq!(gateway[&peer_var(peer)], format!("http://127.0.0.1:{}/mcp", port(peer)), "{peer}");
        }
        let key = Path::new(&gateway["GATEWAY_KEY_SECRET_FILE"]);
        assert_eq!(key, data.path().join("gateway_key_secret"));
        assert!(std::fs::read_to_string(key).unwrap().len() >= 32);
    }
}
