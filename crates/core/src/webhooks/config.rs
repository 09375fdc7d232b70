//! 8x8's webhook configuration bodies (`reference/chatapps-api.md` §6.7): the array a
//! `POST` creates or replaces, the array a `DELETE` names, and the array a `GET` shows
//! with its secrets masked.

use chrono::{DateTime, Utc};
use parley_store::{Webhook, WebhookKind};
use parley_types::AccountId;
use parley_types::codes::SyncCode;
use serde_json::{Map, Value, json};

use super::targets::TargetPolicy;
use crate::Result;
use crate::input::{Object, bad_field, boolean, invalid, is_web_url, join, object, string};

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// A `type` left out means receipts and inbound messages (8x8); CABM only when named.
const DEFAULT_KINDS: [WebhookKind; 2] = [WebhookKind::Cadr, WebhookKind::Msg];

fn items(body: &Value) -> Result<Vec<(String, &Object)>> {
    let Value::Array(items) = body else {
        return Err(invalid(
            SyncCode::InvalidParameters,
            "Invalid parameter(s): the body must be an array of webhook objects",
        ));
    };
    if items.is_empty() {
        return Err(invalid(
            SyncCode::InvalidParameters,
            "Invalid parameter(s): the body must hold at least one webhook object",
        ));
    }
    crate::input::objects(items, "")
}

fn kinds(item: &Object, path: &str) -> Result<Vec<WebhookKind>> {
    match string(item, &["type"], path)? {
        None => Ok(DEFAULT_KINDS.to_vec()),
        Some(raw) => WebhookKind::parse(raw)
            .map(|k| vec![k])
            .ok_or_else(|| bad_field(&join(path, "type"), "must be CADR, MSG or CABM")),
    }
}

fn sub_account(item: &Object, path: &str) -> Result<String> {
    string(item, &["subAccountId"], path)?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| bad_field(&join(path, "subAccountId"), "is required"))
}

/// 8x8's refusal of a subaccount that is not the caller's.
pub fn foreign_sub_account(sub: &str) -> crate::Error {
    invalid(
        SyncCode::IllegalSubAccount,
        format!("Provided subAccountId doesn't belongs to your account: '{sub}'"),
    )
}

/// An absolute http(s) URL the target policy lets webhooks reach.
fn check_url(url: &str, path: &str, targets: &TargetPolicy) -> Result<()> {
    if !is_web_url(url) {
        return Err(bad_field(path, "must be an absolute http(s) URL"));
    }
    match targets.refuse_url(url) {
        Some(why) => Err(bad_field(path, why)),
        None => Ok(()),
    }
}

fn oauth(item: &Object, parent: &str, targets: &TargetPolicy) -> Result<Option<Value>> {
    let path = join(parent, "oauth");
    let Some(oauth) = object(item, &["oauth"], parent)? else {
        return Ok(None);
    };
    let required = |key: &'static str| -> Result<String> {
        string(oauth, &[key], &path)?
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| bad_field(&join(&path, key), "is required"))
    };
    let url = required("url")?;
    check_url(&url, &join(&path, "url"), targets)?;
    let location = string(oauth, &["credentialsLocation"], &path)?
        .unwrap_or("header")
        .to_ascii_lowercase();
    if location != "header" && location != "body" {
        return Err(bad_field(
            &join(&path, "credentialsLocation"),
            "must be header or body",
        ));
    }
    let mut value = json!({
        "url": url,
        "clientId": required("clientId")?,
        "clientSecret": required("clientSecret")?,
        "credentialsLocation": location,
    });
    if let Some(scope) = string(oauth, &["scope"], &path)? {
        value["scope"] = json!(scope);
    }
    Ok(Some(value))
}

/// Reads a `POST` body into the webhooks to create or replace. (Whether each subaccount
/// is the account's is for the caller to check.)
pub fn parse_save(
    account: &AccountId,
    body: &Value,
    now: DateTime<Utc>,
    targets: &TargetPolicy,
) -> Result<Vec<Webhook>> {
    let mut webhooks = Vec::new();
    for (path, item) in items(body)? {
        let sub_account_id = sub_account(item, &path)?;
        let url = string(item, &["url"], &path)?
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad_field(&join(&path, "url"), "is required"))?;
        check_url(url, &join(&path, "url"), targets)?;
        let secret = |key: &'static str| -> Result<Option<String>> {
            Ok(string(item, &[key], &path)?
                .filter(|s| !s.is_empty())
                .map(str::to_owned))
        };
        let signing_secret = secret("signingSecret")?;
        if signing_secret.as_ref().is_some_and(|s| s.len() < 16) {
            return Err(bad_field(
                &join(&path, "signingSecret"),
                "must be at least 16 characters",
            ));
        }
        for kind in kinds(item, &path)? {
            webhooks.push(Webhook {
                account_id: account.clone(),
                sub_account_id: sub_account_id.clone(),
                kind,
                url: url.to_owned(),
                enabled: boolean(item, &["enabled"], &path)?.unwrap_or(true),
                http_authorization: secret("httpAuthorization")?,
                oauth: oauth(item, &path, targets)?,
                signing_secret: signing_secret.clone(),
                created_at: now,
                updated_at: now,
            });
        }
    }
    Ok(webhooks)
}

/// Reads a `DELETE` body: which subaccount's webhooks (`*` only names the account-wide
/// ones) of which kinds.
pub fn parse_delete(body: &Value) -> Result<Vec<(String, Option<WebhookKind>)>> {
    let mut keys = Vec::new();
    for (path, item) in items(body)? {
        let sub = sub_account(item, &path)?;
        for kind in kinds(item, &path)? {
            keys.push((sub.clone(), Some(kind)));
        }
    }
    Ok(keys)
}

/// One webhook as `GET` shows it: secrets masked.
pub fn render(webhook: &Webhook) -> Value {
    let mut obj = Map::new();
    obj.insert("subAccountId".into(), json!(webhook.sub_account_id));
    obj.insert("type".into(), json!(webhook.kind.as_str()));
    obj.insert("url".into(), json!(webhook.url));
    obj.insert("enabled".into(), json!(webhook.enabled));
    if webhook.http_authorization.is_some() {
        obj.insert("httpAuthorization".into(), json!(MASK));
    }
    if let Some(oauth) = &webhook.oauth {
        let mut oauth = oauth.clone();
        oauth["clientSecret"] = json!(MASK);
        obj.insert("oauth".into(), oauth);
    }
    if webhook.signing_secret.is_some() {
        obj.insert("signingSecret".into(), json!(MASK));
    }
    Value::Object(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("acct").unwrap()
    }

    fn save(body: Value) -> Result<Vec<Webhook>> {
        parse_save(&account(), &body, Utc::now(), &TargetPolicy::open())
    }

    fn code(r: Result<Vec<Webhook>>) -> (u32, String) {
        match r {
            Err(crate::Error::Invalid { code, message }) => (code.code(), message),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_webhook_without_a_type_takes_receipts_and_inbound_messages() {
        let saved = save(json!([{"subAccountId": "*", "url": "https://x.test/hook"}])).unwrap();
        let kinds: Vec<_> = saved.iter().map(|w| w.kind).collect();
        assert_eq!(kinds, [WebhookKind::Cadr, WebhookKind::Msg]);
        assert!(saved.iter().all(|w| w.enabled));
        let cabm = save(json!([{"subAccountId": "sub-1", "url": "https://x.test/bm", "type": "cabm", "enabled": false}])).unwrap();
        assert_eq!((cabm[0].kind, cabm[0].enabled), (WebhookKind::Cabm, false));
    }

    #[test]
    fn bad_configurations_are_refused_naming_the_field() {
        for (body, expected, field) in [
            (
                json!({"url": "https://x.test"}),
                1005,
                "body must be an array",
            ),
            (json!([]), 1005, "at least one"),
            (
                json!([{"url": "https://x.test"}]),
                1005,
                "'[0].subAccountId'",
            ),
            (json!([{"subAccountId": "*"}]), 1005, "'[0].url'"),
            (
                json!([{"subAccountId": "*", "url": "ftp://x.test"}]),
                1005,
                "'[0].url'",
            ),
            (
                json!([{"subAccountId": "*", "url": "https://x.test", "type": "DR"}]),
                1005,
                "'[0].type'",
            ),
            (
                json!([{"subAccountId": "*", "url": "https://x.test", "enabled": "maybe"}]),
                1005,
                "'[0].enabled'",
            ),
            (
                json!([{"subAccountId": "*", "url": "https://x.test", "oauth": {"url": "https://a.test"}}]),
                1005,
                "'[0].oauth.clientId'",
            ),
            (
                json!([{"subAccountId": "*", "url": "https://x.test", "oauth": {"url": "https://a.test", "clientId": "c", "clientSecret": "s", "credentialsLocation": "query"}}]),
                1005,
                "'[0].oauth.credentialsLocation'",
            ),
            (
                json!([{"subAccountId": "*", "url": "https://x.test", "signingSecret": "short"}]),
                1005,
                "'[0].signingSecret'",
            ),
        ] {
            let (got, message) = code(save(body.clone()));
            assert_eq!(got, expected, "{body}: {message}");
            assert!(
                message.contains(field),
                "{body}: {message:?} should name {field}"
            );
        }
    }

    #[test]
    fn secrets_are_masked_when_shown() {
        let saved = save(json!([{"subAccountId": "*", "url": "https://x.test", "type": "MSG",
            "httpAuthorization": "Basic dXNlcjpwYXNzd29yZA==", "signingSecret": "whsec-0123456789abcdef",
            "oauth": {"url": "https://a.test/token", "clientId": "c", "clientSecret": "s3cret", "scope": "hooks"}}]))
        .unwrap();
        let shown = render(&saved[0]);
        assert_eq!(shown["httpAuthorization"], MASK);
        assert_eq!(shown["signingSecret"], MASK);
        assert_eq!(shown["oauth"]["clientSecret"], MASK);
        assert_eq!(shown["oauth"]["clientId"], "c");
        assert!(!shown.to_string().contains("s3cret"));
    }

    #[test]
    fn a_delete_without_a_type_removes_receipts_and_inbound() {
        assert_eq!(
            parse_delete(
                &json!([{"subAccountId": "*"}, {"subAccountId": "sub-1", "type": "CABM"}])
            )
            .unwrap(),
            [
                ("*".to_owned(), Some(WebhookKind::Cadr)),
                ("*".to_owned(), Some(WebhookKind::Msg)),
                ("sub-1".to_owned(), Some(WebhookKind::Cabm)),
            ]
        );
    }
}
