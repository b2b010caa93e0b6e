//! `sql_execute`: one INSERT, UPDATE or DELETE, only when configuration
//! enables writes. Internal tables (migration records, search index) are
//! never writable through it.

use mcp_core::db::sqlx;
use mcp_core::prelude::*;

use crate::Sql;
use crate::classify::{Dialect, Kind, check};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One INSERT, UPDATE or DELETE statement with $1, $2... placeholders.
    pub sql: String,
    /// Values for $1, $2... in order.
    #[serde(default)]
    pub params: Vec<Value>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Rows inserted, updated or deleted.
    pub rows_affected: u64,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "sql_execute",
        "Run one INSERT, UPDATE or DELETE statement with bound $1.. parameters (enabled by the server's configuration).",
        Annotations::destructive(false),
        run,
    )
    .title("Write (DML)")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.sql.len() > 64 << 10 {
        return Err(ToolError::invalid("the statement is longer than 64 KiB"));
    }
    check(&a.sql, Kind::Write, Dialect::of(s.db.backend())).map_err(ToolError::Denied)?;
    let lower = a.sql.to_ascii_lowercase();
    if lower.contains("_mcp_migrations")
        || lower.contains("kb_fts")
        || lower.contains("sqlite_")
        || lower.contains("sql_idempotency")
    {
        return Err(ToolError::denied("internal tables cannot be written"));
    }
    let sql = super::sql_query::placeholders(&s, &a.sql);
    let mut q = sqlx::query::<sqlx::Any>(sqlx::AssertSqlSafe(sql));
    for p in &a.params {
        q = match mcp_core::db::Param::from_json(p) {
            mcp_core::db::Param::Null => q.bind(Option::<String>::None),
            mcp_core::db::Param::Bool(b) => q.bind(b),
            mcp_core::db::Param::Int(i) => q.bind(i),
            mcp_core::db::Param::Float(f) => q.bind(f),
            mcp_core::db::Param::Text(t) => q.bind(t),
        };
    }
    let r = tokio::time::timeout(s.config.statement_timeout, q.execute(s.db.writer()))
        .await
        .map_err(|_| ToolError::Timeout(format!("the statement ran longer than {:?}", s.config.statement_timeout)))?
        .map_err(|e| match e {
            sqlx::Error::Database(d) => {
                ToolError::Invalid(format!("the database refused the statement: {}", d.message()))
            }
            other => ToolError::internal(other),
        })?;
    Ok(Out::new(Output { rows_affected: r.rows_affected() }).text(format!("{} row(s) affected", r.rows_affected())))
}
