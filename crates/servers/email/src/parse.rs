//! One raw message (RFC 5322 bytes) to the facts the server keeps: ids for
//! threading, addresses, subject, date, the text (HTML-only mail converted),
//! the new text split from quoted history, attachments with type and size,
//! the headers trust looks at, and the addresses a reply token may hide in.
//!
//! `mail-parser` does the MIME work (multipart, charsets, encoded words,
//! transfer encodings) and is lenient with broken mail. Everything taken from
//! a message is treated as hostile: one-line values lose control characters,
//! Message-IDs that could not appear in a header are dropped, sizes are
//! capped, and nothing here can panic on input.

use mail_parser::{Address, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::addr::{self, normalize_message_id, one_line};
use crate::{html, quote};

/// Most references kept (the first and the latest ones), so a hostile or endless chain cannot grow our headers.
pub const MAX_REFERENCES: usize = 30;
/// Most headers kept for `get_message`.
const MAX_HEADERS: usize = 200;
/// Longest header value kept.
const MAX_HEADER_VALUE: usize = 4096;

/// An attachment, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Attachment {
    /// Position in the message's attachment list (what `get_attachment` takes).
    pub index: u32,
    /// File name as given by the sender (control characters and path separators replaced), if any.
    pub filename: Option<String>,
    /// MIME type, e.g. `application/pdf`.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: u64,
}

/// The facts of one message.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// `<id>`; synthesised from the content when the message has none.
    pub message_id: String,
    /// The parent's Message-ID.
    pub in_reply_to: Option<String>,
    /// The References chain, oldest first.
    pub references: Vec<String>,
    /// The sender, when there is exactly one usable From address.
    pub from: Option<String>,
    /// The sender's display name.
    pub from_name: Option<String>,
    /// The message has more than one From header, or one holding several
    /// addresses or a group. Which of several headers a mail client shows
    /// differs from which a parser keeps, so such mail is never trusted.
    pub multiple_from: bool,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// Subject, one line.
    pub subject: String,
    /// Date header as RFC 3339 UTC.
    pub date: Option<String>,
    /// The whole text (HTML converted), capped.
    pub body_text: String,
    /// `body_text` was cut at the storage cap.
    pub body_truncated: bool,
    /// The message had no plain-text part; the text comes from HTML.
    pub html_only: bool,
    /// The new text (no quoted history or signature), uncapped.
    pub new_text: String,
    /// Quoted history was removed from `new_text`.
    pub has_quoted: bool,
    /// Attachments.
    pub attachments: Vec<Attachment>,
    /// Headers (name, unfolded raw value), top to bottom, capped.
    pub headers: Vec<(String, String)>,
    /// `Authentication-Results` values, top to bottom.
    pub auth_results: Vec<String>,
    /// Why the message looks automatic (`Auto-Submitted: auto-replied`,
    /// `Precedence: bulk`, `X-Autoreply: yes`...): never answered (loop guard).
    pub automatic: Option<String>,
    /// Addresses from To, Cc, Delivered-To and X-Original-To (where a reply token may be).
    pub recipient_addresses: Vec<String>,
    /// Problems met while parsing, in words.
    pub problems: Vec<String>,
}

fn unfold(v: &str) -> String {
    let v: String = v.chars().map(|c| if c.is_control() && c != '\t' { ' ' } else { c }).collect();
    let v = v.split_whitespace().collect::<Vec<_>>().join(" ");
    addr::cut(&v, MAX_HEADER_VALUE).to_owned()
}

fn addresses(a: Option<&Address<'_>>) -> Vec<(Option<String>, String)> {
    let Some(a) = a else { return Vec::new() };
    a.iter()
        .filter_map(|x| {
            let address = one_line(x.address()?);
            (!address.is_empty()).then(|| (x.name().map(one_line).filter(|n| !n.is_empty()), address))
        })
        .take(100)
        .collect()
}

fn ids(list: &[String]) -> Vec<String> {
    list.iter().filter_map(|s| normalize_message_id(s)).collect()
}

fn header_ids(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match v {
        mail_parser::HeaderValue::Text(t) => ids(&[t.to_string()]),
        mail_parser::HeaderValue::TextList(l) => ids(&l.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
        _ => Vec::new(),
    }
}

/// Keep the first reference and the latest ones, as mail clients trim long chains.
pub fn trim_references(mut refs: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    refs.retain(|r| seen.insert(r.clone()));
    if refs.len() > MAX_REFERENCES {
        let tail = refs.split_off(refs.len() - (MAX_REFERENCES - 1));
        refs.truncate(1);
        refs.extend(tail);
    }
    refs
}

/// A file name safe to show: no controls, no path separators, capped.
fn safe_filename(n: &str) -> String {
    let n: String = n.chars().map(|c| if c.is_control() || c == '/' || c == '\\' { '_' } else { c }).collect();
    addr::cut(n.trim(), 255).to_owned()
}

/// Now as RFC 3339 UTC in whole seconds, the form every stored date has (so dates compare as text).
pub fn now_rfc3339() -> String {
    mcp_core::clock::now_rfc3339_secs()
}

fn rfc3339(ts: i64) -> Option<String> {
    let t = time::OffsetDateTime::from_unix_timestamp(ts).ok()?;
    if t.year() < 1971 || t.year() > 9999 {
        return None;
    }
    t.format(&time::format_description::well_known::Rfc3339).ok()
}

/// `<missing-...@mcp-server-email.invalid>`: a stable id for a message without one, from its content.
fn synthetic_id(raw: &[u8]) -> String {
    let d = Sha256::digest(raw);
    let hex: String = d.iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("<missing-{hex}@mcp-server-email.invalid>")
}

fn extract_addresses(raw: &str) -> Vec<String> {
    raw.split([',', ' ', '\t', ';'])
        .map(|t| t.trim().trim_start_matches('<').trim_end_matches('>'))
        .filter(|t| t.contains('@'))
        .map(str::to_owned)
        .collect()
}

/// Whether header `name: value` marks a message as sent by a machine
/// (RFC 3834's `Auto-Submitted`, and the older conventions auto-responders
/// still use), described for the trust reason.
fn automatic(name: &str, value: &str) -> Option<String> {
    let v = value.trim().to_ascii_lowercase();
    let auto = match name.to_ascii_lowercase().as_str() {
        "auto-submitted" => v != "no",
        "precedence" => matches!(v.as_str(), "auto_reply" | "auto-reply" | "bulk" | "junk" | "list"),
        "x-autoreply" | "x-autorespond" | "x-autoresponder" | "x-auto-response" => true,
        _ => false,
    };
    auto.then(|| format!("{name}: {}", addr::cut(&one_line(value), 100)))
}

/// Parse `raw`. `max_text` caps the stored body text.
pub fn parse(raw: &[u8], max_text: usize) -> Parsed {
    let mut p = Parsed::default();
    let Some(m) = MessageParser::default().parse(raw) else {
        p.message_id = synthetic_id(raw);
        p.body_text = addr::cut(&String::from_utf8_lossy(raw), max_text).to_owned();
        p.problems.push("the message could not be parsed as RFC 5322 mail; its raw text is shown".into());
        p.new_text = p.body_text.clone();
        return p;
    };

    p.message_id = m.message_id().and_then(normalize_message_id).unwrap_or_else(|| {
        if m.message_id().is_some() {
            p.problems.push("the Message-ID is malformed; a synthetic one is used".into());
        }
        synthetic_id(raw)
    });
    p.in_reply_to = header_ids(m.in_reply_to()).into_iter().next();
    p.references = trim_references(header_ids(m.references()));

    let from = addresses(m.from());
    let from_is_group = matches!(m.from(), Some(Address::Group(_)));
    let from_headers = m.headers_raw().filter(|(name, _)| name.eq_ignore_ascii_case("From")).count();
    p.multiple_from = from.len() > 1 || from_is_group || from_headers > 1;
    if let Some((name, address)) = from.first() {
        p.from = addr::parse_address(address);
        if p.from.is_none() {
            p.problems.push(format!("the From address {address:?} is not a valid address"));
        }
        p.from_name = name.clone();
    }
    p.to = addresses(m.to()).into_iter().map(|(_, a)| a).collect();
    p.cc = addresses(m.cc()).into_iter().map(|(_, a)| a).collect();
    p.subject = addr::cut(&one_line(m.subject().unwrap_or_default()), 998).to_owned();
    p.date = m.date().and_then(|d| rfc3339(d.to_timestamp()));

    for (name, value) in m.headers_raw() {
        let value = unfold(value);
        if name.eq_ignore_ascii_case("Authentication-Results") {
            p.auth_results.push(value.clone());
        } else if p.automatic.is_none()
            && let Some(why) = automatic(name, &value)
        {
            p.automatic = Some(why);
        } else if name.eq_ignore_ascii_case("Delivered-To") || name.eq_ignore_ascii_case("X-Original-To") {
            p.recipient_addresses.extend(extract_addresses(&value));
        }
        if p.headers.len() < MAX_HEADERS {
            p.headers.push((one_line(name), value));
        }
    }
    p.recipient_addresses.extend(p.to.iter().cloned());
    p.recipient_addresses.extend(p.cc.iter().cloned());

    // Text: every inline text part in order; HTML converted when it stands in for text.
    let mut texts = Vec::new();
    let mut html_parts = 0;
    for &id in &m.text_body {
        let Some(part) = m.parts.get(id as usize) else { continue };
        match &part.body {
            PartType::Text(t) => texts.push(t.to_string()),
            PartType::Html(h) => {
                html_parts += 1;
                texts.push(html::to_text(h));
            }
            _ => {}
        }
        if part.is_encoding_problem {
            p.problems.push(format!("part {id} had an encoding problem; its text may be damaged"));
        }
    }
    if texts.is_empty() {
        for &id in &m.html_body {
            if let Some(PartType::Html(h)) = m.parts.get(id as usize).map(|x| &x.body) {
                html_parts += 1;
                texts.push(html::to_text(h));
            }
        }
    }
    p.html_only = html_parts > 0 && html_parts == texts.len();
    let text = texts.join("\n\n").replace("\r\n", "\n");
    let text: String = text.chars().filter(|c| !c.is_control() || matches!(c, '\n' | '\t')).collect();
    p.body_truncated = text.len() > max_text;
    p.body_text = addr::cut(&text, max_text).to_owned();
    let split = quote::split(&p.body_text);
    p.new_text = split.new_text;
    p.has_quoted = split.has_quoted;

    for index in 0..m.attachments.len() {
        if let Some(a) = listing(&m, index as u32) {
            p.attachments.push(a);
        }
    }
    p
}

/// The decoded bytes of attachment `index` of `raw`, with its listing.
pub fn attachment(raw: &[u8], index: u32) -> Option<(Attachment, Vec<u8>)> {
    let m = MessageParser::default().parse(raw)?;
    let listed = listing(&m, index)?;
    let id = *m.attachments.get(index as usize)?;
    let part = m.parts.get(id as usize)?;
    Some((listed, part.contents().to_vec()))
}

fn listing(m: &mail_parser::Message<'_>, index: u32) -> Option<Attachment> {
    let id = *m.attachments.get(index as usize)?;
    let part = m.parts.get(id as usize)?;
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_owned(),
        })
        .map(|t| one_line(&t).to_ascii_lowercase())
        .unwrap_or_else(|| match part.body {
            PartType::Message(_) => "message/rfc822".into(),
            PartType::Text(_) => "text/plain".into(),
            PartType::Html(_) => "text/html".into(),
            _ => "application/octet-stream".into(),
        });
    Some(Attachment {
        index,
        filename: part.attachment_name().map(safe_filename).filter(|n| !n.is_empty()),
        content_type,
        size: part.contents().len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_with_attachment_and_threading() {
        let raw = b"From: Alice <alice@example.com>\r\nTo: agent@example.test, Bob <bob@x.test>\r\n\
Subject: =?utf-8?q?Caf=C3=A9_plan?=\r\nMessage-ID: <m2@example.com>\r\nIn-Reply-To: <m1@example.test>\r\n\
References: <m0@example.com> <m1@example.test>\r\nDate: Mon, 1 Jan 2024 10:00:00 +0100\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\nOui, caf=E9.\r\n\r\nOn Mon, Bot wrote:\r\n> Which?\r\n\
--b1\r\nContent-Type: application/pdf; name=\"../../etc/spec.pdf\"\r\nContent-Disposition: attachment\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";
        let p = parse(raw, 1 << 20);
        assert_eq!(p.message_id, "<m2@example.com>");
        assert_eq!(p.in_reply_to.as_deref(), Some("<m1@example.test>"));
        assert_eq!(p.references, ["<m0@example.com>", "<m1@example.test>"]);
        assert_eq!(p.from.as_deref(), Some("alice@example.com"));
        assert_eq!(p.from_name.as_deref(), Some("Alice"));
        assert_eq!(p.to, ["agent@example.test", "bob@x.test"]);
        assert_eq!(p.subject, "Café plan");
        assert_eq!(p.date.as_deref(), Some("2024-01-01T09:00:00Z"));
        assert_eq!(p.new_text, "Oui, café.");
        assert!(p.has_quoted);
        assert_eq!(p.attachments.len(), 1);
        assert_eq!(p.attachments[0].content_type, "application/pdf");
        assert_eq!(p.attachments[0].filename.as_deref(), Some(".._.._etc_spec.pdf"));
        assert_eq!(p.attachments[0].size, 9);
        let (a, bytes) = attachment(raw, 0).unwrap();
        assert_eq!((a.size, bytes.as_slice()), (9, &b"%PDF-1.4\n"[..]));
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let raw = b"From: a@example.com\r\nSubject: hi\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Hello <b>there</b></p><blockquote>old</blockquote>";
        let p = parse(raw, 1 << 20);
        assert!(p.html_only);
        assert_eq!(p.new_text, "Hello there");
        assert!(p.has_quoted);
        assert!(p.message_id.starts_with("<missing-"), "{}", p.message_id);
    }

    #[test]
    fn hostile_values_are_neutralised() {
        let raw =
            b"From: \"x\" <a@example.com>, b@example.com\r\nSubject: =?utf-8?q?hi=0D=0ABcc=3A_evil=40x.test?=\r\n\
Message-ID: <a b@c>\r\nReferences: <ok@x> <bad\"id@x>\r\n\r\nbody";
        let p = parse(raw, 1 << 20);
        assert!(p.multiple_from);
        assert_eq!(p.subject, "hi Bcc: evil@x.test");
        // Two From headers: a parser keeps one, a mail client may show the other.
        let two = parse(b"From: boss@example.com\r\nFrom: evil@x.test\r\nSubject: s\r\n\r\nbody", 1 << 20);
        assert!(two.multiple_from, "{:?}", two.from);
        let one = parse(b"From: boss@example.com\r\nSubject: s\r\n\r\nbody", 1 << 20);
        assert!(!one.multiple_from);
        assert!(p.message_id.starts_with("<missing-"));
        assert_eq!(p.references, ["<ok@x>"]);
    }

    #[test]
    fn automatic_mail_is_recognised_by_every_convention() {
        for header in [
            "Auto-Submitted: auto-replied",
            "Auto-Submitted: auto-generated",
            "Precedence: auto_reply",
            "Precedence: bulk",
            "precedence: Junk",
            "Precedence: list",
            "X-Autoreply: yes",
            "X-Autorespond: Out of office",
        ] {
            let raw = format!("From: a@example.com\r\n{header}\r\nSubject: s\r\n\r\nbody");
            assert!(parse(raw.as_bytes(), 1 << 20).automatic.is_some(), "{header}");
        }
        for header in ["Auto-Submitted: no", "Precedence: first-class", "X-Mailer: mutt"] {
            let raw = format!("From: a@example.com\r\n{header}\r\nSubject: s\r\n\r\nbody");
            assert!(parse(raw.as_bytes(), 1 << 20).automatic.is_none(), "{header}");
        }
    }

    #[test]
    fn garbage_does_not_panic() {
        for raw in
            [&b""[..], b"\xff\xfe\x00", b"no headers at all", b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x"]
        {
            let _ = parse(raw, 1024);
        }
    }

    #[test]
    fn references_are_trimmed() {
        let refs: Vec<String> = (0..100).map(|i| format!("<{i}@x>")).collect();
        let t = trim_references(refs);
        assert_eq!(t.len(), MAX_REFERENCES);
        assert_eq!(t[0], "<0@x>");
        assert_eq!(t[MAX_REFERENCES - 1], "<99@x>");
    }
}
