//! The hostile corpus: project code that tries to outlive its run, read the
//! server's secrets, write outside the project, forge its results, end the
//! process early or flood the output. The verdict must never say `passed`
//! for a run whose results cannot be trusted.

use serde_json::json;

use crate::{Env, ok};

const PYTEST_INI: (&str, &str) = ("pytest.ini", "[pytest]\n");

fn alive(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline")).map(|c| String::from_utf8_lossy(&c).contains(marker)).unwrap_or(false)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_forked_by_conftest_dies_with_the_run() {
    let env = Env::start().await;
    let marker = format!("mcp-test-daemon-{}-{}", std::process::id(), mcp_core::clock::now_pair().1);
    let conftest = format!(
        r#"import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        open("daemon_started", "w").close()
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(300)", "{marker}"])
    os._exit(0)
time.sleep(0.5)
"#
    );
    let p =
        env.project("d", &[PYTEST_INI, ("conftest.py", &conftest), ("tests/test_d.py", "def test_d():\n    pass\n")]);
    let out = env.run(json!({"path": "d"})).await;
    assert!(p.join("daemon_started").exists(), "the daemon never started, so this test proves nothing");
    assert_eq!(out["verdict"], "passed", "{out:#}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while alive(&marker) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!alive(&marker), "the daemon outlived its run");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tests_see_no_server_environment_and_cannot_write_outside() {
    let env = Env::start().await;
    // The test process's own environment stands in for the server's (the
    // server runs in it): cargo sets CARGO_MANIFEST_DIR for test binaries.
    assert!(std::env::var("CARGO_MANIFEST_DIR").is_ok());
    let test = r#"import json, os, pathlib
def test_env():
    pathlib.Path("seen_env.json").write_text(json.dumps(dict(os.environ)))

def test_escape():
    for target in [pathlib.Path.cwd().parent.parent / "escaped.txt",
                   pathlib.Path(os.environ["HOME"]) / ".." / "escaped.txt"]:
        try:
            target.write_text("out")
        except OSError:
            pass
"#;
    let p = env.project("e", &[PYTEST_INI, ("tests/test_e.py", test)]);
    let out = env.run(json!({"path": "e"})).await;
    assert_eq!(out["verdict"], "passed", "{out:#}");
    let seen: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p.join("seen_env.json")).unwrap()).unwrap();
    let keys: Vec<&String> = seen.as_object().unwrap().keys().collect();
    for k in ["CARGO_MANIFEST_DIR", "MCP_AUTH_TOKEN", "MCP_TEST_TOKEN", "CARGO_HOME", "RUSTUP_HOME"] {
        assert!(seen.get(k).is_none(), "{k} leaked into the run: {keys:?}");
    }
    assert!(seen.get("PATH").is_some());
    assert!(!env.dir.path().join("escaped.txt").exists(), "wrote into the root's parent");
    assert!(!env.dir.path().join("data/escaped.txt").exists(), "wrote beside HOME");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_reports_and_early_exits_are_never_passed() {
    let env = Env::start().await;
    let forge = r#"import os, sys, pathlib
JUNIT = '<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2"><testcase classname="tests.test_f" name="test_ok" time="0"/><testcase classname="tests.test_f" name="test_forge" time="0"/></testsuite></testsuites>'

def test_ok():
    pass

def test_forge():
    dirs = set([os.getcwd(), os.environ.get("HOME", ""), os.environ.get("TMPDIR", "")])
    dirs.update(p for p in sys.path if p)
    for d in dirs:
        try:
            pathlib.Path(d, "junit.xml").write_text(JUNIT)
            pathlib.Path(d, "outcomes.jsonl").write_text('{"finish": "guess", "exitstatus": 0, "count": 2}\n')
        except OSError:
            pass
    os._exit(int(os.environ.get("EXIT", "0")))
"#;
    env.project("f", &[PYTEST_INI, ("tests/test_f.py", forge)]);
    let out = env.run(json!({"path": "f"})).await;
    assert_ne!(out["verdict"], "passed", "forged report then exit 0: {out:#}");
    assert_eq!(out["passed"], false);
    assert!(out["note"].as_str().is_some(), "{out:#}");

    let early = "import os\n\ndef test_a():\n    pass\n\ndef test_b():\n    os._exit(0)\n\ndef test_c():\n    pass\n";
    env.project("x", &[PYTEST_INI, ("tests/test_x.py", early)]);
    let out = env.run(json!({"path": "x"})).await;
    assert_eq!(out["verdict"], "error", "{out:#}");
    assert!(out["note"].as_str().unwrap().contains("no JUnit report"), "{out:#}");

    let failing = "import os\n\ndef test_a():\n    os._exit(1)\n";
    env.project("y", &[PYTEST_INI, ("tests/test_y.py", failing)]);
    let out = env.run(json!({"path": "y"})).await;
    assert_ne!(out["verdict"], "passed", "{out:#}");

    env.project("z", &[PYTEST_INI, ("tests/test_z.py", "def helper():\n    pass\n")]);
    let out = env.run(json!({"path": "z"})).await;
    assert_eq!(out["verdict"], "no_tests", "{out:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_output_is_capped() {
    let env = Env::with(|c| c.max_spool = 4 << 20).await;
    let conftest = "import os\n\ndef pytest_unconfigure(config):\n    chunk = b'x' * (1 << 20)\n    for _ in range(50):\n        os.write(1, chunk)\n";
    let test = "def test_loud():\n    print('y' * (50 << 20))\n";
    env.project("loud", &[PYTEST_INI, ("conftest.py", conftest), ("tests/test_loud.py", test)]);
    let out = env.run(json!({"path": "loud"})).await;
    assert_eq!(out["totals"]["tests"], 1, "{}", out["summary"]);
    assert_eq!(out["cases"][0]["status"], "passed");
    assert!(out["cases"][0]["output"].as_str().unwrap().len() < 10_000);
    assert!(out["output"].as_str().unwrap().len() < 10_000);
    assert!(out["output"].as_str().unwrap().contains("spool cap"), "{}", out["output"]);
    let page = ok(&env.call("test_output", json!({"run_id": out["run_id"], "offset": 0})).await).clone();
    assert_eq!(page["kept_bytes"], 4 << 20);
    assert!(page["total_bytes"].as_u64().unwrap() >= 50 << 20);
}

/// TCP from test runs is the operator's switch (`TEST_NETWORK`): on, a
/// service test binds and calls a loopback port; off, the kernel refuses
/// `bind` and `connect` (Landlock), so the same test fails with a
/// permission error — the switch is enforced, not advisory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_for_test_runs_follows_the_switch() {
    let test = r#"import socket
def test_loopback_roundtrip():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=5)
    conn, _ = server.accept()
    client.sendall(b"ping")
    assert conn.recv(4) == b"ping"
"#;
    let on = Env::start().await;
    on.project("net", &[PYTEST_INI, ("tests/test_net.py", test)]);
    let out = on.run(json!({"path": "net"})).await;
    assert_eq!(out["verdict"], "passed", "{out:#}");

    let off = Env::with(|c| c.network = false).await;
    off.project("net", &[PYTEST_INI, ("tests/test_net.py", test)]);
    let out = off.run(json!({"path": "net"})).await;
    assert_eq!(out["verdict"], "failed", "{out:#}");
    let case = &out["cases"][0];
    assert!(case["message"].as_str().unwrap_or("").contains("PermissionError"), "{out:#}");
}
