//! Reconnecting with nothing changed costs one catch-up request and its response, a few dozen
//! bytes, whatever the number of records; the frames are counted on the wire by a proxy, not
//! only by the client's own report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::sync::{SyncConfig, SyncReport};
use homevisit_tests::{
    device::Device,
    proxy::{Direction, FaultProxy},
    TestServer,
};

/// Syncs `records` records up, then reconnects with nothing changed through a counting proxy.
/// Returns the report and the binary frames (direction, payload bytes) of that reconnect.
///
/// The catch-up cursor is the team's commit count, and CBOR writes 10 in one byte but 2000 in
/// three; `min_commits` makes the small team commit enough (≥ 256) that both cursors take the
/// same three bytes, so that what is compared is the effect of the record count alone.
async fn idle_reconnect(records: usize, min_commits: usize) -> (SyncReport, Vec<(Direction, u64)>) {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let proxy = FaultProxy::transparent(server.addr).await;
    let device = Device::join_via(&server, &team, proxy.url(), SyncConfig::default()).await;
    let ids = device.create_children(records);
    let first = device.sync().await.unwrap();
    assert!(first.complete, "{first:?}");
    assert_eq!(first.docs_sent, records as u64);
    let mut commits = records;
    while commits < min_commits {
        for id in &ids {
            device.set_str(*id, "family_name", &format!("Name {commits}"));
        }
        device.sync().await.unwrap();
        commits += records;
    }
    assert!(device.unsynced().is_empty());

    proxy.clear_frames();
    let report = device.sync().await.unwrap();
    let frames = proxy
        .frames()
        .into_iter()
        .map(|f| (f.direction, f.payload_len))
        .collect();
    (report, frames)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_with_nothing_changed_is_one_small_round_trip_for_10_and_2000_records() {
    let (small, small_frames) = idle_reconnect(10, 256).await;
    let (large, large_frames) = idle_reconnect(2000, 0).await;
    assert!(small.cursor >= 256 && small.cursor < 65536, "{small:?}");
    assert!(large.cursor >= 2000 && large.cursor < 65536, "{large:?}");

    for (report, frames) in [(&small, &small_frames), (&large, &large_frames)] {
        assert_eq!(report.round_trips, 1, "{report:?}");
        assert_eq!(report.docs_sent + report.docs_received, 0);
        assert!(report.complete);
        // On the wire: join and hv-catchup-request up, peer and hv-catchup-response down.
        let up: Vec<u64> = frames
            .iter()
            .filter(|(d, _)| *d == Direction::ToServer)
            .map(|(_, n)| *n)
            .collect();
        let down: Vec<u64> = frames
            .iter()
            .filter(|(d, _)| *d == Direction::ToDevice)
            .map(|(_, n)| *n)
            .collect();
        assert_eq!(up.len(), 2, "device frames {up:?}");
        assert_eq!(down.len(), 2, "server frames {down:?}");
        // The catch-up pair itself is what the report counts after the handshake.
        assert_eq!(report.bytes_sent, up[1]);
        assert_eq!(report.bytes_received, down[1]);
        assert!(
            report.bytes_sent < 200 && report.bytes_received < 200,
            "{report:?}"
        );
    }
    assert_eq!(
        small.bytes_sent, large.bytes_sent,
        "independent of the record count"
    );
    assert_eq!(small.bytes_received, large.bytes_received);
    assert_eq!(small_frames, large_frames);
    println!(
        "idle reconnect: {} bytes up, {} bytes down after a {}-byte handshake, for 10 and 2000 records",
        small.bytes_sent, small.bytes_received, small.handshake_bytes
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_field_edit_of_a_long_record_resumes_from_the_persisted_sync_state() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let child = device.create_child("Amara");
    for i in 0..200 {
        device.add_alert(
            child,
            &format!("alert number {i} with some words to make it longer"),
        );
    }
    let first = device.sync().await.unwrap();
    device.set_str(child, "gp_area", "luton");
    // A new client object (as after an app restart): only the store carries the sync state.
    let restarted = Device::reconnect(&device, server.url(), SyncConfig::default());
    let second = restarted.sync().await.unwrap();
    assert_eq!(second.docs_sent, 1);
    assert!(
        second.bytes_sent * 10 < first.bytes_sent,
        "the edit costs a fraction of the first upload: {} vs {}",
        second.bytes_sent,
        first.bytes_sent
    );
    println!(
        "first upload {} bytes; one-field edit after restart {} bytes up, {} down, {} round trips",
        first.bytes_sent, second.bytes_sent, second.bytes_received, second.round_trips
    );
}
