//! The sandbox tenant created on the first start of an empty database.

use chrono::{DateTime, Utc};
use parley_store::{Account, Channel, Sandbox, SharedStore, SubAccount};
use parley_types::{AccountId, ChannelId, SubAccountId};
use rand::Rng;

use crate::Result;
use crate::keys::{IssuedKey, issue};

/// The simulated business number every sandbox gets (a fictional `+1 555` number).
pub const SANDBOX_BUSINESS_NUMBER: &str = "+15550100001";

/// What the first start prints once and writes to `bootstrap.json`.
#[derive(Debug, Clone)]
pub struct SandboxCredentials {
    pub sandbox: Sandbox,
    pub api_key: String,
}

fn digits(rng: &mut impl Rng, n: usize) -> String {
    let first = rng.random_range(1..=9).to_string();
    (1..n).fold(first, |mut s, _| {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
        s
    })
}

pub fn generate(now: DateTime<Utc>) -> SandboxCredentials {
    let mut rng = rand::rng();
    let account_id = AccountId::parse(&uuid::Uuid::new_v4().simple().to_string())
        .expect("a uuid is a valid account id");
    let sub_account_id = SubAccountId::parse(&format!("sandbox-{}", digits(&mut rng, 6)))
        .expect("sandbox ids match the subaccount pattern");
    let IssuedKey { secret, record } = issue(&account_id, "sandbox", now);
    let sandbox = Sandbox {
        account: Account {
            id: account_id.clone(),
            name: "Sandbox".into(),
            created_at: now,
        },
        sub_account: SubAccount {
            id: sub_account_id.clone(),
            account_id: account_id.clone(),
            created_at: now,
        },
        channel: Channel {
            kind: parley_types::ChannelKind::WhatsApp,
            id: ChannelId::new(),
            account_id,
            sub_account_id,
            business_number: SANDBOX_BUSINESS_NUMBER.into(),
            waba_id: digits(&mut rng, 15),
            phone_number_id: digits(&mut rng, 15),
            created_at: now,
        },
        api_key: record,
    };
    SandboxCredentials {
        sandbox,
        api_key: secret,
    }
}

/// Creates the sandbox if the database is empty; `None` when it already had a tenant.
pub async fn ensure_sandbox(
    store: &SharedStore,
    now: DateTime<Utc>,
) -> Result<Option<SandboxCredentials>> {
    let credentials = generate(now);
    let created = store.bootstrap_sandbox(&credentials.sandbox).await?;
    Ok(created.then_some(credentials))
}
