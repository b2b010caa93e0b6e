//! Every local tool through HTTP against real repositories, cross-checked
//! with the git command line.

use serde_json::json;

use crate::{Fixture, err, ok, text};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_add_commit_log_show_amend_reflog() {
    let f = Fixture::new().await;
    let v = ok(&f.call("git_init", json!({"repo": "proj/app"})).await).clone();
    assert_eq!(v["created"], true);
    assert_eq!(v["branch"], "main");
    assert_eq!(v["path"], f.root().join("proj/app").display().to_string());
    assert!(f.root().join("proj/app/.git").is_dir());
    let v = ok(&f.call("git_init", json!({"repo": "proj/app"})).await).clone();
    assert_eq!(v["created"], false, "re-init reports the existing repository");

    f.put("proj/app/README.md", "# app\n");
    f.put("proj/app/src/main.rs", "fn main() {}\n");
    let r = f.call("git_status", json!({"repo": "proj/app"})).await;
    let v = ok(&r);
    assert_eq!(v["clean"], false);
    assert_eq!(v["head"], serde_json::Value::Null);
    let codes: Vec<(String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().to_owned(), e["path"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(codes, [("??".into(), "README.md".into()), ("??".into(), "src/main.rs".into())]);
    assert!(text(&r).contains("?? README.md"), "{}", text(&r));

    let e = err(&f.call("git_commit", json!({"repo": "proj/app", "message": "empty"})).await);
    assert!(e.contains("nothing to commit"), "{e}");

    // Unstaging before the first commit empties the index entry.
    ok(&f.call("git_add", json!({"repo": "proj/app", "paths": ["README.md"]})).await);
    let v = ok(&f.call("git_reset", json!({"repo": "proj/app", "paths": ["README.md"]})).await).clone();
    assert_eq!(v["paths"], json!(["README.md"]));
    assert_eq!(f.git("proj/app", &["status", "--porcelain"]), "?? README.md\n?? src/\n");
    let v = ok(&f.call("git_add", json!({"repo": "proj/app", "paths": ["README.md", "src"]})).await).clone();
    assert_eq!(v["staged"], json!(["README.md", "src/main.rs"]));
    let r = f.call("git_commit", json!({"repo": "proj/app", "message": "initial commit\n\nwith a body"})).await;
    let v = ok(&r).clone();
    assert_eq!(v["branch"], "main");
    assert_eq!(v["commit"]["author"], "Test Bot");
    assert_eq!(v["commit"]["email"], "bot@example.test");
    assert_eq!(v["files_changed"], 2);
    let first = v["commit"]["id"].as_str().unwrap().to_owned();
    // The CLI agrees.
    assert_eq!(f.git("proj/app", &["rev-parse", "HEAD"]).trim(), first);
    // Nothing left to commit: a conflict, or with skip_unchanged an answer naming HEAD.
    assert!(
        err(&f.call("git_commit", json!({"repo": "proj/app", "message": "again"})).await).contains("nothing to commit")
    );
    let v = ok(&f.call("git_commit", json!({"repo": "proj/app", "message": "again", "skip_unchanged": true})).await)
        .clone();
    assert_eq!((v["unchanged"].as_bool(), v["commit"]["id"].as_str()), (Some(true), Some(first.as_str())), "{v}");
    assert_eq!(f.git("proj/app", &["rev-list", "--count", "HEAD"]).trim(), "1", "nothing was committed");
    assert_eq!(f.git("proj/app", &["log", "-1", "--format=%an <%ae>"]).trim(), "Test Bot <bot@example.test>");

    f.put("proj/app/README.md", "# app\nmore\n");
    let v = ok(&f
        .call(
            "git_commit",
            json!({"repo": "proj/app", "message": "docs", "all": true, "author_name": "Ada", "author_email": "ada@example.test"}),
        )
        .await)
    .clone();
    assert_eq!(v["commit"]["author"], "Ada");
    assert_eq!(v["insertions"], 1);
    let e = err(&f.call("git_commit", json!({"repo": "proj/app", "message": "x", "author_name": "only"})).await);
    assert!(e.contains("both"), "{e}");

    let r = f.call("git_log", json!({"repo": "proj/app", "stats": true})).await;
    let v = ok(&r);
    let commits = v["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 2);
    assert_eq!(commits[0]["summary"], "docs");
    assert_eq!(commits[0]["insertions"], 1);
    assert_eq!(commits[1]["summary"], "initial commit");
    assert_eq!(v["more"], false);

    let r = f.call("git_show", json!({"repo": "proj/app", "rev": "HEAD~1"})).await;
    let v = ok(&r);
    assert_eq!(v["message"], "initial commit\n\nwith a body");
    assert_eq!(v["diff"]["files_changed"], 2);
    assert!(v["diff"]["patch"].as_str().unwrap().contains("+fn main() {}"));
    assert!(text(&r).contains("with a body"));

    let v = ok(&f.call("git_commit", json!({"repo": "proj/app", "message": "docs, reworded", "amend": true})).await)
        .clone();
    assert_eq!(v["amended"], true);
    assert_eq!(v["commit"]["parents"], json!([first]));
    let r = f.call("git_reflog", json!({"repo": "proj/app"})).await;
    let v = ok(&r);
    let msgs: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs[0].contains("docs, reworded"), "{msgs:?}");
    let r = f.call("git_reflog", json!({"repo": "proj/app", "reference": "main", "max_count": 1})).await;
    assert_eq!(ok(&r)["entries"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_detects_renames_and_add_stages_deletions() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/b.txt", "bee\n");
    f.git("r", &["add", "b.txt"]);
    f.git("r", &["commit", "-q", "-m", "b"]);
    std::fs::rename(f.root().join("r/a.txt"), f.root().join("r/renamed.txt")).unwrap();
    std::fs::remove_file(f.root().join("r/b.txt")).unwrap();
    let v = ok(&f.call("git_status", json!({"repo": "r"})).await).clone();
    let codes: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&" D"), "{v}");
    let e = err(&f.call("git_add", json!({"repo": "r", "paths": ["nope.txt"]})).await);
    assert!(e.contains("matches no file"), "{e}");
    let e = err(&f.call("git_add", json!({"repo": "r"})).await);
    assert!(e.contains("either paths or all"), "{e}");
    ok(&f.call("git_add", json!({"repo": "r", "paths": ["b.txt"]})).await);
    ok(&f.call("git_add", json!({"repo": "r", "all": true})).await);
    let r = f.call("git_status", json!({"repo": "r"})).await;
    let v = ok(&r);
    let ren = v["entries"].as_array().unwrap().iter().find(|e| e["code"] == "R ").expect("a rename");
    assert_eq!(ren["path"], "renamed.txt");
    assert_eq!(ren["renamed_from"], "a.txt");
    assert!(text(&r).contains("R  a.txt -> renamed.txt"), "{}", text(&r));
    assert!(v["entries"].as_array().unwrap().iter().any(|e| e["code"] == "D " && e["path"] == "b.txt"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_modes_filters_context_and_truncation() {
    let f = Fixture::with(|c| c.max_diff_bytes = 600).await;
    f.repo("r");
    f.put("r/a.txt", "one\nTWO\nthree\n");
    f.put("r/other.txt", "x\n");
    f.git("r", &["add", "other.txt"]);
    // Unstaged: only a.txt (other.txt is staged as new).
    let v = ok(&f.call("git_diff", json!({"repo": "r"})).await).clone();
    assert_eq!(v["files_changed"], 1);
    assert_eq!(v["files"][0]["path"], "a.txt");
    assert_eq!((v["insertions"].as_u64(), v["deletions"].as_u64()), (Some(1), Some(1)));
    assert!(v["patch"].as_str().unwrap().contains("-two\n+TWO"));
    // Staged: only other.txt.
    let v = ok(&f.call("git_diff", json!({"repo": "r", "staged": true})).await).clone();
    assert_eq!(v["files"][0]["path"], "other.txt");
    assert_eq!(v["files"][0]["status"], "added");
    // Context lines.
    let v = ok(&f.call("git_diff", json!({"repo": "r", "context_lines": 0})).await).clone();
    assert!(!v["patch"].as_str().unwrap().contains("\n one\n"), "{}", v["patch"]);
    // Between revisions, with a path filter and stat_only.
    f.git("r", &["commit", "-q", "-am", "second"]);
    let v =
        ok(&f.call("git_diff", json!({"repo": "r", "from": "HEAD~1", "to": "HEAD", "paths": ["a.txt"]})).await).clone();
    assert_eq!(v["files_changed"], 1);
    let v =
        ok(&f.call("git_diff", json!({"repo": "r", "from": "HEAD~1", "to": "HEAD", "stat_only": true})).await).clone();
    assert_eq!(v["files_changed"], 2);
    assert_eq!(v["patch"], "");
    // A revision against the work tree.
    f.put("r/a.txt", "changed\n");
    let v = ok(&f.call("git_diff", json!({"repo": "r", "from": "HEAD~1"})).await).clone();
    assert_eq!(v["files_changed"], 2);
    // Truncation: the statistics stay complete, the note says what to do.
    let big: String = (0..200).map(|i| format!("line {i}\n")).collect();
    f.put("r/a.txt", &big);
    let r = f.call("git_diff", json!({"repo": "r"})).await;
    let v = ok(&r);
    assert_eq!(v["truncated"], true);
    assert!(v["patch"].as_str().unwrap().len() <= 600);
    assert!(v["insertions"].as_u64().unwrap() >= 200);
    assert!(text(&r).contains("Pass paths"), "{}", text(&r));
    let e = err(&f.call("git_diff", json!({"repo": "r", "to": "HEAD"})).await);
    assert!(e.contains("needs `from`"), "{e}");
    let e = err(&f.call("git_diff", json!({"repo": "r", "from": "nope"})).await);
    assert!(e.contains("not found"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_paths_soft_mixed_and_hard_needs_confirm() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/a.txt", "changed\n");
    f.git("r", &["add", "a.txt"]);
    let v = ok(&f.call("git_reset", json!({"repo": "r", "paths": ["a.txt"]})).await).clone();
    assert_eq!(v["mode"], "paths");
    assert_eq!(f.git("r", &["status", "--porcelain"]), " M a.txt\n");
    f.git("r", &["commit", "-q", "-am", "second"]);
    let v = ok(&f.call("git_reset", json!({"repo": "r", "mode": "soft", "target": "HEAD~1"})).await).clone();
    assert_eq!(v["mode"], "soft");
    assert_eq!(f.git("r", &["status", "--porcelain"]), "M  a.txt\n");
    ok(&f.call("git_reset", json!({"repo": "r"})).await);
    assert_eq!(f.git("r", &["status", "--porcelain"]), " M a.txt\n");
    let e = err(&f.call("git_reset", json!({"repo": "r", "mode": "hard"})).await);
    assert!(e.contains("confirm: true"), "{e}");
    assert_eq!(f.read("r/a.txt"), "changed\n", "nothing was discarded");
    ok(&f.call("git_reset", json!({"repo": "r", "mode": "hard", "confirm": true})).await);
    assert_eq!(f.read("r/a.txt"), "one\ntwo\nthree\n");
    let e = err(&f.call("git_reset", json!({"repo": "r", "mode": "soft", "paths": ["a.txt"]})).await);
    assert!(e.contains("only unstages"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_filters_and_paging() {
    let f = Fixture::new().await;
    f.repo("r");
    for (i, (who, date)) in
        [("Alice", "2024-01-10T10:00:00Z"), ("Bob", "2024-02-10T10:00:00Z"), ("Alice", "2024-03-10T10:00:00Z")]
            .iter()
            .enumerate()
    {
        let file = if i == 1 { "docs/x.md".to_owned() } else { format!("f{i}.txt") };
        f.put(&format!("r/{file}"), format!("{i}\n"));
        f.git("r", &["add", "."]);
        let mut c = crate::git_cmd(&f.home(), &f.root().join("r"), &["commit", "-q", "-m", &format!("c{i}")]);
        c.env("GIT_AUTHOR_NAME", who).env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
        assert!(c.status().unwrap().success());
    }
    let sums = |v: &serde_json::Value| -> Vec<String> {
        v["commits"].as_array().unwrap().iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect()
    };
    let v = ok(&f.call("git_log", json!({"repo": "r", "author": "alice"})).await).clone();
    assert_eq!(sums(&v), ["c2", "c0"]);
    let v = ok(&f.call("git_log", json!({"repo": "r", "since": "2024-02-01", "until": "2024-02-28"})).await).clone();
    assert_eq!(sums(&v), ["c1"]);
    let v = ok(&f.call("git_log", json!({"repo": "r", "path": "docs"})).await).clone();
    assert_eq!(sums(&v), ["c1"]);
    let r = f.call("git_log", json!({"repo": "r", "max_count": 2})).await;
    let v = ok(&r).clone();
    assert_eq!(sums(&v), ["c2", "c1"]);
    assert_eq!(v["more"], true);
    assert!(text(&r).contains("skip: 2"));
    let v = ok(&f.call("git_log", json!({"repo": "r", "max_count": 2, "skip": 2})).await).clone();
    assert_eq!(sums(&v), ["c0", "first"]);
    let v = ok(&f.call("git_log", json!({"repo": "r", "rev": "HEAD~2..HEAD"})).await).clone();
    assert_eq!(sums(&v), ["c2", "c1"]);
    assert!(err(&f.call("git_log", json!({"repo": "r", "max_count": 10000})).await).contains("between 1 and 500"));
    assert!(err(&f.call("git_log", json!({"repo": "r", "since": "last tuesday"})).await).contains("RFC 3339"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_and_checkout() {
    let f = Fixture::new().await;
    f.repo("r");
    let v = ok(&f.call("git_branch", json!({"repo": "r", "action": "create", "name": "feature/x"})).await).clone();
    assert_eq!(v["branches"][0]["name"], "feature/x");
    let e = err(&f.call("git_branch", json!({"repo": "r", "action": "create", "name": "feature/x"})).await);
    assert!(e.contains("already exists"), "{e}");
    let v = ok(&f.call("git_checkout", json!({"repo": "r", "target": "feature/x"})).await).clone();
    assert_eq!(v["branch"], "feature/x");
    f.put("r/a.txt", "feature change\n");
    f.git("r", &["commit", "-q", "-am", "feature work"]);
    // Back on main, a.txt differs between the branches: local edits block the switch.
    ok(&f.call("git_checkout", json!({"repo": "r", "target": "main"})).await);
    f.put("r/a.txt", "uncommitted edit\n");
    let e = err(&f.call("git_checkout", json!({"repo": "r", "target": "feature/x"})).await);
    assert!(e.contains("a.txt") && e.contains("would be overwritten"), "{e}");
    assert_eq!(f.read("r/a.txt"), "uncommitted edit\n");
    assert_eq!(f.git("r", &["branch", "--show-current"]).trim(), "main");
    // An edit to a file both branches share unchanged is carried over.
    let v = ok(&f.call("git_checkout", json!({"repo": "r", "target": "feature/x", "force": true})).await).clone();
    assert_eq!(v["branch"], "feature/x");
    assert_eq!(f.read("r/a.txt"), "feature change\n");
    // Create from a base, detach at a tag.
    let v = ok(&f.call("git_checkout", json!({"repo": "r", "target": "hotfix", "create": true, "base": "main"})).await)
        .clone();
    assert_eq!(v["created"], true);
    assert_eq!(f.read("r/a.txt"), "one\ntwo\nthree\n");
    f.git("r", &["tag", "v0"]);
    let v = ok(&f.call("git_checkout", json!({"repo": "r", "target": "v0"})).await).clone();
    assert_eq!(v["detached"], true);
    ok(&f.call("git_checkout", json!({"repo": "r", "target": "main"})).await);
    let e = err(&f.call("git_checkout", json!({"repo": "r", "target": "nope"})).await);
    assert!(e.contains("neither a branch nor a revision"), "{e}");

    // List, rename, delete (unmerged refused without force).
    let v = ok(&f.call("git_branch", json!({"repo": "r"})).await).clone();
    let names: Vec<&str> = v["branches"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["feature/x", "hotfix", "main"]);
    assert!(v["branches"][2]["current"].as_bool().unwrap());
    ok(&f.call("git_branch", json!({"repo": "r", "action": "rename", "name": "hotfix", "new_name": "hotfix-2"})).await);
    ok(&f.call("git_branch", json!({"repo": "r", "action": "delete", "name": "hotfix-2"})).await);
    let e = err(&f.call("git_branch", json!({"repo": "r", "action": "delete", "name": "feature/x"})).await);
    assert!(e.contains("not merged"), "{e}");
    ok(&f.call("git_branch", json!({"repo": "r", "action": "delete", "name": "feature/x", "force": true})).await);
    let e = err(&f.call("git_branch", json!({"repo": "r", "action": "delete", "name": "main"})).await);
    assert!(e.contains("protected branch"), "main is protected: {e}");
    let e = err(&f.call("git_branch", json!({"repo": "r", "action": "delete", "name": "main", "confirm": true})).await);
    assert!(e.contains("current branch"), "{e}");
    assert_eq!(f.git("r", &["branch", "--format=%(refname:short)"]), "main\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_lightweight_annotated_list_delete() {
    let f = Fixture::new().await;
    f.repo("r");
    let v = ok(&f.call("git_tag", json!({"repo": "r", "action": "create", "name": "v1.0.0"})).await).clone();
    assert_eq!(v["tags"][0]["annotated"], false);
    let v = ok(&f
        .call("git_tag", json!({"repo": "r", "action": "create", "name": "v1.1.0", "message": "Release 1.1"}))
        .await)
    .clone();
    assert_eq!(v["tags"][0]["annotated"], true);
    assert_eq!(f.git("r", &["cat-file", "-t", "v1.1.0"]).trim(), "tag");
    assert_eq!(f.git("r", &["tag", "-l", "--format=%(taggername)", "v1.1.0"]).trim(), "Test Bot");
    ok(&f.call("git_tag", json!({"repo": "r", "action": "create", "name": "other"})).await);
    let e = err(&f.call("git_tag", json!({"repo": "r", "action": "create", "name": "v1.0.0"})).await);
    assert!(e.contains("already exists"), "{e}");
    let v = ok(&f.call("git_tag", json!({"repo": "r", "pattern": "v1.*"})).await).clone();
    let names: Vec<&str> = v["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["v1.0.0", "v1.1.0"]);
    assert_eq!(v["tags"][1]["message"], "Release 1.1");
    ok(&f.call("git_tag", json!({"repo": "r", "action": "delete", "name": "v1.0.0"})).await);
    assert_eq!(f.git("r", &["tag"]), "other\nv1.1.0\n");
    assert!(err(&f.call("git_tag", json!({"repo": "r", "action": "delete", "name": "v9"})).await).contains("no tag"));
}

/// `r` with diverged branches: main changes line 2 one way, `topic` another, plus a clean change each.
fn diverged(f: &Fixture) {
    f.repo("r");
    f.git("r", &["checkout", "-q", "-b", "topic"]);
    f.put("r/a.txt", "one\nTOPIC\nthree\n");
    f.put("r/topic.txt", "t\n");
    f.git("r", &["add", "."]);
    f.git("r", &["commit", "-q", "-m", "topic change"]);
    f.git("r", &["checkout", "-q", "main"]);
    f.put("r/a.txt", "one\nMAIN\nthree\n");
    f.put("r/main.txt", "m\n");
    f.git("r", &["add", "."]);
    f.git("r", &["commit", "-q", "-m", "main change"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_fast_forward_three_way_conflict_abort_and_conclude() {
    let f = Fixture::new().await;
    f.repo("r");
    f.git("r", &["checkout", "-q", "-b", "ff"]);
    f.put("r/new.txt", "n\n");
    f.git("r", &["add", "."]);
    f.git("r", &["commit", "-q", "-m", "ff work"]);
    f.git("r", &["checkout", "-q", "main"]);
    let v = ok(&f.call("git_merge", json!({"repo": "r", "rev": "ff"})).await).clone();
    assert_eq!(v["status"], "fast_forward");
    assert!(f.root().join("r/new.txt").exists());
    let v = ok(&f.call("git_merge", json!({"repo": "r", "rev": "ff"})).await).clone();
    assert_eq!(v["status"], "up_to_date");

    // A clean three-way merge makes a merge commit.
    f.git("r", &["checkout", "-q", "-b", "side"]);
    f.put("r/side.txt", "s\n");
    f.git("r", &["add", "."]);
    f.git("r", &["commit", "-q", "-m", "side"]);
    f.git("r", &["checkout", "-q", "main"]);
    f.put("r/main2.txt", "m\n");
    f.git("r", &["add", "."]);
    f.git("r", &["commit", "-q", "-m", "main2"]);
    let e = err(&f.call("git_merge", json!({"repo": "r", "rev": "side", "ff_only": true})).await);
    assert!(e.contains("diverged"), "{e}");
    let v = ok(&f.call("git_merge", json!({"repo": "r", "rev": "side"})).await).clone();
    assert_eq!(v["status"], "merged");
    assert_eq!(v["commit"]["parents"].as_array().unwrap().len(), 2);
    assert_eq!(v["commit"]["summary"], "Merge branch 'side'");
    assert_eq!(f.git("r", &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_conflict_report_abort_and_resolution() {
    let f = Fixture::new().await;
    diverged(&f);
    let head = f.git("r", &["rev-parse", "HEAD"]);
    let r = f.call("git_merge", json!({"repo": "r", "rev": "topic"})).await;
    let v = ok(&r).clone();
    assert_eq!(v["status"], "conflicts");
    let c = &v["conflicts"].as_array().unwrap()[0];
    assert_eq!(c["path"], "a.txt");
    assert_eq!(c["kind"], "both modified");
    let h = &c["hunks"][0];
    assert_eq!(h["start_line"], 2);
    assert_eq!(h["end_line"], 6);
    assert_eq!(h["ours"], "MAIN\n");
    assert_eq!(h["theirs"], "TOPIC\n");
    assert!(text(&r).contains("CONFLICT (both modified): a.txt"), "{}", text(&r));
    let v = ok(&f.call("git_status", json!({"repo": "r"})).await).clone();
    assert_eq!(v["state"], "merging");
    assert!(v["entries"].as_array().unwrap().iter().any(|e| e["code"] == "UU" && e["path"] == "a.txt"));
    assert!(f.root().join("r/topic.txt").exists(), "the clean part of the merge is applied");
    // A second merge is refused while this one is open; a commit is refused while conflicts remain.
    assert!(err(&f.call("git_merge", json!({"repo": "r", "rev": "topic"})).await).contains("in progress"));
    assert!(err(&f.call("git_commit", json!({"repo": "r", "message": "m"})).await).contains("unresolved conflicts"));

    // Abort restores everything.
    let v = ok(&f.call("git_merge", json!({"repo": "r", "action": "abort"})).await).clone();
    assert_eq!(v["status"], "aborted");
    assert_eq!(f.git("r", &["rev-parse", "HEAD"]), head);
    assert_eq!(f.git("r", &["status", "--porcelain"]), "");
    assert_eq!(f.read("r/a.txt"), "one\nMAIN\nthree\n");
    assert!(!f.root().join("r/topic.txt").exists());
    assert!(err(&f.call("git_merge", json!({"repo": "r", "action": "abort"})).await).contains("no merge"));

    // Merge again, resolve, stage, commit: a merge commit with both parents.
    ok(&f.call("git_merge", json!({"repo": "r", "rev": "topic"})).await);
    f.put("r/a.txt", "one\nBOTH\nthree\n");
    ok(&f.call("git_add", json!({"repo": "r", "paths": ["a.txt"]})).await);
    let v = ok(&f.call("git_commit", json!({"repo": "r", "message": "merge topic"})).await).clone();
    assert_eq!(v["commit"]["parents"].as_array().unwrap().len(), 2);
    let v = ok(&f.call("git_status", json!({"repo": "r"})).await).clone();
    assert_eq!(v["state"], "clean");
    assert_eq!(v["clean"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_refuses_uncommitted_changes() {
    let f = Fixture::new().await;
    diverged(&f);
    f.put("r/main.txt", "dirty\n");
    let e = err(&f.call("git_merge", json!({"repo": "r", "rev": "topic"})).await);
    assert!(e.contains("uncommitted changes"), "{e}");
    assert_eq!(f.read("r/main.txt"), "dirty\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stash_push_list_pop_drop() {
    let f = Fixture::new().await;
    f.repo("r");
    let e = err(&f.call("git_stash", json!({"repo": "r", "action": "push"})).await);
    assert!(e.contains("no local changes"), "{e}");
    f.put("r/a.txt", "wip 1\n");
    let v = ok(&f.call("git_stash", json!({"repo": "r", "action": "push", "message": "first wip"})).await).clone();
    assert_eq!(v["action"], "pushed");
    assert_eq!(f.read("r/a.txt"), "one\ntwo\nthree\n");
    f.put("r/a.txt", "wip 2\n");
    f.put("r/untracked.txt", "u\n");
    ok(&f.call("git_stash", json!({"repo": "r", "action": "push", "include_untracked": true})).await);
    assert!(!f.root().join("r/untracked.txt").exists());
    let v = ok(&f.call("git_stash", json!({"repo": "r"})).await).clone();
    let stashes = v["stashes"].as_array().unwrap();
    assert_eq!(stashes.len(), 2);
    assert!(stashes[1]["message"].as_str().unwrap().contains("first wip"));
    ok(&f.call("git_stash", json!({"repo": "r", "action": "drop", "index": 0})).await);
    ok(&f.call("git_stash", json!({"repo": "r", "action": "pop"})).await);
    assert_eq!(f.read("r/a.txt"), "wip 1\n");
    assert_eq!(f.git("r", &["stash", "list"]), "");
    assert!(err(&f.call("git_stash", json!({"repo": "r", "action": "pop"})).await).contains("no stash"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blame_a_range() {
    let f = Fixture::new().await;
    f.repo("r");
    f.put("r/a.txt", "one\nTWO by bob\nthree\n");
    let mut c = crate::git_cmd(&f.home(), &f.root().join("r"), &["commit", "-q", "-am", "bob"]);
    c.env("GIT_AUTHOR_NAME", "Bob");
    assert!(c.status().unwrap().success());
    let r = f.call("git_blame", json!({"repo": "r", "path": "a.txt", "start_line": 2, "end_line": 3})).await;
    let v = ok(&r);
    assert_eq!(v["total_lines"], 3);
    let lines = v["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0]["line"].as_u64(), lines[0]["author"].as_str()), (Some(2), Some("Bob")));
    assert_eq!(lines[0]["content"], "TWO by bob");
    assert_eq!(lines[1]["author"], "Setup");
    let v = ok(&f.call("git_blame", json!({"repo": "r", "path": "a.txt", "rev": "HEAD~1"})).await).clone();
    assert!(v["lines"].as_array().unwrap().iter().all(|l| l["author"] == "Setup"));
    assert!(err(&f.call("git_blame", json!({"repo": "r", "path": "nope.txt"})).await).contains("not in that revision"));
    assert!(
        err(&f.call("git_blame", json!({"repo": "r", "path": "a.txt", "start_line": 9})).await)
            .contains("between 1 and 3")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remotes_add_list_set_url_remove_under_policy() {
    let f = Fixture::with(|c| {
        c.allowed_schemes = vec!["https".into(), "ssh".into()];
        c.allowed_hosts = vec!["git.example.com".into()];
    })
    .await;
    f.repo("r");
    ok(&f
        .call(
            "git_remote",
            json!({"repo": "r", "action": "add", "name": "origin", "url": "https://git.example.com/a.git"}),
        )
        .await);
    let v = ok(&f.call("git_remote", json!({"repo": "r"})).await).clone();
    assert_eq!(v["remotes"][0]["url"], "https://git.example.com/a.git");
    ok(&f
        .call("git_remote", json!({"repo": "r", "action": "set_url", "name": "origin", "url": "git@git.example.com:a.git", "push": true}))
        .await);
    assert_eq!(f.git("r", &["remote", "get-url", "--push", "origin"]).trim(), "git@git.example.com:a.git");
    for (url, why) in [
        ("https://evil.example.org/a.git", "GIT_ALLOWED_REMOTE_HOSTS"),
        ("git://git.example.com/a.git", "not allowed"),
        ("http://git.example.com/a.git", "not allowed"),
        ("https://user:pw@git.example.com/a.git", "credentials"),
        ("ext::sh -c touch% /tmp/pwned", "never allows"),
        ("/etc", "local path"),
    ] {
        let e = err(&f.call("git_remote", json!({"repo": "r", "action": "add", "name": "x", "url": url})).await);
        assert!(e.contains(why), "{url}: {e}");
        assert!(!e.contains(":pw@"), "{e}");
    }
    assert!(
        err(&f
            .call(
                "git_remote",
                json!({"repo": "r", "action": "add", "name": "origin", "url": "https://git.example.com/b"})
            )
            .await)
        .contains("already exists")
    );
    // A URL with credentials already in the config is never shown.
    f.git("r", &["remote", "add", "leaky", "https://bob:hunter2@git.example.com/x.git"]);
    let r = f.call("git_remote", json!({"repo": "r"})).await;
    assert!(!r.text.contains("hunter2") && !r.text.contains("bob:"), "{}", r.text);
    ok(&f.call("git_remote", json!({"repo": "r", "action": "remove", "name": "leaky"})).await);
    ok(&f.call("git_remote", json!({"repo": "r", "action": "remove", "name": "origin"})).await);
    assert_eq!(f.git("r", &["remote"]), "");
}
