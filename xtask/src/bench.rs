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
//! - `deploy`: `mcp-server-docker`'s `app_deploy` of a busybox httpd behind a
//!   1-second health check, timed until the call returns healthy: one
//!   replica, two replicas, and a rolling update of the two (a changed
//!   environment). The peer, in the same run and interleaved: the same
//!   container (same limits and hardening, its own network) started with the
//!   `docker` CLI and `docker inspect` polled until healthy (ratios).
//! - `ci`: a three-job local pipeline (build → test → deploy, an artifact
//!   passed through `needs`) through `mcp-server-gitlab`'s `ci_run_local`
//!   with `wait`, every job container started by `mcp-server-docker`; against
//!   the same three scripts in three sequential `docker run --rm` on a
//!   bind-mounted directory, and run directly on the host with `sh -c`.
//!
//! `deploy` and `ci` run `mcp-fleet-test/busybox:1` (imported from the host's
//! static busybox when missing, as `mcp_test::docker::busybox_image` does)
//! and remove every container and network carrying their instance labels
//! when they end, failed or not.

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
    if !matches!(which, "deploy" | "ci") && !have("wrk") {
        apt(&["wrk"])?;
    }
    match which {
        "fs" => fs(seconds),
        "shell" => shell(seconds),
        "git" => git(seconds),
        "pytest" => pytest(),
        "checks" => checks(),
        "gateway" => gateway(seconds),
        "deploy" => deploy(),
        "ci" => ci(),
        other => bail!("unknown benchmark {other:?}; known: fs, shell, git, pytest, checks, gateway, deploy, ci"),
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
    Ok(format!("{}, wrk 1 thread on the same machine", host()?))
}

/// Date, cores and CPU model.
fn host() -> anyhow::Result<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]))?.trim().to_owned();
    Ok(format!("{date}, {cores} cores ({cpu})"))
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

// ---------------------------------------------------------------------------
// `deploy` and `ci`: the docker and gitlab servers against the docker CLI.

/// The label the docker server puts on everything it makes (its value is
/// the instance); the CLI peers label their objects the same way.
const MANAGED_BY: &str = "io.mcp-fleet.managed-by";
/// The test image (see `mcp_test::docker`).
const BUSYBOX_IMAGE: &str = "mcp-fleet-test/busybox:1";
/// The applets linked in the test image (the list of `mcp_test::docker`).
const APPLETS: &[&str] = &[
    "sh", "ash", "httpd", "wget", "sleep", "cat", "echo", "ls", "id", "nc", "env", "printf", "true", "false", "test",
    "grep", "head", "tail", "mkdir", "rm", "touch", "pwd", "whoami", "hostname", "ps", "kill", "date", "wc", "seq",
    "timeout", "yes", "sed", "tr", "uname", "nslookup", "ping", "stat", "readlink",
];

/// `docker <args>`: its stdout, trimmed; fails on a non-zero exit.
fn docker(args: &[&str]) -> anyhow::Result<String> {
    Ok(output(Command::new("docker").args(args).stdin(Stdio::null()))?.trim().to_owned())
}

/// `mcp-fleet-test/busybox:1`, imported when missing, exactly as
/// `mcp_test::docker::busybox_image` makes it (same root, same lock file),
/// so the tests and the benchmarks share one image.
fn busybox_image() -> anyhow::Result<&'static str> {
    let lock = std::fs::File::create(std::env::temp_dir().join("mcp-fleet-test-busybox.lock"))?;
    lock.lock()?;
    let exists = Command::new("docker")
        .args(["image", "inspect", BUSYBOX_IMAGE])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let made = if exists { Ok(()) } else { import_busybox() };
    let _ = lock.unlock();
    made.map(|()| BUSYBOX_IMAGE)
}

fn import_busybox() -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let busybox = Path::new("/bin/busybox");
    if !busybox.exists() {
        apt(&["busybox-static"])?;
    }
    let dir = tempdir("busybox")?;
    let root = dir.join("root");
    for d in ["bin", "etc", "tmp", "www", "data"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::fs::copy(busybox, root.join("bin/busybox"))?;
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a))?;
    }
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/tmp:/bin/sh\n",
    )?;
    std::fs::write(root.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
    std::fs::write(root.join("www/index.html"), "busybox ok\n")?;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    let tar = dir.join("root.tar");
    crate::util::run(
        Command::new("tar")
            .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
            .arg(&root)
            .arg("-cf")
            .arg(&tar)
            .arg("."),
    )?;
    let tar = tar.to_string_lossy().into_owned();
    let r = docker(&["import", "--change", "CMD [\"/bin/sh\"]", &tar, BUSYBOX_IMAGE]).map(drop);
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// Removes every container and network labelled with one of its instance
/// names (and networks named `<instance>-…`) when dropped, so a failed run
/// leaves nothing behind.
struct Labelled(Vec<String>);

impl Labelled {
    fn sweep(&self) {
        for instance in &self.0 {
            let filter = format!("label={MANAGED_BY}={instance}");
            let ids = |args: &[&str]| -> Vec<String> {
                docker(args)
                    .map(|o| o.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            let containers = ids(&["ps", "-aq", "--filter", &filter]);
            if !containers.is_empty() {
                let mut a = vec!["rm", "-f", "-v"];
                a.extend(containers.iter().map(String::as_str));
                let _ = docker(&a);
            }
            let mut networks = ids(&["network", "ls", "-q", "--filter", &filter]);
            let prefix = format!("{instance}-");
            networks.extend(
                ids(&["network", "ls", "--format", "{{.Name}}"]).into_iter().filter(|n| n.starts_with(&prefix)),
            );
            for n in networks {
                let _ = docker(&["network", "rm", &n]);
            }
        }
    }
}

impl Drop for Labelled {
    fn drop(&mut self) {
        self.sweep();
    }
}

/// p50, min and max of a few timings.
#[derive(Clone, Copy)]
struct Spread {
    p50: f64,
    min: f64,
    max: f64,
}

fn spread(v: &[f64]) -> Spread {
    let mut x = v.to_vec();
    x.sort_by(f64::total_cmp);
    Spread {
        p50: x.get(x.len() / 2).copied().unwrap_or(f64::NAN),
        min: x.first().copied().unwrap_or(f64::NAN),
        max: x.last().copied().unwrap_or(f64::NAN),
    }
}

fn row(what: &str, s: Spread) {
    println!("| {what} | {:.3} s | {:.3} s | {:.3} s |", s.p50, s.min, s.max);
}

fn docker_machine() -> anyhow::Result<String> {
    let engine = docker(&["version", "--format", "{{.Server.Version}}"])?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    Ok(format!("{}, Docker Engine {engine}, load average {load}", host()?))
}

/// The container settings `mcp-server-docker` applies to every container
/// (`Policy::create_body` with the default configuration), as CLI flags, so
/// the peers start the same container.
fn hardened() -> Vec<String> {
    [
        "--user=65534:65534",
        "--read-only",
        "--tmpfs=/tmp:rw,nosuid,nodev,size=67108864",
        "--cap-drop=ALL",
        "--security-opt=no-new-privileges:true",
        "--memory=512m",
        "--memory-swap=512m",
        "--cpus=1",
        "--pids-limit=256",
        "--ipc=private",
        "--init",
        "--log-driver=json-file",
        "--log-opt=max-size=10m",
        "--log-opt=max-file=2",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// The httpd replica both sides deploy: its health check fetches the page
/// inside the container every second.
const HTTPD: [&str; 6] = ["httpd", "-f", "-p", "8080", "-h", "/www"];
const PROBE: [&str; 5] = ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"];

/// Runs of each measurement in `deploy` and `ci`.
const DOCKER_RUNS: usize = 5;

/// A tool call that must succeed: its `structuredContent`.
fn call(port: u16, tool: &str, args: &Value) -> anyhow::Result<Value> {
    Ok(preflight(port, tool, args)?["structuredContent"].clone())
}

/// The CLI peer of `app_deploy`: replicas started with `docker run -d` on the
/// app's own network, each polled with `docker inspect` until healthy.
struct CliApp {
    instance: String,
    image: String,
    network: String,
}

impl CliApp {
    fn network_create(&self) -> anyhow::Result<()> {
        docker(&[
            "network",
            "create",
            "--driver",
            "bridge",
            "--label",
            &format!("{MANAGED_BY}={}", self.instance),
            &self.network,
        ])
        .map(drop)
    }

    /// `docker run -d` of one replica; its id.
    fn start(&self, name: &str, marker: &str) -> anyhow::Result<String> {
        let mut a: Vec<String> = ["run", "-d", "--name", name].iter().map(|s| (*s).to_owned()).collect();
        a.extend(hardened());
        a.extend([
            format!("--label={MANAGED_BY}={}", self.instance),
            format!("--network={}", self.network),
            "--network-alias=web".to_owned(),
            "--restart=unless-stopped".to_owned(),
            format!("--env=MARKER={marker}"),
            format!("--health-cmd={}", PROBE.join(" ")),
            "--health-interval=1s".to_owned(),
            "--health-timeout=5s".to_owned(),
            "--health-retries=2".to_owned(),
            "--health-start-period=0s".to_owned(),
            self.image.clone(),
        ]);
        a.extend(HTTPD.iter().map(|s| (*s).to_owned()));
        docker(&a.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// Poll `docker inspect` (every 100 ms) until the replica is healthy.
    fn wait_healthy(&self, id: &str) -> anyhow::Result<()> {
        let end = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match docker(&["inspect", "--format", "{{.State.Health.Status}}", id])?.as_str() {
                "healthy" => return Ok(()),
                "unhealthy" => bail!("peer replica {id} is unhealthy"),
                _ if std::time::Instant::now() > end => bail!("peer replica {id} not healthy within 30 s"),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Remove every replica and the network (not timed).
    fn remove(&self) -> anyhow::Result<()> {
        let ids = docker(&["ps", "-aq", "--filter", &format!("label={MANAGED_BY}={}", self.instance)])?;
        let ids: Vec<&str> = ids.lines().filter(|l| !l.is_empty()).collect();
        if !ids.is_empty() {
            let mut a = vec!["rm", "-f", "-v"];
            a.extend(ids);
            docker(&a)?;
        }
        docker(&["network", "rm", &self.network]).map(drop)
    }
}

/// `app_deploy` against the docker CLI (see the module's documentation).
/// Each round: the server's 1-replica deploy, 2-replica deploy and rolling
/// update (each app removed afterwards, untimed), then the same with the
/// CLI. One warm-up round on each side is not counted.
fn deploy() -> anyhow::Result<()> {
    let image = busybox_image()?;
    let instance = format!("bench-deploy-{}", std::process::id());
    let peer = format!("bench-deploy-peer-{}", std::process::id());
    let _sweep = Labelled(vec![instance.clone(), peer.clone()]);
    let dir = tempdir("deploy")?;
    let binds = dir.join("binds");
    std::fs::create_dir_all(&binds)?;
    let s = start(
        "mcp-server-docker",
        &[
            ("DOCKER_INSTANCE", instance.clone()),
            ("DOCKER_BIND_ROOTS", binds.display().to_string()),
            ("DOCKER_BIND_WRITABLE", binds.display().to_string()),
            ("DOCKER_IMAGES", "mcp-fleet-test/*".into()),
            ("DOCKER_DATA_DIR", dir.join("data").display().to_string()),
            ("DOCKER_COMPOSE", "none".into()),
            ("DOCKER_HADOLINT", "none".into()),
        ],
    )?;
    let cli = CliApp { instance: peer.clone(), image: image.to_owned(), network: format!("{peer}-app-web") };
    let args = |replicas: u32, marker: &str| {
        serde_json::json!({
            "name": "web", "image": image, "argv": HTTPD, "replicas": replicas, "env": {"MARKER": marker},
            "health_check": {"argv": PROBE, "interval_secs": 1, "retries": 2, "start_timeout_secs": 30},
        })
    };
    let remove = serde_json::json!({"name": "web", "confirm": true});
    let timed = |a: &Value, revision: u64, replicas: usize| -> anyhow::Result<f64> {
        let t = std::time::Instant::now();
        let r = call(s.port, "app_deploy", a)?;
        let secs = t.elapsed().as_secs_f64();
        let healthy =
            r["replicas"].as_array().is_some_and(|v| v.len() == replicas && v.iter().all(|x| x["health"] == "healthy"));
        if r["status"] != "healthy" || r["revision"] != revision || !healthy {
            bail!("app_deploy did not end healthy at revision {revision} with {replicas} replicas: {r}");
        }
        Ok(secs)
    };
    let server_round = || -> anyhow::Result<[f64; 3]> {
        let one = timed(&args(1, "one"), 1, 1)?;
        call(s.port, "app_remove", &remove)?;
        let two = timed(&args(2, "one"), 1, 2)?;
        let roll = timed(&args(2, "two"), 2, 2)?;
        call(s.port, "app_remove", &remove)?;
        Ok([one, two, roll])
    };
    let peer_round = || -> anyhow::Result<[f64; 4]> {
        let name = |rev: u32, slot: u32| format!("{peer}-web-r{rev}-{slot}");
        // One replica.
        let t = std::time::Instant::now();
        cli.network_create()?;
        let id = cli.start(&name(1, 0), "one")?;
        cli.wait_healthy(&id)?;
        let one = t.elapsed().as_secs_f64();
        cli.remove()?;
        // Two replicas, slot after slot (as the server's rollout does them).
        let t = std::time::Instant::now();
        cli.network_create()?;
        let mut old = Vec::new();
        for slot in 0..2 {
            let id = cli.start(&name(1, slot), "one")?;
            cli.wait_healthy(&id)?;
            old.push(id);
        }
        let two = t.elapsed().as_secs_f64();
        // The rolling update: per slot, the new replica healthy, then the old one stopped; old ones removed at the end.
        let t = std::time::Instant::now();
        for (slot, o) in (0..2).zip(&old) {
            let id = cli.start(&name(2, slot), "two")?;
            cli.wait_healthy(&id)?;
            docker(&["stop", "-t", "5", o])?;
        }
        let mut rm = vec!["rm", "-f", "-v"];
        rm.extend(old.iter().map(String::as_str));
        docker(&rm)?;
        let roll = t.elapsed().as_secs_f64();
        cli.remove()?;
        // Two replicas started together, both polled (what one does by hand).
        let t = std::time::Instant::now();
        cli.network_create()?;
        let ids = [cli.start(&name(1, 0), "one")?, cli.start(&name(1, 1), "one")?];
        for id in &ids {
            cli.wait_healthy(id)?;
        }
        let together = t.elapsed().as_secs_f64();
        cli.remove()?;
        Ok([one, two, roll, together])
    };
    server_round()?;
    peer_round()?;
    let (mut sv, mut pv): (Vec<[f64; 3]>, Vec<[f64; 4]>) = (Vec::new(), Vec::new());
    for i in 0..DOCKER_RUNS {
        eprintln!("deploy round {}/{DOCKER_RUNS}", i + 1);
        sv.push(server_round()?);
        pv.push(peer_round()?);
    }
    let col = |v: &[[f64; 3]], i: usize| spread(&v.iter().map(|r| r[i]).collect::<Vec<_>>());
    let pcol = |i: usize| spread(&pv.iter().map(|r| r[i]).collect::<Vec<_>>());
    println!(
        "\ndeploy: busybox httpd behind a 1-second health check — {}, {DOCKER_RUNS} interleaved rounds",
        docker_machine()?
    );
    println!("| measure | p50 | min | max |");
    println!("|---|---|---|---|");
    let labels = ["1 replica", "2 replicas (slot after slot)", "rolling update of 2 replicas"];
    for (i, l) in labels.iter().enumerate() {
        row(&format!("{l}, app_deploy → healthy"), col(&sv, i));
        row(&format!("{l}, docker CLI → healthy"), pcol(i));
    }
    row("2 replicas started together, docker CLI → healthy", pcol(3));
    println!();
    for (i, l) in labels.iter().enumerate() {
        println!("{l}: app_deploy / docker CLI (p50) = {:.2}", col(&sv, i).p50 / pcol(i).p50);
    }
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The pipeline of `ci`: three stages, an artifact passed through `needs`.
const PIPELINE: &str = r#"stages: [build, test, deploy]
build:
  stage: build
  script:
    - mkdir -p out
    - echo "built from $(cat input.txt)" > out/app.txt
  artifacts:
    paths: [out/]
test:
  stage: test
  needs: [build]
  script:
    - grep -q "built from bench input" out/app.txt
    - wc -l out/app.txt
deploy:
  stage: deploy
  needs: [build, test]
  script:
    - cat out/app.txt
    - echo deployed
"#;

/// The same three jobs' scripts, for the peers (`set -e`, as the runner's).
const SCRIPTS: [&str; 3] = [
    "set -e; mkdir -p out; echo \"built from $(cat input.txt)\" > out/app.txt",
    "set -e; grep -q \"built from bench input\" out/app.txt; wc -l out/app.txt",
    "set -e; cat out/app.txt; echo deployed",
];

/// A fresh job directory for the peers: the input file, writable by the
/// containers' user.
fn ci_workdir(base: &Path, n: usize) -> anyhow::Result<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let d = base.join(format!("direct-{n}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d)?;
    std::fs::write(d.join("input.txt"), "bench input\n")?;
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o777))?;
    Ok(d)
}

/// `ci_run_local` against `docker run --rm` and `sh -c` (see the module's
/// documentation). Rounds interleave the three ways; one warm-up round is
/// not counted.
fn ci() -> anyhow::Result<()> {
    let image = busybox_image()?;
    let instance = format!("bench-ci-{}", std::process::id());
    let peer = format!("bench-ci-peer-{}", std::process::id());
    let _sweep = Labelled(vec![instance.clone(), peer.clone()]);
    let dir = std::fs::canonicalize(tempdir("ci")?)?;
    let binds = dir.join("binds");
    let work = binds.join("ci-runs");
    let projects = dir.join("projects");
    let repo = projects.join("demo");
    std::fs::create_dir_all(&work)?;
    std::fs::create_dir_all(&repo)?;
    std::fs::write(repo.join(".gitlab-ci.yml"), PIPELINE)?;
    std::fs::write(repo.join("input.txt"), "bench input\n")?;
    let git = |args: &[&str]| -> anyhow::Result<()> {
        crate::util::run(Command::new("git").arg("-C").arg(&repo).args(args).stdout(Stdio::null()))
    };
    git(&["-c", "init.defaultBranch=main", "init", "-q"])?;
    git(&["add", "."])?;
    git(&["-c", "user.name=bench", "-c", "user.email=bench@example.test", "commit", "-q", "-m", "pipeline"])?;
    let dk = start(
        "mcp-server-docker",
        &[
            ("DOCKER_INSTANCE", instance.clone()),
            ("DOCKER_BIND_ROOTS", binds.display().to_string()),
            ("DOCKER_BIND_WRITABLE", binds.display().to_string()),
            ("DOCKER_IMAGES", "mcp-fleet-test/*".into()),
            ("DOCKER_DATA_DIR", dir.join("docker-data").display().to_string()),
            ("DOCKER_COMPOSE", "none".into()),
            ("DOCKER_HADOLINT", "none".into()),
        ],
    )?;
    let gl = start(
        "mcp-server-gitlab",
        &[
            ("GITLAB_CI_ROOTS", projects.display().to_string()),
            ("GITLAB_CI_WORK_DIR", work.display().to_string()),
            ("GITLAB_CI_DEFAULT_IMAGE", image.to_owned()),
            ("MCP_SERVER_DOCKER_URL", format!("http://127.0.0.1:{}/mcp", dk.port)),
            ("MCP_PEER_TOKEN", TOKEN.to_owned()),
        ],
    )?;
    let run_args = serde_json::json!({"path": "demo", "wait": true, "wait_secs": 600});
    let served = || -> anyhow::Result<(f64, f64)> {
        let t = std::time::Instant::now();
        let r = call(gl.port, "ci_run_local", &run_args)?;
        let secs = t.elapsed().as_secs_f64();
        let run = &r["run"];
        let jobs = run["jobs"].as_array().map(Vec::as_slice).unwrap_or_default();
        if run["status"] != "success" || jobs.len() != 3 || jobs.iter().any(|j| j["status"] != "success") {
            bail!("the pipeline did not succeed: {r}");
        }
        // The jobs' own time as the runner records it (job directory, container run, artifacts).
        let in_jobs: f64 = jobs.iter().filter_map(|j| j["duration_ms"].as_f64()).sum::<f64>() / 1e3;
        Ok((secs, in_jobs))
    };
    let mut n = 0;
    let mut containers = || -> anyhow::Result<f64> {
        n += 1;
        let d = ci_workdir(&dir, n)?;
        let t = std::time::Instant::now();
        for (i, script) in SCRIPTS.iter().enumerate() {
            let mut a: Vec<String> = ["run", "--rm", "--network=none"].iter().map(|s| (*s).to_owned()).collect();
            a.extend(hardened());
            a.extend([
                format!("--name={peer}-job-{n}-{i}"),
                format!("--label={MANAGED_BY}={peer}"),
                format!("--volume={}:/builds/demo", d.display()),
                "--workdir=/builds/demo".to_owned(),
                image.to_owned(),
                "sh".to_owned(),
                "-c".to_owned(),
                (*script).to_owned(),
            ]);
            docker(&a.iter().map(String::as_str).collect::<Vec<_>>())?;
        }
        let secs = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&d);
        Ok(secs)
    };
    let mut h = 0;
    let mut host = || -> anyhow::Result<f64> {
        h += 1;
        let d = ci_workdir(&dir.join("host"), h)?;
        let t = std::time::Instant::now();
        for script in SCRIPTS {
            output(Command::new("sh").args(["-c", script]).current_dir(&d))?;
        }
        let secs = t.elapsed().as_secs_f64();
        let _ = std::fs::remove_dir_all(&d);
        Ok(secs)
    };
    served()?;
    containers()?;
    host()?;
    let (mut sv, mut jobs, mut cv, mut hv) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..DOCKER_RUNS {
        eprintln!("ci round {}/{DOCKER_RUNS}", i + 1);
        let (secs, in_jobs) = served()?;
        sv.push(secs);
        jobs.push(in_jobs);
        cv.push(containers()?);
        hv.push(host()?);
    }
    let (s, c, hs) = (spread(&sv), spread(&cv), spread(&hv));
    println!(
        "\nci: a 3-job pipeline (build → test → deploy) — {}, {DOCKER_RUNS} interleaved rounds",
        docker_machine()?
    );
    println!("| measure | p50 | min | max |");
    println!("|---|---|---|---|");
    row("ci_run_local {wait: true} through mcp-server-docker", s);
    row("  of which the three jobs' own durations (runner's record)", spread(&jobs));
    row("three sequential docker run --rm", c);
    row("three sh -c on the host", hs);
    println!();
    println!("ci_run_local / docker run --rm (p50) = {:.2}", s.p50 / c.p50);
    println!("ci_run_local / sh -c on the host (p50) = {:.1}", s.p50 / hs.p50);
    println!("docker run --rm / sh -c on the host (p50) = {:.1}", c.p50 / hs.p50);
    drop(gl);
    drop(dk);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
