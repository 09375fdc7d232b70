//! HTTP for templates: Graph's `/{waba-id}/message_templates` (create, list, delete by
//! name) and the control API a person or test uses to act as Meta's reviewers and users:
//! approve, reject, pause, unpause, disable, change quality or category.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use parley_types::Clock;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Simulator;
use crate::control::{Answer, ControlError};
use crate::graph::{GraphFailure, authorise, fail, invalid};
use crate::state::Scheduled;
use crate::templates::from_create_payload;

pub fn graph_router() -> Router<Simulator> {
    Router::new().route(
        "/graph/{version}/{node}/message_templates",
        get(list).post(create).delete(remove),
    )
}

pub fn control_router() -> Router<Simulator> {
    Router::new()
        .route("/api/templates", get(control_list))
        .route("/api/templates/{id}/actions", post(act))
}

fn known_waba(sim: &Simulator, waba_id: &str) -> Result<(), GraphFailure> {
    if sim
        .inner
        .state()
        .businesses
        .iter()
        .any(|b| b.waba_id == waba_id)
    {
        Ok(())
    } else {
        Err(invalid(format!(
            "Unsupported post request. Object with ID '{waba_id}' does not exist"
        )))
    }
}

#[utoipa::path(post, path = "/sim/graph/{version}/{waba_id}/message_templates", tag = "Simulator: Graph API", params(("version" = String, Path), ("waba_id" = String, Path)), responses((status = 200, description = "`{id, status, category}`")))]
pub(crate) async fn create(
    State(sim): State<Simulator>,
    Path((_version, waba_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, GraphFailure> {
    authorise(&sim, &headers)?;
    known_waba(&sim, &waba_id)?;
    let body: Value = serde_json::from_slice(&body).map_err(|e| invalid(e.to_string()))?;
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let id = state.new_template_id();
    let template = from_create_payload(id.clone(), &waba_id, &body, now).map_err(invalid)?;
    if state
        .templates
        .iter()
        .any(|t| t.waba_id == waba_id && t.name == template.name && t.language == template.language)
    {
        return Err(invalid(format!(
            "Content in this language already exists: {} ({})",
            template.name, template.language
        )));
    }
    let answer = json!({"id": id, "status": "PENDING", "category": template.category});
    state.add_template(template);
    let review_at = now + sim.inner.config.schedule.review_after;
    state.schedule(review_at, Scheduled::TemplateReview { id });
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(answer).into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct NameQuery {
    name: Option<String>,
    /// Aggregates to add (`total_count`, `message_template_count`, `message_template_limit`,
    /// `are_translations_complete`).
    summary: Option<String>,
}

#[utoipa::path(get, path = "/sim/graph/{version}/{waba_id}/message_templates", tag = "Simulator: Graph API", params(("version" = String, Path), ("waba_id" = String, Path)), responses((status = 200, description = "`{data: [...]}`")))]
pub(crate) async fn list(
    State(sim): State<Simulator>,
    Path((_version, waba_id)): Path<(String, String)>,
    Query(query): Query<NameQuery>,
    headers: HeaderMap,
) -> Result<Response, GraphFailure> {
    authorise(&sim, &headers)?;
    known_waba(&sim, &waba_id)?;
    let state = sim.inner.state();
    let data: Vec<Value> = state
        .templates
        .iter()
        .filter(|t| t.waba_id == waba_id)
        .filter(|t| query.name.as_ref().is_none_or(|n| &t.name == n))
        .map(|t| {
            let mut item = serde_json::to_value(t).expect("templates serialise");
            // The simulator's own bookkeeping, not Graph's fields.
            if let Some(fields) = item.as_object_mut() {
                fields.remove("pauses");
                fields.remove("quality_at");
            }
            item["quality_score"] =
                json!({ "score": t.quality_score, "date": t.quality_at.timestamp() });
            item
        })
        .collect();
    let mut answer = json!({ "data": data, "paging": {} });
    if let Some(wanted) = &query.summary {
        // Graph adds the aggregates a list asks for as `summary`.
        let live = state
            .templates
            .iter()
            .filter(|t| t.waba_id == waba_id)
            .count();
        let mut summary = serde_json::Map::new();
        for field in wanted.split(',').map(str::trim) {
            let value = match field {
                "total_count" => json!(answer["data"].as_array().map_or(0, Vec::len)),
                "message_template_count" => json!(live),
                "message_template_limit" => json!(crate::templates::LIVE_TEMPLATE_LIMIT),
                // Every language a template was created in is complete at once here.
                "are_translations_complete" => json!(true),
                _ => continue,
            };
            summary.insert(field.to_owned(), value);
        }
        answer["summary"] = Value::Object(summary);
    }
    Ok(Json(answer).into_response())
}

#[utoipa::path(delete, path = "/sim/graph/{version}/{waba_id}/message_templates", tag = "Simulator: Graph API", params(("version" = String, Path), ("waba_id" = String, Path)), responses((status = 200, description = "`{success: true}`")))]
pub(crate) async fn remove(
    State(sim): State<Simulator>,
    Path((_version, waba_id)): Path<(String, String)>,
    Query(query): Query<NameQuery>,
    headers: HeaderMap,
) -> Result<Response, GraphFailure> {
    authorise(&sim, &headers)?;
    known_waba(&sim, &waba_id)?;
    let name = query
        .name
        .ok_or_else(|| invalid("Param name is required"))?;
    let mut state = sim.inner.state();
    let disabled = state
        .templates
        .iter()
        .any(|t| t.waba_id == waba_id && t.name == name && t.status == "DISABLED");
    if disabled {
        return Err(invalid(format!(
            "Template {name} is disabled and cannot be deleted"
        )));
    }
    if !state.remove_templates(&waba_id, &name) {
        return Err(fail(
            StatusCode::NOT_FOUND,
            100,
            "Invalid parameter",
            format!("Message template {name} was not found"),
        ));
    }
    Ok(Json(json!({"success": true})).into_response())
}

#[utoipa::path(get, path = "/sim/api/templates", tag = "Simulator: control", responses((status = 200, description = "every template of every business account")))]
pub(crate) async fn control_list(
    State(sim): State<Simulator>,
    Query(query): Query<NameQuery>,
) -> Json<Value> {
    let state = sim.inner.state();
    let templates: Vec<&crate::templates::SimTemplate> = state
        .templates
        .iter()
        .filter(|t| query.name.as_ref().is_none_or(|n| &t.name == n))
        .collect();
    Json(json!({ "templates": templates }))
}

/// A reviewer's or Meta's decision about a template.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum Action {
    Approve,
    Reject {
        #[serde(default)]
        reason: Option<String>,
    },
    Pause,
    Unpause,
    Disable,
    Quality {
        score: String,
    },
    Category {
        category: String,
    },
}

const REJECTION_REASONS: &[&str] = &[
    "ABUSIVE_CONTENT",
    "INCORRECT_CATEGORY",
    "INVALID_FORMAT",
    "PROMOTIONAL",
    "SCAM",
    "TAG_CONTENT_MISMATCH",
    "NONE",
];

#[utoipa::path(post, path = "/sim/api/templates/{id}/actions", tag = "Simulator: control", params(("id" = String, Path)), request_body(content = Object, content_type = "application/json"), responses((status = 200, description = "the template after the action")))]
pub(crate) async fn act(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    Json(action): Json<Action>,
) -> Answer {
    let now = sim.clock().now();
    let mut state = sim.inner.state();
    let template = state
        .template_mut(&id)
        .ok_or_else(|| ControlError(StatusCode::NOT_FOUND, format!("no template {id}")))?;
    let mut pause_ends = None;
    let webhooks = match action {
        Action::Approve => template.set_status("APPROVED", Some("NONE"), None),
        Action::Reject { reason } => {
            let reason = reason.unwrap_or_else(|| "NONE".into()).to_ascii_uppercase();
            if !REJECTION_REASONS.contains(&reason.as_str()) {
                return Err(ControlError(
                    StatusCode::BAD_REQUEST,
                    format!("reason must be one of {}", REJECTION_REASONS.join(", ")),
                ));
            }
            template.set_status("REJECTED", Some(&reason), None)
        }
        Action::Pause => {
            // Like Meta's, the pause ends by itself (see `templates::PAUSES`).
            let (webhooks, lasts) = template.pause();
            pause_ends = lasts.map(|lasts| (now + lasts, template.pauses));
            webhooks
        }
        Action::Unpause => template.set_status("APPROVED", None, Some("UNPAUSE")),
        Action::Disable => template.set_status("DISABLED", None, Some("DISABLED")),
        Action::Quality { score } => {
            let score = score.to_ascii_uppercase();
            if !["GREEN", "YELLOW", "RED", "UNKNOWN"].contains(&score.as_str()) {
                return Err(ControlError(
                    StatusCode::BAD_REQUEST,
                    "score must be GREEN, YELLOW, RED or UNKNOWN".into(),
                ));
            }
            template.set_quality(&score, sim.clock().now())
        }
        Action::Category { category } => {
            let category = category.to_ascii_uppercase();
            if !["AUTHENTICATION", "MARKETING", "UTILITY"].contains(&category.as_str()) {
                return Err(ControlError(
                    StatusCode::BAD_REQUEST,
                    "category must be AUTHENTICATION, MARKETING or UTILITY".into(),
                ));
            }
            template.set_category(&category)
        }
    };
    let snapshot = serde_json::to_value(&*template).expect("templates serialise");
    let waba_id = template.waba_id.clone();
    state.report(&waba_id, now, webhooks);
    if let Some((at, pause)) = pause_ends {
        state.schedule(at, Scheduled::TemplateUnpause { id, pause });
    }
    drop(state);
    sim.inner.wake.notify_one();
    Ok(Json(snapshot))
}
