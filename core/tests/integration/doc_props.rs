//! Property tests of the record-document layer: convergence of concurrent setter sequences on
//! every schema, and `SAF-SILENT-CONFLICT` / `CF-CLINICAL`: concurrent different writes to a
//! clinical field always surface as the same conflict on both replicas.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use automerge::AutoCommit;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use homevisit_core::{
    doc::{self, clinical, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    RecordId,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};
use uuid::Uuid;

const SCHEMAS: [Schema; 5] = [
    Schema::Child,
    Schema::Referral,
    Schema::Assessment,
    Schema::RiskAssessment,
    Schema::EquipmentRequest,
];

/// Realistic paths of each schema for the random edits.
struct Spec {
    scalars: &'static [&'static str],
    texts: &'static [&'static str],
    set: Option<&'static str>,
    list: &'static str,
    item_field: &'static str,
}

fn spec(schema: Schema) -> Spec {
    match schema {
        Schema::Child => Spec {
            scalars: &["given_name", "gp_area", "address.postcode", "date_of_birth"],
            texts: &[],
            set: None,
            list: "weights",
            item_field: "measured_on",
        },
        Schema::Referral => Spec {
            scalars: &["service", "route", "referrer.role", "received_on"],
            texts: &["closure_reason"],
            set: Some("reasons"),
            list: "acks",
            item_field: "reason",
        },
        Schema::Assessment => Spec {
            scalars: &[
                "sections.A.visit_date",
                "sections.A.location",
                "sections.D.entrance_steps.riser_max_mm",
                "sections.F.carers_required",
            ],
            texts: &["sections.B.presenting_concerns", "sections.B.child_views"],
            set: Some("sections.A.identity_checked"),
            list: "sections.I.recommendations",
            item_field: "kind",
        },
        Schema::RiskAssessment => Spec {
            scalars: &[
                "assessment_date",
                "child_weight_kg",
                "carers_available",
                "location",
            ],
            texts: &["avoidance_considered.text"],
            set: None,
            list: "tasks",
            item_field: "method",
        },
        Schema::EquipmentRequest => Spec {
            scalars: &[
                "category",
                "estimated_cost_pence",
                "priority",
                "measurements.weight_kg.value",
            ],
            texts: &["clinical_justification"],
            set: Some("adaptation_work"),
            list: "items",
            item_field: "size",
        },
    }
}

fn actor(role: Role) -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: Some("OT1".into()),
        hcpc_verified_until: NaiveDate::from_ymd_opt(2030, 1, 1),
    }
}

fn t0() -> DateTime<Utc> {
    "2026-03-15T09:00:00Z".parse().unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    SetInt(usize, i64),
    SetStr(usize, String),
    Text(usize, String),
    AddCode(usize),
    RemoveCode(usize),
    AddItem(String),
    RemoveItem(usize),
    SetItem(usize, String),
}

fn op() -> impl Strategy<Value = Op> {
    let word = "[a-z ]{0,12}";
    prop_oneof![
        (0..4usize, -5..500i64).prop_map(|(i, v)| Op::SetInt(i, v)),
        (0..4usize, word).prop_map(|(i, v)| Op::SetStr(i, v)),
        (0..2usize, word).prop_map(|(i, v)| Op::Text(i, v)),
        (0..4usize).prop_map(Op::AddCode),
        (0..4usize).prop_map(Op::RemoveCode),
        word.prop_map(Op::AddItem),
        (0..3usize).prop_map(Op::RemoveItem),
        (0..3usize, word).prop_map(|(i, v)| Op::SetItem(i, v)),
    ]
}

const CODES: [&str; 4] = ["name", "dob", "nhs_number", "address"];

fn apply(d: &mut AutoCommit, s: &Spec, items: &[Uuid], ops: &[Op], who: &Actor, step: &mut i64) {
    for o in ops {
        *step += 1;
        let at = t0() + Duration::seconds(*step);
        let r = match o {
            Op::SetInt(i, v) => {
                doc::set_scalar(d, s.scalars[i % s.scalars.len()], Scalar::Int(*v), who, at)
            }
            Op::SetStr(i, v) => doc::set_scalar(
                d,
                s.scalars[i % s.scalars.len()],
                Scalar::Str(v.clone()),
                who,
                at,
            ),
            Op::Text(i, v) => match s.texts {
                [] => Ok(()),
                texts => doc::set_text(d, texts[i % texts.len()], v, who, at),
            },
            Op::AddCode(i) => s
                .set
                .map_or(Ok(()), |p| doc::add_code(d, p, CODES[*i], who, at)),
            Op::RemoveCode(i) => s
                .set
                .map_or(Ok(()), |p| doc::remove_code(d, p, CODES[*i], who, at)),
            Op::AddItem(v) => {
                let mut m = Map::new();
                m.insert(s.item_field.into(), json!(v));
                doc::add_item(d, s.list, m, who, at).map(|_| ())
            }
            Op::RemoveItem(i) => doc::remove_item(d, &format!("{}.{}", s.list, items[*i]), who, at),
            Op::SetItem(i, v) => doc::set_scalar(
                d,
                &format!("{}.{}.{}", s.list, items[*i], s.item_field),
                Scalar::Str(v.clone()),
                who,
                at,
            ),
        };
        // A replica may legitimately refuse an edit (an int where a map was created); it must
        // do so with a typed error and leave the document consistent.
        if let Err(e) = r {
            assert!(
                matches!(e, homevisit_core::Error::InvalidInput { .. }),
                "{e:?}"
            );
        }
    }
}

fn base(schema: Schema, who: &Actor) -> (AutoCommit, Vec<Uuid>) {
    let child = (schema != Schema::Child).then(RecordId::new);
    let mut d = doc::create(schema, RecordId::new(), who.team_id, child, who, t0()).unwrap();
    let s = spec(schema);
    let items = (0..3)
        .map(|i| {
            let mut m = Map::new();
            m.insert(s.item_field.into(), json!(format!("v{i}")));
            doc::add_item(&mut d, s.list, m, who, t0()).unwrap()
        })
        .collect();
    (d, items)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Two replicas of any record schema, edited independently through the setters, merged
    /// both ways, hold identical JSON and heads.
    #[test]
    fn concurrent_setter_sequences_converge_on_every_schema(
        schema_i in 0..5usize,
        ops_a in proptest::collection::vec(op(), 0..12),
        ops_b in proptest::collection::vec(op(), 0..12),
    ) {
        let schema = SCHEMAS[schema_i];
        let (ot, ap) = (actor(Role::Ot), actor(Role::Ap));
        let (mut a, items) = base(schema, &ot);
        let mut b = a.fork();
        let s = spec(schema);
        let mut step = 0;
        apply(&mut a, &s, &items, &ops_a, &ot, &mut step);
        apply(&mut b, &s, &items, &ops_b, &ap, &mut step);
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        prop_assert_eq!(a.get_heads(), b.get_heads());
        prop_assert_eq!(doc::to_json(&a).unwrap(), doc::to_json(&b).unwrap());
        prop_assert_eq!(doc::conflicts(&mut a).unwrap(), doc::conflicts(&mut b).unwrap());
        // Every change is attributed (RK-ATTRIB).
        prop_assert!(doc::history(&mut a).unwrap().iter().all(|e| e.attribution.meta().is_some()));
    }

    /// SAF-SILENT-CONFLICT, CF-CLINICAL: concurrent different writes to any clinical field of
    /// any schema are a conflict on both replicas, with both values — never a silent winner.
    #[test]
    fn saf_silent_conflict_concurrent_clinical_writes_always_conflict_on_both_replicas(
        schema_i in 0..5usize,
        pattern_i in 0..64usize,
        v1 in -1000..1000i64,
        delta in 1..1000i64,
    ) {
        let schema = SCHEMAS[schema_i];
        let patterns = clinical::clinical_patterns(schema);
        let pattern = patterns[pattern_i % patterns.len()];
        let (ot, ap) = (actor(Role::Ot), actor(Role::Ap));
        let child = (schema != Schema::Child).then(RecordId::new);
        let mut a = doc::create(schema, RecordId::new(), ot.team_id, child, &ot, t0()).unwrap();
        // Wildcards: an existing item of the list, or a fixed key (area, TILEO item, measurement).
        let path = match pattern.split_once(".*.") {
            Some((list, field)) => {
                let key = if list.ends_with("areas") || list == "tileo" || list == "measurements" {
                    "k1".to_owned()
                } else {
                    doc::add_item(&mut a, list, Map::new(), &ot, t0()).unwrap().to_string()
                };
                format!("{list}.{key}.{field}")
            }
            None => pattern.to_owned(),
        };
        let mut b = a.fork();
        let at = t0() + Duration::minutes(5);
        doc::set_scalar(&mut a, &path, Scalar::Int(v1), &ot, at).unwrap();
        doc::set_scalar(&mut b, &path, Scalar::Int(v1 + delta), &ap, at).unwrap();
        a.merge(&mut b).unwrap();
        b.merge(&mut a).unwrap();
        let ca = doc::conflicts(&mut a).unwrap();
        prop_assert_eq!(&ca, &doc::conflicts(&mut b).unwrap());
        let c = ca
            .iter()
            .find(|c| path == c.path || path.starts_with(&format!("{}.", c.path)))
            .unwrap_or_else(|| panic!("no conflict covers {path}: {ca:?}"));
        prop_assert_eq!(c.values.len(), 2);
        let mut authors: Vec<Uuid> = c.values.iter().map(|v| v.user_id().unwrap()).collect();
        authors.sort();
        let mut expect = vec![ot.user_id, ap.user_id];
        expect.sort();
        prop_assert_eq!(authors, expect);
        let shown: Vec<Json> = c.values.iter().map(|v| v.value.clone()).collect();
        prop_assert!(shown.iter().any(|v| v == &json!(v1) || v.to_string().contains(&v1.to_string())));
        // Resolving on one replica clears it on both once merged. A field first written on
        // both devices conflicts at the map created twice; the choice is then the whole map.
        let chosen = if c.path == path { json!(v1) } else { c.values[0].value.clone() };
        let conflict_path = c.path.clone();
        doc::resolve(&mut a, &conflict_path, &chosen, &ot, at + Duration::minutes(1)).unwrap();
        b.merge(&mut a).unwrap();
        let covers = |c: &doc::Conflict| path == c.path || path.starts_with(&format!("{}.", c.path));
        let left = doc::conflicts(&mut b).unwrap();
        prop_assert!(!left.iter().any(covers), "still open: {:?}", left);
    }
}
