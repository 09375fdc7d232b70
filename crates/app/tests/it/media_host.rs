//! A customer's own web server for media, on loopback: every path ending in a known
//! extension serves a small real file of that type; `/missing/…` is a 404 and anything
//! else an HTML page (what a misconfigured media URL often returns).

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::files::samples;

pub struct MediaHost {
    pub base: String,
}

impl MediaHost {
    pub async fn start() -> Self {
        let app = Router::new().route("/{*path}", get(serve));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { base }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// `url` with its scheme and host swapped for this server's (a seed's example.com).
    pub fn localise(&self, url: &str) -> String {
        let path = url
            .split_once("://")
            .and_then(|(_, rest)| rest.split_once('/'))
            .map_or("", |(_, path)| path);
        self.url(path)
    }

    /// Every media URL in `body` (any string that is an http(s) URL of a file type this
    /// server serves) pointed at this server; other strings stay.
    pub fn localise_all(&self, body: &mut serde_json::Value) {
        match body {
            serde_json::Value::String(s)
                if s.starts_with("http")
                    && Self::bytes_for(s.split('?').next().unwrap_or("")).is_some() =>
            {
                *s = self.localise(s);
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.localise_all(v)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| self.localise_all(v)),
            _ => {}
        }
    }

    /// The bytes served for a file name (by its extension).
    pub fn bytes_for(name: &str) -> Option<(&'static str, Vec<u8>)> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        let ext = if ext == "jpeg" { "jpg".to_owned() } else { ext };
        samples()
            .into_iter()
            .find(|(sample, _, _)| sample.ends_with(&format!(".{ext}")))
            .map(|(_, mime, bytes)| (mime, bytes))
    }
}

async fn serve(Path(path): Path<String>) -> impl IntoResponse {
    if path.starts_with("missing/") {
        return (
            StatusCode::NOT_FOUND,
            [(CONTENT_TYPE, "text/plain")],
            b"gone".to_vec(),
        );
    }
    let name = path.split('?').next().unwrap_or("");
    match MediaHost::bytes_for(name) {
        Some((mime, bytes)) => (StatusCode::OK, [(CONTENT_TYPE, mime)], bytes),
        None => (
            StatusCode::OK,
            [(CONTENT_TYPE, "text/html")],
            b"<!DOCTYPE html><html><body>Not an image</body></html>".to_vec(),
        ),
    }
}
