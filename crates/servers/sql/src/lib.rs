//! `mcp-server-sql`: the fleet's memory. A knowledge base with full-text
//! search, the communication log (every message in and out, by project and
//! thread), the decision log (who decided what, why, on which inputs), a
//! project timeline merging the two, and generic SQL for the agent: listing
//! and describing tables, a read-only query tool guarded twice (statement
//! classification here, read-only connection and transaction in
//! `mcp_core::db`), and a write tool that exists only when configured. The
//! record tools take idempotency keys ([`idempotency`]).

pub mod classify;
pub mod config;
pub mod idempotency;
pub mod schema;
pub mod tools;

use std::sync::Arc;

use mcp_core::db::Db;
use mcp_core::{CoreConfig, Program, Server, StartError};

pub use config::Config;

/// The program name.
pub const NAME: &str = "mcp-server-sql";
/// The version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The state every tool shares.
pub struct Sql {
    /// The database.
    pub db: Db,
    /// Settings.
    pub config: Config,
}

/// Build the server: connect, migrate, register the tools.
pub async fn server(config: Config) -> Result<Server, StartError> {
    let mut db = Db::connect(&config.database_url, "sql", schema::MIGRATIONS)
        .await
        .map_err(|e| StartError::config(format!("{}: {e}", config::SQL_DATABASE_URL)))?;
    if let Some(url) = &config.query_database_url {
        db.use_query_role(url)
            .await
            .map_err(|e| StartError::config(format!("{}: {e}", config::SQL_QUERY_DATABASE_URL)))?;
    }
    mcp_core::tracing::info!(database = %db.url(), backend = ?db.backend(), query_role = db.has_query_role(), "database ready");
    if db.backend() == mcp_core::db::Backend::Postgres && !db.has_query_role() {
        mcp_core::tracing::warn!(
            "sql_query runs as the service's own database role: set SQL_QUERY_DATABASE_URL to a SELECT-only role \
             (compose: fleet_query) so the database itself refuses what a query must not do"
        );
    }
    let write = config.allow_write;
    let b = Server::builder(NAME, VERSION, Arc::new(Sql { db, config })).instructions(
        "The fleet's memory: knowledge-base entries (kb_*), the communication log (message_*), the decision log \
         (decision_*), project timelines, and read-only SQL (sql_tables, sql_describe, sql_query).",
    );
    let b = b.ready_check("database", |state: Arc<Sql>| async move { state.db.ping().await });
    // Not a failure (the server works), but never silent: /ready says how untrusted queries are confined.
    let b = b.ready_check("query confinement", |state: Arc<Sql>| async move {
        Ok(match (state.db.backend(), state.db.has_query_role()) {
            (mcp_core::db::Backend::Sqlite, _) => "SQLite authorizer: reads and allow-listed functions only".to_owned(),
            (_, true) => "PostgreSQL: a SELECT-only role in read-only transactions".to_owned(),
            (_, false) => "WEAK: PostgreSQL read-only transactions as the service's own role; set \
                           SQL_QUERY_DATABASE_URL"
                .to_owned(),
        })
    });
    Ok(b.tool(tools::decision_list::tool())
        .tool(tools::decision_record::tool())
        .tool(tools::kb_delete::tool())
        .tool(tools::kb_get::tool())
        .tool(tools::kb_list::tool())
        .tool(tools::kb_put::tool())
        .tool(tools::kb_search::tool())
        .tool(tools::message_list::tool())
        .tool(tools::message_record::tool())
        .tool(tools::project_timeline::tool())
        .tool(tools::sql_describe::tool())
        .tool_if(write, tools::sql_execute::tool())
        .tool(tools::sql_query::tool())
        .tool(tools::sql_tables::tool())
        .build())
}

/// The program, for `main` (the fleet's one entry-point shape): the server,
/// with no routes or background work of its own.
pub async fn start(config: Config, _core: CoreConfig) -> Result<Program, StartError> {
    Ok(server(config).await?.into())
}
