//! One bad document never blocks the others: a record the server refuses (`hv-reject`, here
//! for being over the server's document size limit) is reported and stays unsynced, while the
//! rest of the session completes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::store::SyncStatus;
use homevisit_server::ServerConfig;
use homevisit_tests::{device::Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_is_reported_and_stays_unsynced_while_the_others_sync() {
    let server = TestServer::with_config(ServerConfig {
        max_document_bytes: 4096,
        ..ServerConfig::default()
    })
    .await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let small = device.create_child("Amara");
    let big = device.create_child("Bilal");
    for i in 0..120 {
        device.add_alert(
            big,
            &format!("alert {i}: {}", "long clinical note ".repeat(4)),
        );
    }

    let report = device.sync().await.unwrap();
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].id, big);
    assert!(!report.complete);
    assert_eq!(device.status(small), SyncStatus::Synced);
    assert_eq!(
        device.status(big),
        SyncStatus::LocalOnly,
        "never claimed synced"
    );
    assert_eq!(device.unsynced(), vec![big]);
    assert!(server.document(&team, big).await.is_none());
    assert!(server.document(&team, small).await.is_some());
}
