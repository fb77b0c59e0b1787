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
    let store = Arc::new(
        Store::create_new(dir.path().join("device.db"), StoreKey::Raw([9u8; 32])).unwrap(),
    );
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

/// A text object holding `s`, as stock automerge 3 clients write every string.
fn put_text(d: &mut AutoCommit, obj: &automerge::ObjId, key: &str, s: &str) {
    let t = d.put_object(obj, key, ObjType::Text).unwrap();
    d.splice_text(&t, 0, 0, s).unwrap();
}

#[test]
fn a_stock_client_record_whose_strings_are_text_objects_reads_like_scalar_strings() {
    let w = world();
    let id = RecordId::new();
    let mut d = AutoCommit::new();
    for (key, value) in [
        ("schema", "homevisit/child".to_owned()),
        ("id", id.to_string()),
        ("team_id", w.team.to_string()),
        ("created_at", "2026-03-15T09:00:00Z".to_owned()),
        ("created_by", Uuid::new_v4().to_string()),
        ("given_name", "Tekla".to_owned()),
        ("family_name", "Nowak".to_owned()),
        ("date_of_birth", "2018-01-01".to_owned()),
        ("nhs_number", "9434765919".to_owned()),
        ("gp_area", "luton".to_owned()),
    ] {
        put_text(&mut d, &automerge::ROOT, key, &value);
    }
    d.put(ROOT, "schema_version", 1).unwrap();
    let status = d.put_object(ROOT, "record_status", ObjType::Map).unwrap();
    put_text(&mut d, &status, "state", "active");
    d.commit();
    assert_eq!(homevisit_core::doc::record_id(&d).unwrap(), id);
    assert_eq!(
        homevisit_core::doc::record_schema(&d).unwrap(),
        homevisit_core::model::common::Schema::Child
    );
    w.store.insert_remote_document(id, &d.save()).unwrap();

    let child: Child = w.records.typed(id).unwrap();
    assert_eq!(child.given_name.as_deref(), Some("Tekla"));
    assert_eq!(child.nhs_number.as_deref(), Some("9434765919"));
    let listed = w.store.caseload().unwrap();
    let row = listed.iter().find(|c| c.child_id == id).expect("listed");
    assert_eq!(row.family_name.as_deref(), Some("Nowak"));
    let banner = w.records.banner(id).unwrap();
    assert_eq!(banner.name, "Tekla Nowak");
    assert_eq!(banner.nhs_number.as_deref(), Some("943 476 5919"));
    // An edit through the record service works on it like on any record.
    w.records
        .set_field(id, "preferred_name", FieldValue::Str("Tek".into()))
        .unwrap();
    assert_good_records_work(&w);
}

// ----- typed input: derived and system paths, FLD-TEXT-CHARS, FLD-TEXT-LENGTH -----

#[test]
fn eq_transition_direct_edits_of_derived_and_system_paths_are_refused() {
    use homevisit_core::{
        model::equipment::{Category, Status},
        rules::workflow::TransitionInput,
    };
    let w = world();
    let req = w
        .records
        .create_equipment_request(w.amara, Service::SocialCare, Category::BathingAids)
        .unwrap();
    let before = w.store.local_heads(req).unwrap();
    let someone = Uuid::new_v4().to_string();
    let refused = |r: Result<(), Error>, rule: &str, what: &str| match r {
        Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, rule, "{what}"),
        other => panic!("{what}: {other:?}"),
    };
    refused(
        w.records
            .set_field(req, "requested_by", FieldValue::Str(someone.clone())),
        "EQ-TRANSITION",
        "requested_by",
    );
    refused(
        w.records
            .set_field(req, "status", FieldValue::Str("approved".into())),
        "EQ-TRANSITION",
        "status",
    );
    let mut forged = serde_json::Map::new();
    forged.insert("to".into(), serde_json::json!("approved"));
    forged.insert("user_id".into(), serde_json::json!(someone));
    forged.insert("role".into(), serde_json::json!("approver"));
    refused(
        w.records
            .add_item(req, "transitions", forged.clone())
            .map(drop),
        "EQ-TRANSITION",
        "transitions",
    );
    refused(
        w.records
            .set_field(req, "flags.x.rule_id", FieldValue::Str("EQ-ROLE".into())),
        "CF-RULE-BREACH",
        "flags",
    );
    refused(
        w.records.add_item(req, "acks", forged).map(drop),
        "FLD-ACK",
        "acks",
    );
    refused(
        w.records.set_field(
            w.amara_assessment,
            "signature.user_id",
            FieldValue::Str(someone),
        ),
        "RK-SIGN",
        "signature",
    );
    assert_eq!(
        w.store.local_heads(req).unwrap(),
        before,
        "nothing was written"
    );
    // The workflow call still writes its transition, and weights still land on the child.
    let status = w
        .records
        .transition(
            req,
            Status::Cancelled,
            TransitionInput {
                reason: Some("duplicate request".into()),
                ..TransitionInput::at("2026-03-15T10:00:00Z".parse().unwrap())
            },
        )
        .unwrap();
    assert_eq!(status, Status::Cancelled);
    w.records
        .record_weight(
            w.amara,
            "32.4",
            NaiveDate::from_ymd_opt(2026, 3, 15).unwrap(),
        )
        .unwrap();
}

#[test]
fn fld_text_chars_and_fld_text_length_typed_input_is_refused_and_nothing_is_saved() {
    let w = world();
    let before = w.store.local_heads(w.amara).unwrap();
    for (path, value, rule) in [
        ("given_name", "\u{202e}aramA".to_owned(), "FLD-TEXT-CHARS"),
        ("preferred_name", "Am\u{0}ara".to_owned(), "FLD-TEXT-CHARS"),
        ("family_name", "Okafor\u{2066}".to_owned(), "FLD-TEXT-CHARS"),
        ("family_name", "x".repeat(101), "FLD-TEXT-LENGTH"),
    ] {
        match w.records.set_field(w.amara, path, FieldValue::Str(value)) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, rule, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    match w.records.set_text(
        w.amara_assessment,
        "sections.B.presenting_concerns",
        &"a".repeat(10_001),
    ) {
        Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-TEXT-LENGTH"),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.store.local_heads(w.amara).unwrap(), before);
    // Ordinary names, and notes with line breaks, are fine.
    w.records
        .set_field(w.amara, "preferred_name", FieldValue::Str("Zoë-Ann".into()))
        .unwrap();
    w.records
        .set_text(
            w.amara_assessment,
            "sections.B.presenting_concerns",
            "Line one.\nLine two.",
        )
        .unwrap();
}

#[test]
fn fld_text_chars_an_incoming_name_with_a_bidi_override_is_kept_flagged_and_shown_neutralised() {
    let w = world();
    let id = RecordId::new();
    let bytes = stock_client_document(id, "homevisit/child", w.team, None, |d| {
        // U+202E would show "arama" reversed, as if it were another child's name.
        d.put(ROOT, "given_name", "\u{202e}aramA").unwrap();
        d.put(ROOT, "family_name", "N".repeat(150)).unwrap();
    });
    w.store.insert_remote_document(id, &bytes).unwrap();
    let report = w.records.validate(id, false).unwrap();
    let at = |rule: &str, path: &str| {
        report
            .issues
            .iter()
            .any(|i| i.rule_id == rule && i.path == path && i.is_error())
    };
    assert!(at("FLD-TEXT-CHARS", "given_name"), "{:#?}", report.issues);
    assert!(at("FLD-TEXT-LENGTH", "family_name"), "{:#?}", report.issues);
    let child: Child = w.records.typed(id).unwrap();
    assert_eq!(
        child.given_name.as_deref(),
        Some("\u{202e}aramA"),
        "kept as it came"
    );
    let banner = w.records.banner(id).unwrap();
    assert!(banner.name.starts_with("aramA "), "{}", banner.name);
    assert!(banner.name.ends_with('…'), "{}", banner.name);
    let row = w
        .store
        .caseload()
        .unwrap()
        .into_iter()
        .find(|c| c.child_id == id)
        .unwrap();
    assert_eq!(row.given_name.as_deref(), Some("aramA"));
}
