//! The escape corpus: every way out of the roots we know of is refused with a
//! clear message, nothing outside is read, written, moved or deleted, and
//! symlinks swapped in during a call never let a read or write through.

use std::os::unix::fs::symlink;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;

use crate::{Fixture, err, exists, ok};

const SECRET: &str = "TOP-SECRET-CONTENT";

async fn fixture() -> Fixture {
    let f = Fixture::new(true, true).await;
    f.put("sub/inside.txt", "inside");
    let root = f.root();
    symlink(f.outside(), root.join("link_out")).unwrap();
    symlink(f.outside().join("secret.txt"), root.join("file_link_out")).unwrap();
    symlink("loop_b", root.join("loop_a")).unwrap();
    symlink("loop_a", root.join("loop_b")).unwrap();
    symlink(root.join("sub"), root.join("link_in")).unwrap();
    f
}

/// Paths that must be refused by every path-taking tool, with a word the
/// refusal must contain.
fn hostile_paths(f: &Fixture) -> Vec<(String, &'static str)> {
    let out = f.outside().join("secret.txt").display().to_string();
    vec![
        ("../outside/secret.txt".into(), ".."),
        ("sub/../../outside/secret.txt".into(), ".."),
        ("/etc/passwd".into(), "outside the allowed roots"),
        (out, "outside the allowed roots"),
        (format!("{}/../outside/secret.txt", f.root().display()), ".."),
        ("link_out/secret.txt".into(), "outside the allowed roots"),
        ("file_link_out".into(), "outside the allowed roots"),
        ("loop_a".into(), "symbolic links"),
        ("a\u{0}b".into(), "NUL"),
        ("a".repeat(4097), "4096"),
        (format!("sub/{}", "n".repeat(300)), "255"),
        ("..\\outside\\secret.txt".into(), "backslash"),
        ("sub\\..\\..\\outside".into(), "backslash"),
        (String::new(), "empty"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_refuse_every_escape() {
    let f = fixture().await;
    for (p, why) in hostile_paths(&f) {
        for (tool, args) in [
            ("read_file", json!({"path": p})),
            ("list_directory", json!({"path": p})),
            ("tree", json!({"path": p})),
            ("find", json!({"path": p, "pattern": "*"})),
            ("grep", json!({"path": p, "pattern": "SECRET"})),
            ("changes", json!({"path": p})),
        ] {
            let r = f.call(tool, args).await;
            let e = err(&r);
            assert!(!r.text.contains(SECRET), "{tool} {p:?} leaked the secret");
            // read_file reports the precise reason; directory tools may
            // fail earlier with "not a directory" for file paths.
            if tool == "read_file" {
                assert!(e.contains(why), "read_file {p:?}: expected {why:?} in {e:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unicode_lookalikes_are_plain_names_inside_the_root() {
    let f = fixture().await;
    // Two-dot leader, fullwidth full stops, division slash, fraction slash,
    // percent-encoding, NFD vs NFC: none is a separator or a parent dir.
    for p in [
        "\u{2025}/outside/secret.txt",
        "\u{FF0E}\u{FF0E}/outside/secret.txt",
        "..\u{2215}outside\u{2215}secret.txt",
        "..\u{2044}outside",
        "%2e%2e/outside/secret.txt",
        "%2e%2e%2foutside%2fsecret.txt",
        "\u{FE52}\u{FE52}/outside",
        "e\u{301}/../../outside",
    ] {
        let r = f.call("read_file", json!({"path": p})).await;
        let e = err(&r);
        assert!(!r.text.contains(SECRET), "{p:?} leaked");
        assert!(e.contains("does not exist") || e.contains(".."), "{p:?}: {e}");
    }
    // Such names are legitimate files when created inside the root.
    let r = f.call("write_file", json!({"path": "\u{2025}.txt", "content": "fine"})).await;
    ok(&r);
    assert!(f.root().join("\u{2025}.txt").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_refuse_every_escape_and_touch_nothing_outside() {
    let f = fixture().await;
    let before = std::fs::read_dir(f.outside()).unwrap().count();
    let mut paths: Vec<String> = hostile_paths(&f).into_iter().map(|(p, _)| p).collect();
    paths.push("link_out/new.txt".into());
    paths.push("link_out/deeper/new.txt".into());
    for p in &paths {
        for (tool, args) in [
            ("write_file", json!({"path": p, "content": "PWNED"})),
            ("write_file", json!({"path": p, "content": "PWNED", "create_parents": true})),
            ("edit_file", json!({"path": p, "edits": [{"old_text": "TOP", "new_text": "PWNED"}]})),
            ("create_directory", json!({"path": p})),
            ("delete", json!({"path": p, "recursive": true})),
            ("move", json!({"source": "sub/inside.txt", "destination": p})),
            ("move", json!({"source": p, "destination": "sub/stolen.txt"})),
        ] {
            // Writing through a symlink is refused, but deleting or moving a
            // symlink entry that lives inside the root is legitimate (it acts
            // on the link, never on its target), so those are not escapes.
            if ["file_link_out", "loop_a"].contains(&p.as_str()) && (tool == "delete" || tool == "move") {
                continue;
            }
            let r = f.call(tool, args.clone()).await;
            err(&r);
            assert!(!r.text.contains(SECRET), "{tool} {args} leaked");
        }
    }
    assert_eq!(std::fs::read_to_string(f.outside().join("secret.txt")).unwrap(), SECRET);
    assert_eq!(std::fs::read_dir(f.outside()).unwrap().count(), before, "something was created outside");
    assert!(!exists(&f.root().join("sub/stolen.txt")));
    assert!(exists(&f.root().join("sub/inside.txt")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlinks_inside_the_root_work_and_links_out_are_only_entries() {
    let f = fixture().await;
    // A symlink that stays inside is followed.
    let v = f.call("read_file", json!({"path": "link_in/inside.txt"})).await;
    assert_eq!(ok(&v)["content"], "inside");
    // stat describes a link itself, and says whether it leaves the roots.
    let v = f.call("stat", json!({"path": "link_out"})).await;
    let v = ok(&v);
    assert_eq!(v["type"], "symlink");
    assert_eq!(v["symlink_target_inside_roots"], false);
    // Walks list links and never descend into them.
    let r = f.call("tree", json!({"depth": 5})).await;
    assert!(!r.text.contains("secret.txt"), "tree descended through a symlink: {}", r.text);
    let r = f.call("grep", json!({"pattern": "SECRET"})).await;
    assert_eq!(ok(&r)["matches"].as_array().unwrap().len(), 0, "{}", r.text);
    let r = f.call("find", json!({"pattern": "secret*"})).await;
    assert_eq!(ok(&r)["matches"].as_array().unwrap().len(), 0, "{}", r.text);
    // Deleting the link removes the link, not what it points to.
    let r = f.call("delete", json!({"path": "link_out"})).await;
    ok(&r);
    assert!(!exists(&f.root().join("link_out")));
    assert_eq!(std::fs::read_to_string(f.outside().join("secret.txt")).unwrap(), SECRET);
    // Deleting a root is refused.
    let r = f.call("delete", json!({"path": f.root().display().to_string(), "recursive": true})).await;
    assert!(err(&r).contains("root"));
    assert!(f.root().exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_refuse_escapes() {
    let f = fixture().await;
    for uri in [
        "file:///etc/passwd".to_owned(),
        format!("file://{}/link_out/secret.txt", f.root().display()),
        format!("file://{}/../outside/secret.txt", f.root().display()),
        format!("file://{}/file_link_out", f.root().display()),
        "file:///%2e%2e/etc/passwd".to_owned(),
        "http://example.com/x".to_owned(),
    ] {
        let r = f.raw().request("resources/read", json!({"uri": uri}), json!({}), &[]).await;
        assert!(r.error()["code"].is_i64(), "{uri}: {}", r.text);
        assert!(!r.text.contains(SECRET), "{uri} leaked");
    }
}

/// A real directory on the path is swapped for a symlink to the outside,
/// again and again, while reads and writes run. The check (canonicalise) and
/// the use (openat2 beneath the root, no symlinks) are separate steps, so this
/// is exactly the race that burned path-checking servers: whenever the check
/// saw the real directory and the use would meet the symlink, the kernel must
/// refuse the open. Nothing may get through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_symlink_swapped_between_check_and_use_never_escapes() {
    let f = fixture().await;
    let root = f.root();
    std::fs::write(f.outside().join("data.txt"), SECRET).unwrap();
    let swap = root.join("swap");
    let hold = root.join("swap_hold");
    std::fs::create_dir(&swap).unwrap();
    std::fs::write(swap.join("data.txt"), "inside").unwrap();
    let out = f.outside();
    let stop = Arc::new(AtomicBool::new(false));
    let flipper = {
        let stop = stop.clone();
        let (swap, hold, out) = (swap.clone(), hold.clone(), out.clone());
        std::thread::spawn(move || {
            let mut flips = 0u64;
            let link_tmp = swap.with_extension("link");
            while !stop.load(Ordering::Relaxed) {
                // Real directory out, symlink in ...
                let _ = std::fs::rename(&swap, &hold);
                let _ = std::fs::remove_file(&link_tmp);
                let _ = symlink(&out, &link_tmp);
                let _ = std::fs::rename(&link_tmp, &swap);
                std::thread::yield_now();
                // ... and back.
                let _ = std::fs::rename(&swap, &link_tmp);
                let _ = std::fs::rename(&hold, &swap);
                std::thread::yield_now();
                flips += 1;
            }
            flips
        })
    };
    let mut served_inside = 0;
    for i in 0..400 {
        let r = f.call("read_file", json!({"path": "swap/data.txt"})).await;
        assert!(!r.text.contains(SECRET), "read {i} escaped through the swapped symlink: {}", r.text);
        if r.result()["isError"] == false {
            served_inside += 1;
        }
        let w = f.call("write_file", json!({"path": format!("swap/w{i}.txt"), "content": "x"})).await;
        assert!(w.result().is_object(), "{}", w.text);
        let g = f.call("grep", json!({"path": "swap", "pattern": "SECRET"})).await;
        assert!(!g.text.contains(SECRET) || g.result()["isError"] == true, "grep {i} escaped: {}", g.text);
    }
    stop.store(true, Ordering::Relaxed);
    let flips = flipper.join().unwrap();
    assert!(flips > 100, "the race did not run ({flips} flips)");
    let leaked: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('w'))
        .map(|e| e.file_name())
        .collect();
    assert!(leaked.is_empty(), "writes escaped: {leaked:?}");
    eprintln!("{flips} flips; {served_inside}/400 reads served from inside");
}
