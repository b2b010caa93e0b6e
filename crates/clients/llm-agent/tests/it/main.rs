//! End-to-end tests of the main job: the whole fleet as real processes on
//! loopback — a real mail server (Dovecot IMAP/LMTP + Postfix SMTP), the
//! email, sql, log, fs, git and shell servers, the observer, the planner and
//! this agent — each exporting spans to the observer and shipping logs to
//! the log server, exactly as `cargo xtask up` wires them. Requests are
//! real emails submitted over SMTP; answers are read from the requester's
//! real mailbox.
//!
//! The other binaries come from the workspace's target directory (`cargo
//! xtask test` builds every binary before the tests run).

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod actions;
mod compliance;
mod corpus;
mod e2e;
mod gateway;
mod openai;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_test::TEST_TOKEN;
use mcp_test::mail::{MailServer, free_port};
use mcp_test::raw::RawClient;

/// The gateway's API-key secret in these tests.
pub const GATEWAY_KEY_SECRET: &str = "gateway-e2e-key-secret-0123456789abcdef";

/// The email server's token secret in these tests.
pub const SECRET: &str = "e2e-secret-0123456789-0123456789-0123456789";

/// The repository's templates.
pub fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../templates")
}

/// `E2E_BIN_DIR`: run the fleet from these binaries instead (the release
/// build, for the figures in `docs/benchmarks.md`).
const E2E_BIN_DIR: &str = "E2E_BIN_DIR";

/// Where the workspace's binaries are: `E2E_BIN_DIR`, or next to this test
/// binary's `deps/`.
pub fn bin_dir() -> PathBuf {
    if let Ok(d) = std::env::var(E2E_BIN_DIR) {
        return PathBuf::from(d);
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent().unwrap().parent().unwrap().to_path_buf()
}

fn binary(name: &str) -> PathBuf {
    if name == mcp_client_llm_agent::NAME && std::env::var(E2E_BIN_DIR).is_err() {
        return PathBuf::from(env!("CARGO_BIN_EXE_mcp-client-llm-agent"));
    }
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: build the workspace's binaries first (cargo build --workspace --bins)",
        p.display()
    );
    p
}

/// `PATH` for the shell server: the active Rust toolchain and the system directories.
pub fn shell_path() -> String {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().unwrap();
    format!("{}/bin:/usr/local/bin:/usr/bin:/bin", String::from_utf8_lossy(&out.stdout).trim())
}

/// The virtualenv of the lint tools Debian does not package (made by
/// `cargo xtask test`).
pub fn lint_tools() -> std::path::PathBuf {
    std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/mcp-fleet/lint-tools/bin")
}

/// Every program of the fleet, in start order.
pub const PROGRAMS: &[&str] = &[
    "mcp-client-observer",
    "mcp-server-log",
    "mcp-server-sql",
    "mcp-server-fs",
    "mcp-server-git",
    "mcp-server-shell",
    "mcp-server-lint",
    "mcp-server-test",
    "mcp-server-email",
    "mcp-client-planner",
    "mcp-client-llm-agent",
    "mcp-client-api-gateway",
];

fn peer_var(name: &str) -> String {
    let (kind, rest) = name
        .strip_prefix("mcp-server-")
        .map(|r| ("SERVER", r))
        .unwrap_or_else(|| ("CLIENT", name.strip_prefix("mcp-client-").unwrap_or(name)));
    format!("MCP_{kind}_{}_URL", rest.replace('-', "_").to_uppercase())
}

/// One fleet at a time: eleven programs, a mail server and the builds they run are enough load for two
/// cores, and timing assertions (a question within 5 s) should not measure a neighbour's build.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The fleet.
pub struct Fleet {
    _turn: tokio::sync::MutexGuard<'static, ()>,
    pub dir: tempfile::TempDir,
    pub mail: MailServer,
    pub ports: HashMap<&'static str, u16>,
    children: HashMap<&'static str, Child>,
    agent_env: Vec<(String, String)>,
    planner_env: Vec<(String, String)>,
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for (_, c) in self.children.iter_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Fleet {
    /// Start everything; `agent_env` is added to the agent's environment.
    pub async fn start(agent_env: &[(&str, String)]) -> Self {
        Self::start_with(agent_env, &[]).await
    }

    /// Start everything with `agent_env` and `planner_env` added to those
    /// programs' environments.
    pub async fn start_with(agent_env: &[(&str, String)], planner_env: &[(&str, String)]) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        mcp_core::install_crypto_provider();
        let mail = MailServer::start();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("projects")).unwrap();
        std::fs::create_dir_all(dir.path().join("logs")).unwrap();
        let ports = PROGRAMS.iter().map(|p| (*p, free_port())).collect();
        let mut f = Self {
            _turn: turn,
            dir,
            mail,
            ports,
            children: HashMap::new(),
            agent_env: agent_env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
            planner_env: planner_env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect(),
        };
        for p in PROGRAMS {
            f.spawn(p);
        }
        for p in PROGRAMS {
            f.wait_healthy(p).await;
        }
        f
    }

    fn env(&self, name: &str) -> Vec<(String, String)> {
        let d = self.dir.path();
        let projects = d.join("projects").display().to_string();
        let sqlite = |n: &str| format!("sqlite:{}", d.join(format!("{n}.db")).display());
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), d.display().to_string()),
            ("MCP_LISTEN_ADDR".into(), format!("127.0.0.1:{}", self.ports[name])),
            ("MCP_AUTH_TOKEN".into(), TEST_TOKEN.into()),
            ("LOG_FORMAT".into(), "json".into()),
            ("RUST_LOG".into(), "info,rmcp=warn".into()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT".into(), format!("http://127.0.0.1:{}", self.ports["mcp-client-observer"])),
            ("MCP_LOG_ENDPOINT".into(), format!("http://127.0.0.1:{}", self.ports["mcp-server-log"])),
        ];
        for p in PROGRAMS {
            env.push((peer_var(p), format!("http://127.0.0.1:{}/mcp", self.ports[p])));
        }
        let more: Vec<(&str, String)> = match name {
            "mcp-client-observer" => vec![("OBSERVER_DATABASE_URL", sqlite("observer"))],
            "mcp-server-log" => vec![("LOG_DATABASE_URL", sqlite("log"))],
            "mcp-server-sql" => vec![("SQL_DATABASE_URL", sqlite("sql"))],
            "mcp-server-fs" => vec![("FS_ROOTS", projects), ("FS_WRITE", "true".into())],
            "mcp-server-git" => vec![
                ("GIT_ROOTS", projects),
                ("GIT_AUTHOR_NAME", "MCP DevOps fleet".into()),
                ("GIT_AUTHOR_EMAIL", "fleet@example.test".into()),
            ],
            "mcp-server-shell" => vec![
                ("SHELL_ROOTS", projects),
                ("SHELL_PATH", shell_path()),
                ("SHELL_DATA_DIR", d.join("shell").display().to_string()),
            ],
            "mcp-server-lint" => vec![
                ("LINT_ROOTS", projects),
                // The tools Debian lacks (hadolint for the services' Dockerfiles,
                // ruff), as `cargo xtask test` provisions them and `up` finds them.
                ("LINT_PATH", format!("{}:{}", lint_tools().display(), shell_path())),
                ("LINT_DATA_DIR", d.join("lint").display().to_string()),
            ],
            "mcp-server-test" => vec![
                ("TEST_ROOTS", projects),
                ("TEST_PATH", shell_path()),
                ("TEST_DATA_DIR", d.join("test").display().to_string()),
                ("TEST_DATABASE_URL", sqlite("test")),
            ],
            "mcp-server-email" => vec![
                ("EMAIL_DATA_DIR", d.join("email").display().to_string()),
                ("EMAIL_IMAP_URL", self.mail.imap_url()),
                ("EMAIL_SMTP_URL", self.mail.smtp_url()),
                ("EMAIL_USERNAME", "agent@example.test".into()),
                ("EMAIL_PASSWORD", mcp_test::mail::PASSWORD.into()),
                ("EMAIL_ADDRESS", "agent@example.test".into()),
                ("EMAIL_TOKEN_SECRET", SECRET.into()),
                ("EMAIL_ALLOWED_SENDERS", "alice@example.test,bob@example.test".into()),
            ],
            "mcp-client-planner" => vec![
                ("PLANNER_DATABASE_URL", sqlite("planner")),
                ("PLANNER_TEMPLATES_DIR", templates().display().to_string()),
                ("PLANNER_INSTANCE", "e2e".into()),
            ],
            "mcp-client-api-gateway" => vec![
                ("GATEWAY_DATABASE_URL", sqlite("gateway")),
                ("GATEWAY_KEY_SECRET", GATEWAY_KEY_SECRET.into()),
                // The browser's form posts carry this Origin.
                ("MCP_ALLOWED_ORIGINS", format!("http://127.0.0.1:{}", self.ports[name])),
            ],
            "mcp-client-llm-agent" => vec![
                ("AGENT_DATABASE_URL", sqlite("agent")),
                ("AGENT_TEMPLATES_DIR", templates().display().to_string()),
            ],
            _ => vec![],
        };
        env.extend(more.into_iter().map(|(k, v)| (k.to_owned(), v)));
        if name == mcp_client_llm_agent::NAME {
            env.extend(self.agent_env.iter().cloned());
        }
        if name == "mcp-client-planner" {
            env.extend(self.planner_env.iter().cloned());
        }
        env
    }

    /// Start (or restart) one program; its output goes to `logs/<name>.log`.
    pub fn spawn(&mut self, name: &'static str) {
        let log_path = self.dir.path().join("logs").join(format!("{name}.log"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
        let mut cmd = Command::new(binary(name));
        cmd.env_clear().envs(self.env(name)).current_dir(self.dir.path());
        cmd.stdin(Stdio::null()).stdout(log.try_clone().unwrap()).stderr(log);
        self.children.insert(name, cmd.spawn().unwrap());
    }

    /// SIGKILL one program.
    pub fn kill(&mut self, name: &str) {
        if let Some(mut c) = self.children.remove(name) {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub async fn wait_healthy(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let c = RawClient::new(&self.base(name), None);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", self.ports[name])).is_ok()
                && c.get("/health").await.status == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "{name} did not start:\n{}", self.log(name));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self, name: &str) -> String {
        let s = std::fs::read_to_string(self.dir.path().join("logs").join(format!("{name}.log"))).unwrap_or_default();
        let tail: Vec<&str> = s.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    pub fn base(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}", self.ports[name])
    }

    pub fn client(&self, name: &str) -> RawClient {
        RawClient::new(&self.base(name), Some(TEST_TOKEN.into()))
    }

    pub fn projects(&self) -> PathBuf {
        self.dir.path().join("projects")
    }

    /// Submit a message over SMTP, as `from`, to `to`; returns its Message-ID.
    pub fn send(&self, from: &str, to: &str, subject: &str, body: &str, headers: &str) -> String {
        let id = format!("<{}@example.test>", rand_id());
        let raw = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\n\
             Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             {headers}\r\n{body}\r\n"
        );
        self.mail.submit(from, to, raw.as_bytes());
        id
    }

    /// Every message in `user`'s inbox, oldest first by arrival.
    pub fn inbox(&self, user: &str) -> Vec<Mail> {
        let md = self.mail.maildir(user);
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = Vec::new();
        for sub in ["new", "cur"] {
            for e in std::fs::read_dir(md.join(sub)).into_iter().flatten().flatten() {
                let m = e.metadata().unwrap().modified().unwrap();
                files.push((m, e.path()));
            }
        }
        files.sort();
        files.into_iter().map(|(_, p)| Mail::parse(&std::fs::read(p).unwrap())).collect()
    }

    /// Wait until `user` has a message matching `pred`; returns it and how long it took.
    pub async fn wait_mail(&self, user: &str, within: Duration, pred: impl Fn(&Mail) -> bool) -> (Mail, Duration) {
        let start = Instant::now();
        loop {
            if let Some(m) = self.inbox(user).into_iter().find(|m| pred(m)) {
                return (m, start.elapsed());
            }
            assert!(
                start.elapsed() < within,
                "no matching mail for {user} within {within:?}; inbox subjects: {:?}\nagent log:\n{}\nplanner log:\n{}",
                self.inbox(user).iter().map(|m| m.subject.clone()).collect::<Vec<_>>(),
                self.log("mcp-client-llm-agent"),
                self.log("mcp-client-planner")
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A received message, parsed.
#[derive(Debug, Clone)]
pub struct Mail {
    pub message_id: String,
    pub in_reply_to: String,
    pub references: Vec<String>,
    pub reply_to: String,
    pub subject: String,
    pub body: String,
}

impl Mail {
    fn parse(raw: &[u8]) -> Self {
        let m = mail_parser::MessageParser::default().parse(raw).unwrap();
        let ids = |h: &mail_parser::HeaderValue<'_>| -> Vec<String> {
            h.as_text_list().map(|l| l.iter().map(|s| format!("<{s}>")).collect()).unwrap_or_default()
        };
        Self {
            message_id: m.message_id().map(|s| format!("<{s}>")).unwrap_or_default(),
            in_reply_to: ids(m.in_reply_to()).into_iter().next().unwrap_or_default(),
            references: ids(m.references()),
            reply_to: m
                .reply_to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .map(str::to_owned)
                .unwrap_or_default(),
            subject: m.subject().unwrap_or("").to_owned(),
            body: m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        }
    }
}

pub fn rand_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

pub use mcp_test::raw::ok;

/// `git` in a project, for checking what the fleet did.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
