//! What a sync session tells the app while it runs ([`SyncProgress`]) and when it ends
//! ([`SyncReport`]).

use crate::ids::RecordId;

/// A snapshot of a running sync, passed to the progress callback after the catch-up answer
/// and after each document finishes. Totals grow when a later catch-up page lists more work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyncProgress {
    /// Documents finished in this session (synced, received, uploaded, refused or failed).
    pub docs_done: u64,
    /// Documents known to need work in this session so far.
    pub docs_total: u64,
    /// Bytes sent so far (WebSocket payloads, handshake excluded).
    pub bytes_sent: u64,
    /// Bytes received so far (WebSocket payloads, handshake excluded).
    pub bytes_received: u64,
    /// Bytes of whole documents known to be still waiting for upload.
    pub bytes_queued: u64,
}

/// A document the server refused or that could not be applied locally; the others went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentProblem {
    /// The record.
    pub id: RecordId,
    /// Plain-language reason (the server's `hv-reject` reason, or the local error).
    pub reason: String,
}

/// The outcome of one sync session.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Documents whose local changes went to the server (whole uploads and sync messages
    /// carrying changes).
    pub docs_sent: u64,
    /// Documents for which changes arrived from the server.
    pub docs_received: u64,
    /// Documents the server acknowledged as holding every local change (status `synced`).
    pub docs_synced: u64,
    /// WebSocket payload bytes sent after the handshake.
    pub bytes_sent: u64,
    /// WebSocket payload bytes received after the handshake.
    pub bytes_received: u64,
    /// Bytes of the `join` / `peer` handshake (both directions).
    pub handshake_bytes: u64,
    /// Times the client sent and then had to wait for the server, after the handshake. A
    /// reconnect with nothing to do is exactly one (catch-up request → response).
    pub round_trips: u64,
    /// Records whose status after this session is `conflict` (a clinical field with
    /// concurrent values, SAF-SILENT-CONFLICT).
    pub conflicts: u64,
    /// Documents the server refused (`hv-reject`); they stay unsynced.
    pub rejected: Vec<DocumentProblem>,
    /// Documents that could not be synced this time (local error, `doc-unavailable`).
    pub failed: Vec<DocumentProblem>,
    /// The catch-up cursor stored at the end of the session.
    pub cursor: u64,
    /// `true` when every local change is acknowledged and every server change up to the
    /// stored cursor is on the device: nothing is left for a next session.
    pub complete: bool,
}
