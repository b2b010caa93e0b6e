//! `kb_put`: add a knowledge-base entry, or replace one by id.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{bounded, db_err, now, required, tags_to_db};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Replace the entry with this id; omit to add a new one.
    pub id: Option<i64>,
    /// Short title.
    pub title: String,
    /// The content (plain text or Markdown).
    pub body: String,
    /// Tags, e.g. ["python", "packaging"].
    #[serde(default)]
    pub tags: Vec<String>,
    /// The project it belongs to (omit for fleet-wide knowledge).
    pub project: Option<String>,
}

/// The stored entry's id.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Entry id.
    pub id: i64,
    /// True when it was added, false when replaced.
    pub created: bool,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "kb_put",
        "Store a knowledge-base entry (title, body, tags, optional project) so it can be found later with kb_search; \
         pass id to replace an existing entry.",
        Annotations::destructive(true),
        run,
    )
    .title("Store knowledge")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    required("title", &a.title, 500)?;
    required("body", &a.body, 1 << 20)?;
    bounded("project", a.project.as_deref().unwrap_or(""), 200)?;
    let tags = tags_to_db(&a.tags)?;
    let (at, ms) = now();
    let db = &s.db;
    let (id, created) = match a.id {
        Some(id) => {
            let r = db
                .query("UPDATE kb_entries SET title = $1, body = $2, tags = $3, project = $4, updated_at = $5, updated_ms = $6 WHERE id = $7")
                .bind(&a.title)
                .bind(&a.body)
                .bind(&tags)
                .bind(a.project.as_deref())
                .bind(&at)
                .bind(ms)
                .bind(id)
                .execute(db.writer())
                .await
                .map_err(db_err)?;
            if r.rows_affected() == 0 {
                return Err(ToolError::not_found(format!("knowledge-base entry {id}; omit id to add a new entry")));
            }
            (id, false)
        }
        None => {
            let row = db
                .query("INSERT INTO kb_entries (project, title, body, tags, created_at, updated_at, updated_ms) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id")
                .bind(a.project.as_deref())
                .bind(&a.title)
                .bind(&a.body)
                .bind(&tags)
                .bind(&at)
                .bind(ms)
                .fetch_one(db.writer())
                .await
                .map_err(db_err)?;
            (row.get::<i64, _>(0), true)
        }
    };
    Ok(Out::new(Output { id, created })
        .text(format!("{} knowledge-base entry {id}", if created { "added" } else { "replaced" })))
}
