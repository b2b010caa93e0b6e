//! `mcp-client-planner`: turns a complete project spec into a plan — a DAG of
//! MCP tool calls and LLM steps with retry policies, timeouts and
//! idempotency keys — and runs it against the fleet's servers: scaffold from
//! a template (fs), version (git), install, build, lint and test (shell),
//! implement and fix with an LLM (the agent) when one is configured, tag,
//! (for `delivery: "gitlab"`) push to GitLab and run the project's pipeline
//! there (git, gitlab), and report to the requester (email), recording
//! decisions (sql) and task health (log).
//!
//! Every step's state is checkpointed in the database before and after it
//! runs ([`store`]); a planner killed with SIGKILL resumes each unfinished
//! run at the interrupted step ([`exec`]), and every step is idempotent
//! (each action's module in `actions/` says how: files written whole,
//! idempotency keys on commits, tags, the email and its records), so
//! nothing — commit, email, file — happens twice. Budgets (step attempts,
//! wall time, LLM tokens) stop a run cleanly and the report says what was
//! and was not done. Runs are claimed with a lease, so several planners can
//! share one PostgreSQL database.
//!
//! Steps named in `PLANNER_APPROVAL_STEPS` wait for a person: an approval
//! is recorded and mailed to the approvers, and the step runs once it is
//! approved (`approval_decide`, or an emailed "approve" the agent relays);
//! denied or expired, the run ends and the report says so.
//!
//! It is also an MCP server: `plan_start`, `plan_status`, `plan_wait` (with
//! progress notifications), `plan_list`, `plan_cancel`, `templates_list`,
//! and the approval queue: `approvals_list`, `approval_get`, `approval_decide`.

mod actions;
pub mod config;
pub mod exec;
pub mod peers;
pub mod plan;
pub mod schema;
pub mod spec;
pub mod store;
pub mod templates;
pub mod tools;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use mcp_core::{CoreConfig, Program, Server, StartError};
use tokio::sync::{Notify, broadcast};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-client-planner";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The planner's shared state.
pub struct Planner {
    /// Checkpoints.
    pub store: store::Store,
    /// Settings.
    pub config: Config,
    /// Templates, loaded at start-up.
    pub templates: templates::Templates,
    /// The servers it drives.
    pub peers: peers::Peers,
    /// Wakes the executor (a new run, a finished one).
    pub wake: Notify,
    /// Held from a screenshot step's navigation to its shot: the browser
    /// server keys a stateless caller's browser by its subject, so two runs
    /// shooting at once would share one page.
    pub browsing: tokio::sync::Mutex<()>,
    active: Mutex<HashSet<String>>,
    events: broadcast::Sender<exec::Event>,
}

impl Planner {
    /// Open the store, load the templates, make the clients.
    pub async fn open(config: Config, core: &CoreConfig) -> Result<Arc<Self>, StartError> {
        let templates = templates::Templates::load(&config.templates)
            .and_then(|t| t.only(&config.offered))
            .map_err(|e| StartError::config(format!("{}: {e}", config::PLANNER_TEMPLATES_DIR)))?;
        let store = store::Store::open(&config.database_url)
            .await
            .map_err(|e| StartError::config(format!("{}: {e}", config::PLANNER_DATABASE_URL)))?;
        let peers = peers::Peers::new(&config, core.peer_token.clone()).map_err(StartError::config)?;
        mcp_core::tracing::info!(
            database = %store.db().url(),
            templates = templates.projects.len(),
            llm_agent = config.peers.agent.is_some(),
            email = config.peers.email.is_some(),
            approval_steps = %config.approval.steps.join(","),
            "planner ready"
        );
        let (events, _) = broadcast::channel(256);
        Ok(Arc::new(Self {
            store,
            config,
            templates,
            peers,
            wake: Notify::new(),
            browsing: tokio::sync::Mutex::new(()),
            active: Mutex::new(HashSet::new()),
            events,
        }))
    }

    fn active_count(&self) -> usize {
        self.active.lock().map(|a| a.len()).unwrap_or(0)
    }

    fn is_active(&self, id: &str) -> bool {
        self.active.lock().is_ok_and(|a| a.contains(id))
    }

    fn set_active(&self, id: &str, on: bool) {
        if let Ok(mut a) = self.active.lock() {
            if on {
                a.insert(id.to_owned());
            } else {
                a.remove(id);
            }
        }
    }

    fn emit(&self, e: exec::Event) {
        let _ = self.events.send(e);
    }

    /// Events of every run, for `plan_wait`.
    pub fn subscribe(&self) -> broadcast::Receiver<exec::Event> {
        self.events.subscribe()
    }
}

/// The MCP server over a planner.
pub fn server(p: Arc<Planner>) -> Server {
    Server::builder(NAME, VERSION, p)
        .instructions(
            "Builds projects from complete specs: plan_start (one run per request id; idempotent), plan_wait \
             (progress until done), plan_status, plan_list, plan_cancel, templates_list (what can be built); \
             approvals_list, approval_get and approval_decide for steps that wait for a person's approval.",
        )
        .ready_check("database", |p: Arc<Planner>| async move { p.store.db().ping().await })
        .tool(tools::approval_decide::tool())
        .tool(tools::approval_get::tool())
        .tool(tools::approvals_list::tool())
        .tool(tools::plan_cancel::tool())
        .tool(tools::plan_list::tool())
        .tool(tools::plan_start::tool())
        .tool(tools::plan_status::tool())
        .tool(tools::plan_wait::tool())
        .tool(tools::templates_list::tool())
        .build()
}

/// The whole program (the fleet's one entry-point shape): the server and the executor.
pub async fn start(config: Config, core: CoreConfig) -> Result<Program, StartError> {
    let core = &core;
    let p = Planner::open(config, core).await?;
    Ok(Program { server: server(p.clone()), routes: None, background: Some(Box::pin(exec::run_loop(p))) })
}
