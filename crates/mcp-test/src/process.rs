//! A program's real binary on a free loopback port, for what only the
//! binary does (confining itself at start, exiting, signals): started with
//! an empty environment plus the test token and the given variables, killed
//! when dropped.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::TEST_TOKEN;
use crate::raw::RawClient;

/// A running binary.
pub struct Binary {
    child: Child,
    /// A raw client with the test token.
    pub raw: RawClient,
}

impl Binary {
    /// Start `bin` with `env` and wait (up to 20 s) until it listens.
    pub async fn start(bin: &str, env: &[(&str, String)]) -> Self {
        let port = crate::mail::free_port();
        let child = Command::new(bin)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("MCP_AUTH_TOKEN", TEST_TOKEN)
            .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the binary");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "{bin} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let raw = RawClient::new(&format!("http://127.0.0.1:{port}"), Some(TEST_TOKEN.into()));
        Self { child, raw }
    }

    /// `/ready`'s `sandbox` check, which must be there and ok.
    pub async fn sandbox_check(&self) -> Value {
        let ready = self.raw.get("/ready").await.body;
        let checks = ready["checks"].as_array().cloned().unwrap_or_default();
        let sandbox = checks.into_iter().find(|c| c["name"] == "sandbox");
        let sandbox = sandbox.unwrap_or_else(|| panic!("no sandbox check in /ready: {ready}"));
        assert_eq!(sandbox["ok"], true, "{ready}");
        sandbox
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
