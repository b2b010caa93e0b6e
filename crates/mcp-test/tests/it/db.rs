//! `mcp_core::db` on both backends, PostgreSQL from the real-service fixture.

use mcp_core::db::sqlx::Row;
use mcp_core::db::{Backend, Db, Migration};
use mcp_test::services;

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "notes",
        sqlite: "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);",
        postgres: "CREATE TABLE notes (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body TEXT NOT NULL);",
    },
    Migration {
        version: 2,
        name: "tags",
        sqlite: "ALTER TABLE notes ADD COLUMN tag TEXT;\nCREATE INDEX notes_tag ON notes (tag);",
        postgres: "ALTER TABLE notes ADD COLUMN tag TEXT;\nCREATE INDEX notes_tag ON notes (tag);",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_code_serves_sqlite_and_postgres() {
    let dir = tempfile::tempdir().unwrap();
    for (label, url) in services::both_backends(dir.path(), "notes") {
        let db = Db::connect(&url, "notes", MIGRATIONS).await.unwrap();
        assert_eq!(db.backend(), if label == "sqlite" { Backend::Sqlite } else { Backend::Postgres });
        let id: i64 = db
            .query("INSERT INTO notes (body, tag) VALUES ($1, $2) RETURNING id")
            .bind("hello")
            .bind("greeting")
            .fetch_one(db.writer())
            .await
            .unwrap()
            .get(0);
        let row = db.query("SELECT body, tag FROM notes WHERE id = $1").bind(id).fetch_one(db.reader()).await.unwrap();
        assert_eq!((row.get::<String, _>(0), row.get::<String, _>(1)), ("hello".into(), "greeting".into()), "{label}");
        // A second service with its own namespace migrates independently in the same database.
        let other = [Migration {
            version: 1,
            name: "other",
            sqlite: "CREATE TABLE other (x TEXT);",
            postgres: "CREATE TABLE other (x TEXT);",
        }];
        Db::connect(&url, "other", &other).await.unwrap();
        // Reconnecting applies nothing twice.
        let again = Db::connect(&url, "notes", MIGRATIONS).await.unwrap();
        let n: i64 = again.query("SELECT COUNT(*) FROM notes").fetch_one(again.reader()).await.unwrap().get(0);
        assert_eq!(n, 1, "{label}");
        assert!(db.ping().await.is_ok());
    }
}
