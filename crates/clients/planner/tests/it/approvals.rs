//! Human approval gates against the real servers: a step named in
//! `PLANNER_APPROVAL_STEPS` waits with a pending approval (visible in
//! `plan_status` and `approvals_list`, mailed with a signed reply token),
//! runs once approved, and ends the run when denied, expired or cancelled —
//! the report saying who denied it and why. `approval_decide` is idempotent
//! and refuses a second, different answer. The approvals table itself is
//! exercised on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use mcp_client_planner::store::{Decided, NewApproval, Store};
use mcp_test::TestServer;
use mcp_types::approval::{ApprovalDecision, ApprovalState};
use serde_json::{Value, json};

use crate::{Fleet, err, ok, spec, wait_done};

/// The run once its step `key` is in `state`.
async fn wait_step(planner: &TestServer, run_id: &str, key: &str, state: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let v = ok(&planner.raw().call("plan_status", json!({"run_id": run_id})).await).clone();
        let step = v["steps"].as_array().unwrap().iter().find(|s| s["def"]["key"] == key).unwrap().clone();
        if step["state"] == state {
            return v;
        }
        assert!(Instant::now() < deadline, "step {key} of {run_id} is not {state}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The error kind of a failed call.
fn kind(r: &mcp_test::raw::Reply) -> String {
    assert_eq!(r.result()["isError"], true, "{}", r.text);
    r.result()["_meta"][mcp_core::ErrorKind::META_KEY].as_str().unwrap_or("").to_owned()
}

/// Decisions recorded for a project, in order.
async fn decisions(fleet: &Fleet, project: &str) -> Vec<String> {
    let d = ok(&fleet.sql.raw().call("decision_list", json!({"project": project})).await).clone();
    d["items"].as_array().unwrap().iter().map(|i| i["decision"].as_str().unwrap().to_owned()).collect()
}

fn start(planner: &TestServer, name: &str, id: &str, mail: Option<&str>) -> impl Future<Output = String> {
    let c = planner.raw();
    let mut request = json!({"request_id": id, "requester": "alice@example.test"});
    if let Some(m) = mail {
        request["reply_to"] = json!(m);
    }
    let args = json!({"spec": spec(name, "python", "cli"), "request": request});
    async move { ok(&c.call("plan_start", args).await)["id"].as_str().unwrap().to_owned() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_waits_for_approval_and_runs_once_approved() {
    let fleet = Fleet::start().await;
    let planner = fleet.planner(|c| c.approval.steps = vec!["tag".into()]).await;
    let mail = fleet.request_mail("Gated release").await;
    let run_id = start(&planner, "Gated", "req-gated", Some(&mail)).await;

    // Everything up to the tag runs; the tag waits, visibly.
    let v = wait_step(&planner, &run_id, "tag", "awaiting_approval", Duration::from_secs(300)).await;
    assert_eq!(v["state"], "running", "{v}");
    assert_eq!(v["steps"][7]["state"], "succeeded", "commit_work ran: {v}");
    let a = v["approvals"][0].clone();
    assert_eq!(
        (a["step"].as_str(), a["state"].as_str(), a["action"].as_str()),
        (Some("tag"), Some("pending"), Some("tag"))
    );
    let id = a["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ap-") && id.len() == 15, "{id}");
    assert_eq!(v["steps"][8]["approval_id"], id.as_str(), "the waiting step names its approval: {v}");
    assert_eq!(a["run_id"], run_id.as_str());
    assert_eq!(a["request_id"], "req-gated");
    assert!(a["summary"].as_str().unwrap().contains("Tag v0.1.0") && a["summary"].as_str().unwrap().contains("gated"));
    assert!(a.get("decided_at").is_none() && a["trace_id"].is_string(), "{a}");
    let status = planner.raw().call("plan_status", json!({"run_id": run_id})).await;
    assert!(status.text.contains(&format!("[approval {id} until ")), "{}", status.text);
    assert!(fleet.tags("gated").is_empty(), "not tagged before the approval");

    // The queue, the approval with its email approvers (the requester by default), the email.
    let l = ok(&planner.raw().call("approvals_list", json!({"state": "pending"})).await).clone();
    assert_eq!(l["approvals"].as_array().unwrap().len(), 1, "{l}");
    assert_eq!(l["approvals"][0]["id"], id.as_str());
    let l = ok(&planner.raw().call("approvals_list", json!({"state": "approved"})).await).clone();
    assert!(l["approvals"].as_array().unwrap().is_empty(), "{l}");
    let g = ok(&planner.raw().call("approval_get", json!({"id": id})).await).clone();
    assert_eq!(g["approvers"], json!(["alice@example.test"]));
    assert_eq!(g["expires_at"], a["expires_at"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let m = loop {
        if let Some(m) = fleet.outbox().into_iter().find(|m| m.contains("Approval needed")) {
            break m;
        }
        assert!(Instant::now() < deadline, "no approval email: {:?}", fleet.outbox());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let m = m.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(m.contains("To: alice@example.test"), "{m}");
    assert!(m.contains(&format!("Reply-To: agent+l{id}")), "the reply token carries the approval id: {m}");
    assert!(m.contains("Approval needed: Tag v0.1.0 when lint and tests pass (gated)"), "{m}");
    for needle in ["approve", "deny <your reason>", &id, "projects/gated", "web UI"] {
        assert!(m.contains(needle), "{needle} missing: {m}");
    }
    // Only one email, however long it waits (the gate polls; the email has its key).
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(fleet.outbox().iter().filter(|m| m.contains("Approval needed")).count(), 1);

    // Unknown ids, bad input.
    let r = planner.raw().call("approval_get", json!({"id": "ap-000000000000"})).await;
    assert_eq!(kind(&r), "not_found");
    let r = planner
        .raw()
        .call("approval_decide", json!({"id": "ap-nope", "decision": "approve", "decided_by": "ops@example.test"}))
        .await;
    assert_eq!(kind(&r), "not_found");
    let r = planner.raw().call("approval_decide", json!({"id": id, "decision": "approve", "decided_by": " "})).await;
    assert_eq!(kind(&r), "invalid_input");
    let r = planner.raw().call("approval_decide", json!({"id": id, "decision": "maybe", "decided_by": "x"})).await;
    assert!(r.result()["isError"] == true || r.error().is_object(), "{}", r.text);

    // Approve: the run goes on; the same answer again is the same approval; another answer is a conflict.
    let decide = |decision: &str, by: &str| {
        let c = planner.raw();
        let args = json!({"id": id, "decision": decision, "decided_by": by, "reason": "release it"});
        async move { c.call("approval_decide", args).await }
    };
    let first = ok(&decide("approve", "ops@example.test").await).clone();
    assert_eq!(first["state"], "approved");
    assert_eq!(first["decided_by"], "ops@example.test");
    assert_eq!(first["reason"], "release it");
    assert!(first["decided_at"].is_string());
    let again = ok(&decide("approve", "someone-else@example.test").await).clone();
    assert_eq!(again, first, "the same decision again returns the approval as it stands");
    let r = decide("deny", "ops@example.test").await;
    assert_eq!(kind(&r), "conflict");
    assert!(err(&r).contains("already approved by ops@example.test"), "{}", r.text);

    let done = wait_done(&planner, &run_id, Duration::from_secs(120)).await;
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["steps"][8]["state"], "succeeded");
    assert_eq!(fleet.tags("gated"), ["v0.1.0"]);
    assert_eq!(done["approvals"][0]["state"], "approved");
    let report = fleet.outbox().into_iter().find(|m| m.contains("is ready")).expect("the report");
    assert!(report.contains("Re: Gated release"), "{report}");
    let d = decisions(&fleet, "gated").await;
    assert_eq!(d, ["planned", "approval_requested", "approved", "completed"], "{d:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_expired_and_cancelled_approvals_end_the_run_with_a_report() {
    let fleet = Fleet::start().await;
    // The first command step (install) waits: nothing is built before it, so the runs are quick.
    let planner = fleet
        .planner(|c| {
            c.approval.steps = vec!["command".into()];
            c.approval.timeout = Duration::from_secs(8);
            c.approval.approvers = vec!["ops@example.test".into()];
        })
        .await;

    // Denied, with a reason.
    let mail = fleet.request_mail("Deny me").await;
    let run_id = start(&planner, "Deny Me", "req-deny", Some(&mail)).await;
    let v = wait_step(&planner, &run_id, "install", "awaiting_approval", Duration::from_secs(60)).await;
    let id = v["approvals"][0]["id"].as_str().unwrap().to_owned();
    let g = ok(&planner.raw().call("approval_get", json!({"id": id})).await).clone();
    assert_eq!(g["approvers"], json!(["ops@example.test"]), "PLANNER_APPROVERS wins over the requester");
    let denied = ok(&planner
        .raw()
        .call(
            "approval_decide",
            json!({"id": id, "decision": "deny", "decided_by": "ops@example.test", "reason": "not during the freeze"}),
        )
        .await)
    .clone();
    assert_eq!(denied["state"], "denied");
    let done = wait_done(&planner, &run_id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "cancelled", "{done}");
    let reason = done["reason"].as_str().unwrap();
    assert!(
        reason.contains("Install dependencies") && reason.contains("denied by ops@example.test: not during the freeze"),
        "{done}"
    );
    let install = &done["steps"][3];
    assert_eq!((install["state"].as_str(), install["error_kind"].as_str()), (Some("skipped"), Some("forbidden")));
    assert_eq!(done["steps"][4]["state"], "skipped", "the run ended: {done}");
    assert_eq!(done["steps"][9]["state"], "succeeded", "the report always runs: {done}");
    let report = fleet.outbox().into_iter().find(|m| m.contains("Deny Me") && m.contains("could not finish")).unwrap();
    let report = report.replace("=\r\n", "").replace("\r\n", "\n");
    assert!(report.contains("denied by ops@example.test: not during the freeze"), "{report}");
    let r = planner
        .raw()
        .call("approval_decide", json!({"id": id, "decision": "approve", "decided_by": "ops@example.test"}))
        .await;
    assert_eq!(kind(&r), "conflict", "a denial stands");
    let d = decisions(&fleet, "deny-me").await;
    assert_eq!(d, ["planned", "approval_requested", "denied", "cancelled"], "{d:?}");

    // Nobody answers: the approval expires, which counts as a denial.
    let run_id = start(&planner, "Too Late", "req-late", None).await;
    let v = wait_step(&planner, &run_id, "install", "awaiting_approval", Duration::from_secs(60)).await;
    let id = v["approvals"][0]["id"].as_str().unwrap().to_owned();
    let done = wait_done(&planner, &run_id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "cancelled", "{done}");
    assert!(done["reason"].as_str().unwrap().contains("not approved in time"), "{done}");
    let a = ok(&planner.raw().call("approval_get", json!({"id": id})).await).clone();
    assert_eq!(a["state"], "expired", "{a}");
    assert_eq!(a["decided_at"], a["expires_at"]);
    let r = planner
        .raw()
        .call("approval_decide", json!({"id": id, "decision": "approve", "decided_by": "ops@example.test"}))
        .await;
    assert_eq!(kind(&r), "conflict");
    assert!(err(&r).contains("expired"), "{}", r.text);
    let report = fleet.outbox().into_iter().find(|m| m.contains("Too Late")).unwrap();
    assert!(report.contains("not approved in time"), "{report}");
    assert!(decisions(&fleet, "too-late").await.contains(&"approval_expired".to_owned()));

    // Cancelled while it waits: the approval can no longer be decided.
    let run_id = start(&planner, "Never Mind", "req-cancel", None).await;
    let v = wait_step(&planner, &run_id, "install", "awaiting_approval", Duration::from_secs(60)).await;
    let id = v["approvals"][0]["id"].as_str().unwrap().to_owned();
    ok(&planner.raw().call("plan_cancel", json!({"run_id": run_id})).await);
    let done = wait_done(&planner, &run_id, Duration::from_secs(60)).await;
    assert_eq!(done["state"], "cancelled", "{done}");
    assert_eq!(done["steps"][3]["error_kind"], "cancelled", "{done}");
    let a = ok(&planner.raw().call("approval_get", json!({"id": id})).await).clone();
    assert_eq!(a["state"], "expired");
    assert!(a["reason"].as_str().unwrap().contains("cancelled on request"), "{a}");
    let l = ok(&planner.raw().call("approvals_list", json!({"limit": 2})).await).clone();
    assert_eq!(l["approvals"][0]["id"], id.as_str(), "newest first: {l}");
    assert_eq!(l["approvals"].as_array().unwrap().len(), 2);
    let r = planner.raw().call("approvals_list", json!({"limit": 501})).await;
    assert_eq!(kind(&r), "invalid_input");
}

/// The table on both backends: one approval per run and step, one winner
/// among deciders, repeats answered, expiry on read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_approvals_table_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(dir.path(), "approvals") {
        let store = Store::open(&url).await.unwrap();
        let new = |run: &'static str, timeout_ms| NewApproval {
            run_id: run,
            request_id: "req-1",
            step: "tag",
            action: "tag",
            summary: "Tag v0.1.0",
            approvers: &[],
            timeout_ms,
            trace_id: None,
        };
        let a = store.approval_create(new("run-a", 60_000)).await.unwrap();
        let again = store.approval_create(new("run-a", 1)).await.unwrap();
        assert_eq!(a, again, "{label}: one approval per run and step");
        assert_eq!(a.state, ApprovalState::Pending);
        // Two deciders at once: exactly one wins.
        let (x, y) = tokio::join!(
            store.approval_decide(&a.id, ApprovalDecision::Approve, "x@example.test", None),
            store.approval_decide(&a.id, ApprovalDecision::Deny, "y@example.test", Some("no")),
        );
        let wins = [&x, &y].iter().filter(|d| matches!(d, Ok(Decided::Now(_)))).count();
        assert_eq!(wins, 1, "{label}: {x:?} {y:?}");
        assert!([&x, &y].iter().any(|d| matches!(d, Ok(Decided::Conflict(_)))), "{label}");
        let b = store.approval_create(new("run-b", 1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let b = store.approval(&b.id).await.unwrap().unwrap();
        assert_eq!(b.state, ApprovalState::Expired, "{label}");
        assert!(matches!(
            store.approval_decide(&b.id, ApprovalDecision::Deny, "x", None).await.unwrap(),
            Decided::Conflict(_)
        ));
        assert_eq!(store.approval_decide("ap-x", ApprovalDecision::Deny, "x", None).await.unwrap(), Decided::NotFound);
        let pending = store.approvals(Some(ApprovalState::Pending), None, 10).await.unwrap();
        assert!(pending.is_empty(), "{label}: {pending:?}");
        assert_eq!(store.approvals(None, Some("run-b"), 10).await.unwrap().len(), 1);
        assert!(store.approval_wait_ms("run-b", mcp_core::clock::now_ms()).await.unwrap() <= 5, "{label}");
    }
}
