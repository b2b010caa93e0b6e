//! Idempotency keys for the record tools (`decision_record`, `message_record`),
//! with the contract `mcp-server-email` uses for sends and `mcp-server-git`
//! for commits and tags, so a client retries all three the same way:
//!
//! - no key: the call writes a new record, as it always did;
//! - a key never used by this tool: the record is written, and the key with a
//!   hash of the arguments and the result in the same transaction;
//! - the same key and the same arguments: the first result again, marked
//!   `duplicate: true`, and nothing is written;
//! - the same key and different arguments: a `conflict` error, nothing written.
//!
//! Writing the key in the record's transaction is what makes a retry after a
//! lost answer safe: either both are committed or neither is. The key table's
//! primary key is `(tool, key)`; the claim is `INSERT ... ON CONFLICT DO
//! NOTHING`, so of two concurrent calls with one key (PostgreSQL runs them in
//! parallel) the second waits for the first to commit, claims nothing, rolls
//! its record back and answers with the first result instead of failing.
//!
//! The key rule, the argument hash ("the same arguments": canonical JSON of
//! the typed arguments without the key, absent and null top-level fields
//! alike) and the conflict message are [`mcp_core::idempotency`]'s, shared
//! with git and email. Defaults applied by the server (the call's own trace
//! id) are not part of the hash: what the caller sent is hashed.

use mcp_core::ToolError;
use mcp_core::db::Db;
use mcp_core::db::sqlx::{self, AnyConnection, Row};
use mcp_core::idempotency::{KEY_FIELD, Replay, args_hash, check_key};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::tools::{db_err, now};

/// A checked key of one call, with the hash of the call's other arguments.
#[derive(Debug)]
pub struct Key<'a> {
    tool: &'static str,
    key: &'a str,
    args: String,
}

/// What a key was first used for.
struct Earlier {
    record_id: i64,
    result: String,
}

impl<'a> Key<'a> {
    /// The key of a call to `tool` with `args`; `None` when the caller gave none.
    pub fn new<A: Serialize>(tool: &'static str, key: Option<&'a str>, args: &A) -> Result<Option<Self>, ToolError> {
        let Some(key) = key else { return Ok(None) };
        check_key(key)?;
        let args = mcp_core::serde_json::to_value(args).map_err(ToolError::internal)?;
        Ok(Some(Self { tool, key, args: args_hash(&args, KEY_FIELD) }))
    }

    /// The first result recorded under this key, or `None` when the key is
    /// unused. A key used with other arguments is a conflict.
    pub async fn earlier<T: DeserializeOwned>(&self, db: &Db) -> Result<Option<T>, ToolError> {
        // The writer: on SQLite it sees its own latest commit without waiting
        // for a reader's snapshot to move on.
        let row = db
            .query("SELECT args_sha256, record_id, result FROM sql_idempotency WHERE tool = $1 AND key = $2")
            .bind(self.tool)
            .bind(self.key.to_owned())
            .fetch_optional(db.writer())
            .await
            .map_err(db_err)?;
        let recorded = row.map(|r| (r.get::<String, _>(0), Earlier { record_id: r.get(1), result: r.get(2) }));
        let first = Replay::of(&self.args, recorded.as_ref().map(|(a, e)| (a.as_str(), e)))
            .into_result(self.key, |e| {
                format!("it recorded {} {}", self.tool.trim_end_matches("_record"), e.record_id)
            })?;
        let Some(e) = first else { return Ok(None) };
        let v = mcp_core::db::decode("idempotency result", &e.result).map_err(ToolError::internal)?;
        Ok(Some(v))
    }

    /// Claim the key for `record_id` inside the record's transaction. False
    /// when another call holds it (committed, or committing first): the
    /// caller rolls back and answers with [`Key::earlier`].
    pub async fn claim<T: Serialize>(
        &self,
        db: &Db,
        tx: &mut AnyConnection,
        record_id: i64,
        result: &T,
    ) -> Result<bool, ToolError> {
        let (at, ms) = now();
        let n = db
            .query(
                "INSERT INTO sql_idempotency (tool, key, args_sha256, record_id, result, created_at, created_ms) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tool, key) DO NOTHING",
            )
            .bind(self.tool)
            .bind(self.key.to_owned())
            .bind(self.args.clone())
            .bind(record_id)
            .bind(mcp_core::db::encode(result))
            .bind(at)
            .bind(ms)
            .execute(tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        Ok(n == 1)
    }
}

/// Write a record with an optional key: `insert` adds the record inside a
/// transaction and returns its id and result; with a key already used, the
/// first result comes back instead (`Ok((result, true))`) and nothing stays
/// written.
pub async fn write<T, F>(db: &Db, key: Option<&Key<'_>>, insert: F) -> Result<(T, bool), ToolError>
where
    T: Serialize + DeserializeOwned,
    F: AsyncFnOnce(&mut AnyConnection) -> Result<(i64, T), sqlx::Error>,
{
    if let Some(k) = key
        && let Some(first) = k.earlier(db).await?
    {
        return Ok((first, true));
    }
    let mut tx = db.writer().begin().await.map_err(db_err)?;
    let (id, out) = insert(&mut *tx).await.map_err(db_err)?;
    if let Some(k) = key
        && !k.claim(db, &mut tx, id, &out).await?
    {
        // Another call with this key committed first: undo this record and
        // answer as a replay (or a conflict, if its arguments differed).
        tx.rollback().await.map_err(db_err)?;
        let first = k
            .earlier(db)
            .await?
            .ok_or_else(|| ToolError::internal("an idempotency key was taken but its record is missing"))?;
        return Ok((first, true));
    }
    tx.commit().await.map_err(db_err)?;
    Ok((out, false))
}

/// The text of a result: `fresh` for a new record, or the one sentence every
/// keyed tool says when a key replays its first result.
pub fn result_text(duplicate: bool, what: &str, id: i64, fresh: impl FnOnce() -> String) -> String {
    if duplicate {
        format!(
            "{what} {id} was already recorded under this idempotency key with the same arguments; nothing new was \
             written (duplicate)"
        )
    } else {
        fresh()
    }
}

#[cfg(test)]
mod tests {
    use mcp_core::serde_json::json;

    use super::*;

    #[test]
    fn keys_are_bounded() {
        let args = json!({});
        assert!(Key::new("t", None, &args).unwrap().is_none());
        assert!(Key::new("t", Some("run-1/report"), &args).unwrap().is_some());
        for bad in [String::new(), "k".repeat(201), "a\nb".into()] {
            assert!(Key::new("t", Some(&bad), &args).is_err(), "{bad:?}");
        }
    }
}
