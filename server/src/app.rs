//! The HTTP surface: `GET /sync` (WebSocket), `GET /healthz`, `GET /metrics`, and the team
//! console under `/console` ([`crate::console`]).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    extract::{
        ws::{rejection::WebSocketUpgradeRejection, WebSocketUpgrade},
        ConnectInfo, RawQuery, State,
    },
    http::{header, Extensions, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use homevisit_core::sync::{protocol::MAX_MESSAGE_BYTES, DocumentLimits};
use tracing::Instrument;

use crate::{
    auth::{token_from_request, token_hash},
    checks::{default_checks, DomainCheck},
    conn,
    docs::Documents,
    limits::{AuthAttempt, AuthLimiter, ConnectionLimits, Refusal},
    metrics::Metrics,
    store::ServerStore,
    tls::PeerAddr,
};

/// Limits and timings of a running server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest WebSocket message/frame accepted and sent.
    pub max_message_bytes: usize,
    /// Largest stored document (saved form, or sum of stored chunks).
    pub max_document_bytes: u64,
    /// What a document may cost once loaded (operations, changes, inflated bytes), checked
    /// on the bytes a peer sends before automerge materialises them.
    pub document_limits: DocumentLimits,
    /// Largest attachment a device may upload (checked on the offer).
    pub max_attachment_bytes: u64,
    /// Attachment bytes one team may hold (complete ones, and what partial ones received).
    pub team_attachment_quota_bytes: u64,
    /// Documents per `hv-catchup-response` page.
    pub catchup_page: usize,
    /// How often an open connection re-checks that its device is not revoked.
    pub revocation_check: Duration,
    /// How often the server looks for new revocations (one query for the whole server); a
    /// revoked device's open sessions end within about this time.
    pub revocation_poll: Duration,
    /// How long a connection may take to send a complete HTTP request head once the server
    /// starts reading it; a slower one is disconnected.
    pub header_read_timeout: Duration,
    /// Most accepted connections still in their TLS handshake or sending their first request
    /// head; more are answered `503` and closed at once ([`crate::http`]).
    pub max_pending_connections: usize,
    /// Most WebSocket connections open at once; more are refused with `503`.
    pub max_connections: usize,
    /// Most WebSocket connections one device may hold at once; more are refused with `429`.
    pub max_connections_per_device: usize,
    /// Bad tokens one source address may present per `auth_failure_window` before it is
    /// refused with `429` until the window ends; `0` disables the limit.
    pub max_auth_failures: u32,
    /// The window of `max_auth_failures`.
    pub auth_failure_window: Duration,
    /// How long a new connection has to send `join`.
    pub join_timeout: Duration,
    /// A joined connection from which nothing arrives (no message, no pong to the server's
    /// pings, sent every third of this) for this long is closed.
    pub idle_timeout: Duration,
    /// A message the peer does not take off the socket within this time closes the
    /// connection: a client that stops reading cannot hold the server's memory or time.
    pub write_timeout: Duration,
    /// Documents kept loaded in memory; idle ones beyond this are dropped and reloaded from
    /// storage when next used.
    pub doc_cache_slots: usize,
    /// The team console's timeouts and limits.
    pub console: crate::console::ConsoleConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: MAX_MESSAGE_BYTES,
            max_document_bytes: 4 * 1024 * 1024,
            document_limits: DocumentLimits::default(),
            max_attachment_bytes: 25 * 1024 * 1024,
            team_attachment_quota_bytes: 20 * 1024 * 1024 * 1024,
            catchup_page: 1000,
            revocation_check: Duration::from_secs(15),
            revocation_poll: Duration::from_millis(250),
            header_read_timeout: Duration::from_secs(10),
            max_pending_connections: 1024,
            max_connections: 4096,
            max_connections_per_device: 4,
            max_auth_failures: 20,
            auth_failure_window: Duration::from_secs(60),
            join_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            write_timeout: Duration::from_secs(60),
            doc_cache_slots: 512,
            console: crate::console::ConsoleConfig::default(),
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
    /// Connection counts against the limits.
    pub connections: Arc<ConnectionLimits>,
    /// Failed authentications per source address.
    pub auth_limiter: Arc<AuthLimiter>,
    /// Bumped whenever a device revocation is noticed: every connection then re-checks its
    /// own device at once.
    pub revocations: Arc<tokio::sync::watch::Sender<u64>>,
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
            connections: Arc::clone(&self.connections),
            auth_limiter: Arc::clone(&self.auth_limiter),
            revocations: Arc::clone(&self.revocations),
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
            config.doc_cache_slots,
            Arc::clone(&metrics),
        ));
        Self {
            store,
            docs,
            metrics,
            connections: Arc::new(ConnectionLimits::new(
                config.max_connections,
                config.max_connections_per_device,
            )),
            auth_limiter: Arc::new(AuthLimiter::new(
                config.max_auth_failures,
                config.auth_failure_window,
            )),
            config: Arc::new(config),
            revocations: Arc::new(tokio::sync::watch::channel(0).0),
            // Short: the peer id travels in every message (senderId/targetId), and an idle
            // reconnect is a handful of small messages.
            peer_id: format!("hv-s-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            storage_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    /// Starts the task that notices revocations (every `revocation_poll`) and tells every
    /// connection; it stops when the returned guard is dropped.
    pub fn watch_revocations(&self) -> RevocationWatch {
        let store = Arc::clone(&self.store);
        let tx = Arc::clone(&self.revocations);
        let every = self.config.revocation_poll.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut last = None;
            loop {
                tick.tick().await;
                match store.revoked_count().await {
                    Ok(n) if last != Some(n) => {
                        if last.is_some() {
                            tx.send_modify(|v| *v = v.wrapping_add(1));
                        }
                        last = Some(n);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "revocation poll failed"),
                }
            }
        });
        RevocationWatch(task)
    }

    /// The router serving every endpoint.
    pub fn router(self) -> Router {
        let console = crate::console::router(self.clone());
        Router::new()
            .route("/sync", get(sync_endpoint::<S>))
            .route("/healthz", get(healthz_endpoint::<S>))
            .route("/metrics", get(metrics_endpoint::<S>))
            .with_state(self)
            .merge(console)
    }
}

fn unauthorized(app: &App<impl ServerStore>, attempt: Option<AuthAttempt>) -> Response {
    Metrics::add(&app.metrics.auth_failures_total, 1);
    if let Some(attempt) = attempt {
        attempt.failed(Instant::now());
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "a valid device token is required\n",
    )
        .into_response()
}

/// `429`/`503` with `Retry-After` (whole seconds, at least 1).
fn refuse(status: StatusCode, retry_after: Duration, text: &'static str) -> Response {
    let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    (
        status,
        [(header::RETRY_AFTER, secs.max(1).to_string())],
        text,
    )
        .into_response()
}

/// How long a connection waits for a place among its address's authentications in flight
/// before it is refused with `429` (many tablets behind one proxy reconnecting at once).
const AUTH_PLACE_WAIT: Duration = Duration::from_secs(10);

async fn sync_endpoint<S: ServerStore>(
    State(app): State<App<S>>,
    extensions: Extensions,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let peer = extensions
        .get::<ConnectInfo<PeerAddr>>()
        .map(|ConnectInfo(p)| *p);
    // An address that sent too many bad tokens waits out its window before anything else is
    // looked at, valid token or not: guessing costs time, not database work. Attempts still
    // being evaluated hold a place of the limit, so a concurrent burst is bounded too.
    let attempt = match peer {
        Some(PeerAddr(addr)) => match app.auth_limiter.admit(addr.ip(), AUTH_PLACE_WAIT).await {
            Ok(attempt) => Some(attempt),
            Err(wait) => {
                Metrics::add(&app.metrics.refused_rate_limited_total, 1);
                return refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    wait,
                    "too many failed authentications from this address; retry later\n",
                );
            }
        },
        None => None,
    };
    // A full server refuses before doing any work.
    let total_slot = match app.connections.admit() {
        Ok(slot) => slot,
        Err(_) => {
            Metrics::add(&app.metrics.refused_server_full_total, 1);
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(5),
                "the server is at its connection limit; retry later\n",
            );
        }
    };
    // Authentication comes next, so that no token and a bad token look the same to a caller
    // whatever else is wrong with the request.
    let Some(hash) = token_from_request(&headers, query.as_deref()).and_then(|t| token_hash(&t))
    else {
        return unauthorized(&app, attempt);
    };
    Metrics::add(&app.metrics.auth_evaluations_total, 1);
    let auth = match app.store.authenticate(hash).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return unauthorized(&app, attempt),
        Err(e) => {
            Metrics::add(&app.metrics.errors_total, 1);
            tracing::error!(error = %e, "token lookup failed");
            return (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response();
        }
    };
    // A known token: its place in the address's limit is given back.
    drop(attempt);
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) if auth.revoked => {
            Metrics::add(&app.metrics.auth_failures_total, 1);
            return (StatusCode::FORBIDDEN, "this device has been revoked\n").into_response();
        }
        Err(rejection) => return rejection.into_response(),
    };
    let device_slot = match app.connections.admit_device(auth.device_id) {
        Ok(slot) => slot,
        Err(Refusal::DeviceLimit | Refusal::ServerFull) => {
            Metrics::add(&app.metrics.refused_device_limit_total, 1);
            return refuse(
                StatusCode::TOO_MANY_REQUESTS,
                Duration::from_secs(5),
                "this device already holds its maximum number of connections\n",
            );
        }
    };
    crate::console::devices::note_contact(&app, &auth).await;
    let limit = app.config.max_message_bytes;
    let span = tracing::info_span!("sync", device = %auth.device_id, team = %auth.team_id);
    ws.max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| {
            async move {
                // Both places are held for the life of the connection.
                let _slots = (total_slot, device_slot);
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

/// `200 ok` when the storage answers a query, `503` with the reason when it does not (a load
/// balancer then sends devices to another instance).
async fn healthz_endpoint<S: ServerStore>(State(app): State<App<S>>) -> Response {
    match tokio::time::timeout(Duration::from_secs(5), app.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: storage failed");
            (StatusCode::SERVICE_UNAVAILABLE, "storage unavailable\n").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "storage did not answer\n").into_response(),
    }
}

async fn metrics_endpoint<S: ServerStore>(State(app): State<App<S>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

/// The revocation watch task of [`App::watch_revocations`]; dropping it stops the task.
#[derive(Debug)]
pub struct RevocationWatch(tokio::task::JoinHandle<()>);

impl Drop for RevocationWatch {
    fn drop(&mut self) {
        self.0.abort();
    }
}
