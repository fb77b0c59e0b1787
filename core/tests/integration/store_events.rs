//! Change events: the store publishes one after every commit that changed a record — local
//! edits as `Local`, what sync brought as `Sync` — and nothing for work that saved nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use automerge::{sync, sync::SyncDoc};
use homevisit_core::{
    doc,
    store::{ChangeEvent, ChangeOrigin, ChangeSubscription, Store, StoreKey, SyncStatus},
    sync::LocalDocs,
    RecordId,
};
use uuid::Uuid;

use crate::store_support::*;

const KEY: [u8; 32] = [9; 32];

fn create(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::create_new(dir.path().join(name), StoreKey::Raw(KEY)).unwrap()
}

/// Collects every event the store publishes.
fn record(store: &Store) -> (Arc<Mutex<Vec<ChangeEvent>>>, ChangeSubscription) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let sub = store.subscribe(move |e| s.lock().unwrap().push(*e));
    (seen, sub)
}

fn take(seen: &Arc<Mutex<Vec<ChangeEvent>>>) -> Vec<ChangeEvent> {
    std::mem::take(&mut *seen.lock().unwrap())
}

fn local(id: RecordId) -> ChangeEvent {
    ChangeEvent {
        record: Some(id),
        origin: ChangeOrigin::Local,
    }
}

fn synced(id: RecordId) -> ChangeEvent {
    ChangeEvent {
        record: Some(id),
        origin: ChangeOrigin::Sync,
    }
}

#[test]
fn create_and_edit_publish_a_local_event_and_an_edit_that_saves_nothing_publishes_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(&dir, "s.db");
    let (seen, _sub) = record(&store);
    let a = ot(Uuid::new_v4());
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "Okafor", "2016-05-01", ""))
        .unwrap();
    assert_eq!(take(&seen), vec![local(id)]);

    store
        .edit(id, |d| set(d, &a, "preferred_name", "Mara"))
        .unwrap();
    assert_eq!(take(&seen), vec![local(id)]);

    // A closure that changes nothing commits nothing: no event.
    store.edit(id, |_| Ok(())).unwrap();
    // A failed edit leaves nothing behind: no event.
    let refused = store.edit(id, |_| -> homevisit_core::Result<()> {
        Err(homevisit_core::Error::Internal(
            "refused by the caller".into(),
        ))
    });
    assert!(refused.is_err());
    assert_eq!(take(&seen), vec![]);

    let (x, y) = (RecordId::new(), RecordId::new());
    store
        .create_batch(vec![
            (x, child_doc(&a, x, "Bea", "", "", "")),
            (y, child_doc(&a, y, "Cal", "", "", "")),
        ])
        .unwrap();
    assert_eq!(take(&seen), vec![local(x), local(y)]);
}

#[test]
fn a_subscriber_reads_the_committed_change_from_inside_its_callback() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(create(&dir, "s.db"));
    let a = ot(Uuid::new_v4());
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    let read_back = Arc::new(Mutex::new(Vec::new()));
    let (r, weak) = (Arc::clone(&read_back), Arc::downgrade(&store));
    // Reading the store from the callback would deadlock if the event were published while the
    // writer lock is held, and would see the old value if it were published before the commit.
    let _sub = store.subscribe(move |e| {
        let (Some(store), Some(id)) = (weak.upgrade(), e.record) else {
            return;
        };
        let name = store
            .read(id, |d| Ok(doc::to_json(d)?["preferred_name"].clone()))
            .unwrap();
        r.lock().unwrap().push(name);
    });
    store
        .edit(id, |d| set(d, &a, "preferred_name", "Mara"))
        .unwrap();
    assert_eq!(*read_back.lock().unwrap(), vec![serde_json::json!("Mara")]);
}

#[test]
fn what_sync_brings_is_published_as_sync_and_an_exchange_that_changes_nothing_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (create(&dir, "a.db"), create(&dir, "b.db"));
    let ua = ot(Uuid::new_v4());
    let id = RecordId::new();
    a.create(id, child_doc(&ua, id, "Amara", "", "", ""))
        .unwrap();
    let (seen, _sub) = record(&b);

    // A whole document from the server creates the record on B.
    b.insert_remote_document(id, &a.save_document(id).unwrap().unwrap())
        .unwrap();
    assert_eq!(take(&seen), vec![synced(id)]);

    // The server's acknowledgement changes the status: published; the same again is not.
    let heads = b.local_heads(id).unwrap().unwrap();
    assert_eq!(b.mark_acknowledged(id, &heads).unwrap(), SyncStatus::Synced);
    assert_eq!(take(&seen), vec![synced(id)]);
    assert_eq!(b.mark_acknowledged(id, &heads).unwrap(), SyncStatus::Synced);
    assert_eq!(take(&seen), vec![]);

    // A sync message with a new change is published once; one with no change is not.
    a.edit(id, |d| set(d, &ua, "family_name", "Okafor"))
        .unwrap();
    let (mut sa, mut sb) = (sync::State::new(), sync::State::new());
    let mut changed = 0;
    for _ in 0..20 {
        let ma = LocalDocs::generate_sync_message(&a, id, &mut sa).unwrap();
        let mb = LocalDocs::generate_sync_message(&b, id, &mut sb).unwrap();
        if ma.is_none() && mb.is_none() {
            break;
        }
        if let Some(m) = ma {
            let carries_changes = !m.changes.is_empty();
            LocalDocs::receive_sync_message(&b, id, &mut sb, m).unwrap();
            let events = take(&seen);
            if carries_changes {
                changed += 1;
                assert_eq!(events, vec![synced(id)]);
            } else {
                assert_eq!(events, vec![], "a message without changes is not an event");
            }
        }
        if let Some(m) = mb {
            LocalDocs::receive_sync_message(&a, id, &mut sa, m).unwrap();
        }
    }
    assert_eq!(changed, 1);
    assert_eq!(
        b.read(id, |d| Ok(doc::to_json(d)?["family_name"].clone()))
            .unwrap(),
        serde_json::json!("Okafor")
    );
    // An empty document's heads-only exchange about a record B lacks creates nothing.
    let absent = RecordId::new();
    let m = automerge::AutoCommit::new()
        .sync()
        .generate_sync_message(&mut sync::State::new())
        .unwrap();
    LocalDocs::receive_sync_message(&b, absent, &mut sync::State::new(), m).unwrap();
    assert_eq!(take(&seen), vec![]);
}

#[test]
fn the_sync_clients_wake_fires_for_local_changes_only() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (create(&dir, "a.db"), create(&dir, "b.db"));
    let ua = ot(Uuid::new_v4());
    let wakes = Arc::new(Mutex::new(0_u32));
    let w = Arc::clone(&wakes);
    let sub = b.on_local_change(Box::new(move || *w.lock().unwrap() += 1));

    let id = RecordId::new();
    a.create(id, child_doc(&ua, id, "Amara", "", "", ""))
        .unwrap();
    b.insert_remote_document(id, &a.save_document(id).unwrap().unwrap())
        .unwrap();
    assert_eq!(
        *wakes.lock().unwrap(),
        0,
        "what the server sent is not pushed back"
    );

    b.edit(id, |d| set(d, &ua, "family_name", "Okafor"))
        .unwrap();
    assert_eq!(*wakes.lock().unwrap(), 1);

    drop(sub);
    b.edit(id, |d| set(d, &ua, "family_name", "Okafor-Smith"))
        .unwrap();
    assert_eq!(
        *wakes.lock().unwrap(),
        1,
        "a dropped subscription wakes nothing"
    );
}

#[test]
fn wipe_and_rebuild_publish_an_event_for_every_record_and_dropping_ends_the_subscription() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(&dir, "s.db");
    let a = ot(Uuid::new_v4());
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    let (seen, sub) = record(&store);
    assert_eq!(store.subscriber_count(), 1);

    store.rebuild_projections().unwrap();
    assert_eq!(
        take(&seen),
        vec![ChangeEvent {
            record: None,
            origin: ChangeOrigin::Local
        }]
    );
    store.wipe().unwrap();
    assert_eq!(
        take(&seen),
        vec![ChangeEvent {
            record: None,
            origin: ChangeOrigin::Sync
        }]
    );

    drop(sub);
    assert_eq!(store.subscriber_count(), 0);
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    assert_eq!(take(&seen), vec![]);
}
