//! The attack corpus: option injection through names, revisions, paths and
//! URLs; repositories and paths that lead outside the roots; and repositories
//! whose own configuration or hooks try to run programs during network
//! operations. Marker files prove nothing ran.

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use serde_json::json;

use crate::{Fixture, err, git_cmd, git_in, ok};

/// An executable script that creates `marker` when run.
fn evil_script(path: &Path, marker: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\ntouch '{}'\nexit 0\n", marker.display())).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn option_injection_is_refused_everywhere() {
    let f = Fixture::new().await;
    f.repo("r");
    git_in(&f.home(), &f.root(), &["init", "-q", "--bare", "remote.git"]);
    f.git("r", &["remote", "add", "origin", f.root().join("remote.git").to_str().unwrap()]);
    let marker = f.outside().join("pwned");
    let m = marker.display().to_string();
    let up = format!("--upload-pack=touch {m}");
    let calls = vec![
        ("git_clone", json!({"url": up, "path": "c"})),
        ("git_clone", json!({"url": "remote.git", "path": format!("-c core.sshCommand=touch {m}")})),
        ("git_clone", json!({"url": "remote.git", "path": "c2", "branch": up})),
        ("git_fetch", json!({"repo": "r", "remote": up})),
        ("git_fetch", json!({"repo": "r", "refspecs": [up]})),
        ("git_fetch", json!({"repo": "r", "refspecs": ["+--exec=x"]})),
        ("git_pull", json!({"repo": "r", "branch": up})),
        ("git_pull", json!({"repo": "r", "remote": "-c"})),
        ("git_push", json!({"repo": "r", "branch": "--receive-pack=x"})),
        ("git_push", json!({"repo": "r", "remote_branch": "-f"})),
        ("git_diff", json!({"repo": "r", "from": format!("--output={m}")})),
        ("git_diff", json!({"repo": "r", "paths": [format!("--output={m}")]})),
        ("git_log", json!({"repo": "r", "rev": "--all"})),
        ("git_show", json!({"repo": "r", "rev": format!("--output={m}")})),
        ("git_checkout", json!({"repo": "r", "target": "-b"})),
        ("git_checkout", json!({"repo": "r", "target": "x", "create": true, "base": "--orphan"})),
        ("git_branch", json!({"repo": "r", "action": "create", "name": "-D"})),
        ("git_branch", json!({"repo": "r", "action": "create", "name": "ok", "base": "--all"})),
        ("git_tag", json!({"repo": "r", "action": "create", "name": "--delete"})),
        ("git_merge", json!({"repo": "r", "rev": "--abort"})),
        ("git_blame", json!({"repo": "r", "path": "-L1,2"})),
        ("git_add", json!({"repo": "r", "paths": [up]})),
        ("git_reset", json!({"repo": "r", "target": "--hard"})),
        ("git_reset", json!({"repo": "r", "paths": ["-q"]})),
        ("git_remote", json!({"repo": "r", "action": "add", "name": "-c", "url": "https://h/x"})),
        ("git_remote", json!({"repo": "r", "action": "add", "name": "x", "url": up})),
        ("git_reflog", json!({"repo": "r", "reference": "--all"})),
        ("git_init", json!({"repo": "-c"})),
        ("git_status", json!({"repo": "--git-dir=/"})),
    ];
    for (tool, args) in calls {
        let e = err(&f.call(tool, args.clone()).await);
        assert!(e.contains("'-'"), "{tool} {args}: expected a leading '-' refusal, got {e}");
    }
    // Whitespace, NUL and control characters in names.
    for name in ["a b", "a\u{0}b", "a\nb", "a..b", "x.lock"] {
        let e = err(&f.call("git_branch", json!({"repo": "r", "action": "create", "name": name})).await);
        assert!(e.contains("branch name") || e.contains("NUL"), "{name:?}: {e}");
    }
    assert!(!marker.exists(), "an injected command ran");
    assert_eq!(f.git("r", &["branch", "--format=%(refname:short)"]), "main\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repositories_and_paths_outside_the_roots_are_refused() {
    let f = Fixture::new().await;
    f.repo("r");
    // A real repository outside the root, reachable several ways.
    let out_repo = f.outside().join("repo");
    std::fs::create_dir(&out_repo).unwrap();
    git_in(&f.home(), &out_repo, &["init", "-q"]);
    std::fs::write(f.outside().join("secret.txt"), "TOP-SECRET").unwrap();
    symlink(&out_repo, f.root().join("link")).unwrap();
    // A work tree whose .git file points outside.
    std::fs::create_dir(f.root().join("gitfile")).unwrap();
    std::fs::write(f.root().join("gitfile/.git"), format!("gitdir: {}\n", out_repo.join(".git").display())).unwrap();
    // A repository whose core.worktree points outside.
    f.repo("wt");
    f.git("wt", &["config", "core.worktree", f.outside().to_str().unwrap()]);
    // A folder inside the root that is not a repository, inside a repository: no upward search.
    std::fs::create_dir(f.root().join("r/sub")).unwrap();

    for (repo, why) in [
        ("../outside/repo", ".."),
        (out_repo.to_str().unwrap(), "outside the allowed roots"),
        ("/etc", "outside the allowed roots"),
        ("link", "outside the allowed roots"),
        ("gitfile", "outside the allowed roots"),
        ("wt", "outside the allowed roots"),
        ("r/sub", "not a git repository"),
        ("nope", "does not exist"),
    ] {
        for (tool, extra) in [("git_status", json!({})), ("git_log", json!({})), ("git_add", json!({"all": true}))] {
            let mut args = extra.clone();
            args["repo"] = json!(repo);
            let e = err(&f.call(tool, args).await);
            assert!(e.contains(why), "{tool} {repo:?}: expected {why:?} in {e}");
        }
    }
    let e = err(&f.call("git_init", json!({"repo": "../outside/new"})).await);
    assert!(e.contains(".."), "{e}");
    let e = err(&f.call("git_init", json!({"repo": f.outside().join("new").display().to_string()})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    let e = err(&f.call("git_init", json!({"repo": "link/inner"})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    assert!(!f.outside().join("new").exists() && !out_repo.join("inner").exists());
    let e = err(&f.call("git_clone", json!({"url": "r", "path": "../outside/c"})).await);
    assert!(e.contains(".."), "{e}");

    // Paths inside the work tree: no '..', no absolute paths, no .git, no symlinked parents leading out.
    symlink(f.outside(), f.root().join("r/out")).unwrap();
    for (p, why) in [
        ("../../outside/secret.txt", ".."),
        ("/etc/passwd", "absolute"),
        (".git/config", ".git"),
        ("out/secret.txt", "outside the work tree"),
    ] {
        for (tool, args) in [
            ("git_add", json!({"repo": "r", "paths": [p]})),
            ("git_diff", json!({"repo": "r", "paths": [p]})),
            ("git_reset", json!({"repo": "r", "paths": [p]})),
            ("git_log", json!({"repo": "r", "path": p})),
        ] {
            let r = f.call(tool, args).await;
            let e = err(&r);
            assert!(e.contains(why), "{tool} {p:?}: expected {why:?} in {e}");
            assert!(!r.text.contains("TOP-SECRET"));
        }
    }
    assert!(err(&f.call("git_blame", json!({"repo": "r", "path": "../x"})).await).contains(".."));
    assert_eq!(f.git("r", &["status", "--porcelain", "--untracked-files=no"]), "", "nothing was staged");
}

/// A clone inside the root whose `.git/config` and hooks try to run programs.
fn booby_trapped(f: &Fixture, marker_dir: &Path) {
    git_in(&f.home(), &f.root(), &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let bare = f.root().join("remote.git");
    f.repo("seed");
    f.git("seed", &["push", "-q", bare.to_str().unwrap(), "main"]);
    git_in(&f.home(), &f.root(), &["clone", "-q", bare.to_str().unwrap(), "trap"]);
    let trap = f.root().join("trap");
    let fsmon = marker_dir.join("fsmonitor.sh");
    evil_script(&fsmon, &marker_dir.join("fsmonitor-ran"));
    let ssh = marker_dir.join("ssh.sh");
    evil_script(&ssh, &marker_dir.join("sshcommand-ran"));
    git_in(&f.home(), &trap, &["config", "core.fsmonitor", fsmon.to_str().unwrap()]);
    git_in(&f.home(), &trap, &["config", "core.sshCommand", ssh.to_str().unwrap()]);
    git_in(&f.home(), &trap, &["config", "credential.helper", &format!("!{}", ssh.display())]);
    for hook in ["pre-push", "post-merge", "post-checkout", "reference-transaction", "pre-auto-gc", "post-rewrite"] {
        evil_script(&trap.join(".git/hooks").join(hook), &marker_dir.join(format!("hook-{hook}-ran")));
    }
    // The remote's own hooks run inside receive-pack, which git starts locally for file:// remotes.
    for hook in ["pre-receive", "update", "post-receive", "post-update", "reference-transaction"] {
        evil_script(&bare.join("hooks").join(hook), &marker_dir.join(format!("remote-hook-{hook}-ran")));
    }
}

fn markers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with("-ran"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repositorys_config_and_hooks_never_run_during_network_operations() {
    let f = Fixture::new().await;
    let marker_dir = f.outside().join("markers");
    std::fs::create_dir(&marker_dir).unwrap();
    booby_trapped(&f, &marker_dir);

    // Upstream moves on (plain git, so the remote's hooks run here: that proves they are real).
    f.put("seed/a.txt", "changed upstream\n");
    f.git("seed", &["commit", "-q", "-am", "upstream"]);
    f.git("seed", &["push", "-q", f.root().join("remote.git").to_str().unwrap(), "main"]);
    assert!(marker_dir.join("remote-hook-pre-receive-ran").exists());

    // Sanity: the traps are real. Plain git in a copy runs the fsmonitor and hooks.
    let copy = f.dir.path().join("copy");
    let cp = std::process::Command::new("cp").args(["-a"]).arg(f.root().join("trap")).arg(&copy).status().unwrap();
    assert!(cp.success());
    let _ = git_cmd(&f.home(), &copy, &["status"]).output().unwrap();
    let _ = git_cmd(&f.home(), &copy, &["commit", "-q", "--allow-empty", "-m", "x"]).output().unwrap();
    git_in(&f.home(), &copy, &["remote", "add", "sshy", "ssh://git@127.0.0.1:1/x.git"]);
    let _ = git_cmd(&f.home(), &copy, &["fetch", "-q", "sshy"]).output().unwrap();
    let sanity = markers(&marker_dir);
    assert!(sanity.iter().any(|m| m == "sshcommand-ran"), "plain git ran no core.sshCommand: {sanity:?}");
    assert!(sanity.iter().any(|m| m == "fsmonitor-ran"), "plain git ran no fsmonitor: {sanity:?}");
    assert!(sanity.iter().any(|m| m == "hook-reference-transaction-ran"), "plain git ran no hook: {sanity:?}");
    for m in sanity {
        std::fs::remove_file(marker_dir.join(m)).unwrap();
    }
    std::fs::remove_dir_all(&copy).unwrap();

    // Through the server: every network operation succeeds and nothing runs.
    ok(&f.call("git_fetch", json!({"repo": "trap"})).await);
    let v = ok(&f.call("git_pull", json!({"repo": "trap"})).await).clone();
    assert_eq!(v["status"], "fast_forward");
    f.put("trap/b.txt", "b\n");
    ok(&f.call("git_add", json!({"repo": "trap", "all": true})).await);
    ok(&f.call("git_commit", json!({"repo": "trap", "message": "b"})).await);
    ok(&f.call("git_checkout", json!({"repo": "trap", "target": "side", "create": true})).await);
    ok(&f.call("git_push", json!({"repo": "trap", "set_upstream": true})).await);
    ok(&f.call("git_checkout", json!({"repo": "trap", "target": "main"})).await);
    ok(&f.call("git_push", json!({"repo": "trap"})).await);
    ok(&f.call("git_status", json!({"repo": "trap"})).await);
    ok(&f.call("git_clone", json!({"url": "trap", "path": "trap-clone"})).await);
    ok(&f.call("git_clone", json!({"url": "remote.git", "path": "remote-clone"})).await);
    // An ssh remote: git uses the server's ssh command, never the repository's core.sshCommand.
    f.git("trap", &["remote", "add", "sshy", "ssh://git@127.0.0.1:1/x.git"]);
    let e = err(&f.call("git_fetch", json!({"repo": "trap", "remote": "sshy"})).await);
    assert!(e.contains("git fetch failed"), "{e}");
    assert_eq!(markers(&marker_dir), Vec::<String>::new(), "a repository's config or hook ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_that_cannot_be_neutralised_is_refused_before_any_network_call() {
    let f = Fixture::new().await;
    let marker = f.outside().join("pwned");
    let m = marker.display().to_string();
    git_in(&f.home(), &f.root(), &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    f.repo("r");
    f.git("r", &["remote", "add", "origin", f.root().join("remote.git").to_str().unwrap()]);
    ok(&f.call("git_push", json!({"repo": "r"})).await);
    for (key, value) in [
        ("remote.origin.uploadpack", format!("touch {m}; git-upload-pack")),
        ("remote.origin.receivepack", format!("touch {m}; git-receive-pack")),
        ("url./tmp/elsewhere.insteadOf", f.root().join("remote.git").display().to_string()),
        ("core.gitProxy", format!("touch {m}")),
        ("filter.evil.smudge", format!("touch {m}")),
        ("merge.evil.driver", format!("touch {m}")),
        ("http.proxy", "http://127.0.0.1:9".to_owned()),
        // URL-specific http keys beat the server's general overrides for that URL: redirects re-enabled
        // would carry the token to another host.
        ("http.https://example.test/.followRedirects", "true".to_owned()),
        ("http.http://127.0.0.1/.extraHeader", "X-Evil: 1".to_owned()),
    ] {
        f.git("r", &["config", key, &value]);
        for (tool, args) in [
            ("git_fetch", json!({"repo": "r"})),
            ("git_pull", json!({"repo": "r"})),
            ("git_push", json!({"repo": "r"})),
        ] {
            let e = err(&f.call(tool, args).await);
            assert!(
                e.contains("refused by policy") && e.to_lowercase().contains(&key.to_lowercase()),
                "{tool} {key}: {e}"
            );
        }
        f.git("r", &["config", "--unset", key]);
    }
    // An include pulling the same in from a file is seen too.
    std::fs::write(f.root().join("r/inc.cfg"), format!("[remote \"origin\"]\n\tuploadpack = touch {m}\n")).unwrap();
    f.git("r", &["config", "include.path", "../inc.cfg"]);
    let e = err(&f.call("git_fetch", json!({"repo": "r"})).await);
    assert!(e.contains("uploadpack"), "{e}");
    f.git("r", &["config", "--unset", "include.path"]);
    // ext:: and other helper transports written straight into the config.
    f.git("r", &["remote", "set-url", "origin", &format!("ext::sh -c touch% {m}")]);
    let e = err(&f.call("git_fetch", json!({"repo": "r"})).await);
    assert!(e.contains("never allows"), "{e}");
    assert!(!marker.exists(), "a configured command ran");
    // After cleaning up, it works again.
    f.git("r", &["remote", "set-url", "origin", f.root().join("remote.git").to_str().unwrap()]);
    ok(&f.call("git_fetch", json!({"repo": "r"})).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_is_fixed_and_hosts_are_rechecked_at_network_time() {
    let f = Fixture::with(|c| {
        c.allowed_schemes = vec!["https".into()];
        c.allowed_hosts = vec!["git.example.com".into()];
    })
    .await;
    f.repo("r");
    // Written behind the server's back (the fs server could do this): still checked before git runs.
    f.git("r", &["remote", "add", "origin", "https://evil.example.org/x.git"]);
    let e = err(&f.call("git_fetch", json!({"repo": "r"})).await);
    assert!(e.contains("GIT_ALLOWED_REMOTE_HOSTS"), "{e}");
    f.git("r", &["remote", "set-url", "--push", "origin", "git://git.example.com/x.git"]);
    f.git("r", &["remote", "set-url", "origin", "https://git.example.com/x.git"]);
    let e = err(&f.call("git_push", json!({"repo": "r"})).await);
    assert!(e.contains("\"git\" scheme is not allowed"), "push checks the push URL: {e}");
    let e = err(&f.call("git_clone", json!({"url": "git@evil.example.org:x.git", "path": "c"})).await);
    assert!(e.contains("ssh") || e.contains("not allowed"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trees_that_write_through_a_symlink_do_not_escape() {
    let f = Fixture::new().await;
    f.repo("r");
    let out = f.outside().display().to_string();
    // A commit whose tree has `link` both as a symlink to the outside folder and as a folder holding pwned.txt.
    let h = |args: &[&str], input: &str| -> String {
        let mut c = git_cmd(&f.home(), &f.root().join("r"), args);
        c.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success());
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    };
    let blob = h(&["hash-object", "-w", "--stdin"], "PWNED\n");
    let link = h(&["hash-object", "-w", "--stdin"], &out);
    let a = f.git("r", &["rev-parse", "HEAD:a.txt"]).trim().to_owned();
    let sub = h(&["mktree"], &format!("100644 blob {blob}\tpwned.txt\n"));
    let tree = h(&["mktree"], &format!("100644 blob {a}\ta.txt\n120000 blob {link}\tlink\n040000 tree {sub}\tlink\n"));
    let c = f.git("r", &["commit-tree", &tree, "-p", "HEAD", "-m", "evil"]).trim().to_owned();
    f.git("r", &["branch", "evil", &c]);
    let _ = f.call("git_checkout", json!({"repo": "r", "target": "evil"})).await;
    let _ = f.call("git_checkout", json!({"repo": "r", "target": "evil", "force": true})).await;
    let _ = f.call("git_checkout", json!({"repo": "r", "target": "main", "force": true})).await;
    let _ = f.call("git_merge", json!({"repo": "r", "rev": "evil"})).await;
    let _ = f.call("git_reset", json!({"repo": "r", "mode": "hard", "target": "evil", "confirm": true})).await;
    // Two steps: a commit with the symlink, then a child where `link` is a folder.
    let t1 = h(&["mktree"], &format!("100644 blob {a}\ta.txt\n120000 blob {link}\tlink\n"));
    let c1 = f.git("r", &["commit-tree", &t1, "-p", "main", "-m", "link"]).trim().to_owned();
    let t2 = h(&["mktree"], &format!("100644 blob {a}\ta.txt\n040000 tree {sub}\tlink\n"));
    let c2 = f.git("r", &["commit-tree", &t2, "-p", &c1, "-m", "folder"]).trim().to_owned();
    f.git("r", &["branch", "step1", &c1]);
    f.git("r", &["branch", "step2", &c2]);
    ok(&f.call("git_checkout", json!({"repo": "r", "target": "step1", "force": true})).await);
    let _ = f.call("git_checkout", json!({"repo": "r", "target": "step2"})).await;
    ok(&f.call("git_checkout", json!({"repo": "r", "target": "step1", "force": true})).await);
    let _ = f.call("git_merge", json!({"repo": "r", "rev": "step2"})).await;
    assert!(!f.outside().join("pwned.txt").exists(), "a checkout wrote through a symlink outside the root");
}

/// Object stores outside the roots: alternates, a symlinked `objects`
/// folder and HTTP alternates make a repository under the roots read (and
/// clone or fetch hand out) objects from elsewhere; each is refused on open
/// and as a local clone source, and nothing from outside is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_stores_outside_the_roots_are_refused() {
    let f = Fixture::new().await;
    // A repository outside the roots holding a secret commit.
    let out_repo = f.outside().join("secret-repo");
    std::fs::create_dir(&out_repo).unwrap();
    git_in(&f.home(), &out_repo, &["init", "-q", "-b", "main"]);
    std::fs::write(out_repo.join("secret.txt"), "TOP-SECRET").unwrap();
    git_in(&f.home(), &out_repo, &["add", "."]);
    git_in(&f.home(), &out_repo, &["-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "secret"]);
    let secret_head = git_in(&f.home(), &out_repo, &["rev-parse", "HEAD"]).trim().to_owned();

    // 1. Alternates pointing at it.
    f.repo("alt");
    std::fs::write(
        f.root().join("alt/.git/objects/info/alternates"),
        format!("{}\n", out_repo.join(".git/objects").display()),
    )
    .unwrap();
    // 2. Alternates nested: an alternate inside the roots whose own alternates point out.
    f.repo("hop");
    f.repo("nested");
    std::fs::write(
        f.root().join("hop/.git/objects/info/alternates"),
        format!("{}\n", out_repo.join(".git/objects").display()),
    )
    .unwrap();
    std::fs::write(
        f.root().join("nested/.git/objects/info/alternates"),
        format!("{}\n", f.root().join("hop/.git/objects").display()),
    )
    .unwrap();
    // 3. A symlinked object store.
    f.repo("linked");
    std::fs::remove_dir_all(f.root().join("linked/.git/objects")).unwrap();
    symlink(out_repo.join(".git/objects"), f.root().join("linked/.git/objects")).unwrap();
    // 4. HTTP alternates.
    f.repo("http");
    std::fs::write(f.root().join("http/.git/objects/info/http-alternates"), "https://evil.example/objects\n").unwrap();

    for (repo, why) in [
        ("alt", "outside the allowed roots"),
        ("nested", "outside the allowed roots"),
        ("linked", "outside the allowed roots"),
        ("http", "HTTP alternates"),
    ] {
        for (tool, args) in [
            ("git_log", json!({"repo": repo})),
            ("git_show", json!({"repo": repo, "rev": secret_head})),
            ("git_status", json!({"repo": repo})),
        ] {
            let r = f.call(tool, args).await;
            let e = err(&r);
            assert!(e.contains(why), "{tool} {repo}: expected {why:?} in {e}");
            assert!(!r.text.contains("TOP-SECRET"));
        }
        // As a local clone source.
        let e = err(&f.call("git_clone", json!({"url": repo, "path": format!("copy-of-{repo}")})).await);
        assert!(e.contains(why), "clone from {repo}: {e}");
        assert!(!f.root().join(format!("copy-of-{repo}")).exists());
    }
    // A local clone source whose .git is a file or a symlink leading outside.
    std::fs::create_dir(f.root().join("gitfile")).unwrap();
    std::fs::write(f.root().join("gitfile/.git"), format!("gitdir: {}\n", out_repo.join(".git").display())).unwrap();
    std::fs::create_dir(f.root().join("gitlink")).unwrap();
    symlink(out_repo.join(".git"), f.root().join("gitlink/.git")).unwrap();
    for source in ["gitfile", "gitlink"] {
        let e = err(&f.call("git_clone", json!({"url": source, "path": format!("copy-of-{source}")})).await);
        assert!(e.contains("outside the allowed roots"), "clone from {source}: {e}");
    }
    // Alternates inside the roots are fine.
    f.repo("base");
    f.repo("shared");
    std::fs::write(
        f.root().join("shared/.git/objects/info/alternates"),
        format!("{}\n", f.root().join("base/.git/objects").display()),
    )
    .unwrap();
    ok(&f.call("git_log", json!({"repo": "shared"})).await);
}

/// A protected branch is deleted, renamed or overwritten only with
/// `confirm`, whatever the form (force included).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_branches_need_confirm_in_every_destructive_form() {
    let f = Fixture::new().await;
    f.repo("r");
    f.git("r", &["branch", "feature"]);
    f.git("r", &["checkout", "-q", "feature"]);
    for args in [
        json!({"repo": "r", "action": "delete", "name": "main"}),
        json!({"repo": "r", "action": "delete", "name": "main", "force": true}),
        json!({"repo": "r", "action": "rename", "name": "main", "new_name": "old-main"}),
        json!({"repo": "r", "action": "rename", "name": "feature", "new_name": "main", "force": true}),
    ] {
        let e = err(&f.call("git_branch", args.clone()).await);
        assert!(e.contains("protected") && e.contains("confirm"), "{args}: {e}");
    }
    assert!(f.git("r", &["branch", "--format=%(refname:short)"]).contains("main"));
    ok(&f
        .call("git_branch", json!({"repo": "r", "action": "delete", "name": "main", "force": true, "confirm": true}))
        .await);
    assert!(!f.git("r", &["branch", "--format=%(refname:short)"]).contains("main"));
}

/// git_blame is capped in bytes like git_diff: long lines stop the answer
/// at the cap, and it says where to go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blame_is_capped_in_bytes() {
    let f = Fixture::with(|c| c.max_diff_bytes = 64 << 10).await;
    f.repo("r");
    let long = "x".repeat(10_000);
    f.put("r/big.txt", (0..100).map(|_| long.as_str()).collect::<Vec<_>>().join("\n"));
    f.git("r", &["add", "big.txt"]);
    f.git("r", &["-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "big"]);
    let r = f.call("git_blame", json!({"repo": "r", "path": "big.txt"})).await;
    let v = ok(&r);
    assert_eq!(v["truncated"], true, "{}", r.text.len());
    let n = v["lines"].as_array().unwrap().len();
    assert!((1..100).contains(&n), "{n} lines");
    assert!(r.text.len() < 200_000, "{} bytes", r.text.len());
    assert!(r.text.contains(&format!("start_line {}", n + 1)), "says where to go on");
}
