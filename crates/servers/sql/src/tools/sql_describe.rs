//! `sql_describe`: the columns of one table.

use mcp_core::db::Backend;
use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::db_err;
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Table name, as listed by sql_tables.
    pub table: String,
}

/// A column.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Column {
    /// Name.
    pub name: String,
    /// Declared type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Whether it may be NULL.
    pub nullable: bool,
    /// Default expression.
    pub default: Option<String>,
}

/// The description.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Table.
    pub table: String,
    /// Columns in order.
    pub columns: Vec<Column>,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "sql_describe",
        "Describe a table's columns: name, type, nullability, default.",
        Annotations::read_only(),
        run,
    )
    .title("Describe a table")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    // Only names that exist and are visible: never interpolated, but this
    // also gives the caller the list when they mistype.
    let visible = super::sql_tables::visible(&s).await?;
    if !visible.iter().any(|t| t.name == a.table) {
        return Err(ToolError::not_found(format!(
            "table {:?}; tables: {}",
            a.table,
            visible.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let db = &s.db;
    let columns: Vec<Column> = match db.backend() {
        Backend::Sqlite => db
            .query("SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info($1) ORDER BY cid")
            .bind(&a.table)
            .fetch_all(db.reader())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Column { name: r.get(0), ty: r.get(1), nullable: r.get::<i64, _>(2) == 0, default: r.get(3) })
            .collect(),
        Backend::Postgres => db
            .query(
                "SELECT column_name::text, data_type::text, is_nullable = 'YES', column_default::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(&a.table)
            .fetch_all(db.reader())
            .await
            .map_err(db_err)?
            .iter()
            .map(|r| Column { name: r.get(0), ty: r.get(1), nullable: r.get(2), default: r.get(3) })
            .collect(),
    };
    let text = columns
        .iter()
        .map(|c| format!("{} {}{}", c.name, c.ty, if c.nullable { "" } else { " NOT NULL" }))
        .collect::<Vec<_>>()
        .join("\n");
    Ok(Out::new(Output { table: a.table, columns }).text(text))
}
