//! Storing a message the server has just read: parse it, judge trust,
//! recover a reply token, write the row, and wake `wait_for_new`.
//!
//! Every store goes through [`Intake::ingest`], which holds one lock around
//! the insert: sequence numbers are then committed in order, so a waiter that
//! has seen `seq = n` can never later find an unseen row below `n` (with
//! PostgreSQL, concurrent transactions could otherwise commit out of order).

use tokio::sync::{Mutex, watch};

use crate::parse;
use crate::store::{Inserted, Location, NewMessage, Store, StoreError};
use crate::token::Signer;
use crate::trust::{Facts, Policy};

/// Most text kept per message in the store (`get_message` pages through it).
pub const STORED_TEXT_BYTES: usize = 4 << 20;

/// A message as read from a backend.
#[derive(Debug, Clone)]
pub struct RawMessage {
    /// The bytes (the start only when `truncated`).
    pub bytes: Vec<u8>,
    /// Full size.
    pub size: u64,
    /// Over the size cap: only the start was read.
    pub truncated: bool,
    /// \Seen.
    pub seen: bool,
    /// \Flagged.
    pub flagged: bool,
}

/// The storing side of the intake.
pub struct Intake {
    store: Store,
    policy: Policy,
    signer: Signer,
    lock: Mutex<()>,
    latest: watch::Sender<i64>,
}

impl Intake {
    /// An intake whose newest stored intake message is `latest`.
    pub fn new(store: Store, policy: Policy, signer: Signer, latest: i64) -> Self {
        Self { store, policy, signer, lock: Mutex::new(()), latest: watch::Sender::new(latest) }
    }

    /// Watch the newest intake seq (wakes `wait_for_new`).
    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// The row for `raw` at `location`, without storing it.
    pub fn record(&self, location: Location, intake: bool, raw: &RawMessage, sent_by_us: bool) -> NewMessage {
        record(&self.policy, &self.signer, location, intake, raw, sent_by_us)
    }

    /// Parse, judge and store a message; wake waiters when it is a new intake message.
    pub async fn ingest(
        &self,
        location: Location,
        intake: bool,
        raw: &RawMessage,
        advance_sync: bool,
        maildir_name: Option<&str>,
        sent_by_us: bool,
    ) -> Result<Inserted, StoreError> {
        // Parsing a big message is CPU work; keep it off the async threads.
        let record = {
            let (raw, location) = (raw.clone(), location.clone());
            let (policy, signer) = (self.policy.clone(), self.signer.clone());
            tokio::task::spawn_blocking(move || record(&policy, &signer, location, intake, &raw, sent_by_us))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
        };
        let _guard = self.lock.lock().await;
        let r = self.store.insert(&record, advance_sync, maildir_name).await?;
        if let Inserted::New(seq) = r
            && intake
        {
            self.latest.send_replace(seq);
        }
        if !matches!(r, Inserted::Exists) {
            // Counts and outcomes only: addresses and text stay out of logs at info.
            mcp_core::tracing::info!(
                mailbox = %record.location.mailbox,
                uid = record.location.uid,
                outcome = ?r,
                trusted = record.trusted,
                size = record.size,
                "message stored"
            );
        }
        Ok(r)
    }
}

/// The row for `raw` at `location`: parsed, judged, its reply token checked.
pub fn record(
    policy: &Policy,
    signer: &Signer,
    location: Location,
    intake: bool,
    raw: &RawMessage,
    sent_by_us: bool,
) -> NewMessage {
    let p = parse::parse(&raw.bytes, STORED_TEXT_BYTES);
    let mut problems = p.problems.clone();
    let verdict = if sent_by_us {
        crate::trust::Verdict { trusted: false, reason: "sent by this server".into() }
    } else {
        policy.judge(&Facts {
            from: p.from.as_deref(),
            multiple_from: p.multiple_from,
            automatic: p.automatic.as_deref(),
            auth_results: &p.auth_results,
        })
    };
    let mut reason = verdict.reason;
    let mut request_id = None;
    let mut forged = false;
    for a in &p.recipient_addresses {
        match signer.check_address(a) {
            Some(Ok(id)) => {
                request_id = Some(id);
                break;
            }
            Some(Err(())) => forged = true,
            None => {}
        }
    }
    if forged && request_id.is_none() {
        reason.push_str("; a reply token in the recipient address is invalid (forged or altered) and was ignored");
    }
    let mut attachments = p.attachments.clone();
    if raw.truncated {
        problems.push(format!(
            "the message is {} bytes, over EMAIL_MAX_MESSAGE_BYTES: only its first {} bytes were read, its \
             text may be incomplete and its attachments are not listed",
            raw.size,
            crate::imap::PARTIAL_BYTES
        ));
        attachments.clear();
    }
    NewMessage {
        location,
        intake,
        message_id: p.message_id,
        in_reply_to: p.in_reply_to,
        references: p.references,
        from: p.from.unwrap_or_default(),
        from_name: p.from_name,
        to: p.to,
        cc: p.cc,
        subject: p.subject,
        date: p.date.unwrap_or_else(parse::now_rfc3339),
        trusted: verdict.trusted,
        trust_reason: reason,
        request_id,
        new_text: p.new_text,
        has_quoted: p.has_quoted,
        body: p.body_text,
        body_truncated: p.body_truncated,
        html_only: p.html_only,
        headers: p.headers,
        attachments,
        problems,
        seen: raw.seen,
        flagged: raw.flagged,
        size: raw.size as i64,
        oversized: raw.truncated,
    }
}
