//! The request corpus (`tests/requests.toml`): emails written the way people
//! write them, English and Polish — complete, incomplete and answered,
//! cancelled, retried, hostile — sent over SMTP to the whole fleet, each
//! asserting what the requester receives: the reply's text and language, the
//! questions asked, and for a built project its folder, tag and SPEC.md.
//!
//! Every first message goes out at once (the agent works through a queue, as
//! in a real inbox); the threads are then followed one by one.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;

use crate::{Fleet, Mail, git};

const ALICE: &str = "alice@example.test";
const AGENT: &str = "agent@example.test";
/// A question must come quickly even with the whole corpus queued before it.
const QUESTION: Duration = Duration::from_secs(60);
/// A build waits for the builds queued before it.
const BUILD: Duration = Duration::from_secs(600);

#[derive(Debug, Deserialize)]
struct Corpus {
    case: Vec<Case>,
}

// `flatten` and `deny_unknown_fields` do not combine in serde; a misspelt key
// is caught by the check below instead.
#[derive(Debug, Deserialize)]
struct Case {
    id: String,
    #[serde(default = "en")]
    lang: String,
    subject: String,
    body: String,
    #[serde(flatten)]
    first: Expect,
    #[serde(default)]
    slug: Option<String>,
    #[serde(default)]
    spec_says: Vec<String>,
    #[serde(default)]
    spec_never: Vec<String>,
    #[serde(default)]
    foreign: Option<String>,
    #[serde(default)]
    answers: Vec<Answer>,
}

#[derive(Debug, Deserialize)]
struct Answer {
    body: String,
    #[serde(default)]
    plain: bool,
    #[serde(default)]
    remove_foreign: bool,
    #[serde(flatten)]
    expect: Expect,
}

#[derive(Debug, Deserialize)]
struct Expect {
    expect: String,
    #[serde(default)]
    asks: Option<Vec<String>>,
    #[serde(default)]
    says: Vec<String>,
    #[serde(default)]
    never: Vec<String>,
}

fn en() -> String {
    "en".into()
}

/// A header value as RFC 2047 when it is not ASCII (as mail clients send it).
fn header(text: &str) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(text))
    }
}

/// The numbered questions of a reply ("1. ...").
fn questions(body: &str) -> usize {
    body.lines()
        .filter(|l| {
            let t = l.trim_start();
            let digits = t.bytes().take_while(u8::is_ascii_digit).count();
            digits > 0 && t[digits..].starts_with(". ")
        })
        .count()
}

fn check(case: &Case, step: &str, e: &Expect, reply: &Mail, failures: &mut Vec<String>) {
    let body = &reply.body;
    let mut fail = |what: String| failures.push(format!("{} ({step}): {what}\n--- reply ---\n{body}\n", case.id));
    let hello = if case.lang == "pl" { "Dzień dobry" } else { "Hello" };
    if !body.contains(hello) {
        fail(format!("not written in {:?}", case.lang));
    }
    let marker = match (e.expect.as_str(), case.lang.as_str()) {
        ("asked", _) => None,
        ("proceeded", "pl") => Some("jest gotowy"),
        ("proceeded", _) => Some("is ready"),
        ("failed", "pl") => Some("nie udało mi się"),
        ("failed", _) => Some("could not finish"),
        ("refused", "pl") => Some("nie mogę wykonać"),
        ("refused", _) => Some("I cannot act on this message"),
        ("cancelled", "pl") => Some("anulowałem"),
        ("cancelled", _) => Some("cancelled your request"),
        (other, _) => panic!("{}: unknown expectation {other}", case.id),
    };
    if let Some(m) = marker
        && !body.contains(m)
    {
        fail(format!("expected a {} reply (\"{m}\")", e.expect));
    }
    if e.expect == "asked" && questions(body) == 0 {
        fail("expected questions".into());
    }
    if let Some(asks) = &e.asks
        && questions(body) != asks.len()
    {
        fail(format!("expected {} question(s) about {asks:?}, got {}", asks.len(), questions(body)));
    }
    for s in &e.says {
        if !body.contains(s.as_str()) {
            fail(format!("does not say {s:?}"));
        }
    }
    for s in &e.never {
        if body.contains(s.as_str()) {
            fail(format!("says {s:?}"));
        }
    }
}

fn check_project(case: &Case, projects: &Path, failures: &mut Vec<String>) {
    let Some(slug) = &case.slug else { return };
    let dir = projects.join(slug);
    let mut fail = |what: String| failures.push(format!("{} (project {slug}): {what}", case.id));
    let Ok(spec) = std::fs::read_to_string(dir.join("SPEC.md")) else {
        fail("no SPEC.md".into());
        return;
    };
    if !git(&dir, &["tag", "--list"]).lines().any(|t| t == "v0.1.0") {
        fail("not tagged v0.1.0".into());
    }
    for s in &case.spec_says {
        if !spec.contains(s.as_str()) {
            fail(format!("SPEC.md does not say {s:?}:\n{spec}"));
        }
    }
    for s in &case.spec_never {
        if spec.contains(s.as_str()) {
            fail(format!("SPEC.md says {s:?}:\n{spec}"));
        }
    }
}

/// The reply to `message_id`, if it came within `within`.
async fn reply_to(f: &Fleet, message_id: &str, within: Duration) -> Option<Mail> {
    let start = Instant::now();
    loop {
        if let Some(m) = f.inbox("alice").into_iter().find(|m| m.in_reply_to == message_id) {
            return Some(m);
        }
        if start.elapsed() > within {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn wait_for(e: &Expect) -> Duration {
    match e.expect.as_str() {
        "proceeded" | "failed" => BUILD,
        "silent" => Duration::from_secs(5),
        _ => QUESTION,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_corpus() {
    let corpus: Corpus = toml::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/requests.toml")).unwrap(),
    )
    .unwrap();
    let emails = corpus.case.len() + corpus.case.iter().map(|c| c.answers.len()).sum::<usize>();
    assert!(emails >= 60, "the corpus has {emails} emails; keep at least 60");
    assert!(corpus.case.iter().any(|c| c.lang == "pl") && corpus.case.iter().any(|c| c.lang == "en"));
    let f = Fleet::start(&[]).await;
    let projects = f.projects();
    // Folders of other requests, so those runs fail.
    for c in &corpus.case {
        if let Some(foreign) = &c.foreign {
            std::fs::create_dir_all(projects.join(foreign)).unwrap();
            std::fs::write(projects.join(foreign).join("SPEC.md"), "| Request | someone-else |\n").unwrap();
        }
    }
    let firsts: Vec<String> =
        corpus.case.iter().map(|c| f.send(ALICE, AGENT, &header(&c.subject), &c.body, "")).collect();
    let mut failures = Vec::new();
    for (case, first) in corpus.case.iter().zip(&firsts) {
        let mut last_sent = first.clone();
        let mut thread = vec![first.clone()];
        let mut step = "first message".to_owned();
        let mut expect = &case.first;
        let mut answers = case.answers.iter();
        loop {
            let reply = reply_to(&f, &last_sent, wait_for(expect)).await;
            match (expect.expect.as_str(), reply) {
                ("silent", None) => {}
                ("silent", Some(r)) => {
                    failures.push(format!("{} ({step}): expected no reply, got:\n{}", case.id, r.body))
                }
                (_, None) => {
                    failures.push(format!("{} ({step}): no reply within {:?}", case.id, wait_for(expect)));
                    break;
                }
                (_, Some(r)) => {
                    check(case, &step, expect, &r, &mut failures);
                    if expect.expect == "proceeded" {
                        check_project(case, &projects, &mut failures);
                    }
                    thread.push(r.message_id.clone());
                    let Some(a) = answers.next() else { break };
                    if a.remove_foreign
                        && let Some(foreign) = &case.foreign
                    {
                        std::fs::remove_dir_all(projects.join(foreign)).unwrap();
                    }
                    // To the tokened Reply-To, or — as many people do — to the plain address, threaded by headers.
                    let (to, headers) = if a.plain {
                        (
                            AGENT.to_owned(),
                            format!("In-Reply-To: {}\r\nReferences: {}\r\n", r.message_id, thread.join(" ")),
                        )
                    } else {
                        (r.reply_to.clone(), format!("In-Reply-To: {}\r\n", r.message_id))
                    };
                    last_sent = f.send(ALICE, &to, &header(&format!("Re: {}", case.subject)), &a.body, &headers);
                    thread.push(last_sent.clone());
                    step = format!("answer {:?}", a.body.lines().next().unwrap_or_default());
                    expect = &a.expect;
                    continue;
                }
            }
            // A silent step ends its thread unless more answers follow.
            match answers.next() {
                Some(a) => {
                    last_sent = f.send(
                        ALICE,
                        AGENT,
                        &header(&format!("Re: {}", case.subject)),
                        &a.body,
                        &format!("In-Reply-To: {last_sent}\r\n"),
                    );
                    step = format!("answer {:?}", a.body.lines().next().unwrap_or_default());
                    expect = &a.expect;
                }
                None => break,
            }
        }
    }
    eprintln!("request corpus: {} threads, {emails} emails, {} failure(s)", corpus.case.len(), failures.len());
    assert!(failures.is_empty(), "{} of the corpus' checks failed:\n\n{}", failures.len(), failures.join("\n"));
}
