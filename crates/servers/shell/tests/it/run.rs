//! `run` against real processes.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Fixture, dead, err, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_commands_and_reports_status_and_output() {
    let f = Fixture::new().await;
    std::fs::create_dir(f.root().join("sub")).unwrap();
    let r = f.call("run", json!({"argv": ["echo", "hello", "world"]})).await;
    let v = ok(&r);
    assert_eq!(v["stdout"], "hello world\n");
    assert_eq!(
        (v["exit_code"].as_i64(), v["success"].as_bool(), v["status"].as_str()),
        (Some(0), Some(true), Some("exited"))
    );
    assert!(r.result()["content"][0]["text"].as_str().unwrap().starts_with("exit code 0"));

    let r = f.call("run", json!({"argv": ["false"]})).await;
    let v = ok(&r);
    assert_eq!((v["exit_code"].as_i64(), v["success"].as_bool()), (Some(1), Some(false)));
    assert!(r.result()["content"][0]["text"].as_str().unwrap().starts_with("FAILED: exit code 1"));

    let r = f.call("run", json!({"argv": ["pwd"], "cwd": "sub"})).await;
    assert_eq!(ok(&r)["stdout"], format!("{}\n", f.root().join("sub").display()));
    let r = f.call("run", json!({"argv": ["cat"], "stdin": "piped in\n"})).await;
    assert_eq!(ok(&r)["stdout"], "piped in\n");
    let r = f.call("run", json!({"argv": ["ls", "/nonexistent-dir"]})).await;
    let v = ok(&r);
    assert_eq!(v["exit_code"], 2);
    assert!(v["stderr"].as_str().unwrap().contains("No such file"));
    let r = f.call("run", json!({"argv": ["printenv", "CI"], "env": {"CI": "1"}})).await;
    assert_eq!(ok(&r)["stdout"], "1\n");
    // Python runs scripts and allowed modules, never inline code.
    f.put("hello.py", "import sys\nprint('py', sys.argv[1:])\n");
    let r = f.call("run", json!({"argv": ["python3", "hello.py", "-c", "x"]})).await;
    assert_eq!(ok(&r)["stdout"], "py ['-c', 'x']\n");
    let e = err(&f.call("run", json!({"argv": ["echo"], "timeout_secs": 1e9})).await);
    assert!(e.contains("timeout_secs"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_time_limit_kills_the_whole_tree_including_escaped_grandchildren() {
    let f = Fixture::new().await;
    f.put(
        "tree.py",
        "import os, subprocess, time\n\
         a = subprocess.Popen(['sleep', '1000'])\n\
         b = subprocess.Popen(['sleep', '1001'], start_new_session=True)\n\
         c = subprocess.Popen(['python3', '-m', 'pytest', '--version'])\n\
         open('pids.txt', 'w').write(f'{os.getpid()} {a.pid} {b.pid}\\n')\n\
         print('started', flush=True)\n\
         time.sleep(1000)\n",
    );
    let t = Instant::now();
    let r = f.call("run", json!({"argv": ["python3", "tree.py"], "timeout_secs": 2})).await;
    let v = ok(&r);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(v["status"], "killed", "{}", r.text);
    assert_eq!(v["timed_out"], true);
    assert!(v["stdout"].as_str().unwrap().contains("started"));
    assert!(r.result()["content"][0]["text"].as_str().unwrap().starts_with("KILLED: time limit"));
    let pids: Vec<i32> = std::fs::read_to_string(f.root().join("pids.txt"))
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 3);
    std::thread::sleep(Duration::from_millis(300));
    for p in pids {
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        assert!(dead(p), "process {p} survived the time limit: {stat}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_caps_hold_on_100_mb_and_the_rest_is_readable() {
    let f = Fixture::new().await;
    let t = Instant::now();
    let r = f.call("run", json!({"argv": ["head", "-c", "104857600", "/dev/zero"], "timeout_secs": 120})).await;
    let v = ok(&r).clone();
    assert_eq!(v["stdout_bytes"], 104_857_600u64);
    assert_eq!(v["stdout_truncated"], true);
    let stdout = v["stdout"].as_str().unwrap();
    assert!(stdout.len() < 70_000, "the excerpt is {} bytes", stdout.len());
    assert!(
        stdout.contains("bytes omitted of 104857600") && stdout.contains("read_output"),
        "{}",
        &stdout[..200.min(stdout.len())]
    );
    // The full output was kept: read its very end.
    let id = v["id"].as_str().unwrap();
    let page = f.call("read_output", json!({"id": id, "offset": 104_857_600u64 - 10, "max_bytes": 100})).await;
    let p = ok(&page);
    assert_eq!(p["text"], "\0".repeat(10));
    assert_eq!((p["at_end"].as_bool(), p["next_offset"].as_u64()), (Some(true), Some(104_857_600)));
    eprintln!("100 MB run took {:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_strings_run_pipelines_and_sequences_without_a_shell() {
    let f = Fixture::with(|c| c.command_strings = true).await;
    let r = f.call("run", json!({"command": "echo 'a b' c | wc -w"})).await;
    assert_eq!(ok(&r)["stdout"].as_str().unwrap().trim(), "3");
    let r = f.call("run", json!({"command": "false || echo recovered; echo 'done  here'"})).await;
    assert_eq!(ok(&r)["stdout"], "recovered\ndone  here\n");
    let r = f.call("run", json!({"command": "false && echo never"})).await;
    let v = ok(&r);
    assert_eq!((v["stdout"].as_str(), v["exit_code"].as_i64()), (Some(""), Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_output_streams_as_progress() {
    let f = Fixture::new().await;
    f.put("ticks.py", "import time\nfor i in range(6):\n    print('tick', i, flush=True)\n    time.sleep(0.2)\n");
    let c = f.server.client();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let r = c.call_with_progress("run", json!({"argv": ["python3", "ticks.py"]}), tx).await.unwrap();
    assert!(!r.is_error());
    let mut msgs = Vec::new();
    while let Ok(p) = rx.try_recv() {
        msgs.push(p.message.unwrap_or_default());
    }
    assert!(msgs.len() >= 2, "{msgs:?}");
    assert!(msgs.iter().any(|m| m.contains("tick")), "{msgs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_limits_apply_to_children() {
    let f = Fixture::with(|c| c.file_size = 1 << 20).await;
    f.put("big.py", "f = open('big.bin', 'wb')\nf.write(b'x' * (4 << 20))\n");
    let r = f.call("run", json!({"argv": ["python3", "big.py"]})).await;
    let v = ok(&r);
    assert_eq!(v["success"], false, "{}", r.text);
    let size = std::fs::metadata(f.root().join("big.bin")).map(|m| m.len()).unwrap_or(0);
    assert!(size <= 1 << 20, "the file-size limit did not hold: {size}");
}

/// A virtualenv's `python` is a symlink to the allowed interpreter: the
/// canonical interpreter runs, and it still finds its virtualenv (through
/// `argv[0]`), so `.venv/bin/python -m pip install -e .` installs into the
/// project and not into the system.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_virtualenv_python_runs_inside_its_virtualenv() {
    let f = Fixture::new().await;
    let r =
        f.call("run", json!({"argv": ["python3", "-m", "venv", "--without-pip", ".venv"], "timeout_secs": 60})).await;
    assert_eq!(ok(&r)["exit_code"], 0, "{}", r.text);
    f.put("where.py", "import sys\nprint(sys.prefix != sys.base_prefix, sys.prefix)\n");
    let r = f.call("run", json!({"argv": [".venv/bin/python", "where.py"]})).await;
    let out = ok(&r)["stdout"].as_str().unwrap().to_owned();
    assert!(out.starts_with("True "), "{out}");
    assert!(out.trim_end().ends_with("/.venv"), "{out}");
    // The system interpreter by name stays outside it.
    let r = f.call("run", json!({"argv": ["python3", "where.py"]})).await;
    assert!(ok(&r)["stdout"].as_str().unwrap().starts_with("False "));
}
