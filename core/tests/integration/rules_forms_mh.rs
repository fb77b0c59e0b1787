//! Moving-and-handling rules (DOMAIN.md §3.5), vectors #20–#27, CF-WORST and CF-BLOCK.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::rules_forms_support as support;

use homevisit_core::{
    model::{
        common::{Item, YesNo},
        risk::{EquipmentKind, Method, RiskAssessment, RiskRating, TileoItem, WeightReading},
    },
    rules::{
        fields::{worst_case, OpenConflict, Stage},
        issue::{Issue, Severity},
        mh::{self, band, later_weight_breach, overall_band, score, Band, MhContext},
    },
    Error,
};
use serde_json::json;
use support::*;

fn final_ctx() -> MhContext<'static> {
    MhContext {
        stage: Stage::Final,
        ..MhContext::default()
    }
}

fn check(ra: &RiskAssessment) -> Vec<Issue> {
    mh::validate(ra, &final_ctx())
}

fn rating(l: i64, s: i64) -> Option<RiskRating> {
    Some(RiskRating {
        likelihood: Some(l),
        severity: Some(s),
    })
}

#[test]
fn complete_risk_assessment_has_no_issues() {
    let issues = check(&complete_ra());
    assert!(issues.is_empty(), "{issues:#?}");
}

// ----- MH-SCORE (#20) and the band table -----

#[test]
fn mh_score_vector_20_bands() {
    for (l, s, expected_score, expected_band) in [
        (4, 3, 12, Band::High),
        (3, 2, 6, Band::Moderate),
        (5, 3, 15, Band::Extreme),
        (1, 3, 3, Band::Low),
    ] {
        let sc = score(l, s).unwrap();
        assert_eq!(sc, expected_score);
        assert_eq!(band(sc), Some(expected_band), "L{l}×S{s}");
    }
}

#[test]
fn mh_score_band_table_covers_exactly_the_14_products() {
    let table = [
        (1, Band::Low),
        (2, Band::Low),
        (3, Band::Low),
        (4, Band::Moderate),
        (5, Band::Moderate),
        (6, Band::Moderate),
        (8, Band::High),
        (9, Band::High),
        (10, Band::High),
        (12, Band::High),
        (15, Band::Extreme),
        (16, Band::Extreme),
        (20, Band::Extreme),
        (25, Band::Extreme),
    ];
    for (sc, b) in table {
        assert_eq!(band(sc), Some(b), "score {sc}");
    }
    let mut products: Vec<i64> = (1..=5).flat_map(|l| (1..=5).map(move |s| l * s)).collect();
    products.sort_unstable();
    products.dedup();
    assert_eq!(products, table.iter().map(|(s, _)| *s).collect::<Vec<_>>());
    for impossible in [7, 11, 13, 14, 17, 18, 19, 21, 22, 23, 24] {
        assert!(!products.contains(&impossible));
        assert_eq!(band(impossible), None, "{impossible} cannot be a score");
    }
    assert_eq!(band(0), None);
    assert_eq!(band(26), None);
}

#[test]
fn mh_score_rejects_likelihood_or_severity_outside_1_to_5() {
    for (l, s) in [(0, 3), (6, 1), (3, -1), (1, 6)] {
        match score(l, s) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "MH-SCORE"),
            other => panic!("{l}×{s}: {other:?}"),
        }
    }
    let mut ra = complete_ra();
    task_mut(&mut ra).initial = rating(6, 3);
    let issues = check(&ra);
    let e = with_rule(&issues, "MH-SCORE");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert!(e[0].is_error());
    assert!(e[0].path.ends_with(".initial.likelihood"));
}

#[test]
fn mh_score_overall_band_is_band_of_highest_residual() {
    let mut ra = complete_ra();
    assert_eq!(overall_band(&ra), Some(Band::Moderate)); // residual 2×2
    let mut second = ra.tasks[0].clone();
    second.item_id = uuid::Uuid::new_v4();
    second.data.initial = rating(4, 3);
    second.data.residual = rating(3, 3);
    ra.tasks.push(second);
    assert_eq!(overall_band(&ra), Some(Band::High));
}

// ----- residual and controls -----

#[test]
fn mh_residual_above_initial_is_an_error_vector_21() {
    let mut ra = complete_ra();
    task_mut(&mut ra).initial = rating(3, 2);
    task_mut(&mut ra).residual = rating(4, 2);
    let issues = check(&ra);
    let e = with_rule(&issues, "MH-RESIDUAL");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert_eq!(e[0].severity, Severity::Error);
    assert_eq!(e[0].path, format!("tasks.{}.residual", ra.tasks[0].item_id));
    assert!(
        e[0].message.contains("(8)") && e[0].message.contains("(6)"),
        "{}",
        e[0].message
    );
}

#[test]
fn mh_residual_equal_to_initial_is_allowed() {
    let mut ra = complete_ra();
    task_mut(&mut ra).residual = rating(3, 3);
    assert!(with_rule(&check(&ra), "MH-RESIDUAL").is_empty());
}

#[test]
fn mh_controls_initial_4_or_more_without_control_is_an_error() {
    let mut ra = complete_ra();
    let t = task_mut(&mut ra);
    t.initial = rating(2, 2);
    t.residual = rating(1, 2);
    t.controls.clear();
    assert_eq!(with_rule(&check(&ra), "MH-CONTROLS").len(), 1);
    task_mut(&mut ra).initial = rating(1, 3);
    task_mut(&mut ra).residual = rating(1, 3);
    assert!(with_rule(&check(&ra), "MH-CONTROLS").is_empty());
}

#[test]
fn mh_controls_a_removed_control_does_not_count() {
    let mut ra = complete_ra();
    let c = &mut task_mut(&mut ra).controls[0];
    c.removed_at = Some(at("2026-03-15T11:00:00Z"));
    c.removed_by = Some(uuid::Uuid::new_v4());
    assert_eq!(with_rule(&check(&ra), "MH-CONTROLS").len(), 1);
}

#[test]
fn mh_residual_high_is_a_warning() {
    let mut ra = complete_ra();
    task_mut(&mut ra).initial = rating(4, 3);
    task_mut(&mut ra).residual = rating(4, 3);
    let issues = check(&ra);
    let w = with_rule(&issues, "MH-RESIDUAL-HIGH");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warn);
}

#[test]
fn mh_residual_extreme_needs_the_task_stopped() {
    let mut ra = complete_ra();
    task_mut(&mut ra).initial = rating(5, 4);
    task_mut(&mut ra).residual = rating(5, 3);
    let issues = check(&ra);
    assert_eq!(with_rule(&issues, "MH-RESIDUAL-EXTREME").len(), 1);
    assert!(with_rule(&issues, "MH-RESIDUAL-EXTREME")[0].is_error());
    ra.task_stopped_pending_review = Some(true);
    assert!(with_rule(&check(&ra), "MH-RESIDUAL-EXTREME").is_empty());
}

// ----- TILEO, avoidance -----

#[test]
fn mh_tileo_unanswered_item_or_hazard_without_notes_is_an_error() {
    let mut ra = complete_ra();
    ra.tileo.remove(&TileoItem::L3);
    ra.tileo.get_mut(&TileoItem::E1).unwrap().hazard_present = Some(YesNo::Yes);
    let issues = check(&ra);
    let paths: Vec<&str> = with_rule(&issues, "MH-TILEO")
        .iter()
        .map(|i| i.path.as_str())
        .collect();
    assert_eq!(paths, ["tileo.L3.hazard_present", "tileo.E1.notes"]);
    ra.tileo.get_mut(&TileoItem::E1).unwrap().notes = Some("Small bathroom".into());
    assert_eq!(with_rule(&check(&ra), "MH-TILEO").len(), 1);
}

#[test]
fn mh_tileo_unanswered_items_are_not_flagged_on_a_draft() {
    let mut ra = complete_ra();
    ra.tileo.clear();
    assert!(with_rule(&mh::validate(&ra, &MhContext::default()), "MH-TILEO").is_empty());
    assert_eq!(with_rule(&check(&ra), "MH-TILEO").len(), 20);
}

#[test]
fn mh_avoid_missing_decision_is_an_error() {
    let mut ra = complete_ra();
    ra.avoidance_considered = None;
    let issues = check(&ra);
    assert_eq!(ids(&issues), ["MH-AVOID"]);
}

// ----- hoist references and SWL -----

#[test]
fn mh_hoist_ref_hoist_method_needs_hoist_sling_and_bar() {
    let mut ra = complete_ra();
    task_mut(&mut ra).sling_id = None;
    let issues = check(&ra);
    assert_eq!(with_rule(&issues, "MH-HOIST-REF").len(), 1, "{issues:#?}");

    let mut ra = complete_ra();
    task_mut(&mut ra).spreader_bar_id = None;
    assert_eq!(with_rule(&check(&ra), "MH-HOIST-REF").len(), 1);
    // An integral bar needs no separate one.
    let hoist = task_mut(&mut ra).hoist_id.unwrap();
    ra.lifting_equipment
        .iter_mut()
        .find(|e| e.item_id == hoist)
        .unwrap()
        .data
        .integral_spreader_bar = Some(true);
    assert!(with_rule(&check(&ra), "MH-HOIST-REF").is_empty());
}

#[test]
fn mh_hoist_ref_reference_to_missing_or_wrong_kind_equipment_is_an_error() {
    let mut ra = complete_ra();
    let bar = task_mut(&mut ra).spreader_bar_id;
    task_mut(&mut ra).sling_id = bar; // a spreader bar used as a sling
    task_mut(&mut ra).hoist_id = Some(uuid::Uuid::new_v4()); // not in the list
    let issues = check(&ra);
    let refs = with_rule(&issues, "MH-HOIST-REF");
    assert_eq!(refs.len(), 2, "{issues:#?}");
    assert!(refs.iter().any(|i| i.path.ends_with(".hoist_id")));
    assert!(refs.iter().any(|i| i.path.ends_with(".sling_id")));
}

#[test]
fn mh_hoist_ref_not_needed_for_a_two_carer_transfer() {
    let mut ra = complete_ra();
    let t = task_mut(&mut ra);
    t.method = Some(Method::TwoCarers);
    t.hoist_id = None;
    t.spreader_bar_id = None;
    t.sling_id = None;
    assert!(with_rule(&check(&ra), "MH-HOIST-REF").is_empty());
}

#[test]
fn mh_swl_missing_on_referenced_equipment_is_an_error() {
    let mut ra = complete_ra();
    let sling = task_mut(&mut ra).sling_id.unwrap();
    ra.lifting_equipment
        .iter_mut()
        .find(|e| e.item_id == sling)
        .unwrap()
        .data
        .swl_kg = None;
    let issues = check(&ra);
    let e = with_rule(&issues, "MH-SWL-MISSING");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, format!("lifting_equipment.{sling}.swl_kg"));
}

#[test]
fn mh_swl_weight_above_lowest_swl_is_an_error_vector_22() {
    let mut ra = complete_ra_with_swl(1500, 1500, 500);
    ra.child_weight_kg = Some(523);
    let issues = check(&ra);
    let e = with_rule(&issues, "MH-SWL");
    assert_eq!(e.len(), 1, "{issues:#?}");
    assert!(e[0].is_error());
    assert_eq!(
        e[0].message,
        "[MH-SWL] The child's weight (52.3 kg) is above the lowest safe working load in use \
         (50.0 kg, sling)."
    );
    assert!(with_rule(&issues, "MH-SWL-MARGIN").is_empty());
}

#[test]
fn mh_swl_margin_vector_23() {
    // weight → expected (rule) on hoist 182.0, bar 182.0, sling 50.0
    for (weight, expected) in [
        (450, Some("MH-SWL-MARGIN")),
        (449, None),
        (500, Some("MH-SWL-MARGIN")),
        (501, Some("MH-SWL")),
        (324, None),
    ] {
        let mut ra = complete_ra_with_swl(1820, 1820, 500);
        ra.child_weight_kg = Some(weight);
        let issues = check(&ra);
        let swl: Vec<&str> = ids(&issues)
            .into_iter()
            .filter(|r| r.starts_with("MH-SWL"))
            .collect();
        assert_eq!(
            swl,
            expected.into_iter().collect::<Vec<_>>(),
            "weight {weight}: {issues:#?}"
        );
        if let Some(rule) = expected {
            let sev = if rule == "MH-SWL" {
                Severity::Error
            } else {
                Severity::Warn
            };
            assert_eq!(with_rule(&issues, rule)[0].severity, sev);
        }
    }
}

#[test]
fn mh_swl_equal_weight_is_allowed_but_warned() {
    let mut ra = complete_ra_with_swl(1820, 1820, 500);
    ra.child_weight_kg = Some(500);
    let issues = check(&ra);
    assert!(with_rule(&issues, "MH-SWL").is_empty());
    assert_eq!(with_rule(&issues, "MH-SWL-MARGIN").len(), 1);
}

// ----- weight dates -----

#[test]
fn mh_weight_date_after_assessment_is_an_error() {
    let mut ra = complete_ra();
    ra.child_weight_measured_on = Some(d("2026-03-16"));
    assert_eq!(ids(&check(&ra)), ["MH-WEIGHT-DATE"]);
}

#[test]
fn mh_weight_stale_vector_24_saf_stale_weight() {
    let mut ra = complete_ra();
    ra.child_weight_measured_on = Some(d("2025-12-15")); // 90 days
    assert!(with_rule(&check(&ra), "MH-WEIGHT-STALE").is_empty());
    ra.child_weight_measured_on = Some(d("2025-12-14")); // 91 days
    let issues = check(&ra);
    let w = with_rule(&issues, "MH-WEIGHT-STALE");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warn);
    assert!(w[0].message.contains("91 days"), "{}", w[0].message);
}

#[test]
fn mh_weight_newer_warns_and_runs_swl_rules_on_the_later_weight_saf_stale_weight() {
    let ra = complete_ra(); // 32.4 kg, sling 50.0
    let later = [
        WeightReading {
            value_kg: 300,
            measured_on: d("2026-01-01"),
        }, // older: ignored
        WeightReading {
            value_kg: 510,
            measured_on: d("2026-04-01"),
        },
    ];
    let ctx = MhContext {
        stage: Stage::Final,
        sign_date: None,
        child_weights: &later,
        ..MhContext::default()
    };
    let issues = mh::validate(&ra, &ctx);
    let newer = with_rule(&issues, "MH-WEIGHT-NEWER");
    assert_eq!(newer.len(), 1, "{issues:#?}");
    assert_eq!(newer[0].severity, Severity::Warn);
    let swl = with_rule(&issues, "MH-SWL");
    assert_eq!(swl.len(), 1);
    assert!(swl[0].message.contains("51.0 kg"), "{}", swl[0].message);
    assert!(later_weight_breach(&ra, &later));
    assert!(!later_weight_breach(&ra, &later[..1]));
}

#[test]
fn mh_weight_newer_ignores_a_later_identical_weight() {
    let ra = complete_ra();
    let later = [WeightReading {
        value_kg: 324,
        measured_on: d("2026-04-01"),
    }];
    let ctx = MhContext {
        stage: Stage::Final,
        sign_date: None,
        child_weights: &later,
        ..MhContext::default()
    };
    assert!(with_rule(&mh::validate(&ra, &ctx), "MH-WEIGHT-NEWER").is_empty());
}

// ----- LOLER -----

fn set_exam(
    ra: &mut RiskAssessment,
    kind: EquipmentKind,
    last: Option<&str>,
    next: Option<&str>,
) -> String {
    let e: &mut Item<_> = ra
        .lifting_equipment
        .iter_mut()
        .find(|e| e.data.kind == Some(kind))
        .unwrap();
    e.data.last_exam_on = last.map(d);
    e.data.next_exam_due_on = next.map(d);
    format!("lifting_equipment.{}.next_exam_due_on", e.item_id)
}

#[test]
fn mh_loler_due_vector_25() {
    let mut ra = complete_ra();
    let path = set_exam(
        &mut ra,
        EquipmentKind::Sling,
        Some("2025-09-14"),
        Some("2026-03-14"),
    );
    let issues = check(&ra);
    let due = with_rule(&issues, "MH-LOLER-DUE");
    assert_eq!(due.len(), 1);
    assert!(due[0].is_error());
    assert_eq!(due[0].path, path);

    set_exam(
        &mut ra,
        EquipmentKind::Sling,
        Some("2025-09-15"),
        Some("2026-03-15"),
    );
    let issues = check(&ra);
    assert!(with_rule(&issues, "MH-LOLER-DUE").is_empty());
    let soon = with_rule(&issues, "MH-LOLER-SOON");
    assert_eq!(soon.len(), 1);
    assert_eq!(soon[0].severity, Severity::Warn);
}

#[test]
fn mh_loler_due_missing_next_date_is_an_error() {
    let mut ra = complete_ra();
    set_exam(
        &mut ra,
        EquipmentKind::HoistMobile,
        Some("2026-01-10"),
        None,
    );
    assert_eq!(with_rule(&check(&ra), "MH-LOLER-DUE").len(), 1);
}

#[test]
fn mh_loler_soon_boundary_is_30_days() {
    let mut ra = complete_ra();
    set_exam(
        &mut ra,
        EquipmentKind::Sling,
        Some("2026-01-10"),
        Some("2026-04-14"),
    ); // 30 days
    assert_eq!(with_rule(&check(&ra), "MH-LOLER-SOON").len(), 1);
    set_exam(
        &mut ra,
        EquipmentKind::Sling,
        Some("2026-01-10"),
        Some("2026-04-15"),
    ); // 31 days
    assert!(with_rule(&check(&ra), "MH-LOLER-SOON").is_empty());
}

#[test]
fn mh_loler_interval_vector_26_uses_month_end_clamping() {
    let mut ra = complete_ra();
    set_exam(
        &mut ra,
        EquipmentKind::HoistMobile,
        Some("2025-08-31"),
        Some("2026-03-31"),
    );
    let issues = check(&ra);
    let w = with_rule(&issues, "MH-LOLER-INTERVAL");
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].severity, Severity::Warn);
    assert!(
        w[0].message.contains("limit 2026-02-28"),
        "{}",
        w[0].message
    );
    set_exam(
        &mut ra,
        EquipmentKind::HoistMobile,
        Some("2025-08-31"),
        Some("2026-02-28"),
    );
    assert!(with_rule(&check(&ra), "MH-LOLER-INTERVAL").is_empty());
}

// ----- review -----

#[test]
fn mh_review_missing_or_not_after_is_an_error_over_12_months_a_warning() {
    let mut ra = complete_ra();
    ra.review_due_on = None;
    assert_eq!(ids(&check(&ra)), ["MH-REVIEW"]);
    ra.review_due_on = Some(d("2026-03-15"));
    assert!(with_rule(&check(&ra), "MH-REVIEW")[0].is_error());
    ra.review_due_on = Some(d("2027-03-15"));
    assert!(with_rule(&check(&ra), "MH-REVIEW").is_empty());
    ra.review_due_on = Some(d("2027-03-16"));
    assert_eq!(
        with_rule(&check(&ra), "MH-REVIEW")[0].severity,
        Severity::Warn
    );
}

// ----- field ranges -----

#[test]
fn fld_hard_and_fld_soft_on_child_weight() {
    let mut ra = complete_ra_with_swl(3000, 3000, 3000);
    ra.child_weight_kg = Some(2);
    assert_eq!(
        with_rule(&check(&ra), "FLD-HARD")[0].path,
        "child_weight_kg"
    );
    ra.child_weight_kg = Some(1250);
    assert_eq!(
        with_rule(&check(&ra), "FLD-SOFT")[0].path,
        "child_weight_kg"
    );
}

#[test]
fn fld_required_only_at_sign() {
    let mut ra = complete_ra();
    ra.location = None;
    assert!(mh::validate(&ra, &MhContext::default()).is_empty());
    let issues = check(&ra);
    assert_eq!(ids(&issues), ["FLD-REQUIRED"]);
    assert_eq!(issues[0].path, "location");
}

// ----- CF-WORST / CF-BLOCK (#27) -----

#[test]
fn cf_worst_vector_27_weight_in_conflict_reports_margin_warning_and_cf_block() {
    let mut ra = complete_ra_with_swl(1820, 1820, 500);
    ra.child_weight_kg = Some(310); // automerge's deterministic winner
    let conflicts = [OpenConflict {
        path: "child_weight_kg".into(),
        candidates: vec![json!(310), json!(460)],
    }];
    let issues = worst_case(&ra, &conflicts, |r| mh::validate(r, &final_ctx())).unwrap();
    let margin = with_rule(&issues, "MH-SWL-MARGIN");
    assert_eq!(margin.len(), 1, "{issues:#?}");
    assert!(margin[0].message.contains("46.0 kg"));
    let block = with_rule(&issues, "CF-BLOCK");
    assert_eq!(block.len(), 1);
    assert!(block[0].is_error());
    assert_eq!(block[0].path, "child_weight_kg");
    // Without the conflict, 31.0 kg alone is fine.
    assert!(check(&ra).is_empty());
}

#[test]
fn cf_worst_keeps_the_highest_severity_per_rule_and_path() {
    let mut ra = complete_ra_with_swl(1820, 1820, 500);
    ra.child_weight_kg = Some(460);
    let conflicts = [OpenConflict {
        path: "child_weight_kg".into(),
        candidates: vec![json!(460), json!(1250), json!(2)],
    }];
    let issues = worst_case(&ra, &conflicts, |r| mh::validate(r, &final_ctx())).unwrap();
    // 2 (0.2 kg) is FLD-HARD, 125.0 kg is FLD-SOFT and above the SWL.
    assert!(with_rule(&issues, "FLD-HARD")[0].is_error());
    assert_eq!(with_rule(&issues, "MH-SWL").len(), 1);
    assert_eq!(with_rule(&issues, "MH-SWL")[0].severity, Severity::Error);
    // one issue per (rule, path)
    let mut keys: Vec<(String, String)> = issues
        .iter()
        .map(|i| (i.rule_id.clone(), i.path.clone()))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn cf_worst_runs_every_combination_of_two_conflicts() {
    // Weight and the sling's SWL both in conflict: only heavy weight with the weak sling
    // breaks MH-SWL.
    let ra = complete_ra_with_swl(1820, 1820, 1000);
    let sling = ra.tasks[0].data.sling_id.unwrap();
    let conflicts = [
        OpenConflict {
            path: "child_weight_kg".into(),
            candidates: vec![json!(324), json!(600)],
        },
        OpenConflict {
            path: format!("lifting_equipment.{sling}.swl_kg"),
            candidates: vec![json!(1000), json!(500)],
        },
    ];
    let issues = worst_case(&ra, &conflicts, |r| mh::validate(r, &final_ctx())).unwrap();
    assert_eq!(with_rule(&issues, "MH-SWL").len(), 1);
    assert_eq!(with_rule(&issues, "CF-BLOCK").len(), 2);
}

#[test]
fn cf_worst_candidate_of_the_wrong_type_is_fld_format_not_a_panic() {
    let ra = complete_ra();
    let conflicts = [OpenConflict {
        path: "child_weight_kg".into(),
        candidates: vec![json!(324), json!("heavy")],
    }];
    let issues = worst_case(&ra, &conflicts, |r| mh::validate(r, &final_ctx())).unwrap();
    assert_eq!(with_rule(&issues, "FLD-FORMAT").len(), 1);
    assert_eq!(with_rule(&issues, "CF-BLOCK").len(), 1);
}

#[test]
fn cf_block_is_reported_even_when_every_candidate_is_fine() {
    let ra = complete_ra();
    let conflicts = [OpenConflict {
        path: "carers_available".into(),
        candidates: vec![json!(2), json!(3)],
    }];
    let issues = worst_case(&ra, &conflicts, |r| mh::validate(r, &final_ctx())).unwrap();
    assert_eq!(ids(&issues), ["CF-BLOCK"]);
}
