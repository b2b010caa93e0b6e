//! `sql_query`: one read-only statement, classified before it runs and run
//! on a read-only connection in a read-only transaction with a statement
//! timeout and a row cap.

use mcp_core::db::{Param, QueryError};
use mcp_core::prelude::*;

use crate::Sql;
use crate::classify::{Dialect, Kind, check};

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// One SELECT (or WITH / VALUES / EXPLAIN) statement. Use $1, $2... for values and pass them in params.
    pub sql: String,
    /// Values for $1, $2... in order.
    #[serde(default)]
    pub params: Vec<Value>,
    /// Most rows to return (default and maximum from the server, usually 500).
    pub max_rows: Option<usize>,
}

/// The result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each an array of values in column order.
    pub rows: Vec<Vec<Value>>,
    /// Rows returned.
    pub row_count: usize,
    /// More rows existed than were returned (add LIMIT or narrow the query).
    pub truncated: bool,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "sql_query",
        "Run one read-only SQL statement (SELECT/WITH/VALUES/EXPLAIN) with bound $1.. parameters. Writes, stacked \
         statements and session changes are refused; a statement timeout and a row cap apply. sql_tables shows the \
         dialect and tables.",
        Annotations::read_only(),
        run,
    )
    .title("Query (read-only)")
}

/// Translate `$1` placeholders for SQLite's numbered form when needed.
pub fn placeholders(s: &Sql, sql: &str) -> String {
    s.db.sql(sql).into_owned()
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    if a.sql.len() > 64 << 10 {
        return Err(ToolError::invalid("the statement is longer than 64 KiB"));
    }
    if a.params.len() > 100 {
        return Err(ToolError::invalid("at most 100 parameters"));
    }
    check(&a.sql, Kind::Read, Dialect::of(s.db.backend())).map_err(ToolError::Denied)?;
    let max = a.max_rows.unwrap_or(s.config.max_rows).clamp(1, s.config.max_rows);
    let params: Vec<Param> = a.params.iter().map(Param::from_json).collect();
    let sql = placeholders(&s, &a.sql);
    let rows = s.db.query_read_only(&sql, &params, max, s.config.statement_timeout).await.map_err(|e| match e {
        QueryError::Timeout(_) => ToolError::Timeout(e.to_string()),
        QueryError::Refused(m) => ToolError::Invalid(format!("the database refused the statement: {m}")),
        other => ToolError::internal(other),
    })?;
    let mut text = rows.columns.join("\t");
    for r in rows.rows.iter().take(50) {
        text.push('\n');
        text.push_str(
            &r.iter()
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\t"),
        );
    }
    if rows.rows.len() > 50 {
        text.push_str(&format!("\n... {} rows in all (see structuredContent)", rows.rows.len()));
    }
    if rows.truncated {
        text.push_str(&format!("\n[truncated at {max} rows: add LIMIT/WHERE or aggregate]"));
    }
    let row_count = rows.rows.len();
    Ok(Out::new(Output { columns: rows.columns, rows: rows.rows, row_count, truncated: rows.truncated }).text(text))
}
