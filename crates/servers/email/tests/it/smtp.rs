//! Sending: failures classified (before the data, rejected after it, lost
//! after it: ambiguous and never retried) against a scripted SMTP server, and
//! TLS (IMAPS, IMAP STARTTLS, SMTP STARTTLS, SMTPS) against Dovecot and
//! Postfix with a private CA, which must be configured to be trusted.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use mcp_server_email::config as cfg;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::{Fixture, MailServer};

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    DropAfterData,
    RejectAfterData,
    RejectRecipient,
}

/// A scripted SMTP server; returns its port and a count of connections.
async fn fake_smtp(b: Behaviour) -> (u16, Arc<AtomicUsize>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut r = BufReader::new(r);
                let _ = w.write_all(b"220 fake ESMTP\r\n").await;
                let mut line = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-fake\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("RCPT") && b == Behaviour::RejectRecipient {
                        b"550 5.1.1 no such user\r\n"
                    } else if cmd.starts_with("DATA") {
                        let _ = w.write_all(b"354 go ahead\r\n").await;
                        loop {
                            line.clear();
                            if r.read_line(&mut line).await.unwrap_or(0) == 0 || line == ".\r\n" {
                                break;
                            }
                        }
                        match b {
                            // The data went out and the connection dies before the answer.
                            Behaviour::DropAfterData => return,
                            Behaviour::RejectAfterData => b"554 5.7.1 message refused\r\n",
                            Behaviour::RejectRecipient => b"250 ok\r\n",
                        }
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, count)
}

async fn fixture_with_smtp(port: u16) -> Fixture {
    Fixture::maildir(|v| v.push((cfg::EMAIL_SMTP_URL, format!("smtp://127.0.0.1:{port}")))).await
}

fn sent_count(f: &Fixture) -> usize {
    let d = f.state.config.sent_maildir.clone();
    ["new", "cur"].iter().map(|s| std::fs::read_dir(d.join(s)).map(|r| r.count()).unwrap_or(0)).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_lost_after_data_is_ambiguous_and_not_retried() {
    let (port, count) = fake_smtp(Behaviour::DropAfterData).await;
    let f = fixture_with_smtp(port).await;
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t"})).await;
    assert!(e.starts_with("AMBIGUOUS"), "{e}");
    assert!(e.contains("NOT retried") && e.contains("@example.test>"), "{e}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(count.load(Ordering::SeqCst), 1, "an ambiguous send must not be retried");
    assert_eq!(sent_count(&f), 0, "an ambiguous send is not filed as sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_are_reported_as_not_sent() {
    let (port, _) = fake_smtp(Behaviour::RejectAfterData).await;
    let f = fixture_with_smtp(port).await;
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("rejected the message") && e.contains("554"), "{e}");
    let (port, _) = fake_smtp(Behaviour::RejectRecipient).await;
    let f = fixture_with_smtp(port).await;
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("not sent: RCPT TO") && e.contains("Nothing was delivered"), "{e}");
    assert_eq!(sent_count(&f), 0);
    // Nobody listening at all.
    let port = crate::mailserver::free_port();
    let f = fixture_with_smtp(port).await;
    let e = f.err("send", json!({"to": ["alice@example.test"], "subject": "s", "text": "t"})).await;
    assert!(e.contains("unavailable") && e.contains("connecting"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_in_every_mode_for_imap_and_smtp() {
    let mail = MailServer::start_with(true);
    let ca = mail.ca_file.clone().unwrap();
    let secure = |v: &mut Vec<(&'static str, String)>| {
        v.retain(|(k, _)| *k != cfg::EMAIL_IMAP_URL && *k != cfg::EMAIL_SMTP_URL);
        v.push((cfg::EMAIL_IMAP_URL, format!("imaps://localhost:{}", mail.imaps_port)));
        v.push((cfg::EMAIL_SMTP_URL, format!("smtp+starttls://localhost:{}", mail.smtp_port)));
    };
    let f = Fixture::imap(&mail, |v| {
        secure(v);
        v.push((cfg::EMAIL_TLS_CA_FILE, ca.display().to_string()));
    })
    .await;
    let raw = crate::mail("alice@example.test", "agent@example.test", "over tls", "<tls1@x>", "hi");
    let port = mail.lmtp_port;
    tokio::task::spawn_blocking(move || {
        crate::mailserver::transfer(port, true, "x@example.test", "agent@example.test", &raw).unwrap()
    })
    .await
    .unwrap();
    let (_, msgs) = f.wait_new(None, 1).await;
    let r = f.ok("reply", json!({"id": msgs[0]["id"], "text": "encrypted both ways"})).await;
    assert_eq!(r["saved_to_sent"], true);
    let alice = mail.maildir("alice").join("new");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&alice).map(|d| d.count()).unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the reply never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(mail.path().join("postfix/postfix.log")).unwrap_or_default();
    assert!(log.contains("TLS connection established"), "SMTP was not encrypted: {log}");

    // The other two ways: IMAP STARTTLS on the plain port, SMTP with implicit TLS.
    let other = Fixture::imap(&mail, |v| {
        v.retain(|(k, _)| *k != cfg::EMAIL_IMAP_URL && *k != cfg::EMAIL_SMTP_URL);
        v.push((cfg::EMAIL_IMAP_URL, format!("imap+starttls://localhost:{}", mail.imap_port)));
        v.push((cfg::EMAIL_SMTP_URL, format!("smtps://localhost:{}", mail.smtps_port)));
        v.push((cfg::EMAIL_TLS_CA_FILE, ca.display().to_string()));
    })
    .await;
    let r = other.ok("send", json!({"to": ["alice@example.test"], "subject": "implicit tls", "text": "x"})).await;
    assert_eq!(r["delivered_via"], "smtp");
    assert!(other.ok("list_mailboxes", json!({})).await["mailboxes"].is_array());
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&alice).map(|d| d.count()).unwrap_or(0) < 2 {
        assert!(Instant::now() < deadline, "the implicit-TLS message never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Without the CA the certificate is not trusted: no connection, and the reason is reported.
    let dir = tempfile::tempdir().unwrap();
    let mut vars = crate::imap_vars(&mail, dir.path());
    secure(&mut vars);
    let untrusted = Fixture::start(dir, crate::config_from(&vars)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let ready = untrusted.server.raw().get("/ready").await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    let e = untrusted.err("list_mailboxes", json!({})).await;
    assert!(e.to_lowercase().contains("certificate"), "{e}");
}
