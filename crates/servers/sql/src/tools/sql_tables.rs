//! `sql_tables`: the tables and views the generic SQL tools can see.

use mcp_core::db::Backend;
use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::db_err;
use crate::Sql;
use crate::schema::is_internal;

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {}

/// A table.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Table {
    /// Name.
    pub name: String,
    /// "table" or "view".
    pub kind: String,
}

/// The tables.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// "sqlite" or "postgres" (the SQL dialect to write).
    pub dialect: String,
    /// Tables and views, by name.
    pub tables: Vec<Table>,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "sql_tables",
        "List the tables and views available to sql_query, and the SQL dialect (sqlite or postgres) to write.",
        Annotations::read_only(),
        run,
    )
    .title("List tables")
}

/// Names of the visible tables.
pub async fn visible(s: &Sql) -> Result<Vec<Table>, ToolError> {
    let db = &s.db;
    let rows = match db.backend() {
        Backend::Sqlite => db.query("SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"),
        Backend::Postgres => db.query(
            "SELECT table_name::text, CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END FROM information_schema.tables \
             WHERE table_schema = current_schema() ORDER BY table_name",
        ),
    }
    .fetch_all(db.reader())
    .await
    .map_err(db_err)?;
    Ok(rows.iter().map(|r| Table { name: r.get(0), kind: r.get(1) }).filter(|t| !is_internal(&t.name)).collect())
}

async fn run(s: Arc<Sql>, _a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let tables = visible(&s).await?;
    let dialect = match s.db.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let text = format!("{dialect}: {}", tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "));
    Ok(Out::new(Output { dialect: dialect.into(), tables }).text(text))
}
