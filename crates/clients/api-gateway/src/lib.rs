//! `mcp-client-api-gateway`: the fleet's front door.
//!
//! People and programs outside the fleet come in here, and only here:
//!
//! - **`/mcp`**: one MCP endpoint for the whole fleet. Every upstream's tools
//!   are listed as `{server}__{tool}` (`catalogue`, `source`), filtered per
//!   caller by role and the key's globs (`policy`), limited per caller and
//!   tool (`limits`), and audited (`audit`); the gateway's own tools are
//!   `gateway__*` (`tools/`).
//! - **REST** under `/api/v1` with its OpenAPI 3.1 description at
//!   `/openapi.json` and Swagger UI at `/docs` (`api/`).
//! - **The web UI** under `/ui` (`ui/`), server-rendered, nothing loaded
//!   from elsewhere.
//! - **`mcp-fleet`**, the command line (`cli/`, `src/bin/mcp-fleet.rs`).
//!
//! Callers are the fleet token's holder (the fleet itself), API keys
//! (`keys`) and JWTs against a configured JWKS (`authn`). Requests enter the
//! same path as an email (the agent's `submit_request`); approvals are the
//! planner's, decided here by people.

pub mod api;
pub mod audit;
pub mod authn;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod keys;
pub mod limits;
pub mod policy;
pub mod resources;
pub mod route;
pub mod source;
pub mod store;
pub mod tools;
pub mod ui;

use std::sync::Arc;
use std::time::Duration;

use mcp_core::{CoreConfig, Program, Server, Sessions, StartError};

pub use config::Config;

/// The program name (binary, compose service, default `Host`).
pub const NAME: &str = "mcp-client-api-gateway";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool, route and page shares.
pub struct Gateway {
    /// Settings.
    pub config: Config,
    /// Keys and audit.
    pub store: store::Store,
    /// The API keys, in memory.
    pub keys: Arc<keys::Keys>,
    /// The authenticator (also the edge rate limiter).
    pub auth: Arc<authn::GatewayAuth>,
    /// The upstreams and their merged tools.
    pub catalogue: Arc<catalogue::Catalogue>,
    /// The audit writer.
    pub audit: audit::AuditLog,
    /// Session callers, told when the merged tool list changes.
    pub sessions: Sessions,
    /// Per caller and tool quotas.
    pub quotas: limits::Quotas,
    /// Keys' compiled allow/deny globs.
    pub globs: policy::GlobCache,
    /// The upstreams' resource templates (`resources`).
    pub resource_templates: resources::Templates,
}

// Where `Gateway`'s methods live: the per-caller view of the tools and the
// one forwarding path (`visible_defs`, `tools_for`, `call_tool`,
// `visible_count`) in `source.rs`; the catalogue's (`refresh`,
// `refresh_upstream`, `servers`) and the background work below.

impl Gateway {
    /// Open the database, load the keys, prepare the upstream clients.
    pub async fn open(config: Config, core: &CoreConfig, sessions: Sessions) -> Result<Arc<Self>, StartError> {
        let store = store::Store::open(&config.database_url)
            .await
            .map_err(|e| StartError::config(format!("{}: {e}", config::GATEWAY_DATABASE_URL)))?;
        mcp_core::tracing::info!(database = %store.db().url(), backend = ?store.db().backend(), "database ready");
        let rows = store.keys().await.map_err(StartError::other)?;
        let keys = Arc::new(keys::Keys::new(&config.key_secret, rows));
        let auth = Arc::new(authn::GatewayAuth::new(
            core.auth_token.as_deref(),
            keys.clone(),
            config.jwt.clone(),
            config.rate_per_minute,
        ));
        let names: Vec<&str> = config.upstreams.iter().map(|u| u.name.as_str()).collect();
        let metrics = catalogue::GatewayMetrics::new(&names).map_err(StartError::other)?;
        let audit = audit::AuditLog::new(metrics.audit_dropped.clone());
        let catalogue = Arc::new(catalogue::Catalogue::new(&config, core, metrics)?);
        let quotas = limits::Quotas::new(config.tool_quota_per_minute);
        Ok(Arc::new(Self {
            config,
            store,
            keys,
            auth,
            catalogue,
            audit,
            sessions,
            quotas,
            globs: policy::GlobCache::default(),
            resource_templates: resources::Templates::default(),
        }))
    }

    /// List every upstream now; tell session callers when the merged set
    /// changed. `true` when it did.
    pub async fn refresh(&self) -> bool {
        let changed = self.catalogue.refresh_all().await;
        if changed {
            self.tools_changed().await;
        }
        self.resource_templates.refresh(self).await;
        changed
    }

    /// List one upstream now (a call found it gone or heard "unknown
    /// tool"); tell session callers when the merged set changed.
    pub async fn refresh_upstream(&self, name: &str) -> bool {
        let changed = self.catalogue.refresh_upstream(name).await;
        if changed {
            self.tools_changed().await;
        }
        changed
    }

    async fn tools_changed(&self) {
        let told = self.sessions.notify_tools_changed().await;
        let tools = self.catalogue.entries().len();
        mcp_core::tracing::info!(tools, sessions_told = told, "catalogue changed");
    }

    /// Every upstream's state, in configuration order.
    pub fn servers(&self) -> Vec<catalogue::ServerStatus> {
        self.catalogue.servers()
    }

    /// Fetch the JWKS (when JWTs are accepted) into the authenticator,
    /// keeping the previous set when the fetch fails. Without any set every
    /// JWT is refused: that is logged as an error and `/ready` fails its
    /// `jwks` check until a fetch succeeds (the fleet token and API keys keep
    /// working meanwhile).
    pub async fn refresh_jwks(&self) {
        let Some(jwt) = &self.config.jwt else { return };
        match fetch_jwks(&jwt.jwks_url).await {
            Ok(set) => {
                let keys = set.keys.len();
                self.auth.set_jwks(set, mcp_core::clock::now_ms());
                mcp_core::tracing::debug!(url = %jwt.jwks_url, keys, "JWKS fetched");
            }
            Err(e) => {
                if self.auth.jwks_failed(e.clone()) {
                    mcp_core::tracing::error!(
                        url = %jwt.jwks_url,
                        error = %e,
                        retry_secs = self.config.refresh.as_secs(),
                        "JWKS fetch failed and no key set is held: every JWT is refused until it succeeds"
                    );
                } else {
                    mcp_core::tracing::warn!(url = %jwt.jwks_url, error = %e, "JWKS fetch failed; keeping the previous key set");
                }
            }
        }
    }

    /// Reload the keys from the table, so a key revoked or created by
    /// another replica is seen here within one refresh period.
    pub async fn reload_keys(&self) {
        match self.store.keys().await {
            Ok(rows) => {
                self.keys.replace(rows);
                self.globs.retain(&self.keys);
            }
            Err(e) => mcp_core::tracing::warn!(error = %e, "reloading API keys failed; keeping the loaded set"),
        }
    }

    /// Write the keys' last-used times collected since the previous flush,
    /// in one batch; on failure they are kept for the next one.
    pub async fn flush_key_use(&self) {
        let used = self.keys.take_used();
        if let Err(e) = self.store.touch_keys(&used).await {
            mcp_core::tracing::warn!(error = %e, keys = used.len(), "recording keys' last use failed; retrying later");
            self.keys.restore_used(used);
        }
    }
}

async fn fetch_jwks(url: &str) -> Result<jsonwebtoken::jwk::JwkSet, String> {
    mcp_core::install_crypto_provider();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let resp = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    let text = resp.text().await.map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("not a JWKS: {e}"))
}

/// Build the MCP server over the gateway's state: its own tools, the
/// upstreams' tools as a tool source, its authenticator, and the public
/// paths of the sign-in page.
pub fn server(state: Arc<Gateway>) -> Server {
    let server = tools::register(Server::builder(NAME, VERSION, state.clone()))
        .instructions(
            "The fleet's front door. Every fleet program's tools are here as {server}__{tool} (git__git_status, \
             planner__plan_status, ...), filtered by what your key may do; gateway__servers says which upstreams \
             answer and why one does not.",
        )
        .authenticator(state.auth.clone())
        .sessions(state.sessions.clone())
        .tool_source(Arc::new(source::GatewaySource::new(state.clone())))
        .resources(resources::GatewayResources::new(state.clone()))
        .ready_check("database", |s: Arc<Gateway>| async move { s.store.db().ping().await })
        .ready_check("jwks", |s: Arc<Gateway>| async move { s.auth.jwks_status() })
        // Only the sign-in form and the files it needs are served without a caller.
        .sign_in_page("/ui", ui::LOGIN_PATH)
        .public_path(ui::STATIC_PREFIX)
        .build();
    // The gateway's own series go on the server's registry; a failure here
    // can only be a duplicate name, a programming error the tests catch.
    if let Err(e) = state.catalogue.metrics().register(server.metrics().registry()) {
        mcp_core::tracing::error!(error = %e, "gateway metrics not registered");
    }
    server
}

/// The whole program: the server, its routes, and the background refresher.
pub async fn start(config: Config, core: CoreConfig) -> Result<Program, StartError> {
    start_with_state(config, core).await.map(|(program, _)| program)
}

/// [`start`], also handing back the state (tests create keys through it).
/// The first catalogue refresh and JWKS fetch happen here, before the
/// server answers, so the first `tools/list` is complete; each is bounded by
/// its timeout, and a down upstream only means its tools are absent.
pub async fn start_with_state(config: Config, core: CoreConfig) -> Result<(Program, Arc<Gateway>), StartError> {
    let sessions = Sessions::default();
    let state = Gateway::open(config, &core, sessions).await?;
    futures::join!(state.refresh(), state.refresh_jwks());
    let server = server(state.clone());
    let shared = api::ApiState::new(state.clone());
    let routes = api::routes(shared.clone()).merge(ui::routes(shared));
    Ok((Program { server, routes: Some(routes), background: Some(Box::pin(background(state.clone()))) }, state))
}

/// How often keys' last-used times are written.
const TOUCH_EVERY: Duration = Duration::from_secs(5);

/// The gateway's background work, until shutdown:
///
/// - the audit writer, on a task of its own: shutdown cancels this future
///   when draining starts, and the writer should keep writing the rows of
///   the calls still draining (it ends with the runtime);
/// - every `GATEWAY_REFRESH_SECS` (the first refresh is [`start`]'s): the
///   catalogue, the keys from the table, the JWKS, and forgetting idle
///   callers' rate-limit state;
/// - every few seconds: the keys' last-used times, in one batch.
pub async fn background(state: Arc<Gateway>) {
    let writer = state.clone();
    tokio::spawn(async move { writer.audit.run_writer(&writer.store).await });
    let refresher = async {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + state.config.refresh, state.config.refresh);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.reload_keys().await;
            futures::join!(state.refresh(), state.refresh_jwks());
            state.auth.shrink();
            state.quotas.shrink();
        }
    };
    let toucher = async {
        let mut tick = tokio::time::interval(TOUCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            state.flush_key_use().await;
        }
    };
    futures::join!(refresher, toucher);
}
