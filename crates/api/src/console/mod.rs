//! The console's own API (docs/console.md): sign-in and sessions, console users, API keys.
//! Everything else the console shows comes from the 8x8 routes and the simulator's, with
//! the session cookie standing in for a bearer key ([`session::guard`]).

mod assets;
mod live;
pub mod rules;
pub mod session;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::SET_COOKIE};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use parley_core::console::{NewUser, UserChange, permissions_of};
use parley_store::ConsoleUser;
use parley_types::codes::SyncCode;
use parley_types::time::format_8x8;
use parley_types::{ApiKeyId, ConsoleUserId};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

pub use assets::router as assets_router;
use session::ConsoleCaller;

use crate::extract::JsonBody;
use crate::{ApiError, AppState};

/// `/console/api/…`. Sign-in is outside the session guard (there is no session yet).
pub fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/console/api/session", get(current).delete(sign_out))
        .route("/console/api/users", get(users).post(create_user))
        .route(
            "/console/api/users/{id}",
            patch(update_user).delete(delete_user),
        )
        .route("/console/api/keys", get(keys).post(create_key))
        .route("/console/api/keys/{id}", delete(revoke_key))
        .route("/console/api/events", get(live::events))
        .route_layer(axum::middleware::from_fn_with_state(state, session::guard));
    Router::new()
        .route("/console/api/session", post(sign_in))
        .merge(guarded)
}

fn typed<T: DeserializeOwned>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            SyncCode::InvalidParameter,
            format!("Invalid parameter(s): {e}"),
        )
    })
}

fn time(at: DateTime<Utc>) -> String {
    format_8x8(at)
}

fn user_json(user: &ConsoleUser) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role.as_str(),
        "createdAt": time(user.created_at),
        "disabled": user.disabled,
    })
}

/// What the console needs to draw itself for this user.
async fn session_json(state: &AppState, user: &ConsoleUser, csrf: &str) -> Result<Value, ApiError> {
    let mut sub_accounts: Vec<(String, Vec<Value>)> = Vec::new();
    let mut channels = state
        .store
        .channels()
        .await
        .map_err(parley_core::Error::from)?;
    channels.retain(|c| c.account_id == user.account_id);
    channels
        .sort_by(|a, b| (&a.sub_account_id, a.created_at).cmp(&(&b.sub_account_id, b.created_at)));
    for channel in channels {
        let entry = json!({"id": channel.id, "businessNumber": channel.business_number});
        match sub_accounts.last_mut() {
            Some((id, list)) if id == channel.sub_account_id.as_str() => list.push(entry),
            _ => sub_accounts.push((channel.sub_account_id.to_string(), vec![entry])),
        }
    }
    let permissions: Vec<&str> = permissions_of(user.role)
        .into_iter()
        .map(|p| p.as_str())
        .collect();
    Ok(json!({
        "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role.as_str()},
        "csrfToken": csrf,
        "permissions": permissions,
        "accountId": user.account_id,
        "subAccounts": sub_accounts
            .into_iter()
            .map(|(id, channels)| json!({"id": id, "channels": channels}))
            .collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Credentials { email, password } = typed(body)?;
    let signed_in = state.console.sign_in(&email, &password).await?;
    let body = session_json(&state, &signed_in.user, &signed_in.session.csrf_token).await?;
    Ok((
        [(SET_COOKIE, session::set_cookie(&headers, &signed_in.token))],
        Json(body),
    )
        .into_response())
}

async fn current(
    State(state): State<AppState>,
    caller: ConsoleCaller,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        session_json(&state, &caller.user, &caller.session.csrf_token).await?,
    ))
}

async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: ConsoleCaller,
) -> Result<Response, ApiError> {
    state.console.sign_out(&caller.token).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, session::clear_cookie(&headers))],
    )
        .into_response())
}

async fn users(
    State(state): State<AppState>,
    caller: ConsoleCaller,
) -> Result<Json<Value>, ApiError> {
    let users = state.console.users(&caller.user.account_id).await?;
    Ok(Json(
        json!({"users": users.iter().map(user_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
struct NewUserBody {
    email: String,
    name: String,
    role: String,
    password: String,
}

async fn create_user(
    State(state): State<AppState>,
    caller: ConsoleCaller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let NewUserBody {
        email,
        name,
        role,
        password,
    } = typed(body)?;
    let user = state
        .console
        .create_user(
            &caller.user.account_id,
            NewUser {
                email,
                name,
                role,
                password,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(user_json(&user))))
}

#[derive(Deserialize)]
struct UserChangeBody {
    name: Option<String>,
    role: Option<String>,
    password: Option<String>,
    disabled: Option<bool>,
}

fn console_user_id(raw: &str) -> Result<ConsoleUserId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(SyncCode::NotFound, format!("no console user {raw}")))
}

async fn update_user(
    State(state): State<AppState>,
    caller: ConsoleCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let UserChangeBody {
        name,
        role,
        password,
        disabled,
    } = typed(body)?;
    let change = UserChange {
        name,
        role,
        password,
        disabled,
    };
    let user = state
        .console
        .update_user(&caller.user, console_user_id(&id)?, change)
        .await?;
    Ok(Json(user_json(&user)))
}

async fn delete_user(
    State(state): State<AppState>,
    caller: ConsoleCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .console
        .delete_user(&caller.user, console_user_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn keys(
    State(state): State<AppState>,
    caller: ConsoleCaller,
) -> Result<Json<Value>, ApiError> {
    let keys = state.keys.list(&caller.user.account_id).await?;
    let keys: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.id,
                "name": k.name,
                "prefix": k.prefix,
                "createdAt": time(k.created_at),
                "revokedAt": k.revoked_at.map(time),
            })
        })
        .collect();
    Ok(Json(json!({"keys": keys})))
}

#[derive(Deserialize)]
struct NewKeyBody {
    name: String,
}

async fn create_key(
    State(state): State<AppState>,
    caller: ConsoleCaller,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let NewKeyBody { name } = typed(body)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::new(
            SyncCode::InvalidParameter,
            "Invalid parameter(s): name must have 1 to 100 characters",
        ));
    }
    let issued = state
        .keys
        .create(&caller.user.account_id, name, state.clock.now())
        .await?;
    let record = issued.record;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": record.id,
            "name": record.name,
            "prefix": record.prefix,
            "key": issued.secret,
            "createdAt": time(record.created_at),
        })),
    ))
}

async fn revoke_key(
    State(state): State<AppState>,
    caller: ConsoleCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let missing = || ApiError::new(SyncCode::NotFound, format!("no live API key {id}"));
    let key_id: ApiKeyId = id.parse().map_err(|_| missing())?;
    let ours = state
        .keys
        .list(&caller.user.account_id)
        .await?
        .iter()
        .any(|k| k.id == key_id && k.revoked_at.is_none());
    if !ours || !state.keys.revoke(key_id, state.clock.now()).await? {
        return Err(missing());
    }
    Ok(StatusCode::NO_CONTENT)
}
