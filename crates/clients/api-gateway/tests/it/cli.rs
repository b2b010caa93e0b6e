//! The `mcp-fleet` binary end to end against the real gateway, started
//! in-process as `api.rs` starts it (real fs and log upstreams; the agent,
//! planner and observer down): exit codes, stdout/stderr discipline, JSON
//! and tables, keys, tools, servers and the audit.
//!
//! `request watch` over a real run (lines per change, exit 0 when the run
//! succeeds, 1 when it fails) is covered by the fleet's end-to-end test in
//! `crates/clients/llm-agent/tests/it/gateway.rs`, which has an agent and a
//! planner. What needs a run that this test cannot make — a stream that
//! drops before `done` and is reopened ("reconnecting") — is not tested
//! against a gateway: no real gateway can be made to drop a stream on
//! demand, and the stand-in server that did so here is gone. Here, `watch`
//! is checked for a request the gateway cannot follow.

use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};
use serde_json::{Value, json};

use super::api::{Http, start, start_with};

/// Run `mcp-fleet` against `base` with `key` (environment cleared of our variables).
pub fn mcp_fleet(base: &str, key: Option<&str>, args: &[&str]) -> Result<Output> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcp-fleet"));
    cmd.env_remove("MCP_FLEET_KEY").env_remove("MCP_FLEET_KEY_FILE").env("MCP_FLEET_URL", base).args(args);
    if let Some(k) = key {
        cmd.env("MCP_FLEET_KEY", k);
    }
    cmd.output().context("run mcp-fleet")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What any gateway must satisfy, given its base URL and an admin
/// credential: JSON on stdout with `--json`, tables otherwise, exit 4
/// without or with a wrong credential, and the credential never echoed.
pub async fn check_against(base: &str, token: &str) -> Result<()> {
    let base = base.to_owned();
    let token = token.to_owned();
    // The binary blocks; keep the test's runtime (and the gateway on it) free.
    tokio::task::spawn_blocking(move || -> Result<()> {
        for (args, list) in [(&["servers"][..], "servers"), (&["tools", "list"], "tools"), (&["audit"], "entries")] {
            let json_args: Vec<&str> = ["--json"].iter().chain(args).copied().collect();
            let o = mcp_fleet(&base, Some(&token), &json_args)?;
            ensure!(code(&o) == 0, "{args:?}: exit {}: {}", code(&o), stderr(&o));
            let v: Value = serde_json::from_slice(&o.stdout).with_context(|| format!("{args:?}: stdout is JSON"))?;
            ensure!(v.get(list).is_some_and(Value::is_array), "{args:?}: no {list} array in {v}");
            let o = mcp_fleet(&base, Some(&token), args)?;
            ensure!(code(&o) == 0 && !o.stdout.is_empty(), "{args:?} as text: exit {}: {}", code(&o), stderr(&o));
        }
        let o = mcp_fleet(&base, None, &["servers"])?;
        ensure!(code(&o) == 4, "no key: exit {} ({})", code(&o), stderr(&o));
        ensure!(stderr(&o).contains("--key"), "no key: a hint names --key: {}", stderr(&o));
        let wrong = format!("{token}-wrong");
        let o = mcp_fleet(&base, Some(&wrong), &["--json", "servers"])?;
        ensure!(code(&o) == 4, "wrong key: exit {}", code(&o));
        ensure!(o.stdout.is_empty(), "wrong key: nothing on stdout with --json");
        ensure!(!stderr(&o).contains(&wrong), "the key is never printed");
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn cli_against_the_real_gateway() -> Result<()> {
    let gw = start().await?;
    let (_, admin) = Http::new(&gw.base).key("cli-admin", "admin", json!({})).await?;
    check_against(&gw.base, &admin).await?;
    let base = gw.base.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        // Cannot connect: a port nobody listens on.
        let o = mcp_fleet("http://127.0.0.1:9", Some(&admin), &["--timeout", "2", "servers"])?;
        ensure!(code(&o) == 3, "unreachable: exit {}: {}", code(&o), stderr(&o));

        // Tables: the real upstreams and their tools.
        let o = mcp_fleet(&base, Some(&admin), &["servers"])?;
        let out = stdout(&o);
        ensure!(out.contains("fs") && out.contains("up") && out.contains("llm_agent") && out.contains("down"), "{out}");
        let o = mcp_fleet(&base, Some(&admin), &["tools", "list", "--server", "fs"])?;
        let out = stdout(&o);
        ensure!(code(&o) == 0 && out.contains("fs__read_file") && !out.contains("log__"), "{out}");

        // A call: its text; a tool's error result: printed, exit 1.
        let o =
            mcp_fleet(&base, Some(&admin), &["tools", "call", "fs__read_file", "--args", r#"{"path":"hello.txt"}"#])?;
        ensure!(code(&o) == 0 && stdout(&o).contains("hello from the fs server"), "call: {}", stderr(&o));
        let o = mcp_fleet(
            &base,
            Some(&admin),
            &["--json", "tools", "call", "fs__read_file", "--args", r#"{"path":"hello.txt"}"#],
        )?;
        let v: Value = serde_json::from_slice(&o.stdout).context("--json tools call")?;
        ensure!(v["is_error"] == false && v["text"].as_str().is_some_and(|t| t.contains("hello")), "{v}");
        let o =
            mcp_fleet(&base, Some(&admin), &["tools", "call", "fs__read_file", "--args", r#"{"path":"nope.txt"}"#])?;
        ensure!(code(&o) == 1 && !o.stdout.is_empty(), "tool error: exit {}: {}", code(&o), stdout(&o));
        ensure!(stderr(&o).contains("error:"), "tool error: {}", stderr(&o));

        // A problem from the gateway: exit 1, its title and detail on stderr.
        let o = mcp_fleet(&base, Some(&admin), &["tools", "call", "fs__no_such_tool"])?;
        ensure!(code(&o) == 1, "404: exit {}", code(&o));
        ensure!(stderr(&o).contains("Not Found (404)") || stderr(&o).contains("(404)"), "404: {}", stderr(&o));
        ensure!(stderr(&o).contains("fs__no_such_tool"), "404: {}", stderr(&o));
        // An upstream that is down: 503, exit 1, naming it; `watch` of a
        // request the gateway cannot follow ends the same way.
        let o = mcp_fleet(&base, Some(&admin), &["request", "show", "r-1"])?;
        ensure!(code(&o) == 1 && stderr(&o).contains("(503)") && stderr(&o).contains("llm_agent"), "{}", stderr(&o));
        let o = mcp_fleet(&base, Some(&admin), &["request", "watch", "r-1"])?;
        ensure!(code(&o) == 1 && stderr(&o).contains("(503)"), "watch: exit {}: {}", code(&o), stderr(&o));

        // Usage: both credentials, and clap's own errors.
        let o = mcp_fleet(&base, Some(&admin), &["--key-file", "/dev/null", "servers"])?;
        ensure!(code(&o) == 2, "key and key file: exit {}", code(&o));
        ensure!(!stderr(&o).contains(&admin), "the key is never printed: {}", stderr(&o));
        let o = mcp_fleet(&base, Some(&admin), &["tools", "call", "x", "--args", "[1]"])?;
        ensure!(code(&o) == 2, "bad --args: exit {}", code(&o));

        // Keys: the secret once, with the warning; listed; revoked, then refused.
        let o = mcp_fleet(&base, Some(&admin), &["keys", "create", "--name", "ci", "--role", "viewer"])?;
        ensure!(code(&o) == 0 && stdout(&o).contains("mcpf_") && stdout(&o).contains("only time"), "{}", stdout(&o));
        let o = mcp_fleet(&base, Some(&admin), &["--json", "keys", "create", "--name", "ci2", "--role", "viewer"])?;
        ensure!(code(&o) == 0 && stderr(&o).contains("shown only now"), "the warning goes to stderr: {}", stderr(&o));
        let created: Value = serde_json::from_slice(&o.stdout).context("--json keys create")?;
        let (id, key) = (created["id"].as_str().context("id")?, created["key"].as_str().context("key")?);
        let o = mcp_fleet(&base, Some(key), &["servers"])?;
        ensure!(code(&o) == 0, "the new key works: {}", stderr(&o));
        let o = mcp_fleet(&base, Some(&admin), &["keys", "list"])?;
        ensure!(code(&o) == 0 && stdout(&o).contains("ci2") && stdout(&o).contains(id), "{}", stdout(&o));
        ensure!(!stdout(&o).contains(key), "a listing never shows a secret");
        let o = mcp_fleet(&base, Some(&admin), &["keys", "revoke", id])?;
        ensure!(code(&o) == 0 && stdout(&o) == format!("key {id} revoked\n"), "revoke: {}", stdout(&o));
        let o = mcp_fleet(&base, Some(key), &["servers"])?;
        ensure!(code(&o) == 4, "a revoked key: exit {}", code(&o));
        let o = mcp_fleet(&base, Some(&admin), &["keys", "revoke", "0123456789ab"])?;
        ensure!(code(&o) == 1 && stderr(&o).contains("(404)"), "no such key: {}", stderr(&o));

        // The audit holds the CLI's calls, through REST, by the key's name.
        let o =
            mcp_fleet(&base, Some(&admin), &["--json", "audit", "--tool", "fs__read_file", "--subject", "cli-admin"])?;
        let v: Value = serde_json::from_slice(&o.stdout).context("--json audit")?;
        let entries = v["entries"].as_array().context("entries")?;
        ensure!(!entries.is_empty() && entries.iter().all(|e| e["via"] == "rest"), "{v}");
        let o = mcp_fleet(&base, Some(&admin), &["audit", "--tool", "fs__read_file"])?;
        ensure!(code(&o) == 0 && stdout(&o).contains("fs__read_file"), "{}", stdout(&o));
        Ok(())
    })
    .await?
}

#[tokio::test]
async fn cli_over_the_rate_limit_exits_5() -> Result<()> {
    // One request a minute per caller (a burst of one): the second is 429.
    let gw = start_with(&[("GATEWAY_RATE_PER_MINUTE", "1")]).await?;
    // Keys are made with the fleet token, which the edge limit exempts.
    let (_, key) = Http::new(&gw.base).key("slow", "viewer", json!({})).await?;
    let base = gw.base.clone();
    tokio::task::spawn_blocking(move || -> Result<()> {
        let o = mcp_fleet(&base, Some(&key), &["servers"])?;
        ensure!(code(&o) == 0, "the first: exit {}: {}", code(&o), stderr(&o));
        let o = mcp_fleet(&base, Some(&key), &["--json", "servers"])?;
        ensure!(code(&o) == 5, "429: exit {}: {}", code(&o), stderr(&o));
        ensure!(stderr(&o).contains("retry after"), "429 says when: {}", stderr(&o));
        ensure!(o.stdout.is_empty(), "nothing on stdout");
        Ok(())
    })
    .await?
}
