//! Automerge's sync protocol summarises "what I have" as a Bloom filter, which answers "yes" for
//! about 1 % of changes it does not hold. When the filter wrongly claims a change `Y`, the
//! sender leaves `Y` out and sends only `X`, which depends on `Y`. Automerge relies on the
//! receiver keeping `X` queued, so that its next message asks for `Y` by hash; a receiver that
//! drops the queued `X` asks for `X` again, which the sender will not resend in this session,
//! and the two peers exchange empty messages for ever while the edits never sync.
//!
//! These tests build exactly that case, in each direction, with the real server and real
//! stores: the changes are searched until one is a false positive of the filter the other side
//! will send. The session must end, and every edit must reach every replica
//! (SAF-LOST-EDIT, SYNC-CONVERGE).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{sync::Arc, time::Duration};

use automerge::{
    sync::{self, BloomFilter},
    AutoCommit, ChangeHash, ReadDoc,
};
use chrono::Utc;
use homevisit_core::{
    doc::{self, Scalar},
    store::{StoreOptions, SyncStatus},
    sync::{Message, SyncConfig},
    RecordId,
};
use homevisit_server::ServerConfig;
use homevisit_tests::{
    device::{assert_converged, Device},
    proxy::{Direction, FaultProxy, Verdict},
    TestServer, TestTeam,
};

/// Long enough for a loaded machine; a looping exchange never ends, so it always runs out.
const SESSION_LIMIT: Duration = Duration::from_secs(120);

/// A server that keeps one document loaded: between two messages of an exchange the record
/// is dropped from memory and reloaded from storage, as under load with many documents.
async fn small_cache_server() -> TestServer {
    TestServer::with_config(ServerConfig {
        doc_cache_slots: 1,
        ..ServerConfig::default()
    })
    .await
}

/// A device whose store keeps one document loaded, for the same reason.
async fn small_cache_device(server: &TestServer, team: &TestTeam) -> Device {
    let options = StoreOptions {
        cache_capacity: 1,
        ..StoreOptions::default()
    };
    Device::join_with(server, team, server.url(), SyncConfig::default(), options).await
}

/// A shared record that both devices and the server hold at the same heads, with the server's
/// sync state for each device recorded at those heads.
async fn shared_record(server: &TestServer, team: &TestTeam) -> (Device, Device, RecordId) {
    let a = small_cache_device(server, team).await;
    let b = small_cache_device(server, team).await;
    let id = a.create_child("Amara");
    // A history long enough that a few missing changes go as changes, not as the whole
    // document (automerge sends the whole document when a third of it is missing).
    for i in 0..30 {
        a.set_str(id, "gp_practice_name", &format!("Practice {i}"));
    }
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // One ordinary exchange each way, so both devices hold a persisted sync state (the
    // server's and their own) at the shared heads.
    b.set_str(id, "family_name", "Okafor");
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.heads(id), b.heads(id));
    (a, b, id)
}

/// The record's document on `device`, to fork.
fn document(device: &Device, id: RecordId) -> AutoCommit {
    device.store.read(id, |d| Ok(d.clone())).unwrap()
}

/// Makes on a fork of `device`'s record a change `Y` whose hash `filter` wrongly claims, then
/// a change `X` on top of it, and stores both on the device as its own unsynced work.
/// Returns `Y`'s hash.
fn edit_behind_false_positive(device: &Device, id: RecordId, filter: &BloomFilter) -> ChangeHash {
    let mut base = document(device, id);
    for attempt in 0..20_000 {
        let mut fork = base.clone();
        doc::set_scalar(
            &mut fork,
            "gp_practice_name",
            // Never a value the record already holds ("Practice 29" is): an unchanged value
            // makes no change, and the base's own head, if the filter happened to claim it,
            // would pass for `Y`.
            Scalar::Str(format!("Forked practice {attempt}")),
            &device.actor,
            Utc::now(),
        )
        .unwrap();
        let y = fork.get_heads();
        assert_eq!(y.len(), 1);
        assert_ne!(y, base.get_heads(), "attempt {attempt} made no change");
        if !filter.contains_hash(&y[0]) {
            continue;
        }
        doc::set_scalar(
            &mut fork,
            "education_setting",
            Scalar::Str("mainstream".into()),
            &device.actor,
            Utc::now(),
        )
        .unwrap();
        let made = fork.get_changes(&base.get_heads());
        assert_eq!(made.len(), 2);
        device
            .store
            .edit(id, |d| {
                d.apply_changes(made)
                    .map_err(|e| homevisit_core::Error::Internal(e.to_string()))
            })
            .unwrap();
        assert!(device.unsynced().contains(&id));
        return y[0];
    }
    panic!("no false positive in 20,000 changes");
}

async fn sync_within_limit(device: &Device, who: &str) {
    match tokio::time::timeout(SESSION_LIMIT, device.sync()).await {
        Ok(result) => {
            let report = result.unwrap();
            assert!(
                report.failed.is_empty() && report.rejected.is_empty(),
                "{who}: {report:?}"
            );
        }
        Err(_) => panic!("{who}: the sync session did not end within {SESSION_LIMIT:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_change_hidden_by_the_servers_filter_still_reaches_the_server() {
    let server = small_cache_server().await;
    let team = server.team("North").await;
    let (a, b, id) = shared_record(&server, &team).await;
    let shared = a.heads(id);

    // B's edits reach the server; the server's filter for A then covers exactly them.
    for (i, field) in [
        "family_name",
        "school_name",
        "gp_practice_code",
        "given_name",
    ]
    .iter()
    .enumerate()
    {
        b.set_str(id, field, &format!("value {i}"));
    }
    b.sync().await.unwrap();
    let server_doc = server.document(&team, id).await.unwrap();
    let since_shared: Vec<ChangeHash> = server_doc
        .get_changes(&shared)
        .iter()
        .map(|c| c.hash())
        .collect();
    assert_eq!(since_shared.len(), 4);
    let filter = BloomFilter::from_hashes(since_shared.iter());

    let y = edit_behind_false_positive(&a, id, &filter);
    sync_within_limit(&a, "A").await;
    assert!(server
        .document(&team, id)
        .await
        .unwrap()
        .get_change_by_hash(&y)
        .is_some());
    sync_within_limit(&b, "B").await;
    assert_converged(&[&a, &b], &server, &team).await;
    assert_eq!(
        b.get_str(id, "education_setting").as_deref(),
        Some("mainstream")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_change_hidden_by_the_devices_filter_still_reaches_the_device() {
    let server = small_cache_server().await;
    let team = server.team("North").await;
    let (a, b, id) = shared_record(&server, &team).await;
    let shared = a.heads(id);

    // A's offline edit: its filter in the next session covers exactly this change.
    a.set_str(id, "school_name", "Hillside");
    let mut a_doc = document(&a, id);
    let persisted = a.store.load_sync_state(id).unwrap().unwrap();
    let a_shared = sync::State::decode(&persisted).unwrap().shared_heads;
    assert_eq!(
        a_shared, shared,
        "A's persisted state is at the shared heads"
    );
    let mine: Vec<ChangeHash> = a_doc
        .get_changes(&a_shared)
        .iter()
        .map(|c| c.hash())
        .collect();
    assert_eq!(mine.len(), 1);
    let filter = BloomFilter::from_hashes(mine.iter());

    // More work on A in the same session, so its one-document cache drops the record
    // between messages.
    let others: Vec<RecordId> = (0..3)
        .map(|i| a.create_child(&format!("Child {i}")))
        .collect();

    // B's Y is a false positive of A's filter; B uploads Y and X.
    let y = edit_behind_false_positive(&b, id, &filter);
    sync_within_limit(&b, "B").await;
    sync_within_limit(&a, "A").await;
    assert!(a.heads(id).iter().all(|h| *h != y) && a.has_heads(id, &[y]));
    sync_within_limit(&b, "B").await;
    assert_converged(&[&a, &b], &server, &team).await;
    assert_eq!(
        a.get_str(id, "education_setting").as_deref(),
        Some("mainstream")
    );
    assert_eq!(b.get_str(id, "school_name").as_deref(), Some("Hillside"));
    assert!(others.iter().all(|o| b.has_record(*o)));
}

/// Whatever the cause, an exchange that goes round without progress ends: the device stops
/// that record after `MAX_IDLE_EXCHANGES` change-free messages, reports it, leaves it unsynced
/// and tries it afresh at the next sync. Here a proxy strips the changes out of every sync
/// message the server sends, so the device can never get what it asks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exchange_that_makes_no_progress_is_stopped_reported_and_retried_next_time() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let (a, b, id) = shared_record(&server, &team).await;
    b.set_str(id, "school_name", "Hillside");
    b.sync().await.unwrap();
    a.set_str(id, "family_name", "Okafor-Reid");

    let stripping = FaultProxy::filtering(
        server.addr,
        Arc::new(|direction, payload: &[u8]| match Message::decode(payload) {
            Ok(Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }) if direction == Direction::ToDevice => {
                let mut m = sync::Message::decode(&data).unwrap();
                m.changes = Vec::<Vec<u8>>::new().into();
                Verdict::Replace(
                    Message::Sync {
                        sender_id,
                        target_id,
                        document_id,
                        data: m.encode(),
                    }
                    .encode()
                    .unwrap(),
                )
            }
            _ => Verdict::Pass,
        }),
    )
    .await;
    let stuck = Device::reconnect(&a, stripping.url(), SyncConfig::default());
    let report = match tokio::time::timeout(SESSION_LIMIT, stuck.sync()).await {
        Ok(r) => r.unwrap(),
        Err(_) => panic!("the session did not end within {SESSION_LIMIT:?}"),
    };
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].id, id);
    assert!(
        report.failed[0].reason.contains("no progress"),
        "{report:?}"
    );
    assert!(!report.complete);
    assert_eq!(
        a.get_str(id, "school_name"),
        None,
        "B's change did not arrive"
    );
    assert_ne!(a.status(id), SyncStatus::Synced);

    // The next session, without the proxy, completes the record.
    sync_within_limit(&a, "A").await;
    sync_within_limit(&b, "B").await;
    assert_converged(&[&a, &b], &server, &team).await;
    assert_eq!(a.get_str(id, "school_name").as_deref(), Some("Hillside"));
}
