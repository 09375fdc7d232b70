//! A throwaway S3-compatible server: moto's `moto_server` (from PyPI; `scripts/test`
//! installs it) on a free loopback port, with one empty bucket, stopped on drop.
//!
//! moto keeps objects in its own memory and does not check request signatures, which is
//! all a storage test needs: the real S3 wire protocol, multipart uploads and ranged reads.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// Overrides where `moto_server` is looked up.
pub const MOTO_ENV: &str = "PARLEY_MOTO_SERVER";

/// Where `scripts/test` installs it, relative to the workspace root.
const INSTALLED: &str = "target/test-tools/venv/bin/moto_server";

const INSTALL_HINT: &str = "moto's S3 server is needed for the S3 storage tests; \
     `scripts/test` installs it (python3 -m venv target/test-tools/venv && \
     target/test-tools/venv/bin/pip install 'moto[server]'), or point PARLEY_MOTO_SERVER at \
     a moto_server executable";

pub const BUCKET: &str = "parley-test";

#[derive(Debug)]
pub struct S3Server {
    child: Child,
    port: u16,
}

impl S3Server {
    /// Starts the server and creates [`BUCKET`]. Takes a second or two (Python start-up).
    pub fn start() -> Result<Self> {
        let program = moto_server()?;
        let port = free_port()?;
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", program.display()))?;
        let server = Self { child, port };
        server.wait_until_up(Duration::from_secs(30))?;
        server.request(&format!("PUT /{BUCKET} HTTP/1.1"))?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn wait_until_up(&self, timeout: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "moto_server did not listen on port {} within {timeout:?}",
            self.port
        )
    }

    /// One bodiless request; fails unless the answer is a 2xx.
    fn request(&self, request_line: &str) -> Result<()> {
        let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port))?;
        write!(
            stream,
            "{request_line}\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let status = answer.split_whitespace().nth(1).unwrap_or("");
        if !status.starts_with('2') {
            bail!("moto_server answered {request_line:?} with {status}");
        }
        Ok(())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_server() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os(MOTO_ENV) {
        return Ok(PathBuf::from(path));
    }
    let installed = workspace_root().join(INSTALLED);
    if installed.exists() {
        return Ok(installed);
    }
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("moto_server"))
        .find(|p| p.exists());
    on_path.context(INSTALL_HINT)
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}
