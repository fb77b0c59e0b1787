//! Hostile documents on the device: a record whose document was written by a stock
//! automerge-repo client that ignores the layout (docs/DOCUMENT-LAYOUT.md) — wrong types at
//! known paths, missing envelope, a list where a map belongs, huge strings, 10,000-element
//! lists, deep nesting, a `team_id` that is not a string — arrives through the device's
//! whole-document path, is kept (nothing received is lost), and reads as a typed
//! [`Error::Corrupt`] naming *that* record. The store still lists and opens every other record,
//! the caseload and search work, validation and edits of the good records go on, and an edit
//! of the hostile record is refused without touching it (`FLD-FORMAT`, `SAF-WRONG-CHILD`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use automerge::{transaction::Transactable, AutoCommit, ObjType, ScalarValue, ROOT};
use chrono::{DateTime, NaiveDate, Utc};
use homevisit_core::{
    model::{
        assessment::Assessment,
        child::Child,
        common::Service,
        user::{Actor, Role},
    },
    records::{Clock, FieldValue, Records},
    rules::config::RulesConfig,
    store::{Store, StoreKey},
    Error, RecordId,
};
use uuid::Uuid;

#[derive(Debug)]
struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        "2026-03-15T10:00:00Z".parse().unwrap()
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Arc<Store>,
    records: Records,
    team: Uuid,
    amara: RecordId,
    amara_assessment: RecordId,
    ben: RecordId,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(Store::open(dir.path().join("device.db"), StoreKey::Raw([9u8; 32])).unwrap());
    let team = Uuid::new_v4();
    let actor = Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: team,
        hcpc_number: Some("OT123456".into()),
        hcpc_verified_until: NaiveDate::from_ymd_opt(2027, 1, 1),
    };
    let records = Records::new(
        store.clone(),
        actor,
        RulesConfig::default(),
        Arc::new(FixedClock),
    );
    let dob = NaiveDate::from_ymd_opt(2019, 5, 4).unwrap();
    let amara = records.create_child("Amara", "Okafor", dob).unwrap();
    let amara_assessment = records
        .create_assessment(amara, Service::SocialCare)
        .unwrap();
    let ben = records.create_child("Ben", "Hughes", dob).unwrap();
    World {
        _dir: dir,
        store,
        records,
        team,
        amara,
        amara_assessment,
        ben,
    }
}

/// A document as a stock automerge client writes it: the envelope keys of the layout, no
/// attribution on its changes, then `hostile` breaks the schema.
fn stock_client_document(
    id: RecordId,
    schema: &str,
    team: Uuid,
    child: Option<RecordId>,
    hostile: impl FnOnce(&mut AutoCommit),
) -> Vec<u8> {
    let mut d = AutoCommit::new();
    d.put(ROOT, "schema", schema).unwrap();
    d.put(ROOT, "schema_version", 1).unwrap();
    d.put(ROOT, "id", id.to_string()).unwrap();
    d.put(ROOT, "team_id", team.to_string()).unwrap();
    if let Some(c) = child {
        d.put(ROOT, "child_id", c.to_string()).unwrap();
    }
    d.put(ROOT, "created_at", "2026-03-15T09:00:00Z").unwrap();
    d.put(ROOT, "created_by", Uuid::new_v4().to_string())
        .unwrap();
    let status = d.put_object(ROOT, "record_status", ObjType::Map).unwrap();
    d.put(&status, "state", "active").unwrap();
    for key in ["acks", "flags", "sign_race_decisions", "alerts", "weights"] {
        d.put_object(ROOT, key, ObjType::Map).unwrap();
    }
    d.put(ROOT, "given_name", "Hostile").unwrap();
    d.put(ROOT, "family_name", "Peer").unwrap();
    d.put(ROOT, "date_of_birth", "2018-01-01").unwrap();
    d.commit();
    hostile(&mut d);
    d.commit();
    d.save()
}

/// Every kind of schema violation, each as its own child record of the team.
fn hostile_cases(team: Uuid) -> Vec<(&'static str, RecordId, Vec<u8>)> {
    type Break = Box<dyn FnOnce(&mut AutoCommit)>;
    let cases: Vec<(&'static str, Break)> = vec![
        (
            "wrong types at known paths",
            Box::new(|d| {
                d.put(ROOT, "given_name", 7).unwrap();
                d.put(ROOT, "date_of_birth", true).unwrap();
                d.put(ROOT, "nhs_number", 1.5).unwrap();
            }),
        ),
        (
            "missing envelope (schema and record_status)",
            Box::new(|d| {
                d.delete(ROOT, "schema").unwrap();
                d.delete(ROOT, "record_status").unwrap();
            }),
        ),
        (
            "a list where a map belongs",
            Box::new(|d| {
                let alerts = d.put_object(ROOT, "alerts", ObjType::List).unwrap();
                d.insert(&alerts, 0, "dog").unwrap();
                let status = d.put_object(ROOT, "record_status", ObjType::List).unwrap();
                d.insert(&status, 0, "active").unwrap();
            }),
        ),
        (
            "a 2 MiB string",
            Box::new(|d| {
                d.put(ROOT, "family_name", "x".repeat(2 << 20)).unwrap();
                d.put(ROOT, "nhs_number", "9".repeat(1 << 20)).unwrap();
            }),
        ),
        (
            "a 10,000-element list",
            Box::new(|d| {
                let weights = d.put_object(ROOT, "weights", ObjType::List).unwrap();
                d.splice(&weights, 0, 0, (0..10_000i64).map(ScalarValue::Int))
                    .unwrap();
            }),
        ),
        (
            "a 1,000-item map of alerts with wrong fields",
            Box::new(|d| {
                let alerts = d.put_object(ROOT, "alerts", ObjType::Map).unwrap();
                for i in 0..1_000 {
                    let item = d
                        .put_object(&alerts, format!("a{i}").as_str(), ObjType::Map)
                        .unwrap();
                    d.put(&item, "text", i as i64).unwrap();
                }
            }),
        ),
        (
            "5,000 levels of nesting",
            Box::new(|d| {
                let mut at = d.put_object(ROOT, "given_name", ObjType::Map).unwrap();
                for i in 0..5_000 {
                    at = if i % 2 == 0 {
                        let list = d.put_object(&at, "x", ObjType::List).unwrap();
                        d.insert_object(&list, 0, ObjType::Map).unwrap()
                    } else {
                        d.put_object(&at, "y", ObjType::Map).unwrap()
                    };
                }
            }),
        ),
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
    ];
    cases
        .into_iter()
        .map(|(name, hostile)| {
            let id = RecordId::new();
            let bytes = stock_client_document(id, "homevisit/child", team, None, hostile);
            (name, id, bytes)
        })
        .collect()
}

/// The one case whose values all have the right types: a string of absurd size is still a
/// string (DOMAIN.md sets no length limit), so the record reads; it must not hold up others.
const RIGHT_TYPES: &str = "a 2 MiB string";

fn assert_corrupt_for<T>(what: &str, id: RecordId, r: Result<T, Error>) {
    match r {
        Err(Error::Corrupt {
            record: Some(r), ..
        }) if r == id => {}
        Ok(_) => panic!("{what}: expected Corrupt naming {id}, got Ok"),
        Err(e) => panic!(
            "{what}: expected Corrupt naming {id}, got {:.300}",
            e.to_string()
        ),
    }
}

/// `view` either opens the record generically or is `Corrupt` naming it; never anything else.
fn assert_opens_or_corrupt<T>(what: &str, id: RecordId, r: Result<T, Error>) {
    if r.is_err() {
        assert_corrupt_for(what, id, r);
    }
}

/// The good records still list, open, validate, search and take edits.
fn assert_good_records_work(w: &World) {
    let caseload = w.store.caseload().unwrap();
    for (id, family) in [(w.amara, "Okafor"), (w.ben, "Hughes")] {
        let entry = caseload
            .iter()
            .find(|e| e.child_id == id)
            .unwrap_or_else(|| panic!("{family} missing from the caseload: {caseload:?}"));
        assert_eq!(entry.family_name.as_deref(), Some(family));
    }
    let found = w.store.search_children("Okafor").unwrap();
    assert_eq!(
        found.iter().map(|e| e.child_id).collect::<Vec<_>>(),
        vec![w.amara]
    );
    let of_amara = w.store.records_of_child(w.amara).unwrap();
    assert!(of_amara.iter().any(|r| r.id == w.amara_assessment));

    for id in [w.amara, w.amara_assessment, w.ben] {
        let view = w.records.view(id).unwrap();
        assert_eq!(view.id, id);
        w.records.validate(id, false).unwrap();
    }
    assert_eq!(
        w.records.view(w.amara_assessment).unwrap().banner.child_id,
        w.amara,
        "SAF-WRONG-CHILD: the banner still names the right child"
    );
    w.records
        .set_field(
            w.amara,
            "preferred_name",
            FieldValue::Str(format!("Ami {}", w.store.document_count().unwrap())),
        )
        .unwrap();
}

#[test]
fn each_schema_violation_is_a_corrupt_state_of_that_record_only() {
    let w = world();
    let cases = hostile_cases(w.team);
    for (name, id, bytes) in &cases {
        let started = std::time::Instant::now();
        // Received whole from the server (`hv-doc`): kept as it is, nothing lost.
        w.store
            .insert_remote_document(*id, bytes)
            .unwrap_or_else(|e| panic!("{name}: the received document was not kept: {e}"));
        assert!(w.store.contains(*id).unwrap(), "{name}");
        let summary = w.store.record_summary(*id).unwrap();
        assert!(summary.is_some(), "{name}: the record is listed");

        // Opening it is a typed corruption state naming it, never a panic; the generic views
        // either read or are Corrupt naming it (nesting beyond the JSON depth limit).
        assert_opens_or_corrupt(name, *id, w.records.view(*id));
        assert_opens_or_corrupt(name, *id, w.records.json(*id));
        if *name == RIGHT_TYPES {
            w.records.typed::<Child>(*id).unwrap();
            w.records.validate(*id, true).unwrap();
        } else {
            assert_corrupt_for(name, *id, w.records.typed::<Child>(*id));
            assert_corrupt_for(name, *id, w.records.validate(*id, true));
            // An edit is refused (FLD-FORMAT: the result would not fit the model) and leaves
            // the received document as it was.
            let before = w.store.local_heads(*id).unwrap();
            let edit = w
                .records
                .set_field(*id, "preferred_name", FieldValue::Str("x".into()));
            assert!(
                matches!(
                    &edit,
                    Err(Error::Corrupt { .. } | Error::InvalidInput { .. })
                ),
                "{name}: {:.300}",
                format!("{edit:?}")
            );
            assert_eq!(w.store.local_heads(*id).unwrap(), before, "{name}");
        }

        assert_good_records_work(&w);
        eprintln!("{name}: {:?}", started.elapsed());
    }

    // All of them at once: the projections rebuild, naming no good record.
    let report = w.store.rebuild_projections().unwrap();
    assert_eq!(report.rebuilt, cases.len() + 3, "{report:?}");
    assert!(report.corrupt.is_empty(), "{report:?}");
    assert_good_records_work(&w);
    let ids = w.store.ids().unwrap();
    for (name, id, _) in &cases {
        assert!(ids.contains(id), "{name}");
    }
}

#[test]
fn a_hostile_merge_into_a_good_record_makes_only_that_record_corrupt() {
    let w = world();
    // The server relays a stock client's changes to Ben's record: `family_name` becomes a list
    // and `team_id` a number, in a change without attribution.
    let mut peer = AutoCommit::load(&w.store.save_document(w.ben).unwrap().unwrap()).unwrap();
    let list = peer.put_object(ROOT, "family_name", ObjType::List).unwrap();
    peer.insert(&list, 0, "Hughes").unwrap();
    peer.put(ROOT, "team_id", 42).unwrap();
    peer.commit();
    w.store
        .apply_remote(
            w.ben,
            |d| {
                d.merge(&mut peer)?;
                Ok(())
            },
            None,
        )
        .unwrap();

    assert_corrupt_for("merged", w.ben, w.records.view(w.ben));
    assert_corrupt_for("merged", w.ben, w.records.typed::<Child>(w.ben));
    assert_corrupt_for("merged", w.ben, w.records.validate(w.ben, false));
    // Still listed, as the record it is.
    assert!(w.store.record_summary(w.ben).unwrap().is_some());
    // The others are untouched.
    for id in [w.amara, w.amara_assessment] {
        w.records.view(id).unwrap();
        w.records.validate(id, true).unwrap();
    }
    let found = w.store.search_children("Okafor").unwrap();
    assert_eq!(found.len(), 1);
    assert!(w
        .store
        .caseload()
        .unwrap()
        .iter()
        .any(|e| e.child_id == w.amara));
}

#[test]
fn a_hostile_assessment_does_not_stop_its_child_from_opening() {
    let w = world();
    // An assessment of Amara's whose sections are a list and whose visit date is a number.
    let id = RecordId::new();
    let bytes = stock_client_document(id, "homevisit/assessment", w.team, Some(w.amara), |d| {
        let sections = d.put_object(ROOT, "sections", ObjType::List).unwrap();
        let a = d.insert_object(&sections, 0, ObjType::Map).unwrap();
        d.put(&a, "visit_date", 20_260_315).unwrap();
    });
    w.store.insert_remote_document(id, &bytes).unwrap();
    // The generic view opens it; the typed record and validation are Corrupt naming it.
    assert_opens_or_corrupt("assessment", id, w.records.view(id));
    assert_corrupt_for("assessment", id, w.records.typed::<Assessment>(id));
    assert_corrupt_for("assessment", id, w.records.validate(id, true));
    let of_amara = w.store.records_of_child(w.amara).unwrap();
    assert!(of_amara.iter().any(|r| r.id == id), "listed with its child");
    assert!(of_amara.iter().any(|r| r.id == w.amara_assessment));
    assert_good_records_work(&w);
}

#[test]
fn a_document_that_names_another_record_is_refused_and_nothing_is_stored() {
    let w = world();
    let inside = RecordId::new();
    let bytes = stock_client_document(inside, "homevisit/child", w.team, None, |_| {});
    let claimed = RecordId::new();
    let r = w.store.insert_remote_document(claimed, &bytes);
    assert!(matches!(r, Err(Error::InvalidId(_))), "{r:?}");
    assert!(!w.store.contains(claimed).unwrap());
    // Bytes that are not a document at all: Corrupt naming the record, nothing stored.
    let r = w
        .store
        .insert_remote_document(claimed, b"\x85\x6f\x4a\x83garbage");
    assert_corrupt_for("garbage", claimed, r);
    assert!(!w.store.contains(claimed).unwrap());
    assert_good_records_work(&w);
    assert_eq!(w.store.document_count().unwrap(), 3);
}
