//! The two dialects' migrations are written twice; this test keeps them describing one
//! schema. Both are migrated from scratch and compared: the same tables, the same columns
//! with the same type family and nullability, the same indexes (columns, uniqueness,
//! whether partial). Type families, not names: SQLite's `INTEGER` is PostgreSQL's
//! `bigint`, `integer` or `boolean`, its `TEXT` is `text`, and so on.

use std::collections::{BTreeMap, BTreeSet};

use parley_store_postgres::PostgresStore;
use parley_store_sqlite::SqliteStore;
use parley_testkit::pg::PgCluster;
use sqlx::Row;

/// A column as both dialects can describe it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Column {
    family: &'static str,
    nullable: bool,
}

/// An index by what it does, not by name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Index {
    columns: Vec<String>,
    unique: bool,
    partial: bool,
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Schema {
    tables: BTreeMap<String, BTreeMap<String, Column>>,
    indexes: BTreeMap<String, BTreeSet<Index>>,
}

/// The family of a declared type. SQLite keeps booleans and times as integers, so
/// PostgreSQL's `boolean` and integers of every width are one family.
fn family(declared: &str) -> &'static str {
    let t = declared.to_ascii_lowercase();
    if t.contains("int") || t == "boolean" || t == "bool" {
        "integer"
    } else if t.contains("char") || t.contains("text") || t.contains("clob") || t == "uuid" {
        "text"
    } else if t.contains("real") || t.contains("floa") || t.contains("doub") || t == "numeric" {
        "real"
    } else if t.contains("blob") || t == "bytea" {
        "blob"
    } else if t.contains("json") {
        "json"
    } else {
        "other"
    }
}

/// Tables that belong to a migration tool, not to Parley.
fn ours(table: &str) -> bool {
    !table.starts_with("_sqlx") && !table.starts_with("sqlite_")
}

async fn sqlite_schema(path: &std::path::Path) -> Schema {
    let store = SqliteStore::open(path).await.expect("migrated sqlite");
    store.close().await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let mut schema = Schema::default();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(&pool)
            .await
            .unwrap();
    for table in tables.into_iter().filter(|t| ours(t)) {
        let columns = sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
            .fetch_all(&pool)
            .await
            .unwrap();
        let mut described = BTreeMap::new();
        let mut rowid_key = Vec::new();
        for c in columns {
            let name: String = c.get("name");
            let declared: String = c.get("type");
            let not_null: i64 = c.get("notnull");
            let primary: i64 = c.get("pk");
            if primary > 0 {
                rowid_key.push((name.clone(), declared.to_ascii_uppercase()));
            }
            described.insert(
                name,
                Column {
                    family: family(&declared),
                    nullable: not_null == 0 && primary == 0,
                },
            );
        }
        let mut indexes = BTreeSet::new();
        // An `INTEGER PRIMARY KEY` is SQLite's rowid, with no index of its own; it is the
        // unique index PostgreSQL's primary key has.
        if let [(key, declared)] = rowid_key.as_slice()
            && declared == "INTEGER"
        {
            indexes.insert(Index {
                columns: vec![key.clone()],
                unique: true,
                partial: false,
            });
        }
        for i in sqlx::query(&format!("PRAGMA index_list(\"{table}\")"))
            .fetch_all(&pool)
            .await
            .unwrap()
        {
            let name: String = i.get("name");
            let unique: i64 = i.get("unique");
            let partial: i64 = i.get("partial");
            let columns: Vec<String> = sqlx::query(&format!("PRAGMA index_info(\"{name}\")"))
                .fetch_all(&pool)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.get::<Option<String>, _>("name").unwrap_or_default())
                .collect();
            indexes.insert(Index {
                columns,
                unique: unique != 0,
                partial: partial != 0,
            });
        }
        schema.tables.insert(table.clone(), described);
        schema.indexes.insert(table, indexes);
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let store = PostgresStore::connect(url, 2).await.expect("postgres");
    store.migrate().await.expect("migrated postgres");
    store.close().await;
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut schema = Schema::default();
    for c in sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS d, \
         is_nullable::text AS n FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let table: String = c.get("t");
        if !ours(&table) {
            continue;
        }
        let declared: String = c.get("d");
        let nullable: String = c.get("n");
        schema.tables.entry(table).or_default().insert(
            c.get("c"),
            Column {
                family: family(&declared),
                nullable: nullable == "YES",
            },
        );
    }
    for i in sqlx::query(
        "SELECT t.relname::text AS t, ix.indisunique AS u, ix.indpred IS NOT NULL AS p, \
         ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(n, o) \
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) AS c \
         FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace s ON s.oid = t.relnamespace WHERE s.nspname = 'public'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    {
        let table: String = i.get("t");
        if !ours(&table) {
            continue;
        }
        schema.indexes.entry(table).or_default().insert(Index {
            columns: i.get("c"),
            unique: i.get("u"),
            partial: i.get("p"),
        });
    }
    for table in schema.tables.keys() {
        schema.indexes.entry(table.clone()).or_default();
    }
    schema
}

/// What differs between the two schemas, one line each; empty when they agree.
fn differences(sqlite: &Schema, postgres: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    let names: BTreeSet<&String> = sqlite.tables.keys().chain(postgres.tables.keys()).collect();
    for table in names {
        match (sqlite.tables.get(table), postgres.tables.get(table)) {
            (Some(_), None) => found.push(format!("table {table}: only in SQLite")),
            (None, Some(_)) => found.push(format!("table {table}: only in PostgreSQL")),
            (Some(a), Some(b)) => {
                let columns: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for column in columns {
                    if a.get(column) != b.get(column) {
                        found.push(format!(
                            "{table}.{column}: SQLite {:?}, PostgreSQL {:?}",
                            a.get(column),
                            b.get(column)
                        ));
                    }
                }
                let (ia, ib) = (&sqlite.indexes[table], &postgres.indexes[table]);
                for index in ia.difference(ib) {
                    found.push(format!("{table}: index {index:?} only in SQLite"));
                }
                for index in ib.difference(ia) {
                    found.push(format!("{table}: index {index:?} only in PostgreSQL"));
                }
            }
            (None, None) => {}
        }
    }
    found
}

#[tokio::test]
async fn both_dialects_migrate_to_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sqlite_schema(&dir.path().join("parley.db")).await;
    let cluster = PgCluster::start().expect("postgres");
    let postgres = postgres_schema(&cluster.fresh_database().unwrap()).await;
    assert!(sqlite.tables.len() > 20, "{:?}", sqlite.tables.keys());
    let found = differences(&sqlite, &postgres);
    assert!(
        found.is_empty(),
        "the migrations have drifted apart:\n  {}",
        found.join("\n  ")
    );
}

/// The comparison catches a drift: a column typed differently, one missing, an index
/// that is unique on one side only.
#[test]
fn a_drift_is_reported() {
    let column = |family| Column {
        family,
        nullable: true,
    };
    let mut a = Schema::default();
    a.tables.insert(
        "messages".into(),
        BTreeMap::from([
            ("umid".into(), column("text")),
            ("at".into(), column("integer")),
        ]),
    );
    a.indexes.insert(
        "messages".into(),
        BTreeSet::from([Index {
            columns: vec!["umid".into()],
            unique: true,
            partial: false,
        }]),
    );
    let mut b = Schema::default();
    b.tables.insert(
        "messages".into(),
        BTreeMap::from([("umid".into(), column("integer"))]),
    );
    b.indexes.insert(
        "messages".into(),
        BTreeSet::from([Index {
            columns: vec!["umid".into()],
            unique: false,
            partial: false,
        }]),
    );
    let found = differences(&a, &b);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(found[0].starts_with("messages.at"), "{found:#?}");
    assert_eq!(differences(&a, &a), Vec::<String>::new());
}
