//! Template management (`reference/chatapps-api.md` §4):
//! `GET|POST /api/v1/accounts/{accountId}/channels/{channelId}/templates` and
//! `DELETE …/templates/{templateName}`.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::routing::{delete, get};
use axum::{Json, Router};
use parley_store::{Channel, Template};
use parley_types::time::format_8x8;
use parley_types::{AccountId, ChannelId};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::extract::JsonBody;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/accounts/{accountId}/channels/{channelId}/templates",
            get(list).post(create),
        )
        .route(
            "/api/v1/accounts/{accountId}/channels/{channelId}/templates/{templateName}",
            delete(remove),
        )
}

#[derive(Deserialize)]
struct RawPath {
    #[serde(rename = "accountId")]
    account_id: String,
    #[serde(rename = "channelId")]
    channel_id: String,
    #[serde(rename = "templateName")]
    template_name: Option<String>,
}

/// `{accountId}/channels/{channelId}` (and `{templateName}`); a malformed id names no
/// channel of the caller's, so it gets the same answer as a missing one.
pub struct ChannelPath {
    account_id: AccountId,
    channel_id: ChannelId,
    template_name: Option<String>,
}

fn channel_not_found() -> ApiError {
    ApiError::from(parley_core::Error::NotFound("Channel not found.".into()))
}

impl<S: Send + Sync> FromRequestParts<S> for ChannelPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<RawPath>::from_request_parts(parts, state)
            .await
            .map_err(|_| channel_not_found())?;
        Ok(Self {
            account_id: AccountId::parse(&raw.account_id).map_err(|_| channel_not_found())?,
            channel_id: raw.channel_id.parse().map_err(|_| channel_not_found())?,
            template_name: raw.template_name,
        })
    }
}

impl ChannelPath {
    /// The account in the path must be the caller's.
    fn account(&self, caller: &AccountId) -> Result<&AccountId, ApiError> {
        if &self.account_id == caller {
            Ok(&self.account_id)
        } else {
            Err(channel_not_found())
        }
    }
}

/// English names of the languages WhatsApp templates are most often written in.
fn language_name(code: &str) -> String {
    const NAMES: &[(&str, &str)] = &[
        ("en", "English"),
        ("en_US", "English (US)"),
        ("en_GB", "English (UK)"),
        ("es", "Spanish"),
        ("es_MX", "Spanish (MEX)"),
        ("es_ES", "Spanish (SPA)"),
        ("es_AR", "Spanish (ARG)"),
        ("pt_BR", "Portuguese (BR)"),
        ("pt_PT", "Portuguese (POR)"),
        ("fr", "French"),
        ("de", "German"),
        ("it", "Italian"),
        ("nl", "Dutch"),
        ("id", "Indonesian"),
        ("ms", "Malay"),
        ("th", "Thai"),
        ("vi", "Vietnamese"),
        ("fil", "Filipino"),
        ("zh_CN", "Chinese (CHN)"),
        ("zh_HK", "Chinese (HKG)"),
        ("zh_TW", "Chinese (TAI)"),
        ("ja", "Japanese"),
        ("ko", "Korean"),
        ("hi", "Hindi"),
        ("ar", "Arabic"),
        ("ru", "Russian"),
        ("tr", "Turkish"),
    ];
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| (*name).to_owned())
        .unwrap_or_else(|| code.to_owned())
}

/// `APPROVED` → `Approved`, `PENDING_DELETION` → `Pending deletion`.
fn friendly(upper: &str) -> String {
    let lower = upper.replace('_', " ").to_ascii_lowercase();
    let mut chars = lower.chars();
    chars
        .next()
        .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// One item of the GET list, in 8x8's registered-template shape.
fn registered(channel: &Channel, template: &Template) -> Value {
    let components = serde_json::from_value(template.spec.clone())
        .map(|spec| parley_core::templates::spec::components_json(&spec))
        .unwrap_or_default();
    let mut item = json!({
        "channelId": channel.id,
        "channelName": channel.business_number,
        "templateName": template.name,
        "language": template.language,
        "languageName": language_name(&template.language),
        "components": components,
        "category": template.category,
        "categoryName": friendly(&template.category),
        "status": template.status,
        "statusName": friendly(&template.status),
        "qualityScore": template.quality,
        "createdAt": format_8x8(template.created_at),
        "updatedAt": format_8x8(template.updated_at),
    });
    if let Some(reason) = &template.reason {
        item["reason"] = json!(reason);
    }
    item
}

/// Create a template (`add-whatsapp-template`): validated, stored, submitted for review.
#[utoipa::path(post, path = "/api/v1/accounts/{accountId}/channels/{channelId}/templates", tag = "Chat Apps: templates",
    params(("accountId" = String, Path), ("channelId" = String, Path)),
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, description = "`{}`: submitted for review"), (status = 400, description = "a broken rule, with its code"),
              (status = 409, description = "code 3060: the name was deleted recently"), (status = 429, description = "too many creations this hour")))]
pub async fn create(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ChannelPath,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let account = path.account(&caller.account_id)?;
    state
        .templates
        .create(account, path.channel_id, &body)
        .await?;
    Ok(Json(json!({})))
}

/// List the channel's templates (`get-whatsapp-templates`).
#[utoipa::path(get, path = "/api/v1/accounts/{accountId}/channels/{channelId}/templates", tag = "Chat Apps: templates",
    params(("accountId" = String, Path), ("channelId" = String, Path)),
    responses((status = 200, description = "`{templates: [...]}`"), (status = 404, description = "code 1300")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ChannelPath,
) -> Result<Json<Value>, ApiError> {
    let account = path.account(&caller.account_id)?;
    let (channel, templates) = state.templates.list(account, path.channel_id).await?;
    let items: Vec<Value> = templates.iter().map(|t| registered(&channel, t)).collect();
    Ok(Json(json!({ "templates": items })))
}

/// Delete every language of a template (`remove-wa-template`); the name stays blocked
/// for 30 days.
#[utoipa::path(delete, path = "/api/v1/accounts/{accountId}/channels/{channelId}/templates/{templateName}", tag = "Chat Apps: templates",
    params(("accountId" = String, Path), ("channelId" = String, Path), ("templateName" = String, Path)),
    responses((status = 200, description = "`{}`"), (status = 404, description = "code 1300")))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(caller): Caller,
    path: ChannelPath,
) -> Result<Json<Value>, ApiError> {
    let account = path.account(&caller.account_id)?;
    let name = path.template_name.clone().unwrap_or_default();
    state
        .templates
        .delete(account, path.channel_id, &name)
        .await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_core::templates::spec::normalise_language;

    #[test]
    fn names_read_like_8x8s() {
        assert_eq!(friendly("PENDING_DELETION"), "Pending deletion");
        assert_eq!(friendly("APPROVED"), "Approved");
        assert_eq!(language_name("en_US"), "English (US)");
        assert_eq!(language_name("xx"), "xx");
        assert_eq!(normalise_language("en-us").as_deref(), Some("en_US"));
    }
}
