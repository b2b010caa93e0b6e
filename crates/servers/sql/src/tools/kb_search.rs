//! `kb_search`: full-text search of the knowledge base with ranking and
//! snippets (SQLite FTS5 with bm25, PostgreSQL `tsvector` with `ts_rank`).
//!
//! The caller's words are reduced to plain terms before they reach either
//! engine, so no query syntax of theirs can error or misbehave: all words
//! must match first; when nothing does, any word may.

use mcp_core::db::Backend;
use mcp_core::db::sqlx::Row;
use mcp_core::prelude::*;

use super::{db_err, limit, required, tags_from_db};
use crate::Sql;

/// Arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Words to search for, e.g. "pytest fixture scope".
    pub query: String,
    /// Only this project's entries.
    pub project: Option<String>,
    /// Most results (default 10, at most 100).
    pub limit: Option<i64>,
}

/// One hit.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Hit {
    /// Entry id (read it whole with kb_get).
    pub id: i64,
    /// Project.
    pub project: Option<String>,
    /// Title.
    pub title: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The matching part of the body, matches in [brackets].
    pub snippet: String,
    /// Relevance, higher is better.
    pub score: f64,
}

/// Results.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Output {
    /// Hits, best first.
    pub hits: Vec<Hit>,
    /// "all" when every word matched, "any" when the search fell back to any word.
    pub matched: String,
}

/// The tool.
pub fn tool() -> Tool<Sql> {
    Tool::new(
        "kb_search",
        "Search the knowledge base by words: ranked results with a snippet of each match. All words must match; if \
         nothing does, entries matching any word are returned.",
        Annotations::read_only(),
        run,
    )
    .title("Search knowledge")
}

fn terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).take(32).collect()
}

async fn run(s: Arc<Sql>, a: Args, _ctx: Ctx) -> Result<Out<Output>, ToolError> {
    required("query", &a.query, 1000)?;
    let n = limit(a.limit, 10, 100)?;
    let t = terms(&a.query);
    if t.is_empty() {
        return Err(ToolError::invalid("the query has no words to search for"));
    }
    let mut matched = "all";
    let mut hits = search(&s, &t, a.project.as_deref(), n, true).await?;
    if hits.is_empty() && t.len() > 1 {
        matched = "any";
        hits = search(&s, &t, a.project.as_deref(), n, false).await?;
    }
    let text = if hits.is_empty() {
        format!("nothing matches {:?}", a.query)
    } else {
        hits.iter()
            .map(|h| format!("#{} {} ({:.3})\n  {}", h.id, h.title, h.score, h.snippet))
            .collect::<Vec<_>>()
            .join("\n")
    };
    Ok(Out::new(Output { hits, matched: matched.into() }).text(text))
}

async fn search(s: &Sql, terms: &[String], project: Option<&str>, n: i64, all: bool) -> Result<Vec<Hit>, ToolError> {
    let db = &s.db;
    let rows = match db.backend() {
        Backend::Sqlite => {
            // Quoted FTS5 strings: terms only, no operators of the caller's.
            let joiner = if all { " " } else { " OR " };
            let q = terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(joiner);
            db.query(
                "SELECT e.id, e.project, e.title, e.tags, snippet(kb_fts, 1, '[', ']', '…', 16), -bm25(kb_fts, 10.0, 1.0, 5.0) AS score \
                 FROM kb_fts JOIN kb_entries e ON e.id = kb_fts.rowid \
                 WHERE kb_fts MATCH $1 AND ($2 IS NULL OR e.project = $2) ORDER BY score DESC LIMIT $3",
            )
            .bind(q)
            .bind(project)
            .bind(n)
            .fetch_all(db.reader())
            .await
            .map_err(db_err)?
        }
        Backend::Postgres => {
            let joiner = if all { " & " } else { " | " };
            let q = terms.join(joiner);
            db.query(
                "SELECT id, project, title, tags, \
                 ts_headline('english', body, q, 'StartSel=[, StopSel=], MaxWords=24, MinWords=8, ShortWord=2'), \
                 CAST(ts_rank(tsv, q) AS DOUBLE PRECISION) AS score \
                 FROM kb_entries, to_tsquery('english', $1) q \
                 WHERE tsv @@ q AND ($2::text IS NULL OR project = $2) ORDER BY score DESC LIMIT $3",
            )
            .bind(q)
            .bind(project)
            .bind(n)
            .fetch_all(db.reader())
            .await
            .map_err(db_err)?
        }
    };
    Ok(rows
        .iter()
        .map(|r| Hit {
            id: r.get(0),
            project: r.get(1),
            title: r.get(2),
            tags: tags_from_db(&r.get::<String, _>(3)),
            snippet: r.get(4),
            score: r.get(5),
        })
        .collect())
}
