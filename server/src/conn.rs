//! One `/sync` WebSocket connection: handshake, then the automerge-repo sync loop with the
//! HomeVisit extensions the client announced (docs/PROTOCOL.md).
//!
//! Every failure is confined to this connection: a malformed frame, CBOR or automerge payload
//! gets an `error` message and a close; a storage failure closes the connection without
//! acknowledging anything, and the client retries.

use std::{
    collections::{BTreeSet, HashMap},
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use tokio::time::Instant;

use automerge::{
    sync::{self, SyncDoc},
    Automerge,
};
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{stream::SplitSink, SinkExt, StreamExt};
use homevisit_core::{
    sync::guard,
    sync::orphans::{self, Carried, Orphans},
    sync::protocol::{
        ChangedDocument, Extension, HomeVisitMetadata, Message, PeerMetadata, MAX_LIST_LEN,
        PROTOCOL_VERSION,
    },
    sync::CostError,
    RecordId,
};
use tokio::sync::broadcast::error::RecvError;

use crate::{
    app::App,
    blobs::{self, BlobFault, GetStep},
    docs::{DocChanged, DocError, Outcome},
    metrics::Metrics,
    store::{DeviceAuth, ServerStore, StoreError},
};

/// WebSocket close code sent to a revoked device (4000–4999 are for applications).
pub const CLOSE_REVOKED: u16 = 4001;
/// Close code after a protocol error.
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code after a storage failure (try again later).
pub const CLOSE_TRY_AGAIN: u16 = 1013;
/// Close code after a timeout (the peer went silent or stopped reading).
pub const CLOSE_POLICY: u16 = 1008;
/// The `error` message a device gets when the server's storage is full.
pub const STORAGE_FULL_MESSAGE: &str =
    "storage-full: the server's storage is full; nothing from this message was stored, try again later";
/// Most document ids a client may list in one `hv-catchup-request`, so that a response
/// (page + listed ids) stays under the list limit.
pub const MAX_CATCHUP_IDS: usize = MAX_LIST_LEN / 2;
/// Longest wait for a close frame to go out to a peer that may have stopped reading.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

enum Stop {
    /// Protocol error: tell the peer, then close.
    Protocol(String),
    /// Storage trouble: close with "try again".
    Storage(String),
    /// The server's storage is full: tell the peer (an `error` message: nothing of what it
    /// sent was stored), then close with "try again".
    StorageFull(String),
    /// The peer went silent or stopped reading.
    TimedOut(&'static str),
    /// The device was revoked meanwhile.
    Revoked,
    /// The peer left or the socket is gone.
    Closed,
}

impl From<DocError> for Stop {
    fn from(e: DocError) -> Self {
        match e {
            DocError::Store(e) => e.into(),
            other => Stop::Storage(other.to_string()),
        }
    }
}

impl From<BlobFault> for Stop {
    fn from(e: BlobFault) -> Self {
        match e {
            BlobFault::Protocol(detail) => Stop::Protocol(detail),
            BlobFault::Store(e) => e.into(),
        }
    }
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full(detail) => Stop::StorageFull(detail),
            other => Stop::Storage(other.to_string()),
        }
    }
}

struct Conn<S: ServerStore> {
    app: App<S>,
    auth: DeviceAuth,
    id: u64,
    peer: String,
    extensions: BTreeSet<Extension>,
    /// Sync state per document this connection has touched.
    states: HashMap<RecordId, sync::State>,
    /// Received changes waiting for their dependencies (see `homevisit_core::sync::orphans`).
    orphans: Orphans,
    sink: SplitSink<WebSocket, WsMessage>,
}

/// Runs one connection to the end.
pub async fn run<S: ServerStore>(app: App<S>, auth: DeviceAuth, socket: WebSocket) {
    let metrics = app.metrics.clone();
    Metrics::add(&metrics.connections_total, 1);
    Metrics::add(&metrics.connections_open, 1);
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (sink, mut stream) = socket.split();
    // As much as one document may hold: more waiting changes than that is abuse.
    let orphan_limit = usize::try_from(app.config.max_document_bytes).unwrap_or(usize::MAX);
    let mut conn = Conn {
        app,
        auth,
        id,
        peer: String::new(),
        extensions: BTreeSet::new(),
        states: HashMap::new(),
        orphans: Orphans::new(orphan_limit),
        sink,
    };
    let stop = conn.serve(&mut stream).await;
    match stop {
        Stop::Protocol(reason) => {
            Metrics::add(&metrics.errors_total, 1);
            tracing::warn!(%reason, "protocol error; closing");
            let err = Message::Error {
                sender_id: Some(conn.app.peer_id.clone()),
                target_id: (!conn.peer.is_empty()).then(|| conn.peer.clone()),
                message: reason,
            };
            let _ = conn.send(&err).await;
            conn.close(CLOSE_PROTOCOL_ERROR, "protocol error").await;
            linger(&mut stream).await;
        }
        Stop::Storage(reason) => {
            Metrics::add(&metrics.errors_total, 1);
            tracing::error!(%reason, "storage failure; closing");
            conn.close(CLOSE_TRY_AGAIN, "storage unavailable").await;
        }
        Stop::StorageFull(detail) => {
            Metrics::add(&metrics.errors_total, 1);
            Metrics::add(&metrics.storage_full_total, 1);
            tracing::error!(%detail, "storage full; refusing changes");
            let err = Message::Error {
                sender_id: Some(conn.app.peer_id.clone()),
                target_id: (!conn.peer.is_empty()).then(|| conn.peer.clone()),
                message: STORAGE_FULL_MESSAGE.into(),
            };
            let _ = conn.send(&err).await;
            conn.close(CLOSE_TRY_AGAIN, "storage full").await;
            linger(&mut stream).await;
        }
        Stop::TimedOut(what) => {
            Metrics::add(&metrics.timeouts_total, 1);
            tracing::info!(what, "peer timed out; closing");
            conn.close(CLOSE_POLICY, what).await;
        }
        Stop::Revoked => {
            tracing::info!("device revoked; closing");
            send_revoked(&mut conn).await;
        }
        Stop::Closed => tracing::debug!("closed"),
    }
    Metrics::sub(&metrics.connections_open, 1);
}

/// After sending an `error` and a close frame: reads (and discards) what the peer still sends
/// until it closes too, for at most [`CLOSE_TIMEOUT`]. Dropping a socket with unread data makes
/// the kernel reset the connection, and a reset can reach the peer before the `error`; a peer
/// still uploading would then see "connection reset" instead of the reason.
async fn linger(stream: &mut futures_util::stream::SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        while let Some(Ok(frame)) = stream.next().await {
            if matches!(frame, WsMessage::Close(_)) {
                break;
            }
        }
    })
    .await;
}

async fn send_revoked<S: ServerStore>(conn: &mut Conn<S>) {
    let msg = Message::Revoked {
        sender_id: conn.app.peer_id.clone(),
        reason: "this device has been revoked".into(),
    };
    let _ = conn.send(&msg).await;
    conn.close(CLOSE_REVOKED, "revoked").await;
}

/// Sends `hv-revoked` and closes: what a revoked device gets instead of a session.
pub async fn refuse_revoked<S: ServerStore>(app: App<S>, auth: DeviceAuth, socket: WebSocket) {
    Metrics::add(&app.metrics.auth_failures_total, 1);
    let (sink, _stream) = socket.split();
    let mut conn = Conn {
        app,
        auth,
        id: 0,
        peer: String::new(),
        extensions: BTreeSet::new(),
        states: HashMap::new(),
        orphans: Orphans::new(0),
        sink,
    };
    send_revoked(&mut conn).await;
}

impl<S: ServerStore> Conn<S> {
    async fn send(&mut self, msg: &Message) -> Result<(), Stop> {
        if let Some(ext) = msg.required_extension() {
            if !self.extensions.contains(&ext) {
                // Extension messages only go to peers that announced them.
                return Ok(());
            }
        }
        let bytes = msg
            .encode_with_limit(self.app.config.max_message_bytes)
            .map_err(|e| Stop::Storage(format!("could not encode {}: {e}", msg.type_name())))?;
        Metrics::add(&self.app.metrics.bytes_out_total, bytes.len() as u64);
        self.send_frame(WsMessage::Binary(bytes.into())).await
    }

    /// Sends one frame. The socket's buffers are this connection's whole send queue: if the
    /// peer does not take the frame within `write_timeout`, the connection is dropped rather
    /// than letting an unread backlog grow.
    async fn send_frame(&mut self, frame: WsMessage) -> Result<(), Stop> {
        match tokio::time::timeout(self.app.config.write_timeout, self.sink.send(frame)).await {
            Err(_) => Err(Stop::TimedOut("the peer stopped reading")),
            Ok(Err(_)) => Err(Stop::Closed),
            Ok(Ok(())) => Ok(()),
        }
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let wait = CLOSE_TIMEOUT.min(self.app.config.write_timeout);
        let _ = tokio::time::timeout(wait, async {
            let _ = self.sink.send(WsMessage::Close(Some(frame))).await;
            let _ = self.sink.close().await;
        })
        .await;
    }

    /// The next data frame, `None` for a control frame (ping/pong: a sign of life).
    async fn next_frame(
        stream: &mut futures_util::stream::SplitStream<WebSocket>,
        metrics: &Metrics,
    ) -> Result<Option<Vec<u8>>, Stop> {
        match stream.next().await {
            None => Err(Stop::Closed),
            // Oversized frames and broken framing land here.
            Some(Err(e)) => Err(Stop::Protocol(format!("websocket error: {e}"))),
            Some(Ok(WsMessage::Binary(b))) => {
                Metrics::add(&metrics.bytes_in_total, b.len() as u64);
                Ok(Some(b.to_vec()))
            }
            Some(Ok(WsMessage::Text(_))) => Err(Stop::Protocol(
                "text frames are not part of the protocol".into(),
            )),
            Some(Ok(WsMessage::Close(_))) => Err(Stop::Closed),
            Some(Ok(_)) => Ok(None), // ping/pong: the library answers pings
        }
    }

    async fn serve(&mut self, stream: &mut futures_util::stream::SplitStream<WebSocket>) -> Stop {
        let metrics = self.app.metrics.clone();
        // Handshake: the first data frame, within the join timeout.
        let join_deadline = Instant::now() + self.app.config.join_timeout;
        let first = loop {
            match tokio::time::timeout_at(join_deadline, Self::next_frame(stream, &metrics)).await {
                Err(_) => return Stop::TimedOut("no join message"),
                Ok(Err(stop)) => return stop,
                Ok(Ok(None)) => continue,
                Ok(Ok(Some(bytes))) => break bytes,
            }
        };
        if let Err(stop) = self.handshake(&first).await {
            return stop;
        }
        let mut changes = self.app.docs.subscribe();
        let mut revocation = tokio::time::interval(self.app.config.revocation_check);
        revocation.tick().await;
        let mut revoked_somewhere = self.app.revocations.subscribe();
        // Liveness: a ping every third of the idle timeout; anything from the peer (a message,
        // a pong) counts as life. A peer that neither sends nor reads is closed.
        let idle = self.app.config.idle_timeout;
        let mut pings = tokio::time::interval((idle / 3).max(Duration::from_millis(10)));
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        pings.tick().await;
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                frame = Self::next_frame(stream, &metrics) => {
                    let bytes = match frame {
                        Ok(Some(b)) => b,
                        Ok(None) => {
                            last_heard = Instant::now();
                            continue;
                        }
                        Err(stop) => return stop,
                    };
                    Metrics::add(&metrics.messages_in_total, 1);
                    let msg = match Message::decode_with_limit(&bytes, self.app.config.max_message_bytes) {
                        Ok(m) => m,
                        Err(e) => return Stop::Protocol(e.to_string()),
                    };
                    if let Err(stop) = self.handle(msg, true).await {
                        return stop;
                    }
                    // Heard from; and a long answer (an attachment download) was taken off the
                    // socket frame by frame within the write timeout: alive while it reads.
                    last_heard = Instant::now();
                }
                event = changes.recv() => {
                    let result = match event {
                        Ok(ev) => self.push_change(ev).await,
                        Err(RecvError::Lagged(_)) => self.push_all().await,
                        Err(RecvError::Closed) => Err(Stop::Closed),
                    };
                    if let Err(stop) = result {
                        return stop;
                    }
                }
                _ = revocation.tick() => {
                    if let Err(stop) = self.check_revoked().await {
                        return stop;
                    }
                }
                // Some device was revoked: this connection's own may be it.
                Ok(()) = revoked_somewhere.changed() => {
                    if let Err(stop) = self.check_revoked().await {
                        return stop;
                    }
                }
                _ = pings.tick() => {
                    if last_heard.elapsed() >= idle {
                        return Stop::TimedOut("idle");
                    }
                    if let Err(stop) = self.send_frame(WsMessage::Ping(Vec::new().into())).await {
                        return stop;
                    }
                }
            }
        }
    }

    async fn handshake(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        let msg = Message::decode_with_limit(bytes, self.app.config.max_message_bytes)
            .map_err(|e| Stop::Protocol(e.to_string()))?;
        let Message::Join {
            sender_id,
            supported_protocol_versions,
            peer_metadata,
        } = msg
        else {
            return Err(Stop::Protocol(format!(
                "expected join, got {}",
                msg.type_name()
            )));
        };
        self.peer = sender_id;
        if !supported_protocol_versions
            .iter()
            .any(|v| v == PROTOCOL_VERSION)
        {
            return Err(Stop::Protocol("unsupported protocol version".into()));
        }
        let ours = HomeVisitMetadata::all();
        if let Some(hv) = peer_metadata.and_then(|m| m.homevisit) {
            self.extensions = hv
                .extensions
                .intersection(&ours.extensions)
                .copied()
                .collect();
        }
        tracing::info!(peer = %self.peer, extensions = ?self.extensions, "joined");
        let peer = Message::Peer {
            sender_id: self.app.peer_id.clone(),
            target_id: self.peer.clone(),
            selected_protocol_version: PROTOCOL_VERSION.into(),
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(self.app.storage_id.clone()),
                is_ephemeral: Some(false),
                homevisit: Some(ours),
            }),
        };
        self.send(&peer).await
    }

    fn require(&self, ext: Extension, msg: &Message) -> Result<(), Stop> {
        if self.extensions.contains(&ext) {
            Ok(())
        } else {
            Err(Stop::Protocol(format!(
                "{} needs the `{}` extension, which was not announced",
                msg.type_name(),
                ext.as_str()
            )))
        }
    }

    async fn handle(&mut self, msg: Message, top_level: bool) -> Result<(), Stop> {
        if let Some(ext) = msg.required_extension() {
            self.require(ext, &msg)?;
        }
        match msg {
            Message::Request {
                document_id, data, ..
            } => self.sync(document_id, &data, true).await,
            Message::Sync {
                document_id, data, ..
            } => self.sync(document_id, &data, false).await,
            Message::CatchupRequest {
                cursor,
                changed_document_ids,
                ..
            } => self.catchup(cursor, changed_document_ids).await,
            Message::Doc {
                document_id, data, ..
            } => self.whole_doc(document_id, data).await,
            Message::Batch { messages, .. } if top_level => {
                for inner in messages {
                    Box::pin(self.handle(inner, false)).await?;
                }
                Ok(())
            }
            upload @ Message::AuditUpload { .. } => {
                let reply = crate::console::audit_upload::receive(
                    &self.app, &self.auth, &self.peer, upload,
                )
                .await?;
                self.send(&reply).await
            }
            Message::BlobOffer {
                hash,
                size,
                media_type,
                ..
            } => {
                let reply =
                    blobs::offer(&self.app, &self.auth, &self.peer, hash, size, media_type).await?;
                self.send(&reply).await
            }
            Message::BlobChunk {
                hash, offset, data, ..
            } => {
                let reply =
                    blobs::chunk(&self.app, &self.auth, &self.peer, hash, offset, data).await?;
                self.send(&reply).await
            }
            Message::BlobGet { hash, offset, .. } => self.blob_get(hash, offset).await,
            Message::Leave { .. } => Err(Stop::Closed),
            // Not stored and not relayed: the server has no use for presence data, remote
            // heads gossip or subscriptions (docs/PROTOCOL.md "What the server ignores").
            Message::Ephemeral { .. }
            | Message::RemoteHeadsChanged { .. }
            | Message::RemoteSubscriptionChange { .. }
            | Message::DocUnavailable { .. } => Ok(()),
            Message::Error { message, .. } => {
                tracing::info!(%message, "peer reported an error");
                Err(Stop::Closed)
            }
            other => Err(Stop::Protocol(format!(
                "unexpected {} from a client",
                other.type_name()
            ))),
        }
    }

    /// Streams an attachment from `offset`, one chunk per message; the socket's write timeout
    /// bounds a peer that stops reading.
    async fn blob_get(&mut self, hash: [u8; 32], offset: u64) -> Result<(), Stop> {
        let mut at = offset;
        loop {
            match blobs::get_step(&self.app, &self.auth, &self.peer, hash, at).await? {
                GetStep::Missing(msg) => return self.send(&msg).await,
                GetStep::Chunk(msg, next) => {
                    self.send(&msg).await?;
                    match next {
                        Some(n) => at = n,
                        None => return Ok(()),
                    }
                }
            }
        }
    }

    async fn check_revoked(&mut self) -> Result<(), Stop> {
        match self.app.store.device(self.auth.device_id).await? {
            Some(d) if !d.revoked => Ok(()),
            _ => Err(Stop::Revoked),
        }
    }

    async fn state_for(&mut self, id: RecordId) -> Result<sync::State, Stop> {
        if let Some(s) = self.states.get(&id) {
            return Ok(s.clone());
        }
        let persisted = self
            .app
            .store
            .load_sync_state(self.auth.device_id, id)
            .await?;
        // A state that does not decode is only an optimisation lost: start afresh.
        Ok(persisted
            .and_then(|b| sync::State::decode(&b).ok())
            .unwrap_or_default())
    }

    async fn remember_state(&mut self, id: RecordId, state: sync::State) -> Result<(), Stop> {
        let previous = self.states.insert(id, state.clone());
        if previous.map(|p| p.shared_heads) != Some(state.shared_heads.clone()) {
            self.app
                .store
                .save_sync_state(self.auth.device_id, id, state.encode())
                .await?;
        }
        Ok(())
    }

    fn unavailable(&self, document_id: RecordId) -> Message {
        Message::DocUnavailable {
            sender_id: self.app.peer_id.clone(),
            target_id: self.peer.clone(),
            document_id,
        }
    }

    async fn refuse(&mut self, document_id: RecordId, outcome: Outcome) -> Result<(), Stop> {
        let (reason, quarantined) = match outcome {
            Outcome::Rejected(r) => (r, false),
            Outcome::Quarantined(r) => (r, true),
            _ => return Ok(()),
        };
        tracing::warn!(%document_id, %reason, "refused changes");
        if self.extensions.contains(&Extension::Ack) {
            let msg = Message::Reject {
                sender_id: self.app.peer_id.clone(),
                target_id: self.peer.clone(),
                document_id,
                reason,
            };
            self.send(&msg).await
        } else if quarantined {
            // A stock automerge-repo peer's new document claiming another team (or none):
            // kept in quarantine, and to the peer the team simply does not have it. The
            // connection stays open, so its other documents go on syncing.
            self.states.remove(&document_id);
            let msg = self.unavailable(document_id);
            self.send(&msg).await
        } else {
            // A stock automerge-repo peer cannot be told "not this document" without
            // dropping the connection; it retries the document on its next session.
            Err(Stop::Protocol(format!(
                "document {document_id} refused: {reason}"
            )))
        }
    }

    async fn ack(
        &mut self,
        document_id: RecordId,
        heads: Vec<automerge::ChangeHash>,
    ) -> Result<(), Stop> {
        let msg = Message::Ack {
            sender_id: self.app.peer_id.clone(),
            target_id: self.peer.clone(),
            document_id,
            heads,
        };
        self.send(&msg).await
    }

    async fn sync(&mut self, id: RecordId, data: &[u8], request: bool) -> Result<(), Stop> {
        // Decoded and its bloom filters checked: automerge panics on degenerate ones.
        let mut message = guard::decode_sync_message(data)
            .map_err(|e| Stop::Protocol(format!("malformed automerge sync message: {e}")))?;
        let team = self.auth.team_id;
        let mut slot = self.app.docs.lock(team, id).await?;
        if slot.doc.is_none() && message.changes.is_empty() && message.heads.is_empty() {
            // Neither side has it. Missing and not this team's are the same answer.
            self.states.remove(&id);
            let msg = self.unavailable(id);
            return self.send(&msg).await;
        }
        if slot.doc.is_some()
            && request
            && message.heads.is_empty()
            && message.changes.is_empty()
            && self.extensions.contains(&Extension::WholeDoc)
        {
            // The peer has nothing: one message with the saved document beats rounds of
            // sync messages.
            let saved = slot
                .with_doc(self.app.docs.blocking(), "saving a document", |doc| {
                    doc.map(|d| (d.save(), d.get_heads()))
                })
                .await
                .map_err(DocError::from)?;
            drop(slot);
            let Some((data, heads)) = saved else {
                let msg = self.unavailable(id);
                return self.send(&msg).await;
            };
            let msg = Message::Doc {
                sender_id: self.app.peer_id.clone(),
                target_id: self.peer.clone(),
                document_id: id,
                data,
                heads,
            };
            return self.send(&msg).await;
        }
        // Changes that arrived earlier without their dependencies go in again: the cached
        // document that queued them may have been dropped since.
        let carried = self.orphans.carry(id, &mut message);
        let mut new_state = self.state_for(id).await?;
        let limits = self.app.config.document_limits;
        // Applied to a copy, on the blocking pool: a large document stalls no other task.
        let applied = slot
            .with_doc(
                self.app.docs.blocking(),
                "applying a sync message",
                move |doc| -> Result<Result<(Automerge, sync::State), String>, CostError> {
                    // What the document would cost with the carried changes (waiting ones
                    // included), read before automerge parses them (ADR 0017).
                    limits.check_sync_message(doc, &message)?;
                    let mut candidate = doc.cloned().unwrap_or_else(Automerge::new);
                    Ok(guard::guarded("a sync message", || {
                        candidate
                            .receive_sync_message(&mut new_state, message)
                            .map_err(|e| e.to_string())
                    })
                    .and_then(|r| r)
                    .map(|()| (candidate, new_state)))
                },
            )
            .await
            .map_err(DocError::from)?;
        let (candidate, mut new_state) = match applied {
            Ok(applied) => applied,
            Err(refused @ CostError::TooManyOps(_)) => {
                drop(slot);
                return self
                    .refuse(id, Outcome::Rejected(refused.to_string()))
                    .await;
            }
            Err(CostError::Malformed(e)) => Err(e),
        }
        .map_err(|e| Stop::Protocol(format!("automerge sync message does not apply: {e}")))?;
        if slot.doc.is_none() && candidate.get_heads().is_empty() {
            // The peer has a document this team does not have yet: ask for its changes, as
            // an empty automerge-repo peer would. Nothing is stored until changes arrive.
            let reply = candidate.generate_sync_message(&mut new_state);
            self.keep_orphans(id, carried, &candidate)?;
            drop(slot);
            self.states.insert(id, new_state);
            return self.reply(id, reply, Vec::new()).await;
        }
        let outcome = self
            .app
            .docs
            .commit(&mut slot, team, id, &self.auth, self.id, candidate)
            .await?;
        let mut state = match outcome {
            Outcome::Unchanged | Outcome::Committed { .. } => new_state,
            refused => {
                drop(slot);
                return self.refuse(id, refused).await;
            }
        };
        // The reply is generated on the blocking pool too: for a peer that lacks much of a
        // large document it is as costly as a save.
        let replied = slot
            .with_doc(
                self.app.docs.blocking(),
                "generating a sync message",
                move |doc| {
                    doc.map(|doc| {
                        let mut carried = carried;
                        let waiting = orphans::still_waiting(doc, &mut carried);
                        let reply = doc.generate_sync_message(&mut state);
                        (carried, waiting, reply, doc.get_heads(), state)
                    })
                },
            )
            .await
            .map_err(DocError::from)?;
        drop(slot);
        let Some((carried, waiting, reply, heads, state)) = replied else {
            let msg = self.unavailable(id);
            return self.send(&msg).await;
        };
        self.orphans
            .settle(id, carried, &waiting)
            .map_err(|e| Stop::Protocol(format!("document {id}: {e}")))?;
        self.remember_state(id, state).await?;
        self.reply(id, reply, heads).await
    }

    /// Keeps the carried changes `doc` does not contain: they wait for their dependencies.
    fn keep_orphans(
        &mut self,
        id: RecordId,
        mut carried: Carried,
        doc: &Automerge,
    ) -> Result<(), Stop> {
        let waiting = orphans::still_waiting(doc, &mut carried);
        self.orphans
            .settle(id, carried, &waiting)
            .map_err(|e| Stop::Protocol(format!("document {id}: {e}")))
    }

    /// Sends the sync reply (if any), then `hv-ack` with the committed heads to peers that
    /// speak `ack`: one acknowledgement per request/sync received, so a client can count.
    async fn reply(
        &mut self,
        id: RecordId,
        reply: Option<sync::Message>,
        heads: Vec<automerge::ChangeHash>,
    ) -> Result<(), Stop> {
        if let Some(reply) = reply {
            let msg = Message::Sync {
                sender_id: self.app.peer_id.clone(),
                target_id: self.peer.clone(),
                document_id: id,
                data: reply.encode(),
            };
            self.send(&msg).await?;
        }
        let msg = Message::Ack {
            sender_id: self.app.peer_id.clone(),
            target_id: self.peer.clone(),
            document_id: id,
            heads,
        };
        self.send(&msg).await
    }

    async fn whole_doc(&mut self, id: RecordId, data: Vec<u8>) -> Result<(), Stop> {
        if data.len() as u64 > self.app.config.max_document_bytes {
            let reason = format!(
                "document of {} bytes exceeds the limit of {} bytes",
                data.len(),
                self.app.config.max_document_bytes
            );
            return self.refuse(id, Outcome::Rejected(reason)).await;
        }
        let team = self.auth.team_id;
        let limits = self.app.config.document_limits;
        let mut slot = self.app.docs.lock(team, id).await?;
        let loaded = slot
            .with_doc(
                self.app.docs.blocking(),
                "loading an uploaded document",
                move |doc| -> Result<Result<Automerge, String>, CostError> {
                    // What the document would cost with these bytes, read before automerge
                    // materialises them (ADR 0017).
                    limits.check_load(doc, &data)?;
                    Ok(match doc {
                        Some(existing) => {
                            // A copy: discarded if the bytes do not load (automerge may panic
                            // midway).
                            let mut c = existing.clone();
                            guard::load_incremental(&mut c, &data).map(|_| c)
                        }
                        None => guard::load_document(&data),
                    })
                },
            )
            .await
            .map_err(DocError::from)?;
        let candidate = match loaded {
            Ok(candidate) => candidate,
            Err(refused @ CostError::TooManyOps(_)) => {
                drop(slot);
                return self
                    .refuse(id, Outcome::Rejected(refused.to_string()))
                    .await;
            }
            Err(CostError::Malformed(e)) => Err(e),
        }
        .map_err(|e| Stop::Protocol(format!("malformed automerge document: {e}")))?;
        let outcome = self
            .app
            .docs
            .commit(&mut slot, team, id, &self.auth, self.id, candidate)
            .await?;
        match outcome {
            Outcome::Unchanged | Outcome::Committed { .. } => match slot.doc.as_ref() {
                Some(doc) => {
                    let heads = doc.get_heads();
                    drop(slot);
                    self.ack(id, heads).await
                }
                None => {
                    drop(slot);
                    let msg = self.unavailable(id);
                    self.send(&msg).await
                }
            },
            refused => {
                drop(slot);
                self.refuse(id, refused).await
            }
        }
    }

    async fn catchup(&mut self, cursor: u64, ids: Vec<RecordId>) -> Result<(), Stop> {
        if ids.len() > MAX_CATCHUP_IDS {
            return Err(Stop::Protocol(format!(
                "hv-catchup-request lists {} documents; the limit is {MAX_CATCHUP_IDS}",
                ids.len()
            )));
        }
        if i64::try_from(cursor).is_err() {
            // No team's change feed reaches that far: the peer made the cursor up.
            return Err(Stop::Protocol(format!(
                "hv-catchup-request cursor {cursor} is beyond the range of change numbers"
            )));
        }
        // Catch-up is the start of every device session: the moment to notice a revocation.
        self.check_revoked().await?;
        let team = self.auth.team_id;
        let page = self
            .app
            .store
            .changed_since(team, cursor, self.app.config.catchup_page)
            .await?;
        let mut seen: BTreeSet<RecordId> = page.changed.iter().map(|(id, _)| *id).collect();
        let mut changed: Vec<ChangedDocument> = page
            .changed
            .into_iter()
            .map(|(document_id, heads)| ChangedDocument { document_id, heads })
            .collect();
        let mut missing = Vec::new();
        for (id, heads) in self.app.store.document_heads(team, ids).await? {
            match heads {
                Some(heads) if seen.insert(id) => changed.push(ChangedDocument {
                    document_id: id,
                    heads,
                }),
                Some(_) => {}
                None => missing.push(id),
            }
        }
        let msg = Message::CatchupResponse {
            sender_id: self.app.peer_id.clone(),
            target_id: self.peer.clone(),
            changed,
            missing,
            cursor: page.cursor,
            more: page.more,
        };
        self.send(&msg).await
    }

    async fn push_change(&mut self, ev: DocChanged) -> Result<(), Stop> {
        if ev.everything {
            return self.push_all().await;
        }
        if ev.team_id != self.auth.team_id
            || ev.origin == self.id
            || !self.states.contains_key(&ev.document_id)
        {
            return Ok(());
        }
        self.push(ev.document_id).await
    }

    async fn push_all(&mut self) -> Result<(), Stop> {
        let ids: Vec<RecordId> = self.states.keys().copied().collect();
        for id in ids {
            self.push(id).await?;
        }
        Ok(())
    }

    /// Sends the peer what it lacks of a document it is syncing, after another peer changed it.
    async fn push(&mut self, id: RecordId) -> Result<(), Stop> {
        let mut slot = self.app.docs.lock(self.auth.team_id, id).await?;
        let Some(mut state) = self.states.get(&id).cloned() else {
            return Ok(());
        };
        if slot.doc.is_none() {
            return Ok(());
        }
        let generated = slot
            .with_doc(
                self.app.docs.blocking(),
                "generating a sync message",
                move |doc| {
                    doc.map(|doc| {
                        let reply = doc.generate_sync_message(&mut state);
                        (reply, state)
                    })
                },
            )
            .await
            .map_err(DocError::from)?;
        drop(slot);
        let Some((reply, state)) = generated else {
            return Ok(());
        };
        self.states.insert(id, state);
        if let Some(reply) = reply {
            let msg = Message::Sync {
                sender_id: self.app.peer_id.clone(),
                target_id: self.peer.clone(),
                document_id: id,
                data: reply.encode(),
            };
            self.send(&msg).await?;
        }
        Ok(())
    }
}
