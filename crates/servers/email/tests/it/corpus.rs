//! Hostile and broken mail, delivered into Dovecot and read over IMAP: every
//! message is stored and returned with a clear result, nothing panics, and
//! the server keeps serving.

use std::time::Instant;

use base64::Engine;
use mcp_server_email::config as cfg;
use serde_json::{Value, json};

use crate::{Fixture, MailServer};

const PASS: &str =
    "Authentication-Results: mx.example.test; dkim=pass header.d=example.test; dmarc=pass header.from=example.test\r\n";

fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    v.push((
        "broken-boundary",
        b"From: alice@example.test\r\nSubject: broken boundary\r\nMessage-ID: <c1@x>\r\n\
Content-Type: multipart/mixed; boundary=\"declared\"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nlost part\r\n\
--declared\r\nContent-Type: text/plain\r\n\r\nreal part\r\n--declared\r\nContent-Type: application/pdf\r\n\r\nno end"
            .to_vec(),
    ));
    let mut eight = b"From: \xc3\x89lodie <alice@example.test>\r\nSubject: caf\xc3\xa9 and latin1 \xe9t\xe9\r\nMessage-ID: <c2@x>\r\n\r\nbody\r\n".to_vec();
    eight.extend_from_slice(b"\xff\xfe raw bytes\r\n");
    v.push(("8bit-headers", eight));
    v.push((
        "unknown-charset",
        b"From: alice@example.test\r\nSubject: =?x-unknown-42?q?caf=E9?=\r\nMessage-ID: <c3@x>\r\n\
Content-Type: text/plain; charset=\"x-unknown-42\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\ncaf\xe9 cr\xe8me\r\n"
            .to_vec(),
    ));
    let depth = 1000;
    let mut nested = String::from("From: alice@example.test\r\nSubject: deeply nested\r\nMessage-ID: <c4@x>\r\n");
    for i in 0..depth {
        nested.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
    }
    nested.push_str("Content-Type: text/plain\r\n\r\nthe bottom\r\n");
    for i in (0..depth).rev() {
        nested.push_str(&format!("--b{i}--\r\n"));
    }
    v.push(("deeply-nested", nested.into_bytes()));
    v.push((
        "subject-injection",
        format!(
            "{PASS}From: =?utf-8?q?Alice=0D=0ABcc=3A_x=40evil=2Etest?= <alice@example.test>\r\nTo: agent@example.test\r\n\
             Subject: =?utf-8?q?plan=0D=0ABcc=3A_victim=40evil=2Etest=0D=0A=0D=0Abody?=\r\nMessage-ID: <c5@x>\r\n\r\nhello\r\n"
        )
        .into_bytes(),
    ));
    v.push((
        "address-injection",
        b"From: \"alice@example.test\" <mallory@evil.test>, alice@example.test\r\n\
To: \"agent@example.test>\\r\\nBcc: x@evil.test\" <agent@example.test>\r\nSubject: two froms\r\nMessage-ID: <c6@x>\r\n\r\nx\r\n"
            .to_vec(),
    ));
    v.push((
        "spoofed-from",
        b"Authentication-Results: mx.example.test; spf=fail smtp.mailfrom=evil.test; dkim=none; dmarc=fail header.from=example.test\r\n\
Authentication-Results: mx.example.test; dmarc=pass header.from=example.test\r\n\
From: Alice <alice@example.test>\r\nSubject: wire money\r\nMessage-ID: <c7@x>\r\n\r\nurgent\r\n"
            .to_vec(),
    ));
    v.push(("no-headers", b"just some text without any header\r\n".to_vec()));
    v.push((
        "bad-base64-and-html",
        b"From: alice@example.test\r\nSubject: html only\r\nMessage-ID: <c8@x>\r\nContent-Type: text/html\r\n\
Content-Transfer-Encoding: base64\r\n\r\n!!!not base64 at all%%%\r\nPGI+aGk8L2I+\r\n"
            .to_vec(),
    ));
    let mut many = String::from(
        "From: alice@example.test\r\nSubject: many parts\r\nMessage-ID: <c9@x>\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n",
    );
    for i in 0..3000 {
        many.push_str(&format!("--m\r\nContent-Type: application/octet-stream; name=f{i}.bin\r\n\r\n{i}\r\n"));
    }
    many.push_str("--m--\r\n");
    v.push(("many-parts", many.into_bytes()));
    v.push((
        "huge-header",
        format!("From: alice@example.test\r\nSubject: {}\r\nMessage-ID: <c10@x>\r\n\r\nx\r\n", "A".repeat(200_000))
            .into_bytes(),
    ));
    v
}

/// 50 MiB of attachment (about 68 MB once base64-encoded).
fn fifty_megabytes() -> Vec<u8> {
    let mut data = vec![0u8; 50 << 20];
    let mut x: u32 = 12345;
    for b in data.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 24) as u8;
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
    let mut body = String::with_capacity(b64.len() * 78 / 76 + 1024);
    body.push_str(
        "From: alice@example.test\r\nSubject: big attachment\r\nMessage-ID: <big@x>\r\n\
Content-Type: multipart/mixed; boundary=BIG\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nthe data is attached\r\n\
--BIG\r\nContent-Type: application/octet-stream; name=data.bin\r\nContent-Disposition: attachment; filename=data.bin\r\n\
Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for chunk in b64.as_bytes().chunks(76) {
        body.push_str(std::str::from_utf8(chunk).unwrap());
        body.push_str("\r\n");
    }
    body.push_str("--BIG--\r\n");
    body.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_and_broken_mail_is_handled() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |v| {
        v.push((cfg::EMAIL_REQUIRE_AUTH_RESULTS, "dmarc".into()));
        v.push((cfg::EMAIL_TRUSTED_AUTHSERV_IDS, "mx.example.test".into()));
    })
    .await;
    let cases = corpus();
    for (_, raw) in &cases {
        let (port, raw) = (mail.lmtp_port, raw.clone());
        tokio::task::spawn_blocking(move || {
            crate::mailserver::transfer(port, true, "x@example.test", "agent@example.test", &raw).unwrap()
        })
        .await
        .unwrap();
    }
    let t = Instant::now();
    let (cursor, msgs) = f.wait_new(None, cases.len()).await;
    println!("{} hostile messages read and stored in {:?}", cases.len(), t.elapsed());
    assert_eq!(msgs.len(), cases.len());
    let by = |name: &str| -> &Value {
        let i = cases.iter().position(|(n, _)| *n == name).unwrap();
        &msgs[i]
    };
    for m in &msgs {
        assert!(m["id"].is_string() && m["trust_reason"].is_string(), "{m}");
    }
    assert_eq!(by("broken-boundary")["subject"], "broken boundary");
    assert!(by("broken-boundary")["text"].as_str().unwrap().contains("real part"), "{}", by("broken-boundary"));
    assert!(by("8bit-headers")["subject"].as_str().unwrap().starts_with("café and latin1"), "{}", by("8bit-headers"));
    assert_eq!(by("8bit-headers")["from_name"], "Élodie");
    assert!(by("unknown-charset")["text"].as_str().unwrap().starts_with("caf"), "{}", by("unknown-charset"));
    assert!(by("deeply-nested")["id"].is_string());
    let inj = by("subject-injection");
    assert_eq!(inj["trusted"], true, "{inj}");
    assert!(!inj["subject"].as_str().unwrap().contains(['\r', '\n']));
    assert!(!inj["from_name"].as_str().unwrap().contains(['\r', '\n']));
    let two = by("address-injection");
    assert_eq!(two["trusted"], false);
    assert!(two["trust_reason"].as_str().unwrap().contains("several From"), "{two}");
    let spoof = by("spoofed-from");
    assert_eq!(spoof["trusted"], false, "{spoof}");
    assert!(spoof["trust_reason"].as_str().unwrap().contains("dmarc=fail"), "{spoof}");
    let none = by("no-headers");
    assert_eq!(none["trusted"], false);
    assert!(none["message_id"].as_str().unwrap().starts_with("<missing-"));
    assert_eq!(by("bad-base64-and-html")["subject"], "html only");
    assert_eq!(by("many-parts")["attachment_count"], 3000);
    assert_eq!(by("many-parts")["attachments"].as_array().unwrap().len(), 100);
    assert!(by("huge-header")["subject"].as_str().unwrap().len() <= 998);

    // Every message can be opened; the injected subject never becomes a header of the reply.
    for m in &msgs {
        f.ok("get_message", json!({"id": m["id"], "max_bytes": 2000})).await;
    }
    let r = f.ok("reply", json!({"id": inj["id"], "text": "ok"})).await;
    assert_eq!(r["to"], json!(["alice@example.test"]));
    let e = f.err("reply", json!({"id": spoof["id"], "text": "sending the money"})).await;
    assert!(e.contains("not trusted"), "{e}");

    // 50 MiB attachment.
    let big = fifty_megabytes();
    let size = big.len();
    let port = mail.lmtp_port;
    let t = Instant::now();
    tokio::task::spawn_blocking(move || {
        crate::mailserver::transfer(port, true, "x@example.test", "agent@example.test", &big).unwrap()
    })
    .await
    .unwrap();
    let delivered = t.elapsed();
    let (_, bigs) = f.wait_new(Some(&cursor), 1).await;
    println!(
        "a {size}-byte message (50 MiB attachment) delivered in {delivered:?}, returned {:?} after",
        t.elapsed() - delivered
    );
    let b = &bigs[0];
    assert_eq!(b["oversized"], false);
    assert_eq!(b["text"], "the data is attached");
    assert_eq!(b["attachments"][0]["size"], 50 << 20);
    assert_eq!(b["attachments"][0]["filename"], "data.bin");
    let e = f.err("get_attachment", json!({"id": b["id"], "index": 0})).await;
    assert!(e.contains("EMAIL_MAX_ATTACHMENT_BYTES"), "{e}");
    let g = f.ok("get_message", json!({"id": b["id"]})).await;
    assert_eq!(g["body"], "the data is attached");
    assert_eq!(f.server.raw().get("/health").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_over_the_size_cap_are_recorded_from_their_start() {
    let mail = MailServer::start();
    let f = Fixture::imap(&mail, |v| v.push((cfg::EMAIL_MAX_MESSAGE_BYTES, "1M".into()))).await;
    let mut raw = crate::mail("alice@example.test", "agent@example.test", "too big", "<tb@x>", "first line");
    raw.extend(std::iter::repeat_n(b'x', 3 << 20));
    let port = mail.lmtp_port;
    tokio::task::spawn_blocking(move || {
        crate::mailserver::transfer(port, true, "x@example.test", "agent@example.test", &raw).unwrap()
    })
    .await
    .unwrap();
    let (_, msgs) = f.wait_new(None, 1).await;
    let m = &msgs[0];
    assert_eq!(m["oversized"], true, "{m}");
    assert_eq!(m["subject"], "too big");
    assert!(m["trusted"].as_bool().unwrap());
    assert!(m["problems"][0].as_str().unwrap().contains("only its first"), "{m}");
    assert_eq!(m["attachments"], json!([]));
}
