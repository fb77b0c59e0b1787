//! The team console: server-rendered pages under `/console` for team leads and approvers
//! (docs/CONSOLE.md). Same process as the sync endpoint, same storage, same core rules: the
//! console never does what a tablet's rules refuse.
//!
//! One job per file: [`session`] signs people in and out, [`layout`] draws the page frame and
//! sets the security headers, [`mirror`] keeps a per-team read copy of the documents for the
//! core's record service, and each page has its own file.

pub mod access;
pub mod assets;
pub mod audit_upload;
pub mod devices;
pub mod health;
pub mod layout;
pub mod limiter;
pub mod mirror;
pub mod postgres;
pub mod records;
pub mod requests;
pub mod session;
pub mod sqlite;
pub mod store;

use std::{sync::Arc, time::Duration};

use axum::{
    extract::ConnectInfo,
    http::{Extensions, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
    Router,
};

use crate::{app::App, store::ServerStore, tls::PeerAddr};

/// The console's timings and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleConfig {
    /// A session unused for this long ends (15 minutes).
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not (8 hours).
    pub absolute_timeout: Duration,
    /// Cookies carry `Secure` (set when the server runs with TLS).
    pub secure_cookies: bool,
    /// Failed sign-ins per account, and per source address, within `failure_window` before
    /// sign-in is refused for the rest of the window.
    pub max_failures: u32,
    /// The window of `max_failures`.
    pub failure_window: Duration,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(15 * 60),
            absolute_timeout: Duration::from_secs(8 * 60 * 60),
            secure_cookies: false,
            max_failures: 5,
            failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// Why a console request failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Nothing of that id in the signed-in user's team (another team's id looks the same).
    #[error("not found")]
    NotFound,
    /// The form's CSRF token is missing or wrong.
    #[error("the form's security token is missing or wrong")]
    Csrf,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The document engine failed.
    #[error(transparent)]
    Docs(#[from] crate::docs::DocError),
    /// The core refused or failed.
    #[error(transparent)]
    Core(#[from] homevisit_core::Error),
    /// Anything else (a task that did not finish).
    #[error("{0}")]
    Internal(String),
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            ConsoleError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address in your team.".to_string(),
            ),
            ConsoleError::Csrf => (
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form did not carry its security token. Go back, reload the page and try again."
                    .to_string(),
            ),
            other => {
                tracing::error!(error = %other, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not complete the request. Nothing was changed; try again."
                        .to_string(),
                )
            }
        };
        (status, layout::bare_page(title, &text)).into_response()
    }
}

/// Everything a console handler needs.
#[derive(Debug)]
pub struct Console<S> {
    /// The server (storage, documents, metrics, limits).
    pub app: App<S>,
    /// Failed sign-ins per account and per address.
    pub limiter: Arc<limiter::FailureLimiter>,
    /// Per-team read copies of the documents.
    pub mirrors: Arc<mirror::Mirrors>,
}

impl<S> Clone for Console<S> {
    fn clone(&self) -> Self {
        Self {
            app: self.app.clone(),
            limiter: Arc::clone(&self.limiter),
            mirrors: Arc::clone(&self.mirrors),
        }
    }
}

impl<S> Console<S> {
    /// The console's configuration.
    pub fn config(&self) -> &ConsoleConfig {
        &self.app.config.console
    }
}

/// The source address of a request, as text.
pub fn peer_address(extensions: &Extensions) -> Option<String> {
    extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map(|ConnectInfo(PeerAddr(a))| a.ip().to_string())
}

/// The `/console` routes, with the console's security headers on every response.
pub fn router<S: ServerStore>(app: App<S>) -> Router {
    let limiter = Arc::new(limiter::FailureLimiter::new(
        app.config.console.max_failures,
        app.config.console.failure_window,
    ));
    let console = Console {
        app,
        limiter,
        mirrors: Arc::new(mirror::Mirrors::default()),
    };
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/requests") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/requests") }),
        )
        .route(
            "/console/sign-in",
            get(session::sign_in_form::<S>).post(session::sign_in::<S>),
        )
        .route("/console/sign-out", post(session::sign_out::<S>))
        .route("/console/requests", get(requests::list::<S>))
        .route("/console/requests/{id}", get(requests::show::<S>))
        .route(
            "/console/requests/{id}/transition",
            post(requests::transition::<S>),
        )
        .route("/console/devices", get(devices::list::<S>))
        .route(
            "/console/devices/{id}/revoke",
            get(devices::confirm::<S>).post(devices::revoke::<S>),
        )
        .route("/console/records", get(records::caseload::<S>))
        .route("/console/records/{id}", get(records::show::<S>))
        .route("/console/records/{id}/report", get(records::report::<S>))
        .route("/console/access-log", get(access::list::<S>))
        .route("/console/health", get(health::show::<S>))
        .route(assets::CSS_PATH, get(assets::css))
        .layer(axum::middleware::map_response(layout::security_headers))
        .with_state(console)
}

/// A code-valued enum as words (`bathing_aids` → `bathing aids`).
pub fn words(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s.replace('_', " "),
        _ => "unknown".into(),
    }
}

/// The signed-in user as an actor of the core's rules: their own id, role and HCPC details,
/// on the console's device. Also the upload identity the document engine attributes to.
pub async fn actor<S: ServerStore>(
    console: &Console<S>,
    signed: &session::Signed,
) -> Result<(homevisit_core::model::user::Actor, crate::store::DeviceAuth), ConsoleError> {
    let u = &signed.user;
    let device_id = console.app.store.console_device(u.user_id).await?;
    Ok((
        homevisit_core::model::user::Actor {
            user_id: u.user_id,
            role: u.role,
            device_id,
            team_id: u.team_id,
            hcpc_number: u.hcpc_number.clone(),
            hcpc_verified_until: u.hcpc_verified_until,
        },
        crate::store::DeviceAuth {
            device_id,
            user_id: u.user_id,
            team_id: u.team_id,
            role: u.role,
            hcpc_number: u.hcpc_number.clone(),
            hcpc_verified_until: u.hcpc_verified_until,
            revoked: false,
        },
    ))
}

/// Parses a record id from a URL; anything unparsable is as unknown as an id of another team.
pub fn parse_record_id(s: &str) -> Result<homevisit_core::RecordId, ConsoleError> {
    s.parse().map_err(|_| ConsoleError::NotFound)
}

/// User names of the team by id, for history and logs.
pub async fn user_names<S: ServerStore>(
    console: &Console<S>,
    team: crate::store::TeamId,
) -> Result<std::collections::HashMap<uuid::Uuid, String>, ConsoleError> {
    Ok(console
        .app
        .store
        .team_users(team)
        .await?
        .into_iter()
        .map(|u| (u.user_id, u.name))
        .collect())
}
