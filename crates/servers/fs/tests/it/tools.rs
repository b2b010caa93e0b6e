//! Every tool, through HTTP, against a real directory tree.

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use serde_json::json;

use crate::{Fixture, err, ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_file_whole_and_in_parts() {
    let f = Fixture::new(false, false).await;
    let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    f.put("a.txt", &text);
    let r = f.call("read_file", json!({"path": "a.txt"})).await;
    let v = ok(&r);
    assert_eq!(v["content"], text.as_str());
    assert_eq!(v["truncated"], false);
    assert_eq!(r.result()["content"][0]["text"], text.as_str());

    let r = f.call("read_file", json!({"path": "a.txt", "start_line": 10, "end_line": 12})).await;
    let v = ok(&r);
    assert_eq!(v["content"], "line 10\nline 11\nline 12\n");
    assert_eq!((v["start_line"].as_u64(), v["end_line"].as_u64()), (Some(10), Some(12)));

    let r = f.call("read_file", json!({"path": "a.txt", "head": 2})).await;
    assert_eq!(ok(&r)["content"], "line 1\nline 2\n");
    let r = f.call("read_file", json!({"path": "a.txt", "tail": 2})).await;
    assert_eq!(ok(&r)["content"], "line 99\nline 100\n");
    let r = f.call("read_file", json!({"path": "a.txt", "tail": 1000})).await;
    assert_eq!(ok(&r)["content"], text.as_str());
    let r = f.call("read_file", json!({"path": "a.txt", "offset": 7, "length": 7})).await;
    let v = ok(&r);
    assert_eq!(v["content"], "line 2\n");
    assert_eq!(v["next"], 14);
    assert_eq!(v["truncated"], true);
    assert!(r.result()["content"][0]["text"].as_str().unwrap().contains("offset=14"));

    // Mixing ways of choosing a part is an error that says what to do.
    let e = err(&f.call("read_file", json!({"path": "a.txt", "head": 1, "tail": 1})).await);
    assert!(e.contains("choose one"), "{e}");
    let e = err(&f.call("read_file", json!({"path": "a.txt", "start_line": 500})).await);
    assert!(e.contains("past the end"), "{e}");
    let e = err(&f.call("read_file", json!({"path": "nope.txt"})).await);
    assert!(e.contains("does not exist"), "{e}");
    let e = err(&f.call("read_file", json!({"path": "."})).await);
    assert!(e.contains("is a directory"), "{e}");
    let e = err(&f.call("read_file", json!({"path": "a.txt", "bogus": 1})).await);
    assert!(e.contains("unknown field"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_file_caps_large_files_and_continues_at_the_offset() {
    let f = Fixture::new(false, false).await;
    // 600 KiB of multi-byte text, over the 256 KiB read limit.
    let text = "héllo wörld ✓\n".repeat(40_000);
    f.put("big.txt", &text);
    let mut got = String::new();
    let mut offset = 0u64;
    for _ in 0..10 {
        let r = f.call("read_file", json!({"path": "big.txt", "offset": offset})).await;
        let v = ok(&r).clone();
        got.push_str(v["content"].as_str().unwrap());
        assert!(v["bytes"].as_u64().unwrap() <= 256 * 1024);
        match v["next"].as_u64() {
            Some(n) => offset = n,
            None => break,
        }
    }
    assert_eq!(got, text, "reading in parts must give back exactly the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_files_are_refused_or_base64_and_images_are_images() {
    let f = Fixture::new(false, false).await;
    let bin: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    f.put("blob.bin", &bin);
    let e = err(&f.call("read_file", json!({"path": "blob.bin"})).await);
    assert!(e.contains("binary") && e.contains("base64"), "{e}");
    let r = f.call("read_file", json!({"path": "blob.bin", "binary": "base64"})).await;
    let v = ok(&r);
    assert_eq!(v["encoding"], "base64");
    let back = base64::engine::general_purpose::STANDARD.decode(v["content"].as_str().unwrap()).unwrap();
    assert_eq!(back, bin);
    // Latin-1 text has no NUL but is not UTF-8: binary too.
    f.put("latin1.txt", b"caf\xe9\n");
    assert!(err(&f.call("read_file", json!({"path": "latin1.txt"})).await).contains("base64"));
    // A PNG comes back as image content as well.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    f.put("pixel.png", png);
    let r = f.call("read_file", json!({"path": "pixel.png", "binary": "base64"})).await;
    ok(&r);
    let blocks = r.result()["content"].as_array().unwrap();
    assert!(blocks.iter().any(|b| b["type"] == "image" && b["mimeType"] == "image/png"), "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_many_reports_each_file() {
    let f = Fixture::new(false, false).await;
    f.put("x.txt", "x");
    f.put("y.txt", "y");
    let r = f.call("read_many", json!({"paths": ["x.txt", "missing.txt", "y.txt"]})).await;
    let files = ok(&r)["files"].as_array().unwrap().clone();
    assert_eq!(files[0]["content"], "x");
    assert!(files[1]["error"].as_str().unwrap().contains("does not exist"));
    assert_eq!(files[2]["content"], "y");
    assert!(err(&f.call("read_many", json!({"paths": []})).await).contains("between 1 and 50"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_directory_and_stat() {
    let f = Fixture::new(false, false).await;
    f.put("small.txt", "1");
    f.put("large.txt", "1234567890");
    f.put(".hidden", "h");
    std::fs::create_dir(f.root().join("dir")).unwrap();
    let r = f.call("list_directory", json!({})).await;
    let names: Vec<String> =
        ok(&r)["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(names, [".hidden", "dir", "large.txt", "small.txt"]);
    let r = f.call("list_directory", json!({"sort": "size", "include_hidden": false})).await;
    let v = ok(&r);
    let files: Vec<&serde_json::Value> =
        v["entries"].as_array().unwrap().iter().filter(|e| e["type"] == "file").collect();
    assert_eq!(files[0]["name"], "large.txt");
    assert_eq!(files[0]["size"], 10);
    assert_eq!(files[1]["name"], "small.txt");
    assert!(v["entries"].as_array().unwrap().iter().all(|e| e["name"] != ".hidden"));
    assert!(v["entries"].as_array().unwrap().iter().any(|e| e["name"] == "dir" && e["type"] == "dir"));

    std::fs::set_permissions(f.root().join("small.txt"), std::fs::Permissions::from_mode(0o640)).unwrap();
    let r = f.call("stat", json!({"path": "small.txt"})).await;
    let v = ok(&r);
    assert_eq!(v["type"], "file");
    assert_eq!(v["size"], 1);
    assert_eq!(v["permissions"], "0640");
    assert!(v["modified"].as_str().unwrap().ends_with('Z'));
    let r = f.call("stat", json!({"path": "."})).await;
    assert_eq!(ok(&r)["type"], "dir");
    let r = f.call("list_roots", json!({})).await;
    let v = ok(&r);
    assert_eq!(v["roots"][0], f.root().display().to_string());
    assert_eq!(v["write_enabled"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tree_find_and_grep_respect_gitignore_and_bounds() {
    let f = Fixture::new(false, false).await;
    f.put(".gitignore", "target/\n*.log\n!keep.log\n");
    f.put("src/main.py", "import os\n\ndef main():\n    print('hello')\n    return 0\n");
    f.put("src/lib/util.py", "def helper():\n    return 'hello again'\n");
    f.put("target/debug/out.py", "print('hello from build output')\n");
    f.put("run.log", "hello log\n");
    f.put("keep.log", "hello kept\n");
    f.put(".git/config", "[core]\n");
    f.put("data.bin", b"hello\0binary");

    let r = f.call("tree", json!({"depth": 5})).await;
    let paths: Vec<String> =
        ok(&r)["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect();
    assert!(paths.contains(&"src/lib/util.py".to_owned()), "{paths:?}");
    assert!(paths.contains(&"keep.log".to_owned()), "{paths:?}");
    for gone in ["target", "run.log", ".git"] {
        assert!(!paths.iter().any(|p| p == gone || p.starts_with(&format!("{gone}/"))), "{gone} listed: {paths:?}");
    }
    let r = f.call("tree", json!({"depth": 1})).await;
    assert!(ok(&r)["entries"].as_array().unwrap().iter().all(|e| e["depth"] == 1));
    let r = f.call("tree", json!({"depth": 5, "gitignore": false, "exclude": ["*.py"]})).await;
    let paths: Vec<String> =
        ok(&r)["entries"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect();
    assert!(paths.contains(&"run.log".to_owned()));
    assert!(!paths.iter().any(|p| p.ends_with(".py")));
    let r = f.call("tree", json!({"depth": 5, "max_entries": 2})).await;
    assert_eq!(ok(&r)["truncated"], true);

    let r = f.call("find", json!({"pattern": "*.py"})).await;
    let m = ok(&r)["matches"].as_array().unwrap().clone();
    assert_eq!(m, [json!("src/lib/util.py"), json!("src/main.py")]);
    let r = f.call("find", json!({"pattern": "src/*.py"})).await;
    assert_eq!(ok(&r)["matches"], json!(["src/main.py"]));
    let r = f.call("find", json!({"pattern": "*", "type": "dir"})).await;
    assert_eq!(ok(&r)["matches"], json!(["src", "src/lib"]));
    assert!(err(&f.call("find", json!({"pattern": "[unclosed"})).await).contains("bad glob"));

    let r = f.call("grep", json!({"pattern": "hello", "context": 1})).await;
    let v = ok(&r);
    let hits: Vec<String> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| format!("{}:{}", m["path"].as_str().unwrap(), m["line"]))
        .collect();
    assert_eq!(hits, ["keep.log:1", "src/lib/util.py:2", "src/main.py:4"], "{}", r.text);
    let main = &v["matches"][2];
    assert_eq!(main["before"], json!(["def main():"]));
    assert_eq!(main["after"], json!(["    return 0"]));
    assert_eq!(v["files_skipped"], 1, "the binary file is skipped");
    let r = f
        .call("grep", json!({"pattern": "HELLO", "case_insensitive": true, "include": ["*.py"], "max_matches": 1}))
        .await;
    let v = ok(&r);
    assert_eq!(v["matches"].as_array().unwrap().len(), 1);
    assert_eq!(v["truncated"], true);
    let r = f.call("grep", json!({"pattern": "print(", "fixed_string": true, "path": "src/main.py"})).await;
    assert_eq!(ok(&r)["matches"][0]["line"], 4);
    assert!(err(&f.call("grep", json!({"pattern": "(unclosed"})).await).contains("bad regular expression"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_file_is_atomic_and_keeps_permissions() {
    let f = Fixture::new(true, false).await;
    let r = f.call("write_file", json!({"path": "new.txt", "content": "one"})).await;
    assert_eq!(ok(&r)["created"], true);
    std::fs::set_permissions(f.root().join("new.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = f.call("write_file", json!({"path": "new.txt", "content": "two"})).await;
    assert_eq!(ok(&r)["created"], false);
    assert_eq!(std::fs::read_to_string(f.root().join("new.txt")).unwrap(), "two");
    let mode = std::fs::metadata(f.root().join("new.txt")).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "replacing a file keeps its permissions");
    let e = err(&f.call("write_file", json!({"path": "new.txt", "content": "three", "mode": "create_new"})).await);
    assert!(e.contains("already exists"), "{e}");
    assert_eq!(std::fs::read_to_string(f.root().join("new.txt")).unwrap(), "two");
    let e = err(&f.call("write_file", json!({"path": "a/b/c.txt", "content": "x"})).await);
    assert!(e.contains("create_parents"), "{e}");
    ok(&f.call("write_file", json!({"path": "a/b/c.txt", "content": "x", "create_parents": true})).await);
    assert_eq!(std::fs::read_to_string(f.root().join("a/b/c.txt")).unwrap(), "x");
    let r = f.call("write_file", json!({"path": "bin.dat", "content": "AAEC/w==", "encoding": "base64"})).await;
    assert_eq!(ok(&r)["bytes"], 4);
    assert_eq!(std::fs::read(f.root().join("bin.dat")).unwrap(), [0, 1, 2, 255]);
    assert!(
        err(&f.call("write_file", json!({"path": "x", "content": "!!", "encoding": "base64"})).await)
            .contains("base64")
    );
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(f.root())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".mcp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_never_leave_a_torn_file() {
    let f = Fixture::new(true, false).await;
    let a = "A".repeat(200_000);
    let b = "B".repeat(200_000);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let raw = f.raw();
        let content = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(
            async move { raw.call("write_file", json!({"path": "t.txt", "content": content})).await },
        ));
    }
    let reader = {
        let raw = f.raw();
        tokio::spawn(async move {
            for _ in 0..40 {
                let r = raw.call("read_file", json!({"path": "t.txt"})).await;
                if let Some(c) = r.result()["structuredContent"]["content"].as_str() {
                    assert!(c.chars().all(|x| x == 'A') || c.chars().all(|x| x == 'B'), "torn read");
                }
            }
        })
    };
    for t in tasks {
        ok(&t.await.unwrap());
    }
    reader.await.unwrap();
    let end = std::fs::read_to_string(f.root().join("t.txt")).unwrap();
    assert!(end == a || end == b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_file_applies_exact_edits_or_none() {
    let f = Fixture::new(true, false).await;
    f.put("code.py", "def f():\n    return 1\n\ndef g():\n    return 1\n");
    let e = err(&f
        .call("edit_file", json!({"path": "code.py", "edits": [{"old_text": "return 1", "new_text": "return 2"}]}))
        .await);
    assert!(e.contains("occurs 2 times"), "{e}");
    let e =
        err(&f.call("edit_file", json!({"path": "code.py", "edits": [{"old_text": "nope", "new_text": "x"}]})).await);
    assert!(e.contains("not found"), "{e}");
    // A failing second edit leaves the file untouched.
    let e = err(&f
        .call(
            "edit_file",
            json!({"path": "code.py", "edits": [
            {"old_text": "def f():", "new_text": "def f0():"},
            {"old_text": "missing", "new_text": "x"}]}),
        )
        .await);
    assert!(e.contains("edit 2"), "{e}");
    assert!(std::fs::read_to_string(f.root().join("code.py")).unwrap().contains("def f():"));
    // Dry run: a diff, no write.
    let r = f
        .call("edit_file", json!({"path": "code.py", "dry_run": true, "edits": [{"old_text": "def g():\n    return 1", "new_text": "def g():\n    return 3"}]}))
        .await;
    let v = ok(&r);
    assert_eq!(v["written"], false);
    let diff = v["diff"].as_str().unwrap();
    assert!(
        diff.contains("--- a/code.py") && diff.contains("-    return 1") && diff.contains("+    return 3"),
        "{diff}"
    );
    assert!(!std::fs::read_to_string(f.root().join("code.py")).unwrap().contains("return 3"));
    let r = f.call("edit_file", json!({"path": "code.py", "edits": [{"old_text": "return 1", "new_text": "return 9", "replace_all": true}]})).await;
    let v = ok(&r);
    assert_eq!((v["written"].as_bool(), v["replacements"].as_u64()), (Some(true), Some(2)));
    assert_eq!(
        std::fs::read_to_string(f.root().join("code.py")).unwrap(),
        "def f():\n    return 9\n\ndef g():\n    return 9\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directories_moves_and_deletes() {
    let f = Fixture::new(true, true).await;
    let r = f.call("create_directory", json!({"path": "x/y/z"})).await;
    assert_eq!(ok(&r)["created"], 3);
    let r = f.call("create_directory", json!({"path": "x/y/z"})).await;
    assert_eq!(ok(&r)["created"], 0);
    assert!(
        err(&f.call("create_directory", json!({"path": "x/y/z", "parents": false})).await).contains("already exists")
    );
    f.put("x/file.txt", "f");
    f.put("other.txt", "o");
    let e = err(&f.call("move", json!({"source": "other.txt", "destination": "x/file.txt"})).await);
    assert!(e.contains("overwrite"), "{e}");
    ok(&f.call("move", json!({"source": "other.txt", "destination": "x/file.txt", "overwrite": true})).await);
    assert_eq!(std::fs::read_to_string(f.root().join("x/file.txt")).unwrap(), "o");
    ok(&f.call("move", json!({"source": "x/y", "destination": "moved"})).await);
    assert!(f.root().join("moved/z").is_dir());
    assert!(
        err(&f.call("move", json!({"source": "moved", "destination": "moved/z/inner"})).await).contains("into itself")
    );
    let e = err(&f.call("delete", json!({"path": "x"})).await);
    assert!(e.contains("recursive"), "{e}");
    assert!(f.root().join("x/file.txt").exists());
    let r = f.call("delete", json!({"path": "x", "recursive": true})).await;
    let v = ok(&r);
    assert_eq!((v["files"].as_u64(), v["directories"].as_u64()), (Some(1), Some(1)));
    assert!(!f.root().join("x").exists());
    ok(&f.call("delete", json!({"path": "moved/z"})).await);
    assert!(err(&f.call("delete", json!({"path": "nothing"})).await).contains("does not exist"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_reports_what_a_step_did() {
    let f = Fixture::new(true, true).await;
    f.put("keep.txt", "k");
    f.put("edit.txt", "before");
    f.put("gone.txt", "g");
    f.put(".gitignore", "build/\n");
    let r = f.call("changes", json!({})).await;
    let v = ok(&r).clone();
    assert_eq!(v["baseline"], true);
    let token = v["token"].as_str().unwrap().to_owned();
    // A "build step" happens outside the server.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(f.root().join("edit.txt"), "after, longer").unwrap();
    std::fs::remove_file(f.root().join("gone.txt")).unwrap();
    f.put("src/new.py", "x");
    f.put("build/artifact.o", "ignored");
    let r = f.call("changes", json!({"since": token})).await;
    let v = ok(&r).clone();
    assert_eq!(v["baseline"], false);
    assert_eq!(v["created"], json!(["src", "src/new.py"]));
    assert_eq!(v["modified"], json!(["edit.txt"]));
    assert_eq!(v["deleted"], json!(["gone.txt"]));
    // The new token is a fresh baseline: nothing changed since.
    let r = f.call("changes", json!({"since": v["token"]})).await;
    let v2 = ok(&r);
    assert!(v2["created"].as_array().unwrap().is_empty() && v2["modified"].as_array().unwrap().is_empty());
    // Same-size rewrites are seen too (ctime/mtime change).
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(f.root().join("keep.txt"), "K").unwrap();
    let r = f.call("changes", json!({"since": v2["token"]})).await;
    assert_eq!(ok(&r)["modified"], json!(["keep.txt"]));
    let e = err(&f.call("changes", json!({"since": "chg-unknown"})).await);
    assert!(e.contains("without `since`"), "{e}");
    std::fs::create_dir(f.root().join("other")).unwrap();
    let e = err(&f.call("changes", json!({"path": "other", "since": v["token"]})).await);
    assert!(e.contains("belongs to"), "{e}");
}
