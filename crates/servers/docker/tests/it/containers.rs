//! Containers, networks, volumes, events, audits and health on the real engine.

use serde_json::json;

use crate::{Env, docker, err};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_to_completion_masks_and_times_out() {
    let e = Env::start("run").await;
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "argv": ["sh", "-c", "echo hello; echo token=$API_TOKEN; id -u; echo oops >&2; exit 3"],
                   "env": {"API_TOKEN": "supersecret-123", "MODE": "plain"}, "wait": true, "timeout_secs": 60}),
        )
        .await;
    assert_eq!(r["exit_code"], 3, "{r}");
    let out = r["stdout"].as_str().unwrap();
    assert!(out.contains("hello") && out.contains("token=***") && out.contains("65534"), "{out}");
    assert!(!r.to_string().contains("supersecret-123"), "{r}");
    assert_eq!(r["stderr"].as_str().unwrap().trim(), "oops");
    assert_eq!(r["timed_out"], false);
    // Removed after the wait.
    assert!(e.call("container_inspect", json!({"container": r["id"]})).await.result()["isError"] == true);

    let t = std::time::Instant::now();
    let r = e
        .ok("container_run", json!({"image": e.image, "argv": ["sleep", "60"], "wait": true, "timeout_secs": 2}))
        .await;
    assert_eq!(r["timed_out"], true, "{r}");
    assert!(r["exit_code"].is_null());
    assert!(t.elapsed().as_secs() < 30);
    assert!(e.call("container_inspect", json!({"container": r["id"]})).await.result()["isError"] == true);

    // The confinement is what the policy says.
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "argv": ["sh", "-c", "touch /x 2>&1; touch /tmp/y && echo tmp-ok"], "wait": true}),
        )
        .await;
    let out = r["stdout"].as_str().unwrap();
    assert!(out.contains("Read-only") && out.contains("tmp-ok"), "{out}");
    // Bind mounts: read-only by default, writable under the writable root.
    e.files(&[("ro/in.txt", "from-host\n")]);
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "argv": ["sh", "-c", "cat /in/in.txt; echo w > /out/w.txt && echo wrote"], "wait": true,
                   "mounts": [{"source": "ro", "target": "/in"}, {"source": "rw", "target": "/out", "writable": true}]}),
        )
        .await;
    // The writable root belongs to the test's user; nobody may not write it,
    // so only reading is asserted unless it is world-writable.
    assert!(r["stdout"].as_str().unwrap().contains("from-host"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_of_a_service_container() {
    let e = Env::start("life").await;
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "name": "svc", "argv": ["sh", "-c", "echo started $DB_PASSWORD; sleep 300"],
                                     "env": {"DB_PASSWORD": "hunter2-pass"}, "network": "bridge"}),
        )
        .await;
    let name = format!("{}-svc", e.instance());
    assert_eq!(r["name"], name);
    let list = e.ok("container_list", json!({"managed_only": true})).await;
    assert!(list["containers"].as_array().unwrap().iter().any(|c| c["name"] == name && c["managed"] == true), "{list}");
    let i = e.ok("container_inspect", json!({"container": name})).await;
    assert!(i.to_string().contains("DB_PASSWORD=***") && !i.to_string().contains("hunter2-pass"), "{i}");
    assert_eq!(i["container"]["HostConfig"]["Privileged"], false);
    assert_eq!(i["container"]["HostConfig"]["CapDrop"], json!(["ALL"]));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let l = e.ok("container_logs", json!({"container": name, "tail": 10})).await;
    assert!(l["stdout"].as_str().unwrap().contains("started ***"), "{l}");
    let l = e.ok("container_logs", json!({"container": name, "grep": "^nothing-matches$"})).await;
    assert_eq!(l["stdout"], "");
    let x = e
        .ok("container_exec", json!({"container": name, "argv": ["sh", "-c", "id -u; echo $DB_PASSWORD; exit 4"]}))
        .await;
    assert_eq!(x["exit_code"], 4);
    assert!(x["stdout"].as_str().unwrap().contains("65534") && x["stdout"].as_str().unwrap().contains("***"), "{x}");
    let x = e.call("container_exec", json!({"container": name, "argv": ["id"], "user": "0"})).await;
    assert!(err(&x).contains("root-user"));
    let s = e.ok("container_stats", json!({"container": name})).await;
    assert!(s["memory_limit"].as_u64().unwrap() <= 512 << 20, "{s}");
    let t = e.ok("container_top", json!({"container": name})).await;
    assert!(t.to_string().contains("sleep"), "{t}");
    assert_eq!(e.ok("container_stop", json!({"container": name, "timeout_secs": 1})).await["state"], "exited");
    assert_eq!(e.ok("container_start", json!({"container": name})).await["state"], "running");
    assert_eq!(e.ok("container_restart", json!({"container": name, "timeout_secs": 1})).await["state"], "running");
    assert!(err(&e.call("container_remove", json!({"container": name})).await).contains("confirm"));
    e.ok("container_remove", json!({"container": name, "confirm": true})).await;

    // Networks and volumes.
    let n = e.ok("network_create", json!({"name": "backend"})).await;
    let net = n["name"].as_str().unwrap().to_owned();
    assert_eq!(net, format!("{}-backend", e.instance()));
    let nl = e.ok("network_list", json!({"managed_only": true})).await;
    assert!(nl.to_string().contains(&net));
    let v = e.ok("volume_create", json!({"name": "cache"})).await;
    let vol = v["name"].as_str().unwrap().to_owned();
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "argv": ["ls", "-d", "/cache"], "network": "backend", "wait": true,
                                     "volumes": [{"name": "cache", "target": "/cache", "read_only": true}]}),
        )
        .await;
    assert_eq!(r["exit_code"], 0, "{r}");
    assert!(e.ok("volume_list", json!({"managed_only": true})).await.to_string().contains(&vol));
    assert!(err(&e.call("volume_remove", json!({"name": "cache"})).await).contains("confirm"));
    e.ok("volume_remove", json!({"name": "cache", "confirm": true})).await;
    e.ok("network_remove", json!({"name": "backend"})).await;

    let ev = e.ok("events", json!({"since": "5m", "managed_only": true, "type": "container"})).await;
    let actions: Vec<&str> = ev["events"].as_array().unwrap().iter().map(|x| x["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"start") && actions.contains(&"destroy"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_info_and_health() {
    let hadolint = dirs_hadolint();
    let e = Env::with("audit", |c| {
        if let Some(h) = &hadolint {
            c.hadolint = h.clone();
        }
    })
    .await;
    // A container made outside the policy, labelled as this instance's.
    docker(&[
        "create",
        "--label",
        &format!("io.mcp-fleet.managed-by={}", e.instance()),
        "--privileged",
        "--user",
        "0",
        "-p",
        "0.0.0.0::80",
        "-v",
        "/var/run/docker.sock:/var/run/docker.sock",
        "-e",
        "DB_PASSWORD=x",
        "--name",
        &format!("{}-risky", e.instance()),
        &e.image,
        "sleep",
        "1",
    ]);
    // And one the server made, which passes most checks.
    e.ok("container_run", json!({"image": e.image, "name": "tidy", "argv": ["sleep", "60"]})).await;
    e.files(&[("df/Dockerfile", "FROM mcp-fleet-test/busybox:latest\nRUN echo hi\n")]);
    let a = e.ok("security_audit", json!({"dockerfile": "df/Dockerfile"})).await;
    let has = |target: &str, rule: &str, sev: &str| {
        a["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["target"].as_str().unwrap().contains(target) && f["rule"] == rule && f["severity"] == sev)
    };
    let risky = format!("{}-risky", e.instance());
    assert!(has(&risky, "privileged", "critical"), "{a:#}");
    assert!(has(&risky, "root-user", "high"), "{a:#}");
    assert!(has(&risky, "docker-socket", "critical"), "{a:#}");
    assert!(has(&risky, "public-port", "medium"), "{a:#}");
    assert!(has(&risky, "secret-env", "medium"), "{a:#}");
    assert!(has(&risky, "writable-root", "medium"), "{a:#}");
    let tidy = format!("{}-tidy", e.instance());
    assert!(!has(&tidy, "root-user", "high") && !has(&tidy, "privileged", "critical"), "{a:#}");
    assert!(has(&tidy, "no-healthcheck", "low"), "{a:#}");
    assert!(has("df/Dockerfile", "root-user", "medium"), "{a:#}");
    if hadolint.is_some() {
        assert_eq!(a["hadolint"], "ran");
        assert!(
            a["findings"].as_array().unwrap().iter().any(|f| f["rule"].as_str().unwrap().starts_with("DL")),
            "{a:#}"
        );
    }
    let one = e.ok("security_audit", json!({"container": risky})).await;
    assert_eq!(one["containers"], 1);

    let info = e.ok("system_info", json!({})).await;
    assert!(info["version"].as_str().unwrap().starts_with("20.") || !info["version"].as_str().unwrap().is_empty());
    assert!(info["disk"]["images"].as_u64().unwrap() >= 1, "{info}");
    let h = e.ok("system_health", json!({})).await;
    assert_eq!(h["engine"], true);
    assert!(h["running"].as_u64().unwrap() >= 1);
    assert_eq!(h["load"].as_array().unwrap().len(), 3, "{h}");
}

fn dirs_hadolint() -> Option<String> {
    let home = std::env::var("HOME").ok()?;
    let p = std::path::Path::new(&home).join(".cache/mcp-fleet/lint-tools/bin/hadolint");
    p.is_file().then(|| p.to_string_lossy().into_owned())
}

/// The first uses of the server's own network, at once, make one network:
/// the engine accepts two of one name, after which the name is ambiguous
/// and every later run on it fails (seen in the compose scenario, where the
/// planner's first installs start together).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_runs_share_one_network() {
    let e = Env::start("netrace").await;
    let runs = (0..4).map(|_| {
        e.call("container_run", json!({"image": e.image, "argv": ["true"], "network": "bridge", "wait": true}))
    });
    for r in futures::future::join_all(runs).await {
        assert_eq!(r.result()["isError"], false, "{}", r.text);
    }
    let filter = format!("label=io.mcp-fleet.managed-by={}", e.instance());
    let nets = docker(&["network", "ls", "-q", "--filter", &filter]);
    assert_eq!(nets.lines().count(), 1, "networks: {nets}");
    e.ok("container_run", json!({"image": e.image, "argv": ["true"], "network": "bridge", "wait": true})).await;
}
