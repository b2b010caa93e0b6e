//! Classifying a statement before it runs: the first line of defence of the
//! generic SQL tools (the second is the read-only connection and transaction
//! in `mcp_core::db`).
//!
//! A small lexer understands what can hide text from a naive scan: single-
//! quoted strings (with `''`), double-quoted identifiers, backquoted and
//! bracketed identifiers, `--` and nested `/* */` comments, and PostgreSQL
//! dollar quoting (`$tag$ ... $tag$`). On the tokens outside those:
//!
//! - exactly one statement (a trailing `;` is allowed): `COMMIT; DROP ...`
//!   and any stacking are refused;
//! - the statement must *start* with an allowed keyword (reads: `SELECT`,
//!   `WITH`, `VALUES`, `TABLE`, `EXPLAIN`; writes: `INSERT`, `UPDATE`,
//!   `DELETE`, also `WITH`);
//! - inside a read, the keywords through which a statement that starts as a
//!   read can still change data are refused (a data-modifying CTE hides
//!   `INSERT`/`UPDATE`/`DELETE` after `WITH`; `SELECT ... INTO` creates a
//!   table; `FOR UPDATE` takes locks). Every other statement kind (`DROP`,
//!   `SET`, `ATTACH`, `PRAGMA`, `COMMIT`...) can only start a statement, and
//!   the start is checked against the allow-list, so column names such as
//!   `start` or functions such as `replace()` stay usable;
//! - functions with side effects outside the query (`set_config`,
//!   `pg_read_file`, `lo_import`, `dblink`, `nextval`, `load_extension`...)
//!   are refused.

/// Whose lexical rules apply. They differ exactly where text can hide a
/// `;` from one reader and not the other: SQLite's block comments do not
/// nest and it quotes identifiers with backticks and brackets; PostgreSQL
/// nests comments, has dollar quoting and backslash escapes in `E''`
/// strings, and treats `[`, backticks and `$name` otherwise. Reading one
/// engine's text by the other's rules is how stacked statements slipped
/// past this classifier; now each is read by its own (and the engine itself
/// has the last word: `mcp_core::db`'s guard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The dialect of a database backend.
    pub fn of(backend: mcp_core::db::Backend) -> Self {
        match backend {
            mcp_core::db::Backend::Sqlite => Self::Sqlite,
            _ => Self::Postgres,
        }
    }
}

/// What a statement may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Reads only.
    Read,
    /// INSERT, UPDATE or DELETE.
    Write,
}

const READ_START: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN"];
const WRITE_START: &[&str] = &["INSERT", "UPDATE", "DELETE", "WITH"];

/// Keywords through which a statement that starts as a read can write.
const READ_FORBIDDEN: &[&str] = &["INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "INTO"];

/// Functions with effects outside the statement, refused everywhere.
const FUNCTIONS: &[&str] = &[
    "set_config",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "lo_import",
    "lo_export",
    "lo_get",
    "lo_put",
    "lo_from_bytea",
    "lo_create",
    "lo_unlink",
    "dblink",
    "dblink_exec",
    "dblink_connect",
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_promote",
    "pg_advisory_lock",
    "pg_advisory_xact_lock",
    "nextval",
    "setval",
    "pg_logical_emit_message",
    "query_to_xml",
    "query_to_xml_and_xmlschema",
    "load_extension",
    "readfile",
    "writefile",
    "edit",
    "fts3_tokenizer",
    "zipfile",
    "sqlar_compress",
    "sqlar_uncompress",
    "txid_current",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Semi,
    LParen,
    Other,
}

fn lex(sql: &str, dialect: Dialect) -> Result<Vec<Tok>, String> {
    let pg = dialect == Dialect::Postgres;
    let b = sql.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // PostgreSQL nests block comments; SQLite ends one at the first `*/`.
                let mut depth = 0;
                loop {
                    if i + 1 >= b.len() {
                        return Err("unterminated /* comment".into());
                    }
                    if b[i] == b'/' && b[i + 1] == b'*' && (pg || depth == 0) {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b[i + 1] == b'/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            // PostgreSQL's escape strings: a backslash escapes the next character, `\'` included.
            b'E' | b'e' if pg && b.get(i + 1) == Some(&b'\'') && !prev_is_word(b, i) => {
                i += 2;
                loop {
                    match b.get(i) {
                        None => return Err("unterminated quote".into()),
                        Some(b'\\') => i += 2,
                        Some(b'\'') if b.get(i + 1) == Some(&b'\'') => i += 2,
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                toks.push(Tok::Other);
            }
            b'\'' | b'"' => {
                let q = c;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("unterminated quote".into()),
                        Some(x) if *x == q && b.get(i + 1) == Some(&q) => i += 2,
                        Some(x) if *x == q => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                // A quoted identifier may name a function: keep its text.
                if q == b'"' {
                    toks.push(Tok::Word(sql[..i].rsplit('"').nth(1).unwrap_or("").to_ascii_lowercase()));
                } else {
                    toks.push(Tok::Other);
                }
            }
            // SQLite quotes identifiers with backticks (doubled to escape) and brackets.
            b'`' if !pg => {
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err("unterminated quote".into()),
                        Some(b'`') if b.get(i + 1) == Some(&b'`') => i += 2,
                        Some(b'`') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                toks.push(Tok::Other);
            }
            b'[' if !pg => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                if i >= b.len() {
                    return Err("unterminated [identifier]".into());
                }
                i += 1;
                toks.push(Tok::Other);
            }
            b'$' if pg => {
                // Dollar quoting: $$...$$ or $tag$...$tag$. A `$1` parameter is not one.
                let start = i;
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j < b.len() && b[j] == b'$' && !b[i + 1..j].first().is_some_and(u8::is_ascii_digit) {
                    let tag = &sql[start..=j];
                    match sql[j + 1..].find(tag) {
                        Some(end) => {
                            i = j + 1 + end + tag.len();
                            toks.push(Tok::Other);
                        }
                        None => return Err("unterminated dollar-quoted string".into()),
                    }
                } else {
                    i = j.max(i + 1);
                    toks.push(Tok::Other);
                }
            }
            b';' => {
                toks.push(Tok::Semi);
                i += 1;
            }
            b'(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80 || (pg && b[i] == b'$'))
                {
                    i += 1;
                }
                toks.push(Tok::Word(sql[start..i].to_owned()));
            }
            _ => {
                toks.push(Tok::Other);
                i += 1;
            }
        }
    }
    Ok(toks)
}

/// Whether the byte before `i` continues a word (so `E'` there is a word
/// ending in E followed by a plain string, as in `typE'x'`, not an escape
/// string).
fn prev_is_word(b: &[u8], i: usize) -> bool {
    i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_' || b[i - 1] >= 0x80)
}

/// Check that `sql` is exactly one statement of kind `kind`, read by the
/// rules of `dialect`; the reason when not.
pub fn check(sql: &str, kind: Kind, dialect: Dialect) -> Result<(), String> {
    if sql.contains('\0') {
        return Err("the statement contains a NUL byte".into());
    }
    let mut toks = lex(sql, dialect)?;
    while toks.last() == Some(&Tok::Semi) {
        toks.pop();
    }
    if toks.is_empty() {
        return Err("the statement is empty".into());
    }
    if toks.contains(&Tok::Semi) {
        return Err(
            "only one statement is allowed per call; `;` separates statements (stacked statements are refused)".into(),
        );
    }
    let first = match &toks[0] {
        Tok::Word(w) => w.to_ascii_uppercase(),
        Tok::LParen => toks
            .iter()
            .find_map(|t| if let Tok::Word(w) = t { Some(w.to_ascii_uppercase()) } else { None })
            .unwrap_or_default(),
        _ => String::new(),
    };
    let (starts, forbidden): (&[&str], &[&str]) = match kind {
        Kind::Read => (READ_START, READ_FORBIDDEN),
        Kind::Write => (WRITE_START, &["MERGE", "UPSERT"]),
    };
    if !starts.contains(&first.as_str()) {
        return Err(match kind {
            Kind::Read => {
                format!("{first} is not a read: this tool runs SELECT, WITH, VALUES, TABLE or EXPLAIN statements only")
            }
            Kind::Write => format!("{first} is not allowed: sql_execute runs INSERT, UPDATE or DELETE only"),
        });
    }
    for (i, t) in toks.iter().enumerate() {
        let Tok::Word(w) = t else { continue };
        let up = w.to_ascii_uppercase();
        if forbidden.contains(&up.as_str()) {
            return Err(match kind {
                Kind::Read => format!(
                    "{up} can change data; this tool only reads (use sql_execute for INSERT/UPDATE/DELETE when it is enabled)"
                ),
                Kind::Write => format!("{up} is not allowed in sql_execute: plain INSERT, UPDATE or DELETE only"),
            });
        }
        let name = w.rsplit('.').next().unwrap_or(w).to_ascii_lowercase();
        if toks.get(i + 1) == Some(&Tok::LParen) && FUNCTIONS.contains(&name.as_str()) {
            return Err(format!("the function {name}() acts outside the query and is not allowed"));
        }
    }
    if kind == Kind::Read
        && first == "EXPLAIN"
        && toks.iter().any(|t| matches!(t, Tok::Word(w) if w.eq_ignore_ascii_case("analyze")))
    {
        return Err("EXPLAIN ANALYZE executes the statement; use plain EXPLAIN".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checked by both dialects' rules.
    fn both(sql: &str, kind: Kind) -> Result<(), String> {
        check(sql, kind, Dialect::Sqlite).and(check(sql, kind, Dialect::Postgres))
    }

    #[test]
    fn reads_pass() {
        for ok in [
            "SELECT 1",
            "select * from decisions where actor = $1;",
            "WITH x AS (SELECT id FROM kb_entries) SELECT count(*) FROM x",
            "SELECT 'a;b', \"weird;name\" FROM t -- trailing; comment",
            "SELECT /* ; */ 1",
            "(SELECT 1) UNION (SELECT 2)",
            "VALUES (1), (2)",
            "EXPLAIN SELECT 1",
            "SELECT pg_sleep(10)",
            "SELECT CASE WHEN start > 0 THEN replace(title, 'a', 'b') ELSE 'x' END AS set_name FROM spans",
        ] {
            assert!(both(ok, Kind::Read).is_ok(), "{ok}: {:?}", both(ok, Kind::Read));
        }
        // Each engine's own quoting.
        assert!(check("SELECT $$ DROP TABLE x; $$", Kind::Read, Dialect::Postgres).is_ok());
        assert!(check("SELECT E'it\\'s; fine'", Kind::Read, Dialect::Postgres).is_ok());
        assert!(check("SELECT [a;b], `c;d` FROM t", Kind::Read, Dialect::Sqlite).is_ok());
        assert!(check("SELECT /* /* ; */ */ 1", Kind::Read, Dialect::Postgres).is_ok());
    }

    /// Text one engine reads as two statements, read by the other engine's
    /// rules as one: each is refused by its own dialect.
    #[test]
    fn each_engine_is_read_by_its_own_rules() {
        for (sql, dialect) in [
            // SQLite's comments do not nest: the first */ ends it.
            ("SELECT 1 /* /* */ ; DELETE FROM t; /* */", Dialect::Sqlite),
            // SQLite has no dollar quoting: $a is a parameter, and the ; is real.
            ("SELECT $a$; ATTACH DATABASE 'x' AS y; $a$", Dialect::Sqlite),
            // PostgreSQL has no [identifiers] or backtick quoting.
            ("SELECT a[1]; DELETE FROM t; SELECT ']'", Dialect::Postgres),
            ("SELECT `x; DELETE FROM t; `", Dialect::Postgres),
            // In an E'' string a backslash escapes the quote, so the string ends later than a plain one would.
            // (a plain reading sees `''` and keeps going; PostgreSQL ends the string and runs the DELETE).
            ("SELECT E'\\'';DELETE FROM t;--'", Dialect::Postgres),
        ] {
            assert!(check(sql, Kind::Read, dialect).is_err(), "{dialect:?}: {sql:?} passed");
        }
    }

    #[test]
    fn the_read_only_escape_corpus_is_refused() {
        for bad in [
            "COMMIT; DROP TABLE decisions",
            "SELECT 1; DROP TABLE decisions",
            "SELECT 1; -- \nDELETE FROM decisions",
            "SELECT 1 ; ; DELETE FROM x",
            "WITH d AS (DELETE FROM decisions RETURNING *) SELECT * FROM d",
            "WITH d AS (INSERT INTO decisions (actor) VALUES ('x') RETURNING id) SELECT 1",
            "SET TRANSACTION READ WRITE",
            "SELECT set_config('transaction_read_only', 'off', false)",
            "SELECT \"set_config\"('default_transaction_read_only', 'off', false)",
            "SELECT pg_catalog.set_config('x', 'y', false)",
            "ATTACH DATABASE '/tmp/x.db' AS x",
            "SELECT * INTO stolen FROM decisions",
            "DROP TABLE decisions",
            "EXPLAIN ANALYZE DELETE FROM decisions",
            "SELECT nextval('s')",
            "SELECT load_extension('/tmp/evil')",
            "SELECT pg_read_file('/etc/passwd')",
            "PRAGMA writable_schema = 1",
            "VACUUM",
            "BEGIN",
            "SELECT 'unterminated",
            "SELECT 1 /* unterminated",
            "",
            "   ;  ",
            "SELECT 1\0",
            "DO $$ BEGIN DELETE FROM decisions; END $$",
            "COPY decisions TO '/tmp/x'",
            "LOCK TABLE decisions",
            "SELECT * FROM decisions FOR UPDATE",
        ] {
            assert!(check(bad, Kind::Read, Dialect::Sqlite).is_err(), "sqlite: {bad:?} passed");
            assert!(check(bad, Kind::Read, Dialect::Postgres).is_err(), "postgres: {bad:?} passed");
        }
    }

    #[test]
    fn writes() {
        assert!(both("INSERT INTO kb_entries (title) VALUES ($1)", Kind::Write).is_ok());
        assert!(both("UPDATE decisions SET rationale = $1 WHERE id = $2", Kind::Write).is_ok());
        assert!(both("DELETE FROM messages WHERE id = $1 RETURNING id", Kind::Write).is_ok());
        for bad in [
            "DROP TABLE x",
            "INSERT INTO x VALUES (1); DROP TABLE x",
            "CREATE TABLE y (a int)",
            "ALTER TABLE x ADD c int",
            "SELECT 1",
        ] {
            assert!(check(bad, Kind::Write, Dialect::Sqlite).is_err(), "{bad}");
            assert!(check(bad, Kind::Write, Dialect::Postgres).is_err(), "{bad}");
        }
    }
}
