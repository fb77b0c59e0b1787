//! The one declaration of each field's merge class (DOMAIN.md §6), per schema: which paths are
//! clinical (`CF-CLINICAL`: concurrent different values are a conflict a person resolves),
//! which are free text (`CF-TEXT`: automerge text, merged character by character), and which
//! clinical fields form one unit (a weight and the date it was measured).
//!
//! Patterns are field paths in which `*` stands for exactly one key: an item id
//! (`weights.*.value_kg`, `tasks.*.method`), a C area (`sections.C.areas.*.level`), a TILEO
//! item or a measurement key (`measurements.*.value`). Code sets (`CF-SET`) and item lists
//! (`CF-LIST`) need no entry: their shape (`code → true`, `item_id → item`) already gives them
//! their merge rules, so the sets DOMAIN.md names among clinical fields (`identity_checked`,
//! E `purposes`, consent scope) merge per code, add winning (docs/adr/0005-conflict-policy.md).

use crate::model::common::Schema;

/// Clinical fields of the child record (DOMAIN.md §6, "child").
const CHILD_CLINICAL: &[&str] = &[
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "nhs_number",
    "gender",
    "gp_area",
    "education_setting",
    "address.postcode",
    "deceased_on",
    // "each weight entry": the value and the date it was measured.
    "weights.*.value_kg",
    "weights.*.measured_on",
    // Safeguarding (§3.7): the status and the authority a looked-after child is with.
    "safeguarding.status",
    "safeguarding.looked_after_by",
    // Each visit's date, place, outcome and linked assessment.
    "visits.*.planned_on",
    "visits.*.place",
    "visits.*.outcome",
    "visits.*.assessment_id",
    // Each concern's recipient and date.
    "safeguarding_concerns.*.raised_with",
    "safeguarding_concerns.*.raised_on",
];

/// Clinical fields of the referral (DOMAIN.md §6, "referral").
const REFERRAL_CLINICAL: &[&str] = &[
    "service",
    "route",
    "referrer.role",
    "received_on",
    "functional_difficulty",
    "permanent_substantial_disability",
    "behaviour_risk_level",
    "siblings_needs_affected",
    "closed_on",
];

/// Clinical fields of the home-visit form (DOMAIN.md §6, "home-visit form").
const ASSESSMENT_CLINICAL: &[&str] = &[
    "sections.A.visit_date",
    "sections.A.start_time",
    "sections.A.end_time",
    "sections.A.location",
    // Consent: who gave it and when; its scope is a code set.
    "sections.A.consent.by",
    "sections.A.consent.at",
    "sections.C.areas.*.level",
    "sections.C.areas.*.in_line_with_development",
    // Every D number.
    "sections.D.entrance_steps.count",
    "sections.D.entrance_steps.riser_max_mm",
    "sections.D.door_widths.*.clear_width_mm",
    "sections.D.internal_stairs.count",
    // E angles.
    "sections.E.tilt_in_space_deg",
    "sections.E.seat_to_back_angle_deg",
    "sections.F.carers_required",
    // H risk levels.
    "sections.H.risk_to.child",
    "sections.H.risk_to.carers",
    "sections.H.risk_to.siblings",
    "sections.I.next_review_on",
];

/// Clinical fields of the M&H risk assessment (DOMAIN.md §6, "risk assessment").
const RISK_CLINICAL: &[&str] = &[
    "assessment_date",
    "child_weight_kg",
    "child_weight_measured_on",
    "child_height_cm",
    "tileo.*.hazard_present",
    "tasks.*.method",
    "tasks.*.hoist_id",
    "tasks.*.spreader_bar_id",
    "tasks.*.sling_id",
    "tasks.*.carers_required",
    "tasks.*.initial.likelihood",
    "tasks.*.initial.severity",
    "tasks.*.residual.likelihood",
    "tasks.*.residual.severity",
    "lifting_equipment.*.kind",
    "lifting_equipment.*.swl_kg",
    "lifting_equipment.*.last_exam_on",
    "lifting_equipment.*.next_exam_due_on",
    "review_due_on",
    "task_stopped_pending_review",
    // Carer training (§3.5): what the record says someone is competent on, and until when.
    "carer_training.*.task_id",
    "carer_training.*.hoist_id",
    "carer_training.*.sling_id",
    "carer_training.*.competent",
    "carer_training.*.trained_on",
    "carer_training.*.review_due_on",
];

/// Clinical fields of the equipment request (DOMAIN.md §6, "equipment request").
const EQUIPMENT_CLINICAL: &[&str] = &[
    "category",
    "measurements.*.value",
    "measurements.*.measured_on",
    "items.*.quantity",
    "estimated_cost_pence",
    "priority",
];

/// Clinical fields that form one unit: a value and the date it was measured. Devices changing
/// different members concurrently leave a pair no one entered (a new weight with an old date),
/// so that is a conflict too.
const CHILD_UNITS: &[&[&str]] = &[&["weights.*.value_kg", "weights.*.measured_on"]];
const RISK_UNITS: &[&[&str]] = &[&["child_weight_kg", "child_weight_measured_on"]];
const EQUIPMENT_UNITS: &[&[&str]] = &[&["measurements.*.value", "measurements.*.measured_on"]];

/// Free-text fields (`CF-TEXT`: notes, justifications, concerns, child's views, goals).
const CHILD_TEXT: &[&str] = &[
    "alerts.*.text",
    "siblings.*.needs_note",
    "visits.*.reason",
    "visits.*.follow_up",
    "safeguarding_concerns.*.concern",
];
const REFERRAL_TEXT: &[&str] = &["closure_reason"];
const ASSESSMENT_TEXT: &[&str] = &[
    "sections.B.presenting_concerns",
    "sections.B.child_views",
    "sections.B.child_views_observed_how",
    "sections.B.communication",
    "sections.C.areas.*.notes",
    "sections.E.current_seating",
    "sections.E.recommendation",
    "sections.H.behaviour_assessment",
    "sections.I.goals.*.text",
    "sections.I.recommendations.*.text",
];
const RISK_TEXT: &[&str] = &[
    "avoidance_considered.text",
    "tileo.*.notes",
    "tasks.*.notes",
    "tasks.*.controls.*.text",
];
const EQUIPMENT_TEXT: &[&str] = &["clinical_justification"];

/// Item lists (`CF-LIST`, maps `item_id → item`) and maps that every record of the schema
/// holds from creation. Creating them once, before any device forks the document, means
/// concurrent first additions land in the same map instead of in two maps of which automerge
/// would show only one.
pub(crate) fn skeleton(schema: Schema) -> &'static [&'static str] {
    match schema {
        Schema::Child => &[
            "carers",
            "siblings",
            "weights",
            "alerts",
            "visits",
            "safeguarding",
            "safeguarding_concerns",
        ],
        Schema::Referral => &["referrer"],
        Schema::Assessment => &[
            "sections",
            "sections.A",
            "sections.A.people_present",
            "sections.A.identity_checked",
            "sections.B",
            "sections.B.diagnoses",
            "sections.C",
            "sections.C.areas",
            "sections.D",
            "sections.D.door_widths",
            "sections.E",
            "sections.E.purposes",
            "sections.E.postural_risks",
            "sections.F",
            "sections.F.risk_assessment_ids",
            "sections.G",
            "sections.G.shared_care",
            "sections.H",
            "sections.H.behaviour_addressed_by",
            "sections.I",
            "sections.I.goals",
            "sections.I.recommendations",
            "sections.J",
            "sections.J.addenda",
        ],
        Schema::RiskAssessment => &[
            "tileo",
            "tasks",
            "lifting_equipment",
            "carer_training",
            "addenda",
        ],
        Schema::EquipmentRequest => &["items", "measurements", "transitions", "adaptation_work"],
    }
}

/// The clinical field patterns of `schema` (`CF-CLINICAL`).
pub fn clinical_patterns(schema: Schema) -> &'static [&'static str] {
    match schema {
        Schema::Child => CHILD_CLINICAL,
        Schema::Referral => REFERRAL_CLINICAL,
        Schema::Assessment => ASSESSMENT_CLINICAL,
        Schema::RiskAssessment => RISK_CLINICAL,
        Schema::EquipmentRequest => EQUIPMENT_CLINICAL,
    }
}

/// The free-text field patterns of `schema` (`CF-TEXT`).
pub fn text_patterns(schema: Schema) -> &'static [&'static str] {
    match schema {
        Schema::Child => CHILD_TEXT,
        Schema::Referral => REFERRAL_TEXT,
        Schema::Assessment => ASSESSMENT_TEXT,
        Schema::RiskAssessment => RISK_TEXT,
        Schema::EquipmentRequest => EQUIPMENT_TEXT,
    }
}

/// Groups of clinical patterns that form one unit (value with its date).
pub fn clinical_units(schema: Schema) -> &'static [&'static [&'static str]] {
    match schema {
        Schema::Child => CHILD_UNITS,
        Schema::RiskAssessment => RISK_UNITS,
        Schema::EquipmentRequest => EQUIPMENT_UNITS,
        Schema::Referral | Schema::Assessment => &[],
    }
}

/// Whether `pattern` (dotted, `*` = any one key) matches the path `segments`.
pub fn pattern_matches(pattern: &str, segments: &[String]) -> bool {
    let mut n = 0usize;
    for (p, s) in pattern.split('.').zip(segments) {
        if p != "*" && p != s {
            return false;
        }
        n += 1;
    }
    n == segments.len() && pattern.split('.').count() == n
}

/// Whether the field at `segments` is clinical in `schema` (`CF-CLINICAL`).
pub fn is_clinical(schema: Schema, segments: &[String]) -> bool {
    clinical_patterns(schema)
        .iter()
        .any(|p| pattern_matches(p, segments))
}

/// Whether the field at `segments` is free text in `schema` (`CF-TEXT`).
pub fn is_text(schema: Schema, segments: &[String]) -> bool {
    text_patterns(schema)
        .iter()
        .any(|p| pattern_matches(p, segments))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(s: &str) -> Vec<String> {
        s.split('.').map(str::to_owned).collect()
    }

    #[test]
    fn cf_clinical_patterns_match_item_wildcards_exactly() {
        assert!(pattern_matches("tasks.*.method", &segs("tasks.abc.method")));
        assert!(!pattern_matches("tasks.*.method", &segs("tasks.abc")));
        assert!(!pattern_matches(
            "tasks.*.method",
            &segs("tasks.abc.method.x")
        ));
        assert!(!pattern_matches("tasks.*.method", &segs("tasks.abc.notes")));
        assert!(is_clinical(
            Schema::Assessment,
            &segs("sections.C.areas.dressing.level")
        ));
        assert!(is_clinical(Schema::Child, &segs("weights.w1.value_kg")));
        assert!(!is_clinical(Schema::Child, &segs("alerts.a1.text")));
        assert!(is_text(
            Schema::RiskAssessment,
            &segs("tasks.t.controls.c.text")
        ));
    }

    #[test]
    fn cf_clinical_visit_outcome_and_safeguarding_status_are_clinical_reasons_are_text() {
        assert!(is_clinical(Schema::Child, &segs("visits.v1.outcome")));
        assert!(is_clinical(Schema::Child, &segs("safeguarding.status")));
        assert!(is_clinical(
            Schema::RiskAssessment,
            &segs("carer_training.t1.competent")
        ));
        assert!(is_text(Schema::Child, &segs("visits.v1.follow_up")));
        assert!(is_text(
            Schema::Assessment,
            &segs("sections.B.child_views_observed_how")
        ));
        assert!(skeleton(Schema::Child).contains(&"visits"));
    }

    #[test]
    fn cf_clinical_registry_is_well_formed() {
        for schema in [
            Schema::Child,
            Schema::Referral,
            Schema::Assessment,
            Schema::RiskAssessment,
            Schema::EquipmentRequest,
        ] {
            for p in clinical_patterns(schema)
                .iter()
                .chain(text_patterns(schema))
            {
                assert!(
                    p.split('.')
                        .all(|s| s == "*" || crate::doc::path::valid_segment(s)),
                    "{p}"
                );
                // A field is in one merge class only.
                let concrete = segs(&p.replace('*', "x"));
                assert!(
                    !(is_clinical(schema, &concrete) && is_text(schema, &concrete)),
                    "{p}"
                );
            }
            for unit in clinical_units(schema) {
                for p in unit.iter() {
                    assert!(clinical_patterns(schema).contains(p), "{p}");
                }
            }
        }
    }
}
