//! The store's API end to end on real files: round trip through close and reopen, the list
//! queries, the sync status life cycle and the sync operations between two devices' stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use automerge::{sync, sync::SyncDoc};
use homevisit_core::{
    doc,
    model::common::Schema,
    store::{Encryption, Store, StoreKey, StoreOptions, SyncStatus},
    sync::LocalDocs,
    Error, RecordId,
};
use store_support::*;
use uuid::Uuid;

const KEY: [u8; 32] = [7; 32];

fn open(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::open(dir.path().join(name), StoreKey::Raw(KEY)).unwrap()
}

fn create(dir: &tempfile::TempDir, name: &str) -> Store {
    Store::create_new(dir.path().join(name), StoreKey::Raw(KEY)).unwrap()
}

#[test]
fn round_trip_create_edit_close_reopen_gives_same_heads_and_content() {
    let dir = tempfile::tempdir().unwrap();
    let team = Uuid::new_v4();
    let a = ot(team);
    let child = RecordId::new();
    let form = RecordId::new();
    let (heads, json) = {
        let store = create(&dir, "s.db");
        store
            .create(
                child,
                child_doc(&a, child, "Amara", "Okafor", "2016-05-01", "9434765919"),
            )
            .unwrap();
        store
            .create(form, record_doc(&a, Schema::Assessment, form, child))
            .unwrap();
        store
            .edit(form, |d| set(d, &a, "sections.A.visit_date", "2026-03-15"))
            .unwrap();
        store
            .edit(child, |d| set(d, &a, "preferred_name", "Mara"))
            .unwrap();
        let heads = (
            store.local_heads(child).unwrap().unwrap(),
            store.local_heads(form).unwrap().unwrap(),
        );
        let json = (
            store.read(child, |d| doc::to_json(d)).unwrap(),
            store.read(form, |d| doc::to_json(d)).unwrap(),
        );
        store.close().unwrap();
        (heads, json)
    };
    let store = open(&dir, "s.db");
    assert_eq!(
        store.loaded_documents().unwrap(),
        0,
        "opening loads nothing"
    );
    assert_eq!(store.document_count().unwrap(), 2);
    let mut reloaded_child_heads = store.read(child, |d| Ok(d.get_heads())).unwrap();
    let mut expected = heads.0.clone();
    reloaded_child_heads.sort();
    expected.sort();
    assert_eq!(reloaded_child_heads, expected);
    assert_eq!(store.local_heads(form).unwrap().unwrap(), heads.1);
    assert_eq!(store.read(child, |d| doc::to_json(d)).unwrap(), json.0);
    assert_eq!(store.read(form, |d| doc::to_json(d)).unwrap(), json.1);
    assert_eq!(
        json.1["sections"]["A"]["visit_date"],
        serde_json::json!("2026-03-15")
    );
    store.check_integrity(true).unwrap();
}

#[test]
fn a_closed_store_answers_database_closed() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create(&dir, "s.db");
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "Okafor", "", ""))
        .unwrap();
    store.close().unwrap();
    assert!(matches!(
        store.read(id, |d| doc::to_json(d)),
        Err(Error::DatabaseClosed)
    ));
    assert!(matches!(
        store.edit(id, |d| set(d, &a, "given_name", "X")),
        Err(Error::DatabaseClosed)
    ));
    assert!(matches!(store.caseload(), Err(Error::DatabaseClosed)));
    assert!(matches!(store.unsynced_ids(), Err(Error::DatabaseClosed)));
    assert!(matches!(store.wipe(), Err(Error::DatabaseClosed)));
    assert!(matches!(
        store.interrupt_handle(),
        Err(Error::DatabaseClosed)
    ));
    assert!(store.close().is_ok(), "closing twice is harmless");
}

#[test]
fn missing_record_is_not_found_and_duplicate_create_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create(&dir, "s.db");
    let id = RecordId::new();
    assert!(matches!(
        store.read(id, |d| doc::to_json(d)),
        Err(Error::NotFound(x)) if x == id
    ));
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    assert!(store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .is_err());
    let other = RecordId::new();
    assert!(
        matches!(
            store.create(other, child_doc(&a, id, "Amara", "", "", "")),
            Err(Error::InvalidId(_))
        ),
        "a document stored under another record's id is refused"
    );
}

#[test]
fn caseload_and_search_read_projections_without_loading_documents() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create(&dir, "s.db");
    let amara = RecordId::new();
    let zoe = RecordId::new();
    store
        .create(
            amara,
            child_doc(&a, amara, "Amara", "Okafor", "2016-05-01", "9434765919"),
        )
        .unwrap();
    store
        .create(
            zoe,
            child_doc(&a, zoe, "Zoë", "Brown", "2019-11-30", "4010232137"),
        )
        .unwrap();
    let form = RecordId::new();
    store
        .create(form, record_doc(&a, Schema::Assessment, form, amara))
        .unwrap();
    let ra = RecordId::new();
    store
        .create(ra, record_doc(&a, Schema::RiskAssessment, ra, amara))
        .unwrap();
    store.close().unwrap();

    let store = open(&dir, "s.db");
    let caseload = store.caseload().unwrap();
    assert_eq!(
        caseload.iter().map(|c| c.child_id).collect::<Vec<_>>(),
        vec![zoe, amara],
        "by family name"
    );
    let amara_row = &caseload[1];
    assert_eq!(amara_row.record_count, 2);
    assert_eq!(amara_row.awaiting_signature_count, 2);
    assert_eq!(
        amara_row.unsynced_count, 3,
        "the child record and both forms"
    );

    let ids = |q: &str| {
        store
            .search_children(q)
            .unwrap()
            .into_iter()
            .map(|c| c.child_id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids("oka"), vec![amara], "name prefix");
    assert_eq!(ids("amara okafor"), vec![amara], "all words");
    assert_eq!(ids("zoe"), vec![zoe], "accents ignored");
    assert_eq!(ids("943 476 5919"), vec![amara], "NHS number with spaces");
    assert_eq!(ids("9434765919"), vec![amara], "NHS number without spaces");
    assert_eq!(ids("2019-11-30"), vec![zoe], "date of birth");
    assert_eq!(ids("30/11/2019"), vec![zoe], "UK date of birth");
    assert!(ids("nobody").is_empty());
    assert!(
        ids("\"*) OR").is_empty(),
        "search syntax is not passed through"
    );

    let of_child = store.records_of_child(amara).unwrap();
    assert_eq!(of_child.len(), 2);
    let drafts = store
        .records_by_kind_and_status(Schema::Assessment, "draft")
        .unwrap();
    assert_eq!(drafts.iter().map(|r| r.id).collect::<Vec<_>>(), vec![form]);
    assert!(drafts[0].needs_signature);
    assert_eq!(store.records_awaiting_signature().unwrap().len(), 2);
    assert_eq!(store.unsynced_records().unwrap().len(), 4);
    assert!(store.records_with_conflicts().unwrap().is_empty());
    assert_eq!(
        store.loaded_documents().unwrap(),
        0,
        "no list query loaded a document"
    );

    // An edit is reflected in the projection in the same transaction.
    store
        .edit(zoe, |d| set(d, &a, "family_name", "Adeyemi"))
        .unwrap();
    assert_eq!(ids("adeyemi"), vec![zoe]);
    assert!(ids("brown").is_empty());
    assert_eq!(
        store.record_summary(zoe).unwrap().unwrap().title,
        "Zoë Adeyemi"
    );
}

#[test]
fn saf_lost_edit_status_local_only_then_synced_then_pending_after_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create(&dir, "s.db");
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, "Amara", "", "", ""))
        .unwrap();
    assert_eq!(store.sync_status(id).unwrap(), SyncStatus::LocalOnly);
    store
        .edit(id, |d| set(d, &a, "family_name", "Okafor"))
        .unwrap();
    assert_eq!(
        store.sync_status(id).unwrap(),
        SyncStatus::LocalOnly,
        "never acknowledged yet"
    );
    assert_eq!(store.unsynced_ids().unwrap(), vec![id]);

    let heads = store.local_heads(id).unwrap().unwrap();
    let older = store
        .read(id, |d| {
            let change = d.get_change_by_hash(&heads[0]).unwrap();
            Ok(change.deps().to_vec())
        })
        .unwrap();
    assert_eq!(
        store.mark_acknowledged(id, &older).unwrap(),
        SyncStatus::Pending,
        "the server has only part of the history"
    );
    assert_eq!(
        store.mark_acknowledged(id, &heads).unwrap(),
        SyncStatus::Synced
    );
    assert_eq!(store.sync_status(id).unwrap(), SyncStatus::Synced);
    assert!(store.unsynced_ids().unwrap().is_empty());
    assert_eq!(
        store.record_summary(id).unwrap().unwrap().sync_status,
        SyncStatus::Synced
    );

    store
        .edit(id, |d| set(d, &a, "preferred_name", "Mara"))
        .unwrap();
    assert_eq!(store.sync_status(id).unwrap(), SyncStatus::Pending);
    assert_eq!(store.unsynced_ids().unwrap(), vec![id]);
    // An acknowledgement of the old heads does not cover the new edit.
    assert_eq!(
        store.mark_acknowledged(id, &heads).unwrap(),
        SyncStatus::Pending
    );
    store.close().unwrap();
    let store = open(&dir, "s.db");
    assert_eq!(
        store.sync_status(id).unwrap(),
        SyncStatus::Pending,
        "persisted"
    );
}

/// Runs the automerge sync protocol between two stores until neither has anything to send.
fn sync_pair(a: &Store, b: &Store, id: RecordId) {
    let mut sa = sync::State::new();
    let mut sb = sync::State::new();
    for _ in 0..20 {
        let ma = LocalDocs::generate_sync_message(a, id, &mut sa).unwrap();
        let mb = LocalDocs::generate_sync_message(b, id, &mut sb).unwrap();
        if ma.is_none() && mb.is_none() {
            return;
        }
        if let Some(m) = ma {
            LocalDocs::receive_sync_message(b, id, &mut sb, m).unwrap();
        }
        if let Some(m) = mb {
            LocalDocs::receive_sync_message(a, id, &mut sa, m).unwrap();
        }
    }
    panic!("sync did not settle");
}

#[test]
fn saf_silent_conflict_two_devices_syncing_through_their_stores_see_the_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let team = Uuid::new_v4();
    let (ua, ub) = (ot(team), ot(team));
    let a = create(&dir, "a.db");
    let b = create(&dir, "b.db");
    let id = RecordId::new();
    a.create(id, child_doc(&ua, id, "Amara", "", "", ""))
        .unwrap();

    // B gets the record whole (hv-doc) and has it as the server's copy.
    let whole = a.save_document(id).unwrap().unwrap();
    b.insert_remote_document(id, &whole).unwrap();
    assert_eq!(b.local_heads(id).unwrap(), a.local_heads(id).unwrap());
    assert_eq!(b.sync_status(id).unwrap(), SyncStatus::Pending);
    let heads = b.local_heads(id).unwrap().unwrap();
    assert!(b.has_heads(id, &heads).unwrap());
    assert_eq!(b.mark_acknowledged(id, &heads).unwrap(), SyncStatus::Synced);

    // Both change the same clinical field offline, then sync.
    a.edit(id, |d| set(d, &ua, "family_name", "Okafor"))
        .unwrap();
    b.edit(id, |d| set(d, &ub, "family_name", "Okafor-Smith"))
        .unwrap();
    sync_pair(&a, &b, id);
    assert_eq!(a.local_heads(id).unwrap(), b.local_heads(id).unwrap());
    for s in [&a, &b] {
        let conflicts = s.read(id, doc::conflicts).unwrap();
        assert_eq!(conflicts.len(), 1);
        let listed = s.records_with_conflicts().unwrap();
        assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), vec![id]);
        assert_eq!(listed[0].conflict_count, 1);
        let heads = s.local_heads(id).unwrap().unwrap();
        assert_eq!(
            s.mark_acknowledged(id, &heads).unwrap(),
            SyncStatus::Conflict
        );
    }
    // The sync state was persisted with the received changes.
    assert!(b.load_sync_state(id).unwrap().is_some());
}

#[test]
fn receiving_a_new_record_by_sync_creates_it_and_an_empty_exchange_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ua = ot(Uuid::new_v4());
    let a = create(&dir, "a.db");
    let b = create(&dir, "b.db");
    let id = RecordId::new();
    a.create(id, child_doc(&ua, id, "Amara", "Okafor", "", ""))
        .unwrap();
    sync_pair(&a, &b, id);
    assert!(b.contains(id).unwrap());
    assert_eq!(
        b.caseload().unwrap()[0].family_name.as_deref(),
        Some("Okafor")
    );
    assert_eq!(
        b.read(id, |d| doc::to_json(d)).unwrap(),
        a.read(id, |d| doc::to_json(d)).unwrap()
    );

    let absent = RecordId::new();
    let mut state = sync::State::new();
    let msg = LocalDocs::generate_sync_message(&a, absent, &mut state).unwrap();
    if let Some(m) = msg {
        LocalDocs::receive_sync_message(&b, absent, &mut sync::State::new(), m).unwrap();
    }
    assert!(
        !b.contains(absent).unwrap(),
        "no record from a message without changes"
    );
}

#[test]
fn undecodable_remote_document_is_refused_naming_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = create(&dir, "s.db");
    let id = RecordId::new();
    let err = store
        .insert_remote_document(id, b"definitely not automerge")
        .unwrap_err();
    assert!(
        matches!(err, Error::Corrupt { record: Some(r), .. } if r == id),
        "{err:?}"
    );
    assert!(!store.contains(id).unwrap());
}

#[test]
fn saf_device_lost_wipe_removes_every_record_and_the_sync_bookkeeping() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let path = dir.path().join("s.db");
    let store = Store::create_new(&path, StoreKey::Raw(KEY)).unwrap();
    let id = RecordId::new();
    store
        .create(
            id,
            child_doc(&a, id, "Amara", "Okafor", "2016-05-01", "9434765919"),
        )
        .unwrap();
    store.set_meta("sync.cursor", "42").unwrap();
    assert_eq!(store.meta("sync.cursor").unwrap().as_deref(), Some("42"));
    store.wipe().unwrap();
    assert_eq!(store.document_count().unwrap(), 0);
    assert!(store.caseload().unwrap().is_empty());
    assert!(store.search_children("amara").unwrap().is_empty());
    assert_eq!(store.meta("sync.cursor").unwrap(), None);
    assert!(matches!(
        store.read(id, |d| doc::to_json(d)),
        Err(Error::NotFound(_))
    ));
    // The store stays usable after a wipe.
    let again = RecordId::new();
    store
        .create(again, child_doc(&a, again, "New", "Start", "", ""))
        .unwrap();
    assert_eq!(store.document_count().unwrap(), 1);
}

#[test]
fn rebuild_projections_recreates_the_same_rows_from_documents() {
    let dir = tempfile::tempdir().unwrap();
    let a = ot(Uuid::new_v4());
    let store = create(&dir, "s.db");
    let child = RecordId::new();
    store
        .create(
            child,
            child_doc(&a, child, "Amara", "Okafor", "2016-05-01", "9434765919"),
        )
        .unwrap();
    let form = RecordId::new();
    store
        .create(form, record_doc(&a, Schema::Assessment, form, child))
        .unwrap();
    let caseload = store.caseload().unwrap();
    let summaries = store.records_of_child(child).unwrap();
    let report = store.rebuild_projections().unwrap();
    assert_eq!(report.rebuilt, 2);
    assert!(report.corrupt.is_empty());
    assert_eq!(store.caseload().unwrap(), caseload);
    assert_eq!(store.records_of_child(child).unwrap(), summaries);
    assert_eq!(store.search_children("okafor").unwrap().len(), 1);
}

#[test]
fn saf_lost_edit_a_whole_document_with_the_servers_heads_is_stored_acknowledged_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let team = Uuid::new_v4();
    let ua = ot(team);
    let a = create(&dir, "a.db");
    let b = create(&dir, "b.db");
    let id = RecordId::new();
    a.create(id, child_doc(&ua, id, "Amara", "Okafor", "", ""))
        .unwrap();
    let whole = a.save_document(id).unwrap().unwrap();
    let heads = a.local_heads(id).unwrap().unwrap();

    // New to B, heads exactly the server's: synced in the one transaction that stores it.
    b.insert_acknowledged_document(id, &whole, &heads).unwrap();
    assert_eq!(b.sync_status(id).unwrap(), SyncStatus::Synced);
    assert!(b.unsynced_ids().unwrap().is_empty());
    // Acknowledging again changes nothing.
    assert_eq!(b.mark_acknowledged(id, &heads).unwrap(), SyncStatus::Synced);

    // Heads that are not the document's own (a stale or wrong claim) do not count.
    let c = create(&dir, "c.db");
    let other = RecordId::new();
    a.create(other, child_doc(&ua, other, "Kwame", "Mensah", "", ""))
        .unwrap();
    let other_whole = a.save_document(other).unwrap().unwrap();
    c.insert_acknowledged_document(other, &other_whole, &heads)
        .unwrap();
    assert_eq!(c.sync_status(other).unwrap(), SyncStatus::Pending);

    // A record B already has is merged, and stays what it was until acknowledged: B's own
    // unsynced edit must not be marked synced by the server's older heads.
    b.edit(id, |d| set(d, &ua, "family_name", "Okafor-Smith"))
        .unwrap();
    b.insert_acknowledged_document(id, &whole, &heads).unwrap();
    assert_eq!(b.sync_status(id).unwrap(), SyncStatus::Pending);
    assert_eq!(
        b.mark_acknowledged(id, &heads).unwrap(),
        SyncStatus::Pending
    );
}

/// Automerge's sync relies on a change that arrives before its dependency (after a Bloom-filter
/// false positive left the dependency out) staying queued until the dependency comes. The store
/// keeps such a change even when the document leaves its cache in between; without that the
/// two peers would ask each other for ever (`homevisit_core::sync::orphans`).
#[test]
fn a_change_that_arrives_before_its_dependency_waits_even_if_the_document_leaves_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let ua = ot(Uuid::new_v4());
    let ub = ot(ua.team_id);
    let store = Store::create_new_with(
        dir.path().join("s.db"),
        Encryption::Key(StoreKey::Raw(KEY)),
        StoreOptions {
            cache_capacity: 1,
            ..StoreOptions::default()
        },
    )
    .unwrap();
    let id = RecordId::new();
    let mut base = child_doc(&ua, id, "Amara", "Okafor", "", "");
    let mut peer = base.fork();
    store.create(id, base).unwrap();
    let before = store.local_heads(id).unwrap().unwrap();

    // The peer's two changes: y, then x on top of it.
    set(&mut peer, &ub, "school_name", "Hillside").unwrap();
    set(&mut peer, &ub, "gp_practice_name", "Park Road").unwrap();
    let changes = peer.get_changes(&before);
    assert_eq!(changes.len(), 2);
    let (y, x) = (changes[0].clone(), changes[1].clone());
    let mut message = |change: &automerge::Change| {
        let mut m = peer
            .sync()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        m.changes = vec![change.raw_bytes().to_vec()].into();
        m
    };

    // x alone cannot apply.
    let mut state = sync::State::new();
    LocalDocs::receive_sync_message(&store, id, &mut state, message(&x)).unwrap();
    assert_eq!(store.local_heads(id).unwrap().unwrap(), before);

    // Another record's work pushes the document out of the one-document cache.
    let other = RecordId::new();
    store
        .create(other, child_doc(&ua, other, "Bo", "Li", "", ""))
        .unwrap();
    let evictions = store.cache_stats().unwrap().evictions;
    assert!(evictions >= 1, "the record left the cache");

    // y arrives: both apply.
    LocalDocs::receive_sync_message(&store, id, &mut state, message(&y)).unwrap();
    assert!(store.has_heads(id, &[x.hash(), y.hash()]).unwrap());
    assert_eq!(store.local_heads(id).unwrap().unwrap(), vec![x.hash()]);
    store.close().unwrap();
    let store = open(&dir, "s.db");
    assert_eq!(
        store.local_heads(id).unwrap().unwrap(),
        vec![x.hash()],
        "stored durably"
    );
}
