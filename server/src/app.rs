//! The HTTP surface: `GET /sync` (WebSocket), `GET /healthz`, `GET /metrics`.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        RawQuery, State,
    },
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use homevisit_core::sync::protocol::MAX_MESSAGE_BYTES;
use tracing::Instrument;

use crate::{
    auth::{token_from_request, token_hash},
    checks::{default_checks, DomainCheck},
    conn,
    docs::Documents,
    metrics::Metrics,
    store::ServerStore,
};

/// Limits and timings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest WebSocket message/frame accepted and sent.
    pub max_message_bytes: usize,
    /// Largest stored document (saved form, or sum of stored chunks).
    pub max_document_bytes: u64,
    /// Documents per `hv-catchup-response` page.
    pub catchup_page: usize,
    /// How often an open connection re-checks that its device is not revoked.
    pub revocation_check: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_document_bytes: 4 * 1024 * 1024,
            catchup_page: 1000,
            revocation_check: Duration::from_secs(15),
        }
    }
}

/// Everything a request handler needs; cheap to clone.
#[derive(Debug)]
pub struct App<S> {
    /// Storage.
    pub store: Arc<S>,
    /// The document engine.
    pub docs: Arc<Documents<S>>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Limits.
    pub config: Arc<ServerConfig>,
    /// This server process's automerge-repo peer id.
    pub peer_id: String,
    /// The storage id the server announces (stable per database would be ideal; per process
    /// is honest: sync states are kept per device, not per storage id).
    pub storage_id: String,
}

impl<S> Clone for App<S> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            docs: Arc::clone(&self.docs),
            metrics: Arc::clone(&self.metrics),
            config: Arc::clone(&self.config),
            peer_id: self.peer_id.clone(),
            storage_id: self.storage_id.clone(),
        }
    }
}

impl<S: ServerStore> App<S> {
    /// A server over `store` with the default domain checks.
    pub fn new(store: S, config: ServerConfig) -> Self {
        Self::with_checks(store, config, default_checks())
    }

    /// A server over `store` with the given domain checks.
    pub fn with_checks(store: S, config: ServerConfig, checks: Vec<Box<dyn DomainCheck>>) -> Self {
        let store = Arc::new(store);
        let metrics = Arc::new(Metrics::default());
        let docs = Arc::new(Documents::new(
            Arc::clone(&store),
            checks,
            config.max_document_bytes,
            Arc::clone(&metrics),
        ));
        Self {
            store,
            docs,
            metrics,
            config: Arc::new(config),
            // Short: the peer id travels in every message (senderId/targetId), and an idle
            // reconnect is a handful of small messages.
            peer_id: format!("hv-s-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            storage_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The router serving every endpoint.
    pub fn router(self) -> Router {
        Router::new()
            .route("/sync", get(sync_endpoint::<S>))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/metrics", get(metrics_endpoint::<S>))
            .with_state(self)
    }
}

fn unauthorized(app: &App<impl ServerStore>) -> Response {
    Metrics::add(&app.metrics.auth_failures_total, 1);
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a valid device token is required\n",
    )
        .into_response()
}

async fn sync_endpoint<S: ServerStore>(
    State(app): State<App<S>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    // Authentication comes first, so that no token and a bad token look the same to a caller
    // whatever else is wrong with the request.
    let Some(hash) = token_from_request(&headers, query.as_deref()).and_then(|t| token_hash(&t))
    else {
        return unauthorized(&app);
    };
    let auth = match app.store.authenticate(hash).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return unauthorized(&app),
        Err(e) => {
            Metrics::add(&app.metrics.errors_total, 1);
            tracing::error!(error = %e, "token lookup failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response();
        }
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) if auth.revoked => {
            Metrics::add(&app.metrics.auth_failures_total, 1);
            return (StatusCode::FORBIDDEN, "this device has been revoked\n").into_response();
        }
        Err(rejection) => return rejection.into_response(),
    };
    let limit = app.config.max_message_bytes;
    let span = tracing::info_span!("sync", device = %auth.device_id, team = %auth.team_id);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            async move {
                if auth.revoked {
                    // Upgraded on purpose: the device must hear `hv-revoked` to wipe its data.
                    conn::refuse_revoked(app, auth, socket).await;
                } else {
                    conn::run(app, auth, socket).await;
                }
            }
            .instrument(span)
        })
}

async fn metrics_endpoint<S: ServerStore>(State(app): State<App<S>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}
