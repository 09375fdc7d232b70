//! First start: create the sandbox, print its key once with a ready `curl`, and write the
//! same details to `<data-dir>/bootstrap.json` (owner-only) for scripts.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use parley_core::bootstrap::{SandboxCredentials, ensure_sandbox};
use parley_store::SharedStore;
use parley_types::Clock;
use serde_json::json;

pub fn bootstrap_file(data_dir: &Path) -> PathBuf {
    data_dir.join("bootstrap.json")
}

fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(contents)
}

/// Creates the sandbox on an empty database and returns its credentials; `None` later.
pub async fn run(
    store: &SharedStore,
    clock: &dyn Clock,
    data_dir: &Path,
) -> anyhow::Result<Option<SandboxCredentials>> {
    let Some(credentials) = ensure_sandbox(store, clock.now()).await? else {
        return Ok(None);
    };
    let sandbox = &credentials.sandbox;
    let details = json!({
        "accountId": sandbox.account.id,
        "subAccountId": sandbox.sub_account.id,
        "channelId": sandbox.channel.id,
        "businessNumber": sandbox.channel.business_number,
        "apiKey": credentials.api_key,
    });
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = bootstrap_file(data_dir);
    write_owner_only(&path, serde_json::to_string_pretty(&details)?.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(credentials))
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
         See it on the phone: curl -s {base}/sim/api/phones/+15551234567/messages\n",
        file = bootstrap_file(data_dir).display(),
        key = credentials.api_key,
        account = sandbox.account.id,
        sub = sandbox.sub_account.id,
        channel = sandbox.channel.id,
        number = sandbox.channel.business_number,
        base = base_url.trim_end_matches('/'),
    )
}
