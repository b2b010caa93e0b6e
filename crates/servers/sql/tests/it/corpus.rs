//! The read-only escape corpus, on both backends: each statement refused or
//! bounded with a clear message, and the data intact afterwards. Then the
//! second line of defence alone: statements that slip past classification
//! still cannot write through the read-only connection and transaction.

use std::time::{Duration, Instant};

use mcp_core::db::{Db, Param, QueryError};
use serde_json::json;

use crate::{err, fixtures, ok};

async fn counts(f: &crate::Fixture) -> (i64, usize) {
    let q = ok(&f.call("sql_query", json!({"sql": "SELECT count(*) FROM decisions"})).await).clone();
    let t = ok(&f.call("sql_tables", json!({})).await).clone();
    (q["rows"][0][0].as_i64().unwrap(), t["tables"].as_array().unwrap().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_escape_corpus_is_refused_and_data_is_intact() {
    for f in fixtures(|_| {}).await {
        let l = f.label;
        for i in 0..3 {
            ok(&f.call("decision_record", json!({"project": "p", "actor": "a", "decision": format!("d{i}")})).await);
        }
        let before = counts(&f).await;
        for (sql, why) in [
            ("COMMIT; DROP TABLE decisions", "one statement"),
            ("SELECT 1; DROP TABLE decisions", "one statement"),
            ("SELECT 1; -- \nDELETE FROM decisions", "one statement"),
            ("SELECT 1 /* ; */ ; DELETE FROM decisions", "one statement"),
            ("WITH d AS (DELETE FROM decisions RETURNING *) SELECT * FROM d", "can change data"),
            (
                "WITH i AS (INSERT INTO decisions (actor, decision, created_at, created_ms) VALUES ('x','y','z',0) RETURNING id) SELECT * FROM i",
                "can change data",
            ),
            ("SET TRANSACTION READ WRITE", "not a read"),
            ("SELECT set_config('default_transaction_read_only', 'off', false)", "acts outside the query"),
            ("ATTACH DATABASE '/tmp/other.db' AS o", "not a read"),
            ("SELECT * INTO stolen FROM decisions", "can change data"),
            ("DROP TABLE decisions", "not a read"),
            ("DELETE FROM decisions", "not a read"),
            ("PRAGMA writable_schema = 1", "not a read"),
            ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE"),
            ("SELECT load_extension('/tmp/evil')", "acts outside the query"),
            ("SELECT pg_read_file('/etc/passwd')", "acts outside the query"),
        ] {
            let e = err(&f.call("sql_query", json!({"sql": sql})).await);
            assert!(e.contains("refused by policy") && e.contains(why), "{l}: {sql:?}: {e}");
        }
        // Past the statement timeout: stopped, with a clear message.
        let slow = if l == "postgres" {
            "SELECT pg_sleep(30)"
        } else {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
        };
        let t = Instant::now();
        let e = err(&f.call("sql_query", json!({"sql": slow})).await);
        assert!(e.contains("timed out") && e.contains("longer than"), "{l}: {e}");
        assert!(t.elapsed() < Duration::from_secs(10), "{l}: the timeout did not hold: {:?}", t.elapsed());
        // Huge result sets are capped.
        let big = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000) SELECT x FROM c";
        let r = f.call("sql_query", json!({"sql": big, "max_rows": 100})).await;
        let v = ok(&r);
        assert_eq!((v["row_count"].as_u64(), v["truncated"].as_bool()), (Some(100), Some(true)), "{l}");
        assert!(r.text.len() < 100_000);
        // Bound parameters stay values.
        let r = f
            .call(
                "sql_query",
                json!({"sql": "SELECT count(*) FROM decisions WHERE actor = $1", "params": ["a' OR '1'='1"]}),
            )
            .await;
        assert_eq!(ok(&r)["rows"][0][0], 0, "{l}");
        assert_eq!(counts(&f).await, before, "{l}: data changed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_only_connection_holds_even_without_the_classifier() {
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in mcp_test::services::both_backends(dir.path(), "direct") {
        let db = Db::connect(&url, "sql", mcp_server_sql::schema::MIGRATIONS).await.unwrap();
        db.query("INSERT INTO decisions (actor, decision, created_at, created_ms) VALUES ('a', 'b', 'c', 0)")
            .execute(db.writer())
            .await
            .unwrap();
        for sql in [
            "DELETE FROM decisions",
            "DROP TABLE decisions",
            "INSERT INTO decisions (actor, decision, created_at, created_ms) VALUES ('x', 'y', 'z', 0)",
            "CREATE TABLE evil (x TEXT)",
        ] {
            let r = db.query_read_only(sql, &[], 10, Duration::from_secs(2)).await;
            assert!(matches!(r, Err(QueryError::Refused(_))), "{label}: {sql} was not refused: {r:?}");
        }
        let n = db
            .query_read_only("SELECT count(*) FROM decisions", &[Param::Null; 0], 10, Duration::from_secs(2))
            .await
            .unwrap();
        assert_eq!(n.rows[0][0], json!(1), "{label}");
    }
}
