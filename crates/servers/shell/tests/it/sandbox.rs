//! The kernel sandbox, attack by attack: each is refused or contained with
//! the sandbox on, and (to prove the test can fail) gets through with
//! `SHELL_SANDBOX=off` where the switch is what stops it.
//!
//! Files outside the roots, TCP and signals to the server run in-process.
//! The server's own secrets (its environment through `/proc`, its token file)
//! need the real binary running as an unprivileged user (65534): root's
//! `CAP_SYS_PTRACE` reads any `/proc/<pid>/environ`. Daemons that double-fork
//! and `setsid` must die at their job's end, its time limit and an explicit
//! kill, and leave no zombie behind.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcp_test::TEST_TOKEN;
use mcp_test::raw::RawClient;
use serde_json::{Value, json};

use crate::{Fixture, ok};

const CANARY: &str = "canary-outside-the-roots";

/// A fixture with a canary file in a sibling of the root, outside it.
async fn fixture(sandbox: bool, no_network: bool) -> (Fixture, PathBuf) {
    let f = Fixture::with(|c| {
        c.sandbox = sandbox;
        c.no_network = no_network;
        c.programs.push("cp".into());
    })
    .await;
    let canary = f.dir.path().join("outside").join("canary.txt");
    std::fs::write(&canary, CANARY).unwrap();
    (f, std::fs::canonicalize(canary).unwrap())
}

async fn run(f: &Fixture, argv: &[&str]) -> Value {
    let r = f.call("run", json!({"argv": argv, "timeout_secs": 20})).await;
    ok(&r).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_outside_the_roots_cannot_be_read_or_written() {
    const READ: &str = "import sys\nprint(open(sys.argv[1]).read())\n";
    const WRITE: &str = "import sys\nopen(sys.argv[1], 'w').write('planted')\n";
    for sandbox in [true, false] {
        let (f, canary) = fixture(sandbox, false).await;
        let outside = canary.parent().unwrap();
        let planted = outside.join("planted.txt");
        f.put("inside.txt", "inside");
        f.put("read.py", READ);
        f.put("write.py", WRITE);
        let c = canary.to_str().unwrap();
        let p = planted.to_str().unwrap();

        // Inside the roots, and in the private TMPDIR, everything works.
        let v = run(&f, &["cat", "inside.txt"]).await;
        assert_eq!((v["stdout"].as_str(), v["exit_code"].as_i64()), (Some("inside"), Some(0)), "{v}");
        assert_eq!(run(&f, &["cp", "inside.txt", "copy.txt"]).await["exit_code"], 0);
        assert_eq!(std::fs::read_to_string(f.root().join("copy.txt")).unwrap(), "inside");
        assert_eq!(run(&f, &["python3", "write.py", "in-root.txt"]).await["exit_code"], 0);

        // Outside: cat, cp and python3 each try to read the canary and to
        // plant a file next to it.
        let reads = [
            run(&f, &["cat", c]).await,
            run(&f, &["cp", c, "stolen.txt"]).await,
            run(&f, &["python3", "read.py", c]).await,
        ];
        let writes = [run(&f, &["cp", "inside.txt", p]).await, run(&f, &["python3", "write.py", p]).await];
        if sandbox {
            assert_eq!(v["sandbox"], "full", "this kernel has Landlock ABI >= 6: {v}");
            for r in &reads {
                assert_ne!(r["exit_code"], 0, "the canary was read: {r}");
                assert!(!r["stdout"].as_str().unwrap().contains(CANARY), "{r}");
                assert!(r["stderr"].as_str().unwrap().contains("ermission denied"), "{r}");
            }
            assert!(!f.root().join("stolen.txt").exists());
            for w in &writes {
                assert_ne!(w["exit_code"], 0, "a file was planted outside the roots: {w}");
            }
            assert!(!planted.exists());
        } else {
            assert_eq!(v["sandbox"], "off");
            for r in &reads {
                assert_eq!(r["exit_code"], 0, "{r}");
            }
            assert!(reads[0]["stdout"].as_str().unwrap().contains(CANARY));
            assert_eq!(std::fs::read_to_string(f.root().join("stolen.txt")).unwrap(), CANARY);
            for w in &writes {
                assert_eq!(w["exit_code"], 0, "{w}");
            }
            assert!(planted.exists());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_and_signals_to_the_server_are_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = std::process::id().to_string();
    const CONNECT: &str = "import socket, sys\nsocket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)\nprint('connected')\n";
    // Signal 0 delivers nothing: it only asks whether a signal would be allowed.
    const SIGNAL: &str = "import os, sys\nos.kill(int(sys.argv[1]), 0)\nprint('signalled')\n";
    for sandbox in [true, false] {
        let (f, _) = fixture(sandbox, true).await;
        f.put("connect.py", CONNECT);
        f.put("signal.py", SIGNAL);
        let tcp = run(&f, &["python3", "connect.py", &port]).await;
        let sig = run(&f, &["python3", "signal.py", &server]).await;
        if sandbox {
            assert_ne!(tcp["exit_code"], 0, "TCP connect got through: {tcp}");
            assert!(tcp["stderr"].as_str().unwrap().contains("PermissionError"), "{tcp}");
            assert_ne!(sig["exit_code"], 0, "the job may signal the server: {sig}");
            assert!(sig["stderr"].as_str().unwrap().contains("PermissionError"), "{sig}");
        } else {
            // Off, SHELL_NO_NETWORK falls back to a network namespace where
            // this machine allows one (root here): the connect fails there
            // too, for another reason. The signal check is Landlock's alone.
            assert_eq!(sig["exit_code"], 0, "{sig}");
            assert!(sig["stdout"].as_str().unwrap().contains("signalled"));
        }
    }
    // Network allowed: the same connect works inside the sandbox.
    let (f, _) = fixture(true, false).await;
    f.put("connect.py", CONNECT);
    let tcp = run(&f, &["python3", "connect.py", &port]).await;
    assert_eq!(tcp["exit_code"], 0, "{tcp}");
}

/// A daemon: forks, the child calls setsid and forks again, the grandchild
/// detaches its stdio and writes a heartbeat into the root until killed; the
/// first process waits for its child (which waits until the daemon wrote its
/// pid) and then sleeps `argv[2]` seconds. With `clean` as `argv[3]` the
/// grandchild replaces itself with `sleep` in an empty environment (no job
/// marker left), with `forged` in one whose marker names no job.
const DAEMON: &str = r#"import os, sys, time
hb = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        for i in range(3):
            os.dup2(fd, i)
        with open(hb + '.tmp', 'w') as f:
            f.write(str(os.getpid()))
        os.rename(hb + '.tmp', hb + '.pid')
        if len(sys.argv) > 3:
            env = {'MCP_FLEET_JOB': 'forged'} if sys.argv[3] == 'forged' else {}
            os.execve('/bin/sleep', ['sleep', '1000'], env)
        while True:
            with open(hb, 'a') as f:
                f.write('.')
            time.sleep(0.05)
    # Only once the daemon is set up: the job may end right after.
    while not os.path.exists(hb + '.pid'):
        time.sleep(0.01)
    os._exit(0)
os.wait()
time.sleep(float(sys.argv[2]))
"#;

fn daemon_pid(f: &Fixture, hb: &str) -> i32 {
    let path = f.root().join(format!("{hb}.pid"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(s) = std::fs::read_to_string(&path)
            && let Ok(p) = s.trim().parse()
        {
            return p;
        }
        assert!(Instant::now() < deadline, "the daemon never wrote its pid");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn beats(f: &Fixture, hb: &str) -> u64 {
    std::fs::metadata(f.root().join(hb)).map(|m| m.len()).unwrap_or(0)
}

/// The daemon is dead, its heartbeat stopped, and it was reaped (no zombie).
async fn assert_gone(f: &Fixture, hb: &str, pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "daemon {pid} outlived its job (zombie: {})", crate::dead(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = beats(f, hb);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(beats(f, hb), before, "the heartbeat goes on");
}

async fn assert_alive(f: &Fixture, hb: &str, pid: i32) {
    let before = beats(f, hb);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(beats(f, hb) > before, "the daemon is not beating");
    assert!(!crate::dead(pid));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_dies_when_its_job_ends() {
    let f = Fixture::new().await;
    f.put("daemon.py", DAEMON);
    let v = run(&f, &["python3", "daemon.py", "hb", "0"]).await;
    assert_eq!(v["exit_code"], 0, "{v}");
    let pid = daemon_pid(&f, "hb");
    assert_gone(&f, "hb", pid).await;
    // One that also drops its environment (and with it the job's marker), or
    // forges a marker, is still found: it is outside the server's session.
    for how in ["clean", "forged"] {
        let v = run(&f, &["python3", "daemon.py", how, "0", how]).await;
        assert_eq!(v["exit_code"], 0, "{v}");
        let pid = daemon_pid(&f, how);
        assert_gone(&f, how, pid).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_dies_when_its_job_is_killed_or_times_out() {
    let f = Fixture::new().await;
    f.put("daemon.py", DAEMON);
    // Explicit kill: the daemon beats while its job runs, then dies with it.
    let v = ok(&f.call("start", json!({"argv": ["python3", "daemon.py", "killed", "1000"]})).await).clone();
    let id = v["id"].as_str().unwrap().to_owned();
    let pid = daemon_pid(&f, "killed");
    assert_alive(&f, "killed", pid).await;
    ok(&f.call("signal", json!({"id": id, "signal": "KILL"})).await);
    assert_eq!(ok(&f.call("wait", json!({"id": id, "timeout_secs": 10})).await)["status"], "killed");
    assert_gone(&f, "killed", pid).await;

    // Time limit of a started process and of run.
    let v =
        ok(&f.call("start", json!({"argv": ["python3", "daemon.py", "late", "1000"], "max_secs": 2})).await).clone();
    let id = v["id"].as_str().unwrap().to_owned();
    let pid = daemon_pid(&f, "late");
    assert_alive(&f, "late", pid).await;
    let w = ok(&f.call("wait", json!({"id": id, "timeout_secs": 10})).await).clone();
    assert_eq!(w["timed_out"], true, "{w}");
    assert_gone(&f, "late", pid).await;

    let r = f.call("run", json!({"argv": ["python3", "daemon.py", "slow", "1000"], "timeout_secs": 1})).await;
    assert_eq!(ok(&r)["timed_out"], true, "{}", r.text);
    let pid = daemon_pid(&f, "slow");
    assert_gone(&f, "slow", pid).await;
}

/// The real binary as user 65534, its roots and data owned by that user,
/// its token in a file outside the roots and a marker secret in its
/// environment.
struct Real {
    child: Child,
    dir: tempfile::TempDir,
    raw: RawClient,
}

impl Drop for Real {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const MARKER: &str = "marker-secret-in-the-server-env";

async fn real(sandbox: bool, unprivileged: bool) -> Real {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // /root is closed to other users: the binary is copied where 65534 can
    // run it.
    let bin = d.join("mcp-server-shell");
    std::fs::copy(env!("CARGO_BIN_EXE_mcp-server-shell"), &bin).unwrap();
    std::fs::create_dir_all(d.join("root")).unwrap();
    std::fs::create_dir_all(d.join("secrets")).unwrap();
    let token = d.join("secrets").join("token");
    std::fs::write(&token, TEST_TOKEN).unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    let id = if unprivileged { 65534 } else { 0 };
    for p in [d, &d.join("root"), &d.join("secrets"), &token, &bin] {
        std::os::unix::fs::chown(p, Some(id), Some(id)).unwrap();
    }
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cmd = Command::new(&bin);
    cmd.env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("SHELL_ROOTS", d.join("root"))
        .env("SHELL_PRESET", "minimal")
        .env("SHELL_ALLOW", "cat,printenv")
        .env("SHELL_DATA_DIR", d.join("data"))
        .env("SHELL_SANDBOX", if sandbox { "on" } else { "off" })
        .env("MCP_LISTEN_ADDR", format!("127.0.0.1:{port}"))
        .env("MCP_AUTH_TOKEN_FILE", &token)
        .env("FLEET_MARKER_SECRET", MARKER)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if unprivileged {
        // std drops the supplementary groups when root sets a uid.
        cmd.uid(65534).gid(65534);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("the server exited: {st}");
        }
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let raw = RawClient::new(&format!("http://127.0.0.1:{port}"), Some(TEST_TOKEN.into()));
    Real { child, dir, raw }
}

impl Real {
    async fn run(&self, argv: &[&str]) -> Value {
        let r = self.raw.call("run", json!({"argv": argv, "timeout_secs": 20})).await;
        r.result()["structuredContent"].clone()
    }

    fn token(&self) -> String {
        self.dir.path().join("secrets").join("token").display().to_string()
    }

    fn environ(&self) -> String {
        format!("/proc/{}/environ", self.child.id())
    }
}

fn leaked(v: &Value) -> bool {
    let out = v["stdout"].as_str().unwrap_or_default();
    out.contains(MARKER) || out.contains(TEST_TOKEN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_secrets_are_out_of_reach_of_its_jobs() {
    // On, unprivileged: environment cleared, /proc/<server>/environ and the
    // token file unreadable.
    let s = real(true, true).await;
    let env = s.run(&["printenv"]).await;
    assert_eq!(env["exit_code"], 0, "{env}");
    assert!(!leaked(&env), "{env}");
    let proc_env = s.run(&["cat", &s.environ()]).await;
    assert_ne!(proc_env["exit_code"], 0, "{proc_env}");
    assert!(!leaked(&proc_env), "{proc_env}");
    let token = s.run(&["cat", &s.token()]).await;
    assert_ne!(token["exit_code"], 0, "{token}");
    assert!(!leaked(&token), "{token}");
    assert_eq!(token["sandbox"], "full");
    // The policy tool and /ready say so.
    let p = s.raw.call("policy", json!({})).await;
    assert_eq!(p.result()["structuredContent"]["sandbox"]["level"], "full", "{}", p.text);
    drop(s);

    // Off, unprivileged: the token file is the server user's and readable
    // (Landlock was what stopped it); /proc/<server>/environ still is not,
    // because the server is non-dumpable.
    let s = real(false, true).await;
    let token = s.run(&["cat", &s.token()]).await;
    assert_eq!(token["exit_code"], 0, "{token}");
    assert!(leaked(&token));
    let proc_env = s.run(&["cat", &s.environ()]).await;
    assert_ne!(proc_env["exit_code"], 0, "{proc_env}");
    assert!(!leaked(&proc_env), "{proc_env}");
    drop(s);

    // Off, as root: CAP_SYS_PTRACE reads a non-dumpable process's environ,
    // so the check above can see a leak when there is one. Images run the
    // servers unprivileged.
    let s = real(false, false).await;
    let proc_env = s.run(&["cat", &s.environ()]).await;
    assert_eq!(proc_env["exit_code"], 0, "{proc_env}");
    assert!(leaked(&proc_env));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_file_inside_the_sandbox_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(&root).unwrap();
    let token = root.join("token");
    std::fs::write(&token, TEST_TOKEN).unwrap();
    let mut c = mcp_server_shell::Config::for_root(&root, &["true"], &[]);
    c.data_dir = Some(dir.path().join("data"));
    c.secret_files = vec![token];
    let e = match mcp_server_shell::server(c).await {
        Ok(_) => panic!("a token inside the roots was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("secret file"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_landlock_jobs_are_refused_unless_the_sandbox_is_switched_off() {
    let missing = mcp_core::sandbox::Status {
        landlock_abi: 0,
        filesystem: false,
        network: false,
        scoping: false,
        level: mcp_core::sandbox::Level::None,
        missing: Some("the kernel has no Landlock".into()),
    };
    for sandbox in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("root")).unwrap();
        let mut c = mcp_server_shell::Config::for_root(dir.path().join("root"), &["true"], &[]);
        c.data_dir = Some(dir.path().join("data"));
        c.sandbox = sandbox;
        let s =
            mcp_test::TestServer::start(mcp_server_shell::server_with_sandbox(c, missing.clone()).await.unwrap()).await;
        let run = s.raw().call("run", json!({"argv": ["true"]})).await;
        let ready = s.raw().get("/ready").await;
        let policy = s.raw().call("policy", json!({})).await;
        let level = &policy.result()["structuredContent"]["sandbox"]["level"];
        if sandbox {
            // Never silently: the refusal names the missing mechanism and the
            // switch, and /ready and policy say the same.
            let e = crate::err(&run);
            assert!(e.contains("no Landlock") && e.contains("SHELL_SANDBOX=off"), "{e}");
            assert_eq!(ready.status, 503, "{}", ready.text);
            assert!(ready.text.contains("SHELL_SANDBOX"), "{}", ready.text);
            assert_eq!(level, "none");
            assert!(policy.text.contains("jobs are refused"), "{}", policy.text);
        } else {
            assert_eq!(ok(&run)["sandbox"], "off");
            assert_eq!(ready.status, 200, "{}", ready.text);
            assert_eq!(level, "off");
        }
    }
}
