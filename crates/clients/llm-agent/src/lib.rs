//! `mcp-client-llm-agent`: the fleet's front desk. It reads project
//! requests — from the watched inbox (the email server's `wait_for_new`) or
//! through its `submit_request` tool — and decides, for each message, to
//! ask (every open question in one reply in the same thread), to proceed
//! (a complete spec goes to the planner), to refuse, or to give up. Every
//! decision goes to the decision log and is a span of the request's trace.
//!
//! Understanding is split on purpose: a provider ([`llm`]: the built-in
//! `rules` or any OpenAI-compatible model) only *extracts* fields; a
//! deterministic check ([`spec`]) decides completeness and writes the
//! questions. With a model, the agent also offers the planner its LLM
//! steps ([`coder`]): `llm_implement` and `llm_fix`.
//!
//! It also relays approvers' emailed answers to the planner's approval
//! gates ([`approval`]), and offers the gateway `request_cancel` and
//! `request_retry`, the same actions as the "never mind" and "please try
//! again" emails.

pub mod approval;
pub mod coder;
pub mod config;
pub mod intake;
pub mod llm;
pub mod peers;
pub mod request;
pub mod safety;
pub mod spec;
pub mod store;
pub mod tools;

use std::sync::Arc;

use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;
use llm::Llm;

/// The program name.
pub const NAME: &str = "mcp-client-llm-agent";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The emails the agent writes in one language.
#[derive(Debug, Clone)]
pub struct EmailSet {
    /// First round of questions.
    pub questions: String,
    /// Later rounds.
    pub follow_up: String,
    /// Refusals and giving up.
    pub refused: String,
    /// The confirmation of a cancelled request.
    pub cancelled: String,
    /// The short answer to an approver's emailed answer (`approval`).
    pub approval_answer: String,
}

/// The emails the agent writes: `templates/email/` in English and
/// `templates/email/pl/` in Polish (every file in both).
#[derive(Debug, Clone)]
pub struct Emails {
    /// English.
    pub en: EmailSet,
    /// Polish.
    pub pl: EmailSet,
}

impl Emails {
    fn load(dir: &std::path::Path) -> Result<Self, String> {
        let set = |sub: &str| -> Result<EmailSet, String> {
            let read = |name: &str| {
                let p = dir.join("email").join(sub).join(name);
                std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
            };
            Ok(EmailSet {
                questions: read("questions.txt")?,
                follow_up: read("follow_up.txt")?,
                refused: read("refused.txt")?,
                cancelled: read("cancelled.txt")?,
                approval_answer: read("approval_answer.txt")?,
            })
        };
        Ok(Self { en: set("")?, pl: set("pl")? })
    }

    /// The set for a requester's language.
    pub fn for_lang(&self, lang: spec::Lang) -> &EmailSet {
        match lang {
            spec::Lang::Pl => &self.pl,
            _ => &self.en,
        }
    }
}

/// Free text as one safe line of at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let s: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > max { s.chars().take(max.saturating_sub(1)).collect::<String>() + "…" } else { s }
}

/// The agent's shared state.
pub struct Agent {
    /// Settings.
    pub config: Config,
    /// Requests, processed messages, cursor.
    pub store: store::Store,
    /// The provider.
    pub provider: llm::Provider,
    /// The peers.
    pub peers: peers::Peers,
    /// What the planner builds, as last asked (`templates_list`), and when.
    offer: tokio::sync::Mutex<Option<(std::time::Instant, spec::Offer)>>,
    /// Email templates.
    pub emails: Emails,
}

impl Agent {
    /// Open the store, load the templates, make the clients.
    pub async fn open(config: Config, core: &CoreConfig) -> Result<Arc<Self>, StartError> {
        let emails = Emails::load(&config.templates)
            .map_err(|e| StartError::config(format!("{}: {e}", config::AGENT_TEMPLATES_DIR)))?;
        let store = store::Store::open(&config.database_url)
            .await
            .map_err(|e| StartError::config(format!("{}: {e}", config::AGENT_DATABASE_URL)))?;
        let provider = llm::Provider::new(&config.provider).map_err(StartError::config)?;
        let peers = peers::Peers::new(&config, core.peer_token.clone()).map_err(StartError::config)?;
        mcp_core::tracing::info!(
            provider = provider.name(),
            model = provider.model().unwrap_or("-"),
            database = %store.db().url(),
            email_intake = config.email_intake,
            planner = peers.planner.is_some(),
            "agent ready"
        );
        Ok(Arc::new(Self { config, store, provider, peers, offer: Default::default(), emails }))
    }

    /// What this deployment can build, from the planner's `templates_list`
    /// (one variable, `PLANNER_TEMPLATES`, decides it). Asked again after a
    /// minute; while the planner is away a known answer is reused, and
    /// without one the message waits (a transient error) rather than be
    /// answered with a guess.
    pub async fn offer(&self) -> Result<spec::Offer, peers::PeerError> {
        const FRESH: std::time::Duration = std::time::Duration::from_secs(60);
        let mut cached = self.offer.lock().await;
        if let Some((at, offer)) = cached.as_ref()
            && at.elapsed() < FRESH
        {
            return Ok(offer.clone());
        }
        let Some(planner) = &self.peers.planner else {
            return Err(peers::PeerError {
                kind: mcp_core::ErrorKind::Unavailable,
                message: "no planner is configured (MCP_CLIENT_PLANNER_URL): nothing can be built".into(),
            });
        };
        match planner.call_as::<mcp_types::plan::TemplatesList>("templates_list", serde_json::json!({})).await {
            Ok(list) => {
                let offer = spec::Offer::from_templates(&list);
                *cached = Some((std::time::Instant::now(), offer.clone()));
                Ok(offer)
            }
            Err(e) => match cached.as_ref() {
                Some((_, stale)) => {
                    mcp_core::tracing::warn!(error = %e, "planner's templates_list failed; using the last answer");
                    Ok(stale.clone())
                }
                None => Err(e),
            },
        }
    }
}

/// The MCP server over an agent. The LLM steps are listed only when the provider can write code.
pub fn server(a: Arc<Agent>) -> Server {
    let coder = a.provider.can_code();
    let mut b = Server::builder(NAME, VERSION, a)
        .instructions(
            "The fleet's front desk: submit_request takes a project request (or the answer to questions) and \
             returns the decision; request_status and request_list show requests; request_cancel and \
             request_retry call a request off or build its failed project again. With a model configured, \
             llm_implement and llm_fix are the planner's LLM steps.",
        )
        .ready_check("database", |a: Arc<Agent>| async move { a.store.db().ping().await });
    if coder {
        b = b.tool(tools::llm_fix::tool()).tool(tools::llm_implement::tool());
    }
    b.tool(tools::request_cancel::tool())
        .tool(tools::request_list::tool())
        .tool(tools::request_retry::tool())
        .tool(tools::request_status::tool())
        .tool(tools::submit_request::tool())
        .build()
}

/// The whole program (the fleet's one entry-point shape): the server, and the email intake when configured.
pub async fn start(config: Config, core: CoreConfig) -> Result<Program, StartError> {
    let core = &core;
    let intake = config.email_intake;
    let a = Agent::open(config, core).await?;
    let background = intake.then(|| -> futures::future::BoxFuture<'static, ()> { Box::pin(intake::run(a.clone())) });
    Ok(Program { server: server(a), routes: None, background })
}
