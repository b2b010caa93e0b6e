//! Compose: validation against the schema and the policy, and a project's
//! life with the CLI that is installed (Debian's docker-compose v1 here).

use serde_json::json;

use crate::Env;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_up_ps_logs_down() {
    let e = Env::start("compose").await;
    e.files(&[
        ("proj/invalid.yaml", "services:\n  web:\n    image: mcp-fleet-test/busybox:1\n    restart: sometimes\n    ports: {a: 1}\n"),
        (
            "proj/compose.yaml",
            "services:\n  web:\n    image: mcp-fleet-test/busybox:1\n    command: [\"sh\", \"-c\", \"echo up $$SERVICE_TOKEN; sleep 300\"]\n    environment:\n      SERVICE_TOKEN: compose-secret-99\n    volumes:\n      - ./:/src:ro\n",
        ),
    ]);
    let v = e.ok("compose_validate", json!({"file": "proj/invalid.yaml"})).await;
    assert_eq!(v["valid"], false);
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["source"] == "schema"), "{v:#}");
    let v = e.ok("compose_validate", json!({"file": "proj/compose.yaml"})).await;
    assert_eq!(v["valid"], true, "{v:#}");
    assert_eq!(v["services"], json!(["web"]));
    let v = e.ok("compose_validate", json!({"text": "services:\n  a:\n    image: mcp-fleet-test/busybox:1\n"})).await;
    assert_eq!(v["valid"], true, "{v:#}");

    let up = e.ok("compose_up", json!({"file": "proj/compose.yaml", "name": "demo"})).await;
    let project = format!("{}-demo", e.instance());
    assert_eq!(up["project"], project);
    let ps = e.ok("compose_ps", json!({"name": "demo"})).await;
    let c = &ps["containers"].as_array().unwrap()[0];
    assert_eq!(c["service"], "web");
    assert_eq!(c["state"], "running", "{ps:#}");
    // The policy override applied.
    let i = e.ok("container_inspect", json!({"container": c["name"]})).await;
    assert_eq!(i["managed"], true);
    assert_eq!(i["container"]["HostConfig"]["CapDrop"], json!(["ALL"]));
    assert_eq!(i["container"]["HostConfig"]["ReadonlyRootfs"], true);
    assert_eq!(i["container"]["Config"]["User"], "65534:65534");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let logs = e.ok("compose_logs", json!({"file": "proj/compose.yaml", "name": "demo"})).await;
    let text = logs["logs"].as_str().unwrap();
    assert!(text.contains("up ***") && !text.contains("compose-secret-99"), "{text}");
    e.ok("compose_down", json!({"file": "proj/compose.yaml", "name": "demo"})).await;
    let ps = e.ok("compose_ps", json!({"name": "demo"})).await;
    assert!(ps["containers"].as_array().unwrap().is_empty(), "{ps:#}");
}
