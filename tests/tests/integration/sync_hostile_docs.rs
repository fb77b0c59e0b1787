//! Hostile documents through the real sync path: a device whose store holds records written by
//! a client that ignores the document layout (wrong types, lists where maps belong, huge
//! strings, 10,000-element lists, deep nesting, missing envelope, a `team_id` that is not a
//! string) syncs with the team server. As docs/PROTOCOL.md and server/src/docs.rs lay down,
//! the server never loses a change it accepts: documents that claim the uploader's team are
//! stored and their unattributed changes flagged (`RK-ATTRIB`); a new document that does not
//! claim the team by a string `team_id` is quarantined and refused with `hv-reject` for that
//! document only. The good records sync in the same session, another device receives the
//! stored hostile records as corrupt records *of their own*, and later syncs carry on.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{collections::BTreeSet, sync::Arc};

use automerge::{transaction::Transactable, AutoCommit, ObjType, ScalarValue, ROOT};
use homevisit_core::{
    doc,
    model::{child::Child, common::from_json},
    store::SyncStatus,
    sync::{Message, SyncConfig},
    Error, RecordId,
};
use homevisit_server::ServerStore;
use homevisit_tests::{
    device::Device,
    proxy::{Direction, FaultProxy, Verdict},
    TestServer, TestTeam,
};

/// A record document as a client that ignores the layout writes it: the envelope, one change
/// with no attribution, then `hostile` breaks the schema (in a second unattributed change).
fn stock_client_record(
    id: RecordId,
    team: &TestTeam,
    hostile: impl FnOnce(&mut AutoCommit),
) -> AutoCommit {
    let mut d = AutoCommit::new();
    d.put(ROOT, "schema", "homevisit/child").unwrap();
    d.put(ROOT, "schema_version", 1).unwrap();
    d.put(ROOT, "id", id.to_string()).unwrap();
    d.put(ROOT, "team_id", team.id.to_string()).unwrap();
    d.put(ROOT, "given_name", "Hostile").unwrap();
    d.put(ROOT, "family_name", "Peer").unwrap();
    let status = d.put_object(ROOT, "record_status", ObjType::Map).unwrap();
    d.put(&status, "state", "active").unwrap();
    d.commit();
    hostile(&mut d);
    d.commit();
    d
}

type Break = Box<dyn FnOnce(&mut AutoCommit)>;

/// Schema violations that still claim the team (stored and flagged by the server).
fn in_team_cases() -> Vec<(&'static str, Break)> {
    vec![
        (
            "wrong types",
            Box::new(|d| {
                d.put(ROOT, "given_name", 7).unwrap();
                d.put(ROOT, "date_of_birth", true).unwrap();
            }),
        ),
        (
            "list where a map belongs",
            Box::new(|d| {
                let l = d.put_object(ROOT, "alerts", ObjType::List).unwrap();
                d.insert(&l, 0, "dog").unwrap();
            }),
        ),
        (
            "missing schema and status",
            Box::new(|d| {
                d.delete(ROOT, "schema").unwrap();
                d.delete(ROOT, "record_status").unwrap();
            }),
        ),
        (
            "huge string",
            Box::new(|d| {
                d.put(ROOT, "family_name", "x".repeat(256 << 10)).unwrap();
            }),
        ),
        (
            "10,000-element list",
            Box::new(|d| {
                let l = d.put_object(ROOT, "weights", ObjType::List).unwrap();
                d.splice(&l, 0, 0, (0..10_000i64).map(ScalarValue::Int))
                    .unwrap();
            }),
        ),
        (
            "deep nesting",
            Box::new(|d| {
                let mut at = d.put_object(ROOT, "given_name", ObjType::Map).unwrap();
                for _ in 0..2_000 {
                    at = d.put_object(&at, "x", ObjType::Map).unwrap();
                }
            }),
        ),
    ]
}

/// New documents whose root `team_id` is not the team's id as a string: quarantined.
fn out_of_team_cases() -> Vec<(&'static str, Break)> {
    vec![
        (
            "team_id is a number",
            Box::new(|d| {
                d.put(ROOT, "team_id", ScalarValue::Int(42)).unwrap();
            }),
        ),
        (
            "team_id is a map",
            Box::new(|d| {
                let t = d.put_object(ROOT, "team_id", ObjType::Map).unwrap();
                d.put(&t, "id", "North").unwrap();
            }),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_are_stored_or_quarantined_and_the_other_records_sync() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let writer = Device::join(&server, &team).await;
    let reader = Device::join(&server, &team).await;
    let amara = writer.create_child("Amara");

    let mut stored = BTreeSet::new();
    for (name, hostile) in in_team_cases() {
        let id = RecordId::new();
        let d = stock_client_record(id, &team, hostile);
        writer
            .store
            .create(id, d)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        stored.insert(id);
    }
    let mut quarantined = BTreeSet::new();
    for (name, hostile) in out_of_team_cases() {
        let id = RecordId::new();
        let d = stock_client_record(id, &team, hostile);
        writer
            .store
            .create(id, d)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        quarantined.insert(id);
    }

    let report = writer.sync().await.unwrap();
    // Only the out-of-team documents are refused, each named; the session went on.
    let rejected: BTreeSet<RecordId> = report.rejected.iter().map(|p| p.id).collect();
    assert_eq!(rejected, quarantined, "{report:?}");
    assert!(report.failed.is_empty(), "{report:?}");
    assert_eq!(writer.status(amara), SyncStatus::Synced);
    assert!(server.document(&team, amara).await.is_some());
    for id in &stored {
        assert!(server.document(&team, *id).await.is_some(), "{id} stored");
        assert_eq!(writer.status(*id), SyncStatus::Synced);
    }
    for id in &quarantined {
        assert!(server.document(&team, *id).await.is_none(), "{id} kept out");
        assert_ne!(
            writer.status(*id),
            SyncStatus::Synced,
            "never claimed synced"
        );
    }
    let store = &*server.app.store;
    assert_eq!(
        store.quarantined_count(team.id).await.unwrap(),
        quarantined.len() as u64
    );
    // Every stored hostile document is flagged for its unattributed changes; the good one not.
    let flags = store.flags(team.id, None).await.unwrap();
    for id in &stored {
        assert!(
            flags
                .iter()
                .any(|f| f.document_id == *id && f.flag.rule_id == "RK-ATTRIB"),
            "{id} flagged: {flags:?}"
        );
    }
    assert!(flags.iter().all(|f| f.document_id != amara), "{flags:?}");

    // Another device receives the good record and the stored hostile ones; each hostile one is
    // a corrupt record of its own, the good one opens.
    let got = reader.sync().await.unwrap();
    assert!(got.failed.is_empty(), "{got:?}");
    assert_eq!(
        reader.get_str(amara, "given_name").as_deref(),
        Some("Amara")
    );
    for id in &stored {
        assert!(reader.has_record(*id));
        let typed = reader.store.read(*id, |d| {
            let json = doc::to_json(d)?;
            from_json::<Child>(json)
        });
        assert!(
            matches!(&typed, Err(Error::Corrupt { .. })),
            "{id}: {typed:?}"
        );
    }
    for id in &quarantined {
        assert!(!reader.has_record(*id));
    }
    let caseload = reader.store.caseload().unwrap();
    assert!(caseload.iter().any(|e| e.child_id == amara), "{caseload:?}");
    assert_eq!(
        reader.store.search_children("Amara").unwrap().len(),
        1,
        "search still finds the good child"
    );

    // Sync carries on: a later edit of the good record travels writer → server → reader.
    writer.set_str(amara, "family_name", "Okafor");
    writer.sync().await.unwrap();
    reader.sync().await.unwrap();
    assert_eq!(
        reader.get_str(amara, "family_name").as_deref(),
        Some("Okafor")
    );
    assert_eq!(reader.status(amara), SyncStatus::Synced);
}

/// The fuzzer's `automerge_sync` finding, end to end on the device: a sync message whose bloom
/// filter claims entries but has no bits made automerge 0.12 divide by zero when the next
/// message was generated. The device refuses it on decode with a protocol error, applies
/// nothing, and its next session is normal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_message_with_a_degenerate_bloom_filter_is_refused_not_a_panic() {
    let crash: &[u8] =
        include_bytes!("../../fuzz-regressions/automerge_sync/bloom-without-bits-divides-by-zero");
    // The fuzz input's first byte picks the base record; the rest is the sync message.
    let bloom = crash[1..].to_vec();
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let child = device.create_child("Amara");
    device.sync().await.unwrap();
    device.set_str(child, "gp_area", "luton");

    let hostile = FaultProxy::filtering(
        server.addr,
        Arc::new(
            move |direction, payload: &[u8]| match Message::decode(payload) {
                Ok(Message::Sync {
                    sender_id,
                    target_id,
                    document_id,
                    ..
                }) if direction == Direction::ToDevice => Verdict::Replace(
                    Message::Sync {
                        sender_id,
                        target_id,
                        document_id,
                        data: bloom.clone(),
                    }
                    .encode()
                    .unwrap(),
                ),
                _ => Verdict::Pass,
            },
        ),
    )
    .await;
    let victim = Device::reconnect(&device, hostile.url(), SyncConfig::default());
    let outcome = victim.sync().await;
    assert!(
        matches!(&outcome, Err(Error::Network(m)) if m.contains("bloom filter")),
        "{outcome:?}"
    );

    // Nothing is wedged: the same store syncs normally straight to the server.
    device.sync().await.unwrap();
    assert_eq!(device.status(child), SyncStatus::Synced);
    let doc = server.document(&team, child).await.unwrap();
    assert_eq!(
        automerge::ReadDoc::get(&doc, automerge::ROOT, "gp_area")
            .unwrap()
            .and_then(|(v, _)| v.into_string().ok())
            .as_deref(),
        Some("luton")
    );
}
