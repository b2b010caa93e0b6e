//! `kb_list`: knowledge-base entries by project and tag, newest first.

use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{db_err, limit, tags_from_db};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Only this project's entries.
    pub project: Option<String>,
    /// Only entries with this tag.
    pub tag: Option<String>,
    /// Most entries (default 50, at most 500).
    pub limit: Option<i64>,
    /// Skip this many (paging).
    #[serde(default)]
    pub offset: i64,
}

/// One listed entry (without its body).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item {
    /// Id.
    pub id: i64,
    /// Project.
    pub project: Option<String>,
    /// Title.
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Last changed.
    pub updated_at: String,
}

/// The list.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Entries, newest first.
    pub items: Vec<Item>,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "kb_list",
        "List knowledge-base entries (titles and tags, newest first), optionally for one project or tag. Use kb_search to find by content.",
        Annotations::read_only(),
        run,
    )
    .title("List knowledge")
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    let n = limit(a.limit, 50, 500)?;
    if a.offset < 0 {
        return Err(ToolError::invalid("offset must not be negative"));
    }
    let tag = a.tag.map(|t| format!("%,{},%", t.trim().to_lowercase()));
    let rows =
        s.db.query(
            "SELECT id, project, title, tags, updated_at FROM kb_entries \
             WHERE ($1 IS NULL OR project = $1) AND ($2 IS NULL OR tags LIKE $2) \
             ORDER BY updated_ms DESC, id DESC LIMIT $3 OFFSET $4",
        )
        .bind(a.project.as_deref())
        .bind(tag.as_deref())
        .bind(n)
        .bind(a.offset)
        .fetch_all(s.db.reader())
        .await
        .map_err(db_err)?;
    let items: Vec<Item> = rows
        .iter()
        .map(|r| Item {
            id: r.get(0),
            project: r.get(1),
            title: r.get(2),
            tags: tags_from_db(&r.get::<String, _>(3)),
            updated_at: r.get(4),
        })
        .collect();
    let text = if items.is_empty() {
        "no entries".to_owned()
    } else {
        items.iter().map(|i| format!("#{} {} [{}]", i.id, i.title, i.tags.join(", "))).collect::<Vec<_>>().join("\n")
    };
    Ok(Out::new(Output { items }).text(text))
}
