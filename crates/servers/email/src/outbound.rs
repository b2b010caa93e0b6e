//! Sending: validate, compose, deliver, keep a copy.
//!
//! - Every recipient must be a plain address on `EMAIL_ALLOWED_RECIPIENTS`;
//!   subjects are one line; Message-IDs are our own or validated ones. Header
//!   values are encoded by lettre, so nothing a caller or a hostile message
//!   supplies can add a header.
//! - Threading: `In-Reply-To` is the parent's Message-ID and `References`
//!   the parent's chain plus the parent, as mail clients expect.
//! - `Reply-To` carries a signed token when a request id is given.
//! - Delivery is SMTP (implicit TLS, STARTTLS, or plain on loopback) driven
//!   step by step with lettre's connection, so a failure is classified: before
//!   the message data went out (nothing delivered), rejected after it (not
//!   delivered), or lost after it — ambiguous: reported as such and never
//!   retried, since a retry could deliver the message twice. Without SMTP the
//!   message is written to the outbox folder as a `.eml` file.
//! - A copy goes to the Sent mailbox (IMAP APPEND or the Sent Maildir) and
//!   into the store, so the agent sees its own replies in `thread`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;
use mcp_core::idempotency::{self, Replay};
use mcp_core::{ToolError, tracing};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::addr::{self, normalize_message_id, parse_address};
use crate::config::{Endpoint, Security};
use crate::store::SendRecord;
use crate::{Email, backend, parse};

/// Most recipients (To and Cc together) of one message.
pub const MAX_RECIPIENTS: usize = 50;

/// What to send.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// To.
    pub to: Vec<String>,
    /// Cc.
    pub cc: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// Parent Message-ID.
    pub in_reply_to: Option<String>,
    /// References chain (the parent last).
    pub references: Vec<String>,
    /// Request id for a signed Reply-To.
    pub request_id: Option<String>,
    /// Makes the send idempotent: the same key never sends twice.
    pub idempotency: Option<Keyed>,
    /// Files attached after the text (a report's screenshot).
    pub attachments: Vec<Attachment>,
}

/// A file attached to an outgoing message.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// The file name the recipient sees: letters, digits, '.', '-', '_' (at most 100 characters).
    pub filename: String,
    /// Its media type: image/png, image/jpeg, text/plain, application/pdf or application/json.
    pub content_type: String,
    /// The bytes, base64 (standard alphabet, padded).
    pub content_base64: String,
}

/// Attachments at most, per message.
pub const MAX_ATTACHMENTS: usize = 5;

/// Media types an attachment may have: what the fleet's reports carry, nothing executable or active.
pub const ATTACHMENT_TYPES: &[&str] = &["image/png", "image/jpeg", "text/plain", "application/pdf", "application/json"];

/// Checked attachments as MIME parts; their decoded bytes count against `max_bytes` with the text.
fn attachment_parts(list: &[Attachment], mut budget: usize) -> Result<Vec<lettre::message::SinglePart>, ToolError> {
    use base64::Engine as _;
    if list.len() > MAX_ATTACHMENTS {
        return Err(ToolError::invalid(format!("attachments: at most {MAX_ATTACHMENTS}")));
    }
    let mut parts = Vec::with_capacity(list.len());
    for (i, a) in list.iter().enumerate() {
        let name = a.filename.trim();
        let valid_name = !name.is_empty()
            && name.len() <= 100
            && !name.starts_with('.')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !valid_name {
            return Err(ToolError::invalid(format!(
                "attachments[{i}].filename {:?}: letters, digits, '.', '-' and '_' only, not starting with '.',                  at most 100 characters",
                a.filename
            )));
        }
        let ct = a.content_type.trim().to_ascii_lowercase();
        if !ATTACHMENT_TYPES.contains(&ct.as_str()) {
            return Err(ToolError::invalid(format!(
                "attachments[{i}].content_type {:?}: one of {}",
                a.content_type,
                ATTACHMENT_TYPES.join(", ")
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.trim())
            .map_err(|e| ToolError::invalid(format!("attachments[{i}].content_base64: not base64 ({e})")))?;
        if bytes.len() > budget {
            return Err(ToolError::invalid(
                "attachments: the text and the attachments together are over EMAIL_MAX_SEND_BYTES; attach less",
            ));
        }
        budget -= bytes.len();
        let content_type = ContentType::parse(&ct).map_err(|e| ToolError::invalid(e.to_string()))?;
        parts.push(lettre::message::Attachment::new(name.to_owned()).body(bytes, content_type));
    }
    Ok(parts)
}

/// A checked idempotency key with the hash of the calling tool's arguments.
#[derive(Debug, Clone)]
pub struct Keyed {
    /// The caller's key.
    pub key: String,
    /// [`idempotency::args_hash`] of the tool's arguments, without the key.
    pub args_sha256: String,
}

impl Keyed {
    /// The key of a `send` or `reply` call with `args` (its typed arguments);
    /// `None` without a key. `send` and `reply` share the keys: their
    /// required arguments differ (`to` and `subject`, `id`), so one key used
    /// by both is a conflict.
    pub fn new<A: Serialize>(key: Option<&str>, args: &A) -> Result<Option<Self>, ToolError> {
        let Some(key) = key else { return Ok(None) };
        idempotency::check_key(key)?;
        let args = serde_json::to_value(args).map_err(ToolError::internal)?;
        Ok(Some(Self { key: key.to_owned(), args_sha256: idempotency::args_hash(&args, idempotency::KEY_FIELD) }))
    }
}

/// What was sent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Sent {
    /// The Message-ID of the message sent.
    pub message_id: String,
    /// To addresses.
    pub to: Vec<String>,
    /// Cc addresses.
    pub cc: Vec<String>,
    /// The subject as sent.
    pub subject: String,
    /// A copy was saved to the Sent mailbox.
    pub saved_to_sent: bool,
    /// `In-Reply-To`, when threaded.
    pub in_reply_to: Option<String>,
    /// `References`, when threaded.
    pub references: Vec<String>,
    /// The `Reply-To` address carrying the signed token, when a request_id was given.
    pub reply_to: Option<String>,
    /// `smtp`, or the outbox file written.
    pub delivered_via: String,
    /// True when this is the recorded result of an earlier send with the
    /// same idempotency key: nothing was sent this time.
    #[serde(default)]
    pub duplicate: bool,
}

fn check_recipients(e: &Email, list: &[String], field: &str) -> Result<Vec<String>, ToolError> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for raw in list {
        let a = parse_address(raw)
            .ok_or_else(|| ToolError::invalid(format!("{field}: {raw:?} is not a plain address (local@domain)")))?;
        if !e.config.allowed_recipients.allows(&a) {
            refused.push(a.clone());
        }
        if !out.iter().any(|x: &String| x.eq_ignore_ascii_case(&a)) {
            out.push(a);
        }
    }
    if !refused.is_empty() {
        return Err(ToolError::denied(format!(
            "not on the recipient allow-list (EMAIL_ALLOWED_RECIPIENTS: {}): {}",
            e.config.allowed_recipients.describe(),
            refused.join(", ")
        )));
    }
    Ok(out)
}

fn new_message_id(address: &str, key: Option<&str>) -> String {
    let domain = address.rsplit_once('@').map_or("localhost", |(_, d)| d);
    if let Some(k) = key {
        // Deterministic, so even a duplicate that slipped through (an
        // ambiguous send retried by hand) is one message to mail clients.
        use sha2::Digest;
        let h: String = sha2::Sha256::digest(k.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect();
        return format!("<k.{h}@{domain}>");
    }
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let r: String = crate::random_bytes(8).iter().map(|b| format!("{b:02x}")).collect();
    format!("<{ms}.{r}@{domain}>")
}

fn mailbox(addr: &str, name: Option<String>) -> Result<Mailbox, ToolError> {
    let a = addr.parse().map_err(|e| ToolError::invalid(format!("{addr:?}: {e}")))?;
    Ok(Mailbox::new(name, a))
}

/// A validated, composed message.
#[derive(Debug, Clone)]
pub struct Composed {
    /// Message-ID.
    pub message_id: String,
    /// The RFC 5322 bytes.
    pub bytes: Vec<u8>,
    /// Envelope recipients (To and Cc).
    pub recipients: Vec<String>,
    /// What the caller gets back (minus the delivery facts).
    pub sent: Sent,
}

/// Validate `d` and build the message.
pub fn compose(e: &Email, d: &Draft) -> Result<Composed, ToolError> {
    if d.to.is_empty() {
        return Err(ToolError::invalid("to: give at least one recipient"));
    }
    if d.to.len() + d.cc.len() > MAX_RECIPIENTS {
        return Err(ToolError::invalid(format!("at most {MAX_RECIPIENTS} recipients")));
    }
    let to = check_recipients(e, &d.to, "to")?;
    let cc: Vec<String> = check_recipients(e, &d.cc, "cc")?
        .into_iter()
        .filter(|c| !to.iter().any(|t| t.eq_ignore_ascii_case(c)))
        .collect();
    if d.subject.chars().any(char::is_control) {
        return Err(ToolError::invalid("subject: one line without control characters"));
    }
    let subject = d.subject.trim();
    if subject.len() > 500 {
        return Err(ToolError::invalid("subject: at most 500 bytes"));
    }
    if d.text.len() > e.config.max_send_bytes {
        return Err(ToolError::invalid(format!(
            "text is {} bytes, over EMAIL_MAX_SEND_BYTES ({}); shorten it",
            d.text.len(),
            e.config.max_send_bytes
        )));
    }
    if d.text.contains('\0') {
        return Err(ToolError::invalid("text: NUL characters are not allowed"));
    }
    let in_reply_to = match &d.in_reply_to {
        Some(id) => Some(
            normalize_message_id(id)
                .ok_or_else(|| ToolError::invalid(format!("in_reply_to: {id:?} is not a Message-ID")))?,
        ),
        None => None,
    };
    let references = parse::trim_references(d.references.iter().filter_map(|r| normalize_message_id(r)).collect());
    let reply_to = match &d.request_id {
        Some(id) => Some(e.signer.reply_address(id).map_err(|err| ToolError::invalid(format!("request_id: {err}")))?),
        None => None,
    };
    let message_id = new_message_id(&e.config.address, d.idempotency.as_ref().map(|k| k.key.as_str()));

    let mut b = Message::builder()
        .from(mailbox(&e.config.address, e.config.from_name.clone())?)
        .raw_header(subject_header(subject))
        .message_id(Some(message_id.clone()))
        .date_now()
        .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
    for t in &to {
        b = b.to(mailbox(t, None)?);
    }
    for c in &cc {
        b = b.cc(mailbox(c, None)?);
    }
    if let Some(r) = &reply_to {
        b = b.reply_to(mailbox(r, None)?);
    }
    if let Some(id) = &in_reply_to {
        b = b.in_reply_to(id.clone());
    }
    if !references.is_empty() {
        b = b.references(references.join(" "));
    }
    let text = d.text.replace("\r\n", "\n");
    let attachments = attachment_parts(&d.attachments, e.config.max_send_bytes.saturating_sub(d.text.len()))?;
    let msg = if attachments.is_empty() {
        b.header(ContentType::TEXT_PLAIN).body(text)
    } else {
        // multipart/mixed: the text first, then each file.
        let mut mixed = lettre::message::MultiPart::mixed().singlepart(lettre::message::SinglePart::plain(text));
        for part in attachments {
            mixed = mixed.singlepart(part);
        }
        b.multipart(mixed)
    }
    .map_err(|err| ToolError::invalid(err.to_string()))?;
    let mut recipients = to.clone();
    recipients.extend(cc.iter().cloned());
    Ok(Composed {
        message_id: message_id.clone(),
        bytes: msg.formatted(),
        recipients,
        sent: Sent {
            message_id,
            to,
            cc,
            subject: subject.to_owned(),
            saved_to_sent: false,
            in_reply_to,
            references,
            reply_to,
            delivered_via: String::new(),
            duplicate: false,
        },
    })
}

/// How an SMTP delivery failed.
#[derive(Debug)]
enum Failure {
    /// Before the message data was sent: nothing was delivered.
    Before(String),
    /// The server refused the message after its data: not delivered.
    Rejected(String),
    /// The connection failed after the data was sent: delivery unknown.
    Ambiguous(String),
}

fn smtp_error(e: &lettre::transport::smtp::Error) -> String {
    addr::one_line(&e.to_string())
}

async fn step<T>(
    t: Duration,
    what: &str,
    f: impl Future<Output = Result<T, lettre::transport::smtp::Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(t, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::Before(format!("{what}: {}", smtp_error(&e)))),
        Err(_) => Err(Failure::Before(format!("{what}: timed out"))),
    }
}

async fn smtp_send(e: &Email, ep: &Endpoint, recipients: &[String], bytes: &[u8]) -> Result<(), Failure> {
    let t = e.config.network_timeout;
    let tls = || -> Result<TlsParameters, Failure> {
        let mut b = TlsParameters::builder(ep.host.clone());
        if let Some(ca) = &e.config.tls_ca_file {
            let pem = std::fs::read(ca).map_err(|err| Failure::Before(format!("{}: {err}", ca.display())))?;
            let cert =
                Certificate::from_pem(&pem).map_err(|err| Failure::Before(format!("{}: {err}", ca.display())))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|err| Failure::Before(format!("TLS settings: {err}")))
    };
    let implicit = if ep.security == Security::Tls { Some(tls()?) } else { None };
    let hello = ClientId::default();
    let mut conn = step(
        t * 2,
        "connecting",
        AsyncSmtpConnection::connect_tokio1((ep.host.as_str(), ep.port), Some(t), &hello, implicit, None),
    )
    .await?;
    if ep.security == Security::StartTls {
        if !conn.can_starttls() {
            return Err(Failure::Before("the server does not offer STARTTLS, which is required".into()));
        }
        step(t, "STARTTLS", conn.starttls(tls()?, &hello)).await?;
    }
    if let Some(pw) = &e.config.password
        && conn.server_info().get_auth_mechanism(&[Mechanism::Plain, Mechanism::Login]).is_some()
    {
        let creds = Credentials::new(e.config.username.clone(), pw.0.clone());
        step(t, "authentication", conn.auth(&[Mechanism::Plain, Mechanism::Login], &creds)).await?;
    }
    let from = e.config.address.parse().map_err(|err| Failure::Before(format!("sender address: {err}")))?;
    step(t, "MAIL FROM", conn.command(Mail::new(Some(from), vec![]))).await?;
    for r in recipients {
        let a = r.parse().map_err(|err| Failure::Before(format!("recipient {r}: {err}")))?;
        step(t, "RCPT TO", conn.command(Rcpt::new(a, vec![]))).await?;
    }
    step(t, "DATA", conn.command(Data)).await?;
    // From here on the server may have the message: a lost connection is ambiguous.
    let budget = t + Duration::from_secs(bytes.len() as u64 / 500_000);
    match tokio::time::timeout(budget, conn.message(bytes)).await {
        Ok(Ok(_)) => {}
        Ok(Err(err)) if err.is_permanent() || err.is_transient() => return Err(Failure::Rejected(smtp_error(&err))),
        Ok(Err(err)) => return Err(Failure::Ambiguous(smtp_error(&err))),
        Err(_) => return Err(Failure::Ambiguous("no answer after the message data (timed out)".into())),
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), conn.quit()).await;
    Ok(())
}

fn write_outbox(e: &Email, message_id: &str, bytes: &[u8]) -> Result<String, ToolError> {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
    let tag: String = message_id.chars().filter(char::is_ascii_alphanumeric).take(24).collect();
    let name = format!("{ms}-{tag}.eml");
    let tmp = e.config.outbox.join(format!(".{name}.tmp"));
    let path = e.config.outbox.join(&name);
    std::fs::create_dir_all(&e.config.outbox).map_err(ToolError::internal)?;
    crate::maildir::write_synced(&tmp, bytes).map_err(ToolError::internal)?;
    std::fs::rename(&tmp, &path).map_err(ToolError::internal)?;
    Ok(path.display().to_string())
}

/// Validate, compose, deliver, and save a copy. With an idempotency key, a
/// key already sent with the same arguments returns the recorded result
/// (`duplicate: true`) and sends nothing; a key used with other arguments is
/// a conflict; a key whose earlier send was interrupted or ambiguous is
/// refused rather than risk a second delivery.
pub async fn send(e: &Email, d: &Draft) -> Result<Sent, ToolError> {
    let Some(k) = &d.idempotency else { return send_once(e, d).await };
    let key = k.key.as_str();
    // Validate before claiming, so a bad draft never holds a key.
    let message_id = compose(e, d)?.message_id;
    // `None`: the key is free. A record from before the arguments' hash was
    // kept (migration 3) has none and replays as it always did.
    let replay = |rec: Option<SendRecord>| -> Result<Option<Sent>, ToolError> {
        let recorded = rec.map(|r| (r.args_sha256.clone().unwrap_or_else(|| k.args_sha256.clone()), r));
        let first = Replay::of(&k.args_sha256, recorded.as_ref().map(|(a, r)| (a.as_str(), r))).into_result(
            key,
            |r| match r.state.as_str() {
                "sent" => format!("it sent message {}", r.message_id),
                _ => format!("its send of message {} is in flight or was interrupted", r.message_id),
            },
        )?;
        let Some(r) = first else { return Ok(None) };
        match (r.state.as_str(), r.result.as_deref().and_then(|j| serde_json::from_str::<Sent>(j).ok())) {
            ("sent", Some(mut s)) => {
                s.duplicate = true;
                Ok(Some(s))
            }
            _ => Err(ToolError::failed(format!(
                "AMBIGUOUS: an earlier send with idempotency key {key:?} (message {message_id}) was interrupted or \
                 lost its connection after the data; it may have been delivered. Not sending again."
            ))),
        }
    };
    if let Some(s) = replay(e.store.send_record(key).await.map_err(ToolError::internal)?)? {
        return Ok(s);
    }
    if !e.store.claim_send(key, &message_id, &k.args_sha256).await.map_err(ToolError::internal)? {
        // Another call with this key claimed it first: answer as its replay.
        let rec = e.store.send_record(key).await.map_err(ToolError::internal)?;
        return match replay(rec)? {
            Some(s) => Ok(s),
            // It has released the key again: its send certainly delivered nothing.
            None => Err(ToolError::unavailable(format!(
                "a concurrent send with idempotency key {key:?} failed without delivering; it is safe to try again"
            ))),
        };
    }
    match send_once(e, d).await {
        Ok(sent) => {
            let json = serde_json::to_string(&sent).map_err(ToolError::internal)?;
            e.store.finish_send(key, Some(&json)).await.map_err(ToolError::internal)?;
            Ok(sent)
        }
        Err(err) => {
            // Only a failure that certainly delivered nothing frees the key.
            let ambiguous = err.to_string().contains("AMBIGUOUS");
            if !ambiguous {
                e.store.finish_send(key, None).await.map_err(ToolError::internal)?;
            }
            Err(err)
        }
    }
}

async fn send_once(e: &Email, d: &Draft) -> Result<Sent, ToolError> {
    let c = compose(e, d)?;
    let mut sent = c.sent.clone();
    match &e.config.smtp {
        Some(ep) => match smtp_send(e, ep, &c.recipients, &c.bytes).await {
            Ok(()) => sent.delivered_via = "smtp".into(),
            Err(Failure::Before(m)) => {
                tracing::warn!(message_id = %c.message_id, error = %addr::redact(&m), "send failed before the message data");
                return Err(ToolError::Unavailable(format!(
                    "not sent: {m}. Nothing was delivered; it is safe to try again later."
                )));
            }
            Err(Failure::Rejected(m)) => {
                tracing::warn!(message_id = %c.message_id, error = %addr::redact(&m), "send rejected by the server");
                return Err(ToolError::failed(format!("not sent: the SMTP server rejected the message: {m}")));
            }
            Err(Failure::Ambiguous(m)) => {
                tracing::error!(
                    message_id = %c.message_id,
                    error = %addr::redact(&m),
                    "ambiguous send: connection lost after DATA"
                );
                return Err(ToolError::failed(format!(
                    "AMBIGUOUS: the connection to the SMTP server failed after the message data was sent ({m}). \
                     Message {} may or may not have been delivered. It was NOT retried (a retry could deliver it \
                     twice) and NOT saved to Sent. Check the recipient's mailbox or ask before sending again.",
                    c.message_id
                )));
            }
        },
        None => sent.delivered_via = write_outbox(e, &c.message_id, &c.bytes)?,
    }
    sent.saved_to_sent = backend::save_sent(e, &c.bytes, &c.message_id).await?;
    tracing::info!(
        message_id = %c.message_id,
        recipients = c.recipients.len(),
        threaded = sent.in_reply_to.is_some(),
        token = sent.reply_to.is_some(),
        saved_to_sent = sent.saved_to_sent,
        "message sent"
    );
    Ok(sent)
}

/// The Subject header. Text that looks like an RFC 2047 encoded word
/// (`=?charset?b?...?=`) is encoded whole, so a mail client shows it as
/// written instead of decoding it a second time (which could turn it into
/// line breaks or another sender's words); other non-ASCII text is left to
/// lettre, which encodes it the same way.
fn subject_header(subject: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !subject.contains("=?") {
        return HeaderValue::new(name, subject.to_owned());
    }
    HeaderValue::dangerous_new_pre_encoded(name, subject.to_owned(), encoded_words(subject))
}

/// `s` as UTF-8 base64 encoded words of at most 75 characters each (RFC
/// 2047 §2), split on character boundaries and folded onto continuation
/// lines.
fn encoded_words(s: &str) -> String {
    use base64::Engine;
    // "=?utf-8?b?" + "?=" leave 63 characters: 45 bytes encode to 60.
    const MAX_BYTES: usize = 45;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > MAX_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(chunk);
    }
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a mail client shows for a Subject header value.
    fn shown(header_value: &str) -> String {
        let raw = format!("From: a@example.com\r\nSubject: {header_value}\r\n\r\nbody");
        crate::parse::parse(raw.as_bytes(), 1 << 10).subject
    }

    #[test]
    fn encoded_words_in_a_subject_are_shown_as_written() {
        for subject in [
            "=?utf-8?q?hi=0D=0ABcc=3A_evil=40x.test?=",
            "Re: =?iso-8859-1?b?SGVsbG8=?= and more",
            "Zażółć gęślą jaźń =?utf-8?b?eA==?= ".repeat(4).trim(),
        ] {
            let encoded = encoded_words(subject);
            assert!(encoded.lines().all(|l| l.trim_start().len() <= 75), "{encoded}");
            assert_eq!(shown(&encoded), subject, "{encoded}");
        }
        // Plain subjects are left to lettre, which encodes only what needs it.
        let mut h = lettre::message::header::Headers::new();
        h.insert_raw(subject_header("Your project"));
        assert_eq!(h.get_raw("Subject"), Some("Your project"));
    }
}
