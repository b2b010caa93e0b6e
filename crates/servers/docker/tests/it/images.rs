//! Image builds from a context under the roots, and the image tools.

use serde_json::json;

use crate::{Env, err};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_run_tag_remove() {
    let e = Env::start("img").await;
    e.files(&[
        ("app/Dockerfile", "FROM mcp-fleet-test/busybox:1\nARG GREETING=hi\nCOPY hello.txt /hello.txt\nRUN echo $GREETING > /greeting\nCMD [\"cat\", \"/hello.txt\", \"/greeting\"]\n"),
        ("app/hello.txt", "hello from the context\n"),
        ("app/sub/data.txt", "x\n"),
    ]);
    std::os::unix::fs::symlink("../hello.txt", e.root().join("app/sub/link")).unwrap();
    let tag = format!("mcp-app/{}:1", e.instance());
    let b = e.ok("image_build", json!({"context": "app", "tag": tag, "build_args": {"GREETING": "bonjour"}})).await;
    assert!(b["id"].as_str().unwrap().starts_with("sha256:"), "{b}");
    assert!(b["log"].as_str().unwrap().contains("Step 1/"), "{b}");
    let r = e.ok("container_run", json!({"image": tag, "wait": true})).await;
    assert_eq!(r["stdout"], "hello from the context\nbonjour\n", "{r}");
    let l = e.ok("image_list", json!({"managed_only": true})).await;
    assert!(l.to_string().contains(&tag), "{l}");
    let i = e.ok("image_inspect", json!({"image": tag})).await;
    assert_eq!(i["managed"], true);
    assert_eq!(i["cmd"], json!(["cat", "/hello.txt", "/greeting"]));
    let h = e.ok("image_history", json!({"image": tag})).await;
    assert!(h.to_string().contains("COPY"), "{h}");
    let tag2 = format!("mcp-app/{}:2", e.instance());
    e.ok("image_tag", json!({"source": tag, "target": tag2})).await;
    e.denied("image_tag", json!({"source": tag, "target": "library/busybox:1"}), "image-allow-list").await;
    assert!(err(&e.call("image_remove", json!({"image": tag2})).await).contains("confirm"));
    let rm = e.ok("image_remove", json!({"image": tag2, "confirm": true})).await;
    assert!(rm["untagged"].to_string().contains(":2"), "{rm}");
    // A failing build reports the builder's error.
    e.files(&[("broken/Dockerfile", "FROM mcp-fleet-test/busybox:1\nRUN exit 7\n")]);
    let r =
        e.call("image_build", json!({"context": "broken", "tag": format!("mcp-app/{}:broken", e.instance())})).await;
    assert!(err(&r).contains("build failed"), "{}", r.text);
}
