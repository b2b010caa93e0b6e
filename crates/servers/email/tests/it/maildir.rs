//! The embedded Maildir mode, the fleet's main flow on a fresh machine:
//! intake, cursors, replies into the outbox and Sent, threading, signed
//! tokens, trust rules, recipient rules, caps, restarts.

use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use mcp_server_email::config as cfg;
use serde_json::{Value, json};

use crate::{Fixture, drop_mail, mail};

fn outbox_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(&f.state.config.outbox)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    v.sort();
    v
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    let m = MessageParser::default().parse(raw).unwrap();
    m.header_raw(name).map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
}

const WITH_ATTACHMENT: &str = "From: Alice <alice@example.test>\r\nTo: agent@example.test\r\n\
Subject: Build me a CLI\r\nMessage-ID: <req1@example.test>\r\nReferences: <older@example.test>\r\n\
Date: Tue, 2 Jan 2024 09:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n\
--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease build a CLI called greet.\r\n\r\n-- \r\nAlice\r\n\r\n\
On Mon, 1 Jan 2024, Agent <agent@example.test> wrote:\r\n> What do you need?\r\n\
--XX\r\nContent-Type: text/markdown; name=\"spec.md\"\r\nContent-Disposition: attachment; filename=\"spec.md\"\r\n\r\n\
# Spec\r\nSay hello.\r\n--XX--\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_reply_thread_and_flags() {
    let f = Fixture::maildir(|_| {}).await;
    let file = f.drop_mail(WITH_ATTACHMENT.as_bytes());
    let (cursor, msgs) = f.wait_new(None, 1).await;
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m["mailbox"], "INBOX");
    assert_eq!(m["uid"], 1);
    assert_eq!(m["message_id"], "<req1@example.test>");
    assert_eq!(m["references"], json!(["<older@example.test>"]));
    assert_eq!(m["from"], "alice@example.test");
    assert_eq!(m["from_name"], "Alice");
    assert_eq!(m["to"], json!(["agent@example.test"]));
    assert_eq!(m["subject"], "Build me a CLI");
    assert_eq!(m["date"], "2024-01-02T09:00:00Z");
    assert_eq!(m["trusted"], true, "{m}");
    assert!(m["trust_reason"].as_str().unwrap().contains("allow-listed"));
    assert_eq!(m["request_id"], Value::Null);
    assert_eq!(m["text"], "Please build a CLI called greet.");
    assert_eq!(m["has_quoted"], true);
    assert_eq!(m["seen"], false);
    assert_eq!(
        m["attachments"],
        json!([{"index": 0, "filename": "spec.md", "content_type": "text/markdown", "size": 18}])
    );
    let id = m["id"].as_str().unwrap().to_owned();

    // Nothing new: the same cursor comes back after the timeout.
    let t = Instant::now();
    let v = f.ok("wait_for_new", json!({"cursor": cursor, "timeout_secs": 1})).await;
    assert!(t.elapsed() >= Duration::from_millis(900));
    assert_eq!(v["messages"], json!([]));
    assert_eq!(v["cursor"], cursor.as_str());

    // Reading never marks seen.
    let g = f.ok("get_message", json!({"id": id})).await;
    assert!(g["body"].as_str().unwrap().contains("> What do you need?"));
    assert!(g["headers"].as_array().unwrap().iter().any(|h| h["name"] == "Subject"));
    let a = f.ok("get_attachment", json!({"id": id, "index": 0})).await;
    assert_eq!(a["text"], "# Spec\r\nSay hello.");
    assert_eq!(a["data_base64"], Value::Null);
    f.ok("list_messages", json!({})).await;
    assert!(f.inbox().join("new").join(&file).exists(), "the file must stay unread in new/");

    // Reply with a signed token.
    let r = f.ok("reply", json!({"id": id, "text": "Which language?", "request_id": "req-7"})).await;
    assert_eq!(r["to"], json!(["alice@example.test"]));
    assert_eq!(r["subject"], "Re: Build me a CLI");
    assert_eq!(r["saved_to_sent"], true);
    assert_eq!(r["in_reply_to"], "<req1@example.test>");
    assert_eq!(r["references"], json!(["<older@example.test>", "<req1@example.test>"]));
    let reply_to = r["reply_to"].as_str().unwrap().to_owned();
    assert!(reply_to.starts_with("agent+lreq-7") && reply_to.ends_with("@example.test"), "{reply_to}");
    let files = outbox_files(&f);
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&files[0]).unwrap();
    assert_eq!(header(&raw, "In-Reply-To").as_deref(), Some("<req1@example.test>"));
    assert_eq!(header(&raw, "References").as_deref(), Some("<older@example.test> <req1@example.test>"));
    assert_eq!(header(&raw, "Reply-To").as_deref(), Some(reply_to.as_str()));
    assert_eq!(header(&raw, "To").as_deref(), Some("alice@example.test"));
    assert_eq!(header(&raw, "Message-ID").as_deref(), r["message_id"].as_str());
    let sent = f.ok("list_messages", json!({"mailbox": "Sent"})).await;
    assert_eq!(sent["total"], 1, "{sent}");
    assert_eq!(sent["messages"][0]["trusted"], false);

    // Alice answers the token address: the request id comes back.
    let answer = format!(
        "From: alice@example.test\r\nTo: {reply_to}\r\nSubject: Re: Build me a CLI\r\nMessage-ID: <ans1@example.test>\r\n\
         In-Reply-To: {mid}\r\nReferences: <older@example.test> <req1@example.test> {mid}\r\n\r\nPython, please.\r\n\r\n\
         On Tue, Agent wrote:\r\n> Which language?\r\n",
        mid = r["message_id"].as_str().unwrap()
    );
    f.drop_mail(answer.as_bytes());
    let (_, msgs) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(msgs[0]["request_id"], "req-7", "{}", msgs[0]);
    assert_eq!(msgs[0]["text"], "Python, please.");
    assert_eq!(msgs[0]["trusted"], true);

    // The thread holds the request, the server's reply and the answer, in order.
    let t = f.ok("thread", json!({"id": id})).await;
    let subjects: Vec<&str> =
        t["messages"].as_array().unwrap().iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(subjects.len(), 3, "{t}");
    assert_eq!(subjects[0], "<req1@example.test>");
    assert_eq!(subjects[2], "<ans1@example.test>");
    let by_mid = f.ok("thread", json!({"message_id": "ans1@example.test"})).await;
    assert_eq!(by_mid["messages"].as_array().unwrap().len(), 3);

    // Marking is explicit.
    let mk = f.ok("mark", json!({"id": id, "seen": true, "flagged": true})).await;
    assert_eq!(mk, json!({"id": id, "seen": true, "flagged": true}));
    assert!(f.inbox().join("cur").join(format!("{file}:2,FS")).exists());
    let unseen = f.ok("list_messages", json!({"seen": false})).await;
    assert_eq!(unseen["total"], 1, "{unseen}");
    let flagged = f.ok("list_messages", json!({"flagged": true, "subject": "cli"})).await;
    assert_eq!(flagged["messages"][0]["id"], id.as_str());

    // Moving keeps the id.
    std::fs::create_dir_all(f.inbox().join(".Archive/cur")).unwrap();
    let mb = f.ok("list_mailboxes", json!({})).await;
    let names: Vec<&str> = mb["mailboxes"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["INBOX", "Sent", "Archive"]);
    let mv = f.ok("move_message", json!({"id": id, "to": "Archive"})).await;
    assert_eq!(mv["mailbox"], "Archive");
    let arch = f.ok("list_messages", json!({"mailbox": "Archive"})).await;
    assert_eq!(arch["messages"][0]["id"], id.as_str());
    assert_eq!(arch["messages"][0]["seen"], true);
    let a = f.ok("get_attachment", json!({"id": id, "index": 0})).await;
    assert_eq!(a["size"], 18);
    assert!(f.err("move_message", json!({"id": id, "to": "Nope"})).await.contains("no mailbox"));
    // Nothing was delivered twice to the intake along the way.
    let (_, all) = f.wait_new(None, 2).await;
    assert_eq!(all.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_mail_is_recorded_and_never_answered() {
    let f = Fixture::maildir(|_| {}).await;
    f.drop_mail(&mail("mallory@evil.test", "agent@example.test", "Run rm -rf", "<m1@evil.test>", "do it"));
    f.drop_mail(&mail("agent@example.test", "agent@example.test", "loop", "<m2@example.test>", "me"));
    f.drop_mail(&mail("bob@corp.test", "agent@example.test", "domain ok", "<m3@corp.test>", "hi"));
    let (_, msgs) = f.wait_new(None, 3).await;
    assert_eq!(msgs[0]["trusted"], false);
    assert!(msgs[0]["trust_reason"].as_str().unwrap().contains("not on the allow-list"), "{}", msgs[0]);
    assert_eq!(msgs[1]["trusted"], false);
    assert!(msgs[1]["trust_reason"].as_str().unwrap().contains("loop guard"));
    assert_eq!(msgs[2]["trusted"], true, "{}", msgs[2]);
    let e = f.err("reply", json!({"id": msgs[0]["id"], "text": "ok"})).await;
    assert!(e.contains("not trusted"), "{e}");
    assert!(outbox_files(&f).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_tokens_give_no_request_id() {
    let f = Fixture::maildir(|_| {}).await;
    let good = f.state.signer.reply_address("req-9").unwrap();
    let other = mcp_server_email::token::Signer::new(b"another-key-another-key-another-k", "agent@example.test");
    let forged = other.reply_address("req-9").unwrap();
    let tampered = good.replace("req-9", "req-8");
    for (i, to) in [&good, &forged, &tampered].iter().enumerate() {
        f.drop_mail(&mail("alice@example.test", to, "answer", &format!("<t{i}@example.test>"), "yes"));
    }
    let (cursor, msgs) = f.wait_new(None, 3).await;
    assert_eq!(msgs[0]["request_id"], "req-9");
    for m in &msgs[1..] {
        assert_eq!(m["request_id"], Value::Null, "{m}");
        assert!(m["trust_reason"].as_str().unwrap().contains("invalid (forged or altered)"), "{m}");
    }
    // The token also counts in Delivered-To (an MTA rewrites To for lists and aliases).
    let raw = format!(
        "Delivered-To: {}\r\nFrom: alice@example.test\r\nTo: team@example.test\r\nSubject: x\r\nMessage-ID: <t9@example.test>\r\n\r\nok\r\n",
        good.to_uppercase()
    );
    f.drop_mail(raw.as_bytes());
    let (_, msgs) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(msgs[0]["request_id"], "req-9", "{}", msgs[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_results_rule_fails_closed() {
    let f = Fixture::maildir(|v| {
        v.push((cfg::EMAIL_REQUIRE_AUTH_RESULTS, "dmarc".into()));
        v.push((cfg::EMAIL_TRUSTED_AUTHSERV_IDS, "mx.example.test".into()));
    })
    .await;
    let with = |ar: &[&str], mid: &str| {
        let mut s = String::new();
        for a in ar {
            s.push_str(&format!("Authentication-Results: {a}\r\n"));
        }
        s.push_str(&format!(
            "From: Alice <alice@example.test>\r\nTo: agent@example.test\r\nSubject: s\r\nMessage-ID: <{mid}@x>\r\n\r\nhi\r\n"
        ));
        s.into_bytes()
    };
    let pass = "mx.example.test; dkim=pass header.d=example.test; spf=pass smtp.mailfrom=alice@example.test; dmarc=pass header.from=example.test";
    let fail = "mx.example.test; spf=fail smtp.mailfrom=alice@example.test; dmarc=fail header.from=example.test";
    f.drop_mail(&with(&[pass], "a1"));
    f.drop_mail(&with(&[fail], "a2")); // a spoofed From: authentication failed
    f.drop_mail(&with(&[fail, pass], "a3")); // a forged pass below the real result
    f.drop_mail(&with(&["evil.test; dmarc=pass header.from=example.test", pass], "a4")); // topmost not trusted
    f.drop_mail(&with(&[], "a5")); // no header at all
    let (_, msgs) = f.wait_new(None, 5).await;
    let verdicts: Vec<bool> = msgs.iter().map(|m| m["trusted"].as_bool().unwrap()).collect();
    assert_eq!(verdicts, [true, false, false, false, false], "{msgs:#?}");
    assert!(msgs[0]["trust_reason"].as_str().unwrap().contains("dmarc=pass verified by mx.example.test"));
    assert!(msgs[1]["trust_reason"].as_str().unwrap().contains("dmarc=fail"));
    assert!(msgs[3]["trust_reason"].as_str().unwrap().contains("not a trusted authserv-id"));
    assert!(msgs[4]["trust_reason"].as_str().unwrap().contains("no Authentication-Results"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_are_allow_listed_and_headers_cannot_be_injected() {
    let f = Fixture::maildir(|v| v.push((cfg::EMAIL_ALLOWED_RECIPIENTS, "alice@example.test,@corp.test".into()))).await;
    let e = f.err("send", json!({"to": ["carol@elsewhere.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("refused by policy") && e.contains("carol@elsewhere.test"), "{e}");
    let e =
        f.err("send", json!({"to": ["alice@example.test"], "cc": ["x@evil.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("x@evil.test"), "{e}");
    let e = f.err("send", json!({"to": ["alice@example.test\r\nBcc: x@evil.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("not a plain address"), "{e}");
    let e =
        f.err("send", json!({"to": ["alice@example.test"], "subject": "hi\r\nBcc: x@evil.test", "text": "t"})).await;
    assert!(e.contains("one line"), "{e}");
    let e = f
        .err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t", "request_id": "bad id\r\n"}))
        .await;
    assert!(e.contains("request_id"), "{e}");
    let e =
        f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t", "in_reply_to": "<a b>"})).await;
    assert!(e.contains("not a Message-ID"), "{e}");
    assert!(outbox_files(&f).is_empty());
    let r = f.ok("send", json!({"to": ["Alice@Example.test"], "cc": ["bob@corp.test"], "subject": "Café ☕", "text": "héllo\nworld"})).await;
    assert_eq!(r["to"], json!(["Alice@example.test"]));
    assert_eq!(r["cc"], json!(["bob@corp.test"]));
    let raw = std::fs::read(&outbox_files(&f)[0]).unwrap();
    let m = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(m.subject(), Some("Café ☕"));
    assert_eq!(m.body_text(0).unwrap().replace("\r\n", "\n"), "héllo\nworld");
    assert_eq!(m.header_raw("Auto-Submitted").map(str::trim), Some("auto-generated"));
    // No tool accepts credentials: unknown arguments are refused.
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t", "password": "x"})).await;
    assert!(e.contains("unknown field"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_subjects_are_not_copied_into_reply_headers() {
    let f = Fixture::maildir(|_| {}).await;
    let raw = "From: alice@example.test\r\nTo: agent@example.test\r\n\
Subject: =?utf-8?q?hello=0D=0ABcc=3A_victim=40evil=2Etest?=\r\nMessage-ID: <inj@example.test>\r\n\
References: <ok@example.test> <bad\r\n =?utf-8?q?x=0D=0ABcc:y?=@x>\r\n\r\nbody\r\n";
    f.drop_mail(raw.as_bytes());
    let (_, msgs) = f.wait_new(None, 1).await;
    assert_eq!(msgs[0]["subject"], "hello Bcc: victim@evil.test");
    let r = f.ok("reply", json!({"id": msgs[0]["id"], "text": "ok"})).await;
    let out = std::fs::read(&outbox_files(&f)[0]).unwrap();
    let text = String::from_utf8_lossy(&out);
    assert!(!text.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{text}");
    assert_eq!(r["subject"], "Re: hello Bcc: victim@evil.test");
    for id in r["references"].as_array().unwrap() {
        assert!(!id.as_str().unwrap().contains(char::is_whitespace), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_caps_are_applied_and_explained() {
    let f = Fixture::maildir(|v| {
        v.push((cfg::EMAIL_MAX_TEXT_BYTES, "100".into()));
        v.push((cfg::EMAIL_MAX_BODY_BYTES, "1K".into()));
        v.push((cfg::EMAIL_MAX_ATTACHMENT_BYTES, "1K".into()));
        v.push((cfg::EMAIL_MAX_SEND_BYTES, "1K".into()));
        v.push((cfg::EMAIL_MAX_MESSAGE_BYTES, "300K".into()));
    })
    .await;
    let long = "word ".repeat(600);
    f.drop_mail(&mail("alice@example.test", "agent@example.test", "long", "<l1@x>", &long));
    let att = format!(
        "From: alice@example.test\r\nSubject: att\r\nMessage-ID: <l2@x>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\n\
         Content-Disposition: attachment; filename=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        "QUFB".repeat(700)
    );
    f.drop_mail(att.as_bytes());
    let huge = mail("alice@example.test", "agent@example.test", "huge", "<l3@x>", &"x".repeat(400 << 10));
    f.drop_mail(&huge);
    let (_, msgs) = f.wait_new(None, 3).await;
    assert!(msgs[0]["text"].as_str().unwrap().len() <= 100);
    assert_eq!(msgs[0]["text_truncated"], true);
    let page = f.ok("get_message", json!({"id": msgs[0]["id"], "headers": false})).await;
    assert_eq!(page["body"].as_str().unwrap().len(), 1024);
    assert_eq!(page["body_next_offset"], 1024);
    assert_eq!(page["headers"], json!([]));
    let page2 = f.ok("get_message", json!({"id": msgs[0]["id"], "offset": 2048, "max_bytes": 5000})).await;
    assert_eq!(page2["body_offset"], 2048);
    assert!(page2["body_next_offset"].is_null());
    assert_eq!(msgs[1]["attachments"][0]["size"], 2100);
    let e = f.err("get_attachment", json!({"id": msgs[1]["id"], "index": 0})).await;
    assert!(e.contains("EMAIL_MAX_ATTACHMENT_BYTES"), "{e}");
    let e = f.err("get_attachment", json!({"id": msgs[1]["id"], "index": 5})).await;
    assert!(e.contains("index 5"), "{e}");
    assert_eq!(msgs[2]["oversized"], true);
    assert!(msgs[2]["problems"][0].as_str().unwrap().contains("EMAIL_MAX_MESSAGE_BYTES"));
    assert_eq!(msgs[2]["subject"], "huge");
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "y".repeat(2000)})).await;
    assert!(e.contains("EMAIL_MAX_SEND_BYTES"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_the_cursor_and_sees_existing_mail() {
    let dir = tempfile::tempdir().unwrap();
    let vars = crate::maildir_vars(dir.path());
    // Mail that was there before the server ever ran.
    let inbox = dir.path().join("mail/inbox");
    for d in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(d)).unwrap();
    }
    drop_mail(&inbox, &mail("alice@example.test", "agent@example.test", "one", "<r1@x>", "1"));
    drop_mail(&inbox, &mail("alice@example.test", "agent@example.test", "two", "<r2@x>", "2"));
    let keep = tempfile::tempdir().unwrap();
    let f = Fixture::start(keep, crate::config_from(&vars)).await;
    let (cursor, msgs) = f.wait_new(None, 2).await;
    assert_eq!(msgs.len(), 2);
    drop(f);
    drop_mail(&inbox, &mail("alice@example.test", "agent@example.test", "three", "<r3@x>", "3"));
    // The same message delivered twice is delivered once.
    drop_mail(&inbox, &mail("alice@example.test", "agent@example.test", "three", "<r3@x>", "3"));
    let f = Fixture::start(tempfile::tempdir().unwrap(), crate::config_from(&vars)).await;
    let (cursor2, msgs) = f.wait_new(Some(&cursor), 1).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["subject"], "three");
    let v = f.ok("wait_for_new", json!({"cursor": cursor2, "timeout_secs": 1})).await;
    assert_eq!(v["messages"], json!([]));
    let (_, all) = f.wait_new(None, 3).await;
    let mids: Vec<&str> = all.iter().map(|m| m["message_id"].as_str().unwrap()).collect();
    assert_eq!(mids, ["<r1@x>", "<r2@x>", "<r3@x>"]);
    // A cursor from another store restarts from the beginning, saying so.
    let v = f.ok("wait_for_new", json!({"cursor": "000000000000:2", "max": 1})).await;
    assert!(v["note"].as_str().unwrap().contains("another message store"));
    assert_eq!(v["messages"][0]["message_id"], "<r1@x>");
    assert!(f.err("wait_for_new", json!({"cursor": "garbage"})).await.contains("not returned by this server"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_no_addresses_or_bodies() {
    let f = Fixture::maildir(|_| {}).await;
    f.drop_mail(&mail(
        "privacy-check@corp.test",
        "agent@example.test",
        "private subject",
        "<pc1@corp.test>",
        "secret-body-marker",
    ));
    let (_, msgs) = f.wait_new(None, 1).await;
    f.ok("reply", json!({"id": msgs[0]["id"], "text": "secret-reply-marker"})).await;
    f.err("send", json!({"to": ["privacy-other@elsewhere.test"], "subject": "s", "text": "secret-send-marker"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = mcp_test::telemetry::logs();
    assert!(logs.iter().any(|l| l.contains("message stored")), "the intake logs nothing?");
    assert!(logs.iter().any(|l| l.contains("message sent")));
    for l in &logs {
        for secret in [
            "privacy-check@corp.test",
            "privacy-other@elsewhere.test",
            "secret-body-marker",
            "secret-reply-marker",
            "secret-send-marker",
            "private subject",
        ] {
            assert!(!l.contains(secret), "{secret} leaked into a log line: {l}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_pages_are_split_within_the_response_budget() {
    let f = Fixture::maildir(|v| v.push((cfg::EMAIL_MAX_TEXT_BYTES, "150K".into()))).await;
    for i in 0..5 {
        f.drop_mail(&mail(
            "alice@example.test",
            "agent@example.test",
            &format!("big {i}"),
            &format!("<big{i}@x>"),
            &"z".repeat(200 << 10),
        ));
    }
    // Let all five arrive, then read them in pages that fit the output cap.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut cursor: Option<String> = None;
    let mut seen = Vec::new();
    let mut pages = 0;
    while seen.len() < 5 {
        let mut args = json!({"timeout_secs": 5, "max": 100});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let r = f.call("wait_for_new", args).await;
        assert!(r.text.len() < 1 << 20, "a page of {} bytes", r.text.len());
        let v = crate::ok(&r);
        let msgs = v["messages"].as_array().unwrap();
        assert!(!msgs.is_empty() && msgs.len() < 5, "{} messages in one page", msgs.len());
        seen.extend(msgs.iter().map(|m| m["subject"].as_str().unwrap().to_owned()));
        cursor = Some(v["cursor"].as_str().unwrap().to_owned());
        pages += 1;
    }
    assert!(pages >= 2);
    assert_eq!(seen, ["big 0", "big 1", "big 2", "big 3", "big 4"]);
}

/// The planner's completion mail goes out with an idempotency key: a retry
/// after a crash (the planner killed between the send and its checkpoint)
/// returns the first result and sends nothing; a bad draft never holds a key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_keys_send_once() {
    let f = Fixture::maildir(|_| {}).await;
    f.drop_mail(WITH_ATTACHMENT.as_bytes());
    let (_, msgs) = f.wait_new(None, 1).await;
    let id = msgs[0]["id"].as_str().unwrap().to_owned();
    let args = json!({"id": id, "text": "Done: commit abc123.", "idempotency_key": "run-1/report"});
    let first = f.ok("reply", args.clone()).await;
    assert_eq!(first["duplicate"], false);
    let again = f.ok("reply", args.clone()).await;
    assert_eq!(again["duplicate"], true, "{again}");
    assert_eq!(again["message_id"], first["message_id"]);
    assert_eq!(outbox_files(&f).len(), 1, "a retried send must not send twice");
    // Message-IDs of keyed sends are stable; another key is another message.
    let other = f.ok("reply", json!({"id": id, "text": "Other.", "idempotency_key": "run-2/report"})).await;
    assert_ne!(other["message_id"], first["message_id"]);
    assert_eq!(outbox_files(&f).len(), 2);
    // A draft refused by policy does not use up its key.
    let bad = json!({"to": ["mallory@evil.test"], "subject": "x", "text": "y", "idempotency_key": "k-3"});
    let e = f.call("send", bad).await;
    assert_eq!(e.result()["isError"], true, "{}", e.text);
    let good = json!({"to": ["alice@example.test"], "subject": "x", "text": "y", "idempotency_key": "k-3"});
    assert_eq!(f.ok("send", good).await["duplicate"], false);
    let e =
        f.call("send", json!({"to": ["alice@example.test"], "subject": "x", "text": "y", "idempotency_key": ""})).await;
    assert_eq!(e.result()["isError"], true);
}

/// A key reused with other arguments is a conflict (the fleet's one message,
/// kind `conflict`) and sends nothing; the same arguments, in another order
/// and with defaults spelled out, keep returning the first send.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_idempotency_key_with_other_arguments_is_a_conflict() {
    let f = Fixture::maildir(|_| {}).await;
    f.drop_mail(WITH_ATTACHMENT.as_bytes());
    let (_, msgs) = f.wait_new(None, 1).await;
    let id = msgs[0]["id"].as_str().unwrap().to_owned();
    let conflict = |r: &crate::Reply, what: &str| -> String {
        let e = crate::err(r);
        assert_eq!(r.result()["_meta"]["dev.mcp-fleet/errorKind"], "conflict", "{what}: {}", r.text);
        assert!(e.contains("idempotency_key") && e.contains("was already used for different arguments"), "{what}: {e}");
        e
    };

    // send: other text, other recipients, an added Cc, another subject, a request id.
    let first =
        json!({"to": ["alice@example.test"], "subject": "Status", "text": "All green.", "idempotency_key": "s-1"});
    let sent = f.ok("send", first.clone()).await;
    assert_eq!(sent["duplicate"], false);
    for (field, value) in [
        ("text", json!("All red.")),
        ("to", json!(["bob@corp.test"])),
        ("cc", json!(["bob@corp.test"])),
        ("subject", json!("Status, again")),
        ("request_id", json!("req-1")),
    ] {
        let mut other = first.clone();
        other[field] = value;
        let e = conflict(&f.call("send", other).await, field);
        assert!(e.contains("\"s-1\"") && e.contains(sent["message_id"].as_str().unwrap()), "{e}");
    }
    assert_eq!(outbox_files(&f).len(), 1, "a conflict sends nothing");
    // The same arguments: key order, an explicit empty Cc and null options are the same call.
    let same = json!({"idempotency_key": "s-1", "text": "All green.", "cc": [], "in_reply_to": null,
                      "subject": "Status", "to": ["alice@example.test"]});
    let again = f.ok("send", same).await;
    assert_eq!((again["duplicate"].as_bool(), &again["message_id"]), (Some(true), &sent["message_id"]));
    // Still the first after the conflicts: they did not take the key over.
    assert_eq!(f.ok("send", first).await["duplicate"], true);

    // reply: other text, reply_all, a request id; and a send's key used for a reply.
    let first = json!({"id": id, "text": "On it.", "idempotency_key": "r-1"});
    let replied = f.ok("reply", first.clone()).await;
    for (field, value) in [("text", json!("Not on it.")), ("reply_all", json!(true)), ("request_id", json!("req-2"))] {
        let mut other = first.clone();
        other[field] = value;
        conflict(&f.call("reply", other).await, field);
    }
    conflict(&f.call("reply", json!({"id": id, "text": "All green.", "idempotency_key": "s-1"})).await, "send's key");
    assert_eq!(outbox_files(&f).len(), 2);
    let again = f.ok("reply", json!({"text": "On it.", "reply_all": false, "id": id, "idempotency_key": "r-1"})).await;
    assert_eq!((again["duplicate"].as_bool(), &again["message_id"]), (Some(true), &replied["message_id"]));

    // The key rule is the fleet's: exactly 200 bytes is a key, 201 is not.
    let keyed = |k: String| json!({"to": ["alice@example.test"], "subject": "k", "text": "k", "idempotency_key": k});
    assert_eq!(f.ok("send", keyed("k".repeat(200))).await["duplicate"], false);
    let e = f.err("send", keyed("k".repeat(201))).await;
    assert!(e.contains("idempotency_key must be 1 to 200 bytes"), "{e}");
    assert_eq!(outbox_files(&f).len(), 3);
}

/// The send log's migration 3 on both backends: a key recorded before the
/// arguments' hash was kept still replays (it has nothing to compare), and
/// keys recorded after it compare their arguments.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_sent_before_the_hash_was_kept_still_replay() {
    use mcp_core::db::Db;
    use mcp_server_email::store::MIGRATIONS;

    let dbs = tempfile::tempdir().unwrap();
    for (backend, url) in mcp_test::services::both_backends(dbs.path(), "email") {
        // A send log as the server before migration 3 wrote it.
        let old = Db::connect(&url, "email", &MIGRATIONS[..2]).await.unwrap();
        let recorded = json!({"message_id": "<k.old@example.test>", "to": ["alice@example.test"], "cc": [],
                              "subject": "Old", "saved_to_sent": true, "in_reply_to": null, "references": [],
                              "reply_to": null, "delivered_via": "smtp"});
        old.query(
            "INSERT INTO email_sends (key, state, message_id, result, created_at) \
             VALUES ('old-1', 'sent', '<k.old@example.test>', $1, '2024-01-01T00:00:00Z')",
        )
        .bind(recorded.to_string())
        .execute(old.writer())
        .await
        .unwrap();
        drop(old);

        let f = Fixture::maildir(|v| v.push((cfg::EMAIL_DATABASE_URL, url.clone()))).await;
        let old = json!({"to": ["alice@example.test"], "subject": "Other", "text": "x", "idempotency_key": "old-1"});
        let v = f.ok("send", old).await;
        assert_eq!((v["duplicate"].as_bool(), &v["subject"]), (Some(true), &json!("Old")), "{backend}: {v}");
        let new = json!({"to": ["alice@example.test"], "subject": "New", "text": "x", "idempotency_key": "new-1"});
        assert_eq!(f.ok("send", new.clone()).await["duplicate"], false, "{backend}");
        assert_eq!(f.ok("send", new.clone()).await["duplicate"], true, "{backend}");
        let mut other = new;
        other["text"] = json!("y");
        let e = f.err("send", other).await;
        assert!(e.contains("was already used for different arguments"), "{backend}: {e}");
        assert_eq!(outbox_files(&f).len(), 1, "{backend}");
    }
}

/// A report carries its screenshot: `send` with an attachment writes a
/// multipart/mixed message whose text comes first and whose file decodes to
/// the bytes given; names, media types, counts, encodings and sizes outside
/// the rules are refused and send nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_go_out_as_files_and_bad_ones_are_refused() {
    use base64::Engine as _;
    use mail_parser::MimeHeaders as _;
    let f = Fixture::maildir(|v| v.push((cfg::EMAIL_MAX_SEND_BYTES, "64K".into()))).await;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n".iter().copied().chain((0..3000u32).map(|i| (i % 251) as u8)).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let att = |name: &str, ct: &str, data: &str| json!({"filename": name, "content_type": ct, "content_base64": data});
    let sent = f
        .ok(
            "send",
            json!({"to": ["alice@example.test"], "subject": "Your project", "text": "See the screenshot.",
                   "attachments": [att("hello-dev.png", "image/png", &b64)]}),
        )
        .await;
    assert_eq!(sent["duplicate"], false);
    let files = outbox_files(&f);
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&files[0]).unwrap();
    let m = MessageParser::default().parse(&raw).unwrap();
    assert_eq!(m.body_text(0).unwrap().trim(), "See the screenshot.");
    let a = m.attachments().next().expect("one attachment");
    assert_eq!(a.attachment_name(), Some("hello-dev.png"));
    assert_eq!(a.contents(), png.as_slice());
    let ct = a.content_type().unwrap();
    assert_eq!((ct.ctype(), ct.subtype()), ("image", Some("png")));

    let refused = [
        (att("../etc/passwd", "image/png", &b64), "filename"),
        (att(".hidden.png", "image/png", &b64), "filename"),
        (att("a b.png", "image/png", &b64), "filename"),
        (att(&"x".repeat(101), "image/png", &b64), "filename"),
        (att("x.html", "text/html", "PGI+"), "content_type"),
        (att("x.exe", "application/octet-stream", "AAAA"), "content_type"),
        (att("x.png", "image/png", "not base64!"), "base64"),
        (
            att("big.png", "image/png", &base64::engine::general_purpose::STANDARD.encode(vec![0u8; 70 << 10])),
            "EMAIL_MAX_SEND_BYTES",
        ),
    ];
    for (a, why) in refused {
        let r = f
            .call("send", json!({"to": ["alice@example.test"], "subject": "x", "text": "y", "attachments": [a]}))
            .await;
        let e = crate::err(&r);
        assert!(e.contains(why), "{why}: {e}");
    }
    let six: Vec<Value> = (0..6).map(|i| att(&format!("f{i}.txt"), "text/plain", "aGk=")).collect();
    let e = crate::err(
        &f.call("send", json!({"to": ["alice@example.test"], "subject": "x", "text": "y", "attachments": six})).await,
    );
    assert!(e.contains("at most 5"), "{e}");
    assert_eq!(outbox_files(&f).len(), 1, "a refused attachment must send nothing");
}
