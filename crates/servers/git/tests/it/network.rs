//! Network operations against real remotes on loopback: a bare repository
//! inside the roots (file://), `git daemon` (git://) and smart HTTP
//! (`git http-backend` behind a token-checking test server): clone, shallow
//! clone, push, pull, conflicts, protected branches, credentials and their
//! redaction, timeouts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::{Fixture, err, git_in, ok, text};

/// A bare repository `<dir>/<name>` with a few commits on main (and a `release/1` branch).
fn seeded_bare(home: &Path, dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    git_in(home, dir, &["init", "-q", "--bare", "-b", "main", name]);
    let seed = tempfile::tempdir().unwrap();
    let s = seed.path();
    git_in(home, s, &["init", "-q", "-b", "main"]);
    for i in 1..=3 {
        std::fs::write(s.join("a.txt"), format!("one\ntwo\nthree\nv{i}\n")).unwrap();
        git_in(home, s, &["add", "a.txt"]);
        git_in(home, s, &["commit", "-q", "-m", &format!("commit {i}")]);
    }
    git_in(home, s, &["branch", "release/1"]);
    let bare = dir.join(name);
    git_in(home, s, &["push", "-q", bare.to_str().unwrap(), "main", "release/1"]);
    bare
}

fn rev(home: &Path, dir: &Path, r: &str) -> String {
    git_in(home, dir, &["rev-parse", r]).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_remote_clone_push_pull_conflict_and_protected_branches() {
    let f = Fixture::with(|c| c.protected_branches = vec!["main".into(), "release/*".into()]).await;
    let bare = seeded_bare(&f.home(), &f.root(), "remote.git");

    // Clone by relative path and by file:// URL.
    let v = ok(&f.call("git_clone", json!({"url": "remote.git", "path": "work"})).await).clone();
    assert_eq!(v["branch"], "main");
    assert_eq!(v["shallow"], false);
    assert_eq!(v["url"], format!("file://{}", bare.display()));
    let url = format!("file://{}", bare.display());
    ok(&f.call("git_clone", json!({"url": url, "path": "work2"})).await);
    let e = err(&f.call("git_clone", json!({"url": url, "path": "work2"})).await);
    assert!(e.contains("not empty"), "{e}");
    // A branch that exists only on the remote is checked out as a new tracking branch.
    let v = ok(&f.call("git_checkout", json!({"repo": "work2", "target": "release/1"})).await).clone();
    assert_eq!((v["created"].as_bool(), v["tracking"].as_str()), (Some(true), Some("origin/release/1")));
    ok(&f.call("git_checkout", json!({"repo": "work2", "target": "main"})).await);
    let v = ok(&f.call("git_branch", json!({"repo": "work2", "remotes": true})).await).clone();
    assert!(v["branches"].as_array().unwrap().iter().any(|b| b["name"] == "origin/main" && b["kind"] == "remote"));

    // Commit and push; pull it into the other clone.
    f.put("work/new.txt", "new\n");
    ok(&f.call("git_add", json!({"repo": "work", "all": true})).await);
    ok(&f.call("git_commit", json!({"repo": "work", "message": "add new"})).await);
    let r = f.call("git_push", json!({"repo": "work"})).await;
    let v = ok(&r).clone();
    assert_eq!(v["refs"][0]["status"], "fast_forward", "{v}");
    assert_eq!(rev(&f.home(), &bare, "main"), rev(&f.home(), &f.root().join("work"), "HEAD"));
    let v = ok(&f.call("git_pull", json!({"repo": "work2"})).await).clone();
    assert_eq!(v["status"], "fast_forward");
    assert!(f.root().join("work2/new.txt").exists());
    let v = ok(&f.call("git_pull", json!({"repo": "work2"})).await).clone();
    assert_eq!(v["status"], "up_to_date");

    // Fetch reports what moved.
    f.put("work/a.txt", "one\nW1\nthree\n");
    ok(&f.call("git_commit", json!({"repo": "work", "message": "w1", "all": true})).await);
    ok(&f.call("git_push", json!({"repo": "work"})).await);
    let v = ok(&f.call("git_fetch", json!({"repo": "work2"})).await).clone();
    let updated = v["updated"].as_array().unwrap();
    assert!(updated.iter().any(|u| u["reference"] == "refs/remotes/origin/main"), "{v}");
    let v = ok(&f.call("git_status", json!({"repo": "work2"})).await).clone();
    assert_eq!((v["upstream"].as_str(), v["behind"].as_u64()), (Some("origin/main"), Some(1)));

    // Diverge: the default (fast-forward only) pull refuses, a merging pull reports the conflict.
    f.put("work2/a.txt", "one\nW2\nthree\n");
    ok(&f.call("git_commit", json!({"repo": "work2", "message": "w2", "all": true})).await);
    let e = err(&f.call("git_pull", json!({"repo": "work2"})).await);
    assert!(e.contains("diverged") && e.contains("ff_only: false"), "{e}");
    let r = f.call("git_pull", json!({"repo": "work2", "ff_only": false})).await;
    let v = ok(&r).clone();
    assert_eq!(v["status"], "conflicts", "{v}");
    assert_eq!(v["conflicts"][0]["path"], "a.txt");
    assert_eq!(v["conflicts"][0]["hunks"][0]["ours"], "W2\n");
    assert_eq!(v["conflicts"][0]["hunks"][0]["theirs"], "W1\n");
    ok(&f.call("git_merge", json!({"repo": "work2", "action": "abort"})).await);
    assert_eq!(f.read("work2/a.txt"), "one\nW2\nthree\n");

    // A plain push of a diverged branch is rejected with advice.
    let e = err(&f.call("git_push", json!({"repo": "work2"})).await);
    assert!(e.contains("rejected") && e.contains("git_pull"), "{e}");
    // Force on the protected main: refused without confirm, nothing pushed.
    let before = rev(&f.home(), &bare, "main");
    let e = err(&f.call("git_push", json!({"repo": "work2", "force": true})).await);
    assert!(e.contains("protected") && e.contains("confirm: true"), "{e}");
    assert_eq!(rev(&f.home(), &bare, "main"), before);
    // With confirm it is a force-with-lease, which succeeds since work2 has fetched the current tip.
    let v = ok(&f.call("git_push", json!({"repo": "work2", "force": true, "confirm": true})).await).clone();
    assert_eq!(v["refs"][0]["status"], "forced", "{v}");
    assert_eq!(rev(&f.home(), &bare, "main"), rev(&f.home(), &f.root().join("work2"), "HEAD"));
    // The lease protects against overwriting work we have not seen.
    f.put("work/late.txt", "late\n");
    ok(&f.call("git_add", json!({"repo": "work", "all": true})).await);
    ok(&f.call("git_commit", json!({"repo": "work", "message": "late"})).await);
    let e = err(&f.call("git_push", json!({"repo": "work", "force": true, "confirm": true})).await);
    assert!(e.contains("rejected"), "{e}");

    // Branches: set upstream, delete an unprotected branch, protected deletion needs confirm.
    ok(&f.call("git_checkout", json!({"repo": "work2", "target": "feature", "create": true})).await);
    let v = ok(&f.call("git_push", json!({"repo": "work2", "set_upstream": true})).await).clone();
    assert_eq!(v["upstream"], "origin/feature");
    assert_eq!(v["refs"][0]["status"], "new");
    assert_eq!(ok(&f.call("git_status", json!({"repo": "work2"})).await)["upstream"], "origin/feature");
    let v = ok(&f.call("git_push", json!({"repo": "work2", "branch": "feature", "delete": true})).await).clone();
    assert_eq!(v["refs"][0]["status"], "deleted");
    let e = err(&f.call("git_push", json!({"repo": "work2", "remote_branch": "release/1", "delete": true})).await);
    assert!(e.contains("protected") && e.contains("deleting"), "{e}");
    assert!(git_in(&f.home(), &bare, &["branch"]).contains("release/1"));
    ok(&f
        .call("git_push", json!({"repo": "work2", "remote_branch": "release/1", "delete": true, "confirm": true}))
        .await);
    assert!(!git_in(&f.home(), &bare, &["branch"]).contains("release/1"));
    // Tags go with tags: true.
    ok(&f.call("git_tag", json!({"repo": "work2", "action": "create", "name": "v1", "message": "one"})).await);
    ok(&f.call("git_push", json!({"repo": "work2", "tags": true})).await);
    assert_eq!(git_in(&f.home(), &bare, &["tag"]), "v1\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_remotes_outside_the_roots_or_disallowed_are_refused() {
    let f = Fixture::new().await;
    let outside = seeded_bare(&f.home(), &f.outside(), "o.git");
    let e = err(&f.call("git_clone", json!({"url": outside.display().to_string(), "path": "x"})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    let e = err(&f.call("git_clone", json!({"url": format!("file://{}", outside.display()), "path": "x"})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    // A remote set behind the server's back is checked again at fetch time.
    f.repo("r");
    f.git("r", &["remote", "add", "origin", outside.to_str().unwrap()]);
    let e = err(&f.call("git_fetch", json!({"repo": "r"})).await);
    assert!(e.contains("outside the allowed roots"), "{e}");
    f.git("r", &["remote", "set-url", "origin", "o.git"]);
    let e = err(&f.call("git_fetch", json!({"repo": "r"})).await);
    assert!(e.contains("relative path"), "{e}");
    let e = err(&f.call("git_fetch", json!({"repo": "r", "remote": "nope"})).await);
    assert!(e.contains("no remote named"), "{e}");

    // With the default schemes, file is not allowed at all.
    let g = Fixture::with(|c| c.allowed_schemes = vec!["https".into(), "ssh".into(), "git".into()]).await;
    seeded_bare(&g.home(), &g.root(), "in.git");
    let e = err(&g.call("git_clone", json!({"url": "in.git", "path": "x"})).await);
    assert!(e.contains("file scheme is not allowed"), "{e}");
}

/// `git daemon` on a free loopback port, killed on drop.
struct Daemon {
    child: Child,
    port: u16,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start_daemon(base: &Path) -> Daemon {
    let port = free_port();
    let child = Command::new("git")
        .args([
            "daemon",
            "--export-all",
            "--enable=receive-pack",
            "--reuseaddr",
            "--informative-errors",
            &format!("--base-path={}", base.display()),
            &format!("--port={port}"),
            "--listen=127.0.0.1",
        ])
        .arg(base)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", base)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("git daemon");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Daemon { child, port }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn git_daemon_shallow_clone_push_and_pull() {
    let f = Fixture::new().await;
    let served = f.dir.path().join("served");
    let bare = seeded_bare(&f.home(), &served, "proj.git");
    let d = start_daemon(&served);
    let url = format!("git://127.0.0.1:{}/proj.git", d.port);

    let v = ok(&f.call("git_clone", json!({"url": url, "path": "shallow", "depth": 1})).await).clone();
    assert_eq!(v["shallow"], true);
    let v = ok(&f.call("git_log", json!({"repo": "shallow"})).await).clone();
    assert_eq!(v["commits"].as_array().unwrap().len(), 1, "depth 1 brings one commit");
    let v = ok(&f.call("git_clone", json!({"url": url, "path": "bare-copy", "bare": true})).await).clone();
    assert_eq!(v["bare"], true);
    let v = ok(&f.call("git_log", json!({"repo": "bare-copy"})).await).clone();
    assert_eq!(v["commits"].as_array().unwrap().len(), 3);

    let v = ok(&f
        .call("git_clone", json!({"url": url, "path": "one", "branch": "release/1", "single_branch": true}))
        .await)
    .clone();
    assert_eq!(v["branch"], "release/1");
    let v = ok(&f.call("git_branch", json!({"repo": "one", "remotes": true})).await).clone();
    let names: Vec<&str> = v["branches"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["release/1", "origin/release/1"], "single branch fetched");

    ok(&f.call("git_clone", json!({"url": url, "path": "full"})).await);
    f.put("full/b.txt", "b\n");
    ok(&f.call("git_add", json!({"repo": "full", "paths": ["b.txt"]})).await);
    ok(&f.call("git_commit", json!({"repo": "full", "message": "b over git://"})).await);
    ok(&f.call("git_push", json!({"repo": "full"})).await);
    assert_eq!(rev(&f.home(), &bare, "main"), rev(&f.home(), &f.root().join("full"), "HEAD"));
    let v = ok(&f.call("git_pull", json!({"repo": "shallow"})).await).clone();
    assert_eq!(v["status"], "fast_forward");
    assert!(f.root().join("shallow/b.txt").exists());
    let v = ok(&f.call("git_fetch", json!({"repo": "shallow", "depth": 3})).await).clone();
    assert_eq!(v["remote"], "origin");
}

const HTTP_TOKEN: &str = "s3cr3t-test-token-QZ7X";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smart_http_with_token_and_redaction() {
    let f = Fixture::with(|c| c.https_token = Some(mcp_server_git::config::Secret(HTTP_TOKEN.into()))).await;
    let served = f.dir.path().join("served");
    let bare = seeded_bare(&f.home(), &served, "http.git");
    git_in(&f.home(), &bare, &["config", "http.receivepack", "true"]);
    let srv = crate::http_backend::start(served.clone(), format!("Bearer {HTTP_TOKEN}")).await;
    let mut replies = Vec::new();

    let r = f.call("git_clone", json!({"url": srv.url("http.git"), "path": "h"})).await;
    ok(&r);
    replies.push(r.text.clone());
    assert!(
        srv.seen.lock().unwrap().iter().any(|(_, _, a)| a.as_deref() == Some(&format!("Bearer {HTTP_TOKEN}"))),
        "the token was sent"
    );
    let r = f.call("git_clone", json!({"url": srv.url("http.git"), "path": "h-shallow", "depth": 1})).await;
    assert_eq!(ok(&r)["shallow"], true);
    replies.push(r.text.clone());
    f.put("h/c.txt", "c\n");
    ok(&f.call("git_add", json!({"repo": "h", "all": true})).await);
    ok(&f.call("git_commit", json!({"repo": "h", "message": "over http"})).await);
    let r = f.call("git_push", json!({"repo": "h"})).await;
    ok(&r);
    replies.push(r.text.clone());
    assert_eq!(rev(&f.home(), &bare, "main"), rev(&f.home(), &f.root().join("h"), "HEAD"));
    let r = f.call("git_pull", json!({"repo": "h-shallow"})).await;
    assert_eq!(ok(&r)["status"], "fast_forward");
    replies.push(r.text.clone());
    let r = f.call("git_remote", json!({"repo": "h"})).await;
    replies.push(r.text.clone());

    // A URL carrying the token itself is refused, and the refusal does not repeat it.
    f.git("h", &["remote", "add", "leak", &format!("http://user:{HTTP_TOKEN}@{}/http.git", srv.addr)]);
    let r = f.call("git_fetch", json!({"repo": "h", "remote": "leak"})).await;
    let e = err(&r);
    assert!(e.contains("credentials") && e.contains("***@"), "{e}");
    replies.push(r.text.clone());
    let r = f.call("git_remote", json!({"repo": "h"})).await;
    replies.push(r.text.clone());

    // Without a token configured, the server answers 401 and the error says what to configure.
    let g = Fixture::new().await;
    let r = g.call("git_clone", json!({"url": srv.url("http.git"), "path": "nope"})).await;
    let e = err(&r);
    assert!(e.contains("refused the credentials") && e.contains("GIT_HTTPS_TOKEN"), "{e}");
    assert!(!g.root().join("nope").exists());
    replies.push(r.text.clone());
    // A token restricted to other hosts is not sent here either.
    let h = Fixture::with(|c| {
        c.https_token = Some(mcp_server_git::config::Secret(HTTP_TOKEN.into()));
        c.token_hosts = vec!["git.example.com".into()];
    })
    .await;
    let r = h.call("git_clone", json!({"url": srv.url("http.git"), "path": "nope"})).await;
    err(&r);
    replies.push(r.text.clone());

    for t in &replies {
        assert!(!t.contains(HTTP_TOKEN), "the token leaked into a result: {t}");
    }
    mcp_test::telemetry::flush().await;
    let logs = mcp_test::telemetry::logs();
    assert!(logs.iter().any(|l| l.contains("git command finished")), "git runs are logged");
    for l in logs {
        assert!(!l.contains(HTTP_TOKEN), "the token leaked into a log line: {l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_that_never_answers_times_out_and_git_is_killed() {
    let f = Fixture::with(|c| c.network_timeout = Duration::from_secs(2)).await;
    // Accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hold = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(8);
        while Instant::now() < end {
            if let Ok((s, _)) = listener.accept() {
                held.push(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let t = Instant::now();
    let r = f.call("git_clone", json!({"url": format!("git://127.0.0.1:{port}/x.git"), "path": "slow"})).await;
    let e = err(&r);
    assert!(e.contains("timed out"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(7), "took {:?}", t.elapsed());
    let _ = text(&r);
    hold.join().unwrap();
}
