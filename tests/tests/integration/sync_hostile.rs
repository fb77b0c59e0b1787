//! A malformed or hostile message from the server is refused with a typed error and the
//! connection closed; nothing from it reaches the store, and the next good session works.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use homevisit_core::{
    store::SyncStatus,
    sync::{Message, SyncConfig},
    Error,
};
use homevisit_tests::{
    device::Device,
    proxy::{Direction, FaultProxy, Verdict},
    TestServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_message_that_does_not_decode_is_refused_and_nothing_is_applied() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let child = a.create_child("Amara");
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.set_str(child, "gp_area", "luton");
    a.sync().await.unwrap();

    // The server's sync messages reach b with garbage where the automerge message should be.
    let hostile = FaultProxy::filtering(
        server.addr,
        Arc::new(|direction, payload: &[u8]| match Message::decode(payload) {
            Ok(Message::Sync {
                sender_id,
                target_id,
                document_id,
                ..
            }) if direction == Direction::ToDevice => Verdict::Replace(
                Message::Sync {
                    sender_id,
                    target_id,
                    document_id,
                    data: vec![0x42; 40],
                }
                .encode()
                .unwrap(),
            ),
            _ => Verdict::Pass,
        }),
    )
    .await;
    let before = b.heads(child);
    let victim = Device::reconnect(&b, hostile.url(), SyncConfig::default());
    let outcome = victim.sync().await;
    assert!(
        matches!(&outcome, Err(Error::Network(m)) if m.contains("protocol error")),
        "{outcome:?}"
    );
    assert_eq!(b.heads(child), before, "nothing applied");
    assert_eq!(b.status(child), SyncStatus::Synced);
    assert_eq!(b.get_str(child, "gp_area"), None);

    b.sync().await.unwrap();
    assert_eq!(b.heads(child), a.heads(child));
    assert_eq!(b.get_str(child, "gp_area").as_deref(), Some("luton"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_that_is_not_cbor_is_refused() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let hostile = FaultProxy::filtering(
        server.addr,
        Arc::new(|direction, payload: &[u8]| match Message::decode(payload) {
            Ok(Message::CatchupResponse { .. }) if direction == Direction::ToDevice => {
                Verdict::Replace(b"\xff\xfe not cbor".to_vec())
            }
            _ => Verdict::Pass,
        }),
    )
    .await;
    let device = Device::join_via(&server, &team, hostile.url(), SyncConfig::default()).await;
    let child = device.create_child("Amara");
    let outcome = device.sync().await;
    assert!(
        matches!(&outcome, Err(Error::Network(m)) if m.contains("protocol error")),
        "{outcome:?}"
    );
    assert_eq!(device.status(child), SyncStatus::LocalOnly);
}
