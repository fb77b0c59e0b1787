//! `SAF-LOST-EDIT`: a full disk during sync, on either side, is a typed error that stores nothing partial and
//! loses nothing; once space returns, the next sync completes.
//!
//! Full disks are simulated with SQLite's `max_page_count`: on the server through
//! `SqliteStore::set_max_pages`, on the device through `Store::set_max_pages`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::{store::SyncStatus, Error, RecordId};
use homevisit_server::{conn::STORAGE_FULL_MESSAGE, ServerStore};
use homevisit_tests::{
    device::{assert_converged, Device},
    TestServer, TestTeam,
};

/// Children with 16 KiB of incompressible text each: enough to need new database pages.
fn children_with_text(device: &Device, n: usize, tag: &str) -> Vec<RecordId> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    (0..n)
        .map(|i| {
            let text: String = (0..16 * 1024)
                .map(|_| char::from(rng.gen_range(b'a'..=b'z')))
                .collect();
            let id = device.create_child(&format!("{tag} {i}"));
            device.add_alert(id, &format!("{tag} {i} {text}"));
            id
        })
        .collect()
}

/// Every stored document of the team loads, and each of `ids` is either absent from the
/// server or present with exactly the heads the device holds: nothing half-written.
async fn nothing_partial(server: &TestServer, team: &TestTeam, device: &Device, ids: &[RecordId]) {
    for id in ids {
        if let Some(doc) = server.document(team, *id).await {
            let mut heads = doc.get_heads();
            heads.sort();
            assert_eq!(heads, device.heads(*id), "record {id} is stored whole");
        }
    }
    let stored = server
        .app
        .store
        .changed_since(team.id, 0, 100_000)
        .await
        .unwrap();
    for (id, heads) in stored.changed {
        let doc = server
            .document(team, id)
            .await
            .expect("listed documents load");
        let mut got = doc.get_heads();
        got.sort();
        let mut want = heads;
        want.sort();
        assert_eq!(
            got, want,
            "record {id}: stored chunks match the stored heads"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_disk_full_is_a_typed_error_nothing_partial_and_a_resync_succeeds() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let first = device.create_child("Amara");
    assert!(device.sync().await.unwrap().complete);

    // The disk fills: the database may not grow by a single page.
    let pages = server.app.store.page_count().await.unwrap();
    server.app.store.set_max_pages(Some(pages)).await.unwrap();
    let new = children_with_text(&device, 24, "Offline");
    device.set_str(first, "given_name", "Amara J.");

    let outcome = device.sync().await;
    match &outcome {
        Err(Error::Network(detail)) => {
            assert!(detail.contains(STORAGE_FULL_MESSAGE), "{detail}")
        }
        other => panic!("expected the server's storage-full error, got {other:?}"),
    }
    // Whatever the server did not durably store is still pending on the device.
    let mut pending = 0;
    for id in &new {
        let on_server = server.document(&team, *id).await.is_some();
        if !on_server {
            pending += 1;
            assert_eq!(device.status(*id), SyncStatus::LocalOnly, "record {id}");
        }
    }
    assert!(pending > 0, "the full disk refused some records");
    assert!(device.unsynced().len() >= pending);
    nothing_partial(&server, &team, &device, &new).await;
    assert!(
        server
            .app
            .metrics
            .render()
            .contains("homevisit_storage_full_total 1"),
        "{}",
        server.app.metrics.render()
    );

    // Space returns: the next sync stores everything.
    server.app.store.set_max_pages(None).await.unwrap();
    let report = device.sync().await.unwrap();
    assert!(report.complete, "{report:?}");
    assert!(device.unsynced().is_empty());
    assert_eq!(
        device.get_str(first, "given_name").as_deref(),
        Some("Amara J.")
    );
    assert_converged(&[&device], &server, &team).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_disk_full_while_receiving_is_a_typed_error_and_the_next_sync_completes() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let sender = Device::join(&server, &team).await;
    let ids = children_with_text(&sender, 24, "Team");
    assert!(sender.sync().await.unwrap().complete);

    let receiver = Device::join(&server, &team).await;
    let mine = receiver.create_child("Bea");
    let pages = receiver.store.page_count().unwrap();
    receiver.store.set_max_pages(Some(pages)).unwrap();

    let outcome = receiver.sync().await;
    assert!(
        matches!(outcome, Err(Error::DiskFull)),
        "expected DiskFull, got {outcome:?}"
    );
    // The store is consistent: each received record is whole (it has the server's heads and
    // reads), the rest are absent, and the device's own unsynced record is intact.
    let mut received = 0;
    for id in &ids {
        if receiver.has_record(*id) {
            received += 1;
            let heads = server.document(&team, *id).await.unwrap().get_heads();
            assert!(receiver.has_heads(*id, &heads), "record {id} is whole");
            assert!(receiver.alert_texts(*id).len() == 1);
        }
    }
    assert!(received < ids.len(), "the full disk stopped the transfer");
    assert_eq!(receiver.get_str(mine, "given_name").as_deref(), Some("Bea"));
    assert!(receiver.has_record(mine));

    // Space returns: the next sync completes both ways.
    receiver.store.set_max_pages(None).unwrap();
    let report = receiver.sync().await.unwrap();
    assert!(report.complete, "{report:?}");
    assert!(sender.sync().await.unwrap().complete);
    assert_eq!(receiver.record_ids().len(), ids.len() + 1);
    assert_converged(&[&sender, &receiver], &server, &team).await;
}
