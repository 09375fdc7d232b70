//! Webhook requests over HTTP: the request as core built it, with an OAuth2
//! client-credentials token when the webhook has `oauth` (fetched from the customer's token
//! URL, cached until it expires, fetched again once if the endpoint answers 401). Every
//! address a request connects to passes the [`TargetPolicy`] first: literal addresses
//! before sending, resolved ones in the resolver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use parley_core::webhooks::targets::TargetPolicy;
use parley_core::webhooks::{Answer, WebhookRequest, WebhookTransport};
use serde::Deserialize;
use serde_json::Value;

/// A token is refreshed this long before the expiry its issuer gave.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// When the issuer gives no expiry.
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

pub struct HttpTransport {
    http: reqwest::Client,
    targets: Arc<TargetPolicy>,
    /// (token URL, client id) → token and when to stop using it.
    tokens: Mutex<HashMap<(String, String), (String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

/// `application/x-www-form-urlencoded` escaping.
fn form_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn field<'a>(oauth: &'a Value, key: &str) -> &'a str {
    oauth.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Resolves host names like the system does, keeping only the addresses the policy
/// allows.
struct GuardedResolver(Arc<TargetPolicy>);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = Arc::clone(&self.0);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|a| policy.permits(&host, a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{host} resolves only to private, loopback or link-local addresses"
                )
                .into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An error with its causes, which say what actually went wrong.
fn explain(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl HttpTransport {
    pub fn new(targets: TargetPolicy) -> reqwest::Result<Self> {
        let targets = Arc::new(targets);
        Ok(Self {
            http: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                // Webhooks go where the customer configured them; redirects are not followed.
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(Arc::new(GuardedResolver(Arc::clone(&targets))))
                .build()?,
            targets,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// A refusal for a URL whose host is a literal address (or `localhost`) the policy
    /// does not allow; the resolver checks names.
    fn refused(&self, url: &str) -> Option<String> {
        self.targets
            .refuse_url(url)
            .map(|why| format!("refused: the URL {why}"))
    }

    /// A bearer token for `oauth`, from the cache unless `fresh`.
    async fn token(&self, oauth: &Value, fresh: bool) -> Result<String, String> {
        let key = (
            field(oauth, "url").to_owned(),
            field(oauth, "clientId").to_owned(),
        );
        if !fresh {
            let tokens = self.tokens.lock().expect("token cache");
            if let Some((token, until)) = tokens.get(&key)
                && Instant::now() < *until
            {
                return Ok(token.clone());
            }
        }
        let mut form = vec![("grant_type", "client_credentials".to_owned())];
        if let Some(scope) = oauth.get("scope").and_then(Value::as_str) {
            form.push(("scope", scope.to_owned()));
        }
        if let Some(refused) = self.refused(&key.0) {
            return Err(format!("OAuth token URL {refused}"));
        }
        let mut request = self.http.post(&key.0).timeout(Duration::from_secs(10));
        if field(oauth, "credentialsLocation") == "body" {
            form.push(("client_id", key.1.clone()));
            form.push(("client_secret", field(oauth, "clientSecret").to_owned()));
        } else {
            let basic = STANDARD.encode(format!("{}:{}", key.1, field(oauth, "clientSecret")));
            request = request.header("authorization", format!("Basic {basic}"));
        }
        let body: Vec<String> = form
            .iter()
            .map(|(k, v)| format!("{k}={}", form_escape(v)))
            .collect();
        let answer = request
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.join("&"))
            .send()
            .await
            .map_err(|e| format!("OAuth token request failed: {}", explain(&e)))?;
        if !answer.status().is_success() {
            return Err(format!("OAuth token request answered {}", answer.status()));
        }
        let token: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| format!("OAuth token answer unreadable: {e}"))?;
        let lifetime = token
            .expires_in
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let until = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
        self.tokens
            .lock()
            .expect("token cache")
            .insert(key, (token.access_token.clone(), until));
        Ok(token.access_token)
    }

    async fn send(&self, request: &WebhookRequest, token: Option<&str>) -> Answer {
        if let Some(refused) = self.refused(&request.url) {
            return Answer::Failed(refused);
        }
        let mut builder = self
            .http
            .post(&request.url)
            .timeout(request.timeout)
            .body(request.body.clone());
        for (name, value) in &request.headers {
            // An OAuth token takes the place of a static `Authorization`.
            if token.is_some() && name.eq_ignore_ascii_case("authorization") {
                continue;
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        match builder.send().await {
            Ok(answer) => Answer::Status(answer.status().as_u16()),
            Err(e) if e.is_timeout() => Answer::Failed(format!(
                "no answer within {} ms",
                request.timeout.as_millis()
            )),
            Err(e) => Answer::Failed(format!("request failed: {}", explain(&e))),
        }
    }
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    async fn post(&self, request: &WebhookRequest) -> Answer {
        let Some(oauth) = &request.oauth else {
            return self.send(request, None).await;
        };
        let token = match self.token(oauth, false).await {
            Ok(token) => token,
            Err(why) => return Answer::Failed(why),
        };
        match self.send(request, Some(&token)).await {
            // The token may have been revoked before its expiry: fetch a new one, once.
            Answer::Status(401) => match self.token(oauth, true).await {
                Ok(token) => self.send(request, Some(&token)).await,
                Err(why) => Answer::Failed(why),
            },
            answer => answer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_resolving_to_internal_addresses_are_refused_unless_allowed() {
        use reqwest::dns::Resolve;
        use std::str::FromStr;
        let name = || reqwest::dns::Name::from_str("localhost").unwrap();
        let guarded = GuardedResolver(Arc::new(TargetPolicy::guarded(&[]).unwrap()));
        let refused = guarded.resolve(name()).await.err().expect("refused");
        assert!(refused.to_string().contains("loopback"), "{refused}");
        let allowed = GuardedResolver(Arc::new(
            TargetPolicy::guarded(&["localhost".into()]).unwrap(),
        ));
        assert!(allowed.resolve(name()).await.unwrap().next().is_some());
    }

    #[test]
    fn form_values_are_escaped() {
        assert_eq!(form_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
