//! The UI's static files, compiled into the binary (images are `FROM
//! scratch`; nothing is fetched from elsewhere at run time). Their URLs
//! carry the gateway's version, so they can be cached for a year: a new
//! release is a new URL.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The path segment that versions asset URLs (`/static/<v>/app.css`).
pub const VERSION: &str = crate::VERSION;

const FILES: &[(&str, &str, &[u8])] = &[
    ("app.css", "text/css; charset=utf-8", include_bytes!("../../static/app.css")),
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../static/app.js")),
];

/// `GET /static/{version}/{file}`. Any version is served (a page cached
/// across an upgrade still gets its styles), but only the current one is
/// linked.
pub async fn serve(Path((_version, file)): Path<(String, String)>) -> Response {
    let Some((_, mime, body)) = FILES.iter().find(|(name, _, _)| *name == file) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let mut r = (*body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}
