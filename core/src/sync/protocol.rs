//! The wire messages: automerge-repo's network protocol (version `"1"`) plus the HomeVisit
//! extension messages (`hv-*`), encoded as CBOR maps with camelCase text keys, one message per
//! WebSocket binary frame (docs/PROTOCOL.md).
//!
//! Decoding is strict and bounded because every byte comes from the network: the frame size is
//! checked before any parsing, nesting depth, list lengths and string lengths are capped, an
//! unknown `type` or a malformed field is a typed [`ProtocolError`], and nothing here panics.
//! Unknown *keys* are ignored, as automerge-repo's own peers do, so that a newer peer can add a
//! field without breaking an older one.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ChangeHash;
use ciborium::Value;

use crate::ids::RecordId;

/// The automerge-repo WebSocket protocol version both sides speak.
pub const PROTOCOL_VERSION: &str = "1";
/// The version of the HomeVisit extension set announced in `peerMetadata.homevisit`.
pub const HOMEVISIT_EXTENSION_VERSION: u64 = 1;
/// Largest encoded message (and WebSocket frame) either side accepts: 8 MiB.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;
/// Longest peer id, storage id or session id accepted.
pub const MAX_ID_LEN: usize = 256;
/// Longest free-text field (error messages, reasons).
pub const MAX_TEXT_LEN: usize = 4096;
/// Most entries in any list (document ids in a catch-up, messages in a batch, storage ids).
pub const MAX_LIST_LEN: usize = 10_000;
/// Most heads one document may advertise in a message.
pub const MAX_HEADS: usize = 1024;
/// Deepest CBOR nesting accepted; the deepest real message (`remote-heads-changed`) needs 4.
pub const MAX_NESTING: usize = 16;

/// Why a frame is not a valid message. Every variant is the peer's fault (or a bug on the
/// sending side); the receiver answers with an `error` message and closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The frame is larger than the limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the frame or encoded message.
        size: usize,
        /// The limit it broke.
        limit: usize,
    },
    /// The bytes are not one well-formed CBOR item (or are nested too deeply).
    #[error("malformed CBOR: {0}")]
    MalformedCbor(String),
    /// Bytes follow the first CBOR item.
    #[error("{0} trailing byte(s) after the message")]
    TrailingBytes(usize),
    /// The CBOR item is not a map with text keys.
    #[error("a message is a CBOR map with text keys")]
    NotAMap,
    /// The same key appears twice in one map.
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    /// The map has no text `type`.
    #[error("the message has no `type`")]
    MissingType,
    /// The `type` is not one this implementation knows.
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    /// A required field is absent.
    #[error("`{message_type}` message without `{field}`")]
    MissingField {
        /// The message type.
        message_type: String,
        /// The missing key.
        field: &'static str,
    },
    /// A field has the wrong CBOR type or an invalid value.
    #[error("invalid `{field}`: {detail}")]
    InvalidField {
        /// The offending key.
        field: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Encoding failed (only possible for a message that breaks the limits).
    #[error("could not encode message: {0}")]
    Encode(String),
}

/// A peer's id: an opaque string chosen by the peer for the lifetime of its process.
pub type PeerId = String;

/// Capabilities a peer announces in the handshake (`join.peerMetadata` / `peer.peerMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerMetadata {
    /// automerge-repo's persistent storage id of the peer, if it has one.
    pub storage_id: Option<String>,
    /// Whether the peer expects to come back with the same storage id.
    pub is_ephemeral: Option<bool>,
    /// The HomeVisit extensions the peer speaks; absent for a stock automerge-repo peer.
    pub homevisit: Option<HomeVisitMetadata>,
}

/// `peerMetadata.homevisit`: which extension messages the peer understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeVisitMetadata {
    /// Extension set version ([`HOMEVISIT_EXTENSION_VERSION`]).
    pub version: u64,
    /// The extensions the peer speaks; unknown names from newer peers are dropped on decode.
    pub extensions: BTreeSet<Extension>,
}

impl HomeVisitMetadata {
    /// Everything this build speaks.
    pub fn all() -> Self {
        Self {
            version: HOMEVISIT_EXTENSION_VERSION,
            extensions: Extension::ALL.into_iter().collect(),
        }
    }
}

/// One HomeVisit protocol extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Extension {
    /// `hv-catchup-request` / `hv-catchup-response`: changes since a cursor.
    Catchup,
    /// `hv-doc`: a whole document in its saved (compressed) form.
    WholeDoc,
    /// `hv-batch`: several messages in one frame.
    Batch,
    /// `hv-ack` / `hv-reject`: durable acknowledgement (or refusal) of a document's heads.
    Ack,
    /// `hv-audit-upload` / `hv-audit-ack`: the device's `RK-AUDIT` entries (who viewed,
    /// printed or exported a record) go to the team's access log.
    Audit,
    /// `hv-blob-*`: attachment bytes (photos), content-addressed by SHA-256, uploaded in
    /// resumable chunks and fetched back by hash.
    Blobs,
}

impl Extension {
    /// Every extension, in wire order.
    pub const ALL: [Extension; 6] = [
        Extension::Catchup,
        Extension::WholeDoc,
        Extension::Batch,
        Extension::Ack,
        Extension::Audit,
        Extension::Blobs,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Extension::Catchup => "catchup",
            Extension::WholeDoc => "whole-doc",
            Extension::Batch => "batch",
            Extension::Ack => "ack",
            Extension::Audit => "audit",
            Extension::Blobs => "blobs",
        }
    }

    /// Parses a wire name; `None` for an extension this build does not know.
    pub fn parse(s: &str) -> Option<Self> {
        Extension::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// Heads of one document as advertised in `remote-heads-changed` (automerge-repo form).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHeads {
    /// The heads, each as automerge-repo encodes them (base58check of the hash).
    pub heads: Vec<String>,
    /// Milliseconds since the Unix epoch on the peer that first sent them.
    pub timestamp: u64,
}

/// One `RK-AUDIT` entry of `hv-audit-upload`, as the device logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// The entry's id on the device: the same entry uploaded twice is stored once.
    pub id: uuid::Uuid,
    /// Who acted.
    pub user_id: uuid::Uuid,
    /// The device's own id (the one its changes carry).
    pub device_id: uuid::Uuid,
    /// The record.
    pub record_id: RecordId,
    /// `view`, `print` or `export`.
    pub action: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Why (required for exports).
    pub purpose: Option<String>,
}

/// Most entries one `hv-audit-upload` carries.
pub const MAX_AUDIT_ENTRIES: usize = 500;

/// Most attachment bytes one `hv-blob-chunk` carries: small enough that a chunk is stored in
/// one short transaction and a cut connection loses little, large enough that a 25 MiB photo
/// is a hundred round trips.
pub const MAX_BLOB_CHUNK: usize = 256 * 1024;

/// An attachment's id: the SHA-256 of its bytes.
pub type BlobHash = [u8; 32];

/// One entry of `hv-catchup-response.changed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDocument {
    /// The record whose document changed.
    pub document_id: RecordId,
    /// The server's durably committed heads for it.
    pub heads: Vec<ChangeHash>,
}

/// One protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// Client → server, first message: who I am and what I speak.
    Join {
        /// The client's peer id.
        sender_id: PeerId,
        /// Protocol versions the client speaks (`["1"]`).
        supported_protocol_versions: Vec<String>,
        /// Capabilities, including the HomeVisit extensions.
        peer_metadata: Option<PeerMetadata>,
    },
    /// Server → client answer to `join`.
    Peer {
        /// The server's peer id.
        sender_id: PeerId,
        /// The client's peer id.
        target_id: PeerId,
        /// The version chosen (`"1"`).
        selected_protocol_version: String,
        /// The server's capabilities.
        peer_metadata: Option<PeerMetadata>,
    },
    /// Advisory: the sender is about to disconnect.
    Leave {
        /// The leaving peer.
        sender_id: PeerId,
    },
    /// First sync message for a document; the sender wants `doc-unavailable` if the target
    /// does not have it.
    Request {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// An automerge sync message.
        data: Vec<u8>,
    },
    /// Any later automerge sync message for a document.
    Sync {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// An automerge sync message.
        data: Vec<u8>,
    },
    /// The sender does not have the document (or may not show it: the two are the same).
    DocUnavailable {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
    },
    /// Application data that is not stored (presence, cursors).
    Ephemeral {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// Sequence number within the session.
        count: u64,
        /// The sender's ephemeral session.
        session_id: String,
        /// The document it is about.
        document_id: RecordId,
        /// Opaque payload.
        data: Vec<u8>,
    },
    /// Change the set of storage ids whose heads the sender wants to hear about.
    RemoteSubscriptionChange {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// Storage ids to add.
        add: Vec<String>,
        /// Storage ids to remove.
        remove: Vec<String>,
    },
    /// Heads of a document on other storages.
    RemoteHeadsChanged {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// Storage id → heads.
        new_heads: BTreeMap<String, RemoteHeads>,
    },
    /// A protocol error; the sender closes the connection after it.
    Error {
        /// Sender, when known.
        sender_id: Option<PeerId>,
        /// Recipient, when known.
        target_id: Option<PeerId>,
        /// Plain-language description.
        message: String,
    },
    /// `hv-catchup-request`: which documents changed on the server since `cursor`.
    CatchupRequest {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The last cursor the client caught up to (0 for never).
        cursor: u64,
        /// Documents changed locally since the last sync; the server reports its heads for
        /// each (or lists it in `missing`).
        changed_document_ids: Vec<RecordId>,
    },
    /// `hv-catchup-response`.
    CatchupResponse {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// Documents changed since the cursor and the requested ones the server has, with the
        /// server's committed heads.
        changed: Vec<ChangedDocument>,
        /// Requested ids the server does not have for this team (the client uploads them).
        missing: Vec<RecordId>,
        /// The cursor to store once every listed document is synced.
        cursor: u64,
        /// More changes follow: ask again from `cursor`.
        more: bool,
    },
    /// `hv-doc`: a whole document in saved (compressed) form.
    Doc {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// `Automerge::save()` bytes.
        data: Vec<u8>,
        /// The document's heads in `data`.
        heads: Vec<ChangeHash>,
    },
    /// `hv-ack`: the server has durably committed these heads of the document.
    Ack {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// The server's committed heads.
        heads: Vec<ChangeHash>,
    },
    /// `hv-reject`: the server refused the document's latest changes (too large, not this
    /// team's); the connection stays open for the other documents.
    Reject {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The document.
        document_id: RecordId,
        /// Plain-language reason.
        reason: String,
    },
    /// `hv-revoked`: this device's token is revoked; the client wipes its local data.
    Revoked {
        /// Sender.
        sender_id: PeerId,
        /// Plain-language reason.
        reason: String,
    },
    /// `hv-batch`: several encoded messages in one frame (never nested).
    Batch {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The messages, in order.
        messages: Vec<Message>,
    },
    /// `hv-audit-upload`: the device's audit entries the server does not have yet, and what
    /// the device reports about itself for the team console.
    AuditUpload {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The entries, oldest first (at most [`MAX_AUDIT_ENTRIES`]).
        entries: Vec<AuditRecord>,
        /// The device's `homevisit-core` version.
        core_version: Option<String>,
        /// Records on the device the server lacks changes of.
        unsynced_records: Option<u64>,
    },
    /// `hv-audit-ack`: the server has durably stored these entries (newly or before).
    AuditAck {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The stored entries' ids.
        ids: Vec<uuid::Uuid>,
    },
    /// `hv-blob-offer`, client → server: the client has this attachment and would upload it.
    BlobOffer {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// SHA-256 of the bytes.
        hash: BlobHash,
        /// Length of the bytes (at least 1).
        size: u64,
        /// `image/jpeg`, `image/png`, … as the attachment's metadata names it.
        media_type: String,
    },
    /// `hv-blob-status`, server → client: how many bytes of the attachment the server already
    /// holds durably for the caller's team (`size` when complete); the upload resumes there.
    BlobStatus {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
        /// Bytes held.
        have: u64,
    },
    /// `hv-blob-chunk`, both directions: bytes of an attachment starting at `offset`.
    BlobChunk {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
        /// Where `data` starts in the attachment.
        offset: u64,
        /// At most [`MAX_BLOB_CHUNK`] bytes.
        data: Vec<u8>,
    },
    /// `hv-blob-ack`, server → client: the chunk is durably stored; `have` bytes are held
    /// (verified against the hash when it equals the size).
    BlobAck {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
        /// Bytes held.
        have: u64,
    },
    /// `hv-blob-get`, client → server: send the attachment's bytes from `offset`.
    BlobGet {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
        /// First byte wanted.
        offset: u64,
    },
    /// `hv-blob-missing`, server → client: the caller's team has no complete attachment with
    /// this hash (the same answer whether another team has one or nobody does).
    BlobMissing {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
    },
    /// `hv-blob-reject`, server → client: the offer or upload was refused; `reason` starts
    /// with a code (`too-large:`, `quota:`, `hash-mismatch`, `not-offered:`).
    BlobReject {
        /// Sender.
        sender_id: PeerId,
        /// Recipient.
        target_id: PeerId,
        /// The attachment.
        hash: BlobHash,
        /// Code and plain-language detail.
        reason: String,
    },
}

impl Message {
    /// The wire `type` of this message.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::Error { .. } => "error",
            Message::CatchupRequest { .. } => "hv-catchup-request",
            Message::CatchupResponse { .. } => "hv-catchup-response",
            Message::Doc { .. } => "hv-doc",
            Message::Ack { .. } => "hv-ack",
            Message::Reject { .. } => "hv-reject",
            Message::Revoked { .. } => "hv-revoked",
            Message::Batch { .. } => "hv-batch",
            Message::AuditUpload { .. } => "hv-audit-upload",
            Message::AuditAck { .. } => "hv-audit-ack",
            Message::BlobOffer { .. } => "hv-blob-offer",
            Message::BlobStatus { .. } => "hv-blob-status",
            Message::BlobChunk { .. } => "hv-blob-chunk",
            Message::BlobAck { .. } => "hv-blob-ack",
            Message::BlobGet { .. } => "hv-blob-get",
            Message::BlobMissing { .. } => "hv-blob-missing",
            Message::BlobReject { .. } => "hv-blob-reject",
        }
    }

    /// The extension a peer must have announced before it may be sent this message; `None` for
    /// automerge-repo's own messages and `hv-revoked` (sent to every revoked device).
    pub fn required_extension(&self) -> Option<Extension> {
        match self {
            Message::CatchupRequest { .. } | Message::CatchupResponse { .. } => {
                Some(Extension::Catchup)
            }
            Message::Doc { .. } => Some(Extension::WholeDoc),
            Message::Ack { .. } | Message::Reject { .. } => Some(Extension::Ack),
            Message::Batch { .. } => Some(Extension::Batch),
            Message::AuditUpload { .. } | Message::AuditAck { .. } => Some(Extension::Audit),
            Message::BlobOffer { .. }
            | Message::BlobStatus { .. }
            | Message::BlobChunk { .. }
            | Message::BlobAck { .. }
            | Message::BlobGet { .. }
            | Message::BlobMissing { .. }
            | Message::BlobReject { .. } => Some(Extension::Blobs),
            _ => None,
        }
    }

    /// The document this message is about, if any.
    pub fn document_id(&self) -> Option<RecordId> {
        match self {
            Message::Request { document_id, .. }
            | Message::Sync { document_id, .. }
            | Message::DocUnavailable { document_id, .. }
            | Message::Ephemeral { document_id, .. }
            | Message::RemoteHeadsChanged { document_id, .. }
            | Message::Doc { document_id, .. }
            | Message::Ack { document_id, .. }
            | Message::Reject { document_id, .. } => Some(*document_id),
            _ => None,
        }
    }

    /// Encodes the message, refusing one larger than [`MAX_MESSAGE_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, ProtocolError> {
        self.encode_with_limit(MAX_MESSAGE_BYTES)
    }

    /// Encodes the message, refusing one larger than `limit` bytes (the peer would reject it).
    pub fn encode_with_limit(&self, limit: usize) -> Result<Vec<u8>, ProtocolError> {
        let value = self.to_value()?;
        let mut out = Vec::new();
        ciborium::ser::into_writer(&value, &mut out)
            .map_err(|e| ProtocolError::Encode(e.to_string()))?;
        if out.len() > limit {
            return Err(ProtocolError::TooLarge {
                size: out.len(),
                limit,
            });
        }
        Ok(out)
    }

    /// Decodes one frame with the default limit ([`MAX_MESSAGE_BYTES`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, ProtocolError> {
        Self::decode_with_limit(bytes, MAX_MESSAGE_BYTES)
    }

    /// Decodes one frame of at most `limit` bytes.
    pub fn decode_with_limit(bytes: &[u8], limit: usize) -> Result<Self, ProtocolError> {
        Self::decode_inner(bytes, limit, true)
    }

    fn decode_inner(bytes: &[u8], limit: usize, allow_batch: bool) -> Result<Self, ProtocolError> {
        if bytes.len() > limit {
            return Err(ProtocolError::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        let mut reader = bytes;
        let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut reader, MAX_NESTING)
            .map_err(|e| ProtocolError::MalformedCbor(e.to_string()))?;
        if !reader.is_empty() {
            return Err(ProtocolError::TrailingBytes(reader.len()));
        }
        let map = Fields::new(value)?;
        let ty = match map.get("type") {
            Some(Value::Text(t)) => t.clone(),
            _ => return Err(ProtocolError::MissingType),
        };
        map.into_message(&ty, limit, allow_batch)
    }

    fn to_value(&self) -> Result<Value, ProtocolError> {
        let mut m = MapBuilder::new(self.type_name());
        match self {
            Message::Join {
                sender_id,
                supported_protocol_versions,
                peer_metadata,
            } => {
                m.text("senderId", sender_id);
                m.put(
                    "supportedProtocolVersions",
                    Value::Array(
                        supported_protocol_versions
                            .iter()
                            .map(|v| Value::Text(v.clone()))
                            .collect(),
                    ),
                );
                if let Some(md) = peer_metadata {
                    m.put("peerMetadata", metadata_to_value(md));
                }
            }
            Message::Peer {
                sender_id,
                target_id,
                selected_protocol_version,
                peer_metadata,
            } => {
                m.text("senderId", sender_id);
                m.text("targetId", target_id);
                m.text("selectedProtocolVersion", selected_protocol_version);
                if let Some(md) = peer_metadata {
                    m.put("peerMetadata", metadata_to_value(md));
                }
            }
            Message::Leave { sender_id } => m.text("senderId", sender_id),
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
            | Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
                m.bytes("data", data);
            }
            Message::DocUnavailable {
                sender_id,
                target_id,
                document_id,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
            }
            Message::Ephemeral {
                sender_id,
                target_id,
                count,
                session_id,
                document_id,
                data,
            } => {
                m.route(sender_id, target_id);
                m.put("count", Value::Integer((*count).into()));
                m.text("sessionId", session_id);
                m.doc(document_id);
                m.bytes("data", data);
            }
            Message::RemoteSubscriptionChange {
                sender_id,
                target_id,
                add,
                remove,
            } => {
                m.route(sender_id, target_id);
                m.put("add", text_array(add));
                m.put("remove", text_array(remove));
            }
            Message::RemoteHeadsChanged {
                sender_id,
                target_id,
                document_id,
                new_heads,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
                let entries = new_heads
                    .iter()
                    .map(|(storage, rh)| {
                        (
                            Value::Text(storage.clone()),
                            Value::Map(vec![
                                (Value::Text("heads".into()), text_array(&rh.heads)),
                                (
                                    Value::Text("timestamp".into()),
                                    Value::Integer(rh.timestamp.into()),
                                ),
                            ]),
                        )
                    })
                    .collect();
                m.put("newHeads", Value::Map(entries));
            }
            Message::Error {
                sender_id,
                target_id,
                message,
            } => {
                if let Some(s) = sender_id {
                    m.text("senderId", s);
                }
                if let Some(t) = target_id {
                    m.text("targetId", t);
                }
                m.text("message", message);
            }
            Message::CatchupRequest {
                sender_id,
                target_id,
                cursor,
                changed_document_ids,
            } => {
                m.route(sender_id, target_id);
                m.put("cursor", Value::Integer((*cursor).into()));
                m.put("changedDocumentIds", doc_array(changed_document_ids));
            }
            Message::CatchupResponse {
                sender_id,
                target_id,
                changed,
                missing,
                cursor,
                more,
            } => {
                m.route(sender_id, target_id);
                let changed = changed
                    .iter()
                    .map(|c| {
                        Value::Map(vec![
                            (
                                Value::Text("documentId".into()),
                                Value::Text(c.document_id.to_document_id()),
                            ),
                            (Value::Text("heads".into()), heads_to_value(&c.heads)),
                        ])
                    })
                    .collect();
                m.put("changed", Value::Array(changed));
                m.put("missing", doc_array(missing));
                m.put("cursor", Value::Integer((*cursor).into()));
                m.put("more", Value::Bool(*more));
            }
            Message::Doc {
                sender_id,
                target_id,
                document_id,
                data,
                heads,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
                m.bytes("data", data);
                m.put("heads", heads_to_value(heads));
            }
            Message::Ack {
                sender_id,
                target_id,
                document_id,
                heads,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
                m.put("heads", heads_to_value(heads));
            }
            Message::Reject {
                sender_id,
                target_id,
                document_id,
                reason,
            } => {
                m.route(sender_id, target_id);
                m.doc(document_id);
                m.text("reason", reason);
            }
            Message::Revoked { sender_id, reason } => {
                m.text("senderId", sender_id);
                m.text("reason", reason);
            }
            Message::Batch {
                sender_id,
                target_id,
                messages,
            } => {
                m.route(sender_id, target_id);
                let mut items = Vec::with_capacity(messages.len());
                for inner in messages {
                    if matches!(inner, Message::Batch { .. }) {
                        return Err(ProtocolError::Encode(
                            "hv-batch cannot contain hv-batch".into(),
                        ));
                    }
                    let mut buf = Vec::new();
                    ciborium::ser::into_writer(&inner.to_value()?, &mut buf)
                        .map_err(|e| ProtocolError::Encode(e.to_string()))?;
                    items.push(Value::Bytes(buf));
                }
                m.put("messages", Value::Array(items));
            }
            Message::AuditUpload {
                sender_id,
                target_id,
                entries,
                core_version,
                unsynced_records,
            } => {
                m.route(sender_id, target_id);
                let items = entries
                    .iter()
                    .map(|e| {
                        let mut fields = vec![
                            (Value::Text("id".into()), Value::Text(e.id.to_string())),
                            (
                                Value::Text("userId".into()),
                                Value::Text(e.user_id.to_string()),
                            ),
                            (
                                Value::Text("deviceId".into()),
                                Value::Text(e.device_id.to_string()),
                            ),
                            (
                                Value::Text("documentId".into()),
                                Value::Text(e.record_id.to_document_id()),
                            ),
                            (Value::Text("action".into()), Value::Text(e.action.clone())),
                            (Value::Text("at".into()), Value::Text(e.at.clone())),
                        ];
                        if let Some(p) = &e.purpose {
                            fields.push((Value::Text("purpose".into()), Value::Text(p.clone())));
                        }
                        Value::Map(fields)
                    })
                    .collect();
                m.put("entries", Value::Array(items));
                if let Some(v) = core_version {
                    m.text("coreVersion", v);
                }
                if let Some(n) = unsynced_records {
                    m.put("unsyncedRecords", Value::Integer((*n).into()));
                }
            }
            Message::AuditAck {
                sender_id,
                target_id,
                ids,
            } => {
                m.route(sender_id, target_id);
                m.put(
                    "ids",
                    Value::Array(ids.iter().map(|i| Value::Text(i.to_string())).collect()),
                );
            }
            Message::BlobOffer {
                sender_id,
                target_id,
                hash,
                size,
                media_type,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
                m.put("size", Value::Integer((*size).into()));
                m.text("mediaType", media_type);
            }
            Message::BlobStatus {
                sender_id,
                target_id,
                hash,
                have,
            }
            | Message::BlobAck {
                sender_id,
                target_id,
                hash,
                have,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
                m.put("have", Value::Integer((*have).into()));
            }
            Message::BlobChunk {
                sender_id,
                target_id,
                hash,
                offset,
                data,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
                m.put("offset", Value::Integer((*offset).into()));
                m.bytes("data", data);
            }
            Message::BlobGet {
                sender_id,
                target_id,
                hash,
                offset,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
                m.put("offset", Value::Integer((*offset).into()));
            }
            Message::BlobMissing {
                sender_id,
                target_id,
                hash,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
            }
            Message::BlobReject {
                sender_id,
                target_id,
                hash,
                reason,
            } => {
                m.route(sender_id, target_id);
                m.bytes("hash", hash);
                m.text("reason", reason);
            }
        }
        Ok(m.finish())
    }
}

/// Builds a message map with `type` first, as automerge-repo's peers write it.
struct MapBuilder(Vec<(Value, Value)>);

impl MapBuilder {
    fn new(ty: &str) -> Self {
        Self(vec![(Value::Text("type".into()), Value::Text(ty.into()))])
    }
    fn put(&mut self, key: &str, value: Value) {
        self.0.push((Value::Text(key.into()), value));
    }
    fn text(&mut self, key: &str, value: &str) {
        self.put(key, Value::Text(value.into()));
    }
    fn bytes(&mut self, key: &str, value: &[u8]) {
        self.put(key, Value::Bytes(value.to_vec()));
    }
    fn route(&mut self, sender: &str, target: &str) {
        self.text("senderId", sender);
        self.text("targetId", target);
    }
    fn doc(&mut self, id: &RecordId) {
        self.text("documentId", &id.to_document_id());
    }
    fn finish(self) -> Value {
        Value::Map(self.0)
    }
}

fn text_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::Text(s.clone())).collect())
}

fn doc_array(ids: &[RecordId]) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| Value::Text(id.to_document_id()))
            .collect(),
    )
}

fn heads_to_value(heads: &[ChangeHash]) -> Value {
    Value::Array(heads.iter().map(|h| Value::Bytes(h.0.to_vec())).collect())
}

fn metadata_to_value(md: &PeerMetadata) -> Value {
    let mut entries = Vec::new();
    if let Some(s) = &md.storage_id {
        entries.push((Value::Text("storageId".into()), Value::Text(s.clone())));
    }
    if let Some(e) = md.is_ephemeral {
        entries.push((Value::Text("isEphemeral".into()), Value::Bool(e)));
    }
    if let Some(hv) = &md.homevisit {
        entries.push((
            Value::Text("homevisit".into()),
            Value::Map(vec![
                (
                    Value::Text("version".into()),
                    Value::Integer(hv.version.into()),
                ),
                (
                    Value::Text("extensions".into()),
                    Value::Array(
                        hv.extensions
                            .iter()
                            .map(|e| Value::Text(e.as_str().into()))
                            .collect(),
                    ),
                ),
            ]),
        ));
    }
    Value::Map(entries)
}

/// A decoded CBOR map with unique text keys. JS `undefined` and `null` values count as absent,
/// because cbor-x writes an unset optional property as `undefined`.
struct Fields(BTreeMap<String, Value>);

impl Fields {
    fn new(value: Value) -> Result<Self, ProtocolError> {
        let Value::Map(entries) = value else {
            return Err(ProtocolError::NotAMap);
        };
        let mut map = BTreeMap::new();
        for (k, v) in entries {
            let Value::Text(k) = k else {
                return Err(ProtocolError::NotAMap);
            };
            if map.contains_key(&k) {
                return Err(ProtocolError::DuplicateKey(k));
            }
            if !matches!(v, Value::Null) {
                map.insert(k, v);
            }
        }
        Ok(Self(map))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn into_message(
        mut self,
        ty: &str,
        limit: usize,
        allow_batch: bool,
    ) -> Result<Message, ProtocolError> {
        let msg = match ty {
            "join" => Message::Join {
                sender_id: self.id(ty, "senderId")?,
                supported_protocol_versions: self
                    .req(ty, "supportedProtocolVersions")
                    .and_then(|v| text_list(v, "supportedProtocolVersions", 16, MAX_ID_LEN))?,
                peer_metadata: self
                    .opt("peerMetadata")
                    .map(metadata_from_value)
                    .transpose()?,
            },
            "peer" => Message::Peer {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                selected_protocol_version: self.text(ty, "selectedProtocolVersion", MAX_ID_LEN)?,
                peer_metadata: self
                    .opt("peerMetadata")
                    .map(metadata_from_value)
                    .transpose()?,
            },
            "leave" => Message::Leave {
                sender_id: self.id(ty, "senderId")?,
            },
            "request" => Message::Request {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                data: self.bytes(ty, "data")?,
            },
            "sync" => Message::Sync {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                data: self.bytes(ty, "data")?,
            },
            "doc-unavailable" => Message::DocUnavailable {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
            },
            "ephemeral" => Message::Ephemeral {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                count: self.req(ty, "count").and_then(|v| uint(v, "count"))?,
                session_id: self.text(ty, "sessionId", MAX_ID_LEN)?,
                document_id: self.doc(ty)?,
                data: self.bytes(ty, "data")?,
            },
            "remote-subscription-change" => Message::RemoteSubscriptionChange {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                add: self
                    .opt("add")
                    .map(|v| text_list(v, "add", MAX_LIST_LEN, MAX_ID_LEN))
                    .transpose()?
                    .unwrap_or_default(),
                remove: self
                    .opt("remove")
                    .map(|v| text_list(v, "remove", MAX_LIST_LEN, MAX_ID_LEN))
                    .transpose()?
                    .unwrap_or_default(),
            },
            "remote-heads-changed" => Message::RemoteHeadsChanged {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                new_heads: self.req(ty, "newHeads").and_then(new_heads_from_value)?,
            },
            "error" => Message::Error {
                sender_id: self
                    .opt("senderId")
                    .map(|v| text(v, "senderId", MAX_ID_LEN))
                    .transpose()?,
                target_id: self
                    .opt("targetId")
                    .map(|v| text(v, "targetId", MAX_ID_LEN))
                    .transpose()?,
                message: self.text(ty, "message", MAX_TEXT_LEN)?,
            },
            "hv-catchup-request" => Message::CatchupRequest {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                cursor: self.req(ty, "cursor").and_then(|v| uint(v, "cursor"))?,
                changed_document_ids: self
                    .req(ty, "changedDocumentIds")
                    .and_then(|v| doc_list(v, "changedDocumentIds"))?,
            },
            "hv-catchup-response" => Message::CatchupResponse {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                changed: self.req(ty, "changed").and_then(changed_list)?,
                missing: self
                    .opt("missing")
                    .map(|v| doc_list(v, "missing"))
                    .transpose()?
                    .unwrap_or_default(),
                cursor: self.req(ty, "cursor").and_then(|v| uint(v, "cursor"))?,
                more: match self.opt("more") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(invalid("more", "not a boolean")),
                },
            },
            "hv-doc" => Message::Doc {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                data: self.bytes(ty, "data")?,
                heads: self.req(ty, "heads").and_then(|v| heads_list(v, "heads"))?,
            },
            "hv-ack" => Message::Ack {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                heads: self.req(ty, "heads").and_then(|v| heads_list(v, "heads"))?,
            },
            "hv-reject" => Message::Reject {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                document_id: self.doc(ty)?,
                reason: self.text(ty, "reason", MAX_TEXT_LEN)?,
            },
            "hv-revoked" => Message::Revoked {
                sender_id: self.id(ty, "senderId")?,
                reason: self.text(ty, "reason", MAX_TEXT_LEN)?,
            },
            "hv-batch" if allow_batch => {
                let sender_id = self.id(ty, "senderId")?;
                let target_id = self.id(ty, "targetId")?;
                let Value::Array(items) = self.take(ty, "messages")? else {
                    return Err(invalid("messages", "not an array"));
                };
                if items.len() > MAX_LIST_LEN {
                    return Err(invalid("messages", "too many messages"));
                }
                let mut messages = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Bytes(b) = item else {
                        return Err(invalid("messages", "an entry is not a byte string"));
                    };
                    messages.push(Message::decode_inner(&b, limit, false)?);
                }
                Message::Batch {
                    sender_id,
                    target_id,
                    messages,
                }
            }
            "hv-batch" => return Err(invalid("messages", "hv-batch inside hv-batch")),
            "hv-audit-upload" => Message::AuditUpload {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                entries: list(self.req(ty, "entries")?, "entries", MAX_AUDIT_ENTRIES)?
                    .iter()
                    .map(audit_record)
                    .collect::<Result<_, _>>()?,
                core_version: self
                    .opt("coreVersion")
                    .map(|v| text(v, "coreVersion", MAX_ID_LEN))
                    .transpose()?,
                unsynced_records: self
                    .opt("unsyncedRecords")
                    .map(|v| uint(v, "unsyncedRecords"))
                    .transpose()?,
            },
            "hv-audit-ack" => Message::AuditAck {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                ids: list(self.req(ty, "ids")?, "ids", MAX_AUDIT_ENTRIES)?
                    .iter()
                    .map(|v| uuid_field(v, "ids"))
                    .collect::<Result<_, _>>()?,
            },
            "hv-blob-offer" => Message::BlobOffer {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                size: match self.req(ty, "size").and_then(|v| uint(v, "size"))? {
                    0 => return Err(invalid("size", "an attachment has at least one byte")),
                    n => n,
                },
                media_type: self.text(ty, "mediaType", MAX_ID_LEN)?,
            },
            "hv-blob-status" => Message::BlobStatus {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                have: self.req(ty, "have").and_then(|v| uint(v, "have"))?,
            },
            "hv-blob-chunk" => Message::BlobChunk {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                offset: self.req(ty, "offset").and_then(|v| uint(v, "offset"))?,
                data: match self.bytes(ty, "data")? {
                    d if d.len() > MAX_BLOB_CHUNK => {
                        return Err(invalid(
                            "data",
                            &format!("{} bytes, limit {MAX_BLOB_CHUNK}", d.len()),
                        ))
                    }
                    d => d,
                },
            },
            "hv-blob-ack" => Message::BlobAck {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                have: self.req(ty, "have").and_then(|v| uint(v, "have"))?,
            },
            "hv-blob-get" => Message::BlobGet {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                offset: self.req(ty, "offset").and_then(|v| uint(v, "offset"))?,
            },
            "hv-blob-missing" => Message::BlobMissing {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
            },
            "hv-blob-reject" => Message::BlobReject {
                sender_id: self.id(ty, "senderId")?,
                target_id: self.id(ty, "targetId")?,
                hash: self.hash(ty)?,
                reason: self.text(ty, "reason", MAX_TEXT_LEN)?,
            },
            other => return Err(ProtocolError::UnknownType(other.to_string())),
        };
        Ok(msg)
    }

    fn opt(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    fn req(&self, ty: &str, key: &'static str) -> Result<&Value, ProtocolError> {
        self.0.get(key).ok_or_else(|| ProtocolError::MissingField {
            message_type: ty.to_string(),
            field: key,
        })
    }

    fn take(&mut self, ty: &str, key: &'static str) -> Result<Value, ProtocolError> {
        self.0
            .remove(key)
            .ok_or_else(|| ProtocolError::MissingField {
                message_type: ty.to_string(),
                field: key,
            })
    }

    fn text(&self, ty: &str, key: &'static str, max: usize) -> Result<String, ProtocolError> {
        self.req(ty, key).and_then(|v| text(v, key, max))
    }

    fn id(&self, ty: &str, key: &'static str) -> Result<String, ProtocolError> {
        let s = self.text(ty, key, MAX_ID_LEN)?;
        if s.is_empty() {
            return Err(invalid(key, "empty"));
        }
        Ok(s)
    }

    fn doc(&self, ty: &str) -> Result<RecordId, ProtocolError> {
        self.req(ty, "documentId")
            .and_then(|v| doc_id(v, "documentId"))
    }

    /// An attachment hash: a byte string of exactly 32 bytes (SHA-256).
    fn hash(&self, ty: &str) -> Result<BlobHash, ProtocolError> {
        match self.req(ty, "hash")? {
            Value::Bytes(b) => {
                <BlobHash>::try_from(b.as_slice()).map_err(|_| invalid("hash", "not 32 bytes"))
            }
            _ => Err(invalid("hash", "not a byte string")),
        }
    }

    fn bytes(&mut self, ty: &str, key: &'static str) -> Result<Vec<u8>, ProtocolError> {
        match self.take(ty, key)? {
            Value::Bytes(b) => Ok(b),
            _ => Err(invalid(key, "not a byte string")),
        }
    }
}

fn uuid_field(v: &Value, field: &'static str) -> Result<uuid::Uuid, ProtocolError> {
    let s = text(v, field, MAX_ID_LEN)?;
    uuid::Uuid::parse_str(&s).map_err(|e| invalid(field, &format!("not a UUID: {e}")))
}

/// One `hv-audit-upload` entry: a map with text keys; the action one of the three
/// `RK-AUDIT` actions, the instant RFC 3339.
fn audit_record(v: &Value) -> Result<AuditRecord, ProtocolError> {
    let Value::Map(pairs) = v else {
        return Err(invalid("entries", "an entry is not a map"));
    };
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| matches!(k, Value::Text(t) if t == key))
            .map(|(_, v)| v)
    };
    let need = |key: &'static str| {
        get(key).ok_or_else(|| invalid("entries", &format!("an entry has no `{key}`")))
    };
    let action = text(need("action")?, "action", MAX_ID_LEN)?;
    if !matches!(action.as_str(), "view" | "print" | "export") {
        return Err(invalid("action", "not view, print or export"));
    }
    let at = text(need("at")?, "at", MAX_ID_LEN)?;
    if chrono::DateTime::parse_from_rfc3339(&at).is_err() {
        return Err(invalid("at", "not an RFC 3339 instant"));
    }
    Ok(AuditRecord {
        id: uuid_field(need("id")?, "id")?,
        user_id: uuid_field(need("userId")?, "userId")?,
        device_id: uuid_field(need("deviceId")?, "deviceId")?,
        record_id: doc_id(need("documentId")?, "documentId")?,
        action,
        at,
        purpose: get("purpose")
            .map(|v| text(v, "purpose", MAX_TEXT_LEN))
            .transpose()?,
    })
}

fn invalid(field: &'static str, detail: &str) -> ProtocolError {
    ProtocolError::InvalidField {
        field,
        detail: detail.to_string(),
    }
}

fn text(v: &Value, field: &'static str, max: usize) -> Result<String, ProtocolError> {
    match v {
        Value::Text(s) if s.len() <= max => Ok(s.clone()),
        Value::Text(s) => Err(invalid(field, &format!("{} bytes, limit {max}", s.len()))),
        _ => Err(invalid(field, "not a text string")),
    }
}

/// An unsigned integer. cbor-x writes integers above 2^32 (timestamps) as float64, so an
/// integral, non-negative float below 2^53 is accepted too.
fn uint(v: &Value, field: &'static str) -> Result<u64, ProtocolError> {
    match v {
        Value::Integer(i) => u64::try_from(*i).map_err(|_| invalid(field, "negative or too large")),
        Value::Float(f) if f.fract() == 0.0 && *f >= 0.0 && *f <= 9_007_199_254_740_992.0 => {
            // Exact: integral and within f64's contiguous integer range (checked above).
            Ok(*f as u64)
        }
        _ => Err(invalid(field, "not an unsigned integer")),
    }
}

fn list<'a>(v: &'a Value, field: &'static str, max: usize) -> Result<&'a [Value], ProtocolError> {
    match v {
        Value::Array(items) if items.len() <= max => Ok(items),
        Value::Array(items) => Err(invalid(
            field,
            &format!("{} entries, limit {max}", items.len()),
        )),
        _ => Err(invalid(field, "not an array")),
    }
}

fn text_list(
    v: &Value,
    field: &'static str,
    max_len: usize,
    max_item: usize,
) -> Result<Vec<String>, ProtocolError> {
    list(v, field, max_len)?
        .iter()
        .map(|i| text(i, field, max_item))
        .collect()
}

fn doc_id(v: &Value, field: &'static str) -> Result<RecordId, ProtocolError> {
    let s = text(v, field, MAX_ID_LEN)?;
    RecordId::from_document_id(&s).map_err(|e| invalid(field, &e.to_string()))
}

fn doc_list(v: &Value, field: &'static str) -> Result<Vec<RecordId>, ProtocolError> {
    list(v, field, MAX_LIST_LEN)?
        .iter()
        .map(|i| doc_id(i, field))
        .collect()
}

fn heads_list(v: &Value, field: &'static str) -> Result<Vec<ChangeHash>, ProtocolError> {
    list(v, field, MAX_HEADS)?
        .iter()
        .map(|h| match h {
            Value::Bytes(b) => <[u8; 32]>::try_from(b.as_slice())
                .map(ChangeHash)
                .map_err(|_| invalid(field, "a head is not 32 bytes")),
            _ => Err(invalid(field, "a head is not a byte string")),
        })
        .collect()
}

fn changed_list(v: &Value) -> Result<Vec<ChangedDocument>, ProtocolError> {
    list(v, "changed", MAX_LIST_LEN)?
        .iter()
        .map(|entry| {
            let f =
                Fields::new(entry.clone()).map_err(|_| invalid("changed", "entry not a map"))?;
            Ok(ChangedDocument {
                document_id: f.doc("hv-catchup-response")?,
                heads: f
                    .req("hv-catchup-response", "heads")
                    .and_then(|v| heads_list(v, "heads"))?,
            })
        })
        .collect()
}

fn metadata_from_value(v: &Value) -> Result<PeerMetadata, ProtocolError> {
    let f = Fields::new(v.clone()).map_err(|_| invalid("peerMetadata", "not a map"))?;
    let storage_id = f
        .opt("storageId")
        .map(|v| text(v, "storageId", MAX_ID_LEN))
        .transpose()?;
    let is_ephemeral = match f.opt("isEphemeral") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid("isEphemeral", "not a boolean")),
    };
    let homevisit = match f.opt("homevisit") {
        None => None,
        Some(hv) => {
            let hv = Fields::new(hv.clone()).map_err(|_| invalid("homevisit", "not a map"))?;
            let version = hv.req("join", "version").and_then(|v| uint(v, "version"))?;
            let names = hv
                .req("join", "extensions")
                .and_then(|v| text_list(v, "extensions", 64, MAX_ID_LEN))?;
            Some(HomeVisitMetadata {
                version,
                extensions: names.iter().filter_map(|n| Extension::parse(n)).collect(),
            })
        }
    };
    Ok(PeerMetadata {
        storage_id,
        is_ephemeral,
        homevisit,
    })
}

fn new_heads_from_value(v: &Value) -> Result<BTreeMap<String, RemoteHeads>, ProtocolError> {
    let f = Fields::new(v.clone()).map_err(|_| invalid("newHeads", "not a map"))?;
    if f.0.len() > MAX_LIST_LEN {
        return Err(invalid("newHeads", "too many storage ids"));
    }
    let mut out = BTreeMap::new();
    for (storage, entry) in &f.0 {
        if storage.len() > MAX_ID_LEN {
            return Err(invalid("newHeads", "storage id too long"));
        }
        let e = Fields::new(entry.clone()).map_err(|_| invalid("newHeads", "entry not a map"))?;
        let heads = e
            .req("remote-heads-changed", "heads")
            .and_then(|v| text_list(v, "heads", MAX_HEADS, MAX_ID_LEN))?;
        let timestamp = e
            .req("remote-heads-changed", "timestamp")
            .and_then(|v| uint(v, "timestamp"))?;
        out.insert(storage.clone(), RemoteHeads { heads, timestamp });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
