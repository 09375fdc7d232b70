//! Conformance checks for console users and sessions.

use chrono::Duration;
use parley_types::ConsoleUserId;

use crate::conformance::{seeded, t0};
use crate::*;

fn user(account: &parley_types::AccountId, email: &str, role: ConsoleRole) -> ConsoleUser {
    ConsoleUser {
        id: ConsoleUserId::new(),
        account_id: account.clone(),
        email: email.into(),
        name: "Ana".into(),
        role,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at: t0(),
    }
}

fn session(user: &ConsoleUser, token_hash: &str, ttl: Duration) -> ConsoleSession {
    ConsoleSession {
        token_hash: token_hash.into(),
        user_id: user.id,
        csrf_token: format!("csrf-{token_hash}"),
        created_at: t0(),
        expires_at: t0() + ttl,
    }
}

/// Whether the session with this hash is live at `at`.
async fn signed_in<S: Store>(
    store: &S,
    token_hash: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> bool {
    store
        .console_session(token_hash, at)
        .await
        .unwrap()
        .is_some()
}

pub async fn console_users_are_unique_by_email_and_kept_whole<S: Store>(store: &S) {
    let account = seeded(store).await.account.id;
    let admin = user(&account, "admin@parley.local", ConsoleRole::Admin);
    store.insert_console_user(&admin).await.unwrap();
    let same_email = user(&account, "admin@parley.local", ConsoleRole::Agent);
    assert!(matches!(
        store.insert_console_user(&same_email).await,
        Err(StoreError::Conflict(_))
    ));
    let mut agent = user(&account, "agent@parley.local", ConsoleRole::Agent);
    agent.created_at = t0() + Duration::seconds(1);
    store.insert_console_user(&agent).await.unwrap();

    assert_eq!(
        store.console_user(admin.id).await.unwrap(),
        Some(admin.clone())
    );
    assert_eq!(
        store
            .console_user_by_email("agent@parley.local")
            .await
            .unwrap(),
        Some(agent.clone())
    );
    assert_eq!(store.console_user_by_email("nobody@x").await.unwrap(), None);
    let listed = store.console_users(&account).await.unwrap();
    assert_eq!(listed, vec![admin.clone(), agent.clone()]);

    let changed = ConsoleUser {
        name: "Agent Smith".into(),
        role: ConsoleRole::Supervisor,
        ..agent.clone()
    };
    assert!(store.update_console_user(&changed, false).await.unwrap());
    assert_eq!(store.console_user(agent.id).await.unwrap(), Some(changed));
    let missing = user(&account, "ghost@parley.local", ConsoleRole::Agent);
    assert!(!store.update_console_user(&missing, false).await.unwrap());
    assert!(store.delete_console_user(agent.id).await.unwrap());
    assert!(!store.delete_console_user(agent.id).await.unwrap());
    assert_eq!(store.console_users(&account).await.unwrap(), vec![admin]);
}

pub async fn console_sessions_end_on_expiry_sign_out_disable_and_delete<S: Store>(store: &S) {
    let account = seeded(store).await.account.id;
    let ana = user(&account, "ana@parley.local", ConsoleRole::Admin);
    store.insert_console_user(&ana).await.unwrap();
    let live = session(&ana, "live", Duration::hours(12));
    let short = session(&ana, "short", Duration::minutes(1));
    let signed_out = session(&ana, "signed-out", Duration::hours(12));
    for s in [&live, &short, &signed_out] {
        store.insert_console_session(s).await.unwrap();
    }

    let later = t0() + Duration::minutes(5);
    let (found, found_user) = store.console_session("live", later).await.unwrap().unwrap();
    assert_eq!((found, found_user), (live.clone(), ana.clone()));
    assert!(!signed_in(store, "short", later).await);
    assert_eq!(
        store.delete_expired_console_sessions(later).await.unwrap(),
        1
    );
    store.delete_console_session("signed-out").await.unwrap();
    assert!(!signed_in(store, "signed-out", later).await);

    // A change without `end_sessions` (a new name) keeps the browser signed in; a
    // disabled user's sessions end and stay ended when the user is enabled again.
    let renamed = ConsoleUser {
        name: "Ana B".into(),
        ..ana.clone()
    };
    store.update_console_user(&renamed, false).await.unwrap();
    let (_, seen) = store.console_session("live", later).await.unwrap().unwrap();
    assert_eq!(seen.name, "Ana B");
    let disabled = ConsoleUser {
        disabled: true,
        ..renamed.clone()
    };
    store.update_console_user(&disabled, true).await.unwrap();
    assert!(!signed_in(store, "live", later).await);
    store.update_console_user(&renamed, false).await.unwrap();
    assert!(!signed_in(store, "live", later).await);

    // A disabled user's remaining session is refused even without `end_sessions`.
    store
        .insert_console_session(&session(&ana, "again", Duration::hours(1)))
        .await
        .unwrap();
    store.update_console_user(&disabled, false).await.unwrap();
    assert!(!signed_in(store, "again", later).await);

    // Deleting the user takes the sessions along.
    store.update_console_user(&renamed, false).await.unwrap();
    store
        .insert_console_session(&session(&ana, "last", Duration::hours(1)))
        .await
        .unwrap();
    assert!(store.delete_console_user(ana.id).await.unwrap());
    assert!(!signed_in(store, "last", later).await);
}
