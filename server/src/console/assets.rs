//! The NHS design system's stylesheet (nhsuk-frontend, MIT; server/assets/), served from the
//! binary with a long cache lifetime: its path names its version, so a new version is a new
//! address.

use axum::{
    http::header,
    response::{IntoResponse, Response},
};

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/console/assets/console-1-nhsuk-frontend-10.6.1.css";

/// The stylesheet, vendored with its licence (server/assets/nhsuk-frontend/LICENSE), followed
/// by a few rules of the console's own (no inline styles: the CSP allows only stylesheets
/// from this server).
pub const CSS: &str = concat!(
    include_str!("../../assets/nhsuk-frontend/nhsuk-frontend.min.css"),
    "\n",
    include_str!("../../assets/console.css")
);

/// `GET` the stylesheet.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        CSS,
    )
        .into_response()
}
