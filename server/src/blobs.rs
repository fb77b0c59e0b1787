//! Attachment bytes over `/sync` (the `blobs` extension, docs/PROTOCOL.md "Attachments"):
//! offers, resumable chunked uploads and downloads, each scoped to the connection's team
//! exactly as documents are, with the size limit and the team quota (ADR 0021).
//!
//! The storage does the bookkeeping in one transaction per message (where an upload resumes,
//! the hash check of the last chunk); this module turns its answers into messages and decides
//! what is the peer's fault: a chunk that runs past the offered size, or a download from
//! beyond the end of an attachment the team holds, is a protocol error.

use homevisit_core::sync::protocol::{Message, MAX_BLOB_CHUNK};

use crate::{
    app::App,
    metrics::Metrics,
    store::{BlobAppend, BlobHash, BlobOffer, DeviceAuth, ServerStore, StoreError},
};

/// Why a blob message could not be answered.
#[derive(Debug)]
pub enum BlobFault {
    /// The peer broke the protocol: `error` and close.
    Protocol(String),
    /// Storage failed: nothing was acknowledged.
    Store(StoreError),
}

impl From<StoreError> for BlobFault {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// The next thing a download sends.
#[derive(Debug)]
pub enum GetStep {
    /// The team has no complete attachment with the hash: `hv-blob-missing`, and nothing else.
    Missing(Message),
    /// One `hv-blob-chunk`, and where the next one starts (`None`: that was the last).
    Chunk(Message, Option<u64>),
}

/// Answers `hv-blob-offer`: `hv-blob-status` with the bytes held, or `hv-blob-reject` over
/// the size limit or the team's quota (nothing recorded then).
pub async fn offer<S: ServerStore>(
    app: &App<S>,
    auth: &DeviceAuth,
    peer: &str,
    hash: BlobHash,
    size: u64,
    media_type: String,
) -> Result<Message, BlobFault> {
    let max = app.config.max_attachment_bytes;
    if size > max {
        return Ok(reject(
            app,
            peer,
            hash,
            format!("too-large: {size} bytes, the largest attachment is {max} bytes"),
        ));
    }
    let quota = app.config.team_attachment_quota_bytes;
    Ok(
        match app
            .store
            .offer_blob(auth.team_id, hash, size, media_type, quota)
            .await?
        {
            BlobOffer::Have(have) => Message::BlobStatus {
                sender_id: app.peer_id.clone(),
                target_id: peer.to_string(),
                hash,
                have,
            },
            BlobOffer::OverQuota { used, quota } => reject(
                app,
                peer,
                hash,
                format!(
                    "quota: the team holds {used} bytes of attachments, {size} more would pass its quota of {quota} bytes"
                ),
            ),
        },
    )
}

/// Answers an uploaded `hv-blob-chunk`: `hv-blob-ack` once it is durable (and, for the last
/// one, verified), `hv-blob-status` with the true position when it does not start there,
/// `hv-blob-reject` when the bytes do not hash to the id or were never offered.
pub async fn chunk<S: ServerStore>(
    app: &App<S>,
    auth: &DeviceAuth,
    peer: &str,
    hash: BlobHash,
    offset: u64,
    data: Vec<u8>,
) -> Result<Message, BlobFault> {
    Metrics::add(&app.metrics.blob_bytes_in_total, data.len() as u64);
    let status = |have| Message::BlobStatus {
        sender_id: app.peer_id.clone(),
        target_id: peer.to_string(),
        hash,
        have,
    };
    Ok(
        match app
            .store
            .append_blob(auth.team_id, hash, offset, data)
            .await?
        {
            BlobAppend::Stored(have) | BlobAppend::Completed(have) => Message::BlobAck {
                sender_id: app.peer_id.clone(),
                target_id: peer.to_string(),
                hash,
                have,
            },
            BlobAppend::WrongOffset(have) | BlobAppend::AlreadyComplete(have) => status(have),
            BlobAppend::Mismatch => reject(app, peer, hash, "hash-mismatch".into()),
            BlobAppend::NotOffered => reject(
                app,
                peer,
                hash,
                "not-offered: send hv-blob-offer before the attachment's bytes".into(),
            ),
            BlobAppend::BeyondSize(size) => {
                return Err(BlobFault::Protocol(format!(
                    "hv-blob-chunk runs past the offered size of {size} bytes"
                )))
            }
        },
    )
}

/// One step of a download (`hv-blob-get`) from `at`.
pub async fn get_step<S: ServerStore>(
    app: &App<S>,
    auth: &DeviceAuth,
    peer: &str,
    hash: BlobHash,
    at: u64,
) -> Result<GetStep, BlobFault> {
    // Room for the envelope when the operator set a small message limit.
    let max = MAX_BLOB_CHUNK
        .min(app.config.max_message_bytes.saturating_sub(1024))
        .max(1);
    let Some(read) = app.store.read_blob(auth.team_id, hash, at, max).await? else {
        return Ok(GetStep::Missing(Message::BlobMissing {
            sender_id: app.peer_id.clone(),
            target_id: peer.to_string(),
            hash,
        }));
    };
    if at > read.size {
        return Err(BlobFault::Protocol(format!(
            "hv-blob-get from {at}, past the end of an attachment of {} bytes",
            read.size
        )));
    }
    let next = at.saturating_add(read.data.len() as u64);
    if at < read.size && read.data.is_empty() {
        return Err(BlobFault::Store(StoreError::Corrupt(format!(
            "attachment bytes missing from {at} of {}",
            read.size
        ))));
    }
    Metrics::add(&app.metrics.blob_bytes_out_total, read.data.len() as u64);
    Ok(GetStep::Chunk(
        Message::BlobChunk {
            sender_id: app.peer_id.clone(),
            target_id: peer.to_string(),
            hash,
            offset: at,
            data: read.data,
        },
        (next < read.size).then_some(next),
    ))
}

fn reject<S: ServerStore>(app: &App<S>, peer: &str, hash: BlobHash, reason: String) -> Message {
    Message::BlobReject {
        sender_id: app.peer_id.clone(),
        target_id: peer.to_string(),
        hash,
        reason,
    }
}
