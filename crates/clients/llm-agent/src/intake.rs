//! The email intake: long-poll the email server's `wait_for_new` with a
//! cursor kept in the database, process each message, then advance the
//! cursor. A crash between processing and advancing re-reads the batch;
//! processing is idempotent on Message-ID, so that is harmless.

use std::sync::Arc;
use std::time::Duration;

use mcp_core::tracing;
use serde_json::{Value, json};

use crate::Agent;
use crate::request::{Channel, Incoming};

const CURSOR: &str = "email_cursor";
/// Attempts on one message before it is set aside as failed (a bug, not an outage, keeps failing).
const MAX_ATTEMPTS: u32 = 5;

/// A `wait_for_new` message as an [`Incoming`].
pub fn incoming(m: &Value) -> Option<Incoming> {
    Some(Incoming {
        channel: Channel::Email { email_id: m["id"].as_str()?.to_owned() },
        message_id: m["message_id"].as_str().filter(|s| !s.is_empty())?.to_owned(),
        from: m["from"].as_str().filter(|s| !s.is_empty()).map(str::to_owned),
        subject: m["subject"].as_str().unwrap_or("").to_owned(),
        text: m["text"].as_str().unwrap_or("").to_owned(),
        request_id: m["request_id"].as_str().map(str::to_owned),
        // Oldest first: References, then In-Reply-To (the store looks from the end).
        thread: m["references"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .chain(m["in_reply_to"].as_str())
            .map(str::to_owned)
            .collect(),
        received_at: m["date"].as_str().map(str::to_owned),
        trusted: m["trusted"] == true,
        trust_reason: m["trust_reason"].as_str().unwrap_or("").to_owned(),
    })
}

/// The intake's waits after failures: from half a second up to 30 s, with
/// the fleet's one backoff (full jitter).
fn backoff(failures: u32) -> Duration {
    mcp_core::client::Backoff::new(Duration::from_millis(500), Duration::from_secs(30)).delay(failures)
}

/// Run forever (until the program stops).
pub async fn run(agent: Arc<Agent>) {
    let Some(email) = agent.peers.email.clone() else { return };
    tracing::info!("email intake started");
    let mut failures = 0u32;
    loop {
        let cursor = match agent.store.state(CURSOR).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the intake cursor");
                failures += 1;
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        let batch = match email.call("wait_for_new", json!({"cursor": cursor, "timeout_secs": 25})).await {
            Ok(b) => {
                failures = 0;
                b
            }
            Err(e) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "wait_for_new failed; retrying");
                tokio::time::sleep(backoff(failures)).await;
                continue;
            }
        };
        let mut complete = true;
        for m in batch["messages"].as_array().into_iter().flatten() {
            let Some(inc) = incoming(m) else {
                tracing::warn!(id = %m["id"], "a message without id or Message-ID; skipped");
                continue;
            };
            if !process(&agent, &inc).await {
                complete = false;
                break;
            }
        }
        // Advance only past a fully processed batch; otherwise the same batch comes again after a pause.
        if complete {
            if let Some(c) = batch["cursor"].as_str()
                && let Err(e) = agent.store.set_state(CURSOR, c).await
            {
                tracing::error!(error = %e, "cannot store the intake cursor");
            }
        } else {
            tokio::time::sleep(backoff(3)).await;
        }
    }
}

/// Process one message with retries; false when it must be tried again later.
async fn process(agent: &Agent, inc: &Incoming) -> bool {
    for attempt in 1..=MAX_ATTEMPTS {
        match agent.handle(inc).await {
            Ok(o) => {
                if !o.duplicate {
                    tracing::info!(message_id = %inc.message_id, decision = %o.decision, "message processed");
                }
                return true;
            }
            Err(e) if e.transient() && attempt < MAX_ATTEMPTS => {
                tracing::warn!(message_id = %inc.message_id, attempt, error = %e, "processing failed; retrying");
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) if e.transient() => {
                tracing::warn!(message_id = %inc.message_id, error = %e, "a peer stays unavailable; will retry later");
                return false;
            }
            Err(e) => {
                // Not an outage: retrying cannot help. Set it aside so the queue moves on.
                tracing::error!(message_id = %inc.message_id, error = %e, "processing failed; message set aside");
                let outcome = json!({"decision": "failed", "reason": e.to_string()});
                if agent
                    .store
                    .mark_processed(&inc.message_id, inc.request_id.as_deref(), &outcome.to_string())
                    .await
                    .is_err()
                {
                    return false;
                }
                return true;
            }
        }
    }
    false
}
