//! The bypass corpus: every known way around an allow-list, each refused with
//! a clear reason, and nothing executed.

use std::os::unix::fs::symlink;

use serde_json::json;

use crate::{Fixture, err, exists};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bypass_corpus_is_refused() {
    let f = Fixture::new().await;
    let marker = f.dir.path().join("outside/pwned");
    let m = marker.display().to_string();
    // A symlink in the project that points to a denied binary, and a script
    // named like an allowed program that PATH tricks would pick up.
    symlink("/usr/bin/curl", f.root().join("innocent")).unwrap();
    symlink("/bin/sh", f.root().join("ls")).unwrap();
    f.put("bin/echo", "#!/bin/sh\ntouch PWNED\n");
    let cases: Vec<(serde_json::Value, &str)> = vec![
        (json!({"argv": ["/usr/bin/touch", m]}), "not allowed"),
        (json!({"argv": ["/bin/sh", "-c", format!("touch {m}")]}), "interpreter"),
        (json!({"argv": ["sh", "-c", format!("touch {m}")]}), "interpreter"),
        (json!({"argv": ["bash", "-c", "id"]}), "interpreter"),
        (json!({"argv": ["echo", format!("$(touch {m})")]}), "command substitution"),
        (json!({"argv": ["echo", format!("`touch {m}`")]}), "backtick"),
        (json!({"argv": ["echo", "x\ntouch pwned"]}), "line break"),
        (json!({"argv": ["cat", "<(touch pwned)"]}), "process substitution"),
        (json!({"argv": ["echo", "${PATH}"]}), "parameter expansion"),
        (json!({"argv": ["/usr/bin/c?rl", "x"]}), "does not exist"),
        (json!({"argv": ["/usr/bin/*", "x"]}), "does not exist"),
        (json!({"argv": ["\"touch\"", m]}), "not an allowed program"),
        (json!({"argv": ["t'o'uch", m]}), "not an allowed program"),
        (json!({"argv": ["env", "X=1", "touch", m]}), "runs other programs"),
        (json!({"argv": ["/usr/bin/env", "touch", m]}), "runs other programs"),
        (json!({"argv": ["./innocent", "http://example.com"]}), "not allowed"),
        (json!({"argv": ["./ls", "-c", "id"]}), "interpreter"),
        (json!({"argv": ["echo", "hi"], "env": {"PATH": f.root().join("bin").display().to_string()}}), "PATH"),
        (json!({"argv": ["echo", "hi"], "env": {"LD_PRELOAD": "/tmp/evil.so"}}), "LD_PRELOAD"),
        (json!({"argv": ["find", ".", "-exec", "touch", m, ";"]}), "-exec"),
        (json!({"argv": ["find", ".", "-delete"]}), "-delete"),
        (json!({"argv": ["tar", format!("--to-command=touch {m}"), "-xf", "x.tar"]}), "--to-command"),
        (
            json!({"argv": ["tar", "--checkpoint=1", format!("--checkpoint-action=exec=touch {m}"), "-cf", "/dev/null", "."]}),
            "--checkpoint-action",
        ),
        (json!({"argv": ["git", "-c", format!("core.sshCommand=touch {m}"), "status"]}), "global git options"),
        (json!({"argv": ["git", "--upload-pack=touch x", "status"]}), "global git options"),
        (json!({"argv": ["git", "log", format!("--output={m}")]}), "--output"),
        (json!({"argv": ["git", "push", "origin", "main"]}), "read-only subcommands"),
        (json!({"argv": ["python3", "-c", format!("open('{m}','w')")]}), "inline code"),
        (json!({"argv": ["python3", "-Bc", "import os"]}), "inline code"),
        (json!({"argv": ["python3", "-m", "http.server"]}), "only these modules"),
        (json!({"argv": ["python3", "-i"]}), "interactive"),
        (json!({"argv": []}), "empty"),
        (json!({"argv": ["echo", "hi"], "cwd": "/etc"}), "outside the allowed roots"),
        (json!({"argv": ["echo", "hi"], "cwd": "../outside"}), "outside the allowed roots"),
        (json!({"command": format!("touch {m}")}), "disabled"),
        (json!({"argv": ["echo"], "command": "echo"}), "exactly one"),
        (json!({"argv": ["echo", "hi"], "host": "anywhere"}), "unknown host"),
    ];
    for (args, why) in cases {
        let e = err(&f.call("run", args.clone()).await);
        assert!(
            e.contains("refused by policy") || e.contains("invalid argument") || e.contains("not found"),
            "{args}: {e}"
        );
        assert!(e.contains(why), "{args}: expected {why:?} in {e:?}");
    }
    assert!(!exists(&marker), "a refused command ran");
    assert!(!exists(&f.root().join("PWNED")));
    // Refusals are counted as tool errors, and each left an audit line.
    let logs = mcp_test::telemetry::logs();
    assert!(logs.iter().any(|l| l.contains("command refused") && l.contains("\"decision\":\"refused\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_strings_are_parsed_here_and_checked_word_by_word() {
    let f = Fixture::with(|c| c.command_strings = true).await;
    let m = f.dir.path().join("outside/pwned").display().to_string();
    for (line, why) in [
        (format!("echo $(touch {m})"), "`$`"),
        (format!("echo `touch {m}`"), "backtick"),
        (format!("echo hi; touch {m}"), "which is not allowed"),
        (format!("echo hi && sh -c 'touch {m}'"), "interpreter"),
        (format!("echo hi > {m}"), "redirection"),
        (format!("X=1 touch {m}"), "assignments"),
        ("ls *.py".to_owned(), "glob"),
        ("echo hi &".to_owned(), "background"),
        (format!("echo hi\ntouch {m}"), "line break"),
        ("cat <(ls)".to_owned(), "redirection"),
        ("echo a | env sh".to_owned(), "runs other programs"),
    ] {
        let e = err(&f.call("run", json!({"command": line})).await);
        assert!(e.contains(why), "{line:?}: expected {why:?} in {e:?}");
    }
    assert!(!exists(&f.dir.path().join("outside/pwned")));
}
