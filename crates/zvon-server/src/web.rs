//! The web page: built into the binary, or read from [`ServerConfig::web_dir`] while
//! developing it.
//!
//! [`ServerConfig::web_dir`]: crate::ServerConfig::web_dir

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::server::Shared;

/// The page's files, as built into the binary.
pub const FILES: &[(&str, &str)] = &[
    ("index.html", include_str!("../web/index.html")),
    ("app.js", include_str!("../web/app.js")),
    ("style.css", include_str!("../web/style.css")),
];

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(index))
        .route("/{file}", get(file))
}

async fn index(state: State<Arc<Shared>>) -> Response {
    file(state, Path("index.html".to_owned())).await
}

async fn file(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    // One flat directory: no separators, no dot files, so no way out of it.
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if !plain {
        return StatusCode::NOT_FOUND.into_response();
    }
    if let Some(dir) = &shared.cfg.web_dir
        && let Ok(body) = tokio::fs::read(dir.join(&name)).await
    {
        return reply(&name, body);
    }
    match FILES.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => reply(&name, body.as_bytes().to_vec()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn reply(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type(name)),
            // The page changes with the server; never let a browser run an old app.js.
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
