//! `kb_get`: one knowledge-base entry.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{db_err, tags_from_db};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Entry id.
    pub id: i64,
}

/// An entry.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    /// Id.
    pub id: i64,
    /// Project, if any.
    pub project: Option<String>,
    /// Title.
    pub title: String,
    /// Content.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Created, RFC 3339.
    pub created_at: String,
    /// Last changed, RFC 3339.
    pub updated_at: String,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new("kb_get", "Read one knowledge-base entry by id.", Annotations::read_only(), run).title("Read knowledge")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Entry>, ToolError> {
    let row =
        s.db.query("SELECT id, project, title, body, tags, created_at, updated_at FROM kb_entries WHERE id = $1")
            .bind(a.id)
            .fetch_optional(s.db.reader())
            .await
            .map_err(db_err)?
            .ok_or_else(|| ToolError::not_found(format!("knowledge-base entry {}", a.id)))?;
    let e = Entry {
        id: row.get(0),
        project: row.get(1),
        title: row.get(2),
        body: row.get(3),
        tags: tags_from_db(&row.get::<String, _>(4)),
        created_at: row.get(5),
        updated_at: row.get(6),
    };
    let text = format!(
        "# {}\n{}\n\n{}",
        e.title,
        if e.tags.is_empty() { String::new() } else { format!("tags: {}", e.tags.join(", ")) },
        e.body
    );
    Ok(Out::new(e).text(text))
}
