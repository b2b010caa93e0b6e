//! The hostile corpus: every way out of the policy is refused, naming the rule.

use serde_json::json;

use crate::{Env, docker, err};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escapes_are_refused_with_their_rule() {
    let e = Env::start("hostile").await;
    let img = e.image.clone();
    let outside = e.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, e.root().join("link")).unwrap();
    let run = |extra: serde_json::Value| {
        let mut a = json!({"image": img, "argv": ["true"], "wait": true});
        for (k, v) in extra.as_object().unwrap() {
            a[k] = v.clone();
        }
        a
    };
    for (mounts, rule) in [
        (json!([{"source": outside.to_str().unwrap(), "target": "/x"}]), "bind-roots"),
        (json!([{"source": "../outside", "target": "/x"}]), "bind-parent"),
        (json!([{"source": "ro/../../outside", "target": "/x"}]), "bind-parent"),
        (json!([{"source": "link", "target": "/x"}]), "bind-roots"),
        (json!([{"source": "/var/run/docker.sock", "target": "/var/run/docker.sock"}]), "bind-sensitive"),
        (json!([{"source": "/run/docker.sock", "target": "/s"}]), "bind-sensitive"),
        (json!([{"source": "/proc", "target": "/p"}]), "bind-sensitive"),
        (json!([{"source": "/etc", "target": "/e"}]), "bind-sensitive"),
        (json!([{"source": "/", "target": "/host"}]), "bind-sensitive"),
        (json!([{"source": "ro", "target": "/x", "writable": true}]), "bind-writable"),
    ] {
        e.denied("container_run", run(json!({"mounts": mounts})), rule).await;
    }
    e.denied("container_run", json!({"image": "busybox:latest", "argv": ["true"]}), "image-allow-list").await;
    e.denied("container_run", json!({"image": "docker.io/library/alpine", "argv": ["true"]}), "image-allow-list").await;
    e.denied("container_run", run(json!({"user": "0"})), "root-user").await;
    e.denied("container_run", run(json!({"user": "root:root"})), "root-user").await;
    e.denied("container_run", run(json!({"network": "host"})), "network").await;
    e.denied("container_run", run(json!({"network": "container:abc"})), "network").await;
    e.denied(
        "container_run",
        run(json!({"ports": [{"container": 80}], "publish_address": "0.0.0.0"})),
        "publish-address",
    )
    .await;
    // Privileges are not even in the schema.
    for arg in [json!({"privileged": true}), json!({"cap_add": ["SYS_ADMIN"]}), json!({"devices": ["/dev/sda"]})] {
        let r = e.call("container_run", run(arg)).await;
        assert!(err(&r).contains("unknown field"), "{}", r.text);
    }
    // A network another instance made is not joinable.
    let foreign = format!("{}x", e.instance());
    let _g = mcp_test::docker::Guard(foreign.clone());
    docker(&["network", "create", "--label", &format!("io.mcp-fleet.managed-by={foreign}"), &format!("{foreign}-net")]);
    e.denied("container_run", run(json!({"network": format!("{foreign}-net")})), "network").await;

    // Containers the server did not create.
    let id = docker(&["create", "--label", &format!("io.mcp-fleet.managed-by={foreign}"), &e.image, "sleep", "60"]);
    e.denied("container_stop", json!({"container": id}), "managed-by").await;
    e.denied("container_start", json!({"container": id}), "managed-by").await;
    e.denied("container_remove", json!({"container": id, "confirm": true}), "managed-by").await;
    e.denied("container_exec", json!({"container": id, "argv": ["id"]}), "managed-by").await;
    e.denied("image_remove", json!({"image": e.image, "confirm": true}), "managed-by").await;
    e.denied("network_remove", json!({"name": format!("{foreign}-net")}), "managed-by").await;
    // ...but reading them is fine.
    e.ok("container_inspect", json!({"container": id})).await;

    // Build contexts.
    e.files(&[("ctx/Dockerfile", "FROM mcp-fleet-test/busybox:1\nCOPY . /c\n")]);
    std::os::unix::fs::symlink(outside.join("secret"), e.root().join("ctx/escape")).unwrap();
    std::fs::write(outside.join("secret"), "s").unwrap();
    let tag = format!("mcp-app/{}:hostile", e.instance());
    e.denied("image_build", json!({"context": "ctx", "tag": tag}), "build-context").await;
    e.denied("image_build", json!({"context": "../outside", "tag": tag}), "bind-parent").await;
    e.denied("image_build", json!({"context": outside.to_str().unwrap(), "tag": tag}), "build-context").await;
    e.denied("image_build", json!({"context": "ctx", "dockerfile": "../Dockerfile", "tag": tag}), "build-context")
        .await;
    e.denied("image_build", json!({"context": "ro", "tag": "evil/image:1"}), "image-tag").await;

    // Compose files.
    for (body, rule) in [
        ("services:\n  a:\n    image: mcp-fleet-test/busybox:1\n    privileged: true\n", "privileged"),
        ("services:\n  a:\n    image: mcp-fleet-test/busybox:1\n    network_mode: host\n", "network"),
        (
            "services:\n  a:\n    image: mcp-fleet-test/busybox:1\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n",
            "bind-sensitive",
        ),
        ("services:\n  a:\n    image: mcp-fleet-test/busybox:1\n    pid: host\n", "host-namespace"),
        (
            "services:\n  a:\n    image: mcp-fleet-test/busybox:1\n    volumes:\n      - ../../outside:/o\n",
            "bind-parent",
        ),
    ] {
        e.files(&[("bad/compose.yaml", body)]);
        let r = e.call("compose_up", json!({"file": "bad/compose.yaml", "name": "bad"})).await;
        let m = err(&r);
        assert!(m.contains("compose-validate") && m.contains(rule), "{rule}: {m}");
        let v = e.ok("compose_validate", json!({"file": "bad/compose.yaml"})).await;
        assert_eq!(v["valid"], false);
        assert!(v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == rule), "{rule}: {v}");
    }
    let outside_file = outside.join("compose.yaml");
    std::fs::write(&outside_file, "services: {}\n").unwrap();
    e.denied("compose_validate", json!({"file": outside_file.to_str().unwrap()}), "compose-file").await;
    docker(&["rm", "-f", &id]);
}
