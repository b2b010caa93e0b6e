//! Idempotency keys on `git_commit` and `git_tag`: a replay returns the first
//! result and creates nothing, other arguments under a used key are a
//! conflict, calls without a key behave as before, an interruption between
//! recording the key and moving the branch (or writing the tag) is completed
//! by the replay, and the private records never show in any tool's output nor
//! leave the repository by push or clone.

use mcp_server_git::idempotency::{Claim, Key};
use serde_json::{Value, json};

use crate::{Fixture, err, git_in, ok, text};

fn count(f: &Fixture, repo: &str, rev: &str) -> usize {
    f.git(repo, &["rev-list", "--count", rev]).trim().parse().unwrap()
}

fn head(f: &Fixture, repo: &str) -> String {
    f.git(repo, &["rev-parse", "HEAD"]).trim().to_owned()
}

/// The key a call with `args` records (the server derives it the same way).
fn commit_key(args: &Value) -> Key {
    let a: mcp_server_git::tools::commit::Args = serde_json::from_value(args.clone()).unwrap();
    Key::new("git_commit", a.idempotency_key.as_deref(), &a).unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_commit_replays_and_refuses_other_arguments() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/b.txt", "bee\n");
    ok(&f.call("git_add", json!({"repo": "r", "paths": ["b.txt"]})).await);
    let args = json!({"repo": "r", "message": "add b", "idempotency_key": "run-1/commit"});
    let first = ok(&f.call("git_commit", args.clone()).await).clone();
    assert_eq!((first["duplicate"].as_bool(), first["files_changed"].as_u64()), (Some(false), Some(1)));
    let id = first["commit"]["id"].as_str().unwrap().to_owned();
    assert_eq!(count(&f, "r", "main"), 2);

    // The answer was lost; the retry gets the first commit and commits nothing.
    let r = f.call("git_commit", args.clone()).await;
    let again = ok(&r);
    assert_eq!((again["commit"]["id"].as_str(), again["duplicate"].as_bool()), (Some(id.as_str()), Some(true)));
    assert_eq!((again["branch"].as_str(), again["files_changed"].as_u64()), (Some("main"), Some(1)));
    assert!(text(&r).contains("duplicate") && text(&r).contains("nothing new"), "{}", text(&r));
    assert_eq!(count(&f, "r", "main"), 2);

    // Later commits on the branch: the replay still returns the first and moves nothing.
    ok(&f.call("git_commit", json!({"repo": "r", "message": "later", "allow_empty": true})).await);
    let later = head(&f, "r");
    assert_eq!(ok(&f.call("git_commit", args.clone()).await)["commit"]["id"], id.as_str());
    assert_eq!(head(&f, "r"), later);

    // The same key for another commit: a conflict, nothing written.
    let mut other = args.clone();
    other["message"] = json!("add b, reworded");
    let e = err(&f.call("git_commit", other).await);
    assert!(e.contains("different arguments"), "{e}");
    assert_eq!(head(&f, "r"), later);

    // Without a key, two calls make two commits (today's behaviour).
    for _ in 0..2 {
        let v = ok(&f.call("git_commit", json!({"repo": "r", "message": "empty", "allow_empty": true})).await).clone();
        assert_eq!(v["duplicate"], false);
    }
    assert_eq!(count(&f, "r", "main"), 5);

    // Keys are bounded like the email server's.
    for bad in [json!(""), json!("k".repeat(201)), json!("a\tb")] {
        let e = err(&f.call("git_commit", json!({"repo": "r", "message": "x", "idempotency_key": bad})).await);
        assert!(e.contains("idempotency_key"), "{e}");
    }

    // The record lives under the private namespace and is shown by no tool.
    let private = f.git("r", &["for-each-ref", "--format=%(refname)", "refs/mcp-idempotency/"]);
    assert_eq!(private.lines().count(), 1, "{private}");
    for (tool, a) in [
        ("git_branch", json!({"repo": "r", "remotes": true})),
        ("git_tag", json!({"repo": "r"})),
        ("git_log", json!({"repo": "r", "max_count": 500})),
        ("git_reflog", json!({"repo": "r"})),
        ("git_status", json!({"repo": "r"})),
    ] {
        let r = f.call(tool, a).await;
        assert!(!r.text.contains("mcp-idempotency"), "{tool}: {}", r.text);
    }
    // Nor can a tool name it.
    let e = err(&f.call("git_log", json!({"repo": "r", "rev": private.trim()})).await);
    assert!(e.contains("private"), "{e}");
    let e = err(&f.call("git_reflog", json!({"repo": "r", "reference": private.trim()})).await);
    assert!(e.contains("private"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_interrupted_before_the_branch_moved_is_completed_by_the_replay() {
    let f = Fixture::new().await;
    let path = f.repo("r");
    let before = head(&f, "r");
    f.put("r/b.txt", "bee\n");
    ok(&f.call("git_add", json!({"repo": "r", "paths": ["b.txt"]})).await);
    let args = json!({"repo": "r", "message": "add b", "idempotency_key": "run-2/commit"});

    // The first call wrote the commit and claimed the key, then the server
    // died before the branch moved: do exactly that much here.
    let written = {
        let repo = git2::Repository::open(&path).unwrap();
        let tree = repo.find_tree(repo.index().unwrap().write_tree().unwrap()).unwrap();
        let parent = repo.head().unwrap().peel_to_commit().unwrap();
        let who = git2::Signature::now("Test Bot", "bot@example.test").unwrap();
        let c = repo.commit(None, &who, &who, "add b", &tree, &[&parent]).unwrap();
        let Claim::Mine(_) = commit_key(&args).claim(&repo, "refs/heads/main", Some(parent.id()), c).unwrap() else {
            panic!("the key was free")
        };
        c.to_string()
    };
    assert_eq!(head(&f, "r"), before, "the branch did not move");

    // The replay moves it: exactly one new commit, the recorded one.
    let r = f.call("git_commit", args.clone()).await;
    let v = ok(&r);
    assert_eq!((v["commit"]["id"].as_str(), v["duplicate"].as_bool()), (Some(written.as_str()), Some(true)));
    assert!(text(&r).contains("interrupted"), "{}", text(&r));
    assert_eq!(head(&f, "r"), written);
    assert_eq!(count(&f, "r", "main"), 2);
    assert_eq!(f.git("r", &["status", "--porcelain"]), "", "the staged change is what was committed");
    let reflog = f.git("r", &["reflog", "-1", "--format=%gs", "main"]);
    assert!(reflog.contains("completed after an interruption"), "{reflog}");

    // Once more: nothing to complete, nothing new.
    let r = f.call("git_commit", args).await;
    assert!(text(&r).contains("nothing new"), "{}", text(&r));
    assert_eq!(count(&f, "r", "main"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_after_the_branch_moved_elsewhere_returns_the_commit_and_says_so() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/b.txt", "bee\n");
    let args = json!({"repo": "r", "message": "add b", "all": false, "idempotency_key": "run-3/commit"});
    ok(&f.call("git_add", json!({"repo": "r", "all": true})).await);
    let first = ok(&f.call("git_commit", args.clone()).await)["commit"]["id"].as_str().unwrap().to_owned();
    // Someone throws the commit away and commits something else.
    f.git("r", &["reset", "-q", "--hard", "HEAD~1"]);
    f.git("r", &["commit", "-q", "--allow-empty", "-m", "other"]);
    let other = head(&f, "r");
    let r = f.call("git_commit", args).await;
    let v = ok(&r);
    assert_eq!((v["commit"]["id"].as_str(), v["duplicate"].as_bool()), (Some(first.as_str()), Some(true)));
    assert!(text(&r).contains("has since moved") && text(&r).contains(&other[..7]), "{}", text(&r));
    assert_eq!(head(&f, "r"), other, "nothing was changed");
    // The record keeps the commit reachable, so a gc cannot take the answer away.
    f.git("r", &["reflog", "expire", "--expire=now", "--expire-unreachable=now", "--all"]);
    f.git("r", &["gc", "-q", "--prune=now"]);
    assert_eq!(f.git("r", &["cat-file", "-t", &first]).trim(), "commit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_tag_replays_instead_of_already_exists() {
    let f = Fixture::new().await;
    let path = f.repo("r");
    let tagged = head(&f, "r");
    let args = json!({"repo": "r", "action": "create", "name": "v1.0.0", "message": "release 1", "idempotency_key": "run-1/tag"});
    let first = ok(&f.call("git_tag", args.clone()).await).clone();
    assert_eq!((first["duplicate"].as_bool(), first["tags"][0]["annotated"].as_bool()), (Some(false), Some(true)));

    // HEAD moves on; the retry (target defaulting to HEAD) still gets the first tag, not "already exists".
    f.git("r", &["commit", "-q", "--allow-empty", "-m", "later"]);
    let r = f.call("git_tag", args.clone()).await;
    let v = ok(&r);
    assert_eq!(v["duplicate"], true, "{}", r.text);
    assert_eq!(v["tags"][0], first["tags"][0]);
    assert_eq!(v["tags"][0]["commit"].as_str(), Some(&tagged[..7]));
    assert!(text(&r).contains("duplicate"), "{}", text(&r));
    assert_eq!(f.git("r", &["tag", "--list"]), "v1.0.0\n");

    // Another message under the key: a conflict. Without a key: "already exists", as before.
    let mut other = args.clone();
    other["message"] = json!("release 1, reworded");
    assert!(err(&f.call("git_tag", other).await).contains("different arguments"));
    let mut plain = args.clone();
    plain.as_object_mut().unwrap().remove("idempotency_key");
    assert!(err(&f.call("git_tag", plain).await).contains("already exists"));
    // The key is for create only.
    assert!(err(&f.call("git_tag", json!({"repo": "r", "idempotency_key": "k"})).await).contains("create only"));

    // A tag that already exists exactly as asked (made before keys) is adopted by a new key;
    // one that differs is still a conflict.
    ok(&f.call("git_tag", json!({"repo": "r", "action": "create", "name": "light"})).await);
    let v = ok(&f
        .call("git_tag", json!({"repo": "r", "action": "create", "name": "light", "idempotency_key": "adopt"}))
        .await)
    .clone();
    assert_eq!((v["duplicate"].as_bool(), v["tags"][0]["annotated"].as_bool()), (Some(true), Some(false)));
    let e = err(&f
        .call(
            "git_tag",
            json!({"repo": "r", "action": "create", "name": "light", "target": "HEAD~1", "idempotency_key": "k2"}),
        )
        .await);
    assert!(e.contains("already exists"), "{e}");

    // Interrupted after the key was recorded, before the tag appeared: the replay writes it.
    let args = json!({"repo": "r", "action": "create", "name": "v2.0.0", "message": "release 2", "idempotency_key": "run-2/tag"});
    let written = {
        let repo = git2::Repository::open(&path).unwrap();
        let a: mcp_server_git::tools::tag::Args = serde_json::from_value(args.clone()).unwrap();
        let k = Key::new("git_tag", a.idempotency_key.as_deref(), &a).unwrap().unwrap();
        let target = repo.head().unwrap().peel(git2::ObjectType::Commit).unwrap();
        let who = git2::Signature::now("Test Bot", "bot@example.test").unwrap();
        let t = repo.tag_annotation_create("v2.0.0", &target, &who, "release 2").unwrap();
        assert!(matches!(k.claim(&repo, "refs/tags/v2.0.0", None, t).unwrap(), Claim::Mine(_)));
        t.to_string()
    };
    assert_eq!(f.git("r", &["tag", "--list", "v2*"]), "");
    let r = f.call("git_tag", args.clone()).await;
    assert_eq!(ok(&r)["duplicate"], true);
    assert!(text(&r).contains("interrupted"), "{}", text(&r));
    assert_eq!(f.git("r", &["rev-parse", "refs/tags/v2.0.0"]).trim(), written);

    // Only the real tags are listed.
    let v = ok(&f.call("git_tag", json!({"repo": "r"})).await).clone();
    let mut names: Vec<&str> = v["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["light", "v1.0.0", "v2.0.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_neither_pushed_nor_cloned() {
    let f = Fixture::new().await;
    f.repo("w");
    let bare = f.root().join("remote.git");
    git_in(&f.home(), &f.root(), &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    f.git("w", &["remote", "add", "origin", bare.to_str().unwrap()]);
    f.put("w/b.txt", "bee\n");
    ok(&f.call("git_add", json!({"repo": "w", "all": true})).await);
    ok(&f.call("git_commit", json!({"repo": "w", "message": "b", "idempotency_key": "c1"})).await);
    ok(&f
        .call(
            "git_tag",
            json!({"repo": "w", "action": "create", "name": "v1", "message": "one", "idempotency_key": "t1"}),
        )
        .await);
    assert_eq!(f.git("w", &["for-each-ref", "refs/mcp-idempotency/"]).lines().count(), 2);
    ok(&f.call("git_push", json!({"repo": "w", "tags": true, "set_upstream": true})).await);
    let remote_refs = git_in(&f.home(), &bare, &["for-each-ref", "--format=%(refname)"]);
    assert_eq!(remote_refs, "refs/heads/main\nrefs/tags/v1\n");
    ok(&f.call("git_clone", json!({"url": "w", "path": "copy"})).await);
    assert_eq!(f.git("copy", &["for-each-ref", "refs/mcp-idempotency/"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_initial_amended_and_detached_commits_replay() {
    let f = Fixture::new().await;
    ok(&f.call("git_init", json!({"repo": "n"})).await);
    f.put("n/a.txt", "a\n");
    ok(&f.call("git_add", json!({"repo": "n", "all": true})).await);
    // The first commit of an unborn branch.
    let initial = json!({"repo": "n", "message": "initial", "idempotency_key": "i"});
    let id = ok(&f.call("git_commit", initial.clone()).await)["commit"]["id"].clone();
    let v = ok(&f.call("git_commit", initial).await).clone();
    assert_eq!((&v["commit"]["id"], &v["duplicate"], &v["branch"]), (&id, &json!(true), &json!("main")));
    // An amend.
    let amend = json!({"repo": "n", "message": "initial, reworded", "amend": true, "idempotency_key": "a"});
    let amended = ok(&f.call("git_commit", amend.clone()).await).clone();
    assert_eq!(amended["amended"], true);
    let v = ok(&f.call("git_commit", amend).await).clone();
    assert_eq!(
        (&v["commit"]["id"], &v["duplicate"], &v["amended"]),
        (&amended["commit"]["id"], &json!(true), &json!(true))
    );
    assert_eq!(count(&f, "n", "main"), 1);
    // On a detached HEAD.
    f.git("n", &["checkout", "-q", "--detach"]);
    let detached = json!({"repo": "n", "message": "detached", "allow_empty": true, "idempotency_key": "d"});
    let first = ok(&f.call("git_commit", detached.clone()).await).clone();
    assert_eq!(first["branch"], Value::Null);
    let v = ok(&f.call("git_commit", detached).await).clone();
    assert_eq!((&v["commit"]["id"], &v["duplicate"]), (&first["commit"]["id"], &json!(true)));
    assert_eq!(head(&f, "n"), first["commit"]["id"].as_str().unwrap());
    assert_eq!(count(&f, "n", "HEAD"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_with_one_key_make_one_commit() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/b.txt", "bee\n");
    ok(&f.call("git_add", json!({"repo": "r", "all": true})).await);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let raw = f.raw();
        set.spawn(async move {
            raw.call("git_commit", json!({"repo": "r", "message": "b", "idempotency_key": "race"})).await
        });
    }
    let mut ids = Vec::new();
    let mut fresh = 0;
    while let Some(r) = set.join_next().await {
        let r = r.unwrap();
        let v = ok(&r);
        ids.push(v["commit"]["id"].as_str().unwrap().to_owned());
        fresh += usize::from(v["duplicate"] == false);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(fresh, 1, "one caller committed, the others replayed");
    assert_eq!(head(&f, "r"), ids[0]);
    assert_eq!(count(&f, "r", "main"), 2);
}
