//! Several Parley nodes as separate processes on one throwaway PostgreSQL cluster: the
//! schema is migrated by `parley migrate`, not by whichever node starts first.

use std::process::{Command, Stdio};

use parley_testkit::pg::PgCluster;

use crate::process::{Server, free_port, ready};

/// `parley ARGS` on the cluster's database, waiting for it to exit.
fn parley(url: &str, data: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .output()
        .expect("parley binary")
}

/// `parley serve` with `args` and `PARLEY_…` settings `env`, ready to answer.
pub(crate) async fn node(
    url: &str,
    data: &std::path::Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(data)
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("parley binary");
    ready(Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    })
    .await
}

#[tokio::test]
async fn a_node_refuses_an_unmigrated_database_until_parley_migrate_has_run() {
    let cluster = PgCluster::start().expect("start postgres");
    let url = cluster.fresh_database().unwrap();
    let data = tempfile::tempdir().unwrap();

    let refused = parley(&url, data.path(), &["serve", "--listen", "127.0.0.1:0"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success(),
        "serve started on an empty schema"
    );
    assert!(said.contains("run `parley migrate` first"), "{said}");

    let migrated = parley(&url, data.path(), &["migrate"]);
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("postgres"));
    let again = parley(&url, data.path(), &["migrate"]);
    assert!(again.status.success(), "migrating twice is harmless");

    let server = node(&url, data.path(), &[], &[]).await;
    let health: serde_json::Value = reqwest::get(format!("{}/readyz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "postgres", "{health}");
}
