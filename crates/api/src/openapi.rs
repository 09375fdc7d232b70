//! `/openapi.json`, generated from the handlers' annotations. Surfaces mounted by the app
//! (the simulator) bring their own documents, merged by the app into [`crate::AppState`].

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "Parley", description = "8x8-compatible WhatsApp Business messaging platform"),
    paths(
        crate::messages::send,
        crate::messages::send_batch,
        crate::messages::cancel,
        crate::messages::cancel_batch,
        crate::messages::recent,
        crate::messages::details,
        crate::messages::mark_read,
        crate::messages::events,
        crate::messages::window,
        crate::usage::usage,
        crate::contacts::blacklist,
        crate::contacts::unblacklist,
        crate::files::upload,
        crate::files::download,
        crate::logs::query,
        crate::logs::settings,
        crate::logs::update_settings,
        crate::logs::start_export,
        crate::logs::export_status,
        crate::logs::cancel_export,
        crate::logs::download,
        crate::templates::create,
        crate::templates::list,
        crate::templates::remove,
        crate::webhooks::list,
        crate::webhooks::save,
        crate::webhooks::remove,
        crate::webhooks::deliveries,
        crate::webhooks::delivery,
        crate::webhooks::redrive,
        crate::webhooks::endpoints,
        crate::meta_webhook::verify,
        crate::meta_webhook::receive,
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::prometheus,
        crate::ops::openapi,
    ),
    modifiers(&ChatAppsPrefix)
)]
struct ApiDoc;

/// The 8x8 routes are served at the root and again under `/chatapps`.
struct ChatAppsPrefix;

impl utoipa::Modify for ChatAppsPrefix {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let prefixed: Vec<_> = doc
            .paths
            .paths
            .iter()
            .filter(|(path, _)| path.starts_with("/api/v1/"))
            .map(|(path, item)| (format!("/chatapps{path}"), item.clone()))
            .collect();
        doc.paths.paths.extend(prefixed);
    }
}

/// The document for the API's own routes; the app merges in the other surfaces it mounts.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
