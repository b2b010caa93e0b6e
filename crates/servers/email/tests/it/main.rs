//! Integration tests of `mcp-server-email` over real HTTP: the compliance
//! check and golden `tools/list`, the embedded Maildir mode (the fleet's main
//! flow), and against a real mail server on loopback (Dovecot IMAP/LMTP and
//! Postfix SMTP, started by the tests): IDLE latency, threading seen by a mail
//! client, restarts of the real binary, reconnects, a hostile-mail corpus,
//! and SMTP failures including the ambiguous one.

// Test helpers unwrap (a panic is how a test fails) and need no API docs.
#![allow(clippy::unwrap_used, missing_docs)]

mod compliance;
mod corpus;
mod imap;
mod maildir;
mod process;
mod smtp;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_server_email::{Config, Email, config as cfg};
use mcp_test::TestServer;
use mcp_test::raw::Reply;
use serde_json::{Value, json};

// The fixture lives in mcp-test: the agent's end-to-end tests use the same mail server.
pub use mcp_test::mail as mailserver;
pub use mcp_test::mail::MailServer;

/// The token secret every test server uses.
pub const SECRET: &str = "test-secret-0123456789-0123456789-0123456789";

/// A configuration from variables, as the binary would read them.
pub fn config_from(vars: &[(&str, String)]) -> Config {
    mcp_core::config::read_vars(vars, Config::read).unwrap()
}

/// Maildir mode under `data`, agent@example.test, trusting alice and @corp.test.
pub fn maildir_vars(data: &Path) -> Vec<(&'static str, String)> {
    vec![
        (cfg::EMAIL_DATA_DIR, data.display().to_string()),
        (cfg::EMAIL_ADDRESS, "agent@example.test".into()),
        (cfg::EMAIL_TOKEN_SECRET, SECRET.into()),
        (cfg::EMAIL_ALLOWED_SENDERS, "alice@example.test,@corp.test".into()),
        (cfg::EMAIL_MAILDIR_POLL_MS, "50".into()),
    ]
}

/// IMAP mode against `mail`, as agent@example.test.
pub fn imap_vars(mail: &MailServer, data: &Path) -> Vec<(&'static str, String)> {
    vec![
        (cfg::EMAIL_DATA_DIR, data.display().to_string()),
        (cfg::EMAIL_IMAP_URL, mail.imap_url()),
        (cfg::EMAIL_SMTP_URL, mail.smtp_url()),
        (cfg::EMAIL_USERNAME, "agent@example.test".into()),
        (cfg::EMAIL_PASSWORD, mailserver::PASSWORD.into()),
        (cfg::EMAIL_ADDRESS, "agent@example.test".into()),
        (cfg::EMAIL_TOKEN_SECRET, SECRET.into()),
        (cfg::EMAIL_ALLOWED_SENDERS, "alice@example.test,bob@example.test".into()),
    ]
}

/// A server running in-process with its watcher.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub server: TestServer,
    pub state: Arc<Email>,
    watcher: tokio::task::JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

impl Fixture {
    /// Maildir mode, the variables changed by `f`.
    pub async fn maildir(f: impl FnOnce(&mut Vec<(&'static str, String)>)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = maildir_vars(dir.path());
        f(&mut vars);
        Self::start(dir, config_from(&vars)).await
    }

    /// IMAP mode against `mail`, the variables changed by `f`.
    pub async fn imap(mail: &MailServer, f: impl FnOnce(&mut Vec<(&'static str, String)>)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut vars = imap_vars(mail, dir.path());
        f(&mut vars);
        let fx = Self::start(dir, config_from(&vars)).await;
        fx.ready().await;
        fx
    }

    pub async fn start(dir: tempfile::TempDir, config: Config) -> Self {
        mcp_core::install_crypto_provider();
        let started = mcp_server_email::open(config).await.unwrap();
        let watcher = tokio::spawn(started.background);
        let server = TestServer::start(started.server).await;
        Self { dir, server, state: started.state, watcher }
    }

    /// Wait until `/ready` says ready (the IMAP watcher connected).
    pub async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.server.raw().get("/ready").await;
            if r.status == 200 {
                return;
            }
            assert!(Instant::now() < deadline, "not ready: {}", r.text);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn inbox(&self) -> PathBuf {
        self.state.config.maildir.clone()
    }

    /// Deliver into the inbox Maildir the Maildir way (tmp/, then rename into new/).
    pub fn drop_mail(&self, raw: &[u8]) -> String {
        drop_mail(&self.inbox(), raw)
    }

    pub async fn call(&self, tool: &str, args: Value) -> Reply {
        self.server.raw().call(tool, args).await
    }

    /// Call and expect success.
    pub async fn ok(&self, tool: &str, args: Value) -> Value {
        ok(&self.call(tool, args).await).clone()
    }

    /// Call and expect a tool error; its text.
    pub async fn err(&self, tool: &str, args: Value) -> String {
        err(&self.call(tool, args).await)
    }

    /// Collect at least `n` new messages after `cursor` (waiting as needed); returns the last cursor and them.
    pub async fn wait_new(&self, cursor: Option<&str>, n: usize) -> (String, Vec<Value>) {
        let mut cursor = cursor.map(str::to_owned);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while got.len() < n {
            assert!(Instant::now() < deadline, "only {} of {n} messages arrived", got.len());
            let mut args = json!({"timeout_secs": 5});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let v = self.ok("wait_for_new", args).await;
            cursor = Some(v["cursor"].as_str().unwrap().to_owned());
            got.extend(v["messages"].as_array().unwrap().iter().cloned());
        }
        (cursor.unwrap_or_default(), got)
    }
}

/// Deliver into a Maildir the Maildir way.
pub fn drop_mail(maildir: &Path, raw: &[u8]) -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let name = format!(
        "{}.T{}N{}.test",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros(),
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    let tmp = maildir.join("tmp").join(&name);
    std::fs::write(&tmp, raw).unwrap();
    std::fs::rename(&tmp, maildir.join("new").join(&name)).unwrap();
    name
}

/// A simple message.
pub fn mail(from: &str, to: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

// The shared reply helpers (success value, error text).
pub use mcp_test::raw::{err, ok};
