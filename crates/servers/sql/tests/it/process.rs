//! The real binary: it confines itself (Landlock: the SQLite database's
//! directory and the system directories) before starting any thread, and
//! every kind of work still runs — writes, reads, and a sort big enough for
//! SQLite to want temporary storage (kept in memory: `/tmp` is out of reach).

use mcp_test::process::Binary;
use mcp_test::raw::Reply;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_mcp-server-sql");

#[tokio::test]
async fn the_confined_binary_keeps_its_database_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = Binary::start(BIN, &[("SQL_DATABASE_URL", format!("sqlite:{}/fleet.db", data.display()))]).await;
    let sandbox = bin.sandbox_check().await;
    assert!(sandbox["detail"].as_str().unwrap().contains(data.to_str().unwrap()), "{sandbox}");
    let raw = &bin.raw;
    let ok = |r: Reply| {
        mcp_test::raw::ok(&r);
        r
    };
    ok(raw.call("kb_put", json!({"title": "confined", "body": "still works"})).await);
    let found = ok(raw.call("kb_search", json!({"query": "confined"})).await);
    assert!(found.text.contains("still works"), "{}", found.text);
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) \
               SELECT x FROM c ORDER BY printf('%0200d', x) DESC";
    let sorted = ok(raw.call("sql_query", json!({"sql": sql})).await);
    assert!(sorted.text.contains("300000"), "{}", sorted.text);
    assert!(data.join("fleet.db").exists());
}
