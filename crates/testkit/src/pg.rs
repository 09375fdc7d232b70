//! A throwaway PostgreSQL cluster: `initdb` into a temporary directory, `pg_ctl start` on a
//! free loopback port, and on drop `pg_ctl stop -m immediate` and the directory removed.
//!
//! The calls block (they run the server's command-line tools), which is fine at the start
//! of a `#[tokio::test]` before anything else runs on its runtime.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tempfile::TempDir;
use tracing::{debug, warn};

/// The database superuser `initdb` creates; every URL connects as this role.
pub const SUPERUSER: &str = "postgres";

/// The system account that runs the server when the tests run as root, because `initdb`
/// and `postgres` refuse to run as root.
const SERVICE_ACCOUNT: &str = "postgres";

/// Overrides where the server binaries are looked up (a directory holding `initdb`).
pub const BINDIR_ENV: &str = "PARLEY_PG_BINDIR";

/// Another process may take the port between our probe and the server's bind; a new port
/// is then tried, this many times in all.
const START_ATTEMPTS: usize = 3;

/// Seconds `pg_ctl` waits for the server to start.
const START_TIMEOUT_SECS: &str = "60";

const INSTALL_HINT: &str = "the PostgreSQL server binaries (initdb, pg_ctl, postgres, createdb) \
     are needed to run tests against PostgreSQL; on Debian install them with \
     `apt-get install postgresql`, or point PARLEY_PG_BINDIR at the directory holding initdb";

/// A private PostgreSQL server for one test (or one test process), reachable on
/// `127.0.0.1` with trust authentication as [`SUPERUSER`].
#[derive(Debug)]
pub struct PgCluster {
    bindir: PathBuf,
    /// `Some` until dropped; holds the data directory, the log and the unix socket.
    dir: Option<TempDir>,
    data: PathBuf,
    port: u16,
    /// The account the server tools run as, when it is not the current user.
    run_as: Option<&'static str>,
    databases: AtomicU32,
}

impl PgCluster {
    /// Creates and starts a new cluster. Takes about a second, most of it `initdb`.
    pub fn start() -> Result<Self> {
        Self::start_with(&[])
    }

    /// [`Self::start`] with more `postgresql.conf` lines (`name = value`), for settings
    /// that only take effect at server start, such as `shared_preload_libraries`.
    pub fn start_with(settings: &[&str]) -> Result<Self> {
        let started = Instant::now();
        let bindir = server_bindir()?;
        let run_as = (effective_uid()? == 0).then_some(SERVICE_ACCOUNT);
        let dir = cluster_dir(run_as)?;
        let data = dir.path().join("data");
        let mut cluster = Self {
            bindir,
            dir: Some(dir),
            data,
            port: 0,
            run_as,
            databases: AtomicU32::new(0),
        };
        // From here on a failure drops `cluster`, which stops whatever got started and
        // removes the directory.
        cluster.init(settings)?;
        cluster.launch()?;
        debug!(
            port = cluster.port,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "postgres cluster started"
        );
        Ok(cluster)
    }

    /// The server's base URL, without a database (the server then picks `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database and returns its URL. `name` is a plain lowercase SQL
    /// identifier (`[a-z_][a-z0-9_]*`), so it needs no quoting in SQL or in the URL.
    pub fn create_database(&self, name: &str) -> Result<String> {
        if !is_plain_identifier(name) {
            bail!("database name {name:?} is not a plain lowercase identifier");
        }
        let mut createdb = self.client_command("createdb");
        createdb
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--username", SUPERUSER, name]);
        run(createdb, "createdb")?;
        Ok(format!("{}/{name}", self.url()))
    }

    /// Creates an empty database with a name unique within this cluster.
    pub fn fresh_database(&self) -> Result<String> {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("parley_test_{n}"))
    }

    /// One of the cluster's client tools (`psql`, `pg_isready`, …), with no `PG*`
    /// variables inherited, to be pointed at [`Self::url`] or a database URL.
    pub fn client_command(&self, tool: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(tool));
        clear_pg_env(&mut cmd);
        cmd
    }

    /// The directory that holds the cluster; gone once the cluster is dropped.
    pub fn dir(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or_else(|| Path::new(""), |d| d.path())
    }

    fn init(&self, extra: &[&str]) -> Result<()> {
        let mut initdb = self.server_command("initdb");
        initdb
            .arg("--pgdata")
            .arg(&self.data)
            .args(["--auth", "trust", "--username", SUPERUSER])
            .args(["--no-sync", "--encoding", "UTF8", "--locale", "C"]);
        run(initdb, "initdb")?;
        let mut settings = String::new();
        let socket_dir = self.dir().to_str().context("temporary path is not UTF-8")?;
        // Only loopback TCP and a socket inside the cluster's own directory, so clusters of
        // parallel tests never meet; durability is pointless for a database that is
        // deleted after the test.
        for line in [
            "listen_addresses = '127.0.0.1'".to_owned(),
            format!(
                "unix_socket_directories = '{}'",
                socket_dir.replace('\'', "''")
            ),
            "max_connections = 100".to_owned(),
            "shared_buffers = '16MB'".to_owned(),
            "fsync = off".to_owned(),
            "synchronous_commit = off".to_owned(),
            "full_page_writes = off".to_owned(),
        ]
        .iter()
        .map(String::as_str)
        .chain(extra.iter().copied())
        {
            writeln!(settings, "{line}")?;
        }
        OpenOptions::new()
            .append(true)
            .open(self.data.join("postgresql.conf"))
            .and_then(|mut f| f.write_all(settings.as_bytes()))
            .context("writing postgresql.conf")
    }

    fn launch(&mut self) -> Result<()> {
        let log = self.dir().join("postgres.log");
        for attempt in 1..=START_ATTEMPTS {
            self.port = free_port()?;
            let mut pg_ctl = self.server_command("pg_ctl");
            pg_ctl
                .arg("start")
                .arg("--pgdata")
                .arg(&self.data)
                .arg("--log")
                .arg(&log)
                .args(["--wait", "--timeout", START_TIMEOUT_SECS, "--silent"])
                .args(["-o", &format!("-p {}", self.port)]);
            let Err(e) = run(pg_ctl, "pg_ctl start") else {
                return Ok(());
            };
            let server_log = fs::read_to_string(&log).unwrap_or_default();
            let port_taken = server_log.contains("could not bind")
                || server_log.contains("Address already in use");
            if port_taken && attempt < START_ATTEMPTS {
                debug!(
                    port = self.port,
                    attempt, "postgres port taken, trying another"
                );
                continue;
            }
            return Err(e.context(format!(
                "postgres did not start; its log says:\n{}",
                tail(&server_log, 30)
            )));
        }
        unreachable!("the last attempt returns")
    }

    fn stop(&self) -> Result<()> {
        let mut pg_ctl = self.server_command("pg_ctl");
        pg_ctl
            .arg("stop")
            .arg("--pgdata")
            .arg(&self.data)
            // Immediate: the server does not wait for clients (a test's pool may still
            // hold connections) or write a checkpoint nobody will read.
            .args(["--mode", "immediate", "--wait", "--silent"]);
        run(pg_ctl, "pg_ctl stop").map(drop)
    }

    /// A server tool, run as the service account when we are root. It runs inside the
    /// cluster directory because the service account may not be allowed into ours.
    fn server_command(&self, tool: &str) -> Command {
        let program = self.bindir.join(tool);
        let mut cmd = match self.run_as {
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(program);
                cmd
            }
            None => Command::new(program),
        };
        cmd.current_dir(self.dir());
        clear_pg_env(&mut cmd);
        cmd
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // The pid file exists from the server's start until it has stopped; without it
        // there is nothing to stop (start failed before or during `pg_ctl start`).
        if self.data.join("postmaster.pid").exists()
            && let Err(e) = self.stop()
        {
            warn!(error = %format!("{e:#}"), "stopping the test postgres failed");
        }
        if let Some(dir) = self.dir.take() {
            let path = dir.path().to_owned();
            if let Err(e) = dir.close() {
                warn!(path = %path.display(), error = %e, "removing the test postgres failed");
            }
        }
    }
}

/// The directory holding `initdb`: `$PARLEY_PG_BINDIR`, else `pg_config --bindir`, else the
/// newest `/usr/lib/postgresql/*/bin` (Debian installs servers there, off `PATH`).
fn server_bindir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(BINDIR_ENV) {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
        bail!(
            "{BINDIR_ENV}={} holds no initdb; {INSTALL_HINT}",
            dir.display()
        );
    }
    // On Debian `pg_config` comes with libpq-dev and may name a bindir whose server
    // package is not installed, so the answer only counts if initdb is there.
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").is_file() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(str::parse)
                .collect::<Result<Vec<u32>, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).with_context(|| {
        format!("no initdb found (pg_config, /usr/lib/postgresql); {INSTALL_HINT}")
    })
}

/// The effective uid, from `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid() -> Result<u32> {
    let status = fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|uid| uid.parse().ok())
        .context("no Uid line in /proc/self/status")
}

/// A fresh directory for the cluster. When the server runs as another account, it lives
/// directly under `/tmp` (whatever `TMPDIR` says: the account must be able to reach it)
/// and belongs to that account.
fn cluster_dir(run_as: Option<&str>) -> Result<TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("parley-pg-");
    let Some(user) = run_as else {
        return builder.tempdir().context("creating a temporary directory");
    };
    let dir = builder
        .tempdir_in("/tmp")
        .context("creating a directory under /tmp")?;
    let uid = id_of(user, "-u")?;
    let gid = id_of(user, "-g")?;
    std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
        .with_context(|| format!("giving {} to {user}", dir.path().display()))?;
    Ok(dir)
}

fn id_of(user: &str, which: &str) -> Result<u32> {
    let mut id = Command::new("id");
    id.args([which, user]);
    let out = run(id, "id").with_context(|| {
        format!(
            "tests run as root, so postgres must run as the system user {user:?}; {INSTALL_HINT}"
        )
    })?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .with_context(|| format!("`id {which} {user}` printed no number"))
}

/// A port nothing listens on right now (the kernel's pick for an ephemeral bind).
fn free_port() -> Result<u16> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0 for a port")?;
    Ok(listener.local_addr()?.port())
}

/// Lowercase letters, digits and `_`, not starting with a digit, at most 63 bytes.
fn is_plain_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() < 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Our environment may point libpq tools at another server (`PGHOST`, `PGPORT`,
/// `PGDATA`, …); every tool is told explicitly where to go instead.
fn clear_pg_env(cmd: &mut Command) {
    let inherited: Vec<OsString> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.as_encoded_bytes().starts_with(b"PG"))
        .collect();
    for key in inherited {
        cmd.env_remove(key);
    }
}

/// Runs a command to completion; a failure carries its output.
fn run(mut cmd: Command, what: &str) -> Result<Output> {
    let out = cmd.output().with_context(|| {
        format!(
            "running {what} ({}); {INSTALL_HINT}",
            cmd.get_program().to_string_lossy()
        )
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(out)
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_serves_fresh_databases_and_leaves_nothing_behind() {
        let cluster = PgCluster::start().unwrap();
        let url = cluster.fresh_database().unwrap();
        assert!(url.ends_with("/parley_test_0"), "{url}");

        let mut psql = cluster.client_command("psql");
        psql.args(["--no-psqlrc", "--tuples-only", "--no-align"])
            .args(["--command", "SELECT current_database()"])
            .arg(&url);
        let out = run(psql, "psql").unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "parley_test_0");
        assert!(
            cluster
                .fresh_database()
                .unwrap()
                .ends_with("/parley_test_1")
        );

        let dir = cluster.dir().to_owned();
        let pid_file = fs::read_to_string(dir.join("data/postmaster.pid")).unwrap();
        let postmaster = pid_file.lines().next().unwrap().to_owned();
        assert!(running(&postmaster));
        drop(cluster);
        assert!(!dir.exists(), "{} is left behind", dir.display());
        assert!(!running(&postmaster), "the server still runs");
    }

    /// Whether the process exists and is not a zombie (in a container nobody may reap
    /// the stopped server).
    fn running(pid: &str) -> bool {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| Some(stat.rsplit_once(") ")?.1.starts_with('Z')))
            == Some(false)
    }

    #[test]
    fn database_names_are_plain_identifiers() {
        for name in ["parley_test_0", "_x", "a1"] {
            assert!(is_plain_identifier(name), "{name:?}");
        }
        for name in ["", "Upper", "semi;colon", "1st", "a-b", &"x".repeat(64)] {
            assert!(!is_plain_identifier(name), "{name:?}");
        }
    }
}
