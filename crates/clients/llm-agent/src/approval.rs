//! Approval by email: an approver's answer to the planner's approval email.
//!
//! The planner mails an approval with a signed reply token for the
//! approval's id (`ap-...`); the email server verifies the token and hands
//! the answer over with that id as its `request_id`. So an answer is matched
//! to its approval by cryptography, never by `From` alone, and the sender
//! must then also be one of the approval's approvers (`approval_get` says
//! who: the addresses the email went to). The first word decides — approve
//! ("approve", "approved", "yes", "ok"; "zatwierdzam", "tak") or deny
//! ("deny", "denied", "reject", "no"; "odrzucam", "nie"), the rest of a
//! denial being its reason — and the agent relays it with the planner's
//! `approval_decide`, `decided_by` the sender. Anything else gets one short
//! reply asking for approve or deny, on the same token so the next answer
//! finds the approval again.
//!
//! A trusted sender who is not an approver (someone the email was
//! forwarded to) is refused, and told so in one short reply: the sender is
//! authenticated and on the email server's allow-list (untrusted mail never
//! gets here), the reply goes to its `From` — never to a Reply-To it chose —
//! once per message under an idempotency key and marked `Auto-Submitted`, so
//! it can neither loop nor reach a stranger; and without it a colleague
//! would believe their "approve" had counted. The refusal is in the decision
//! log. Every answer is processed once (the message id), like any message.

use std::collections::BTreeMap;

use mcp_core::tracing::{self, Instrument};
use mcp_types::approval::{Approval, ApprovalDecide, ApprovalDecision, ApprovalDetail, ApprovalState};
use mcp_types::peer::DecisionRecord;
use mcp_types::request::{Decision, Lang};
use serde_json::json;

use crate::Agent;
use crate::peers::PeerError;
use crate::request::{Channel, HandleError, Incoming, Outcome, key};

/// Whether a verified reply token names an approval (`ap-` and 12 lowercase
/// hex digits) rather than a request (`r-...`).
pub fn is_approval_id(id: &str) -> bool {
    id.strip_prefix("ap-")
        .is_some_and(|h| h.len() == 12 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// What an answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Let the step run.
    Approve,
    /// Stop it, with the rest of the text as the reason (if any).
    Deny(Option<String>),
    /// Neither.
    Unclear,
}

const APPROVE: &[&str] = &["approve", "approved", "yes", "ok", "okay", "zatwierdzam", "tak"];
const DENY: &[&str] = &["deny", "denied", "reject", "rejected", "no", "odrzucam", "nie"];
/// Longest reason kept from a denial.
const MAX_REASON: usize = 300;

/// Read an answer: its first word decides; a denial's reason is the rest of
/// the text before a signature, as one bounded line.
pub fn answer(text: &str) -> Answer {
    // The new text only (the email server drops quoted history); a signature ends it.
    let body: String =
        text.lines().take_while(|l| !matches!(l.trim_end(), "--" | "-- ")).collect::<Vec<_>>().join("\n");
    let body = body.trim_start();
    let (first, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let word = first.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase();
    if APPROVE.contains(&word.as_str()) {
        Answer::Approve
    } else if DENY.contains(&word.as_str()) {
        let reason =
            crate::one_line(rest.trim_start_matches(|c: char| c.is_whitespace() || ":,.-–—".contains(c)), MAX_REASON);
        Answer::Deny((!reason.is_empty()).then_some(reason))
    } else {
        Answer::Unclear
    }
}

fn lower(s: &str) -> String {
    s.to_ascii_lowercase()
}

impl Agent {
    /// Handle a trusted answer whose verified reply token names approval `id`.
    pub(crate) async fn approval_answer(&self, m: &Incoming, id: &str) -> Result<Outcome, HandleError> {
        let span = tracing::info_span!(
            "approval answer",
            otel.name = "approval_answer",
            otel.kind = "internal",
            approval.id = %id,
            message.id = %m.message_id,
        );
        self.approval_answer_in(m, id).instrument(span).await
    }

    async fn approval_answer_in(&self, m: &Incoming, id: &str) -> Result<Outcome, HandleError> {
        let planner = self.peers.planner.as_ref().ok_or_else(|| PeerError {
            kind: mcp_core::ErrorKind::Unavailable,
            message: "no planner is configured (MCP_CLIENT_PLANNER_URL): approvals cannot be decided".into(),
        })?;
        let detail: ApprovalDetail = match planner.call_as("approval_get", json!({"id": id})).await {
            Ok(d) => d,
            // A valid token for an approval the planner does not know (its database was replaced): nothing to decide.
            Err(e) if e.kind == mcp_core::ErrorKind::NotFound => {
                let o = outcome(Decision::Noted, None, None, format!("approval {id} is unknown to the planner"));
                self.store.mark_processed(&m.message_id, None, &json!(o).to_string()).await?;
                return Ok(o);
            }
            Err(e) => return Err(e.into()),
        };
        let a = &detail.approval;
        // The request behind the run, when the agent took it: its language and its id for the records.
        let base = a.request_id.rsplit_once("-retry").map_or(a.request_id.as_str(), |(b, _)| b);
        let request = self.store.get(base).await?;
        let lang = request.as_ref().map_or_else(|| crate::llm::rules::lang_of(&m.subject, &m.text), |r| r.lang);
        let request_id = request.as_ref().map(|r| r.id.clone());
        let sender = lower(m.from.as_deref().unwrap_or(""));
        let allowed = !sender.is_empty() && detail.approvers.iter().any(|x| lower(x) == sender);
        let pl = lang == Lang::Pl;
        let what = format!("\u{201c}{}\u{201d} ({})", a.summary, a.id);
        if !allowed {
            let why = format!(
                "{} is not among the approvers of {}",
                if sender.is_empty() { "the sender" } else { sender.as_str() },
                a.id
            );
            tracing::warn!(approval_id = %a.id, "an approval answer from someone who is not an approver; refused");
            let text = match pl {
                true => format!(
                    "Pana/Pani odpowiedź nie została uwzględniona: o zatwierdzeniu {what} mogą mailowo decydować tylko osoby, do których wysłano prośbę. Nic się nie zmieniło."
                ),
                false => format!(
                    "Your answer was not applied: only the approvers the request for {what} was sent to may decide it by email. Nothing has changed."
                ),
            };
            return self.approval_close(m, a, request_id, lang, Decision::Refused, why, text).await;
        }
        let decision = match answer(&m.text) {
            Answer::Approve => (ApprovalDecision::Approve, None),
            Answer::Deny(reason) => (ApprovalDecision::Deny, reason),
            Answer::Unclear => {
                let text = match pl {
                    true => format!(
                        "Nie rozpoznałem, czy zatwierdza Pan/Pani {what}. Proszę odpisać jednym słowem \u{201e}zatwierdzam\u{201d} albo \u{201e}odrzucam\u{201d} i powód."
                    ),
                    false => format!(
                        "I could not tell whether you approve {what}. Please reply with \"approve\", or with \"deny\" followed by your reason."
                    ),
                };
                let why = "the answer neither approves nor denies".to_owned();
                return self.approval_close(m, a, request_id, lang, Decision::Asked, why, text).await;
            }
        };
        let args =
            ApprovalDecide { id: a.id.clone(), decision: decision.0, decided_by: sender.clone(), reason: decision.1 };
        match planner.call_as::<Approval>("approval_decide", json!(args)).await {
            Ok(after) if after.decided_by.as_deref().map(lower).as_deref() == Some(sender.as_str()) => {
                let (d, text) = match (after.state, pl) {
                    (ApprovalState::Approved, false) => {
                        (Decision::Approved, format!("Thank you: {what} is approved, and the step runs now."))
                    }
                    (ApprovalState::Approved, true) => {
                        (Decision::Approved, format!("Dziękuję: {what} zatwierdzone, krok zostanie teraz wykonany."))
                    }
                    (_, false) => (
                        Decision::Denied,
                        format!(
                            "Thank you: {what} is denied. The step will not run, and the requester will be told why."
                        ),
                    ),
                    (_, true) => (
                        Decision::Denied,
                        format!(
                            "Dziękuję: {what} odrzucone. Krok nie zostanie wykonany, a zamawiający dowie się dlaczego."
                        ),
                    ),
                };
                let why = match &after.reason {
                    Some(r) => format!("{} by {sender}: {r}", after.state),
                    None => format!("{} by {sender}", after.state),
                };
                self.approval_close(m, &after, request_id, lang, d, why, text).await
            }
            // The same answer came first from someone else, or this one is a conflict: the first decision stands.
            Ok(after) => {
                let text = already(&what, &after, pl);
                let why = format!("already {} by {}", after.state, after.decided_by.as_deref().unwrap_or("someone"));
                self.approval_close(m, &after, request_id, lang, Decision::Noted, why, text).await
            }
            Err(e) if e.kind == mcp_core::ErrorKind::Conflict => {
                let now: ApprovalDetail = planner.call_as("approval_get", json!({"id": a.id})).await?;
                let text = already(&what, &now.approval, pl);
                self.approval_close(m, &now.approval, request_id, lang, Decision::Noted, e.message, text).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Reply (on the approval's token), record the decision, mark the message processed.
    #[allow(clippy::too_many_arguments)]
    async fn approval_close(
        &self,
        m: &Incoming,
        a: &Approval,
        request_id: Option<String>,
        lang: Lang,
        decision: Decision,
        why: String,
        answer: String,
    ) -> Result<Outcome, HandleError> {
        let emails = self.emails.for_lang(lang);
        let text = mcp_core::template::render(
            &emails.approval_answer,
            &BTreeMap::from([
                ("answer", answer),
                ("approval_id", a.id.clone()),
                ("trace_id", a.trace_id.clone().unwrap_or_else(|| "-".into())),
            ]),
        )
        .map_err(|e| HandleError::Template("email/approval_answer.txt", e))?;
        if let (Channel::Email { email_id }, Some(email)) = (&m.channel, &self.peers.email) {
            let args = json!({"id": email_id, "text": text, "request_id": a.id,
                              "idempotency_key": key("approval-answer", &m.message_id)});
            match email.call("reply", args).await {
                Ok(_) => {}
                Err(e) if e.kind == mcp_core::ErrorKind::Conflict => tracing::info!(error = %e, "answer already sent"),
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(sql) = &self.peers.sql {
            let record = DecisionRecord {
                project: request_id.clone(),
                trace_id: a.trace_id.clone(),
                actor: crate::NAME.into(),
                decision: decision.as_str().into(),
                rationale: Some(why.clone()),
                inputs: Some(json!({"message_id": m.message_id, "channel": "email", "approval_id": a.id,
                                    "from": m.from, "subject": crate::one_line(&m.subject, 200)})),
                outputs: Some(json!({"approval_state": a.state, "run_id": a.run_id, "step": a.step})),
                idempotency_key: Some(key("decision", &format!("{}/{decision}", m.message_id))),
            };
            match sql.call("decision_record", json!(record)).await {
                Ok(_) => {}
                Err(e) if e.kind == mcp_core::ErrorKind::Conflict => {
                    tracing::info!(error = %e, "decision already recorded")
                }
                Err(e) => return Err(e.into()),
            }
        }
        tracing::info!(approval_id = %a.id, decision = %decision, "approval answer processed");
        let mut o = outcome(decision, request_id.clone(), a.trace_id.clone(), why);
        o.run_id = Some(a.run_id.clone());
        o.reply = Some(text);
        self.store.mark_processed(&m.message_id, request_id.as_deref(), &json!(o).to_string()).await?;
        Ok(o)
    }
}

fn outcome(decision: Decision, request_id: Option<String>, trace_id: Option<String>, reason: String) -> Outcome {
    Outcome {
        decision,
        request_id,
        trace_id,
        questions: Vec::new(),
        run_id: None,
        spec: None,
        reply: None,
        reason: Some(reason),
        duplicate: false,
    }
}

/// The answer to an answer that came after the decision.
fn already(what: &str, a: &Approval, pl: bool) -> String {
    let by = a.decided_by.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
    match (a.state, pl) {
        (ApprovalState::Expired, false) => {
            format!("{what} has expired; your answer changed nothing. The step did not run.")
        }
        (ApprovalState::Expired, true) => {
            format!("Zatwierdzenie {what} wygasło; odpowiedź niczego nie zmieniła. Krok nie został wykonany.")
        }
        (ApprovalState::Approved, false) => format!("{what} was already approved{by}; your answer changed nothing."),
        (ApprovalState::Approved, true) => {
            format!("{what} zostało już zatwierdzone{by}; odpowiedź niczego nie zmieniła.")
        }
        (_, false) => format!("{what} was already denied{by}; your answer changed nothing."),
        (_, true) => format!("{what} zostało już odrzucone{by}; odpowiedź niczego nie zmieniła."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_word_decides() {
        for yes in ["approve", "Approved.", "  yes!", "OK", "ok, go ahead", "Zatwierdzam", "tak"] {
            assert_eq!(answer(yes), Answer::Approve, "{yes}");
        }
        assert_eq!(answer("deny"), Answer::Deny(None));
        assert_eq!(
            answer("Deny: not during the\nfreeze\n-- \nBob"),
            Answer::Deny(Some("not during the freeze".into()))
        );
        assert_eq!(answer("odrzucam - za wcześnie"), Answer::Deny(Some("za wcześnie".into())));
        assert_eq!(answer("No"), Answer::Deny(None));
        let long = format!("reject {}", "x ".repeat(400));
        match answer(&long) {
            Answer::Deny(Some(r)) => assert!(r.chars().count() <= MAX_REASON, "{}", r.len()),
            other => panic!("{other:?}"),
        }
        for unclear in ["", "maybe later", "I approve", "approval?", "nope"] {
            assert_eq!(answer(unclear), Answer::Unclear, "{unclear}");
        }
    }

    #[test]
    fn approval_ids_are_told_from_request_ids() {
        assert!(is_approval_id("ap-0123456789ab"));
        assert!(!is_approval_id("ap-0123456789AB") && !is_approval_id("r-0123456789ab") && !is_approval_id("ap-1"));
    }
}
