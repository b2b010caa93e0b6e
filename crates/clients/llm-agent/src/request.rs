//! Handling one incoming message, from either channel (email or the
//! `submit_request` tool): find or open its request, screen it, let the
//! provider read it, merge, decide — ask (all questions in one reply),
//! proceed (the planner), refuse, or give up — and record the decision.
//!
//! Idempotent on the message id: the outcome is stored as the last write of
//! the processing, every effect before it is idempotent on its own (replies
//! carry an idempotency key, `plan_start` is keyed on the request id,
//! decisions are looked up before they are recorded), so a restart at any
//! point re-runs the processing without a second reply or a second project.

use mcp_core::tracing::{self, Instrument};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use std::collections::BTreeMap;

use mcp_core::template::render;

use crate::Agent;
use crate::llm::rules::Intent;
use crate::llm::{ExtractInput, Llm};
use crate::peers::PeerError;
use crate::spec::{Lang, Question};
use crate::store::{Decision, Request, RequestState, StoreError};
use mcp_types::peer::{DecisionRecord, MessageRecord};
use mcp_types::plan::{PlanStart, RunRef, RunState};
use mcp_types::spec::{ProjectSpec, RequestRef};

/// Where a message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// The watched inbox; the email server's id of the message, for replies.
    Email {
        /// Email server id.
        email_id: String,
    },
    /// The agent's own MCP tool (the REST gateway).
    Mcp,
}

/// One message to process.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// Channel.
    pub channel: Channel,
    /// Its unique id (Message-ID, or the caller's key): the idempotency key.
    pub message_id: String,
    /// Sender.
    pub from: Option<String>,
    /// Subject.
    pub subject: String,
    /// New text.
    pub text: String,
    /// The request it answers: from a verified reply token (email) or given by the caller (MCP).
    pub request_id: Option<String>,
    /// The messages it answers (`In-Reply-To`, then `References`): a reply sent to
    /// the plain address, without the token, still finds its request through them.
    pub thread: Vec<String>,
    /// When it arrived.
    pub received_at: Option<String>,
    /// May be acted on.
    pub trusted: bool,
    /// Why (not) trusted.
    pub trust_reason: String,
}

/// What was decided for a message.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Outcome {
    /// What was decided.
    pub decision: Decision,
    /// The request.
    pub request_id: Option<String>,
    /// Its trace.
    pub trace_id: Option<String>,
    /// Open questions (when asked).
    #[serde(default)]
    pub questions: Vec<String>,
    /// The planner's run (when proceeded).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The spec handed to the planner (when proceeded).
    #[serde(default)]
    pub spec: Option<ProjectSpec>,
    /// The reply's text (sent by email for email requests; for the caller to relay otherwise).
    #[serde(default)]
    pub reply: Option<String>,
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
    /// This message had been processed before; this is the recorded outcome.
    #[serde(default)]
    pub duplicate: bool,
}

/// Why processing stopped.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The agent's database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A peer failed; `transient` says whether a later attempt may succeed.
    #[error(transparent)]
    Peer(#[from] PeerError),
    /// The provider failed.
    #[error(transparent)]
    Llm(#[from] crate::llm::LlmError),
    /// A template is broken.
    #[error("template {0}: {1}")]
    Template(&'static str, String),
}

impl HandleError {
    /// A later attempt may succeed (a peer or the model endpoint was unavailable).
    pub fn transient(&self) -> bool {
        match self {
            Self::Peer(p) => p.is_transient(),
            Self::Llm(crate::llm::LlmError::Unavailable(_)) => true,
            Self::Store(_) => true,
            _ => false,
        }
    }
}

/// The request id for a first message: derived from its id, so the same message always opens the same request.
pub fn request_id_for(message_id: &str) -> String {
    let h = Sha256::digest(message_id.as_bytes());
    let hex: String = h.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("r-{hex}")
}

/// An idempotency key for a record about `what` (a Message-ID and more):
/// hashed, because Message-IDs can be longer than a key may be, and
/// namespaced, because the sql server's keys are shared by every caller.
pub(crate) fn key(kind: &str, what: &str) -> String {
    let h = Sha256::digest(what.as_bytes());
    let hex: String = h.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{}/{kind}/{hex}", crate::NAME)
}

impl Agent {
    /// Process one message (see the module docs).
    pub async fn handle(&self, m: &Incoming) -> Result<Outcome, HandleError> {
        self.handle_as(m, None).await
    }

    /// Process an explicit action on an existing request — `request_cancel`
    /// and `request_retry` — down the same path as the email intent it
    /// stands for ("never mind", "please try again"), idempotent on the
    /// message id like any message. An action the request's state does not
    /// allow is noted and changes nothing.
    pub async fn act(&self, m: &Incoming, intent: Intent) -> Result<Outcome, HandleError> {
        self.handle_as(m, Some(intent)).await
    }

    async fn handle_as(&self, m: &Incoming, forced: Option<Intent>) -> Result<Outcome, HandleError> {
        if let Some((_, outcome)) = self.store.processed(&m.message_id).await? {
            let mut o: Outcome =
                serde_json::from_str(&outcome).map_err(|e| StoreError::Corrupt("outcome", e.to_string()))?;
            o.duplicate = true;
            return Ok(o);
        }
        if !m.trusted {
            return self.ignore(m).await;
        }
        // An answer to an approval email: its verified reply token names the planner's approval, not a request.
        if let (Channel::Email { .. }, Some(id)) = (&m.channel, &m.request_id)
            && crate::approval::is_approval_id(id)
        {
            return self.approval_answer(m, id).await;
        }
        let existing = match &m.request_id {
            // A reply to a retried run's report names that run's key.
            Some(id) => match self.store.get(id).await? {
                Some(r) => Some(r),
                None => match id.rsplit_once(RETRY_SUFFIX) {
                    Some((base, _)) => self.store.get(base).await?,
                    None => None,
                },
            },
            None => self.thread_request(m).await?,
        };
        let request = match existing {
            Some(r) => r,
            None => {
                let now = mcp_core::clock::now_ms();
                // A request from the gateway continues the caller's trace; an email starts one.
                let traceparent = match m.channel {
                    Channel::Mcp => mcp_core::trace::current_carrier().remove("traceparent"),
                    Channel::Email { .. } => None,
                }
                .unwrap_or_else(mcp_core::trace::new_traceparent);
                let trace_id = mcp_core::trace::trace_id_of(&traceparent).unwrap_or_default().to_owned();
                let id = match (&m.channel, &m.request_id) {
                    (Channel::Mcp, Some(given)) => given.clone(),
                    _ => request_id_for(&m.message_id),
                };
                let lang = crate::llm::rules::lang_of(&m.subject, &m.text);
                let created = self
                    .store
                    .create(&Request {
                        id,
                        channel: if m.channel == Channel::Mcp { "mcp".into() } else { "email".into() },
                        requester: m.from.clone(),
                        subject: crate::one_line(&m.subject, 200),
                        first_message_id: m.message_id.clone(),
                        reply_to: None,
                        draft: Default::default(),
                        state: RequestState::New,
                        rounds: 0,
                        asked: Vec::new(),
                        reason: None,
                        traceparent,
                        trace_id,
                        run_id: None,
                        tokens: 0,
                        lang,
                        attempt: 1,
                        created_ms: now,
                        updated_ms: now,
                    })
                    .await?;
                self.store.add_to_thread(&m.message_id, &created.id).await?;
                created
            }
        };
        let span = tracing::info_span!(
            "request",
            otel.name = %format!("invoke_agent {}", crate::NAME),
            otel.kind = "internal",
            gen_ai.operation.name = "invoke_agent",
            gen_ai.agent.name = crate::NAME,
            gen_ai.conversation.id = %request.id,
            gen_ai.provider.name = self.provider.name(),
            message.id = %m.message_id,
        );
        mcp_core::trace::resume(&span, Some(&request.traceparent));
        self.decide(m, request, forced).instrument(span).await
    }

    /// The request a reply without a (valid) token continues: its
    /// `In-Reply-To`/`References` name a message of a thread the fleet holds,
    /// and it comes from that request's requester. Anyone else's message
    /// opens a request of its own.
    async fn thread_request(&self, m: &Incoming) -> Result<Option<Request>, HandleError> {
        if m.channel == Channel::Mcp || m.thread.is_empty() {
            return Ok(None);
        }
        let Some(id) = self.store.thread_of(&m.thread).await? else { return Ok(None) };
        let Some(r) = self.store.get(&id).await? else { return Ok(None) };
        let same = match (&r.requester, &m.from) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        if same {
            tracing::info!(request_id = %r.id, message_id = %m.message_id, "a reply to the plain address continues its thread");
        }
        Ok(same.then_some(r))
    }

    async fn ignore(&self, m: &Incoming) -> Result<Outcome, HandleError> {
        let o = Outcome {
            decision: Decision::Ignored,
            request_id: None,
            trace_id: mcp_core::trace::current_ids().map(|(t, _)| t),
            questions: Vec::new(),
            run_id: None,
            spec: None,
            reply: None,
            reason: Some(format!("untrusted sender: {}", m.trust_reason)),
            duplicate: false,
        };
        tracing::info!(message_id = %m.message_id, reason = %m.trust_reason, "ignored an untrusted message");
        self.record_decision(None, Decision::Ignored, o.reason.as_deref(), m, json!({})).await?;
        self.store.mark_processed(&m.message_id, None, &json!(o).to_string()).await?;
        Ok(o)
    }

    async fn decide(&self, m: &Incoming, mut r: Request, forced: Option<Intent>) -> Result<Outcome, HandleError> {
        let mut o = Outcome {
            // Every path below decides; this is only the starting value.
            decision: Decision::Noted,
            request_id: Some(r.id.clone()),
            trace_id: Some(r.trace_id.clone()),
            questions: Vec::new(),
            run_id: None,
            spec: None,
            reply: None,
            reason: None,
            duplicate: false,
        };
        if let Channel::Email { email_id } = &m.channel {
            r.reply_to = Some(email_id.clone());
        }
        self.record_message(&r, "in", m.from.as_deref(), None, &m.subject, &m.text, Some(&m.message_id)).await;
        self.store.add_to_thread(&m.message_id, &r.id).await?;
        let intent = forced.or_else(|| crate::llm::rules::intent(&m.text));
        match (r.state, intent) {
            // A project that failed is built again on request, as a new run of the same project.
            (RequestState::Planned, Some(Intent::Retry)) => return self.retry(m, r, o).await,
            (RequestState::Planned, Some(Intent::Cancel)) => return self.cancel_run(m, r, o).await,
            // Asking, or the planner could not take the spec: "never mind" closes it. (A first message that
            // says only "cancel" is a request of its own; an explicit action always means the request.)
            (RequestState::Asking | RequestState::Failed | RequestState::New, Some(Intent::Cancel))
                if forced.is_some() || r.rounds > 0 || r.state == RequestState::Failed =>
            {
                return self.cancel(m, r, o).await;
            }
            // An explicit action the request's state does not allow (retry before a run, cancel a closed
            // request): noted, nothing done; the tool turns it into a conflict.
            (state, Some(i)) if forced.is_some() => {
                o.decision = Decision::Noted;
                o.run_id = r.run_id.clone();
                let what = if i == Intent::Retry { "retry" } else { "cancel" };
                o.reason = Some(format!("request {} is {state}: nothing to {what}", r.id));
                self.store.mark_processed(&m.message_id, Some(&r.id), &json!(o).to_string()).await?;
                return Ok(o);
            }
            // The planner refused the spec (a name in use): the thread stays open for a correction or a retry,
            // tried as the next attempt so its keys (plan, reply) are new.
            (RequestState::Failed, _) => r.attempt += 1,
            (state, _) if state.is_closed() => {
                // Settled: a late "thanks" or a second answer changes nothing and gets no reply (no mail loops).
                o.decision = Decision::Noted;
                o.run_id = r.run_id.clone();
                o.reason = Some(format!("request {} is already {}", r.id, r.state));
                self.store.mark_processed(&m.message_id, Some(&r.id), &json!(o).to_string()).await?;
                return Ok(o);
            }
            _ => {}
        }
        // 1. The screen, before any model sees the text.
        if let Some(why) = crate::safety::screen(&m.subject, &m.text) {
            return self.refuse(m, r, o, why.clone(), json!({"screen": why})).await;
        }
        // 2. What can be built (the planner says), then the provider reads the message.
        let offer = self.offer().await?;
        let ex = self
            .provider
            .extract(ExtractInput { subject: &m.subject, text: &m.text, asked: &r.asked, known: &r.draft })
            .await?;
        r.tokens += ex.usage.total() as i64;
        if let Some(why) = ex.refuse.clone() {
            let why = format!("it does not ask for a software project ({})", crate::one_line(&why, 200));
            return self.refuse(m, r, o, why, json!({"model": ex.refuse, "notes": ex.notes})).await;
        }
        let before = r.draft.open_questions(&offer, r.lang);
        if r.rounds == 0 && r.state != RequestState::Failed {
            r.draft.merge(&ex.draft);
        } else {
            // An answer fills what is open; it changes what the request settled only on purpose.
            let explicit = crate::llm::rules::explicit_fields(&m.text);
            r.draft.merge_answer(&ex.draft, &explicit, &r.asked);
        }
        let questions = r.draft.open_questions(&offer, r.lang);
        // The fields this message settled: a follow-up thanks for them, or says what it could not read.
        let settled: Vec<String> =
            before.iter().filter(|b| !questions.iter().any(|q| q.field == b.field)).map(|b| b.field.clone()).collect();
        let inputs = json!({
            "message_id": m.message_id, "provider": self.provider.name(), "model": self.provider.model(),
            "extracted": ex.draft, "notes": ex.notes, "tokens": ex.usage,
        });
        if questions.is_empty() {
            return self.proceed(m, r, o, inputs).await;
        }
        if r.rounds >= i64::from(self.config.max_question_rounds) {
            let open: Vec<&str> = questions.iter().map(|q| q.field.as_str()).collect();
            let why = format!(
                "after {} rounds of questions, {} {} still open",
                r.rounds,
                open.join(", "),
                if open.len() == 1 { "is" } else { "are" }
            );
            r.state = RequestState::GaveUp;
            return self.close(m, r, o, Decision::GaveUp, why, inputs).await;
        }
        self.ask(m, r, o, questions, &settled, inputs).await
    }

    /// Send all open questions in one reply: the first round in full, the
    /// second short, later ones with an example answer — never the same
    /// wording twice — and a follow-up says what the answer settled or that
    /// it could not be read.
    async fn ask(
        &self,
        m: &Incoming,
        mut r: Request,
        mut o: Outcome,
        questions: Vec<Question>,
        settled: &[String],
        inputs: Value,
    ) -> Result<Outcome, HandleError> {
        let first = r.rounds == 0;
        let round = r.rounds + 1;
        let lines: Vec<String> =
            questions.iter().enumerate().map(|(i, q)| format!("{}. {}", i + 1, q.for_round(round))).collect();
        let emails = self.emails.for_lang(r.lang);
        let tmpl = if first { &emails.questions } else { &emails.follow_up };
        let (intro, count) = follow_up_words(r.lang, settled, &r.asked, questions.len());
        let text = render(
            tmpl,
            &BTreeMap::from([
                ("subject", crate::one_line(&r.subject, 200)),
                ("questions", lines.join("\n")),
                ("understood", r.draft.understood(r.lang)),
                ("intro", intro),
                ("count", count),
                ("request_id", r.id.clone()),
                ("trace_id", r.trace_id.clone()),
            ]),
        )
        .map_err(|e| HandleError::Template(if first { "email/questions.txt" } else { "email/follow_up.txt" }, e))?;
        r.rounds += 1;
        r.asked = questions.iter().map(|q| q.field.clone()).collect();
        r.state = RequestState::Asking;
        self.send_reply(m, &r, &text, &format!("{}/ask/{}", r.id, r.rounds)).await?;
        o.decision = Decision::Asked;
        o.questions = lines;
        o.reply = Some(text);
        let rationale = format!("open: {}", r.asked.join(", "));
        self.record_decision(
            Some(&r),
            Decision::Asked,
            Some(&rationale),
            m,
            json!({"questions": o.questions, "inputs": inputs}),
        )
        .await?;
        self.finish(m, &r, o).await
    }

    /// "Never mind": close the request and confirm it in one short mail.
    async fn cancel(&self, m: &Incoming, mut r: Request, mut o: Outcome) -> Result<Outcome, HandleError> {
        r.state = RequestState::Cancelled;
        r.asked.clear();
        r.reason = Some(match (&m.channel, m.text.trim()) {
            (Channel::Mcp, "") => "cancelled through the API".into(),
            (Channel::Mcp, why) => format!("cancelled through the API: {}", crate::one_line(why, 300)),
            _ => "cancelled by the requester".into(),
        });
        let text = render(
            &self.emails.for_lang(r.lang).cancelled,
            &BTreeMap::from([
                ("subject", crate::one_line(&r.subject, 200)),
                ("request_id", r.id.clone()),
                ("trace_id", r.trace_id.clone()),
            ]),
        )
        .map_err(|e| HandleError::Template("email/cancelled.txt", e))?;
        self.send_reply(m, &r, &text, &format!("{}/cancelled", r.id)).await?;
        o.decision = Decision::Cancelled;
        o.reason = r.reason.clone();
        o.reply = Some(text);
        self.record_decision(Some(&r), Decision::Cancelled, r.reason.as_deref(), m, json!({})).await?;
        self.finish(m, &r, o).await
    }

    /// "Cancel" after the project was handed over: stop the run if it is
    /// still going, and confirm; a finished run is left as it is.
    async fn cancel_run(&self, m: &Incoming, r: Request, mut o: Outcome) -> Result<Outcome, HandleError> {
        let state = self.run_state(&r).await?;
        if let (Some(run_id), Some(s)) = (&r.run_id, state)
            && !s.is_final()
            && let Some(planner) = &self.peers.planner
        {
            planner.call("plan_cancel", json!({"run_id": run_id})).await?;
            return self.cancel(m, r, o).await;
        }
        o.decision = Decision::Noted;
        o.run_id = r.run_id.clone();
        o.reason = Some(format!("the run already ended ({})", state.map_or("unknown", |s| s.as_str())));
        self.store.mark_processed(&m.message_id, Some(&r.id), &json!(o).to_string()).await?;
        Ok(o)
    }

    /// The state of the request's current run, from the planner.
    async fn run_state(&self, r: &Request) -> Result<Option<RunState>, HandleError> {
        let (Some(run_id), Some(planner)) = (&r.run_id, &self.peers.planner) else { return Ok(None) };
        let run: RunRef = planner.call_as("plan_status", json!({"run_id": run_id})).await?;
        Ok(Some(run.state))
    }

    /// "Please try again" on a project whose run failed: a new run of the
    /// same project (the planner reuses its folder). A run that is going or
    /// succeeded is not started again.
    async fn retry(&self, m: &Incoming, mut r: Request, mut o: Outcome) -> Result<Outcome, HandleError> {
        match self.run_state(&r).await? {
            Some(RunState::Failed | RunState::Cancelled | RunState::BudgetExhausted) => {
                r.attempt += 1;
                let inputs = json!({"message_id": m.message_id, "retry_of": r.run_id, "attempt": r.attempt});
                o.decision = Decision::Retried;
                self.proceed(m, r, o, inputs).await
            }
            state => {
                o.decision = Decision::Noted;
                o.run_id = r.run_id.clone();
                o.reason = Some(format!("nothing to retry: the run is {}", state.map_or("unknown", |s| s.as_str())));
                self.store.mark_processed(&m.message_id, Some(&r.id), &json!(o).to_string()).await?;
                Ok(o)
            }
        }
    }

    /// Hand the complete spec to the planner.
    async fn proceed(
        &self,
        m: &Incoming,
        mut r: Request,
        mut o: Outcome,
        inputs: Value,
    ) -> Result<Outcome, HandleError> {
        let spec = r.draft.to_spec();
        let planner = self.peers.planner.as_ref().ok_or_else(|| PeerError {
            kind: mcp_core::ErrorKind::Unavailable,
            message: "no planner is configured (MCP_CLIENT_PLANNER_URL)".into(),
        })?;
        let reply_to = match &m.channel {
            Channel::Email { email_id } => Some(email_id.clone()),
            Channel::Mcp => None,
        };
        let args = PlanStart {
            spec: spec.clone(),
            request: RequestRef {
                // One run per (request, attempt): a retry is a new run, a repeated call is not.
                request_id: run_key(&r.id, r.attempt),
                lang: r.lang,
                requester: r.requester.clone(),
                subject: Some(r.subject.clone()),
                reply_to,
                received_at: m.received_at.clone(),
            },
            budget: None,
        };
        match planner.call_as::<RunRef>("plan_start", json!(args)).await {
            Ok(run) => {
                r.run_id = Some(run.id);
                r.state = RequestState::Planned;
                r.asked.clear();
                r.reason = None;
                let decision = if o.decision == Decision::Retried { Decision::Retried } else { Decision::Proceeded };
                o.decision = decision;
                o.run_id = r.run_id.clone();
                o.spec = Some(spec.clone());
                self.record_decision(
                    Some(&r),
                    decision,
                    Some(if decision == Decision::Retried {
                        "the requester asked to build the failed project again"
                    } else {
                        "every required field is settled"
                    }),
                    m,
                    json!({"spec": spec, "run_id": r.run_id, "inputs": inputs}),
                )
                .await?;
                self.finish(m, &r, o).await
            }
            Err(e) if e.is_transient() => Err(e.into()),
            Err(e) => {
                // The planner refused the spec (a folder name in use, a value out of range): say why and stop,
                // rather than loop on a spec the requester has to change.
                let why = match r.lang {
                    mcp_types::request::Lang::Pl => {
                        format!("nie udało się zaplanować projektu: {}", crate::one_line(&e.message, 400))
                    }
                    _ => format!("the project could not be planned: {}", crate::one_line(&e.message, 400)),
                };
                r.state = RequestState::Failed;
                self.close(m, r, o, Decision::Failed, why, inputs).await
            }
        }
    }

    async fn refuse(
        &self,
        m: &Incoming,
        mut r: Request,
        o: Outcome,
        why: String,
        inputs: Value,
    ) -> Result<Outcome, HandleError> {
        r.state = RequestState::Refused;
        tracing::warn!(request_id = %r.id, reason = %why, "refused a request");
        self.close(m, r, o, Decision::Refused, why, inputs).await
    }

    /// End a request with the refusal email and a decision.
    async fn close(
        &self,
        m: &Incoming,
        r: Request,
        mut o: Outcome,
        decision: Decision,
        why: String,
        inputs: Value,
    ) -> Result<Outcome, HandleError> {
        let mut r = r;
        r.reason = Some(why.clone());
        let offer = match self.offer().await {
            Ok(offer) => offer.describe(r.lang),
            Err(_) => String::new(),
        };
        let text = render(
            &self.emails.for_lang(r.lang).refused,
            &BTreeMap::from([
                ("reason", why.clone()),
                ("offer", offer),
                ("request_id", r.id.clone()),
                ("trace_id", r.trace_id.clone()),
            ]),
        )
        .map_err(|e| HandleError::Template("email/refused.txt", e))?;
        self.send_reply(m, &r, &text, &format!("{}/{decision}", run_key(&r.id, r.attempt))).await?;
        o.decision = decision;
        o.reason = Some(why.clone());
        o.reply = Some(text);
        self.record_decision(Some(&r), decision, Some(&why), m, inputs).await?;
        self.finish(m, &r, o).await
    }

    async fn finish(&self, m: &Incoming, r: &Request, o: Outcome) -> Result<Outcome, HandleError> {
        self.store.save(r).await?;
        self.store.mark_processed(&m.message_id, Some(&r.id), &json!(o).to_string()).await?;
        tracing::info!(request_id = %r.id, decision = %o.decision, "request processed");
        Ok(o)
    }

    /// Reply by email (email requests only), once per key.
    async fn send_reply(&self, m: &Incoming, r: &Request, text: &str, key: &str) -> Result<(), HandleError> {
        let (Channel::Email { email_id }, Some(email)) = (&m.channel, &self.peers.email) else { return Ok(()) };
        let sent = match email
            .call("reply", json!({"id": email_id, "text": text, "request_id": r.id, "idempotency_key": key}))
            .await
        {
            Ok(sent) => sent,
            // The key was sent already with other wording (a model answered differently after a crash): the first
            // reply went out, and a second one must not.
            Err(e) if e.kind == mcp_core::ErrorKind::Conflict => {
                tracing::info!(error = %e, "reply already sent under this key");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(mid) = sent["message_id"].as_str() {
            self.store.add_to_thread(mid, &r.id).await?;
        }
        if sent["duplicate"] != true {
            let to = sent["to"][0].as_str().map(str::to_owned);
            let subject = sent["subject"].as_str().unwrap_or("").to_owned();
            let mid = sent["message_id"].as_str().map(str::to_owned);
            self.record_message(r, "out", None, to.as_deref(), &subject, text, mid.as_deref()).await;
        }
        Ok(())
    }

    /// The communication log (best effort: a missing sql server loses the copy, not the request).
    #[allow(clippy::too_many_arguments)]
    async fn record_message(
        &self,
        r: &Request,
        direction: &str,
        from: Option<&str>,
        to: Option<&str>,
        subject: &str,
        body: &str,
        message_id: Option<&str>,
    ) {
        let Some(sql) = &self.peers.sql else { return };
        let record = MessageRecord {
            direction: direction.into(),
            channel: if r.channel == "mcp" { "mcp" } else { "email" }.into(),
            project: Some(r.id.clone()),
            thread_id: Some(r.id.clone()),
            from_addr: from.map(str::to_owned),
            to_addr: to.map(str::to_owned),
            subject: Some(subject.to_owned()),
            body: Some(body.to_owned()),
            message_id: message_id.map(str::to_owned),
            trace_id: Some(r.trace_id.clone()),
            // A message handled again after a crash is recorded once.
            idempotency_key: message_id.map(|id| key("message", &format!("{direction}/{id}"))),
        };
        match sql.call("message_record", json!(record)).await {
            Ok(_) => {}
            Err(e) if e.kind == mcp_core::ErrorKind::Conflict => tracing::info!(error = %e, "message already recorded"),
            Err(e) => tracing::warn!(error = %e, "message not recorded"),
        }
    }

    /// The decision log, once per (request, decision, message).
    pub(crate) async fn record_decision(
        &self,
        r: Option<&Request>,
        decision: Decision,
        rationale: Option<&str>,
        m: &Incoming,
        outputs: Value,
    ) -> Result<(), HandleError> {
        tracing::info!(decision = %decision, message_id = %m.message_id, "decision");
        let Some(sql) = &self.peers.sql else { return Ok(()) };
        let trace_id = r.map(|r| r.trace_id.clone()).or_else(|| mcp_core::trace::current_ids().map(|(t, _)| t));
        let record = DecisionRecord {
            project: r.map(|r| r.id.clone()),
            trace_id,
            actor: crate::NAME.into(),
            decision: decision.as_str().into(),
            rationale: rationale.map(str::to_owned),
            inputs: Some(json!({"message_id": m.message_id,
                                "channel": if m.channel == Channel::Mcp { "mcp" } else { "email" },
                                "subject": crate::one_line(&m.subject, 200), "provider": self.provider.name()})),
            outputs: Some(outputs),
            // One decision per (message, decision): a message handled again after a crash replays the record
            // instead of adding a second one; the sql server keeps the key.
            idempotency_key: Some(key("decision", &format!("{}/{decision}", m.message_id))),
        };
        match sql.call("decision_record", json!(record)).await {
            Ok(_) => Ok(()),
            // The key was used with other details (a model answered differently the second time): the
            // decision is on record already.
            Err(e) if e.kind == mcp_core::ErrorKind::Conflict => {
                tracing::info!(error = %e, "decision already recorded");
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// What separates a request id from its attempt in the planner's key.
const RETRY_SUFFIX: &str = "-retry";

/// The planner's idempotency key for a request's attempt: the request id for
/// the first run, `<id>-retry<n>` for a retry — still a literal reply token
/// (lowercase letters, digits and `-`), so the report's Reply-To stays short.
pub fn run_key(request_id: &str, attempt: i64) -> String {
    if attempt <= 1 { request_id.to_owned() } else { format!("{request_id}{RETRY_SUFFIX}{attempt}") }
}

/// The opening of a follow-up: thanks when the answer settled something,
/// otherwise what could not be read; and how many points are open, so the
/// count always matches the list.
fn follow_up_words(lang: Lang, settled: &[String], asked: &[String], open: usize) -> (String, String) {
    let unread: Vec<&String> = asked.iter().filter(|a| !settled.contains(a)).collect();
    let names = |fields: &[&String]| -> String {
        let words: Vec<String> = fields
            .iter()
            .map(|f| match (lang, f.as_str()) {
                (Lang::Pl, "name") => "nazwa".to_owned(),
                (Lang::Pl, "summary") => "opis".to_owned(),
                (Lang::Pl, "language") => "język".to_owned(),
                (Lang::Pl, "kind") => "rodzaj".to_owned(),
                (Lang::Pl, "delivery") => "dostarczenie".to_owned(),
                (_, "summary") => "what it should do".to_owned(),
                (_, f) => f.to_owned(),
            })
            .collect();
        crate::spec::or_list(&words, lang).replace(" or ", " and ").replace(" lub ", " i ")
    };
    let intro = match (lang, settled.is_empty()) {
        (Lang::Pl, false) if unread.is_empty() => "Dziękuję, to pomaga.".to_owned(),
        (Lang::Pl, false) => format!("Dziękuję, to pomaga. Nie znalazłem jednak odpowiedzi na: {}.", names(&unread)),
        (Lang::Pl, true) => format!("Dziękuję za odpowiedź, ale nie znalazłem w niej: {}.", names(&unread)),
        (_, false) if unread.is_empty() => "Thank you, that helps.".to_owned(),
        (_, false) => {
            format!("Thank you, that helps. I could not find an answer about the {} in it, though.", names(&unread))
        }
        (_, true) => {
            format!("Thank you for your reply, but I could not find an answer about the {} in it.", names(&unread))
        }
    };
    let count = match (lang, open) {
        (Lang::Pl, 1) => "Przed rozpoczęciem zostało jedno pytanie:".to_owned(),
        (Lang::Pl, n) => format!("Przed rozpoczęciem zostały pytania ({n}):"),
        (_, 1) => "One thing is still open before I can start:".to_owned(),
        (_, n) => format!("{n} things are still open before I can start:"),
    };
    (intro, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_stable_and_token_safe() {
        let a = request_id_for("<abc@example.test>");
        assert_eq!(a, request_id_for("<abc@example.test>"));
        assert_ne!(a, request_id_for("<abd@example.test>"));
        assert!(a.len() <= 24 && a.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
}
