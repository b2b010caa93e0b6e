//! Applications: replicas behind a health check, scaling, a failed rolling
//! update that rolls back while the old revision keeps serving, rollback.

use serde_json::{Value, json};

use crate::{Env, err, free_port, http_get};

fn deploy_args(e: &Env, port: u16, health_port: u16, replicas: u32, marker: &str) -> Value {
    json!({
        "name": "web",
        "image": e.image,
        "argv": ["httpd", "-f", "-p", "8080", "-h", "/www"],
        "replicas": replicas,
        "env": {"MARKER": marker, "APP_SECRET": "do-not-show-1234"},
        "ports": [{"container": 8080, "host": port}],
        "health_check": {"argv": ["wget", "-q", "-O", "/dev/null", format!("http://127.0.0.1:{health_port}/index.html")],
                         "interval_secs": 1, "retries": 2, "start_timeout_secs": 20},
    })
}

fn marker_of(s: &Value) -> Vec<String> {
    s["replicas"].as_array().unwrap().iter().map(|r| r["health"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_scale_fail_and_roll_back() {
    let e = Env::start("apps").await;
    let port = free_port();
    let s = e.ok("app_deploy", deploy_args(&e, port, 8080, 2, "one")).await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    assert_eq!(s["revision"], 1);
    assert_eq!(s["alias"], "web");
    assert_eq!(marker_of(&s), ["healthy", "healthy"]);
    assert!(s["replicas"][0]["addresses"].to_string().contains(&format!("127.0.0.1:{port}")), "{s:#}");
    assert!(!s.to_string().contains("do-not-show-1234"));
    assert!(http_get(port, "/index.html").unwrap().contains("busybox ok"));
    // The labels carry the spec without environment values.
    let name = s["replicas"][0]["name"].as_str().unwrap().to_owned();
    let i = e.ok("container_inspect", json!({"container": name})).await;
    assert!(!i.to_string().contains("do-not-show-1234"), "{i}");
    // Other apps reach it by its name on its network.
    let net = format!("{}-app-web-dev", e.instance());
    let r = e
        .ok(
            "container_run",
            json!({"image": e.image, "network": net, "wait": true,
                                     "argv": ["wget", "-q", "-O", "-", "http://web:8080/index.html"]}),
        )
        .await;
    assert_eq!(r["stdout"], "busybox ok\n", "{r}");

    let s = e.ok("app_scale", json!({"name": "web", "replicas": 3})).await;
    assert_eq!(marker_of(&s), ["healthy", "healthy", "healthy"], "{s:#}");
    let s = e.ok("app_scale", json!({"name": "web", "replicas": 0})).await;
    assert_eq!(s["status"], "stopped", "{s:#}");
    assert!(http_get(port, "/index.html").is_none());
    let s = e.ok("app_scale", json!({"name": "web", "replicas": 2})).await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    assert_eq!(s["replicas"].as_array().unwrap().len(), 2);

    // A revision whose health check fails is rolled back; revision 1 serves again.
    let s = e.ok("app_deploy", deploy_args(&e, port, 9999, 2, "two")).await;
    assert_eq!(s["status"], "rolled_back", "{s:#}");
    assert_eq!(s["revision"], 1);
    assert!(s["message"].as_str().unwrap().contains("failed its health check"), "{s:#}");
    let st = e.ok("app_status", json!({"name": "web"})).await;
    assert_eq!(st["status"], "healthy", "{st:#}");
    assert!(http_get(port, "/index.html").unwrap().contains("busybox ok"));

    // A good revision, then a rollback to the one it replaced.
    let s = e.ok("app_deploy", deploy_args(&e, port, 8080, 2, "three")).await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    assert_eq!(s["revision"], 3);
    let s = e.ok("app_rollback", json!({"name": "web"})).await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    assert_eq!(s["revision"], 4);
    let x = e
        .ok("container_exec", json!({"container": s["replicas"][0]["name"], "argv": ["sh", "-c", "echo $MARKER"]}))
        .await;
    assert_eq!(x["stdout"], "one\n", "{x}");
    assert!(http_get(port, "/index.html").unwrap().contains("busybox ok"));

    let r = e.ok("app_restart", json!({"name": "web"})).await;
    assert_eq!(r["status"], "healthy", "{r:#}");
    let l = e.ok("app_list", json!({})).await;
    assert_eq!(l["apps"][0]["name"], "web");
    assert_eq!(l["apps"][0]["revision"], 4);
    let logs = e.ok("app_logs", json!({"name": "web", "tail": 20})).await;
    assert_eq!(logs["replicas"].as_array().unwrap().len(), 2, "{logs}");
    assert!(err(&e.call("app_remove", json!({"name": "web"})).await).contains("confirm"));
    let rm = e.ok("app_remove", json!({"name": "web", "confirm": true})).await;
    assert_eq!(rm["removed"].as_array().unwrap().len(), 2);
    assert!(e.call("app_status", json!({"name": "web"})).await.result()["isError"] == true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_from_a_build_and_refusals() {
    let e = Env::start("appbuild").await;
    e.files(&[
        ("site/Dockerfile", "FROM mcp-fleet-test/busybox:1\nCOPY index.html /www/index.html\n"),
        ("site/index.html", "built site\n"),
    ]);
    let port = free_port();
    let s = e
        .ok("app_deploy", json!({"name": "site", "environment": "staging", "build": {"context": "site"},
                                  "argv": ["httpd", "-f", "-p", "8080", "-h", "/www"], "ports": [{"container": 8080, "host": port}]}))
        .await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    assert_eq!(s["image"], format!("mcp-app/site:staging-1"));
    assert_eq!(s["replicas"][0]["health"], "none");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(http_get(port, "/index.html").unwrap().contains("built site"));
    e.denied("app_deploy", json!({"name": "x", "image": "busybox"}), "image-allow-list").await;
    e.denied(
        "app_deploy",
        json!({"name": "x", "image": e.image, "ports": [{"container": 80}], "publish_address": "0.0.0.0"}),
        "publish-address",
    )
    .await;
    let r = e.call("app_deploy", json!({"name": "Bad_Name", "image": e.image})).await;
    assert!(err(&r).contains("app name"));
    e.ok("app_remove", json!({"name": "site", "environment": "staging", "confirm": true})).await;
    let _ = std::process::Command::new("docker").args(["image", "rm", "-f", "mcp-app/site:staging-1"]).output();
}

/// With `DOCKER_APPS_NETWORK`, every replica also joins that network under
/// the app's name (how the browser server reaches deployed services in
/// compose), made and labelled by the server when missing; a container on
/// the server's default network still cannot reach the app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployed_apps_also_answer_on_the_apps_network() {
    let e = Env::with("appsnet", |c| c.apps_network = Some(format!("{}-apps", c.instance))).await;
    let port = free_port();
    let s = e.ok("app_deploy", deploy_args(&e, port, 8080, 1, "one")).await;
    assert_eq!(s["status"], "healthy", "{s:#}");
    let get = |network: &str| {
        json!({"image": e.image, "network": network, "wait": true,
               "argv": ["wget", "-q", "-O", "-", "http://web:8080/index.html"]})
    };
    let r = e.ok("container_run", get("apps")).await;
    assert_eq!(r["stdout"], "busybox ok\n", "{r}");
    let r = e.ok("container_run", get("bridge")).await;
    assert_ne!(r["exit_code"], 0, "the default network must not reach the app: {r}");
    let rm = e.ok("app_remove", json!({"name": "web", "confirm": true})).await;
    assert_eq!(rm["removed"].as_array().unwrap().len(), 1);
}
