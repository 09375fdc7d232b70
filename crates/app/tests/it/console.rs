//! The console's sign-in, sessions and roles over real HTTP: what a browser (the cookie and
//! the CSRF header) and an attacker without them see.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};

use crate::helpers::{Backend, Setup, TestApp, spawn_app_with};

/// A signed-in browser: its cookie and the session's CSRF token.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
    session: Value,
}

/// `POST /console/api/session` as the sign-in form sends it.
async fn sign_in_request(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/console/api/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn sign_in<'a>(app: &'a TestApp, email: &str, password: &str) -> Browser<'a> {
    let response = sign_in_request(app, email, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let session: Value = response.json().await.unwrap();
    Browser {
        app,
        cookie,
        csrf: session["csrfToken"].as_str().unwrap().to_owned(),
        session,
    }
}

impl Browser<'_> {
    /// A request as the console makes it (cookie, and the CSRF header unless told not to).
    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        csrf: bool,
    ) -> (StatusCode, Value) {
        let mut request = self
            .app
            .http
            .request(method.parse().unwrap(), self.app.url(path))
            .header(COOKIE, &self.cookie);
        if csrf {
            request = request.header("X-CSRF-Token", &self.csrf);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call("GET", path, None, false).await
    }
}

async fn admin(app: &TestApp) -> Browser<'_> {
    sign_in(app, &app.console_admin.email, &app.console_admin.password).await
}

async fn add_user<'a>(admin: &Browser<'a>, role: &str) -> Browser<'a> {
    let email = format!("{role}@example.com");
    let password = format!("{role}-password-123");
    let (status, user) = admin
        .call(
            "POST",
            "/console/api/users",
            Some(json!({"email": email.to_uppercase(), "name": role, "role": role, "password": password})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["email"], email, "emails are kept lower-cased");
    sign_in(admin.app, &email, &password).await
}

async fn console_sign_in_and_sessions(backend: Backend) {
    let app = spawn_app_with(backend, Setup::default()).await;
    assert_eq!(app.console_admin.email, "admin@parley.local");

    // Wrong password and unknown email: the same 401, no cookie.
    for (email, password) in [
        ("admin@parley.local", "wrong-password-1"),
        ("ghost@parley.local", "x"),
    ] {
        let response = sign_in_request(&app, email, password).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(SET_COOKIE).is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], 1200);
        assert_eq!(body["message"], "Invalid email or password");
    }

    let admin = admin(&app).await;
    assert_eq!(admin.session["user"]["role"], "admin");
    assert_eq!(admin.session["accountId"], app.account);
    assert_eq!(admin.session["subAccounts"][0]["id"], app.sub_account);
    assert_eq!(
        admin.session["subAccounts"][0]["channels"][0]["id"],
        app.channel
    );
    assert!(
        admin.session["permissions"]
            .as_array()
            .unwrap()
            .contains(&json!("keys.manage"))
    );
    let (status, current) = admin.get("/console/api/session").await;
    assert_eq!(
        (status, &current["user"]),
        (StatusCode::OK, &admin.session["user"])
    );

    // The cookie stands in for the key on the 8x8 routes; changes need the CSRF header.
    let send =
        json!({"user": {"msisdn": "+15557770001"}, "type": "text", "content": {"text": "hi"}});
    let messages = format!("/api/v1/subaccounts/{}/messages", app.sub_account);
    let (status, refused) = admin
        .call("POST", &messages, Some(send.clone()), false)
        .await;
    assert_eq!(
        (status, refused["code"].clone()),
        (StatusCode::FORBIDDEN, json!(1003))
    );
    let (status, sent) = admin.call("POST", &messages, Some(send), true).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, log) = admin
        .get(&format!("/api/v1/accounts/{}/messages", app.account))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log["data"][0]["umid"], sent["umid"], "{log}");
    // No cookie and no key: still 401.
    let anonymous = app
        .http
        .get(app.url(&format!("/api/v1/accounts/{}/messages", app.account)))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Sign-out ends this session only.
    let other = sign_in(&app, &app.console_admin.email, &app.console_admin.password).await;
    let (status, _) = admin
        .call("DELETE", "/console/api/session", None, true)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin.get("/console/api/session").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(other.get("/console/api/session").await.0, StatusCode::OK);

    // Sessions expire after twelve hours, and the housekeeper forgets them.
    app.advance(12 * 3600 + 1).await;
    assert_eq!(
        other.get("/console/api/session").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.housekeeping().await.sessions_removed >= 1);
}

async fn console_roles_are_enforced_by_the_server(backend: Backend) {
    let app = spawn_app_with(backend, Setup::default()).await;
    let admin = admin(&app).await;
    let agent = add_user(&admin, "agent").await;
    let analyst = add_user(&admin, "analyst").await;

    // An agent: no keys, no users, no simulator control; but sends and reads the log.
    for (method, path) in [
        ("GET", "/console/api/keys".to_owned()),
        ("POST", "/console/api/keys".to_owned()),
        ("GET", "/console/api/users".to_owned()),
        ("POST", "/sim/api/clock/advance".to_owned()),
        ("GET", "/sim/api/templates".to_owned()),
        (
            "PATCH",
            format!("/api/v1/accounts/{}/settings", app.account),
        ),
    ] {
        let (status, body) = agent
            .call(
                method,
                &path,
                Some(json!({"name": "sneaky", "seconds": 60})),
                true,
            )
            .await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::FORBIDDEN, json!(1003)),
            "{method} {path}: {body}"
        );
    }
    assert_eq!(
        agent
            .get(&format!("/api/v1/accounts/{}/messages", app.account))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(agent.get("/sim/api/phones").await.0, StatusCode::OK);
    assert_eq!(
        agent.session["permissions"],
        json!([
            "templates.read",
            "messages.send",
            "logs.read",
            "simulator.use"
        ])
    );

    // An analyst reads but does not send.
    let send =
        json!({"user": {"msisdn": "+15557770002"}, "type": "text", "content": {"text": "hi"}});
    let messages = format!("/api/v1/subaccounts/{}/messages", app.sub_account);
    assert_eq!(
        analyst.call("POST", &messages, Some(send), true).await.0,
        StatusCode::FORBIDDEN
    );

    // Keys made in the console work as bearer keys until revoked, at once.
    let (status, created) = admin
        .call(
            "POST",
            "/console/api/keys",
            Some(json!({"name": "ci"})),
            true,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with(created["prefix"].as_str().unwrap()));
    let (_, listed) = admin.get("/console/api/keys").await;
    let entry = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == created["id"])
        .unwrap()
        .clone();
    assert!(
        entry.get("key").is_none() && entry["revokedAt"].is_null(),
        "{entry}"
    );
    let with_key = |key: &str| {
        app.http
            .get(app.url(&format!("/api/v1/accounts/{}/messages", app.account)))
            .bearer_auth(key.to_owned())
            .send()
    };
    assert_eq!(with_key(key).await.unwrap().status(), StatusCode::OK);
    let revoke = format!("/console/api/keys/{}", created["id"].as_str().unwrap());
    assert_eq!(
        admin.call("DELETE", &revoke, None, true).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        with_key(key).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        admin.call("DELETE", &revoke, None, true).await.0,
        StatusCode::NOT_FOUND
    );

    // Users: bad input is a 1000 naming the field; an admin cannot demote or delete themselves.
    for bad in [
        json!({"email": "x@example.com", "name": "X", "role": "owner", "password": "long-enough-123"}),
        json!({"email": "x@example.com", "name": "X", "role": "agent", "password": "short"}),
        json!({"email": "agent@example.com", "name": "X", "role": "agent", "password": "long-enough-123"}),
        json!({"email": "not-an-email", "name": "X", "role": "agent", "password": "long-enough-123"}),
    ] {
        let (status, body) = admin
            .call("POST", "/console/api/users", Some(bad.clone()), true)
            .await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::BAD_REQUEST, json!(1000)),
            "{bad}: {body}"
        );
    }
    let me = format!(
        "/console/api/users/{}",
        admin.session["user"]["id"].as_str().unwrap()
    );
    assert_eq!(
        admin
            .call("PATCH", &me, Some(json!({"role": "agent"})), true)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin.call("DELETE", &me, None, true).await.0,
        StatusCode::BAD_REQUEST
    );

    // A role change applies on the agent's next request; disabling signs them out.
    let agent_id = agent.session["user"]["id"].as_str().unwrap().to_owned();
    let agent_path = format!("/console/api/users/{agent_id}");
    let (status, changed) = admin
        .call(
            "PATCH",
            &agent_path,
            Some(json!({"role": "supervisor"})),
            true,
        )
        .await;
    assert_eq!(
        (status, changed["role"].clone()),
        (StatusCode::OK, json!("supervisor"))
    );
    assert_eq!(agent.get("/sim/api/templates").await.0, StatusCode::OK);
    admin
        .call("PATCH", &agent_path, Some(json!({"disabled": true})), true)
        .await;
    assert_eq!(
        agent.get("/console/api/session").await.0,
        StatusCode::UNAUTHORIZED
    );
    let response = sign_in_request(&app, "agent@example.com", "agent-password-123").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        admin.call("DELETE", &agent_path, None, true).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, users) = admin.get("/console/api/users").await;
    let emails: Vec<&str> = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect();
    assert_eq!(emails, ["admin@parley.local", "analyst@example.com"]);
}

/// Outside loopback (here: with `open_on_loopback` off) the simulator's control API is not
/// for anyone who can reach the port: it needs the simulator token or a console session,
/// and a session is held to its role, also without the cookie.
#[tokio::test]
async fn the_simulator_control_api_needs_the_token_or_a_session() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Setup {
            configure: Some(|config| config.simulator.open_on_loopback = false),
            ..Setup::default()
        },
    )
    .await;
    let get = |path: &'static str, token: Option<&str>| {
        let mut request = app.http.get(app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for path in ["/sim/api/phones", "/sim/api/faults", "/sim/api/clock"] {
        let (status, body) = get(path, None).await;
        assert_eq!(
            (status, body["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!(1200)),
            "{path}: {body}"
        );
        let (status, body) = get(path, Some("st_guessed")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        let (status, body) = get(path, Some(&app.key)).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "an API key is not the token: {path}: {body}"
        );
        assert_eq!(
            get(path, Some(&app.simulator_token)).await.0,
            StatusCode::OK,
            "{path}"
        );
    }
    let advance = app
        .http
        .post(app.url("/sim/api/clock/advance"))
        .json(&json!({"seconds": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(advance.status(), StatusCode::UNAUTHORIZED);
    // A console agent uses the phones but not the simulator's controls.
    let admin = admin(&app).await;
    let agent = add_user(&admin, "agent").await;
    assert_eq!(agent.get("/sim/api/phones").await.0, StatusCode::OK);
    assert_eq!(agent.get("/sim/api/faults").await.0, StatusCode::FORBIDDEN);
    assert_eq!(admin.get("/sim/api/faults").await.0, StatusCode::OK);
    // Graph's own endpoints are Meta's: its access token, not the simulator token.
    let graph = app
        .http
        .post(app.url("/sim/graph/v23.0/none/messages"))
        .json(&json!({"messaging_product": "whatsapp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(graph.status(), StatusCode::UNAUTHORIZED);
    let body: Value = graph.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], 190,
        "Graph's error, not 8x8's: {body}"
    );
}

crate::on_each_backend!(
    console_sign_in_and_sessions,
    console_roles_are_enforced_by_the_server
);
