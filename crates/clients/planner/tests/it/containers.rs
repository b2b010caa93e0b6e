//! Container isolation and deployments against the real docker server
//! (in-process) and Docker Engine: the phases of a project run in
//! containers of a Python image (install with a network, the rest without),
//! and a service is deployed, answers over HTTP and is reported with its
//! address and health, and a screenshot of its page taken by the real
//! browser server (in-process, Debian's Chromium) is attached to the report.
//! Every test's containers, images and networks carry its instance label and
//! are removed when it ends.

use std::path::Path;
use std::time::Duration;

use mail_parser::MimeHeaders;
use mcp_client_planner::config::{Isolation, Runtime};
use mcp_test::TestServer;
use mcp_test::docker::Guard;
use serde_json::{Value, json};

use crate::flows::unfold;
use crate::{Fleet, ok, spec, wait_done};

/// A docker server whose first bind root, writable, is the fleet's projects
/// folder. The tests run as whoever runs them, root included, so the
/// projects (owned by that user) may be run as root here.
async fn docker_server(fleet: &Fleet, guard: &Guard) -> TestServer {
    let projects = fleet.projects();
    let mut c =
        mcp_server_docker::Config::for_instance(&guard.0, Some(projects.clone()), fleet.dir.path().join("docker"));
    c.bind_writable = vec![projects];
    c.allow_root = true;
    TestServer::start(mcp_server_docker::server(c).await.unwrap()).await
}

/// A browser server allowing loopback on any port (where the docker server
/// publishes a deployed service), started as `mcp-server-browser` starts it
/// (its idle reaper kills every Chromium when the test ends). The tests run
/// as root in the project's containers, where Chromium's sandbox cannot
/// start: `BROWSER_NO_SANDBOX` is set explicitly, as the browser's own tests do.
async fn browser_server(fleet: &Fleet) -> TestServer {
    let c =
        mcp_server_browser::Config::for_tests("http://127.0.0.1:*", fleet.dir.path().join("browser"), true).unwrap();
    let core = mcp_core::CoreConfig::defaults(mcp_server_browser::NAME);
    TestServer::start_program(mcp_server_browser::start(c, core).await.unwrap()).await
}

fn runtime(docker: &TestServer, image: &str) -> Runtime {
    Runtime {
        isolation: Isolation::Container,
        toolchain_image: image.to_owned(),
        docker: Some(docker.url()),
        ..Runtime::process()
    }
}

/// The image built once, off the async workers (it may take a minute).
async fn python_image() -> String {
    tokio::task::spawn_blocking(mcp_test::images::python_image).await.unwrap()
}

/// `(container id, network)` of every network connection the engine made since `since` (unix seconds).
fn connections(since: u64) -> Vec<(String, String)> {
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let out = std::process::Command::new("docker")
        .args(["events", "--since", &since.to_string(), "--until", &until.to_string()])
        .args(["--filter", "type=network", "--filter", "event=connect"])
        .args(["--format", "{{.Actor.Attributes.container}} {{.Actor.Attributes.name}}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(c, n)| (c.to_owned(), n.to_owned())))
        .collect()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A phase's container records.
fn commands<'a>(done: &'a Value, key: &str) -> &'a Vec<Value> {
    let step = done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == key).unwrap();
    step["result"]["commands"].as_array().unwrap_or_else(|| panic!("{key} has no container records: {step}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_container_isolation_the_phases_run_in_containers() {
    let image = python_image().await;
    let fleet = Fleet::start().await;
    let guard = Guard::new("planner-iso");
    let docker = docker_server(&fleet, &guard).await;
    let planner = fleet.planner(|c| c.runtime = runtime(&docker, &image)).await;
    let since = now_secs();
    let request = json!({"request_id": "req-iso", "requester": "alice@example.test"});
    let v = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Boxed Counter", "python", "cli"), "request": request}))
        .await)
    .clone();
    let done = wait_done(&planner, v["id"].as_str().unwrap(), Duration::from_secs(600)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(fleet.tags("boxed-counter"), ["v0.1.0"]);

    // Each of the template's argv ran in a container of the image, as the folder's owner.
    let owner = {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(fleet.projects().join("boxed-counter")).unwrap();
        format!("{}:{}", m.uid(), m.gid())
    };
    let mut networks = Vec::new();
    for (phase, count, network) in
        [("install", 2, "bridge"), ("build", 1, "none"), ("lint", 1, "none"), ("test", 1, "none")]
    {
        let cmds = commands(&done, phase);
        assert_eq!(cmds.len(), count, "{phase}: {cmds:?}");
        for c in cmds {
            assert_eq!(c["exit_code"], 0, "{phase}: {c}");
            assert_eq!(c["network"], network, "{phase}: {c}");
            assert_eq!(c["user"], owner.as_str(), "{phase}: {c}");
            networks.push((c["container_id"].as_str().unwrap().to_owned(), phase));
        }
    }
    let test = &done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == "test").unwrap()["result"];
    assert_eq!(test["isolation"], "container");
    let summary = test["summary"].as_str().unwrap();
    assert!(summary.contains("3 passed") && summary.contains("no per-finding structure"), "{test}");

    // The virtualenv was made inside a container, where the project is /work/<slug>.
    let activate = std::fs::read_to_string(fleet.projects().join("boxed-counter/.venv/bin/activate")).unwrap();
    assert!(activate.contains("/work/boxed-counter/.venv"), "{activate}");

    // The engine's own record: install's containers joined a network, the others none.
    let joined = connections(since);
    for (id, phase) in &networks {
        let nets: Vec<&str> = joined.iter().filter(|(c, _)| c == id).map(|(_, n)| n.as_str()).collect();
        if *phase == "install" {
            assert!(nets.iter().any(|n| *n != "none"), "{phase} container {id} joined no network: {joined:?}");
        } else {
            assert!(nets.iter().all(|n| *n == "none"), "{phase} container {id} joined {nets:?}");
        }
    }

    // The report says how the checks ran.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1);
    let m = unfold(&mails[0]);
    assert!(m.contains("test: passed") && m.contains("Lint and tests ran in containers"), "{m}");
}

/// The deployment path end to end: built, deployed, answering over HTTP,
/// opened in the browser and shot, and the screenshot kept out of the
/// repository and attached to the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_is_deployed_answers_and_is_reported_with_its_address_health_and_screenshot() {
    let image = python_image().await;
    let fleet = Fleet::start().await;
    let guard = Guard::new("planner-deploy");
    let docker = docker_server(&fleet, &guard).await;
    let browser = browser_server(&fleet).await;
    let planner = fleet
        .planner(|c| {
            c.runtime = Runtime { deploy: true, browser: Some(browser.url()), ..runtime(&docker, &image) };
        })
        .await;
    let request = json!({"request_id": "req-svc", "requester": "alice@example.test"});
    let v = ok(&planner
        .raw()
        .call("plan_start", json!({"spec": spec("Hello Service", "python", "service"), "request": request}))
        .await)
    .clone();
    let keys: Vec<&str> = v["steps"].as_array().unwrap().iter().map(|s| s["def"]["key"].as_str().unwrap()).collect();
    assert_eq!(keys[keys.len() - 4..], ["tag", "deploy", "screenshot", "report"]);
    let done = wait_done(&planner, v["id"].as_str().unwrap(), Duration::from_secs(900)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    let result = |key: &str| {
        done["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == key).unwrap()["result"].clone()
    };
    let deploy = result("deploy");
    assert_eq!(deploy["passed"], true, "{deploy}");
    assert_eq!(deploy["status"], "healthy", "{deploy}");
    let address = deploy["addresses"][0].as_str().unwrap_or_else(|| panic!("no address: {deploy}")).to_owned();
    let health = deploy["health_output"].as_str().unwrap_or_else(|| panic!("no health output: {deploy}")).to_owned();
    assert!(health.contains("\"status\": \"ok\""), "{deploy}");
    assert!(done["reason"].as_str().unwrap().contains(&format!("deployed to dev at {address}")), "{done}");

    // It answers where the report says.
    let body = reqwest::get(format!("http://{address}/health")).await.unwrap();
    assert!(body.status().is_success());
    assert_eq!(body.json::<Value>().await.unwrap(), json!({"status": "ok"}));
    let about: Value = reqwest::get(format!("http://{address}/")).await.unwrap().json().await.unwrap();
    assert_eq!(about["name"], "hello-service", "{about}");

    // The browser opened the published address and shot it.
    let shot = result("screenshot");
    assert_eq!(shot["passed"], true, "{shot}");
    assert_eq!(shot["status"], 200, "{shot}");
    assert_eq!(shot["url"], format!("http://{address}/"), "{shot}");
    assert_eq!(shot["attach"], true, "{shot}");
    assert_eq!(shot["file"], ".fleet/screenshot-dev.png", "{shot}");
    let project = fleet.projects().join("hello-service");
    let png = std::fs::read(project.join(".fleet/screenshot-dev.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG: {:?}", &png[..png.len().min(16)]);
    assert_eq!(shot["bytes"], png.len(), "{shot}");

    // It is kept out of the repository: ignored (the template's `.fleet/`), never committed.
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").args(args).current_dir(&project).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    assert!(git(&["check-ignore", "-q", ".fleet/screenshot-dev.png"]).0, "the screenshot is not ignored");
    assert_eq!(git(&["ls-files", "--", ".fleet"]).1, "", "the screenshot is tracked");
    let (_, status) = git(&["status", "--porcelain", "--ignored", "--", ".fleet"]);
    assert_eq!(status.trim(), "!! .fleet/", "{status}");
    let (_, committed) = git(&["log", "--all", "--name-only", "--format="]);
    assert!(!committed.contains(".fleet/"), "{committed}");

    // The report: where it answers, what its health check returned, and the screenshot attached.
    let mails = fleet.outbox();
    assert_eq!(mails.len(), 1);
    let mail = mail_parser::MessageParser::default().parse(mails[0].as_bytes()).unwrap();
    assert!(mail.content_type().is_some_and(|t| t.ctype() == "multipart"), "not multipart: {}", mails[0]);
    let m = mail.body_text(0).unwrap_or_else(|| panic!("no text part: {}", mails[0])).into_owned();
    assert!(m.contains("Deployment (dev): healthy, revision "), "{m}");
    assert!(m.contains(&format!("Answers at (on the Docker host): http://{address}/")), "{m}");
    assert!(m.contains(&format!("Health check returned: {health}")), "{m}");
    assert!(m.contains("Screenshot of the deployed service: http://127.0.0.1:"), "{m}");
    assert!(m.contains(&format!("Screenshot of the deployed service: http://{address}/ answered HTTP 200")), "{m}");
    let attached: Vec<_> = mail.attachments().collect();
    assert_eq!(attached.len(), 1, "{}", mails[0]);
    let part = attached[0];
    assert_eq!(part.attachment_name(), Some("hello-service-dev.png"));
    let ct = part.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("image", Some("png")));
    assert!(part.contents() == png.as_slice(), "the attachment is not the screenshot file");

    // The image was built from the project's Dockerfile, FROM the toolchain image it was tested in.
    let dockerfile = std::fs::read_to_string(project.join("Dockerfile")).unwrap();
    assert!(dockerfile.contains(&format!("ARG BASE={image}")), "{dockerfile}");
    assert!(Path::new(&project.join(".gitlab-ci.yml")).exists());
}
