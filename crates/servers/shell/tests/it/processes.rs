//! Long-running processes: start, read, write, wait, signal, list.

use std::time::Duration;

use serde_json::json;

use crate::{Fixture, err, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_can_be_driven_through_its_life() {
    let f = Fixture::new().await;
    f.put(
        "echoer.py",
        "import sys\nfor line in sys.stdin:\n    print('got', line.strip(), flush=True)\nprint('bye')\n",
    );
    let r = f.call("start", json!({"argv": ["python3", "echoer.py"]})).await;
    let v = ok(&r);
    assert_eq!(v["status"], "running", "{}", r.text);
    let id = v["id"].as_str().unwrap().to_owned();
    ok(&f.call("write_stdin", json!({"id": id, "data": "one\n"})).await);
    ok(&f.call("write_stdin", json!({"id": id, "data": "two\n"})).await);
    let mut text = String::new();
    for _ in 0..50 {
        let p = f.call("read_output", json!({"id": id})).await;
        text = ok(&p)["text"].as_str().unwrap().to_owned();
        if text.contains("got two") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(text, "got one\ngot two\n");
    let list = f.call("list_processes", json!({})).await;
    assert!(
        ok(&list)["processes"].as_array().unwrap().iter().any(|p| p["id"] == id.as_str() && p["status"] == "running")
    );
    ok(&f.call("write_stdin", json!({"id": id, "data": "", "close": true})).await);
    let w = f.call("wait", json!({"id": id, "timeout_secs": 10})).await;
    let v = ok(&w);
    assert_eq!((v["status"].as_str(), v["exit_code"].as_i64()), (Some("exited"), Some(0)));
    assert!(v["stdout"].as_str().unwrap().ends_with("bye\n"));
    assert!(err(&f.call("write_stdin", json!({"id": id, "data": "late"})).await).contains("not running"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signals_reach_the_group_and_kill_takes_the_tree() {
    let f = Fixture::new().await;
    f.put(
        "server.py",
        "import signal, sys, time, subprocess\n\
         child = subprocess.Popen(['sleep', '1000'])\n\
         open('child.pid', 'w').write(str(child.pid))\n\
         def bye(*_):\n    print('terminated gracefully', flush=True)\n    sys.exit(0)\n\
         signal.signal(signal.SIGTERM, bye)\n\
         print('serving', flush=True)\n\
         while True:\n    time.sleep(0.1)\n",
    );
    let v = ok(&f.call("start", json!({"argv": ["python3", "server.py"]})).await).clone();
    let id = v["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = f.call("signal", json!({"id": id, "signal": "TERM"})).await;
    assert_eq!(ok(&s)["groups"], 1);
    let w = f.call("wait", json!({"id": id, "timeout_secs": 10})).await;
    let v = ok(&w);
    assert_eq!(v["status"], "exited");
    assert!(v["stdout"].as_str().unwrap().contains("terminated gracefully"));
    // The whole group got TERM: the sleep child is gone too.
    let child: i32 = std::fs::read_to_string(f.root().join("child.pid")).unwrap().parse().unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(crate::dead(child), "the child survived the group signal");

    let v = ok(&f.call("start", json!({"argv": ["sleep", "1000"]})).await).clone();
    let id = v["id"].as_str().unwrap().to_owned();
    ok(&f.call("signal", json!({"id": id, "signal": "KILL"})).await);
    let w = f.call("wait", json!({"id": id, "timeout_secs": 5})).await;
    assert_eq!(ok(&w)["status"], "killed");
    assert!(err(&f.call("signal", json!({"id": id})).await).contains("not running"));
    assert!(err(&f.call("read_output", json!({"id": "p999"})).await).contains("no process"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_processes_die_at_their_time_limit() {
    let f = Fixture::new().await;
    let v = ok(&f.call("start", json!({"argv": ["sleep", "1000"], "max_secs": 1})).await).clone();
    let id = v["id"].as_str().unwrap().to_owned();
    let w = f.call("wait", json!({"id": id, "timeout_secs": 10})).await;
    let v = ok(&w);
    assert_eq!((v["status"].as_str(), v["timed_out"].as_bool()), (Some("killed"), Some(true)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_number_of_running_processes_is_bounded() {
    let f = Fixture::with(|c| c.max_processes = 2).await;
    ok(&f.call("start", json!({"argv": ["sleep", "30"]})).await);
    ok(&f.call("start", json!({"argv": ["sleep", "30"]})).await);
    let e = err(&f.call("start", json!({"argv": ["sleep", "30"]})).await);
    assert!(e.contains("already running"), "{e}");
}

/// The next job starts while the previous one's end is still being swept
/// for strays (the planner runs a phase's commands back to back): its
/// processes are a live job's, never strays. Found in CI as `pip install`
/// ending by signal 9 with no output; the sweep read its tables of owned
/// children and live jobs before listing the processes. A stress check: the
/// window is narrow, and on a quiet machine this did not reproduce the race
/// with the old order, so it guards more than it proves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_started_during_the_previous_ones_sweep_is_not_killed() {
    let f = Fixture::new().await;
    for i in 0..40 {
        ok(&f.call("run", json!({"argv": ["true"]})).await);
        let r = f.call("run", json!({"argv": ["sleep", "0.05"], "timeout_secs": 10})).await;
        let v = ok(&r);
        assert_eq!((v["exit_code"].as_i64(), v["signal"].as_i64()), (Some(0), None), "round {i}: {}", r.text);
    }
}
