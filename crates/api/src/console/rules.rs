//! Which console role may call which route: every route a signed-in browser may reach,
//! by method and route template. A route missing here is refused to every console user
//! (the table fails closed); bearer-key callers are not affected.

use axum::http::Method;
use parley_core::console::{Permission, allows};
use parley_store::ConsoleRole;

/// What a route asks of a console user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Any signed-in user (their own session).
    SignedIn,
    Needs(Permission),
    /// Account-wide settings only an admin changes.
    Admin,
}

impl Rule {
    /// `Err` with what the refusal says.
    pub fn check(self, role: ConsoleRole) -> Result<(), String> {
        let (allowed, what) = match self {
            Self::SignedIn => (true, ""),
            Self::Needs(permission) => (allows(role, permission), permission.describe()),
            Self::Admin => (role == ConsoleRole::Admin, "change account settings"),
        };
        if allowed {
            Ok(())
        } else {
            Err(format!("Your role ({}) may not {what}", role.as_str()))
        }
    }
}

use Permission::*;

const GET: &str = "GET";
const POST: &str = "POST";
const PUT: &str = "PUT";
const PATCH: &str = "PATCH";
const DELETE: &str = "DELETE";

/// Route templates as axum matches them; the 8x8 routes also under `/chatapps`, the
/// simulator's under `/sim`.
const RULES: &[(&str, &str, Rule)] = &[
    // The console's own API.
    (GET, "/console/api/session", Rule::SignedIn),
    (DELETE, "/console/api/session", Rule::SignedIn),
    (GET, "/console/api/users", Rule::Needs(UsersManage)),
    (POST, "/console/api/users", Rule::Needs(UsersManage)),
    (PATCH, "/console/api/users/{id}", Rule::Needs(UsersManage)),
    (DELETE, "/console/api/users/{id}", Rule::Needs(UsersManage)),
    (GET, "/console/api/keys", Rule::Needs(KeysManage)),
    (POST, "/console/api/keys", Rule::Needs(KeysManage)),
    (DELETE, "/console/api/keys/{id}", Rule::Needs(KeysManage)),
    (GET, "/console/api/events", Rule::Needs(LogsRead)),
    // Messages.
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/messages",
        Rule::Needs(MessagesSend),
    ),
    (
        GET,
        "/api/v1/subaccounts/{subAccountId}/messages",
        Rule::Needs(LogsRead),
    ),
    (
        GET,
        "/api/v1/subaccounts/{subAccountId}/messages/{umid}",
        Rule::Needs(LogsRead),
    ),
    (
        DELETE,
        "/api/v1/subaccounts/{subAccountId}/messages/{umid}",
        Rule::Needs(MessagesSend),
    ),
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/messages/batch",
        Rule::Needs(MessagesSend),
    ),
    (
        DELETE,
        "/api/v1/subaccounts/{subAccountId}/messages/batch/{batchId}",
        Rule::Needs(MessagesSend),
    ),
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/messages/{umid}/read",
        Rule::Needs(MessagesSend),
    ),
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/events",
        Rule::Needs(MessagesSend),
    ),
    (
        GET,
        "/api/v1/subaccounts/{subAccountId}/users/{msisdn}/window",
        Rule::Needs(LogsRead),
    ),
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/files",
        Rule::Needs(MessagesSend),
    ),
    // Templates.
    (
        GET,
        "/api/v1/accounts/{accountId}/channels/{channelId}/templates",
        Rule::Needs(TemplatesRead),
    ),
    (
        POST,
        "/api/v1/accounts/{accountId}/channels/{channelId}/templates",
        Rule::Needs(TemplatesWrite),
    ),
    (
        DELETE,
        "/api/v1/accounts/{accountId}/channels/{channelId}/templates/{templateName}",
        Rule::Needs(TemplatesWrite),
    ),
    // Webhooks.
    (
        GET,
        "/api/v1/accounts/{accountId}/webhooks",
        Rule::Needs(WebhooksRead),
    ),
    (
        POST,
        "/api/v1/accounts/{accountId}/webhooks",
        Rule::Needs(WebhooksManage),
    ),
    (
        DELETE,
        "/api/v1/accounts/{accountId}/webhooks",
        Rule::Needs(WebhooksManage),
    ),
    (
        GET,
        "/api/v1/accounts/{accountId}/webhooks/deliveries",
        Rule::Needs(WebhooksRead),
    ),
    (
        POST,
        "/api/v1/accounts/{accountId}/webhooks/deliveries/redrive",
        Rule::Needs(WebhooksManage),
    ),
    (
        GET,
        "/api/v1/accounts/{accountId}/webhooks/deliveries/{id}",
        Rule::Needs(WebhooksRead),
    ),
    (
        GET,
        "/api/v1/accounts/{accountId}/webhooks/endpoints",
        Rule::Needs(WebhooksRead),
    ),
    // Usage, contacts, the log.
    (
        GET,
        "/api/v1/accounts/{accountId}/usage/messages",
        Rule::Needs(LogsExport),
    ),
    (
        POST,
        "/api/v1/accounts/{accountId}/contacts/blacklist/{msisdn}",
        Rule::Needs(MessagesSend),
    ),
    (
        DELETE,
        "/api/v1/accounts/{accountId}/contacts/blacklist/{msisdn}",
        Rule::Needs(MessagesSend),
    ),
    (
        GET,
        "/api/v1/accounts/{accountId}/messages",
        Rule::Needs(LogsRead),
    ),
    (
        GET,
        "/api/v1/accounts/{accountId}/settings",
        Rule::Needs(LogsExport),
    ),
    (PATCH, "/api/v1/accounts/{accountId}/settings", Rule::Admin),
    (
        POST,
        "/api/v1/subaccounts/{subAccountId}/messages/exports",
        Rule::Needs(LogsExport),
    ),
    (
        GET,
        "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}",
        Rule::Needs(LogsExport),
    ),
    (
        DELETE,
        "/api/v1/subaccounts/{subAccountId}/messages/exports/{jobId}",
        Rule::Needs(LogsExport),
    ),
    (
        GET,
        "/api/v1/subaccounts/{subAccountId}/messages/download/{token}",
        Rule::Needs(LogsExport),
    ),
    // The simulator: acting as the phone's user.
    (GET, "/sim/api/events", Rule::Needs(SimulatorUse)),
    (GET, "/sim/api/phones", Rule::Needs(SimulatorUse)),
    (
        GET,
        "/sim/api/phones/{msisdn}/messages",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/messages",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/media",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/read",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/tap",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/block",
        Rule::Needs(SimulatorUse),
    ),
    (
        DELETE,
        "/sim/api/phones/{msisdn}/block",
        Rule::Needs(SimulatorUse),
    ),
    (
        POST,
        "/sim/api/phones/{msisdn}/report",
        Rule::Needs(SimulatorUse),
    ),
    (
        GET,
        "/sim/api/phones/{msisdn}/window",
        Rule::Needs(SimulatorUse),
    ),
    (GET, "/sim/api/media/{id}", Rule::Needs(SimulatorUse)),
    (GET, "/sim/api/clock", Rule::Needs(SimulatorUse)),
    (GET, "/sim/api/businesses", Rule::Needs(SimulatorUse)),
    // The simulator: playing Meta.
    (
        POST,
        "/sim/api/clock/advance",
        Rule::Needs(SimulatorControl),
    ),
    (GET, "/sim/api/sends", Rule::Needs(SimulatorControl)),
    (
        GET,
        "/sim/api/businesses/{key}/limits",
        Rule::Needs(SimulatorControl),
    ),
    (
        POST,
        "/sim/api/businesses/{key}/limits",
        Rule::Needs(SimulatorControl),
    ),
    (
        POST,
        "/sim/api/businesses/{key}/updates",
        Rule::Needs(SimulatorControl),
    ),
    (GET, "/sim/api/templates", Rule::Needs(SimulatorControl)),
    (
        POST,
        "/sim/api/templates/{id}/actions",
        Rule::Needs(SimulatorControl),
    ),
    (GET, "/sim/api/faults", Rule::Needs(SimulatorControl)),
    (PUT, "/sim/api/faults", Rule::Needs(SimulatorControl)),
];

/// The rule for a route, `None` when console users may not call it at all.
pub fn rule_for(method: &Method, template: &str) -> Option<Rule> {
    let template = template.strip_prefix("/chatapps").unwrap_or(template);
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    RULES
        .iter()
        .find(|(m, path, _)| *m == method && *path == template)
        .map(|(_, _, rule)| *rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_8x8_and_simulator_route_has_a_rule() {
        let documents = [crate::openapi::document(), parley_simulator::openapi()];
        let mut missing = Vec::new();
        for document in documents {
            for (path, item) in &document.paths.paths {
                // The guarded surfaces. Graph's own endpoints (`/sim/graph/…`), Meta's
                // webhook, file links and the ops endpoints never take a console session.
                if !["/api/", "/sim/api/"].iter().any(|s| path.starts_with(s)) {
                    continue;
                }
                let methods = [
                    (&item.get, Method::GET),
                    (&item.post, Method::POST),
                    (&item.put, Method::PUT),
                    (&item.patch, Method::PATCH),
                    (&item.delete, Method::DELETE),
                ];
                for (operation, method) in methods {
                    if operation.is_some() && rule_for(&method, path).is_none() {
                        missing.push(format!("{method} {path}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "routes without a console rule: {missing:#?}"
        );
    }

    #[test]
    fn an_agent_may_send_and_read_but_not_manage_keys_or_control_the_simulator() {
        let agent = ConsoleRole::Agent;
        let rule = |m: Method, p: &str| rule_for(&m, p).unwrap().check(agent);
        assert!(
            rule(
                Method::POST,
                "/chatapps/api/v1/subaccounts/{subAccountId}/messages"
            )
            .is_ok()
        );
        assert!(rule(Method::GET, "/api/v1/accounts/{accountId}/messages").is_ok());
        assert!(rule(Method::GET, "/console/api/keys").is_err());
        assert!(rule(Method::POST, "/sim/api/clock/advance").is_err());
        assert!(rule(Method::PATCH, "/api/v1/accounts/{accountId}/settings").is_err());
        assert!(rule_for(&Method::POST, "/sim/graph/{version}/{node}/messages").is_none());
    }
}
