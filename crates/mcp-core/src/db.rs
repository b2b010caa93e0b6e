//! Storage for the programs that keep state: sqlx over SQLite (the embedded
//! default, a file under a data directory) or PostgreSQL (compose, scale),
//! with one code path through sqlx's `Any` driver.
//!
//! - **SQLite**: WAL journal, a busy timeout, foreign keys on, and exactly one
//!   writer connection (several writers on one file is what corrupted other
//!   servers' databases); readers get their own read-only connections
//!   (`mode=ro` and `PRAGMA query_only`), so a read path cannot write even by
//!   mistake.
//! - **PostgreSQL**: one pool; read-only work uses `BEGIN READ ONLY`.
//! - **SQL text**: write placeholders as `$1, $2, ...`; [`Db::sql`] rewrites
//!   them to SQLite's numbered `?1, ?2` form. Portable column types only:
//!   `TEXT`, `BIGINT`, `DOUBLE PRECISION`/`REAL`, `BOOLEAN`; times as RFC 3339
//!   text or Unix milliseconds.
//! - **Migrations**: each crate embeds its own, one numbered list with the
//!   SQLite and PostgreSQL text side by side (they differ only where the
//!   dialects must, such as full-text search). [`Db::connect`] applies the
//!   missing ones in order, each in a transaction, and refuses to start when
//!   an applied migration's text changed.

mod guard;

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};

pub use sqlx;

/// Which database is behind a [`Db`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite (embedded).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// One migration, in both dialects.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, increasing from 1.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// SQLite text (several statements separated by `;`).
    pub sqlite: &'static str,
    /// PostgreSQL text.
    pub postgres: &'static str,
}

/// Storage errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// The URL is not `sqlite:...` or `postgres://...`.
    #[error("unsupported database URL {0:?}: use sqlite:PATH or postgres://...")]
    Url(String),
    /// Connecting or querying failed.
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// An applied migration differs from the embedded one.
    #[error("migration {version} ({name}) was applied with different text; refusing to start")]
    Changed {
        /// Version.
        version: i64,
        /// Name.
        name: &'static str,
    },
    /// Creating the data directory failed.
    #[error("cannot create {0}: {1}")]
    Io(String, std::io::Error),
    /// A JSON document stored in a column did not parse (a bug or a hand-edited row).
    #[error("stored {0} does not parse: {1}")]
    Corrupt(&'static str, String),
}

/// A JSON column's value (`what` names it in the error).
pub fn decode<T: serde::de::DeserializeOwned>(what: &'static str, s: &str) -> Result<T, DbError> {
    serde_json::from_str(s).map_err(|e| DbError::Corrupt(what, e.to_string()))
}

/// A value as JSON text for a column. Serialising plain data types cannot fail.
pub fn encode<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// A database: a writer and a reader pool.
#[derive(Clone)]
pub struct Db {
    backend: Backend,
    write: AnyPool,
    read: AnyPool,
    url_shown: String,
    /// The SQLite file, for the guarded read-only connections.
    sqlite_path: Option<std::path::PathBuf>,
    /// PostgreSQL: a pool whose sessions are read-only, for untrusted queries.
    read_only: Option<AnyPool>,
    /// `read_only` connects as a query role of its own ([`Db::use_query_role`]).
    query_role: bool,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).field("url", &self.url_shown).finish()
    }
}

/// A URL with its password hidden, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(i), Some(j)) if j > i => {
            let userinfo = &url[i + 3..j];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***@{}", &url[..i + 3], &url[j + 1..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The file a `sqlite:` URL names (`None` for PostgreSQL, `:memory:` or a
/// malformed URL). Programs that confine themselves grant its directory,
/// where SQLite also keeps the `-wal` and `-shm` files.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}

fn sqlite_url(path: &str, mode: &str) -> String {
    format!("sqlite://{path}?mode={mode}")
}

impl Db {
    /// Connect to `url` (`sqlite:PATH`, `sqlite://PATH`, or `postgres://...`),
    /// creating a SQLite file and its directory when missing, and apply
    /// `migrations`. `namespace` names the migration record
    /// (`_mcp_migrations_<namespace>`): in compose several services share one
    /// PostgreSQL database, each with its own tables and its own record.
    pub async fn connect(url: &str, namespace: &str, migrations: &[Migration]) -> Result<Self, DbError> {
        if namespace.is_empty() || !namespace.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(DbError::Url(format!("invalid migration namespace {namespace:?}")));
        }
        sqlx::any::install_default_drivers();
        let mut sqlite_path = None;
        let mut read_only = None;
        let (backend, write, read) = if let Some(path) =
            url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = path.split('?').next().unwrap_or(path);
            if path.is_empty() || path == ":memory:" {
                return Err(DbError::Url(url.to_owned()));
            }
            if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| DbError::Io(dir.display().to_string(), e))?;
            }
            // temp_store=MEMORY: sorts and temporary tables never need a
            // file in /tmp, which a self-confined program cannot reach.
            let write = AnyPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY;").await?;
                        Ok(())
                    })
                })
                .connect_with(sqlite_url(path, "rwc").parse::<AnyConnectOptions>()?)
                .await?;
            // The writer created the file (and WAL mode) before readers open it.
            let read = AnyPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        conn.execute("PRAGMA query_only=ON; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY;")
                            .await?;
                        Ok(())
                    })
                })
                .connect_with(sqlite_url(path, "ro").parse::<AnyConnectOptions>()?)
                .await?;
            sqlite_path = Some(std::path::PathBuf::from(path));
            (Backend::Sqlite, write, read)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(url.parse::<AnyConnectOptions>()?)
                .await?;
            read_only = Some(untrusted_pool(url).await?);
            (Backend::Postgres, pool.clone(), pool)
        } else {
            return Err(DbError::Url(redact_url(url)));
        };
        let db = Self { backend, write, read, url_shown: redact_url(url), sqlite_path, read_only, query_role: false };
        db.migrate(namespace, migrations).await?;
        Ok(db)
    }

    /// SQLite or PostgreSQL.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for writes (one connection on SQLite).
    pub fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// The pool for reads (read-only connections on SQLite).
    pub fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The URL with its password hidden.
    pub fn url(&self) -> &str {
        &self.url_shown
    }

    /// Rewrite `$1, $2, ...` placeholders for the backend.
    pub fn sql<'a>(&self, sql: &'a str) -> Cow<'a, str> {
        match self.backend {
            Backend::Postgres => Cow::Borrowed(sql),
            Backend::Sqlite => {
                if !sql.contains('$') {
                    return Cow::Borrowed(sql);
                }
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// A query over our own SQL text (static, so no injection is possible),
    /// with placeholders rewritten for the backend.
    pub fn query(&self, sql: &'static str) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
        sqlx::query(sqlx::AssertSqlSafe(self.sql(sql).into_owned()))
    }

    /// A readiness probe: the database answers.
    pub async fn ping(&self) -> Result<String, String> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .map(|_| format!("{:?} reachable", self.backend))
            .map_err(|e| e.to_string())
    }

    async fn migrate(&self, namespace: &str, migrations: &[Migration]) -> Result<(), DbError> {
        // The namespace was checked to be [a-z0-9_]+, so it is safe in identifiers.
        let table = format!("_mcp_migrations_{namespace}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE TABLE IF NOT EXISTS {table} (version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )))
        .execute(&self.write)
        .await?;
        let applied = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT version, checksum FROM {table}")))
            .fetch_all(&self.write)
            .await?;
        let applied: Vec<(i64, String)> = applied.iter().map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1))).collect();
        for m in migrations {
            let text = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let sum = checksum(text);
            if let Some((_, old)) = applied.iter().find(|(v, _)| *v == m.version) {
                if *old != sum {
                    return Err(DbError::Changed { version: m.version, name: m.name });
                }
                continue;
            }
            let mut tx = self.write.begin().await?;
            for stmt in split_statements(text) {
                sqlx::raw_sql(stmt).execute(&mut *tx).await?;
            }
            sqlx::query(sqlx::AssertSqlSafe(
                self.sql(&format!("INSERT INTO {table} (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)"))
                    .into_owned(),
            ))
            .bind(m.version)
            .bind(m.name)
            .bind(sum)
            .bind(crate::clock::now_rfc3339())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            tracing::info!(version = m.version, name = m.name, "migration applied");
        }
        Ok(())
    }
}

/// A bound parameter of an untrusted query.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// NULL.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text.
    Text(String),
}

impl Param {
    /// From a JSON value (arrays and objects become their JSON text).
    pub fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(*b),
            serde_json::Value::Number(n) => {
                n.as_i64().map(Self::Int).unwrap_or_else(|| Self::Float(n.as_f64().unwrap_or(0.0)))
            }
            serde_json::Value::String(s) => Self::Text(s.clone()),
            other => Self::Text(other.to_string()),
        }
    }
}

/// The result of an untrusted read-only query.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows as JSON values (integers, floats, text, booleans, NULL; blobs base64).
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows existed than `max_rows`.
    pub truncated: bool,
}

/// Why an untrusted query failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// It ran out of time and was interrupted.
    #[error("the query ran longer than {0} ms and was stopped; narrow it (WHERE, LIMIT) or aggregate")]
    Timeout(u128),
    /// The database refused it (syntax, permissions, read-only).
    #[error("{0}")]
    Refused(String),
    /// Anything else.
    #[error("database error: {0}")]
    Other(#[from] sqlx::Error),
}

fn cell_text(s: String) -> serde_json::Value {
    const MAX: usize = 16 << 10;
    if s.len() <= MAX {
        return serde_json::Value::String(s);
    }
    let mut cut = MAX;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    serde_json::Value::String(format!("{}… [{} more bytes]", &s[..cut], s.len() - cut))
}

fn refused(e: sqlx::Error, timeout: Duration) -> QueryError {
    if let sqlx::Error::Database(d) = &e {
        let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
        // PostgreSQL 57014: canceling statement due to statement timeout.
        // SQLite 9: SQLITE_INTERRUPT, from our progress handler.
        if code == "57014" || code == "9" || d.message().contains("interrupted") {
            return QueryError::Timeout(timeout.as_millis());
        }
        return QueryError::Refused(d.message().to_owned());
    }
    let text = e.to_string();
    if text.contains("does not support") || text.contains("unsupported") {
        return QueryError::Refused(format!(
            "{text}. Columns of types such as timestamps, numerics or JSON must be cast to text in the query (col::text)"
        ));
    }
    QueryError::Other(e)
}

/// The PostgreSQL pool untrusted queries run on: sessions read-only by
/// default, on top of the read-only transaction each query runs in.
async fn untrusted_pool(url: &str) -> Result<AnyPool, DbError> {
    Ok(AnyPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY").await?;
                Ok(())
            })
        })
        .connect_with(url.parse::<AnyConnectOptions>()?)
        .await?)
}

impl Db {
    /// On PostgreSQL, run untrusted queries ([`Db::query_read_only`]) as
    /// another role — one that may only SELECT the tables it should see —
    /// through `url`, instead of as the service's own role. The database
    /// then refuses what a statement may not do, whatever got past the
    /// checks before it. SQLite has no roles: its guard is the engine's
    /// authorizer, so this is an error there.
    pub async fn use_query_role(&mut self, url: &str) -> Result<(), DbError> {
        if self.backend != Backend::Postgres || !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(DbError::Url(format!(
                "a query role needs PostgreSQL on both sides (service {}, query role {})",
                self.url_shown,
                redact_url(url)
            )));
        }
        self.read_only = Some(untrusted_pool(url).await?);
        self.query_role = true;
        Ok(())
    }

    /// Whether untrusted queries run as a role of their own (PostgreSQL with
    /// [`Db::use_query_role`]), for readiness reports.
    pub fn has_query_role(&self) -> bool {
        self.query_role
    }

    /// Run one untrusted query that must not change anything: on SQLite a
    /// fresh read-only connection with `query_only` and a progress handler
    /// that stops it at `timeout`; on PostgreSQL a read-only session, a
    /// `READ ONLY` transaction with `statement_timeout`, rolled back after.
    /// At most `max_rows` rows come back. The caller classifies the statement
    /// first; this is the second, independent line of defence.
    pub async fn query_read_only(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        timeout: Duration,
    ) -> Result<Rows, QueryError> {
        match self.backend {
            Backend::Sqlite => self.sqlite_read_only(sql, params, max_rows, timeout).await,
            Backend::Postgres => self.pg_read_only(sql, params, max_rows, timeout).await,
        }
    }

    async fn sqlite_read_only(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        timeout: Duration,
    ) -> Result<Rows, QueryError> {
        use futures::TryStreamExt;
        use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
        use sqlx::{Column, ConnectOptions, TypeInfo, ValueRef};
        let path = self.sqlite_path.clone().ok_or_else(|| QueryError::Refused("no database file".into()))?;
        let mut conn: SqliteConnection = SqliteConnectOptions::new()
            .filename(path)
            .read_only(true)
            .pragma("query_only", "ON")
            .pragma("temp_store", "MEMORY")
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await?;
        let deadline = std::time::Instant::now() + timeout;
        {
            let mut h = conn.lock_handle().await?;
            let raw = h.as_raw_handle().as_ptr();
            guard::install(raw);
            guard::single_statement(raw, sql).map_err(QueryError::Refused)?;
            h.set_progress_handler(1000, move || std::time::Instant::now() < deadline);
        }
        let mut q = sqlx::query::<sqlx::Sqlite>(sqlx::AssertSqlSafe(sql.to_owned()));
        for p in params {
            q = match p {
                Param::Null => q.bind(Option::<String>::None),
                Param::Bool(b) => q.bind(*b),
                Param::Int(i) => q.bind(*i),
                Param::Float(f) => q.bind(*f),
                Param::Text(t) => q.bind(t.clone()),
            };
        }
        let mut out = Rows { columns: Vec::new(), rows: Vec::new(), truncated: false };
        {
            let mut stream = q.fetch(&mut conn);
            loop {
                let row = match stream.try_next().await {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    Err(e) => return Err(refused(e, timeout)),
                };
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
                }
                if out.rows.len() == max_rows {
                    out.truncated = true;
                    break;
                }
                let mut cells = Vec::with_capacity(row.len());
                for i in 0..row.len() {
                    let raw = row.try_get_raw(i)?;
                    let v = if raw.is_null() {
                        serde_json::Value::Null
                    } else {
                        match raw.type_info().name() {
                            "INTEGER" => serde_json::Value::from(row.try_get::<i64, _>(i)?),
                            "REAL" => serde_json::Value::from(row.try_get::<f64, _>(i)?),
                            "BLOB" => {
                                use base64::Engine as _;
                                serde_json::Value::String(
                                    base64::engine::general_purpose::STANDARD.encode(row.try_get::<Vec<u8>, _>(i)?),
                                )
                            }
                            _ => cell_text(row.try_get::<String, _>(i)?),
                        }
                    };
                    cells.push(v);
                }
                out.rows.push(cells);
            }
        }
        if let Ok(mut h) = conn.lock_handle().await {
            h.remove_progress_handler();
        }
        Ok(out)
    }

    async fn pg_read_only(
        &self,
        sql: &str,
        params: &[Param],
        max_rows: usize,
        timeout: Duration,
    ) -> Result<Rows, QueryError> {
        use futures::TryStreamExt;
        use sqlx::Column;
        use sqlx::any::AnyTypeInfoKind as K;
        let pool = self.read_only.as_ref().unwrap_or(&self.read);
        let mut tx = pool.begin().await?;
        // Both must come before the first query of the transaction.
        sqlx::raw_sql("SET TRANSACTION READ ONLY").execute(&mut *tx).await?;
        let ms = timeout.as_millis().clamp(1, 3_600_000);
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("SET LOCAL statement_timeout = {ms}"))).execute(&mut *tx).await?;
        let mut q = sqlx::query::<sqlx::Any>(sqlx::AssertSqlSafe(sql.to_owned()));
        for p in params {
            q = match p {
                Param::Null => q.bind(Option::<String>::None),
                Param::Bool(b) => q.bind(*b),
                Param::Int(i) => q.bind(*i),
                Param::Float(f) => q.bind(*f),
                Param::Text(t) => q.bind(t.clone()),
            };
        }
        let mut out = Rows { columns: Vec::new(), rows: Vec::new(), truncated: false };
        {
            let mut stream = q.fetch(&mut *tx);
            loop {
                let row = match stream.try_next().await {
                    Ok(Some(r)) => r,
                    Ok(None) => break,
                    Err(e) => return Err(refused(e, timeout)),
                };
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_owned()).collect();
                }
                if out.rows.len() == max_rows {
                    out.truncated = true;
                    break;
                }
                let mut cells = Vec::with_capacity(row.len());
                for (i, col) in row.columns().iter().enumerate() {
                    let v = match col.type_info().kind() {
                        K::Null => serde_json::Value::Null,
                        K::Bool => {
                            row.try_get::<Option<bool>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::SmallInt => {
                            row.try_get::<Option<i16>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::Integer => {
                            row.try_get::<Option<i32>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::BigInt => {
                            row.try_get::<Option<i64>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::Real => {
                            row.try_get::<Option<f32>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::Double => {
                            row.try_get::<Option<f64>, _>(i)?.map_or(serde_json::Value::Null, serde_json::Value::from)
                        }
                        K::Text => row.try_get::<Option<String>, _>(i)?.map_or(serde_json::Value::Null, cell_text),
                        K::Blob => {
                            use base64::Engine as _;
                            row.try_get::<Option<Vec<u8>>, _>(i)?.map_or(serde_json::Value::Null, |b| {
                                serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
                            })
                        }
                    };
                    cells.push(v);
                }
                out.rows.push(cells);
            }
        }
        tx.rollback().await?;
        Ok(out)
    }
}

/// FNV-1a of the text: stable across builds, enough to notice an edit.
fn checksum(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Split migration text on `;` at the end of a line, ignoring `--` comments.
/// Migrations are our own text, so this need not understand every SQL quirk;
/// statements whose bodies contain `;` (triggers) end with `;;` instead.
fn split_statements(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        pos += line.len();
        let is_end = if trimmed.ends_with(";;") {
            true
        } else {
            trimmed.ends_with(';') && !text[start..pos].contains("BEGIN\n") && !text[start..pos].contains("BEGIN\r\n")
        };
        if is_end {
            let stmt = text[start..pos].trim().trim_end_matches(';').trim();
            if !stmt.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--")) {
                out.push(stmt);
            }
            start = pos;
        }
    }
    let rest = text[start..].trim();
    if !rest.is_empty() && !rest.lines().all(|l| l.trim().is_empty() || l.trim().starts_with("--")) {
        out.push(rest);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_statements_and_triggers() {
        let text = "-- a comment\nCREATE TABLE a (x TEXT);\nCREATE TRIGGER t AFTER INSERT ON a BEGIN\n  INSERT INTO b VALUES (1);\nEND;;\nCREATE INDEX i ON a (x);\n";
        let s = split_statements(text);
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[1].starts_with("CREATE TRIGGER") && s[1].ends_with("END"));
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(redact_url("postgres://u:secret@db:5432/x"), "postgres://u:***@db:5432/x");
        assert_eq!(redact_url("sqlite:/data/x.db"), "sqlite:/data/x.db");
    }

    #[tokio::test]
    async fn sqlite_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}/sub/x.db", dir.path().display());
        let m = [Migration {
            version: 1,
            name: "init",
            sqlite: "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
            postgres: "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
        }];
        let db = Db::connect(&url, "test", &m).await.unwrap();
        db.query("INSERT INTO t (id, name) VALUES ($1, $2)").bind(1i64).bind("one").execute(db.writer()).await.unwrap();
        let row = db.query("SELECT name FROM t WHERE id = $1").bind(1i64).fetch_one(db.reader()).await.unwrap();
        assert_eq!(row.get::<String, _>(0), "one");
        // Readers cannot write.
        assert!(sqlx::query("INSERT INTO t (id, name) VALUES (2, 'x')").execute(db.reader()).await.is_err());
        // Reconnecting applies nothing new; changed text is refused.
        drop(db);
        Db::connect(&url, "test", &m).await.unwrap();
        let changed = [Migration { sqlite: "CREATE TABLE t (id BIGINT);", ..m[0] }];
        assert!(matches!(Db::connect(&url, "test", &changed).await, Err(DbError::Changed { .. })));
    }

    /// The engine decides, not a lexer: whatever reaches the read-only
    /// executor (as if a classifier had been fooled), SQLite itself refuses
    /// more than one statement, attaching files, pragmas, writes and
    /// functions off the allow-list — and a canary database stays unread.
    #[tokio::test]
    async fn sqlite_read_only_is_guarded_by_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("canary.db");
        {
            let c = Db::connect(&format!("sqlite:{}", canary.display()), "canary", &[]).await.unwrap();
            sqlx::query("CREATE TABLE secret (v TEXT)").execute(c.writer()).await.unwrap();
            sqlx::query("INSERT INTO secret VALUES ('CANARY')").execute(c.writer()).await.unwrap();
        }
        let m = [Migration {
            version: 1,
            name: "init",
            sqlite: "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
            postgres: "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL);",
        }];
        let db = Db::connect(&format!("sqlite:{}/x.db", dir.path().display()), "test", &m).await.unwrap();
        db.query("INSERT INTO t (id, name) VALUES ($1, $2)").bind(1i64).bind("one").execute(db.writer()).await.unwrap();
        let run = |sql: &str| {
            let db = db.clone();
            let sql = sql.to_owned();
            async move { db.query_read_only(&sql, &[], 100, Duration::from_secs(5)).await }
        };
        for ok in [
            "SELECT name FROM t",
            "SELECT count(*), max(id), lower(name) FROM t GROUP BY name",
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) SELECT sum(x) FROM n",
            "SELECT json_object('a', name), strftime('%Y', 'now') FROM t -- a trailing comment",
            "SELECT 1; ",
            "/* leading */ SELECT name FROM t /* trailing */",
        ] {
            assert!(run(ok).await.is_ok(), "{ok}: {:?}", run(ok).await.err());
        }
        let attach = format!("ATTACH DATABASE '{}' AS c", canary.display());
        let stacked = format!("SELECT 1; ATTACH DATABASE '{}' AS c", canary.display());
        for bad in [
            attach.as_str(),
            stacked.as_str(),
            "SELECT 1; SELECT 2",
            "SELECT 1 /* */; DELETE FROM t",
            "SELECT name FROM t; -- x\n UPDATE t SET name = 'x'",
            "PRAGMA table_info(t)",
            "SELECT * FROM pragma_table_info('t')",
            "SELECT load_extension('/tmp/x.so')",
            "SELECT fts3_tokenizer('simple')",
            "SELECT zeroblob(1000000000)",
            "SELECT randomblob(100)",
            "DELETE FROM t",
            "CREATE TABLE u (x)",
            "BEGIN",
            "VACUUM INTO '/tmp/copy.db'",
            "",
            "  -- only a comment",
        ] {
            let r = run(bad).await;
            assert!(matches!(r, Err(QueryError::Refused(_))), "{bad:?} was not refused: {r:?}");
        }
        let all = run("SELECT name FROM t").await.unwrap();
        assert_eq!(all.rows.len(), 1, "nothing was changed");
        assert!(!std::path::Path::new("/tmp/copy.db").exists());
    }
}
