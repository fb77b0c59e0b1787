//! `hv-audit-upload`: a device's `RK-AUDIT` entries (who viewed, printed or exported which
//! record, when, on which device) go into the team's access log, and what the device reports
//! about itself (core version, unsynced records) goes to the devices page.
//!
//! Append-only and idempotent: an entry is stored under its device-given id, once; sending it
//! again (an acknowledgement was lost) changes nothing, and the `hv-audit-ack` names it again
//! so the device can mark it uploaded. Entries land in the uploading device's team only.

use homevisit_core::sync::protocol::Message;

use super::store::AccessEntry;
use crate::{
    app::App,
    store::{DeviceAuth, ServerStore, StoreError},
};

/// Stores an `hv-audit-upload` and returns the `hv-audit-ack` to send back.
pub async fn receive<S: ServerStore>(
    app: &App<S>,
    auth: &DeviceAuth,
    peer: &str,
    upload: Message,
) -> Result<Message, StoreError> {
    let Message::AuditUpload {
        entries,
        core_version,
        unsynced_records,
        ..
    } = upload
    else {
        return Ok(ack(app, peer, Vec::new()));
    };
    if core_version.is_some() || unsynced_records.is_some() {
        app.store
            .note_device_report(auth.device_id, core_version, unsynced_records)
            .await?;
    }
    let ids: Vec<uuid::Uuid> = entries.iter().map(|e| e.id).collect();
    let rows = entries
        .into_iter()
        .map(|e| AccessEntry {
            entry_id: e.id,
            user_id: e.user_id,
            user_name: None,
            device_id: e.device_id,
            uploaded_by: auth.device_id,
            uploaded_by_name: None,
            record_id: e.record_id,
            action: e.action,
            at: e.at,
            purpose: e.purpose,
        })
        .collect();
    let new = app
        .store
        .append_access_entries(auth.team_id, auth.device_id, rows)
        .await?;
    tracing::info!(entries = ids.len(), new, "audit entries stored");
    Ok(ack(app, peer, ids))
}

fn ack<S>(app: &App<S>, peer: &str, ids: Vec<uuid::Uuid>) -> Message {
    Message::AuditAck {
        sender_id: app.peer_id.clone(),
        target_id: peer.to_string(),
        ids,
    }
}
