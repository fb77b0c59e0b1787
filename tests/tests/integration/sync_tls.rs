//! `wss://`: the client speaks TLS with rustls, trusts a configured team CA, and refuses a
//! server whose certificate it cannot verify.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::{store::SyncStatus, sync::SyncConfig, Error};
use homevisit_tests::{
    device::Device,
    tls::{TlsProxy, TEST_CA_DER},
    TestServer,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_over_wss_with_a_trusted_team_ca() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let tls = TlsProxy::start(server.addr).await;
    let config = SyncConfig {
        extra_root_certificates: vec![TEST_CA_DER.to_vec()],
        ..SyncConfig::default()
    };
    let device = Device::join_via(&server, &team, tls.url(), config).await;
    let child = device.create_child("Amara");
    let report = device.sync().await.unwrap();
    assert_eq!(report.docs_sent, 1);
    assert_eq!(device.status(child), SyncStatus::Synced);
    assert!(server.document(&team, child).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_network_error_and_nothing_is_sent() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let tls = TlsProxy::start(server.addr).await;
    let device = Device::join_via(&server, &team, tls.url(), SyncConfig::default()).await;
    let child = device.create_child("Amara");
    let outcome = device.sync().await;
    assert!(matches!(outcome, Err(Error::Network(_))), "{outcome:?}");
    assert_eq!(device.status(child), SyncStatus::LocalOnly);
    assert!(server.document(&team, child).await.is_none());
}
