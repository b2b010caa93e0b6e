//! `cargo xtask bench`: benchmarks with figures for `docs/benchmarks.md`.
//!
//! Each benchmark starts a release binary on loopback and drives one
//! `tools/call` with `wrk` (stateless 2026-07-28 requests over keep-alive
//! connections, bearer auth on, JSON logs on as in production but sent to
//! /dev/null): p50/p99 latency at concurrency 1, throughput at a higher
//! concurrency, and the server's RSS idle and under load. Before measuring,
//! the exact request is made once and its result checked; afterwards the
//! server's own metrics must show no failed call.
//!
//! - `fs`: `read_file` of a 4 KiB file.
//! - `shell`: `run ["true"]` (the cost of a policy check, fork/exec with limits and capture),
//!   with the kernel sandbox (Landlock ruleset built per process) and with `SHELL_SANDBOX=off`.
//! - `pytest`: a 200-test pytest run through the shell server, with and
//!   without the kernel sandbox (ratio; timed by the caller, not wrk).
//! - `git`: `git_status` on a 10 000-file repository and `git_log` of 100 commits.
//! - `gateway`: the api-gateway's overhead: fs `stat` through the gateway
//!   (`fs__stat`) and directly to the same fs server in the same run, at
//!   concurrency 1 (interleaved, three rounds; overhead = p50 difference) and
//!   with 1000 concurrent connections (0 errors required on both sides).
//! - `checks`: the lint and test servers' overhead over running the same tool
//!   directly on the same project: `test_run` of a 5-second pytest suite
//!   against `python3 -m pytest` run by hand, and `lint_run` with flake8 on
//!   a 300-file package against `python3 -m flake8` (ratios; timed by the
//!   caller, runs interleaved so drift hits both sides alike).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::provision::apt;
use crate::util::{cargo, have, output, target_dir, workspace_root};

const TOKEN: &str = "bench-token-0123456789abcdef";

/// Run benchmark `which`.
pub fn run(which: &str, seconds: u32) -> anyhow::Result<()> {
    if !have("wrk") {
        apt(&["wrk"])?;
    }
    match which {
        "fs" => fs(seconds),
        "shell" => shell(seconds),
        "git" => git(seconds),
        "pytest" => pytest(),
        "checks" => checks(),
        "gateway" => gateway(seconds),
        other => bail!("unknown benchmark {other:?}; known: fs, shell, git, pytest, checks, gateway"),
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

/// A server under test, stopped on drop.
struct Running {
    child: std::process::Child,
    port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(package: &str, env: &[(&str, String)]) -> anyhow::Result<Running> {
    let root = workspace_root();
    cargo(&root, &["build", "--release", "-p", package], &[])?;
    let bin = target_dir(&root).join("release").join(package);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut cmd = Command::new(&bin);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN", TOKEN)
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn()?;
    for _ in 0..200 {
        if crate::util::http_get_ok(port, "/health") {
            return Ok(Running { child, port });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("{package} did not start")
}

fn body(tool: &str, args: &Value) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": args,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}})
    .to_string()
}

const HEADERS: [(&str, &str); 4] = [
    ("Content-Type", "application/json"),
    ("Accept", "application/json, text/event-stream"),
    ("MCP-Protocol-Version", "2026-07-28"),
    ("Mcp-Method", "tools/call"),
];

/// Make the request once with curl and return the result.
fn preflight(port: u16, tool: &str, args: &Value) -> anyhow::Result<Value> {
    let mut curl = Command::new("curl");
    curl.args([
        "-s",
        "-X",
        "POST",
        &format!("http://127.0.0.1:{port}/mcp"),
        "-H",
        &format!("Authorization: Bearer {TOKEN}"),
    ]);
    curl.args(["-H", &format!("Mcp-Name: {tool}"), "-d", &body(tool, args)]);
    for (k, v) in HEADERS {
        curl.args(["-H", &format!("{k}: {v}")]);
    }
    let pre = output(&mut curl)?;
    let v: Value = serde_json::from_str(&pre).context("pre-flight answer is not JSON")?;
    if v["result"]["isError"] != false {
        bail!("pre-flight call failed: {pre}");
    }
    Ok(v["result"].clone())
}

fn script(dir: &Path, tool: &str, args: &Value) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join(format!("{tool}.lua"));
    let mut f = std::fs::File::create(&path)?;
    writeln!(f, "wrk.method = \"POST\"")?;
    writeln!(f, "wrk.body = [[{}]]", body(tool, args))?;
    writeln!(f, "wrk.headers[\"Authorization\"] = \"Bearer {TOKEN}\"")?;
    writeln!(f, "wrk.headers[\"Mcp-Name\"] = \"{tool}\"")?;
    for (k, v) in HEADERS {
        writeln!(f, "wrk.headers[\"{k}\"] = \"{v}\"")?;
    }
    writeln!(
        f,
        r#"done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT p50_us=%d p99_us=%d rps=%.1f errors=%d\n",
    latency:percentile(50), latency:percentile(99), summary.requests / (summary.duration / 1e6),
    e.status + e.connect + e.read + e.write + e.timeout))
end"#
    )?;
    Ok(path)
}

fn wrk(script: &Path, port: u16, conns: u32, seconds: u32) -> anyhow::Result<WrkResult> {
    let out = output(
        Command::new("wrk")
            .args(["-t1", &format!("-c{conns}"), &format!("-d{seconds}s"), "--timeout", "10s", "-s"])
            .arg(script)
            .arg(format!("http://127.0.0.1:{port}/mcp")),
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

/// `(successful, failed)` calls of `tool` counted by the server's metrics.
fn calls(port: u16, tool: &str) -> anyhow::Result<(f64, f64)> {
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
                    && l.contains(&format!("tool=\"{tool}\""))
                    && l.contains(&format!("outcome=\"{outcome}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    Ok((count("ok"), count("tool_error") + count("error") + count("timeout")))
}

/// Measure one tool: c=1 latency, then `high` concurrency with RSS sampling.
fn measure(
    s: &Running,
    dir: &Path,
    title: &str,
    tool: &str,
    args: &Value,
    high: u32,
    seconds: u32,
) -> anyhow::Result<()> {
    let sc = script(dir, tool, args)?;
    let pid = s.child.id();
    let _ = wrk(&sc, s.port, 4, 2)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kib(pid);
    let before = calls(s.port, tool)?.0;
    let c1 = wrk(&sc, s.port, 1, seconds)?;
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
    let hi = wrk(&sc, s.port, high, seconds)?;
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    let (ok_after, bad) = calls(s.port, tool)?;
    if bad > 0.0 || c1.errors + hi.errors > 0 {
        bail!("errors during the run: {bad} failed calls, {} HTTP errors", c1.errors + hi.errors);
    }
    println!("\n{title}");
    println!("| measure | result |");
    println!("|---|---|");
    println!("| p50 / p99 latency, concurrency 1 | {:.0} µs / {:.0} µs |", c1.p50_us, c1.p99_us);
    println!("| throughput, concurrency 1 | {:.0} calls/s |", c1.rps);
    println!("| throughput, concurrency {high} | {:.0} calls/s |", hi.rps);
    println!("| p50 / p99 latency, concurrency {high} | {:.0} µs / {:.0} µs |", hi.p50_us, hi.p99_us);
    println!(
        "| RSS idle / peak under load | {:.1} MB / {:.1} MB |",
        idle as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    println!("| calls counted as successful / failed by the server | {:.0} / {bad:.0} |", ok_after - before);
    Ok(())
}

fn machine() -> anyhow::Result<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]))?.trim().to_owned();
    Ok(format!("{date}, {cores} cores ({cpu}), wrk 1 thread on the same machine"))
}

fn tempdir(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mcp-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn fs(seconds: u32) -> anyhow::Result<()> {
    let dir = tempdir("fs")?;
    let line = "The quick brown fox jumps over the lazy dog; all work and no play.\n";
    let content: String = line.repeat(4096 / line.len() + 1).chars().take(4096).collect();
    std::fs::write(dir.join("file.txt"), &content)?;
    let s = start("mcp-server-fs", &[("FS_ROOTS", dir.display().to_string())])?;
    let args = serde_json::json!({"path": "file.txt"});
    let r = preflight(s.port, "read_file", &args)?;
    if r["structuredContent"]["bytes"] != 4096 {
        bail!("pre-flight read returned {}", r["structuredContent"]["bytes"]);
    }
    let title = format!("fs read_file 4 KiB — {}, {seconds} s per run", machine()?);
    let res = measure(&s, &dir, &title, "read_file", &args, 64, seconds);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    res
}

fn shell(seconds: u32) -> anyhow::Result<()> {
    // Both ways, so the sandbox's share of a run is measured, not guessed.
    for sandbox in ["on", "off"] {
        let dir = tempdir("shell")?;
        std::fs::create_dir_all(dir.join("root"))?;
        let s = start(
            "mcp-server-shell",
            &[
                ("SHELL_ROOTS", dir.join("root").display().to_string()),
                ("SHELL_DATA_DIR", dir.join("data").display().to_string()),
                ("SHELL_PRESET", "minimal".into()),
                ("SHELL_MAX_PROCESSES", "64".into()),
                ("SHELL_SANDBOX", sandbox.into()),
            ],
        )?;
        let args = serde_json::json!({"argv": ["true"]});
        let r = preflight(s.port, "run", &args)?;
        if r["structuredContent"]["exit_code"] != 0 {
            bail!("pre-flight run failed: {r}");
        }
        let confined = &r["structuredContent"]["sandbox"];
        let title =
            format!("shell run [\"true\"], sandbox {sandbox} ({confined}) — {}, {seconds} s per run", machine()?);
        let res = measure(&s, &dir, &title, "run", &args, 8, seconds);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
        res?;
    }
    Ok(())
}

/// A real test run through the shell server, with and without the kernel
/// sandbox: `python3 -m pytest` on a project of 200 tests, 7 runs each way,
/// one at a time (the sandbox's cost is per process, so a test suite that
/// spawns little shows it as it is).
fn pytest() -> anyhow::Result<()> {
    const RUNS: usize = 7;
    let mut medians = Vec::new();
    for sandbox in ["on", "off"] {
        let dir = tempdir("pytest")?;
        let project = dir.join("root/proj");
        std::fs::create_dir_all(project.join("tests"))?;
        std::fs::write(project.join("calc.py"), "def add(a, b):\n    return a + b\n")?;
        let tests: String =
            (0..200).map(|i| format!("def test_add_{i}():\n    assert calc.add({i}, 1) == {}\n\n", i + 1)).collect();
        std::fs::write(project.join("tests/test_calc.py"), format!("import calc\n\n{tests}"))?;
        std::fs::write(project.join("pytest.ini"), "[pytest]\npythonpath = .\naddopts = -p no:cacheprovider\n")?;
        let s = start(
            "mcp-server-shell",
            &[
                ("SHELL_ROOTS", dir.join("root").display().to_string()),
                ("SHELL_DATA_DIR", dir.join("data").display().to_string()),
                ("SHELL_PRESET", "build".into()),
                ("SHELL_INTERPRETERS", "python3".into()),
                ("SHELL_SANDBOX", sandbox.into()),
            ],
        )?;
        let args = serde_json::json!({"argv": ["python3", "-m", "pytest", "-q"], "cwd": "proj", "timeout_secs": 120});
        let mut times = Vec::new();
        let mut confined = Value::Null;
        for _ in 0..RUNS {
            let t = std::time::Instant::now();
            let r = preflight(s.port, "run", &args)?;
            times.push(t.elapsed().as_secs_f64());
            if r["structuredContent"]["exit_code"] != 0 {
                bail!("pytest failed through the shell (sandbox {sandbox}): {r}");
            }
            confined = r["structuredContent"]["sandbox"].clone();
        }
        times.sort_by(f64::total_cmp);
        let median = times[RUNS / 2];
        println!(
            "pytest (200 tests) through mcp-server-shell, sandbox {sandbox} ({confined}): median {:.3} s, \
             min {:.3} s, max {:.3} s over {RUNS} runs — {}",
            median,
            times[0],
            times[RUNS - 1],
            machine()?
        );
        medians.push(median);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("sandbox on / off: {:.3}", medians[0] / medians[1]);
    Ok(())
}

/// The lint and test servers against the tools run directly (see the
/// module's documentation). Both sides run the same interpreter on the same
/// files; the servers add detection, the sandbox, the JUnit/diagnostic
/// parsing and (test) the stored history.
fn checks() -> anyhow::Result<()> {
    const RUNS: usize = 5;
    let dir = tempdir("checks")?;
    let root = dir.join("root");
    // A suite of about five seconds: 50 tests of 100 ms.
    let suite = root.join("suite");
    std::fs::create_dir_all(suite.join("tests"))?;
    let tests: String =
        (0..50).map(|i| format!("def test_wait_{i}():\n    time.sleep(0.1)\n    assert {i} >= 0\n\n\n")).collect();
    std::fs::write(suite.join("tests/test_slow.py"), format!("import time\n\n\n{tests}"))?;
    std::fs::write(suite.join("pytest.ini"), "[pytest]\naddopts = -p no:cacheprovider\n")?;
    // 300 modules of 40 functions for flake8.
    let pkg = root.join("lintee");
    std::fs::create_dir_all(pkg.join("pkg"))?;
    std::fs::write(pkg.join("setup.cfg"), "[flake8]\nmax-line-length = 100\n")?;
    let body: String = (0..40).map(|i| format!("def f{i}(x):\n    return x + {i}\n\n\n")).collect();
    for m in 0..300 {
        std::fs::write(
            pkg.join(format!("pkg/m{m}.py")),
            format!("\"\"\"Module {m}.\"\"\"\n\n\n{}", body.trim_end()) + "\n",
        )?;
    }
    let path = "/usr/local/bin:/usr/bin:/bin".to_owned();
    let test = start(
        "mcp-server-test",
        &[
            ("TEST_ROOTS", root.display().to_string()),
            ("TEST_DATA_DIR", dir.join("test-data").display().to_string()),
            ("TEST_DATABASE_URL", format!("sqlite:{}", dir.join("test.db").display())),
            ("TEST_PATH", path.clone()),
        ],
    )?;
    let lint = start(
        "mcp-server-lint",
        &[
            ("LINT_ROOTS", root.display().to_string()),
            ("LINT_DATA_DIR", dir.join("lint-data").display().to_string()),
            ("LINT_PATH", path),
        ],
    )?;
    let direct = |cwd: &Path, args: &[&str]| -> anyhow::Result<f64> {
        let t = std::time::Instant::now();
        let out = Command::new("/usr/bin/python3").args(args).current_dir(cwd).output()?;
        let secs = t.elapsed().as_secs_f64();
        if !out.status.success() {
            bail!("{args:?} failed directly: {}", String::from_utf8_lossy(&out.stdout));
        }
        Ok(secs)
    };
    let served = |port: u16, tool: &str, args: &Value, check: &dyn Fn(&Value) -> bool| -> anyhow::Result<f64> {
        let t = std::time::Instant::now();
        let r = preflight(port, tool, args)?;
        let secs = t.elapsed().as_secs_f64();
        if !check(&r["structuredContent"]) {
            bail!("{tool} did not pass: {r}");
        }
        Ok(secs)
    };
    let (mut t_direct, mut t_server, mut l_direct, mut l_server) = (vec![], vec![], vec![], vec![]);
    let test_args = serde_json::json!({"path": "suite", "runner": "pytest", "timeout_secs": 120});
    let lint_args = serde_json::json!({"path": "lintee", "tools": ["flake8"], "timeout_secs": 120});
    for _ in 0..RUNS {
        t_direct.push(direct(&suite, &["-m", "pytest", "-q"])?);
        t_server
            .push(served(test.port, "test_run", &test_args, &|v| v["passed"] == true && v["totals"]["passed"] == 50)?);
        l_direct.push(direct(&pkg, &["-m", "flake8", "pkg"])?);
        l_server.push(served(lint.port, "lint_run", &lint_args, &|v| v["passed"] == true)?);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (td, ts, ld, ls) = (median(&mut t_direct), median(&mut t_server), median(&mut l_direct), median(&mut l_server));
    println!("checks — {}, medians of {RUNS} interleaved runs", machine()?);
    println!("pytest, 50 tests of 100 ms: direct {td:.3} s, test_run {ts:.3} s, ratio {:.3}", ts / td);
    println!("flake8, 300 modules: direct {ld:.3} s, lint_run {ls:.3} s, ratio {:.3}", ls / ld);
    drop(test);
    drop(lint);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn git(seconds: u32) -> anyhow::Result<()> {
    let dir = tempdir("git")?;
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo)?;
    let git = |args: &[&str]| -> anyhow::Result<()> {
        crate::util::run(Command::new("git").args(args).current_dir(&repo).stdout(Stdio::null()))
    };
    git(&["init", "-q", "-b", "main"])?;
    git(&["config", "user.name", "Bench"])?;
    git(&["config", "user.email", "bench@example.test"])?;
    // 10 000 files in 100 directories, committed; then 100 commits for the log.
    for d in 0..100 {
        let sub = repo.join(format!("dir{d:03}"));
        std::fs::create_dir_all(&sub)?;
        for f in 0..100 {
            std::fs::write(sub.join(format!("file{f:03}.txt")), format!("{d} {f}\n"))?;
        }
    }
    git(&["add", "-A"])?;
    git(&["commit", "-q", "-m", "10 000 files"])?;
    for i in 0..100 {
        std::fs::write(repo.join("dir000/file000.txt"), format!("change {i}\n"))?;
        git(&["commit", "-q", "-am", &format!("change {i}")])?;
    }
    // One modified and one untracked file so status has something to report.
    std::fs::write(repo.join("dir001/file001.txt"), "modified\n")?;
    std::fs::write(repo.join("untracked.txt"), "new\n")?;
    let s = start("mcp-server-git", &[("GIT_ROOTS", dir.display().to_string())])?;
    let status = serde_json::json!({"repo": "repo"});
    preflight(s.port, "git_status", &status)?;
    let title = format!("git_status, 10 000-file repository — {}, {seconds} s per run", machine()?);
    measure(&s, &dir, &title, "git_status", &status, 4, seconds)?;
    let log = serde_json::json!({"repo": "repo", "max_count": 100});
    preflight(s.port, "git_log", &log)?;
    let title = format!("git_log -n 100 — {}, {seconds} s per run", machine()?);
    let res = measure(&s, &dir, &title, "git_log", &log, 4, seconds);
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    res
}

/// The gateway's overhead over calling the server directly: the same
/// `stat` of a small file, through `mcp-client-api-gateway` (as `fs__stat`,
/// with the fleet token: no edge limit or quota applies, but the policy
/// view, the audit row and the metrics do) and straight to the fs server the
/// gateway forwards to. Concurrency 1 runs alternate direct/gateway three
/// times so drift hits both alike; the medians give the overhead. Then 1000
/// connections each way: every call must succeed.
fn gateway(seconds: u32) -> anyhow::Result<()> {
    let dir = tempdir("gateway")?;
    std::fs::create_dir_all(dir.join("root"))?;
    std::fs::write(dir.join("root/file.txt"), "gateway benchmark\n")?;
    let fs = start("mcp-server-fs", &[("FS_ROOTS", dir.join("root").display().to_string())])?;
    let gw = start(
        "mcp-client-api-gateway",
        &[
            ("GATEWAY_UPSTREAMS", "fs".into()),
            ("MCP_SERVER_FS_URL", format!("http://127.0.0.1:{}/mcp", fs.port)),
            ("GATEWAY_DATABASE_URL", format!("sqlite:{}", dir.join("gateway.db").display())),
            ("GATEWAY_KEY_SECRET", "bench-key-secret-0123456789abcdef0123".into()),
        ],
    )?;
    let args = serde_json::json!({"path": "file.txt"});
    let direct = preflight(fs.port, "stat", &args)?;
    let via = preflight(gw.port, "fs__stat", &args)?;
    if direct["structuredContent"] != via["structuredContent"] {
        bail!("the gateway's answer differs from the server's: {via} vs {direct}");
    }
    let d_script = script(&dir, "stat", &args)?;
    let g_script = script(&dir, "fs__stat", &args)?;
    // Warm both paths (connections, the gateway's upstream pool).
    wrk(&d_script, fs.port, 4, 2)?;
    wrk(&g_script, gw.port, 4, 2)?;
    let (mut d1, mut g1) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        d1.push(wrk(&d_script, fs.port, 1, seconds)?);
        g1.push(wrk(&g_script, gw.port, 1, seconds)?);
    }
    let median = |v: &[WrkResult], f: fn(&WrkResult) -> f64| -> f64 {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        x.sort_by(f64::total_cmp);
        x[x.len() / 2]
    };
    let d_hi = wrk(&d_script, fs.port, 1000, seconds)?;
    let g_hi = wrk(&g_script, gw.port, 1000, seconds)?;
    let (_, d_bad) = calls(fs.port, "stat")?;
    let (g_ok, g_bad) = calls(gw.port, "fs__stat")?;
    let http_errors: u64 = d1.iter().chain(g1.iter()).chain([&d_hi, &g_hi]).map(|r| r.errors).sum();
    let dropped = crate::util::http_get(gw.port, "/metrics", Some(TOKEN))
        .and_then(|(_, m)| {
            m.lines()
                .find(|l| l.starts_with("gateway_audit_dropped_total "))
                .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        })
        .unwrap_or(f64::NAN);
    let (dp50, gp50) = (median(&d1, |r| r.p50_us), median(&g1, |r| r.p50_us));
    println!("\ngateway overhead, fs stat — {}, {seconds} s per run", machine()?);
    println!("| measure | direct to fs | through the gateway |");
    println!("|---|---|---|");
    println!("| p50 latency, concurrency 1 (median of 3) | {dp50:.0} µs | {gp50:.0} µs |");
    println!(
        "| p99 latency, concurrency 1 (median of 3) | {:.0} µs | {:.0} µs |",
        median(&d1, |r| r.p99_us),
        median(&g1, |r| r.p99_us)
    );
    println!(
        "| throughput, concurrency 1 (median of 3) | {:.0} calls/s | {:.0} calls/s |",
        median(&d1, |r| r.rps),
        median(&g1, |r| r.rps)
    );
    println!(
        "| p50 / p99 latency, 1000 connections | {:.1} ms / {:.1} ms | {:.1} ms / {:.1} ms |",
        d_hi.p50_us / 1e3,
        d_hi.p99_us / 1e3,
        g_hi.p50_us / 1e3,
        g_hi.p99_us / 1e3
    );
    println!("| throughput, 1000 connections | {:.0} calls/s | {:.0} calls/s |", d_hi.rps, g_hi.rps);
    println!(
        "| failed calls (server metrics) / HTTP errors | {d_bad:.0} / {} | {g_bad:.0} / {} |",
        d1.iter().chain([&d_hi]).map(|r| r.errors).sum::<u64>(),
        g1.iter().chain([&g_hi]).map(|r| r.errors).sum::<u64>()
    );
    println!("| calls through the gateway / audit rows dropped | | {g_ok:.0} / {dropped} |");
    println!("\ngateway overhead at p50, concurrency 1: {:.0} µs (target ≤ 500 µs)", gp50 - dp50);
    drop(gw);
    drop(fs);
    let _ = std::fs::remove_dir_all(&dir);
    if d_bad + g_bad > 0.0 || http_errors > 0 {
        bail!("errors during the run: {} failed calls, {http_errors} HTTP errors", d_bad + g_bad);
    }
    Ok(())
}
