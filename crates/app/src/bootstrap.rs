//! First start: create the sandbox and the console's first admin, print the key and the
//! admin's password once with a ready `curl`, and write the same details to
//! `<data-dir>/bootstrap.json` (owner-only) for scripts. A database made before the console
//! existed gets its admin on the next start, added to the same file.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use parley_core::bootstrap::{SandboxCredentials, ensure_sandbox};
use parley_core::console::ConsoleService;
use parley_store::SharedStore;
use parley_types::SharedClock;
use serde_json::{Value, json};

pub fn bootstrap_file(data_dir: &Path) -> PathBuf {
    data_dir.join("bootstrap.json")
}

pub(crate) fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

/// The console admin made on this start: shown once.
#[derive(Debug, Clone)]
pub struct ConsoleAdmin {
    pub email: String,
    pub password: String,
}

/// What this start created.
#[derive(Debug, Clone, Default)]
pub struct FirstStart {
    pub sandbox: Option<SandboxCredentials>,
    pub console_admin: Option<ConsoleAdmin>,
}

/// Creates the sandbox on an empty database, and a console admin for the first account
/// when it has no console user; records both in `bootstrap.json`.
pub async fn run(
    store: &SharedStore,
    clock: SharedClock,
    data_dir: &Path,
) -> anyhow::Result<FirstStart> {
    let sandbox = ensure_sandbox(store, clock.now()).await?;
    let account = match &sandbox {
        Some(credentials) => Some(credentials.sandbox.account.id.clone()),
        None => store.accounts().await?.into_iter().next().map(|a| a.id),
    };
    let console_admin = match account {
        Some(account) => ConsoleService::new(store.clone(), clock)
            .ensure_admin(&account)
            .await?
            .map(|(email, password)| ConsoleAdmin { email, password }),
        None => None,
    };
    let path = bootstrap_file(data_dir);
    let mut details = match &sandbox {
        Some(credentials) => {
            let sandbox = &credentials.sandbox;
            json!({
                "accountId": sandbox.account.id,
                "subAccountId": sandbox.sub_account.id,
                "channelId": sandbox.channel.id,
                "businessNumber": sandbox.channel.business_number,
                "apiKey": credentials.api_key,
            })
        }
        None if console_admin.is_some() => std::fs::read(&path)
            .ok()
            .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
            .unwrap_or_else(|| json!({})),
        None => return Ok(FirstStart::default()),
    };
    if let Some(admin) = &console_admin {
        details["consoleEmail"] = json!(admin.email);
        details["consolePassword"] = json!(admin.password);
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    write_owner_only(&path, serde_json::to_string_pretty(&details)?.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(FirstStart {
        sandbox,
        console_admin,
    })
}

/// Adds `key` to `bootstrap.json` (when the file exists), keeping what it holds.
pub fn record(data_dir: &Path, key: &str, value: &str) -> anyhow::Result<()> {
    let path = bootstrap_file(data_dir);
    let Ok(raw) = std::fs::read(&path) else {
        return Ok(());
    };
    let mut details: Value =
        serde_json::from_slice(&raw).with_context(|| format!("reading {}", path.display()))?;
    details[key] = json!(value);
    write_owner_only(&path, serde_json::to_string_pretty(&details)?.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}

/// The console's sign-in, shown once.
pub fn console_banner(admin: &ConsoleAdmin, base_url: &str) -> String {
    format!(
        "Console: {base}/console/ — sign in as {email} with this password (shown once):\n\n    {password}\n",
        base = base_url.trim_end_matches('/'),
        email = admin.email,
        password = admin.password,
    )
}

/// The one-time banner with the key and a first message.
pub fn banner(credentials: &SandboxCredentials, base_url: &str, data_dir: &Path) -> String {
    let sandbox = &credentials.sandbox;
    format!(
        "\nParley sandbox created. This API key is shown once (also saved in {file}):\n\n    {key}\n\n\
         account {account}, subaccount {sub}, WhatsApp channel {channel} ({number})\n\n\
         Send a first message (the simulated user must write first, or WhatsApp's 24-hour rule refuses it):\n\n\
         curl -s -X POST {base}/sim/api/phones/+15551234567/messages -H 'Content-Type: application/json' \\\n  \
         -d '{{\"type\":\"text\",\"content\":{{\"text\":\"hi\"}}}}'\n\n\
         curl -s -X POST {base}/api/v1/subaccounts/{sub}/messages \\\n  \
         -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \\\n  \
         -d '{{\"user\":{{\"msisdn\":\"+15551234567\"}},\"type\":\"text\",\"content\":{{\"text\":\"Hello from Parley\"}}}}'\n\n\
         See it on the phone: curl -s {base}/sim/api/phones/+15551234567/messages\n\n\
         From another machine the simulator's control API (/sim/api) needs the simulator token \
         (Authorization: Bearer …), kept in {token_file} and in {file}.\n",
        token_file = crate::simulator_token::token_file(data_dir).display(),
        file = bootstrap_file(data_dir).display(),
        key = credentials.api_key,
        account = sandbox.account.id,
        sub = sandbox.sub_account.id,
        channel = sandbox.channel.id,
        number = sandbox.channel.business_number,
        base = base_url.trim_end_matches('/'),
    )
}
