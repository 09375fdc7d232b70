//! The console's files (`web/dist`, built by Vite) at `/console/`. Release builds carry
//! them inside the binary; debug builds read them from disk on each request, so working
//! on the UI needs `npm run build` but no recompile. Hashed assets are cached for a year,
//! `index.html` never, and every other path under `/console/` answers `index.html` so
//! the app's own routes survive a reload.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Dist;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(|| async { redirect_to_root() }))
        .route("/console/", get(|| async { page() }))
        .route("/console/{*path}", get(file))
}

fn redirect_to_root() -> Response {
    (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "/console/")]).into_response()
}

async fn file(Path(path): Path<String>) -> Response {
    if path.starts_with("api/") {
        return crate::error::not_found().await.into_response();
    }
    match Dist::get(&path) {
        Some(file) if path.starts_with("assets/") => {
            serve(&path, file.data.into_owned(), IMMUTABLE)
        }
        Some(file) => serve(&path, file.data.into_owned(), NO_CACHE),
        // A missing hashed asset is a stale page asking for an old build: a 404, not HTML.
        None if path.starts_with("assets/") => StatusCode::NOT_FOUND.into_response(),
        None => page(),
    }
}

/// `index.html`, whatever client-side route was asked for.
fn page() -> Response {
    match Dist::get("index.html") {
        Some(index) => serve("index.html", index.data.into_owned(), NO_CACHE),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The console is not built. Run: npm --prefix web install && npm --prefix web run build\n",
        )
            .into_response(),
    }
}

fn serve(path: &str, body: Vec<u8>, cache: &'static str) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = HeaderValue::from_str(mime.as_ref())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}
