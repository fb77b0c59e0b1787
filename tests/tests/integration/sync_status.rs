//! Per-record sync status is honest (SAF-LOST-EDIT): `synced` only once the server has
//! acknowledged heads containing every local change, whatever the server already stored.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use homevisit_core::{
    store::SyncStatus,
    sync::{Message, SyncConfig},
};
use homevisit_tests::{
    device::Device,
    proxy::{Direction, FaultProxy, Verdict},
    TestServer,
};

fn quick() -> SyncConfig {
    SyncConfig {
        response_timeout: std::time::Duration::from_secs(2),
        ..SyncConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saf_lost_edit_status_goes_local_only_pending_synced_only_after_ack() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;

    let child = device.create_child("Amara");
    assert_eq!(device.status(child), SyncStatus::LocalOnly);

    device.sync().await.unwrap();
    assert_eq!(device.status(child), SyncStatus::Synced);
    let stored = server.document(&team, child).await.unwrap();
    assert_eq!(sorted(stored.get_heads()), device.heads(child));

    device.set_str(child, "family_name", "Okafor");
    assert_eq!(device.status(child), SyncStatus::Pending);
    assert_eq!(device.unsynced(), vec![child]);

    let report = device.sync().await.unwrap();
    assert_eq!(device.status(child), SyncStatus::Synced);
    assert_eq!(report.docs_sent, 1);
    assert_eq!(report.docs_synced, 1);
    assert!(report.complete);
    assert!(device.unsynced().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saf_lost_edit_a_record_the_server_stored_but_never_acknowledged_is_not_synced() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    // Every hv-ack on its way to the device is lost; everything else passes.
    let no_acks = FaultProxy::filtering(
        server.addr,
        Arc::new(|direction, payload: &[u8]| {
            if direction == Direction::ToDevice
                && matches!(Message::decode(payload), Ok(Message::Ack { .. }))
            {
                Verdict::Drop
            } else {
                Verdict::Pass
            }
        }),
    )
    .await;
    let device = Device::join_via(&server, &team, no_acks.url(), quick()).await;
    let child = device.create_child("Amara");

    let outcome = device.sync().await;
    assert!(
        matches!(outcome, Err(homevisit_core::Error::Network(_))),
        "waiting for the acknowledgement times out: {outcome:?}"
    );
    // The server committed it, but the device was never told: it must not claim "synced".
    let stored = server.document(&team, child).await.unwrap();
    assert_eq!(sorted(stored.get_heads()), device.heads(child));
    assert_eq!(device.status(child), SyncStatus::LocalOnly);

    // On a good connection the next catch-up finds the server's heads equal to the local ones.
    let good = Device::reconnect(&device, server.url(), quick());
    let report = good.sync().await.unwrap();
    assert_eq!(good.status(child), SyncStatus::Synced);
    assert_eq!(report.docs_sent, 0, "nothing had to be sent again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_made_after_the_server_acknowledged_keeps_the_record_pending() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let child = a.create_child("Amara");
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    b.set_str(child, "gp_area", "luton");
    b.sync().await.unwrap();
    // a edits offline and then receives b's change: the merged record holds a change of a's
    // the server has not acknowledged until a's own session sends it.
    a.set_str(child, "family_name", "Okafor");
    assert_eq!(a.status(child), SyncStatus::Pending);
    a.sync().await.unwrap();
    assert_eq!(a.status(child), SyncStatus::Synced);
    let stored = server.document(&team, child).await.unwrap();
    assert_eq!(sorted(stored.get_heads()), a.heads(child));
}

fn sorted(mut heads: Vec<automerge::ChangeHash>) -> Vec<automerge::ChangeHash> {
    heads.sort();
    heads
}
