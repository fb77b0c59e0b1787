//! The long-lived mode: a connected device pushes its local edits as soon as the store commits
//! them (its change events; nobody tells the client), receives other devices' edits as the
//! server pushes them, and stops when cancelled.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use homevisit_core::{store::SyncStatus, sync::SyncConfig};
use homevisit_tests::{device::Device, TestServer};
use tokio::sync::{oneshot, Notify};

/// Runs `device` in the long-lived mode until the returned sender fires; each progress event
/// notifies the returned `Notify` (which keeps a permit, so no event is missed between checks).
fn run_live(
    device: &Device,
) -> (
    Arc<Notify>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<homevisit_core::Result<()>>,
) {
    let progressed = Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let live = device.clone();
    let notify = Arc::clone(&progressed);
    let runner = tokio::spawn(async move {
        live.client
            .run_until_cancelled(
                async {
                    let _ = stopped.await;
                },
                move |_| notify.notify_one(),
            )
            .await
    });
    (progressed, stop, runner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_device_pushes_local_edits_and_receives_others_until_cancelled() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    // The poll timer is an hour: only the store's change events can make the local push below
    // happen within the test's 60 s.
    let config = SyncConfig {
        poll_interval: Duration::from_secs(3600),
        ..SyncConfig::default()
    };
    let live = Device::join_via(&server, &team, server.url(), config).await;
    let other = Device::join(&server, &team).await;
    let child = live.create_child("Amara");

    // Progress events wake the test; it then checks the real state (no sleeps, no timing).
    let (progressed, stop, runner) = run_live(&live);
    let wait_until = |what: &'static str, check: Box<dyn Fn() -> bool + Send>| {
        let progressed = Arc::clone(&progressed);
        async move {
            tokio::time::timeout(Duration::from_secs(60), async {
                // Every finished document emits progress after its status is stored, and
                // Notify keeps a permit, so no change goes unnoticed between checks.
                while !check() {
                    progressed.notified().await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("never happened: {what}"));
        }
    };

    // The initial catch-up uploads the record.
    let l = live.clone();
    wait_until(
        "initial upload",
        Box::new(move || l.status(child) == SyncStatus::Synced),
    )
    .await;

    // Another device's edit reaches the connected device without it asking.
    other.sync().await.unwrap();
    other.set_str(child, "gp_area", "luton");
    other.sync().await.unwrap();
    let l = live.clone();
    let o = other.clone();
    wait_until(
        "server push",
        Box::new(move || l.heads(child) == o.heads(child)),
    )
    .await;
    assert_eq!(live.get_str(child, "gp_area").as_deref(), Some("luton"));

    // A local edit goes out as soon as it is saved: the store's change event wakes the client.
    live.set_str(child, "family_name", "Okafor");
    let l = live.clone();
    wait_until(
        "local push",
        Box::new(move || l.status(child) == SyncStatus::Synced),
    )
    .await;
    other.sync().await.unwrap();
    assert_eq!(
        other.get_str(child, "family_name").as_deref(),
        Some("Okafor")
    );

    stop.send(()).unwrap();
    runner.await.unwrap().unwrap();
}

/// `SAF-LOST-EDIT` in the long-lived mode: a device that fetched a record in a one-shot sync
/// and then went live pushes its next edit, and is "synced" only once the server has it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saf_lost_edit_a_device_live_after_a_one_shot_sync_pushes_its_edit() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let config = SyncConfig {
        poll_interval: Duration::from_secs(3600),
        ..SyncConfig::default()
    };
    let other = Device::join(&server, &team).await;
    let child = other.create_child("Amara");
    other.sync().await.unwrap();

    let live = Device::join_via(&server, &team, server.url(), config).await;
    live.sync().await.unwrap();
    assert_eq!(live.heads(child), other.heads(child), "fetched one-shot");

    let (progressed, stop, runner) = run_live(&live);
    live.set_str(child, "family_name", "Okafor");
    assert_ne!(live.status(child), SyncStatus::Synced, "an edit is pending");
    let l = live.clone();
    tokio::time::timeout(Duration::from_secs(60), async {
        while l.status(child) != SyncStatus::Synced {
            progressed.notified().await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the live edit was never acknowledged"));
    // Synced means the server has it: a device that asks now receives it.
    other.sync().await.unwrap();
    assert_eq!(
        other.get_str(child, "family_name").as_deref(),
        Some("Okafor"),
        "the server has the edit the live device shows as synced"
    );
    stop.send(()).unwrap();
    runner.await.unwrap().unwrap();
}
