//! Counters exposed at `GET /metrics` in the Prometheus text format.
//!
//! `/metrics` needs no token, so everything here is process-wide and unlabelled: no team,
//! user, device or record appears in it, and nothing is counted per team (docs/SECURITY.md).

use std::sync::atomic::{AtomicU64, Ordering};

/// Server-wide counters; cheap to bump from any connection.
#[derive(Debug, Default)]
pub struct Metrics {
    /// WebSocket connections open now.
    pub connections_open: AtomicU64,
    /// WebSocket connections accepted since start.
    pub connections_total: AtomicU64,
    /// Document commits (changes durably stored) since start.
    pub docs_synced_total: AtomicU64,
    /// Bytes received in WebSocket messages.
    pub bytes_in_total: AtomicU64,
    /// Bytes sent in WebSocket messages.
    pub bytes_out_total: AtomicU64,
    /// Protocol messages received.
    pub messages_in_total: AtomicU64,
    /// Connections closed because of a protocol error, and storage failures.
    pub errors_total: AtomicU64,
    /// Requests refused for a missing, unknown or revoked token.
    pub auth_failures_total: AtomicU64,
    /// Changes stored with a flag from a domain check.
    pub flags_total: AtomicU64,
    /// `/sync` requests refused because the server held its maximum of connections (503).
    pub refused_server_full_total: AtomicU64,
    /// `/sync` requests refused because the device held its maximum of connections (429).
    pub refused_device_limit_total: AtomicU64,
    /// `/sync` requests refused because their address sent too many bad tokens (429).
    pub refused_rate_limited_total: AtomicU64,
    /// Connections answered `503` and closed at once because the server held its maximum of
    /// connections still sending their first request (`max_pending_connections`).
    pub refused_pending_total: AtomicU64,
    /// Connections closed because their request head did not arrive within
    /// `header_read_timeout`.
    pub header_timeouts_total: AtomicU64,
    /// Connections dropped for silence (no join, no frame or pong) or a stalled write.
    pub timeouts_total: AtomicU64,
    /// Commits refused because the server's storage was full.
    pub storage_full_total: AtomicU64,
    /// Device tokens looked up in storage (each a hash and a query): what a flood of bad
    /// tokens costs.
    pub auth_evaluations_total: AtomicU64,
    /// Commits retried because another instance committed the same document first
    /// (PostgreSQL, several instances).
    pub commit_races_total: AtomicU64,
    /// Attachment bytes received in `hv-blob-chunk` messages.
    pub blob_bytes_in_total: AtomicU64,
    /// Attachment bytes sent in `hv-blob-chunk` messages.
    pub blob_bytes_out_total: AtomicU64,
}

impl Metrics {
    /// Adds `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` from a gauge.
    pub fn sub(counter: &AtomicU64, n: u64) {
        counter.fetch_sub(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, &AtomicU64); 20] = [
            (
                "homevisit_connections_open",
                "gauge",
                "WebSocket connections open now",
                &self.connections_open,
            ),
            (
                "homevisit_connections_total",
                "counter",
                "WebSocket connections accepted",
                &self.connections_total,
            ),
            (
                "homevisit_docs_synced_total",
                "counter",
                "Document commits durably stored",
                &self.docs_synced_total,
            ),
            (
                "homevisit_bytes_in_total",
                "counter",
                "Bytes received in WebSocket messages",
                &self.bytes_in_total,
            ),
            (
                "homevisit_bytes_out_total",
                "counter",
                "Bytes sent in WebSocket messages",
                &self.bytes_out_total,
            ),
            (
                "homevisit_messages_in_total",
                "counter",
                "Protocol messages received",
                &self.messages_in_total,
            ),
            (
                "homevisit_errors_total",
                "counter",
                "Protocol errors and storage failures",
                &self.errors_total,
            ),
            (
                "homevisit_auth_failures_total",
                "counter",
                "Requests refused for a bad or revoked token",
                &self.auth_failures_total,
            ),
            (
                "homevisit_commit_races_total",
                "counter",
                "Commits retried because another instance committed the document first",
                &self.commit_races_total,
            ),
            (
                "homevisit_flags_total",
                "counter",
                "Changes stored with a domain-check flag",
                &self.flags_total,
            ),
            (
                "homevisit_refused_server_full_total",
                "counter",
                "Sync requests refused: connection limit reached (503)",
                &self.refused_server_full_total,
            ),
            (
                "homevisit_refused_device_limit_total",
                "counter",
                "Sync requests refused: per-device connection limit reached (429)",
                &self.refused_device_limit_total,
            ),
            (
                "homevisit_refused_rate_limited_total",
                "counter",
                "Sync requests refused: too many bad tokens from the address (429)",
                &self.refused_rate_limited_total,
            ),
            (
                "homevisit_refused_pending_total",
                "counter",
                "Connections refused: too many still sending their first request (503)",
                &self.refused_pending_total,
            ),
            (
                "homevisit_header_timeouts_total",
                "counter",
                "Connections closed: request head not received in time",
                &self.header_timeouts_total,
            ),
            (
                "homevisit_auth_evaluations_total",
                "counter",
                "Device tokens looked up in storage",
                &self.auth_evaluations_total,
            ),
            (
                "homevisit_timeouts_total",
                "counter",
                "Connections dropped for silence or a stalled write",
                &self.timeouts_total,
            ),
            (
                "homevisit_storage_full_total",
                "counter",
                "Commits refused because the server storage was full",
                &self.storage_full_total,
            ),
            (
                "homevisit_blob_bytes_in_total",
                "counter",
                "Attachment bytes received in chunks",
                &self.blob_bytes_in_total,
            ),
            (
                "homevisit_blob_bytes_out_total",
                "counter",
                "Attachment bytes sent in chunks",
                &self.blob_bytes_out_total,
            ),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
