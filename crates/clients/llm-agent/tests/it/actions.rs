//! What the agent does besides requests: approvers' emailed answers to the
//! planner's approval gates — over a real mail server (Dovecot + Postfix),
//! with the email, sql, planner and agent in-process — and the gateway's
//! `request_cancel` and `request_retry`, down the same paths as the "never
//! mind" and "please try again" emails.
//!
//! The planner's fs, git, shell, lint and test are nowhere: a run waits at
//! its gate (the scaffold, its first step) and, once approved, fails
//! without building anything — enough to see the gate open or close.

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_client_llm_agent::config::{Peers, ProviderConfig};
use mcp_test::TestServer;
use mcp_test::mail::MailServer;
use serde_json::{Value, json};

use crate::{Mail, ok, rand_id, templates};

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";
const SECRET: &str = "actions-secret-0123456789-0123456789-0123456789";

/// A planner whose builders are nowhere, waiting for approval at `gate`.
async fn planner(dir: &Path, email: Option<String>, sql: Option<String>, gate: &[&str]) -> TestServer {
    use mcp_client_planner::config::{Config, Peers};
    let nowhere = "http://127.0.0.1:9/mcp".to_owned();
    let peers = Peers {
        fs: nowhere.clone(),
        git: nowhere.clone(),
        shell: nowhere.clone(),
        lint: nowhere.clone(),
        test: nowhere,
        email,
        sql,
        log: None,
        agent: None,
    };
    let mut c = Config::for_tests(&mcp_test::services::sqlite_url(dir, "planner"), templates(), peers);
    c.approval.steps = gate.iter().map(|s| (*s).to_owned()).collect();
    let mut core = mcp_core::CoreConfig::defaults(mcp_client_planner::NAME);
    core.peer_token = Some(mcp_test::TEST_TOKEN.into());
    TestServer::start_program(mcp_client_planner::start(c, core).await.unwrap()).await
}

async fn agent(dir: &Path, peers: Peers) -> TestServer {
    let db = mcp_test::services::sqlite_url(dir, "agent");
    let c = mcp_client_llm_agent::Config::for_tests(&db, templates(), ProviderConfig::Rules, peers);
    let mut core = mcp_core::CoreConfig::defaults(mcp_client_llm_agent::NAME);
    core.peer_token = Some(mcp_test::TEST_TOKEN.into());
    TestServer::start_program(mcp_client_llm_agent::start(c, core).await.unwrap()).await
}

/// The request's status once `pred` holds.
async fn status_when(a: &TestServer, id: &str, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let v = ok(&a.raw().call("request_status", json!({"request_id": id})).await).clone();
        if pred(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "request {id} never got there: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn kind(r: &mcp_test::raw::Reply) -> String {
    assert_eq!(r.result()["isError"], true, "{}", r.text);
    r.result()["_meta"][mcp_core::ErrorKind::META_KEY].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_cancel_and_request_retry_act_like_their_emails() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["a", "p"] {
        std::fs::create_dir_all(dir.path().join(d)).unwrap();
    }
    let p = planner(&dir.path().join("p"), None, None, &[]).await;
    let a = agent(&dir.path().join("a"), Peers { planner: Some(p.url()), ..Peers::default() }).await;
    let c = a.raw();

    // Unknown requests; a request still asking cannot be retried, but it can be cancelled (twice: the same).
    assert_eq!(kind(&c.call("request_cancel", json!({"request_id": "r-nope"})).await), "not_found");
    assert_eq!(kind(&c.call("request_retry", json!({"request_id": "r-nope"})).await), "not_found");
    let asking =
        ok(&c.call("submit_request", json!({"text": "A library called \"Tiny Stats\" for means."})).await).clone();
    assert_eq!(asking["decision"], "asked");
    let id = asking["request_id"].as_str().unwrap().to_owned();
    let r = c.call("request_retry", json!({"request_id": id})).await;
    assert_eq!(kind(&r), "conflict");
    assert!(r.text.contains("is asking: nothing to retry"), "{}", r.text);
    let s = ok(&c.call("request_cancel", json!({"request_id": id, "reason": "changed\nmy mind"})).await).clone();
    assert_eq!(s["state"], "cancelled", "{s}");
    assert_eq!(s["reason"], "cancelled through the API: changed my mind");
    let again = ok(&c.call("request_cancel", json!({"request_id": id})).await).clone();
    assert_eq!(again["state"], "cancelled");

    // A planned request whose run fails (its builders are nowhere) is retried as a new run.
    let text =
        "Name: Retry Me\nSummary: Counts the words, lines and characters of text files.\nLanguage: Python\nKind: CLI\n";
    let planned = ok(&c.call("submit_request", json!({"text": text, "requester": ALICE})).await).clone();
    assert_eq!(planned["decision"], "proceeded", "{planned}");
    let id = planned["request_id"].as_str().unwrap().to_owned();
    let first_run = planned["run_id"].as_str().unwrap().to_owned();
    let r = c.call("request_retry", json!({"request_id": id})).await;
    assert_eq!(kind(&r), "conflict", "the run is still going: {}", r.text);
    let failed = status_when(&a, &id, Duration::from_secs(120), |v| v["run_state"] == "failed").await;
    assert_eq!(failed["run_id"], first_run.as_str());
    let retried = ok(&c.call("request_retry", json!({"request_id": id})).await).clone();
    let second_run = retried["run_id"].as_str().unwrap().to_owned();
    assert_ne!(second_run, first_run, "{retried}");
    assert_eq!(retried["attempt"], 2, "{retried}");
    let run = ok(&p.raw().call("plan_status", json!({"run_id": second_run})).await).clone();
    assert_eq!(run["request_id"], format!("{id}-retry2"));

    // Cancelling the planned request cancels its run while it is still going.
    let s = ok(&c.call("request_cancel", json!({"request_id": id})).await).clone();
    assert_eq!(s["state"], "cancelled", "{s}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = ok(&p.raw().call("plan_status", json!({"run_id": second_run})).await).clone();
        if run["state"] == "cancelled" {
            assert_eq!(run["cancel_requested"], true);
            break;
        }
        assert!(Instant::now() < deadline, "the run was not cancelled: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Closed: nothing more to retry.
    assert_eq!(kind(&c.call("request_retry", json!({"request_id": id})).await), "conflict");
}

/// The fixture for approvals by email: a real mail server, the email
/// server on it, sql, a planner gating its scaffold, and the agent reading
/// the inbox.
struct Mailroom {
    mail: MailServer,
    _dir: tempfile::TempDir,
    sql: TestServer,
    planner: TestServer,
    _email: TestServer,
    _agent: TestServer,
}

impl Mailroom {
    async fn start() -> Self {
        mcp_core::install_crypto_provider();
        let mail = MailServer::start();
        let dir = tempfile::tempdir().unwrap();
        for d in ["a", "p", "email"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let vars: Vec<(&str, String)> = vec![
            ("EMAIL_DATA_DIR", dir.path().join("email").display().to_string()),
            ("EMAIL_IMAP_URL", mail.imap_url()),
            ("EMAIL_SMTP_URL", mail.smtp_url()),
            ("EMAIL_USERNAME", "agent@example.test".into()),
            ("EMAIL_PASSWORD", mcp_test::mail::PASSWORD.into()),
            ("EMAIL_ADDRESS", "agent@example.test".into()),
            ("EMAIL_TOKEN_SECRET", SECRET.into()),
            ("EMAIL_ALLOWED_SENDERS", format!("{ALICE},{BOB}")),
        ];
        let config = mcp_core::config::read_vars(&vars, mcp_server_email::Config::read).unwrap();
        let email = TestServer::start_program(mcp_server_email::open(config).await.unwrap().into()).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while email.raw().get("/ready").await.status != 200 {
            assert!(Instant::now() < deadline, "the email server did not get ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let sql =
            mcp_server_sql::server(mcp_server_sql::Config::for_url(&mcp_test::services::sqlite_url(dir.path(), "sql")))
                .await
                .unwrap();
        let sql = TestServer::start(sql).await;
        let planner = planner(&dir.path().join("p"), Some(email.url()), Some(sql.url()), &["scaffold"]).await;
        let peers =
            Peers { email: Some(email.url()), sql: Some(sql.url()), planner: Some(planner.url()), ..Peers::default() };
        let agent = agent(&dir.path().join("a"), peers).await;
        Self { mail, _dir: dir, sql, planner, _email: email, _agent: agent }
    }

    /// Mail `body` from `from` to `to` over SMTP.
    fn send(&self, from: &str, to: &str, subject: &str, body: &str) {
        let raw = format!(
            "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@example.test>\r\n\
             Date: Sat, 21 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
             \r\n{body}\r\n",
            rand_id()
        );
        self.mail.submit(from, to, raw.as_bytes());
    }

    /// The first message in `user`'s inbox matching `pred`.
    async fn wait_mail(&self, user: &str, pred: impl Fn(&Mail) -> bool) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let md = self.mail.maildir(user);
            let mut files: Vec<_> = ["new", "cur"]
                .iter()
                .flat_map(|s| std::fs::read_dir(md.join(s)).into_iter().flatten().flatten())
                .map(|e| e.path())
                .collect();
            files.sort();
            if let Some(m) = files.iter().map(|p| Mail::parse(&std::fs::read(p).unwrap())).find(|m| pred(m)) {
                return m;
            }
            assert!(Instant::now() < deadline, "no matching mail for {user}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Start a run whose scaffold waits; its approval's id and the approval email.
    async fn gated_run(&self, name: &str, request_id: &str) -> (String, String, Mail) {
        let spec = json!({"name": name, "summary": "A gated demo.", "language": "python", "kind": "cli"});
        let args = json!({"spec": spec, "request": {"request_id": request_id, "requester": ALICE}});
        let run = ok(&self.planner.raw().call("plan_start", args).await)["id"].as_str().unwrap().to_owned();
        let m = self.wait_mail("alice", |m| m.subject.starts_with("Approval needed") && m.body.contains(name)).await;
        let l = ok(&self.planner.raw().call("approvals_list", json!({"run_id": run})).await).clone();
        let id = l["approvals"][0]["id"].as_str().unwrap().to_owned();
        assert!(m.reply_to.starts_with(&format!("agent+l{id}")), "the token names the approval: {m:?}");
        (run, id, m)
    }

    async fn approval(&self, id: &str) -> Value {
        ok(&self.planner.raw().call("approval_get", json!({"id": id})).await).clone()
    }

    /// The agent's decisions about an approval, once `n` are recorded.
    async fn decisions(&self, approval_id: &str, n: usize) -> Vec<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.sql.raw().call("decision_list", json!({"actor": mcp_client_llm_agent::NAME})).await;
            let d: Vec<(String, String)> = ok(&r)["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["inputs"]["approval_id"] == approval_id)
                .map(|d| (d["decision"].as_str().unwrap().to_owned(), d["rationale"].as_str().unwrap_or("").to_owned()))
                .collect();
            if d.len() >= n || Instant::now() > deadline {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvers_answer_by_email() {
    let room = Mailroom::start().await;
    let (run, id, m) = room.gated_run("Gate Keeper", "req-gate").await;
    assert!(m.body.contains("approve") && m.body.contains("deny <your reason>") && m.body.contains(&id), "{}", m.body);
    let subject = format!("Re: {}", m.subject);

    // Bob is a trusted sender but not an approver: refused, told so, nothing changes.
    room.send(BOB, &m.reply_to, &subject, "approve");
    let refusal = room.wait_mail("bob", |r| r.body.contains("was not applied")).await;
    assert!(refusal.body.contains(&id), "{}", refusal.body);
    assert_eq!(room.approval(&id).await["state"], "pending");

    // Alice answers neither way: asked again, on the same token.
    room.send(ALICE, &m.reply_to, &subject, "Maybe after lunch?");
    let ask = room.wait_mail("alice", |r| r.body.contains("could not tell whether you approve")).await;
    assert!(ask.reply_to.starts_with(&format!("agent+l{id}")), "{ask:?}");
    assert_eq!(room.approval(&id).await["state"], "pending");

    // Alice approves (quoted history below her answer is not read): the gate opens.
    room.send(ALICE, &ask.reply_to, &subject, "Approved.\n\nOn Monday the agent wrote:\n> deny <your reason>");
    let thanks = room.wait_mail("alice", |r| r.body.contains("is approved")).await;
    assert!(thanks.body.contains(&id), "{}", thanks.body);
    let a = room.approval(&id).await;
    assert_eq!((a["state"].as_str(), a["decided_by"].as_str()), (Some("approved"), Some(ALICE)), "{a}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let v = ok(&room.planner.raw().call("plan_status", json!({"run_id": run})).await).clone();
        if v["steps"][0]["state"] != "awaiting_approval" {
            break;
        }
        assert!(Instant::now() < deadline, "the scaffold still waits: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let d = room.decisions(&id, 3).await;
    let kinds: Vec<&str> = d.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["refused", "asked", "approved"], "{d:?}");
    assert!(d[0].1.contains("bob@example.test is not among the approvers"), "{d:?}");

    // Another run: Alice denies it with a reason, which the run's report carries.
    let (run, id, m) = room.gated_run("Gate Closer", "req-gate-2").await;
    room.send(ALICE, &m.reply_to, &format!("Re: {}", m.subject), "Deny: not this week\n\n-- \nAlice");
    room.wait_mail("alice", |r| r.body.contains("is denied")).await;
    let a = room.approval(&id).await;
    assert_eq!((a["state"].as_str(), a["reason"].as_str()), (Some("denied"), Some("not this week")), "{a}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = loop {
        let v = ok(&room.planner.raw().call("plan_status", json!({"run_id": run})).await).clone();
        if v["state"] == "cancelled" {
            break v;
        }
        assert!(Instant::now() < deadline, "the run did not end: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(done["reason"].as_str().unwrap().contains("denied by alice@example.test: not this week"), "{done}");
    let report =
        room.wait_mail("alice", |r| r.body.contains("Gate Closer") && r.body.contains("could not finish")).await;
    assert!(report.body.contains("denied by alice@example.test: not this week"), "{}", report.body);
    // Answering again after the decision changes nothing, and says so.
    room.send(ALICE, &m.reply_to, &format!("Re: {}", m.subject), "approve");
    room.wait_mail("alice", |r| r.body.contains("was already denied")).await;
    assert_eq!(room.approval(&id).await["state"], "denied");
    let kinds: Vec<String> = room.decisions(&id, 2).await.into_iter().map(|(k, _)| k).collect();
    assert_eq!(kinds, ["denied", "noted"]);
}
