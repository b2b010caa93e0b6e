//! `cargo xtask bench`: benchmarks with figures for `docs/benchmarks.md`.
//!
//! `fs`: `tools/call read_file` of a 4 KiB file over loopback HTTP against the
//! release binary, driven by `wrk` (stateless 2026-07-28 requests, keep-alive
//! connections, bearer auth on, JSON logs on as in production but sent to
//! /dev/null). Reports p50/p99 at concurrency 1, throughput at concurrency 64,
//! and the server's RSS idle and under load. The server's own metrics are read
//! afterwards to prove every request was a successful call, not an error.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};

use crate::provision::apt;
use crate::util::{cargo, have, output, target_dir, workspace_root};

const TOKEN: &str = "bench-token-0123456789abcdef";

/// Run benchmark `which`.
pub fn run(which: &str, seconds: u32) -> anyhow::Result<()> {
    match which {
        "fs" => fs(seconds),
        other => bail!("unknown benchmark {other:?}; known: fs"),
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

struct WrkResult {
    p50_us: f64,
    p99_us: f64,
    rps: f64,
    errors: u64,
}

fn wrk(script: &std::path::Path, url: &str, conns: u32, seconds: u32) -> anyhow::Result<WrkResult> {
    let out = output(
        Command::new("wrk")
            .args(["-t1", &format!("-c{conns}"), &format!("-d{seconds}s"), "--timeout", "5s", "-s"])
            .arg(script)
            .arg(url),
    )?;
    let line = out.lines().find(|l| l.starts_with("RESULT")).context("wrk printed no RESULT line")?;
    let get = |k: &str| -> f64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    Ok(WrkResult { p50_us: get("p50_us"), p99_us: get("p99_us"), rps: get("rps"), errors: get("errors") as u64 })
}

/// `(successful, failed)` `read_file` calls counted by the server's metrics.
fn calls(port: u16) -> anyhow::Result<(f64, f64)> {
    let metrics = output(Command::new("curl").args([
        "-s",
        &format!("http://127.0.0.1:{port}/metrics"),
        "-H",
        &format!("Authorization: Bearer {TOKEN}"),
    ]))?;
    let count = |outcome: &str| -> f64 {
        metrics
            .lines()
            .find(|l| {
                l.starts_with("mcp_server_requests_total{")
                    && l.contains("tool=\"read_file\"")
                    && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    Ok((count("ok"), count("tool_error") + count("error") + count("timeout")))
}

fn calls_ok(port: u16) -> anyhow::Result<f64> {
    calls(port).map(|(ok, _)| ok)
}

fn fs(seconds: u32) -> anyhow::Result<()> {
    let root = workspace_root();
    if !have("wrk") {
        apt(&["wrk"])?;
    }
    cargo(&root, &["build", "--release", "-p", "mcp-server-fs"], &[])?;
    let bin = target_dir(&root).join("release/mcp-server-fs");
    let dir = std::env::temp_dir().join(format!("mcp-bench-fs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let line = "The quick brown fox jumps over the lazy dog; all work and no play.\n";
    let content: String = line.repeat(4096 / line.len() + 1).chars().take(4096).collect();
    std::fs::write(dir.join("file.txt"), &content)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = Command::new(&bin)
        .env_clear()
        .env("FS_ROOTS", &dir)
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN", TOKEN)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let pid = child.id();
    let result = (|| -> anyhow::Result<()> {
        for _ in 0..100 {
            if crate::util::http_get_ok(port, "/health") {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let url = format!("http://127.0.0.1:{port}/mcp");
        let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"file.txt"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#;
        let headers = [
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", "tools/call"),
            ("Mcp-Name", "read_file"),
        ];
        // Pre-flight: the exact request returns the file, not an error.
        let mut curl = Command::new("curl");
        curl.args(["-s", "-X", "POST", &url, "-H", &format!("Authorization: Bearer {TOKEN}"), "-d", body]);
        for (k, v) in headers {
            curl.args(["-H", &format!("{k}: {v}")]);
        }
        let pre = output(&mut curl)?;
        let v: serde_json::Value = serde_json::from_str(&pre).context("pre-flight answer is not JSON")?;
        if v["result"]["isError"] != false || v["result"]["structuredContent"]["bytes"] != 4096 {
            bail!("pre-flight call failed: {pre}");
        }
        std::thread::sleep(Duration::from_secs(1));
        let idle = rss_kib(pid);
        let script = dir.join("post.lua");
        let mut f = std::fs::File::create(&script)?;
        writeln!(f, "wrk.method = \"POST\"")?;
        writeln!(f, "wrk.body = [[{body}]]")?;
        writeln!(f, "wrk.headers[\"Authorization\"] = \"Bearer {TOKEN}\"")?;
        for (k, v) in headers {
            writeln!(f, "wrk.headers[\"{k}\"] = \"{v}\"")?;
        }
        writeln!(
            f,
            r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT p50_us=%d p99_us=%d rps=%.1f requests=%d errors=%d\n",
    latency:percentile(50), latency:percentile(99), summary.requests / (summary.duration / 1e6),
    summary.requests, e.status + e.connect + e.read + e.write + e.timeout))
end"#
        )?;
        drop(f);
        // Warm up caches and the allocator.
        let _ = wrk(&script, &url, 8, 2)?;
        let before = calls_ok(port)?;
        let c1 = wrk(&script, &url, 1, seconds)?;
        let peak = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let c64 = wrk(&script, &url, 64, seconds)?;
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        // Every request must have been a successful tool call.
        let (ok_after, bad) = calls(port)?;
        let ok = ok_after - before;
        if bad > 0.0 || c1.errors + c64.errors > 0 {
            bail!("errors during the run: {bad} failed calls, {} HTTP errors", c1.errors + c64.errors);
        }
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
            })
            .unwrap_or_default();
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]))?.trim().to_owned();
        println!(
            "\nfs read_file 4 KiB, {date}, {cores} cores ({cpu}), wrk 1 thread on the same machine, {seconds} s per run"
        );
        println!("| measure | result | target |");
        println!("|---|---|---|");
        println!("| p50 latency, concurrency 1 | {:.0} µs | ≤ 300 µs |", c1.p50_us);
        println!("| p99 latency, concurrency 1 | {:.0} µs | |", c1.p99_us);
        println!("| throughput, concurrency 1 | {:.0} calls/s | |", c1.rps);
        println!("| throughput, concurrency 64 | {:.0} calls/s | ≥ 15 000 calls/s |", c64.rps);
        println!("| p50 / p99 latency, concurrency 64 | {:.0} µs / {:.0} µs | |", c64.p50_us, c64.p99_us);
        println!("| RSS idle | {:.1} MB | ≤ 15 MB |", idle as f64 / 1024.0);
        println!("| RSS peak under load | {:.1} MB | |", peak.load(Ordering::Relaxed) as f64 / 1024.0);
        println!("| calls the server counted as successful / failed | {ok:.0} / {bad:.0} | 0 failed |");
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
