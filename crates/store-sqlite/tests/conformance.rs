use parley_store_sqlite::SqliteStore;

async fn fresh_store() -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("parley.db"))
        .await
        .expect("open sqlite");
    (store, dir)
}

parley_store::conformance_suite!(fresh_store);
