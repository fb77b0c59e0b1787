//! Durability and scale: compaction keeps documents identical, a full disk saves nothing
//! partial, a damaged document is reported by name while the others load, a damaged file is
//! reported and kept, and a large store opens without loading its documents.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::io::{Seek, SeekFrom, Write};

use automerge::{transaction::Transactable, AutoCommit, ROOT};
use homevisit_core::{
    doc,
    store::{db::apply_key, CompactionPolicy, Encryption, Store, StoreKey, StoreOptions},
    sync::LocalDocs,
    Error, RecordId,
};
use store_support::*;
use uuid::Uuid;

const KEY: [u8; 32] = [0x33; 32];

fn options(max_chunks: u32) -> StoreOptions {
    StoreOptions {
        compaction: CompactionPolicy {
            max_chunks,
            min_chunk_bytes: u64::MAX,
        },
        ..StoreOptions::default()
    }
}

fn open_with(path: &std::path::Path, opts: StoreOptions) -> Store {
    Store::open_with(path, Encryption::Key(StoreKey::Raw(KEY)), opts).unwrap()
}

fn create_with(path: &std::path::Path, opts: StoreOptions) -> Store {
    Store::create_new_with(path, Encryption::Key(StoreKey::Raw(KEY)), opts).unwrap()
}

#[test]
fn compaction_keeps_content_heads_and_history_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let a = ot(Uuid::new_v4());
    let store = create_with(&path, options(u32::MAX));
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "Okafor", "2016-05-01", ""))
        .unwrap();
    for i in 0..10 {
        store
            .edit(id, |d| set(d, &a, "preferred_name", &format!("name {i}")))
            .unwrap();
    }
    assert_eq!(store.storage(id).unwrap().chunk_count, 10);
    let heads = store.local_heads(id).unwrap();
    let json = store.read(id, |d| doc::to_json(d)).unwrap();
    let history = store.read(id, doc::history).unwrap();

    assert!(store.compact(id).unwrap());
    assert!(!store.compact(id).unwrap(), "nothing left to fold");
    let storage = store.storage(id).unwrap();
    assert_eq!((storage.chunk_count, storage.chunk_bytes), (0, 0));
    store.close().unwrap();

    let store = open_with(&path, options(u32::MAX));
    assert_eq!(store.local_heads(id).unwrap(), heads);
    let mut reloaded = store.read(id, |d| Ok(d.get_heads())).unwrap();
    let mut expected = heads.unwrap();
    reloaded.sort();
    expected.sort();
    assert_eq!(reloaded, expected);
    assert_eq!(store.read(id, |d| doc::to_json(d)).unwrap(), json);
    assert_eq!(store.read(id, doc::history).unwrap(), history);
    // Edits continue on top of the snapshot.
    store
        .edit(id, |d| set(d, &a, "preferred_name", "after"))
        .unwrap();
    assert_eq!(store.storage(id).unwrap().chunk_count, 1);
}

#[test]
fn compaction_policy_folds_increments_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create_with(&dir.path().join("s.db"), options(4));
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    let mut seen = Vec::new();
    for i in 0..9 {
        store
            .edit(id, |d| set(d, &a, "family_name", &format!("F{i}")))
            .unwrap();
        seen.push(store.storage(id).unwrap().chunk_count);
    }
    assert_eq!(seen, vec![1, 2, 3, 0, 1, 2, 3, 0, 1]);
    let json = store.read(id, |d| doc::to_json(d)).unwrap();
    assert_eq!(json["family_name"], serde_json::json!("F8"));

    let policy = CompactionPolicy::default();
    assert!(!policy.is_due(1, 100, 10_000));
    assert!(policy.is_due(100, 100, 10_000), "by count");
    assert!(policy.is_due(5, 200_000, 150_000), "by size");
}

#[test]
fn disk_full_saves_nothing_partial_and_the_store_works_after_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create_with(&dir.path().join("s.db"), StoreOptions::default());
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "Okafor", "", ""))
        .unwrap();
    let heads = store.local_heads(id).unwrap();
    let storage = store.storage(id).unwrap();
    let json = store.read(id, |d| doc::to_json(d)).unwrap();

    store
        .set_max_pages(Some(store.page_count().unwrap()))
        .unwrap();
    // Incompressible text, larger than any free space left in the file's pages.
    let big: String = (0..40_000u32)
        .map(|i| char::from(b'a' + ((i.wrapping_mul(2_654_435_761) >> 13) % 26) as u8))
        .collect();
    let err = store
        .edit(id, |d| set(d, &a, "gp_practice_name", &big))
        .unwrap_err();
    assert!(matches!(err, Error::DiskFull), "{err:?}");
    assert_eq!(store.local_heads(id).unwrap(), heads, "no partial record");
    assert_eq!(store.storage(id).unwrap(), storage);
    assert_eq!(
        store.read(id, |d| doc::to_json(d)).unwrap(),
        json,
        "the unsaved change is gone from memory too"
    );
    let other = RecordId::new();
    let mut big_child = child_doc(&a, other, "Zoe", "Brown", "", "");
    set(&mut big_child, &a, "gp_practice_name", &big).unwrap();
    assert!(matches!(
        store.create(other, big_child),
        Err(Error::DiskFull)
    ));
    assert!(!store.contains(other).unwrap());
    assert_eq!(store.document_count().unwrap(), 1);
    assert_eq!(store.caseload().unwrap().len(), 1);

    store.set_max_pages(None).unwrap();
    store
        .edit(id, |d| set(d, &a, "gp_practice_name", &big))
        .unwrap();
    let saved = store.read(id, |d| doc::to_json(d)).unwrap();
    assert_eq!(saved["gp_practice_name"], serde_json::json!(big));
    store.check_integrity(true).unwrap();
}

#[test]
fn disk_full_while_receiving_from_the_server_keeps_neither_changes_nor_sync_state() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let device = create_with(&dir.path().join("device.db"), StoreOptions::default());
    let server = create_with(&dir.path().join("server.db"), StoreOptions::default());
    let id = RecordId::new();
    device
        .create(id, child_doc(&a, id, "Amara", "Okafor", "", ""))
        .unwrap();
    server
        .insert_remote_document(id, &device.save_document(id).unwrap().unwrap())
        .unwrap();
    let big: String = (0..40_000u32)
        .map(|i| char::from(b'a' + ((i.wrapping_mul(2_654_435_761) >> 13) % 26) as u8))
        .collect();
    server
        .edit(id, |d| set(d, &a, "gp_practice_name", &big))
        .unwrap();

    let heads = device.local_heads(id).unwrap();
    device
        .set_max_pages(Some(device.page_count().unwrap()))
        .unwrap();
    let mut server_state = automerge::sync::State::new();
    let mut device_state = automerge::sync::State::new();
    let mut failed = false;
    let mut state_before = None;
    for _ in 0..10 {
        let to_device = LocalDocs::generate_sync_message(&server, id, &mut server_state).unwrap();
        let Some(m) = to_device else { break };
        state_before = device.load_sync_state(id).unwrap();
        match LocalDocs::receive_sync_message(&device, id, &mut device_state, m) {
            Ok(()) => {}
            Err(Error::DiskFull) => {
                failed = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
        if let Some(m) = LocalDocs::generate_sync_message(&device, id, &mut device_state).unwrap() {
            LocalDocs::receive_sync_message(&server, id, &mut server_state, m).unwrap();
        }
    }
    assert!(failed, "the big change did not fit");
    assert_eq!(device.local_heads(id).unwrap(), heads, "nothing partial");
    assert_eq!(
        device.load_sync_state(id).unwrap(),
        state_before,
        "the new sync state was not saved without its changes"
    );
    device.set_max_pages(None).unwrap();
    let json = device.read(id, |d| doc::to_json(d)).unwrap();
    assert!(json.get("gp_practice_name").is_none());
}

#[test]
fn a_damaged_document_is_corrupt_naming_it_while_the_others_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let a = ot(Uuid::new_v4());
    let ids: Vec<RecordId> = (0..3).map(|_| RecordId::new()).collect();
    {
        let store = create_with(&path, StoreOptions::default());
        for (i, id) in ids.iter().enumerate() {
            store
                .create(
                    *id,
                    child_doc(&a, *id, &format!("Child{i}"), "Okafor", "", ""),
                )
                .unwrap();
            store
                .edit(*id, |d| set(d, &a, "preferred_name", "P"))
                .unwrap();
        }
        store.close().unwrap();
    }
    let bad = ids[1];
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        apply_key(&conn, &Encryption::Key(StoreKey::Raw(KEY))).unwrap();
        let mut bytes: Vec<u8> = conn
            .query_row(
                "SELECT bytes FROM chunks WHERE record_id = ?1",
                [bad.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0xff;
        conn.execute(
            "UPDATE chunks SET bytes = ?2 WHERE record_id = ?1",
            rusqlite::params![bad.to_string(), bytes],
        )
        .unwrap();
    }
    let store = open_with(&path, StoreOptions::default());
    let err = store.read(bad, |d| doc::to_json(d)).unwrap_err();
    assert!(
        matches!(&err, Error::Corrupt { record: Some(r), .. } if *r == bad),
        "{err:?}"
    );
    assert!(matches!(
        store.edit(bad, |d| set(d, &a, "given_name", "X")),
        Err(Error::Corrupt { record: Some(r), .. }) if r == bad
    ));
    for id in [ids[0], ids[2]] {
        store.read(id, |d| doc::to_json(d)).unwrap();
    }
    let report = store.rebuild_projections().unwrap();
    assert_eq!(report.rebuilt, 2);
    assert_eq!(report.corrupt.len(), 1);
    assert!(matches!(report.corrupt[0], Error::Corrupt { record: Some(r), .. } if r == bad));
    assert_eq!(
        store.caseload().unwrap().len(),
        3,
        "the damaged child stays listed with its last projection"
    );
    assert!(
        store.contains(bad).unwrap(),
        "kept for recovery, never deleted"
    );
}

#[test]
fn a_damaged_file_is_reported_corrupt_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let a = ot(Uuid::new_v4());
    {
        let store = create_with(&path, StoreOptions::default());
        let docs = (0..200)
            .map(|i| {
                let id = RecordId::new();
                (
                    id,
                    child_doc(&a, id, &format!("Child{i}"), "Okafor", "", ""),
                )
            })
            .collect();
        store.create_batch(docs).unwrap();
        store.close().unwrap();
    }
    let len = std::fs::metadata(&path).unwrap().len();
    {
        // Damage one byte in the middle of a page well after the schema pages.
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(len - 4096 * 3 + 2000)).unwrap();
        f.write_all(&[0xAB; 16]).unwrap();
    }
    let store = open_with(&path, StoreOptions::default());
    let err = store.check_integrity(true).unwrap_err();
    assert!(
        matches!(err, Error::Corrupt { record: None, .. }),
        "{err:?}"
    );
    store.close().unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        len,
        "the file is kept"
    );
}

/// A minimal child document (envelope keys and names only), so 5,000 are made quickly.
fn small_child(id: RecordId, team: Uuid, i: usize) -> AutoCommit {
    let mut d = AutoCommit::new();
    d.put(ROOT, "schema", "homevisit/child").unwrap();
    d.put(ROOT, "id", id.to_string()).unwrap();
    d.put(ROOT, "team_id", team.to_string()).unwrap();
    d.put(ROOT, "given_name", format!("Child{i}")).unwrap();
    d.put(ROOT, "family_name", format!("Family{i}")).unwrap();
    d.commit();
    d
}

#[test]
fn a_store_of_5000_documents_opens_and_lists_without_loading_any() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let team = Uuid::new_v4();
    let first = RecordId::new();
    {
        let store = create_with(&path, StoreOptions::default());
        let docs = (0..5000)
            .map(|i| {
                let id = if i == 0 { first } else { RecordId::new() };
                (id, small_child(id, team, i))
            })
            .collect();
        store.create_batch(docs).unwrap();
        store.close().unwrap();
    }
    let store = open_with(
        &path,
        StoreOptions {
            cache_capacity: 16,
            ..StoreOptions::default()
        },
    );
    assert_eq!(
        store.loaded_documents().unwrap(),
        0,
        "opening loaded nothing"
    );
    assert_eq!(store.document_count().unwrap(), 5000);
    assert_eq!(store.caseload().unwrap().len(), 5000);
    assert_eq!(store.search_children("family4999").unwrap().len(), 1);
    assert!(store.unsynced_ids().unwrap().len() == 5000);
    assert_eq!(
        store.loaded_documents().unwrap(),
        0,
        "listing loaded nothing"
    );
    assert_eq!(store.cache_stats().unwrap().cached, 0);

    store.read(first, |d| doc::to_json(d)).unwrap();
    assert_eq!(store.loaded_documents().unwrap(), 1);
    store.read(first, |d| doc::to_json(d)).unwrap();
    assert_eq!(
        store.loaded_documents().unwrap(),
        1,
        "the second read is cached"
    );
    for c in store.caseload().unwrap().iter().take(40) {
        store.read(c.child_id, |d| doc::to_json(d)).unwrap();
    }
    let stats = store.cache_stats().unwrap();
    assert_eq!(stats.cached, 16, "bounded by the capacity");
    assert!(stats.evictions >= 24);
}
