//! The real binary: killed (SIGKILL) and restarted between and right after
//! deliveries, nothing is lost and nothing is delivered twice; configuration
//! errors exit 64 listing every problem.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::mailserver::{MailServer, free_port, transfer};
use crate::{SECRET, ok};

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-email");
const TOKEN: &str = "process-test-token-0123456789";

struct Running {
    child: Child,
    client: RawClient,
    port: u16,
}

fn spawn(mail: &MailServer, data: &std::path::Path) -> Running {
    mcp_core::install_crypto_provider();
    let port = free_port();
    let child = Command::new(BIN)
        .env_clear()
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN", TOKEN)
        .env("EMAIL_DATA_DIR", data)
        .env("EMAIL_IMAP_URL", mail.imap_url())
        .env("EMAIL_SMTP_URL", mail.smtp_url())
        .env("EMAIL_USERNAME", "agent@example.test")
        .env("EMAIL_PASSWORD", crate::mailserver::PASSWORD)
        .env("EMAIL_ADDRESS", "agent@example.test")
        .env("EMAIL_TOKEN_SECRET", SECRET)
        .env("EMAIL_ALLOWED_SENDERS", "alice@example.test")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Running { child, client: RawClient::new(&format!("http://127.0.0.1:{port}"), Some(TOKEN.into())), port }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL: no graceful shutdown, no flush.
        let _ = self.child.wait();
    }
}

impl Running {
    async fn ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            // The raw client panics on a refused connection; only ask once the port is open.
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && let Ok(r) = tokio::time::timeout(Duration::from_secs(2), self.client.get("/ready")).await
                && r.status == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "the server did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn kill(self) {
        drop(self);
    }

    async fn wait_new(&self, cursor: Option<&str>, timeout: u64) -> (String, Vec<Value>) {
        let mut args = json!({"timeout_secs": timeout, "max": 100});
        if let Some(c) = cursor {
            args["cursor"] = json!(c);
        }
        let r = self.client.call("wait_for_new", args).await;
        let v = ok(&r);
        (v["cursor"].as_str().unwrap().to_owned(), v["messages"].as_array().unwrap().clone())
    }

    /// Everything after `cursor` until `n` messages have come (or fail).
    async fn collect(&self, cursor: Option<&str>, n: usize) -> (String, Vec<Value>) {
        let mut cursor = cursor.map(str::to_owned);
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while got.len() < n {
            assert!(Instant::now() < deadline, "only {} of {n} messages came", got.len());
            let (c, m) = self.wait_new(cursor.as_deref(), 5).await;
            cursor = Some(c);
            got.extend(m);
        }
        (cursor.unwrap_or_default(), got)
    }
}

async fn deliver(mail: &MailServer, i: usize) {
    let port = mail.lmtp_port;
    let raw = crate::mail(
        "alice@example.test",
        "agent@example.test",
        &format!("message {i}"),
        &format!("<restart{i}@example.test>"),
        "x",
    );
    tokio::task::spawn_blocking(move || {
        transfer(port, true, "alice@example.test", "agent@example.test", &raw).unwrap()
    })
    .await
    .unwrap();
}

fn subjects(v: &[Value]) -> Vec<String> {
    v.iter().map(|m| m["subject"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_and_restart_loses_nothing_and_repeats_nothing() {
    let mail = MailServer::start();
    let data = tempfile::tempdir().unwrap();

    let s = spawn(&mail, data.path());
    s.ready().await;
    deliver(&mail, 0).await;
    deliver(&mail, 1).await;
    let (cursor, got) = s.collect(None, 2).await;
    assert_eq!(subjects(&got), ["message 0", "message 1"]);
    s.kill();

    // Delivered while the server is down.
    deliver(&mail, 2).await;
    deliver(&mail, 3).await;
    let s = spawn(&mail, data.path());
    s.ready().await;
    let (cursor2, got) = s.collect(Some(&cursor), 2).await;
    assert_eq!(subjects(&got), ["message 2", "message 3"]);
    let (_, none) = s.wait_new(Some(&cursor2), 1).await;
    assert!(none.is_empty(), "repeated: {none:?}");

    // Killed right after deliveries, at varying points of the intake (Dovecot announces new mail about
    // 500 ms after delivery, so the later kills land while the server is fetching and storing).
    let mut cursor = cursor2;
    let mut s = s;
    for (i, wait_ms) in [(4, 0u64), (5, 20), (6, 150), (7, 500), (8, 510), (9, 520), (10, 540)] {
        deliver(&mail, i).await;
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        s.kill();
        s = spawn(&mail, data.path());
        s.ready().await;
        let (c, got) = s.collect(Some(&cursor), 1).await;
        assert_eq!(subjects(&got), [format!("message {i}")], "after a kill {wait_ms} ms after delivery");
        cursor = c;
    }
    // From the very beginning: every message exactly once, in order.
    let (_, all) = s.collect(None, 11).await;
    let expected: Vec<String> = (0..11).map(|i| format!("message {i}")).collect();
    assert_eq!(subjects(&all), expected);
    let (_, after) = s.wait_new(Some(&cursor), 1).await;
    assert!(after.is_empty(), "{after:?}");
    s.kill();
}

#[test]
fn bad_configuration_exits_64_listing_every_problem() {
    let out = Command::new(BIN)
        .env_clear()
        .env("EMAIL_ADDRESS", "not-an-address")
        .env("EMAIL_TOKEN_SECRET", "short")
        .env("EMAIL_IMAP_URL", "imap://mail.example.com")
        .env("EMAIL_REQUIRE_AUTH_RESULTS", "dmarc")
        .env("LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let e = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "EMAIL_ADDRESS",
        "EMAIL_TOKEN_SECRET",
        "EMAIL_IMAP_URL",
        "EMAIL_TRUSTED_AUTHSERV_IDS",
        "EMAIL_PASSWORD",
        "LOG_FORMAT",
    ] {
        assert!(e.contains(needle), "{needle} not reported: {e}");
    }
    assert!(!e.contains("short\""), "a secret was echoed: {e}");
}
