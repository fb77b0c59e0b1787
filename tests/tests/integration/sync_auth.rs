//! Credentials and scope: a missing or unknown token is `Unauthorized` and touches nothing; a
//! revoked device wipes its local data and reports `Revoked` (SAF-DEVICE-LOST); another team's
//! records never reach a device.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::{sync::SyncConfig, Error};
use homevisit_tests::{device::Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_an_unknown_token_is_unauthorized_and_changes_nothing() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let good = Device::join(&server, &team).await;
    let child = good.create_child("Amara");
    for token in ["", "not-a-token", &"ab".repeat(32)] {
        let device = Device::with_token(&good, server.url(), token, SyncConfig::default());
        let outcome = device.sync().await;
        assert!(
            matches!(outcome, Err(Error::Unauthorized)),
            "token {token:?}: {outcome:?}"
        );
        assert!(good.has_record(child), "nothing wiped");
        assert_eq!(good.unsynced(), vec![child], "nothing marked");
    }
    assert!(server.document(&team, child).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saf_device_lost_a_revoked_device_wipes_its_local_data_and_reports_revoked() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let child = device.create_child("Amara");
    device.sync().await.unwrap();
    let unsynced = device.create_child("Bilal");
    assert!(device.has_record(child) && device.has_record(unsynced));

    server.revoke(&device.token).await;
    let outcome = device.sync().await;
    assert!(matches!(outcome, Err(Error::Revoked)), "{outcome:?}");
    assert!(device.record_ids().is_empty(), "every local record wiped");
    assert!(device.unsynced().is_empty());
    // The retrying entry point does not retry a revocation.
    let again = device.client.sync_with_retry(|_| {}).await;
    assert!(matches!(again, Err(Error::Revoked)), "{again:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_teams_records_never_arrive() {
    let server = TestServer::start().await;
    let north = server.team("North").await;
    let south = server.team("South").await;
    let n = Device::join(&server, &north).await;
    let s = Device::join(&server, &south).await;
    let north_child = n.create_child("Amara");
    n.sync().await.unwrap();
    let south_child = s.create_child("Bilal");
    s.sync().await.unwrap();
    s.sync().await.unwrap();
    n.sync().await.unwrap();
    assert_eq!(n.record_ids(), vec![north_child]);
    assert_eq!(s.record_ids(), vec![south_child]);
    assert!(server.document(&north, south_child).await.is_none());
    assert!(server.document(&south, north_child).await.is_none());
}
