//! The device sync client: one catch-up session with the team server over a WebSocket
//! (docs/PROTOCOL.md "Reconnect"), a long-lived mode that keeps pushing local changes, and
//! retries with exponential backoff and full jitter. docs/SYNC-CLIENT.md describes the
//! behaviour; this file is the state machine.
//!
//! Everything the client writes goes through [`LocalDocs`], one atomic operation at a time, and
//! no write is held open across a network wait: whatever happens to the connection, the store
//! is consistent. A record becomes `synced` only through [`LocalDocs::mark_acknowledged`] with
//! heads the server said it durably committed (`hv-ack`), never on the client's own say-so.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    sync::Arc,
    time::Duration,
};

use automerge::{sync, ChangeHash};
use futures_util::{FutureExt, SinkExt, StreamExt};
use rand::{rngs::StdRng, SeedableRng};
use tokio::{net::TcpStream, sync::Notify};
use tokio_tungstenite::{
    tungstenite::{
        self,
        client::IntoClientRequest,
        http::{header::AUTHORIZATION, HeaderValue, StatusCode},
        protocol::{frame::coding::CloseCode, CloseFrame, WebSocketConfig},
        Message as WsMessage,
    },
    MaybeTlsStream, WebSocketStream,
};

use super::{
    backoff::{Backoff, BackoffPolicy},
    local::{LocalDocs, SyncStatus, META_CURSOR, META_LAST_SYNCED_AT},
    progress::{DocumentProblem, SyncProgress, SyncReport},
    protocol::{
        AuditRecord, Extension, HomeVisitMetadata, Message, PeerMetadata, MAX_AUDIT_ENTRIES,
        MAX_LIST_LEN, MAX_MESSAGE_BYTES, PROTOCOL_VERSION,
    },
};
use crate::{ids::RecordId, Error, Result};

/// Most document ids the client lists in one `hv-catchup-request` (the server's
/// `MAX_CATCHUP_IDS`); more unsynced records go in the following requests.
pub const MAX_CATCHUP_IDS: usize = MAX_LIST_LEN / 2;

/// Sync messages without changes sent in a row for one record, with none received either,
/// after which the session stops that record's exchange: a healthy exchange needs two or three
/// (docs/SYNC-CLIENT.md). The record stays unsynced, is reported, and is tried again next time.
pub const MAX_IDLE_EXCHANGES: u32 = 64;

/// Frames up to this size are packed together into one `hv-batch`; larger messages (whole
/// documents) go alone so one upload never delays many small sync messages.
const BATCH_TARGET_BYTES: usize = 512 * 1024;

/// Tunables of a [`SyncClient`]. The defaults suit a tablet on a mobile network.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Most documents with messages in flight at once (back-pressure on both sides).
    pub window: usize,
    /// How long the client waits for the server while it expects an answer before it gives
    /// the connection up as dead (a `Network` error; the next attempt resumes).
    pub response_timeout: Duration,
    /// Retry spacing for [`SyncClient::sync_with_retry`] and the long-lived mode.
    pub backoff: BackoffPolicy,
    /// In the long-lived mode, how often to ask the server for changes made by other devices
    /// to records this connection has not touched yet.
    pub poll_interval: Duration,
    /// Largest frame sent or accepted (the server's limit is the same by default).
    pub max_message_bytes: usize,
    /// Extra trust anchors for `wss://` (a self-hosted team server's own CA), in DER form,
    /// added to the Mozilla roots.
    pub extra_root_certificates: Vec<Vec<u8>>,
    /// Most whole documents received (`hv-doc`) that are stored in one transaction; fewer
    /// when no more have arrived. Each is stored acknowledged, so none is `synced` before its
    /// batch commits, and a batch lost before it commits is fetched again. 1 is a durable
    /// commit per record.
    pub docs_per_transaction: usize,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            window: 64,
            response_timeout: Duration::from_secs(30),
            backoff: BackoffPolicy::default(),
            poll_interval: Duration::from_secs(60),
            max_message_bytes: MAX_MESSAGE_BYTES,
            extra_root_certificates: Vec::new(),
            docs_per_transaction: 64,
        }
    }
}

/// Syncs a device's local records with its team server.
pub struct SyncClient<L: LocalDocs> {
    url: String,
    token: String,
    local: Arc<L>,
    config: SyncConfig,
    peer_id: String,
}

impl<L: LocalDocs> std::fmt::Debug for SyncClient<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("SyncClient")
            .field("url", &self.url)
            .field("peer_id", &self.peer_id)
            .finish_non_exhaustive()
    }
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl<L: LocalDocs> SyncClient<L> {
    /// A client for the server at `url` (`ws://…/sync` or `wss://…/sync`) authenticating with
    /// the device `token`, syncing the records in `local`.
    pub fn new(url: impl Into<String>, token: impl Into<String>, local: Arc<L>) -> Result<Self> {
        Self::with_config(url, token, local, SyncConfig::default())
    }

    /// Like [`SyncClient::new`] with explicit tunables.
    pub fn with_config(
        url: impl Into<String>,
        token: impl Into<String>,
        local: Arc<L>,
        config: SyncConfig,
    ) -> Result<Self> {
        let url = url.into();
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(Error::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: "the sync server address must start with ws:// or wss://".into(),
            });
        }
        let token = token.into();
        if HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(Error::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: "the device token contains characters a header cannot carry".into(),
            });
        }
        Ok(Self {
            url,
            token,
            local,
            config: SyncConfig {
                window: config.window.max(1),
                ..config
            },
            // Short: the peer id travels in every message, and an idle reconnect should cost
            // a few dozen bytes. Random per client object, as automerge-repo peers do.
            peer_id: format!("hv-{:016x}", rand::random::<u64>()),
        })
    }

    /// The local storage this client syncs.
    pub fn local(&self) -> &Arc<L> {
        &self.local
    }

    /// Runs one sync session: connect, catch up (both directions), store the new cursor,
    /// disconnect. `progress` is called as work completes.
    ///
    /// Errors: [`Error::Unauthorized`] (token refused; nothing changed locally),
    /// [`Error::Revoked`] (the local data has been wiped), [`Error::Network`] (retry later;
    /// everything acknowledged so far is recorded), or a local storage error.
    pub async fn sync(&self, progress: impl Fn(SyncProgress) + Send + Sync) -> Result<SyncReport> {
        let mut session = self.connect(&progress).await?;
        let result = match session.catch_up().await {
            Ok(()) => session.upload_audit().await,
            Err(e) => Err(e),
        };
        session.close().await;
        result?;
        session.into_report().await
    }

    /// [`SyncClient::sync`], retried after network failures with exponential backoff and full
    /// jitter until it succeeds or the policy's attempts are used up. `Unauthorized`,
    /// `Revoked` and local storage errors are returned at once: retrying cannot help.
    pub async fn sync_with_retry(
        &self,
        progress: impl Fn(SyncProgress) + Send + Sync,
    ) -> Result<SyncReport> {
        let mut backoff = Backoff::new(self.config.backoff.clone());
        let mut rng = StdRng::from_entropy();
        loop {
            match self.sync(&progress).await {
                Err(Error::Network(reason)) if backoff.may_retry() => {
                    let delay = backoff.next_delay(&mut rng);
                    tracing::info!(%reason, ?delay, "sync failed; retrying");
                    tokio::time::sleep(delay).await;
                }
                other => return other,
            }
        }
    }

    /// The long-lived mode: stays connected, catches up at once, then pushes local changes
    /// as soon as the store reports a local change ([`LocalDocs::on_local_change`]; nothing
    /// has to be told), applies changes the server pushes,
    /// and asks for other devices' changes every `poll_interval`. Reconnects after network
    /// failures with backoff and jitter. Returns `Ok(())` when `shutdown` completes, or the
    /// error that makes going on pointless (`Unauthorized`, `Revoked`, local storage).
    pub async fn run_until_cancelled(
        &self,
        shutdown: impl Future<Output = ()> + Send,
        progress: impl Fn(SyncProgress) + Send + Sync,
    ) -> Result<()> {
        let mut backoff = Backoff::new(self.config.backoff.clone());
        let mut rng = StdRng::from_entropy();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let outcome = tokio::select! {
                () = &mut shutdown => return Ok(()),
                outcome = self.live_session(&progress, &mut backoff) => outcome,
            };
            match outcome {
                Err(Error::Network(reason)) => {
                    let delay = backoff.next_delay(&mut rng);
                    tracing::info!(%reason, ?delay, "sync connection lost; reconnecting");
                    tokio::select! {
                        () = &mut shutdown => return Ok(()),
                        () = tokio::time::sleep(delay) => {}
                    }
                }
                Err(e) => return Err(e),
                Ok(()) => backoff.reset(),
            }
        }
    }

    async fn live_session(
        &self,
        progress: &(dyn Fn(SyncProgress) + Send + Sync),
        backoff: &mut Backoff,
    ) -> Result<()> {
        let mut session = self.connect(progress).await?;
        let result = session.live(backoff).await;
        session.close().await;
        result
    }

    async fn connect<'c>(
        &'c self,
        progress: &'c (dyn Fn(SyncProgress) + Send + Sync),
    ) -> Result<Session<'c, L>> {
        let mut request = self
            .url
            .as_str()
            .into_client_request()
            .map_err(|e| Error::Network(format!("bad server address: {e}")))?;
        let auth = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|_| Error::Unauthorized)?;
        request.headers_mut().insert(AUTHORIZATION, auth);
        let ws_config = WebSocketConfig::default()
            .max_message_size(Some(self.config.max_message_bytes))
            .max_frame_size(Some(self.config.max_message_bytes));
        let connecting = open_socket(
            request,
            ws_config,
            self.url.starts_with("wss://"),
            &self.config.extra_root_certificates,
        );
        let (ws, _response) = tokio::time::timeout(self.config.response_timeout, connecting)
            .await
            .map_err(|_| Error::Network("the server did not answer the connection".into()))??
            .map_err(connect_error)?;
        let mut session = Session {
            client: self,
            ws,
            server: String::new(),
            batch: false,
            audit: false,
            progress,
            report: SyncReport::default(),
            states: HashMap::new(),
            tasks: HashMap::new(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            outbox: Vec::new(),
            sent_since_wait: false,
            docs_total: 0,
            docs_done: 0,
            bytes_queued: 0,
            sent_changes: HashSet::new(),
            received_changes: HashSet::new(),
            statuses: HashMap::new(),
            cursor_blocked: false,
            incomplete: false,
            live: false,
            pushes: 0,
            idle_exchanges: HashMap::new(),
            stalled: HashSet::new(),
            docs_in: Vec::new(),
        };
        match session.handshake().await {
            Ok(()) => Ok(session),
            Err(e) => {
                session.close().await;
                Err(e)
            }
        }
    }
}

type Upgrade =
    std::result::Result<(Socket, tungstenite::handshake::client::Response), tungstenite::Error>;

/// Opens the WebSocket: plain TCP for `ws://`, rustls for `wss://`.
#[cfg(feature = "tls")]
async fn open_socket(
    request: tungstenite::handshake::client::Request,
    config: WebSocketConfig,
    tls: bool,
    extra_roots: &[Vec<u8>],
) -> Result<Upgrade> {
    let connector = if tls {
        tokio_tungstenite::Connector::Rustls(Arc::new(tls_config(extra_roots)?))
    } else {
        tokio_tungstenite::Connector::Plain
    };
    Ok(tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(config),
        true,
        Some(connector),
    )
    .await)
}

/// Without the `tls` feature there is no `wss://` (only the iOS type check builds so).
#[cfg(not(feature = "tls"))]
async fn open_socket(
    request: tungstenite::handshake::client::Request,
    config: WebSocketConfig,
    tls: bool,
    _extra_roots: &[Vec<u8>],
) -> Result<Upgrade> {
    if tls {
        return Err(Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: "this build has no TLS support (cargo feature `tls`); wss:// is unavailable"
                .into(),
        });
    }
    Ok(tokio_tungstenite::connect_async_with_config(request, Some(config), true).await)
}

/// The rustls configuration for `wss://`: ring as the crypto provider (no OpenSSL on the
/// device path), Mozilla's roots plus any configured extra anchors.
#[cfg(feature = "tls")]
fn tls_config(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: format!("an extra root certificate is not usable: {e}"),
            })?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config)
}

/// Maps a failed WebSocket upgrade: the server's 401 (no, malformed or unknown token) and 403
/// are credential problems the user must fix; everything else is worth retrying.
fn connect_error(e: tungstenite::Error) -> Error {
    match e {
        tungstenite::Error::Http(response)
            if response.status() == StatusCode::UNAUTHORIZED
                || response.status() == StatusCode::FORBIDDEN =>
        {
            Error::Unauthorized
        }
        tungstenite::Error::Http(response) => {
            Error::Network(format!("the server answered HTTP {}", response.status()))
        }
        other => Error::Network(other.to_string()),
    }
}

/// What a document needs in this session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Both sides may have changes: automerge sync rounds.
    Sync,
    /// The device lacks the document: `request`, answered with `hv-doc`.
    Fetch,
    /// The server lacks the document: `hv-doc` upload.
    Upload,
}

#[derive(Debug)]
struct Task {
    kind: Kind,
    /// Messages sent for this document that the server has not answered with `hv-ack` (or
    /// `hv-doc` for a fetch) yet.
    outstanding: u32,
    /// Size of the whole document being uploaded (0 for other kinds).
    upload_bytes: u64,
}

/// One connection.
struct Session<'c, L: LocalDocs> {
    client: &'c SyncClient<L>,
    ws: Socket,
    server: String,
    batch: bool,
    /// The server takes `hv-audit-upload` (the access log).
    audit: bool,
    progress: &'c (dyn Fn(SyncProgress) + Send + Sync),
    report: SyncReport,
    /// Sync states of the documents touched on this connection (seeded from the store).
    states: HashMap<RecordId, sync::State>,
    tasks: HashMap<RecordId, Task>,
    queue: VecDeque<(RecordId, Kind)>,
    queued: HashSet<RecordId>,
    outbox: Vec<Message>,
    /// Something was sent since the client last waited: the next wait is a round trip.
    sent_since_wait: bool,
    docs_total: u64,
    docs_done: u64,
    bytes_queued: u64,
    sent_changes: HashSet<RecordId>,
    received_changes: HashSet<RecordId>,
    /// Latest status of each record acknowledged in this session.
    statuses: HashMap<RecordId, SyncStatus>,
    /// A server-listed document did not fully arrive: the cursor must not move past it.
    cursor_blocked: bool,
    /// Something could not be finished this session.
    incomplete: bool,
    /// Messages carrying local changes sent so far (uploads and sync messages with changes).
    pushes: u64,
    /// Long-lived connection: documents moved whole are then synced once, so that the server
    /// counts this connection as syncing them and pushes other devices' changes.
    live: bool,
    /// Change-free sync messages sent in a row per record ([`MAX_IDLE_EXCHANGES`]).
    idle_exchanges: HashMap<RecordId, u32>,
    /// Records whose exchange was stopped in this session.
    stalled: HashSet<RecordId>,
    /// Whole documents received (`hv-doc`) and not stored yet: stored together, in one
    /// transaction, before the session waits, answers or handles anything else.
    docs_in: Vec<(RecordId, Vec<u8>, Vec<ChangeHash>)>,
}

impl<L: LocalDocs> Session<'_, L> {
    /// Runs a storage operation on the blocking pool: SQLite commits (fsync) must not stall
    /// the async runtime the app's other work shares.
    async fn local<T: Send + 'static>(
        &self,
        f: impl FnOnce(&L) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let local = Arc::clone(&self.client.local);
        tokio::task::spawn_blocking(move || f(&local))
            .await
            .map_err(|e| Error::Internal(format!("storage task failed: {e}")))?
    }

    fn emit(&self) {
        (self.progress)(SyncProgress {
            docs_done: self.docs_done,
            docs_total: self.docs_total,
            bytes_sent: self.report.bytes_sent,
            bytes_received: self.report.bytes_received,
            bytes_queued: self.bytes_queued,
        });
    }

    async fn send_frame(&mut self, bytes: Vec<u8>) -> Result<usize> {
        let len = bytes.len();
        self.ws
            .send(WsMessage::Binary(bytes.into()))
            .await
            .map_err(|e| Error::Network(format!("send failed: {e}")))?;
        Ok(len)
    }

    /// The next protocol message. `deadline`: give up after the response timeout (used
    /// whenever an answer is due; an idle long-lived connection waits without one).
    async fn recv(&mut self, deadline: bool) -> Result<(Message, usize)> {
        if std::mem::take(&mut self.sent_since_wait) {
            self.report.round_trips += 1;
        }
        loop {
            let next = if deadline {
                tokio::time::timeout(self.client.config.response_timeout, self.ws.next())
                    .await
                    .map_err(|_| {
                        Error::Network(format!(
                            "no answer from the server within {:?}",
                            self.client.config.response_timeout
                        ))
                    })?
            } else {
                self.ws.next().await
            };
            if let Some(frame) = self.frame(next).await? {
                return Ok(frame);
            }
        }
    }

    /// A message that is already waiting, without blocking.
    async fn try_recv(&mut self) -> Result<Option<(Message, usize)>> {
        loop {
            let Some(next) = self.ws.next().now_or_never() else {
                return Ok(None);
            };
            if let Some(frame) = self.frame(next).await? {
                return Ok(Some(frame));
            }
        }
    }

    /// Decodes one WebSocket event; `None` for control frames.
    async fn frame(
        &mut self,
        next: Option<Result<WsMessage, tungstenite::Error>>,
    ) -> Result<Option<(Message, usize)>> {
        match next {
            None => Err(Error::Network("the server closed the connection".into())),
            Some(Err(e)) => Err(Error::Network(format!("connection failed: {e}"))),
            Some(Ok(WsMessage::Binary(bytes))) => {
                match Message::decode_with_limit(&bytes, self.client.config.max_message_bytes) {
                    Ok(msg) => Ok(Some((msg, bytes.len()))),
                    Err(e) => Err(self.protocol_error(format!("bad message: {e}")).await),
                }
            }
            Some(Ok(WsMessage::Text(_))) => Err(self
                .protocol_error("text frames are not part of the protocol".into())
                .await),
            Some(Ok(WsMessage::Close(frame))) => {
                let detail = frame
                    .map(|f| format!(" ({} {})", u16::from(f.code), f.reason))
                    .unwrap_or_default();
                Err(Error::Network(format!(
                    "the server closed the connection{detail}"
                )))
            }
            Some(Ok(_)) => Ok(None), // ping/pong: answered by the library
        }
    }

    /// Tells the server what was wrong (best effort) and stops: a hostile or broken peer's
    /// message is never applied.
    async fn protocol_error(&mut self, detail: String) -> Error {
        tracing::warn!(%detail, "protocol error from the server; closing");
        let msg = Message::Error {
            sender_id: Some(self.client.peer_id.clone()),
            target_id: (!self.server.is_empty()).then(|| self.server.clone()),
            message: detail.chars().take(1000).collect(),
        };
        if let Ok(bytes) = msg.encode() {
            let _ = self.send_frame(bytes).await;
        }
        let _ = self
            .ws
            .send(WsMessage::Close(Some(CloseFrame {
                code: CloseCode::Protocol,
                reason: "protocol error".into(),
            })))
            .await;
        Error::Network(format!("protocol error: {detail}"))
    }

    async fn handshake(&mut self) -> Result<()> {
        let join = Message::Join {
            sender_id: self.client.peer_id.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: Some(false),
                // Everything but `blobs`: this client does not move attachment bytes yet,
                // and a peer announces only what it speaks.
                homevisit: Some(HomeVisitMetadata {
                    extensions: Extension::ALL
                        .into_iter()
                        .filter(|e| *e != Extension::Blobs)
                        .collect(),
                    ..HomeVisitMetadata::all()
                }),
            }),
        };
        let bytes = join
            .encode()
            .map_err(|e| Error::Internal(format!("join: {e}")))?;
        self.report.handshake_bytes += self.send_frame(bytes).await? as u64;
        loop {
            let next = tokio::time::timeout(self.client.config.response_timeout, self.ws.next())
                .await
                .map_err(|_| Error::Network("no answer to join".into()))?;
            let Some((msg, len)) = self.frame(next).await? else {
                continue;
            };
            self.report.handshake_bytes += len as u64;
            match msg {
                Message::Peer {
                    sender_id,
                    selected_protocol_version,
                    peer_metadata,
                    ..
                } => {
                    if selected_protocol_version != PROTOCOL_VERSION {
                        return Err(self
                            .protocol_error(format!(
                                "unsupported protocol version {selected_protocol_version}"
                            ))
                            .await);
                    }
                    let ext = peer_metadata
                        .and_then(|m| m.homevisit)
                        .map(|h| h.extensions)
                        .unwrap_or_default();
                    for needed in [Extension::Catchup, Extension::WholeDoc, Extension::Ack] {
                        if !ext.contains(&needed) {
                            return Err(Error::Network(format!(
                                "the server does not speak the `{}` extension",
                                needed.as_str()
                            )));
                        }
                    }
                    self.batch = ext.contains(&Extension::Batch);
                    self.audit = ext.contains(&Extension::Audit);
                    self.server = sender_id;
                    return Ok(());
                }
                other => self.handle(other).await?,
            }
        }
    }

    async fn close(&mut self) {
        let _ = self.flush().await;
        let _ = self.ws.close(None).await;
    }

    fn push(&mut self, msg: Message) {
        self.outbox.push(msg);
    }

    /// Sends everything queued, packing small messages into `hv-batch` frames.
    async fn flush(&mut self) -> Result<()> {
        if self.outbox.is_empty() {
            return Ok(());
        }
        let limit = self.client.config.max_message_bytes;
        let outbox = std::mem::take(&mut self.outbox);
        let mut pending: Vec<Message> = Vec::new();
        let mut pending_bytes = 0usize;
        let mut frames: Vec<Vec<u8>> = Vec::new();
        for msg in outbox {
            let encoded = msg
                .encode_with_limit(limit)
                .map_err(|e| Error::Internal(format!("encode {}: {e}", msg.type_name())))?;
            if !self.batch || encoded.len() > BATCH_TARGET_BYTES {
                frames.push(encoded);
                continue;
            }
            if pending_bytes + encoded.len() > BATCH_TARGET_BYTES {
                frames.push(self.pack(std::mem::take(&mut pending))?);
                pending_bytes = 0;
            }
            pending_bytes += encoded.len() + 8;
            pending.push(msg);
        }
        if !pending.is_empty() {
            frames.push(self.pack(pending)?);
        }
        for frame in frames {
            let len = self.send_frame(frame).await?;
            self.report.bytes_sent += len as u64;
        }
        self.sent_since_wait = true;
        Ok(())
    }

    fn pack(&self, mut messages: Vec<Message>) -> Result<Vec<u8>> {
        let msg = if messages.len() == 1 {
            messages.remove(0)
        } else {
            Message::Batch {
                sender_id: self.client.peer_id.clone(),
                target_id: self.server.clone(),
                messages,
            }
        };
        msg.encode_with_limit(self.client.config.max_message_bytes)
            .map_err(|e| Error::Internal(format!("encode batch: {e}")))
    }

    /// One catch-up: pages of `hv-catchup-request` → `hv-catchup-response`, each followed by
    /// the document work it lists; the cursor is stored after each fully applied page.
    async fn catch_up(&mut self) -> Result<()> {
        // A document that failed in an earlier catch-up of this connection is listed again
        // (the cursor stayed before it), so it may now unblock the cursor.
        self.cursor_blocked = false;
        // A stopped exchange gets a fresh try (the long-lived mode catches up again on every
        // poll; a one-shot session catches up once).
        self.stalled.clear();
        self.idle_exchanges.clear();
        let unsynced = self.local(|l| l.unsynced_ids()).await?;
        let mut chunks: VecDeque<Vec<RecordId>> = unsynced
            .chunks(MAX_CATCHUP_IDS)
            .map(<[RecordId]>::to_vec)
            .collect();
        let mut cursor = self.stored_cursor().await?;
        let pushes_before = self.pushes;
        let mut settling = false;
        let mut rechecked_all = false;
        loop {
            let ids = chunks.pop_front().unwrap_or_default();
            self.push(Message::CatchupRequest {
                sender_id: self.client.peer_id.clone(),
                target_id: self.server.clone(),
                cursor,
                changed_document_ids: ids,
            });
            self.flush().await?;
            let (changed, missing, next_cursor, more) = loop {
                let (msg, len) = self.recv(true).await?;
                self.report.bytes_received += len as u64;
                match msg {
                    Message::CatchupResponse {
                        changed,
                        missing,
                        cursor,
                        more,
                        ..
                    } => break (changed, missing, cursor, more),
                    other => self.handle(other).await?,
                }
            };
            if next_cursor < cursor && !rechecked_all {
                // The server's change feed is behind what this device already caught up to:
                // it was restored from an older backup. Changes it acknowledged may be gone, so
                // every local record is listed again; the server answers each with its heads
                // (synced where they differ) or as missing (uploaded whole).
                rechecked_all = true;
                tracing::warn!(
                    cursor,
                    next_cursor,
                    "the server's change feed went back: re-checking every record"
                );
                let all = self.local(|l| l.all_ids()).await?;
                chunks.extend(all.chunks(MAX_CATCHUP_IDS).map(<[RecordId]>::to_vec));
            }
            let mut listed = Vec::with_capacity(changed.len());
            for entry in changed {
                let id = entry.document_id;
                let heads = entry.heads;
                let local = self.local(move |l| l.local_heads(id)).await;
                match local {
                    Ok(None) => self.enqueue(id, Kind::Fetch),
                    Ok(Some(local)) if same_heads(&local, &heads) => {
                        // Already identical: the server's committed heads are the local ones.
                        let acked = heads.clone();
                        let status = self.local(move |l| l.mark_acknowledged(id, &acked)).await;
                        if let Some(status) = self.per_doc(id, status)? {
                            self.statuses.insert(id, status);
                        }
                    }
                    Ok(Some(_)) => self.enqueue(id, Kind::Sync),
                    Err(e) => {
                        self.doc_failed(id, e)?;
                    }
                }
                listed.push((id, heads));
            }
            for id in missing {
                self.enqueue(id, Kind::Upload);
            }
            self.emit();
            self.run_tasks().await?;
            self.advance_cursor(listed, next_cursor).await?;
            cursor = next_cursor;
            if !more && chunks.is_empty() {
                if settling || self.pushes == pushes_before || self.cursor_blocked {
                    return Ok(());
                }
                // This session's own commits moved the server's sequence past the cursor just
                // stored. One more (usually empty-handed) request moves the cursor past them,
                // so that the next reconnect with nothing changed is one tiny round trip
                // instead of re-listing everything uploaded now.
                settling = true;
            }
        }
    }

    async fn stored_cursor(&self) -> Result<u64> {
        let stored = self.local(|l| l.meta(META_CURSOR)).await?;
        // An unreadable cursor only costs a full catch-up, never data.
        Ok(stored.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Stores `cursor` if every document the page listed now has the server's heads locally:
    /// a cursor past a document the device did not get would hide that document's changes
    /// from every later catch-up.
    async fn advance_cursor(
        &mut self,
        listed: Vec<(RecordId, Vec<ChangeHash>)>,
        cursor: u64,
    ) -> Result<()> {
        if !self.cursor_blocked {
            let all_here = self
                .local(move |l| {
                    for (id, heads) in &listed {
                        if !l.has_heads(*id, heads)? {
                            return Ok(false);
                        }
                    }
                    Ok(true)
                })
                .await;
            match all_here {
                Ok(true) => {
                    self.local(move |l| l.set_meta(META_CURSOR, &cursor.to_string()))
                        .await?;
                    self.report.cursor = cursor;
                }
                Ok(false) => self.cursor_blocked = true,
                Err(e) if per_document(&e) => self.cursor_blocked = true,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Local changes of `id` went out in this session.
    fn note_sent(&mut self, id: RecordId) {
        self.sent_changes.insert(id);
        self.pushes += 1;
    }

    fn enqueue(&mut self, id: RecordId, kind: Kind) {
        if self.tasks.contains_key(&id) || !self.queued.insert(id) {
            return;
        }
        self.docs_total += 1;
        self.queue.push_back((id, kind));
    }

    /// Drives the queued and running documents until all are finished.
    async fn run_tasks(&mut self) -> Result<()> {
        loop {
            // What arrived whole is stored first: it finishes tasks and so frees the window.
            self.store_docs().await?;
            while self.tasks.len() < self.client.config.window {
                let Some((id, kind)) = self.queue.pop_front() else {
                    break;
                };
                self.queued.remove(&id);
                if !self.tasks.contains_key(&id) {
                    self.start(id, kind).await?;
                }
            }
            self.flush().await?;
            if self.tasks.is_empty() && self.queue.is_empty() {
                return Ok(());
            }
            let (msg, len) = self.recv(true).await?;
            self.report.bytes_received += len as u64;
            self.handle(msg).await?;
            // Answer everything that already arrived in one flush (one batch frame).
            while let Some((msg, len)) = self.try_recv().await? {
                self.report.bytes_received += len as u64;
                self.handle(msg).await?;
            }
        }
    }

    async fn state(&mut self, id: RecordId) -> Result<sync::State, Error> {
        if let Some(s) = self.states.get(&id) {
            return Ok(s.clone());
        }
        let persisted = self.local(move |l| l.load_sync_state(id)).await?;
        // A state that does not decode only costs a longer exchange: start afresh.
        Ok(persisted
            .and_then(|b| sync::State::decode(&b).ok())
            .unwrap_or_default())
    }

    async fn generate(&mut self, id: RecordId) -> Result<Option<sync::Message>, Error> {
        let state = self.state(id).await?;
        let (state, msg) = self
            .local(move |l| {
                let mut state = state;
                let msg = l.generate_sync_message(id, &mut state)?;
                Ok((state, msg))
            })
            .await?;
        self.states.insert(id, state);
        Ok(msg)
    }

    async fn start(&mut self, id: RecordId, kind: Kind) -> Result<()> {
        // Registered first, so that every way out below counts the document as done.
        self.tasks.insert(
            id,
            Task {
                kind,
                outstanding: 0,
                upload_bytes: 0,
            },
        );
        let msg = match kind {
            Kind::Sync | Kind::Fetch => {
                if kind == Kind::Fetch {
                    // The device has nothing: a fresh state makes the first message "I have
                    // nothing", which the server answers with the whole document.
                    self.states.insert(id, sync::State::new());
                }
                let mut msg = self.generate(id).await;
                if matches!(msg, Ok(None)) {
                    // The persisted state believes there is nothing to say, yet the server's
                    // heads differ: start the exchange from scratch.
                    self.states.insert(id, sync::State::new());
                    msg = self.generate(id).await;
                }
                let Some(msg) = self.per_doc(id, msg)? else {
                    return Ok(());
                };
                let Some(msg) = msg else {
                    self.finish(id);
                    return Ok(());
                };
                if !msg.changes.is_empty() {
                    self.note_sent(id);
                }
                let data = msg.encode();
                let (sender_id, target_id) = (self.client.peer_id.clone(), self.server.clone());
                if kind == Kind::Fetch {
                    Message::Request {
                        sender_id,
                        target_id,
                        document_id: id,
                        data,
                    }
                } else {
                    Message::Sync {
                        sender_id,
                        target_id,
                        document_id: id,
                        data,
                    }
                }
            }
            Kind::Upload => {
                let saved = self
                    .local(move |l| {
                        let data = l.save_document(id)?;
                        let heads = l.local_heads(id)?;
                        Ok(data.zip(heads))
                    })
                    .await;
                let Some(saved) = self.per_doc(id, saved)? else {
                    return Ok(());
                };
                let Some((data, heads)) = saved else {
                    // Listed as unsynced but gone (wiped meanwhile): nothing to upload.
                    self.finish(id);
                    return Ok(());
                };
                if data.len() + 1024 > self.client.config.max_message_bytes {
                    self.report.rejected.push(DocumentProblem {
                        id,
                        reason: format!(
                            "the document ({} bytes) is larger than a message may be",
                            data.len()
                        ),
                    });
                    self.incomplete = true;
                    self.finish(id);
                    return Ok(());
                }
                let size = data.len() as u64;
                self.bytes_queued += size;
                if let Some(task) = self.tasks.get_mut(&id) {
                    task.upload_bytes = size;
                }
                self.note_sent(id);
                Message::Doc {
                    sender_id: self.client.peer_id.clone(),
                    target_id: self.server.clone(),
                    document_id: id,
                    data,
                    heads,
                }
            }
        };
        self.push(msg);
        if let Some(task) = self.tasks.get_mut(&id) {
            task.outstanding = 1;
        }
        Ok(())
    }

    fn finish(&mut self, id: RecordId) {
        if let Some(task) = self.tasks.remove(&id) {
            self.bytes_queued = self.bytes_queued.saturating_sub(task.upload_bytes);
            self.docs_done += 1;
            self.docs_total = self.docs_total.max(self.docs_done);
            self.emit();
        }
    }

    /// Separates one document's trouble from the session's: a corrupt or undecodable record
    /// is reported and skipped, so one bad document never blocks the others.
    fn per_doc<T>(&mut self, id: RecordId, result: Result<T, Error>) -> Result<Option<T>> {
        match result {
            Ok(v) => Ok(Some(v)),
            Err(e) => {
                self.doc_failed(id, e)?;
                Ok(None)
            }
        }
    }

    fn doc_failed(&mut self, id: RecordId, e: Error) -> Result<()> {
        if !per_document(&e) {
            return Err(e);
        }
        tracing::warn!(%id, error = %e, "record skipped in this sync");
        self.report.failed.push(DocumentProblem {
            id,
            reason: e.to_string(),
        });
        self.incomplete = true;
        self.cursor_blocked = true;
        if !self.tasks.contains_key(&id) {
            self.docs_total += 1;
            self.tasks.insert(
                id,
                Task {
                    kind: Kind::Sync,
                    outstanding: 0,
                    upload_bytes: 0,
                },
            );
        }
        self.finish(id);
        Ok(())
    }

    /// Sends the next sync message for `id` if automerge has one; returns whether it did.
    async fn continue_sync(&mut self, id: RecordId) -> Result<bool> {
        if self.stalled.contains(&id) {
            return Ok(false);
        }
        let msg = self.generate(id).await;
        let Some(Some(msg)) = self.per_doc(id, msg)? else {
            return Ok(false);
        };
        if msg.changes.is_empty() {
            let idle = self.idle_exchanges.entry(id).or_insert(0);
            *idle += 1;
            if *idle > MAX_IDLE_EXCHANGES {
                self.stall(id);
                return Ok(false);
            }
        } else {
            self.idle_exchanges.remove(&id);
            self.note_sent(id);
        }
        self.push(Message::Sync {
            sender_id: self.client.peer_id.clone(),
            target_id: self.server.clone(),
            document_id: id,
            data: msg.encode(),
        });
        self.tasks
            .entry(id)
            .or_insert(Task {
                kind: Kind::Sync,
                outstanding: 0,
                upload_bytes: 0,
            })
            .outstanding += 1;
        Ok(true)
    }

    /// Stops a record's exchange that goes round without progress: reported, left unsynced
    /// (the cursor stays before it), and tried afresh at the next sync.
    fn stall(&mut self, id: RecordId) {
        tracing::warn!(%id, "sync exchange made no progress; stopped for this session");
        self.stalled.insert(id);
        self.report.failed.push(DocumentProblem {
            id,
            reason: format!(
                "the exchange made no progress after {MAX_IDLE_EXCHANGES} messages; \
                 the record is tried again at the next sync"
            ),
        });
        self.incomplete = true;
        self.cursor_blocked = true;
        if let Some(task) = self.tasks.get_mut(&id) {
            task.outstanding = 0;
        }
        self.finish(id);
    }

    /// In the long-lived mode, follows a whole-document transfer with one sync exchange: the
    /// server pushes live changes only for documents a connection syncs.
    fn subscribe(&mut self, id: RecordId) {
        if self.live {
            self.enqueue(id, Kind::Sync);
        }
    }

    async fn acknowledged(&mut self, id: RecordId, heads: Vec<ChangeHash>) -> Result<()> {
        let status = self.local(move |l| l.mark_acknowledged(id, &heads)).await;
        if let Some(status) = self.per_doc(id, status)? {
            self.statuses.insert(id, status);
        }
        Ok(())
    }

    /// Stores the whole documents received so far in one call (one transaction for the
    /// records new to the device), then does for each what its `hv-doc` asks.
    async fn store_docs(&mut self) -> Result<()> {
        if self.docs_in.is_empty() {
            return Ok(());
        }
        let docs = std::mem::take(&mut self.docs_in);
        let (docs, results) = self
            .local(move |l| {
                let results = l.insert_acknowledged_documents(&docs)?;
                Ok((docs, results))
            })
            .await?;
        for ((id, _, heads), stored) in docs.into_iter().zip(results) {
            if self.per_doc(id, stored)?.is_none() {
                continue;
            }
            self.received_changes.insert(id);
            // A fresh state: the next exchange starts from what the device now has.
            self.states.insert(id, sync::State::new());
            // hv-doc carries the server's committed document, so its heads count as
            // acknowledged (the store checks they are really contained locally; a new
            // record was already stored acknowledged, and this finds nothing to write).
            self.acknowledged(id, heads).await?;
            self.finish(id);
            self.subscribe(id);
        }
        Ok(())
    }

    async fn handle(&mut self, msg: Message) -> Result<()> {
        // Messages are handled in the order they came: any other message waits until the
        // whole documents received before it are stored.
        if !matches!(msg, Message::Doc { .. } | Message::Batch { .. }) {
            self.store_docs().await?;
        }
        match msg {
            Message::Sync {
                document_id: id,
                data,
                ..
            }
            | Message::Request {
                document_id: id,
                data,
                ..
            } => {
                // Bloom filters checked too: automerge panics on degenerate ones.
                let message = match super::guard::decode_sync_message(&data) {
                    Ok(m) => m,
                    Err(e) => {
                        return Err(self
                            .protocol_error(format!("malformed automerge sync message: {e}"))
                            .await)
                    }
                };
                if self.stalled.contains(&id) {
                    return Ok(());
                }
                if !message.changes.is_empty() {
                    self.received_changes.insert(id);
                    self.idle_exchanges.remove(&id);
                }
                let state = match self.state(id).await {
                    Ok(s) => s,
                    Err(e) => return self.doc_failed(id, e),
                };
                let applied = self
                    .local(move |l| {
                        let mut state = state;
                        l.receive_sync_message(id, &mut state, message)?;
                        Ok(state)
                    })
                    .await;
                let Some(state) = self.per_doc(id, applied)? else {
                    return Ok(());
                };
                self.states.insert(id, state);
                if !self.tasks.contains_key(&id) && !self.queued.contains(&id) {
                    // A change the server pushed (another device edited a record this
                    // connection syncs): it is work of this session too.
                    self.docs_total += 1;
                    self.tasks.insert(
                        id,
                        Task {
                            kind: Kind::Sync,
                            outstanding: 0,
                            upload_bytes: 0,
                        },
                    );
                }
                if !self.continue_sync(id).await?
                    && self.tasks.get(&id).is_some_and(|t| t.outstanding == 0)
                {
                    self.finish(id);
                }
                Ok(())
            }
            Message::Ack {
                document_id: id,
                heads,
                ..
            } => {
                self.acknowledged(id, heads).await?;
                let Some(task) = self.tasks.get_mut(&id) else {
                    // A duplicate or late acknowledgement: recorded above, nothing else due.
                    return Ok(());
                };
                task.outstanding = task.outstanding.saturating_sub(1);
                if task.outstanding > 0 {
                    return Ok(());
                }
                // An upload is done at its acknowledgement; a sync when automerge has nothing
                // more to say.
                if task.kind == Kind::Upload {
                    self.finish(id);
                    self.subscribe(id);
                } else if !self.continue_sync(id).await? {
                    self.finish(id);
                }
                Ok(())
            }
            Message::Doc {
                document_id: id,
                data,
                heads,
                ..
            } => {
                self.docs_in.push((id, data, heads));
                if self.docs_in.len() >= self.client.config.docs_per_transaction.max(1) {
                    self.store_docs().await?;
                }
                Ok(())
            }
            Message::DocUnavailable {
                document_id: id, ..
            } => {
                if self.tasks.contains_key(&id) {
                    self.report.failed.push(DocumentProblem {
                        id,
                        reason: "the server does not have this record for this team".into(),
                    });
                    self.incomplete = true;
                    self.finish(id);
                }
                Ok(())
            }
            Message::Reject {
                document_id: id,
                reason,
                ..
            } => {
                tracing::warn!(%id, %reason, "server refused a record");
                self.report.rejected.push(DocumentProblem { id, reason });
                self.incomplete = true;
                if self.tasks.contains_key(&id) {
                    self.finish(id);
                }
                Ok(())
            }
            Message::Revoked { reason, .. } => {
                tracing::warn!(%reason, "device revoked by the server; wiping local data");
                self.local(|l| l.wipe()).await?;
                Err(Error::Revoked)
            }
            Message::Error { message, .. } => Err(Error::Network(format!(
                "the server reported an error: {message}"
            ))),
            Message::Leave { .. } => Err(Error::Network("the server left".into())),
            Message::Batch { messages, .. } => {
                for inner in messages {
                    Box::pin(self.handle(inner)).await?;
                }
                Ok(())
            }
            // Duplicates (a proxy may repeat frames) and gossip the client has no use for.
            Message::CatchupResponse { .. }
            | Message::Peer { .. }
            | Message::Ephemeral { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::AuditAck { .. } => Ok(()),
            other => Err(self
                .protocol_error(format!("unexpected {} from the server", other.type_name()))
                .await),
        }
    }

    /// Uploads the device's `RK-AUDIT` entries the server does not have yet, in pages of
    /// [`MAX_AUDIT_ENTRIES`], each marked uploaded only once the server's `hv-audit-ack`
    /// names it (an entry whose acknowledgement is lost is sent again and stored once). The
    /// first page also carries the device's core version and unsynced-record count for the
    /// console. Skipped when the server does not speak the `audit` extension, and when there is
    /// no entry to send and nothing new to report, so that a reconnect with nothing changed
    /// stays one round trip.
    async fn upload_audit(&mut self) -> Result<()> {
        if !self.audit {
            return Ok(());
        }
        let unsynced = self.local(|l| l.unsynced_ids()).await?.len() as u64;
        let report = format!("{}|{unsynced}", env!("CARGO_PKG_VERSION"));
        let reported = self.local(|l| l.meta(META_AUDIT_REPORT)).await?;
        let nothing_pending = self.local(|l| l.pending_audit(1)).await?.is_empty();
        if nothing_pending && reported.as_deref() == Some(report.as_str()) {
            return Ok(());
        }
        let mut first = true;
        loop {
            let pending = self.local(|l| l.pending_audit(MAX_AUDIT_ENTRIES)).await?;
            if pending.is_empty() && !first {
                return Ok(());
            }
            let entries: Vec<AuditRecord> = pending
                .iter()
                .map(|p| AuditRecord {
                    id: p.id,
                    user_id: p.entry.user_id,
                    device_id: p.entry.device_id,
                    record_id: p.entry.record_id,
                    action: audit_action(p.entry.action).to_string(),
                    at: p
                        .entry
                        .at
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    purpose: p.entry.purpose.clone(),
                })
                .collect();
            let sent: Vec<uuid::Uuid> = entries.iter().map(|e| e.id).collect();
            self.push(Message::AuditUpload {
                sender_id: self.client.peer_id.clone(),
                target_id: self.server.clone(),
                entries,
                core_version: first.then(|| env!("CARGO_PKG_VERSION").to_string()),
                unsynced_records: first.then_some(unsynced),
            });
            let reporting = first;
            first = false;
            self.flush().await?;
            let acked = loop {
                let (msg, len) = self.recv(true).await?;
                self.report.bytes_received += len as u64;
                match msg {
                    Message::AuditAck { ids, .. } => break ids,
                    other => self.handle(other).await?,
                }
            };
            self.store_docs().await?;
            if reporting {
                let report = report.clone();
                self.local(move |l| l.set_meta(META_AUDIT_REPORT, &report))
                    .await?;
            }
            let stored: Vec<uuid::Uuid> = sent
                .iter()
                .copied()
                .filter(|id| acked.contains(id))
                .collect();
            if !stored.is_empty() {
                let now = chrono::Utc::now();
                self.local(move |l| l.mark_audit_uploaded(&stored, now))
                    .await?;
            }
            if sent.is_empty() || acked.is_empty() {
                return Ok(());
            }
        }
    }

    /// The long-lived loop: catch up, then wait for pushes, local changes and the poll timer.
    async fn live(&mut self, backoff: &mut Backoff) -> Result<()> {
        self.live = true;
        // Subscribed before the first catch-up: an edit committed while it runs leaves a
        // permit, so the loop catches up again rather than missing it.
        let notify = Arc::new(Notify::new());
        let wake = Arc::clone(&notify);
        let _subscription = self
            .client
            .local
            .on_local_change(Box::new(move || wake.notify_one()));
        let mut poll = tokio::time::interval(self.client.config.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        poll.tick().await;
        self.catch_up().await?;
        self.upload_audit().await?;
        self.record_success().await?;
        backoff.reset();
        loop {
            tokio::select! {
                next = self.ws.next() => {
                    if let Some((msg, len)) = self.frame(next).await? {
                        self.report.bytes_received += len as u64;
                        self.handle(msg).await?;
                        self.run_tasks().await?;
                    }
                }
                () = notify.notified() => {
                    self.catch_up().await?;
                    self.record_success().await?;
                }
                _ = poll.tick() => {
                    self.catch_up().await?;
                    self.record_success().await?;
                }
            }
        }
    }

    async fn record_success(&mut self) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.local(move |l| l.set_meta(META_LAST_SYNCED_AT, &now))
            .await?;
        Ok(())
    }

    /// Fills in the report's totals once the session's work is done.
    async fn finish_report(&mut self) -> Result<SyncReport, Error> {
        self.store_docs().await?;
        self.record_success().await?;
        let remaining = self.local(|l| l.unsynced_ids()).await?;
        let mut report = std::mem::take(&mut self.report);
        report.docs_sent = self.sent_changes.len() as u64;
        report.docs_received = self.received_changes.len() as u64;
        report.docs_synced = self
            .statuses
            .values()
            .filter(|s| **s == SyncStatus::Synced)
            .count() as u64;
        report.conflicts = self
            .statuses
            .values()
            .filter(|s| **s == SyncStatus::Conflict)
            .count() as u64;
        // What is stored, whether or not this session could move it.
        report.cursor = self.stored_cursor().await?;
        report.complete = !self.incomplete && !self.cursor_blocked && remaining.is_empty();
        Ok(report)
    }

    async fn into_report(mut self) -> Result<SyncReport> {
        self.finish_report().await
    }
}

/// Errors confined to one record: reported for it, while the session goes on with the others.
/// `sync_meta` key of the last device report the server acknowledged (`version|unsynced`).
const META_AUDIT_REPORT: &str = "sync.audit_report";

/// The wire name of an `RK-AUDIT` action.
fn audit_action(a: crate::rules::record_keeping::AuditAction) -> &'static str {
    use crate::rules::record_keeping::AuditAction;
    match a {
        AuditAction::View => "view",
        AuditAction::Print => "print",
        AuditAction::Export => "export",
    }
}

fn per_document(e: &Error) -> bool {
    matches!(
        e,
        Error::Corrupt { .. }
            | Error::TooManyOps { .. }
            | Error::Automerge(_)
            | Error::NotFound(_)
            | Error::InvalidInput { .. }
    )
}

fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort();
    b.sort();
    a == b
}

#[cfg(test)]
mod tests {
    use tokio_tungstenite::tungstenite::http::Response;

    use super::*;
    use crate::store::Store;

    fn store() -> (tempfile::TempDir, Arc<Store>) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_new_plain_for_tests_and_demo(dir.path().join("s.db")).unwrap();
        (dir, Arc::new(store))
    }

    #[test]
    fn an_address_that_is_not_ws_or_wss_is_refused() {
        let (_dir, store) = store();
        for url in ["http://server/sync", "server/sync", ""] {
            let err = SyncClient::new(url, "t", Arc::clone(&store)).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{url}: {err:?}");
        }
        assert!(SyncClient::new("ws://server/sync", "t", Arc::clone(&store)).is_ok());
        assert!(SyncClient::new("wss://server/sync", "t", store).is_ok());
    }

    #[test]
    fn a_token_a_header_cannot_carry_is_refused() {
        let (_dir, store) = store();
        let err = SyncClient::new("ws://server/sync", "bad\ntoken", store).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let (_dir, store) = store();
        let client = SyncClient::new("ws://server/sync", "s3cr3t-token", store).unwrap();
        assert!(!format!("{client:?}").contains("s3cr3t"));
    }

    fn http(status: u16) -> tungstenite::Error {
        let response = Response::builder().status(status).body(None).unwrap();
        tungstenite::Error::Http(Box::new(response))
    }

    #[test]
    fn http_401_and_403_are_unauthorized_and_never_a_revocation() {
        assert!(matches!(connect_error(http(401)), Error::Unauthorized));
        // 403 could come from any proxy: credentials, but nothing is wiped for it.
        assert!(matches!(connect_error(http(403)), Error::Unauthorized));
        assert!(matches!(connect_error(http(503)), Error::Network(_)));
        assert!(matches!(connect_error(http(404)), Error::Network(_)));
    }

    #[test]
    fn heads_compare_as_sets() {
        let a = ChangeHash([1; 32]);
        let b = ChangeHash([2; 32]);
        assert!(same_heads(&[a, b], &[b, a]));
        assert!(!same_heads(&[a], &[a, b]));
        assert!(same_heads(&[], &[]));
    }

    #[test]
    fn only_record_level_errors_let_the_session_go_on() {
        let id = RecordId::new();
        assert!(per_document(&Error::Corrupt {
            record: Some(id),
            detail: "x".into()
        }));
        assert!(per_document(&Error::NotFound(id)));
        assert!(!per_document(&Error::DiskFull));
        assert!(!per_document(&Error::DatabaseClosed));
        assert!(!per_document(&Error::Network("x".into())));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn extra_root_certificates_must_parse() {
        assert!(tls_config(&[]).is_ok());
        assert!(matches!(
            tls_config(&[vec![1, 2, 3]]),
            Err(Error::InvalidInput { .. })
        ));
    }
}
