//! The operation-count limit on the device (docs/adr/0017-operation-count-limit.md): a document
//! or sync message from the server (or any peer) that would expand a record to ten million
//! operations is refused with [`Error::TooManyOps`] before automerge loads it; nothing is
//! stored and a record the device had is as it was.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use automerge::{sync, transaction::Transactable, AutoCommit, ReadDoc, ROOT};
use homevisit_core::{
    store::{Store, StoreKey},
    sync::{opcount::repeated_insert_change, LocalDocs},
    Error, RecordId,
};
use uuid::Uuid;

const HOSTILE_OPS: u64 = 10_000_000;

fn record(id: RecordId, team: Uuid) -> AutoCommit {
    let mut d = AutoCommit::new();
    d.put(ROOT, "schema", "homevisit/child").unwrap();
    d.put(ROOT, "schema_version", 1).unwrap();
    d.put(ROOT, "id", id.to_string()).unwrap();
    d.put(ROOT, "team_id", team.to_string()).unwrap();
    d.put(ROOT, "given_name", "Amara").unwrap();
    d.commit();
    d
}

fn assert_too_many_ops<T: std::fmt::Debug>(id: RecordId, r: Result<T, Error>) {
    match r {
        Err(Error::TooManyOps { record, detail }) => {
            assert_eq!(record, Some(id));
            assert!(detail.starts_with("too-many-ops:"), "{detail}");
        }
        other => panic!("expected TooManyOps, got {other:?}"),
    }
}

fn hostile_message() -> sync::Message {
    sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![repeated_insert_change(&[5; 16], HOSTILE_OPS)].into(),
        flags: None,
        version: sync::MessageVersion::V1,
    }
}

#[test]
fn a_device_refuses_a_ten_million_operation_document_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create_new(dir.path().join("device.db"), StoreKey::Raw([3u8; 32])).unwrap();
    let team = Uuid::new_v4();

    // A new record: the whole document from the server is refused, nothing is stored.
    let new_id = RecordId::new();
    let mut bytes = record(new_id, team).save();
    bytes.extend(repeated_insert_change(&[4; 16], HOSTILE_OPS));
    assert!(bytes.len() < 10 * 1024);
    assert_too_many_ops(new_id, store.insert_remote_document(new_id, &bytes));
    assert!(!store.contains(new_id).unwrap());
    assert_eq!(store.save_document(new_id).unwrap(), None);
    // As a sync message too.
    let mut state = sync::State::new();
    let r = LocalDocs::receive_sync_message(&store, new_id, &mut state, hostile_message());
    assert_too_many_ops(new_id, r);
    assert!(!store.contains(new_id).unwrap());

    // A record the device has: refused, and the record is as it was.
    let id = RecordId::new();
    let mut honest = record(id, team);
    store.insert_remote_document(id, &honest.save()).unwrap();
    let before = store.save_document(id).unwrap().expect("stored");
    let mut bytes = honest.save();
    bytes.extend(repeated_insert_change(&[6; 16], HOSTILE_OPS));
    assert_too_many_ops(id, store.insert_remote_document(id, &bytes));
    let mut state = sync::State::new();
    let r = LocalDocs::receive_sync_message(&store, id, &mut state, hostile_message());
    assert_too_many_ops(id, r);
    let after = store.save_document(id).unwrap().expect("still stored");
    assert_eq!(after, before);
    let mut doc = AutoCommit::load(&after).unwrap();
    assert_eq!(doc.get_heads(), honest.get_heads());
    assert!(doc.get(ROOT, "items").unwrap().is_none());

    // An honest change to it still applies.
    honest.put(ROOT, "family_name", "Okafor").unwrap();
    honest.commit();
    store.insert_remote_document(id, &honest.save()).unwrap();
    let mut doc = AutoCommit::load(&store.save_document(id).unwrap().unwrap()).unwrap();
    assert_eq!(doc.get_heads(), honest.get_heads());
}
