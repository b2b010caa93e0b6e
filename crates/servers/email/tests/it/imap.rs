//! IMAP mode against Dovecot and Postfix on loopback: arrival latency with
//! IDLE, threading as a mail client sees it, the mailbox tools, reconnects,
//! polling without IDLE, and a UIDVALIDITY change.

use std::time::{Duration, Instant};

use mcp_server_email::config as cfg;
use serde_json::{Value, json};

use crate::{Fixture, MailServer, ok};

async fn deliver(mail: &MailServer, user: &str, raw: Vec<u8>) {
    let (port, user) = (mail.lmtp_port, format!("{user}@example.test"));
    tokio::task::spawn_blocking(move || {
        crate::mailserver::transfer(port, true, "sender@example.test", &user, &raw).unwrap()
    })
    .await
    .unwrap();
}

async fn submit(mail: &MailServer, from: &str, to: &str, raw: Vec<u8>) {
    let (port, from, to) = (mail.smtp_port, from.to_owned(), to.to_owned());
    tokio::task::spawn_blocking(move || crate::mailserver::transfer(port, false, &from, &to, &raw).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_delivers_new_mail_within_a_second() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |_| {}).await;
    let mut cursor = f.ok("wait_for_new", json!({"timeout_secs": 1})).await["cursor"].as_str().unwrap().to_owned();
    let mut lmtp = Vec::new();
    for i in 0..10 {
        let (raw, c) = (f.server.raw(), cursor.clone());
        let waiting = tokio::spawn(async move {
            let r = raw.call("wait_for_new", json!({"cursor": c, "timeout_secs": 20})).await;
            (Instant::now(), r)
        });
        // Let the call reach its wait.
        tokio::time::sleep(Duration::from_millis(300)).await;
        deliver(
            &mail,
            "agent",
            crate::mail("alice@example.test", "agent@example.test", &format!("n{i}"), &format!("<lat{i}@x>"), "hi"),
        )
        .await;
        let arrived = Instant::now();
        let (returned, r) = waiting.await.unwrap();
        let v = ok(&r);
        assert_eq!(v["messages"].as_array().unwrap().len(), 1, "{v}");
        assert_eq!(v["messages"][0]["subject"], format!("n{i}"));
        cursor = v["cursor"].as_str().unwrap().to_owned();
        lmtp.push(returned.duration_since(arrived));
    }
    // The same through Postfix (SMTP, queue, LMTP), measured from the end of the SMTP submission.
    let mut smtp = Vec::new();
    for i in 0..5 {
        let (raw, c) = (f.server.raw(), cursor.clone());
        let waiting = tokio::spawn(async move {
            let r = raw.call("wait_for_new", json!({"cursor": c, "timeout_secs": 20})).await;
            (Instant::now(), r)
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t0 = Instant::now();
        submit(
            &mail,
            "alice@example.test",
            "agent@example.test",
            crate::mail("alice@example.test", "agent@example.test", &format!("s{i}"), &format!("<slat{i}@x>"), "hi"),
        )
        .await;
        let (returned, r) = waiting.await.unwrap();
        let v = ok(&r);
        assert_eq!(v["messages"].as_array().unwrap().len(), 1, "{v}");
        cursor = v["cursor"].as_str().unwrap().to_owned();
        smtp.push(returned.duration_since(t0));
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        (v[v.len() / 2].as_secs_f64() * 1000.0, v[v.len() - 1].as_secs_f64() * 1000.0)
    };
    let (lmed, lmax) = stats(&mut lmtp);
    let (smed, smax) = stats(&mut smtp);
    println!(
        "IDLE latency, mailbox arrival (LMTP 250) to wait_for_new returning: median {lmed:.1} ms, max {lmax:.1} ms (n=10); \
         SMTP submission to Postfix to wait_for_new returning: median {smed:.1} ms, max {smax:.1} ms (n=5)"
    );
    assert!(lmax < 1000.0, "arrival to return must be under 1 s with IDLE; max {lmax} ms");
}

const THREAD_CHECK: &str = r#"
import email, imaplib, json, sys
port, parent, mid = int(sys.argv[1]), sys.argv[2], sys.argv[3]
out = {}
m = imaplib.IMAP4('127.0.0.1', port)
m.login('alice@example.test', 'secret')
m.select('INBOX')
typ, data = m.search(None, 'HEADER', 'In-Reply-To', parent)
uids = data[0].split()
out['found'] = len(uids)
typ, data = m.fetch(uids[-1], '(RFC822)')
msg = email.message_from_bytes(data[0][1])
out['in_reply_to'] = msg['In-Reply-To']
out['references'] = ' '.join(msg['References'].split())
out['subject'] = msg['Subject']
out['message_id'] = msg['Message-ID']
out['reply_to'] = msg['Reply-To']
out['from'] = msg['From']
m.logout()
a = imaplib.IMAP4('127.0.0.1', port)
a.login('agent@example.test', 'secret')
a.select('Sent', readonly=True)
typ, data = a.search(None, 'HEADER', 'Message-ID', mid)
out['in_sent'] = len(data[0].split())
typ, data = a.fetch(data[0].split()[-1], '(FLAGS)')
out['sent_flags'] = data[0].decode()
a.select('INBOX', readonly=True)
typ, data = a.search(None, 'HEADER', 'Message-ID', parent)
typ, data = a.fetch(data[0].split()[-1], '(FLAGS)')
out['original_flags'] = data[0].decode()
a.logout()
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_threads_in_a_mail_client() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |_| {}).await;
    let first = "From: Alice <alice@example.test>\r\nTo: agent@example.test\r\nSubject: New project: greet\r\n\
Message-ID: <p1@example.test>\r\nReferences: <p0@example.test>\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\n\r\n\
Please make a CLI.\r\n";
    submit(&mail, "alice@example.test", "agent@example.test", first.as_bytes().to_vec()).await;
    let (cursor, msgs) = f.wait_new(None, 1).await;
    assert_eq!(msgs[0]["trusted"], true, "{}", msgs[0]);
    assert_eq!(msgs[0]["seen"], false);
    let r = f.ok("reply", json!({"id": msgs[0]["id"], "text": "Which language?", "request_id": "proj-1"})).await;
    assert_eq!(r["saved_to_sent"], true, "{r}");
    assert_eq!(r["delivered_via"], "smtp");
    let mid = r["message_id"].as_str().unwrap().to_owned();

    // Wait for Postfix to hand the reply to Alice's mailbox.
    let alice_new = mail.maildir("alice").join("new");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&alice_new).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the reply never reached alice");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let port = mail.imap_port.to_string();
    let out = mail.python(THREAD_CHECK, &[&port, "<p1@example.test>", &mid]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["found"], 1, "{v}");
    assert_eq!(v["in_reply_to"], "<p1@example.test>");
    assert_eq!(v["references"], "<p0@example.test> <p1@example.test>");
    assert_eq!(v["subject"], "Re: New project: greet");
    assert_eq!(v["message_id"], mid.as_str());
    assert!(v["reply_to"].as_str().unwrap().starts_with("agent+lproj-1"), "{v}");
    assert_eq!(v["in_sent"], 1, "the reply is in the agent's Sent: {v}");
    assert!(v["sent_flags"].as_str().unwrap().contains("\\Seen"));
    assert!(!v["original_flags"].as_str().unwrap().contains("\\Seen"), "reading must not mark seen: {v}");

    // Alice answers the token address from her client.
    let answer = format!(
        "From: Alice <alice@example.test>\r\nTo: {}\r\nSubject: Re: New project: greet\r\nMessage-ID: <p2@example.test>\r\n\
         In-Reply-To: {mid}\r\nReferences: <p0@example.test> <p1@example.test> {mid}\r\n\r\nPython.\r\n\r\n\
         > Which language?\r\n",
        r["reply_to"].as_str().unwrap()
    );
    submit(&mail, "alice@example.test", r["reply_to"].as_str().unwrap(), answer.into_bytes()).await;
    let (_, msgs2) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(msgs2[0]["request_id"], "proj-1", "{}", msgs2[0]);
    assert_eq!(msgs2[0]["text"], "Python.");
    let t = f.ok("thread", json!({"id": msgs2[0]["id"]})).await;
    let mids: Vec<&str> = t["messages"].as_array().unwrap().iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(mids.len(), 3, "{t}");
    assert!(mids.contains(&mid.as_str()) && mids.contains(&"<p1@example.test>") && mids.contains(&"<p2@example.test>"));
    let sent_entry = t["messages"].as_array().unwrap().iter().find(|m| m["message_id"] == mid.as_str()).unwrap();
    assert_eq!(sent_entry["mailbox"], "Sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mailbox_tools_over_imap() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |_| {}).await;
    let with_att = "From: Bob <bob@example.test>\r\nTo: agent@example.test\r\nSubject: Café report\r\nMessage-ID: <b1@example.test>\r\n\
Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--zz\r\n\
Content-Type: application/octet-stream; name=data.bin\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--zz--\r\n";
    deliver(&mail, "agent", with_att.as_bytes().to_vec()).await;
    deliver(
        &mail,
        "agent",
        crate::mail("alice@example.test", "agent@example.test", "first", "<a1@example.test>", "one"),
    )
    .await;
    deliver(
        &mail,
        "agent",
        crate::mail("mallory@example.test", "agent@example.test", "spam", "<s1@example.test>", "buy"),
    )
    .await;
    let (_, msgs) = f.wait_new(None, 3).await;
    assert_eq!(msgs.iter().filter(|m| m["trusted"] == true).count(), 2);
    let bob = msgs.iter().find(|m| m["from"] == "bob@example.test").unwrap();
    let id = bob["id"].as_str().unwrap().to_owned();

    let all = f.ok("list_messages", json!({})).await;
    assert_eq!(all["total"], 3);
    assert_eq!(all["messages"][0]["subject"], "spam", "newest first: {all}");
    let by_from = f.ok("list_messages", json!({"from": "bob"})).await;
    assert_eq!(by_from["total"], 1);
    let by_subject = f.ok("list_messages", json!({"subject": "café"})).await;
    assert_eq!(by_subject["total"], 1, "non-ASCII search: {by_subject}");
    let page = f.ok("list_messages", json!({"limit": 2})).await;
    assert_eq!(page["next_offset"], 2);
    let page2 = f.ok("list_messages", json!({"limit": 2, "offset": 2})).await;
    assert_eq!(page2["messages"].as_array().unwrap().len(), 1);
    assert!(page2["next_offset"].is_null());

    let a = f.ok("get_attachment", json!({"id": id, "index": 0})).await;
    assert_eq!(a["data_base64"], "AAECAw==");
    assert_eq!(a["filename"], "data.bin");
    assert_eq!(f.ok("list_messages", json!({"seen": true})).await["total"], 0, "reading marked something seen");

    f.ok("mark", json!({"id": id, "seen": true})).await;
    let seen = f.ok("list_messages", json!({"seen": true})).await;
    assert_eq!(seen["total"], 1);
    assert_eq!(seen["messages"][0]["id"], id.as_str());

    let mv = f.ok("move_message", json!({"id": id, "to": "Archive"})).await;
    assert_eq!(mv["mailbox"], "Archive");
    assert!(mv["uid"].is_number(), "{mv}");
    assert_eq!(f.ok("list_messages", json!({})).await["total"], 2);
    let arch = f.ok("list_messages", json!({"mailbox": "Archive"})).await;
    assert_eq!(arch["messages"][0]["id"], id.as_str(), "the id survives the move: {arch}");
    assert_eq!(arch["messages"][0]["seen"], true);
    let a = f.ok("get_attachment", json!({"id": id, "index": 0})).await;
    assert_eq!(a["data_base64"], "AAECAw==");
    let e = f.err("move_message", json!({"id": id, "to": "Nowhere"})).await;
    assert!(e.contains("refused"), "{e}");

    let boxes = f.ok("list_mailboxes", json!({})).await;
    let archive = boxes["mailboxes"].as_array().unwrap().iter().find(|m| m["name"] == "Archive").unwrap();
    assert_eq!(archive["messages"], 1);
    assert_eq!(boxes["inbox"], "INBOX");
    assert_eq!(boxes["sent"], "Sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_reconnects_after_the_server_restarts() {
    let mut mail = MailServer::start();
    let f = Fixture::imap(&mail, |_| {}).await;
    deliver(&mail, "agent", crate::mail("alice@example.test", "agent@example.test", "before", "<r1@x>", "1")).await;
    let (cursor, _) = f.wait_new(None, 1).await;
    mail.stop_dovecot();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = f.server.raw().get("/ready").await;
        if r.status == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "ready stayed ok with the IMAP server down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Tools report the outage clearly.
    let e = f.err("list_mailboxes", json!({})).await;
    assert!(e.contains("unavailable"), "{e}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    mail.start_dovecot();
    deliver(&mail, "agent", crate::mail("alice@example.test", "agent@example.test", "after", "<r2@x>", "2")).await;
    let t = Instant::now();
    let (_, msgs) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(msgs[0]["subject"], "after");
    println!("message after an IMAP restart arrived {:?} after delivery", t.elapsed());
    f.ready().await;
    assert!(f.ok("list_mailboxes", json!({})).await["mailboxes"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_works_without_idle() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |v| {
        v.push((cfg::EMAIL_IDLE, "false".into()));
        v.push((cfg::EMAIL_POLL_SECS, "0.5".into()));
    })
    .await;
    let ready: Value = serde_json::from_str(&f.server.raw().get("/ready").await.text).unwrap();
    assert!(ready.to_string().contains("polling"), "{ready}");
    deliver(&mail, "agent", crate::mail("alice@example.test", "agent@example.test", "polled", "<q1@x>", "1")).await;
    let t = Instant::now();
    let (_, msgs) = f.wait_new(None, 1).await;
    assert_eq!(msgs[0]["subject"], "polled");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_uidvalidity_change_delivers_nothing_twice() {
    let mut mail = MailServer::start();
    let f = Fixture::imap(&mail, |_| {}).await;
    for i in 0..3 {
        deliver(
            &mail,
            "agent",
            crate::mail("alice@example.test", "agent@example.test", &format!("v{i}"), &format!("<v{i}@x>"), "x"),
        )
        .await;
    }
    let (cursor, msgs) = f.wait_new(None, 3).await;
    let old_uidvalidity = f.state.store.sync_state("INBOX").await.unwrap().unwrap().0;
    // Make Dovecot forget its UID list and indexes: the mailbox comes back with a new UIDVALIDITY.
    mail.stop_dovecot();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let md = mail.maildir("agent");
    for e in std::fs::read_dir(&md).unwrap().flatten() {
        if e.file_name().to_string_lossy().starts_with("dovecot") {
            let _ = std::fs::remove_file(e.path());
        }
    }
    mail.start_dovecot();
    deliver(&mail, "agent", crate::mail("alice@example.test", "agent@example.test", "v3", "<v3@x>", "x")).await;
    let (_, new) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["subject"], "v3");
    let v = f.ok("wait_for_new", json!({"cursor": cursor, "timeout_secs": 2})).await;
    assert_eq!(v["messages"].as_array().unwrap().len(), 1, "only v3 is new: {v}");
    let (validity, _) = f.state.store.sync_state("INBOX").await.unwrap().unwrap();
    assert_ne!(validity, old_uidvalidity);
    // The old messages moved to their new UIDs and still work.
    let g = f.ok("get_message", json!({"id": msgs[0]["id"]})).await;
    assert_eq!(g["message"]["subject"], "v0");
    f.ok("mark", json!({"id": msgs[0]["id"], "flagged": true})).await;
    let (_, everything) = f.wait_new(None, 4).await;
    assert_eq!(everything.len(), 4);
}
