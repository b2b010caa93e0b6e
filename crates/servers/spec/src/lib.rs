//! `mcp-server-spec`: specs and project documents for the fleet.
//!
//! Documents are rendered from templates (`engine`: minijinja, strict on
//! undefined values, fuel-bounded, user templates from `SPEC_TEMPLATES_DIR`
//! overriding the built-in ones compiled from `templates/`) and typed data
//! (`kinds`: SPEC.md, README, CHANGELOG from conventional commits
//! (`changelog`), MADR decision records, OpenAPI 3.1 skeletons, Mermaid
//! flowcharts built valid by construction (`mermaid`)). A spec workflow
//! (`workflow`) keeps requirements → design → tasks documents with an
//! approval state each in the database; decisions need an operator or admin.
//! With a model configured (`LLM_PROVIDER=openai`), `spec_draft_section`
//! drafts a section (`draft`); without one the server renders templates only
//! and says so. The server writes no project files: every tool returns the
//! text, and the caller (the planner, through the fs server) writes it.

pub mod changelog;
pub mod config;
pub mod draft;
pub mod engine;
pub mod kinds;
pub mod mermaid;
pub mod tools;
pub mod workflow;

use std::sync::Arc;

use mcp_core::auth::Authenticator;
use mcp_core::db::Db;
use mcp_core::{CoreConfig, Program, Server, StartError};

use engine::{Engine, UserDir};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-spec";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Spec {
    /// Settings.
    pub config: Config,
    /// Templates.
    pub engine: Engine,
    /// The workflow's store.
    pub db: Db,
    /// The model client, when a model is configured.
    pub model: Option<draft::ModelClient>,
}

/// Build the server with the fleet's authentication.
pub async fn server(config: Config) -> Result<Server, StartError> {
    server_with(config, None).await
}

/// Build the server; `auth` replaces the fleet token check (tests give
/// callers of each role this way; the gateway's keys would too).
pub async fn server_with(config: Config, auth: Option<Arc<dyn Authenticator>>) -> Result<Server, StartError> {
    let user = match &config.templates_dir {
        Some(d) => Some(
            UserDir::open(d, config.max_input)
                .map_err(|e| StartError::config(format!("{}: {e}", config::SPEC_TEMPLATES_DIR)))?,
        ),
        None => None,
    };
    let engine = Engine::new(user, config.fuel, config.max_output);
    let db = Db::connect(&config.database_url, "spec", workflow::MIGRATIONS)
        .await
        .map_err(|e| StartError::config(format!("{}: {e}", config::SPEC_DATABASE_URL)))?;
    let model = match &config.model {
        Some(m) => {
            Some(draft::ModelClient::new(m).map_err(|e| StartError::config(format!("{}: {e}", config::LLM_BASE_URL)))?)
        }
        None => None,
    };
    mcp_core::tracing::info!(
        database = %db.url(),
        templates = %engine.user_dir().map(|u| u.path().display().to_string()).unwrap_or_else(|| "built-in only".into()),
        model = %config.model.as_ref().map(|m| m.model.as_str()).unwrap_or("none (templates only)"),
        "spec server ready"
    );
    let state = Spec { config, engine, db, model };
    let b = Server::builder(NAME, VERSION, Arc::new(state)).instructions(
        "Project documents from templates and data. spec_generate renders a document kind (spec, readme, changelog, \
         adr, openapi, architecture, requirements, design, tasks) from typed data and returns its text and a \
         suggested path: write the file yourself. spec_render renders any template by name with free data; \
         spec_templates_list lists them; architecture_diagram returns a Mermaid flowchart. The spec workflow: \
         spec_create, then requirements → design → tasks, each written with spec_document_write, submitted with \
         spec_submit and decided by an operator with spec_decide before the next may be drafted; spec_status \
         gives the phase and task counts, spec_task_update ticks tasks. Values in data are printed as text, never \
         run as template code.",
    );
    let b = match auth {
        Some(a) => b.authenticator(a),
        None => b,
    };
    let b = b.ready_check("database", |s: Arc<Spec>| async move { s.db.ping().await });
    let b = b.ready_check("templates", |s: Arc<Spec>| async move {
        Ok(match s.engine.user_dir() {
            Some(u) => format!(
                "{} built-in, {} user template(s) in {}",
                engine::BUILTINS.len(),
                s.engine.user_templates().len(),
                u.path().display()
            ),
            None => format!("{} built-in templates; no {} set", engine::BUILTINS.len(), config::SPEC_TEMPLATES_DIR),
        })
    });
    let b = b.ready_check("model", |s: Arc<Spec>| async move {
        Ok(match &s.config.model {
            Some(m) => format!("drafting with model {} at {}", m.model, m.base_url),
            None => "no model configured: templates only (spec_draft_section answers unavailable)".to_owned(),
        })
    });
    Ok(b.tool(tools::architecture_diagram::tool())
        .tool(tools::spec_create::tool())
        .tool(tools::spec_decide::tool())
        .tool(tools::spec_document_get::tool())
        .tool(tools::spec_document_write::tool())
        .tool(tools::spec_draft_section::tool())
        .tool(tools::spec_generate::tool())
        .tool(tools::spec_list::tool())
        .tool(tools::spec_render::tool())
        .tool(tools::spec_status::tool())
        .tool(tools::spec_submit::tool())
        .tool(tools::spec_task_update::tool())
        .tool(tools::spec_templates_list::tool())
        .build())
}

/// The program, for `main` (the fleet's one entry-point shape).
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
