//! The spec workflow: requirements → design → tasks in order, approval
//! states, role checks on decisions (viewer refused, operator and admin
//! allowed), idempotent repeats and conflicts, task counts and ticking —
//! on SQLite and on a real PostgreSQL.

use serde_json::json;

use crate::{Env, OPERATOR, VIEWER, err, kind, ok};

async fn flow(env: &Env, label: &str) {
    let s = "user-login";
    let out = env.ok("spec_create", json!({"spec": s, "title": "User login"})).await;
    assert_eq!(out["created"], true, "{label}");
    let again = env.ok("spec_create", json!({"spec": s, "title": "User login"})).await;
    assert_eq!(again["created"], false, "{label}");
    let (k, _) = env.fail("spec_create", json!({"spec": s, "title": "Other"})).await;
    assert_eq!(k, "conflict", "{label}");
    let (k, _) = env.fail("spec_create", json!({"spec": "../x"})).await;
    assert_eq!(k, "invalid_input", "{label}");

    let st = env.ok("spec_status", json!({"spec": s})).await;
    assert_eq!(st["phase"], "requirements", "{label}");

    // Design before the requirements are approved: refused.
    let (k, m) = env.fail("spec_document_write", json!({"spec": s, "document": "design", "content": "# D"})).await;
    assert_eq!(k, "conflict", "{label}");
    assert!(m.contains("only after requirements is approved"), "{label}: {m}");

    // Requirements from data, through the template.
    let w = env
        .ok(
            "spec_document_write",
            json!({"spec": s, "document": "requirements", "data": {"name": "Login", "summary": "Sign in.",
                   "requirements": [{"title": "Sign in", "acceptance": ["WHEN ok THEN session"]}]}}),
        )
        .await;
    assert_eq!(w["document"]["state"], "draft", "{label}");
    assert_eq!(w["document"]["revision"], 1, "{label}");
    assert_eq!(w["document"]["source"], "template:requirements (builtin)", "{label}");

    // Only a submitted document can be decided.
    let (k, _) = env.fail("spec_decide", json!({"spec": s, "document": "requirements", "decision": "approve"})).await;
    assert_eq!(k, "conflict", "{label}");
    let sub = env.ok("spec_submit", json!({"spec": s, "document": "requirements"})).await;
    assert_eq!(sub["document"]["state"], "pending_approval", "{label}");
    assert_eq!(sub["submitted"], true);
    let sub = env.ok("spec_submit", json!({"spec": s, "document": "requirements"})).await;
    assert_eq!(sub["submitted"], false, "{label}: a repeat returns it");
    // Frozen while pending.
    let (k, _) = env.fail("spec_document_write", json!({"spec": s, "document": "requirements", "content": "x"})).await;
    assert_eq!(k, "conflict", "{label}");
    let pending = env.ok("spec_list", json!({"state": "pending_approval"})).await;
    assert_eq!(pending["specs"][0]["spec"]["name"], s, "{label}");

    // A viewer may read but not decide.
    let r =
        env.call_as(VIEWER, "spec_decide", json!({"spec": s, "document": "requirements", "decision": "approve"})).await;
    let m = err(&r);
    assert_eq!(kind(&r), "forbidden", "{label}: {m}");
    assert!(m.contains("operator"), "{m}");
    let r = env.call_as(VIEWER, "spec_document_get", json!({"spec": s, "document": "requirements"})).await;
    assert!(ok(&r)["document"]["content"].as_str().unwrap().contains("Sign in"), "{label}");
    let r = env.call_as(VIEWER, "spec_document_write", json!({"spec": s, "document": "design", "content": "x"})).await;
    assert_eq!(kind(&r), "forbidden", "{label}");

    // Changes requested need a comment; the operator's decision is recorded by name.
    let (k, m) =
        env.fail("spec_decide", json!({"spec": s, "document": "requirements", "decision": "request_changes"})).await;
    assert_eq!(k, "invalid_input", "{m}");
    let r = env
        .call_as(
            OPERATOR,
            "spec_decide",
            json!({"spec": s, "document": "requirements", "decision": "request_changes", "comment": "add sign-out"}),
        )
        .await;
    let d = ok(&r);
    assert_eq!(d["document"]["state"], "changes_requested", "{label}");
    assert_eq!(d["document"]["decided_by"], "olga", "{label}");
    assert_eq!(d["document"]["comment"], "add sign-out", "{label}");
    // The first decision stands.
    let (k, _) = env.fail("spec_decide", json!({"spec": s, "document": "requirements", "decision": "approve"})).await;
    assert_eq!(k, "conflict", "{label}");

    // Revision 2, then approval by an admin deciding for a person (the gateway's queue).
    let w = env
        .ok(
            "spec_document_write",
            json!({"spec": s, "document": "requirements", "content": "# R\n\n1. Sign in\n2. Sign out\n"}),
        )
        .await;
    assert_eq!(w["document"]["revision"], 2, "{label}");
    assert_eq!(w["document"]["source"], "caller", "{label}");
    env.ok("spec_submit", json!({"spec": s, "document": "requirements"})).await;
    let (k, m) = env
        .fail("spec_decide", json!({"spec": s, "document": "requirements", "decision": "approve", "revision": 1}))
        .await;
    assert_eq!(k, "conflict", "{label}: {m}");
    let d = env
        .ok(
            "spec_decide",
            json!({"spec": s, "document": "requirements", "decision": "approve", "revision": 2, "decided_by": "ada@example.com"}),
        )
        .await;
    assert_eq!(d["document"]["state"], "approved", "{label}");
    assert_eq!(d["document"]["decided_by"], "ada@example.com (via fleet)", "{label}");
    let d = env.ok("spec_decide", json!({"spec": s, "document": "requirements", "decision": "approve"})).await;
    assert_eq!(d["decided"], false, "{label}: the same decision again returns it");
    let (k, _) = env.fail("spec_document_write", json!({"spec": s, "document": "requirements", "content": "x"})).await;
    assert_eq!(k, "conflict", "{label}: approved documents are frozen");

    // Tasks before the design: refused; then design, approved; then tasks.
    let (k, _) =
        env.fail("spec_document_write", json!({"spec": s, "document": "tasks", "content": "- [ ] 1. x"})).await;
    assert_eq!(k, "conflict", "{label}");
    env.ok("spec_document_write", json!({"spec": s, "document": "design", "content": "# Design\n"})).await;
    let st = env.ok("spec_status", json!({"spec": s})).await;
    assert_eq!(st["phase"], "design", "{label}");
    env.ok("spec_submit", json!({"spec": s, "document": "design"})).await;
    let r = env.call_as(OPERATOR, "spec_decide", json!({"spec": s, "document": "design", "decision": "approve"})).await;
    ok(&r);
    env.ok(
        "spec_document_write",
        json!({"spec": s, "document": "tasks", "data": {"name": "Login", "tasks": [
            {"title": "Hash passwords"}, {"title": "Session", "state": "in_progress"}, {"title": "Sign out", "state": "done"}]}}),
    )
    .await;
    let st = env.ok("spec_status", json!({"spec": s})).await;
    assert_eq!(st["phase"], "tasks", "{label}");
    assert_eq!(st["tasks"], json!({"total": 3, "pending": 1, "in_progress": 1, "done": 1}), "{label}");
    // Ticking waits for the approval.
    let (k, _) = env.fail("spec_task_update", json!({"spec": s, "task": 1, "state": "done"})).await;
    assert_eq!(k, "conflict", "{label}");
    env.ok("spec_submit", json!({"spec": s, "document": "tasks"})).await;
    env.ok("spec_decide", json!({"spec": s, "document": "tasks", "decision": "approve"})).await;
    let st = env.ok("spec_status", json!({"spec": s})).await;
    assert_eq!(st["phase"], "implementation", "{label}");
    for n in [1, 2] {
        let t = env.ok("spec_task_update", json!({"spec": s, "task": n, "state": "done"})).await;
        assert!(t["line"].as_str().unwrap().starts_with("- [x]"), "{label}: {t}");
    }
    let (k, _) = env.fail("spec_task_update", json!({"spec": s, "task": 4, "state": "done"})).await;
    assert_eq!(k, "not_found", "{label}");
    let st = env.ok("spec_status", json!({"spec": s})).await;
    assert_eq!(st["phase"], "complete", "{label}: {st}");
    assert_eq!(st["tasks"]["done"], 3, "{label}");
    let tasks = env.ok("spec_document_get", json!({"spec": s, "document": "tasks"})).await;
    assert_eq!(tasks["document"]["state"], "approved", "{label}: ticking keeps the approval");
    let actions: Vec<&str> = st["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"request_changes") && actions.contains(&"task"), "{label}: {actions:?}");

    // Rejection: a new spec's requirements rejected with a comment, then rewritten.
    env.ok("spec_create", json!({"spec": "billing"})).await;
    env.ok("spec_document_write", json!({"spec": "billing", "document": "requirements", "content": "# R"})).await;
    env.ok("spec_submit", json!({"spec": "billing", "document": "requirements"})).await;
    let d = env
        .ok(
            "spec_decide",
            json!({"spec": "billing", "document": "requirements", "decision": "reject", "comment": "out of scope"}),
        )
        .await;
    assert_eq!(d["document"]["state"], "rejected", "{label}");
    let st = env.ok("spec_status", json!({"spec": "billing"})).await;
    assert!(st["next"].as_str().unwrap().contains("rejected"), "{label}");
    let (k, _) = env.fail("spec_status", json!({"spec": "nope"})).await;
    assert_eq!(k, "not_found", "{label}");
    let all = env.ok("spec_list", json!({})).await;
    assert_eq!(all["specs"].as_array().unwrap().len(), 2, "{label}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workflow_on_both_backends() {
    let data = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(data.path(), "spec") {
        let env = Env::on(tempfile::tempdir().unwrap(), &url, |_| {}).await;
        flow(&env, label).await;
    }
}

/// Two operators deciding at once: exactly one decision wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_decisions() {
    let env = Env::start().await;
    env.ok("spec_create", json!({"spec": "race"})).await;
    env.ok("spec_document_write", json!({"spec": "race", "document": "requirements", "content": "# R"})).await;
    env.ok("spec_submit", json!({"spec": "race", "document": "requirements"})).await;
    let a = env.call("spec_decide", json!({"spec": "race", "document": "requirements", "decision": "approve"}));
    let b = env.call(
        "spec_decide",
        json!({"spec": "race", "document": "requirements", "decision": "reject", "comment": "no"}),
    );
    let (a, b) = tokio::join!(a, b);
    let wins = [&a, &b].iter().filter(|r| r.result()["isError"] == false).count();
    assert_eq!(wins, 1, "{}\n{}", a.text, b.text);
}
