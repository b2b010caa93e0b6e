//! The classifier against each engine's own parser, on generated text: the
//! fragments that can hide a `;` from one reader (comments, nested or not,
//! strings with `''` or backslash escapes, quoted identifiers of every kind,
//! dollar quotes) between a read and a second statement. Whenever the
//! classifier lets a statement through, the engine must read it as one
//! allowed statement too — never as two, never as something its guard
//! refuses. Where the classifier is stricter than the engine, the count is
//! printed (that is the friendly first line erring on the safe side).

use std::time::Duration;

use mcp_core::db::{Db, QueryError};
use mcp_server_sql::classify::{Dialect, Kind, check};

const PREFIXES: &[&str] = &["SELECT 1", "SELECT title FROM kb_entries", "WITH x AS (SELECT 1 AS a) SELECT a FROM x"];
const HIDERS: &[&str] = &[
    "",
    " /* ; */ ",
    " /* /* */ ; ",
    " /* /* ; */ */ ",
    " -- ;\n",
    " , ';' ",
    " , '';' ",
    " , \";\" ",
    " , [;] ",
    " , `;` ",
    " , $$;$$ ",
    " , $a$;$a$ ",
    " , E'\\'';' ",
    " , E'\\\\' ",
    " , x'00' ",
    " /* */ ",
];
const SEPARATORS: &[&str] = &["", ";", " ; ", ";;"];
const TAILS: &[&str] = &[
    "",
    " SELECT 2",
    " DELETE FROM kb_entries",
    " ATTACH DATABASE ':memory:' AS y",
    " PRAGMA user_version",
    " --",
    " */",
];

/// Constructs that open and close a region some reader treats as opaque
/// (a comment, a string, a quoted identifier, a dollar quote), split in two
/// so a second statement can be put between the halves.
const PAIRS: &[(&str, &str)] = &[
    ("/*", "*/"),
    ("/* /*", "*/"),
    ("/* /*", "*/ */"),
    ("'", "'"),
    ("E'\\'", "'"),
    ("'\\'", "'"),
    ("$$", "$$"),
    ("$a$", "$a$"),
    ("[", "]"),
    ("`", "`"),
    ("\"", "\""),
    ("--", "\n"),
];

/// Every combination, in a fixed order: whole hiders around a separator,
/// and split pairs with a second statement between their halves.
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for p in PREFIXES {
        for h in HIDERS {
            for s in SEPARATORS {
                for t in TAILS {
                    for h2 in [*h, ""] {
                        out.push(format!("{p}{h}{s}{t}{h2}"));
                    }
                }
            }
        }
        for (open, close) in PAIRS {
            for lead in [" ", " , "] {
                for s in SEPARATORS {
                    for t in TAILS {
                        for s2 in ["", ";", "; "] {
                            out.push(format!("{p}{lead}{open}{s}{t}{s2}{close}"));
                        }
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What the engine says: `None` when it runs the text as one allowed read,
/// else its complaint.
async fn engine(db: &Db, sql: &str) -> Option<String> {
    match db.query_read_only(sql, &[], 5, Duration::from_secs(5)).await {
        Ok(_) => None,
        Err(QueryError::Refused(m)) => Some(m),
        Err(e) => Some(e.to_string()),
    }
}

/// A complaint that means the engine read more than one statement, or
/// refused an action: text the classifier must never have let through.
fn stacked_or_denied(m: &str) -> bool {
    let m = m.to_ascii_lowercase();
    m.contains("more than one")
        || m.contains("multiple commands")
        || m.contains("refused by the database")
        || m.contains("permission denied")
        || m.contains("read-only")
}

async fn differential(db: &Db, dialect: Dialect) {
    let mut stricter = 0;
    let mut disagreements = Vec::new();
    let all = corpus();
    for sql in &all {
        let classifier = check(sql, Kind::Read, dialect);
        let engine = engine(db, sql).await;
        match (&classifier, &engine) {
            (Ok(()), Some(m)) if stacked_or_denied(m) => disagreements.push(format!("{sql:?}: {m}")),
            (Err(_), None) => stricter += 1,
            _ => {}
        }
    }
    eprintln!(
        "{dialect:?}: {} generated statements; the classifier refused {stricter} that the engine would have run",
        all.len()
    );
    assert!(
        disagreements.is_empty(),
        "{dialect:?}: the classifier let through what the engine reads as stacked or forbidden:\n{}",
        disagreements.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_classifier_agrees_with_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&mcp_test::services::sqlite_url(dir.path(), "d"), "sql", mcp_server_sql::schema::MIGRATIONS)
        .await
        .unwrap();
    differential(&db, Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_classifier_agrees_with_postgres() {
    let db = Db::connect(&mcp_test::services::postgres_url(), "sql", mcp_server_sql::schema::MIGRATIONS).await.unwrap();
    differential(&db, Dialect::Postgres).await;
}
