//! Moving-and-handling rules (DOMAIN.md §3.5): the risk matrix (`MH-SCORE`), controls and
//! residual risk, the TILEO checklist, hoist references, safe working loads (`MH-SWL*`),
//! weight age (`MH-WEIGHT-*`, `SAF-STALE-WEIGHT`), LOLER examinations (`MH-LOLER-*`) and the
//! review date (`MH-REVIEW`).
//!
//! Weights and SWLs are compared as integer tenths of a kg, never floats. The `as_of` date of
//! every date rule is the assessment's own `assessment_date` (DOMAIN.md §1.5).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    config::Thresholds,
    dates::{add_months, days_between},
    fields::{check_opt, date_issue, has_text, require, Range, Stage, Unit},
    issue::{Issue, Severity},
};
use crate::{
    error::Error,
    model::{
        common::{find_live, live, Item, YesNo},
        risk::{
            EquipmentKind, LiftingEquipment, RiskAssessment, RiskRating, Task, TileoItem,
            WeightReading,
        },
    },
};

/// `child_weight_kg`: 0.3–250.0 kg, usually 2.0–120.0 kg.
pub const CHILD_WEIGHT: Range = Range::new((3, 2500), (20, 1200), Unit::KgTenths);
/// `child_height_cm`: 30.0–230.0 cm, usually 45.0–200.0 cm.
pub const CHILD_HEIGHT: Range = Range::new((300, 2300), (450, 2000), Unit::CmTenths);
/// `carers_available`: 0–10, usually 1–4.
pub const CARERS_AVAILABLE: Range = Range::new((0, 10), (1, 4), Unit::Count);
/// A task's `carers_required`: 0–4.
pub const TASK_CARERS: Range = Range::hard_only((0, 4), Unit::Count);
/// `MH-WEIGHT-STALE`: the default of `weight_max_age_days` (the rules read the team's
/// [`Thresholds`]).
pub const WEIGHT_MAX_AGE_DAYS: i64 = 90;
/// `MH-LOLER-SOON`: the default of `loler_notice_days` (the rules read the team's
/// [`Thresholds`]).
pub const LOLER_NOTICE_DAYS: i64 = 30;
/// LOLER: people-lifting equipment is examined at least every this many months.
pub const LOLER_INTERVAL_MONTHS: i32 = 6;

/// A risk band (`MH-SCORE`), computed from the score, never typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// 1, 2, 3.
    Low,
    /// 4, 5, 6.
    Moderate,
    /// 8, 9, 10, 12.
    High,
    /// 15, 16, 20, 25.
    Extreme,
}

impl Band {
    /// The band's code (`mh-risk-band`), e.g. `high`.
    pub fn code(self) -> &'static str {
        match self {
            Band::Low => "low",
            Band::Moderate => "moderate",
            Band::High => "high",
            Band::Extreme => "extreme",
        }
    }

    /// The band's name for a person, e.g. `High`.
    pub fn label(self) -> &'static str {
        match self {
            Band::Low => "Low",
            Band::Moderate => "Moderate",
            Band::High => "High",
            Band::Extreme => "Extreme",
        }
    }
}

/// `MH-SCORE`: likelihood × severity, each 1–5. Anything outside 1–5 is refused.
pub fn score(likelihood: i64, severity: i64) -> Result<i64, Error> {
    for (name, v) in [("likelihood", likelihood), ("severity", severity)] {
        if !(1..=5).contains(&v) {
            return Err(Error::InvalidInput {
                rule_id: "MH-SCORE".into(),
                detail: format!("{name} must be 1 to 5, got {v}"),
            });
        }
    }
    Ok(likelihood * severity)
}

/// `MH-SCORE`: the band of a score. Only the 14 products of two integers 1–5 have one; any
/// other number (7, 11, 13, …) cannot be a score and gives `None`.
pub fn band(score: i64) -> Option<Band> {
    match score {
        1..=3 => Some(Band::Low),
        4..=6 => Some(Band::Moderate),
        8 | 9 | 10 | 12 => Some(Band::High),
        15 | 16 | 20 | 25 => Some(Band::Extreme),
        _ => None,
    }
}

/// The score of a rating, when both parts are present and valid.
pub fn rating_score(r: &RiskRating) -> Option<i64> {
    score(r.likelihood?, r.severity?).ok()
}

/// The overall band: the band of the highest residual score over the live tasks.
pub fn overall_band(ra: &RiskAssessment) -> Option<Band> {
    live(&ra.tasks)
        .filter_map(|t| t.data.residual.as_ref().and_then(rating_score))
        .max()
        .and_then(band)
}

/// What the MH rules need besides the record.
#[derive(Debug, Clone, Default)]
pub struct MhContext<'a> {
    /// Draft or sign.
    pub stage: Stage,
    /// The signing date, to check `assessment_date ≤ sign date`.
    pub sign_date: Option<NaiveDate>,
    /// The child's recorded weights (`MH-WEIGHT-NEWER` uses any later than the assessed one).
    pub child_weights: &'a [WeightReading],
    /// The team's thresholds (`swl_margin_percent`, `weight_max_age_days`,
    /// `loler_notice_days`).
    pub thresholds: Thresholds,
}

/// The lowest SWL in use on a task and which equipment it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowestSwl {
    /// Integer tenths of a kg.
    pub swl_kg: i64,
    /// The equipment kind with that SWL, when the item states one.
    pub kind: Option<EquipmentKind>,
    /// What the task uses it as (`hoist`, `spreader bar`, `sling`): the reference it is
    /// reached through, so an item without a `kind` is still named and still checked.
    pub used_as: &'static str,
}

impl LowestSwl {
    /// The equipment's name for a message: its kind, or what the task uses it as.
    pub fn label(&self) -> &'static str {
        self.kind.map(|k| k.label()).unwrap_or(self.used_as)
    }
}

/// The lowest SWL among the equipment a task references (hoist, spreader bar, sling) that
/// exists and states one. Every referenced item counts, whether or not it states its `kind`
/// (`MH-SWL`: an item without a kind is not left out).
pub fn lowest_swl(ra: &RiskAssessment, task: &Task) -> Option<LowestSwl> {
    task_refs(task)
        .into_iter()
        .filter_map(|(_, id, what)| find_live(&ra.lifting_equipment, id).map(|e| (e, what)))
        .filter_map(|(e, what)| {
            Some(LowestSwl {
                swl_kg: e.data.swl_kg?,
                kind: e.data.kind,
                used_as: what,
            })
        })
        .min_by_key(|l| l.swl_kg)
}

/// `MH-SWL` and `MH-SWL-MARGIN` for one weight against one lowest SWL at the default margin
/// (90 %): see [`swl_severity_at`].
pub fn swl_severity(weight_kg: i64, lowest_swl_kg: i64) -> Option<(&'static str, Severity)> {
    swl_severity_at(
        weight_kg,
        lowest_swl_kg,
        Thresholds::default().swl_margin_percent,
    )
}

/// `MH-SWL` and `MH-SWL-MARGIN`: `Some(ERROR)` above the lowest SWL (equal allowed),
/// `Some(WARN)` when 100 × weight ≥ `margin_percent` × SWL (integers), else `None`.
pub fn swl_severity_at(
    weight_kg: i64,
    lowest_swl_kg: i64,
    margin_percent: i64,
) -> Option<(&'static str, Severity)> {
    if weight_kg > lowest_swl_kg {
        Some(("MH-SWL", Severity::Error))
    } else if weight_kg.saturating_mul(100) >= lowest_swl_kg.saturating_mul(margin_percent) {
        Some(("MH-SWL-MARGIN", Severity::Warn))
    } else {
        None
    }
}

/// `MH-WEIGHT-NEWER`: the child's most recent weight measured after the assessed one and
/// different from it (the heaviest on a tie of dates).
pub fn newer_weight(ra: &RiskAssessment, weights: &[WeightReading]) -> Option<WeightReading> {
    let measured_on = ra.child_weight_measured_on?;
    weights
        .iter()
        .filter(|w| w.measured_on > measured_on && Some(w.value_kg) != ra.child_weight_kg)
        .max_by_key(|w| (w.measured_on, w.value_kg))
        .copied()
}

/// Whether a later weight of the child breaks an SWL rule on any task — on a signed
/// assessment this sets `review_required` in the caseload (`MH-WEIGHT-NEWER`).
pub fn later_weight_breach(ra: &RiskAssessment, weights: &[WeightReading]) -> bool {
    let Some(w) = newer_weight(ra, weights) else {
        return false;
    };
    live(&ra.tasks)
        .filter_map(|t| lowest_swl(ra, &t.data))
        .any(|l| swl_severity(w.value_kg, l.swl_kg).is_some())
}

fn task_refs(task: &Task) -> Vec<(&'static str, Uuid, &'static str)> {
    [
        ("hoist_id", task.hoist_id, "hoist"),
        ("spreader_bar_id", task.spreader_bar_id, "spreader bar"),
        ("sling_id", task.sling_id, "sling"),
    ]
    .into_iter()
    .filter_map(|(f, id, what)| id.map(|id| (f, id, what)))
    .collect()
}

fn kind_fits(field: &str, kind: EquipmentKind) -> bool {
    match field {
        "hoist_id" => kind.is_hoist(),
        "spreader_bar_id" => kind == EquipmentKind::SpreaderBar,
        _ => kind == EquipmentKind::Sling,
    }
}

fn kg(v: i64) -> String {
    Unit::KgTenths.display(v)
}

/// Validates a risk assessment (DOMAIN.md §3.5). Drafts always save; the issues flag.
pub fn validate(ra: &RiskAssessment, ctx: &MhContext<'_>) -> Vec<Issue> {
    let mut out = Vec::new();
    let stage = ctx.stage;
    let as_of = ra.assessment_date;

    // Required fields and ranges.
    require(
        &mut out,
        stage,
        as_of.is_some(),
        "assessment_date",
        "The assessment date",
    );
    if let (Some(d), Some(sign)) = (as_of, ctx.sign_date) {
        if d > sign {
            out.push(date_issue(
                Severity::Error,
                "assessment_date",
                "The assessment date",
                d,
                &format!("is after the signing date {sign}"),
            ));
        }
    }
    require(
        &mut out,
        stage,
        ra.location.is_some(),
        "location",
        "The location",
    );
    require(
        &mut out,
        stage,
        ra.child_weight_kg.is_some(),
        "child_weight_kg",
        "The child's weight",
    );
    check_opt(
        &mut out,
        &CHILD_WEIGHT,
        "child_weight_kg",
        "The child's weight",
        ra.child_weight_kg,
    );
    require(
        &mut out,
        stage,
        ra.child_weight_measured_on.is_some(),
        "child_weight_measured_on",
        "The date the child was weighed",
    );
    check_opt(
        &mut out,
        &CHILD_HEIGHT,
        "child_height_cm",
        "The child's height",
        ra.child_height_cm,
    );
    require(
        &mut out,
        stage,
        ra.carers_available.is_some(),
        "carers_available",
        "Carers available",
    );
    check_opt(
        &mut out,
        &CARERS_AVAILABLE,
        "carers_available",
        "Carers available",
        ra.carers_available,
    );
    require(
        &mut out,
        stage,
        live(&ra.tasks).next().is_some(),
        "tasks",
        "At least one handling task",
    );
    require(
        &mut out,
        stage,
        ra.task_stopped_pending_review.is_some(),
        "task_stopped_pending_review",
        "Whether the task is stopped pending review",
    );

    // MH-AVOID.
    if stage.is_final()
        && ra
            .avoidance_considered
            .as_ref()
            .and_then(|a| a.decision)
            .is_none()
    {
        out.push(Issue::error(
            "MH-AVOID",
            "avoidance_considered",
            "Record whether hazardous handling can be avoided (avoided, partly, not possible).",
        ));
    }

    // MH-TILEO.
    for item in TileoItem::ALL {
        let code = item.code();
        let answer = ra.tileo.get(&item);
        match answer.and_then(|a| a.hazard_present) {
            None if stage.is_final() => out.push(Issue::error(
                "MH-TILEO",
                format!("tileo.{code}.hazard_present"),
                format!("TILEO item {code} is unanswered."),
            )),
            Some(YesNo::Yes) if !has_text(answer.and_then(|a| a.notes.as_deref())) => {
                out.push(Issue::error(
                    "MH-TILEO",
                    format!("tileo.{code}.notes"),
                    format!("TILEO item {code} has a hazard present but no notes."),
                ))
            }
            _ => {}
        }
    }

    // Weight dates.
    if let (Some(d), Some(w)) = (as_of, ra.child_weight_measured_on) {
        if w > d {
            out.push(
                Issue::error(
                    "MH-WEIGHT-DATE",
                    "child_weight_measured_on",
                    format!("The weight was measured on {w}, after the assessment date {d}."),
                )
                .with_value(w.to_string()),
            );
        } else {
            let age = days_between(w, d);
            let max_age = ctx.thresholds.weight_max_age_days;
            if age > max_age {
                out.push(
                    Issue::warn(
                        "MH-WEIGHT-STALE",
                        "child_weight_measured_on",
                        format!(
                            "The weight is {age} days old at the assessment (measured {w}); \
                             more than {max_age} days. Reweigh before relying on it for \
                             hoisting."
                        ),
                    )
                    .with_value(w.to_string()),
                );
            }
        }
    }
    let newer = newer_weight(ra, ctx.child_weights);
    if let Some(n) = newer {
        out.push(
            Issue::warn(
                "MH-WEIGHT-NEWER",
                "child_weight_kg",
                format!(
                    "The child has a later weight ({} on {}) than the one assessed ({}).",
                    kg(n.value_kg),
                    n.measured_on,
                    ra.child_weight_kg.map(kg).unwrap_or_else(|| "none".into())
                ),
            )
            .with_value(format!(
                "{}@{}",
                Unit::KgTenths.bare(n.value_kg),
                n.measured_on
            )),
        );
    }

    // Tasks.
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut used: BTreeSet<Uuid> = BTreeSet::new();
    for item in live(&ra.tasks) {
        task_issues(ra, item, ctx, newer, &mut used, &mut reported, &mut out);
    }

    // Lifting equipment: `kind` at sign; LOLER.
    for e in live(&ra.lifting_equipment) {
        require(
            &mut out,
            stage,
            e.data.kind.is_some(),
            &format!("lifting_equipment.{}.kind", e.item_id),
            "The kind of lifting equipment (hoist, spreader bar or sling)",
        );
        loler_issues(
            e,
            as_of,
            used.contains(&e.item_id),
            ctx.thresholds.loler_notice_days,
            &mut out,
        );
    }

    // MH-REVIEW.
    match (ra.review_due_on, as_of) {
        (None, _) if stage.is_final() => out.push(Issue::error(
            "MH-REVIEW",
            "review_due_on",
            "A review date is required.",
        )),
        (Some(r), Some(d)) if r <= d => out.push(
            Issue::error(
                "MH-REVIEW",
                "review_due_on",
                format!("The review date {r} must be after the assessment date {d}."),
            )
            .with_value(r.to_string()),
        ),
        (Some(r), Some(d)) if add_months(d, 12).is_some_and(|limit| r > limit) => out.push(
            Issue::warn(
                "MH-REVIEW",
                "review_due_on",
                format!("The review date {r} is more than 12 months after the assessment ({d})."),
            )
            .with_value(r.to_string()),
        ),
        _ => {}
    }
    out
}

fn task_issues(
    ra: &RiskAssessment,
    item: &Item<Task>,
    ctx: &MhContext<'_>,
    newer: Option<WeightReading>,
    used: &mut BTreeSet<Uuid>,
    reported: &mut BTreeSet<String>,
    out: &mut Vec<Issue>,
) {
    let stage = ctx.stage;
    let t = &item.data;
    let p = format!("tasks.{}", item.item_id);
    require(
        out,
        stage,
        t.from.is_some(),
        &format!("{p}.from"),
        "The task's starting place",
    );
    require(
        out,
        stage,
        t.to.is_some(),
        &format!("{p}.to"),
        "The task's destination",
    );
    require(
        out,
        stage,
        t.method.is_some(),
        &format!("{p}.method"),
        "The task's method",
    );
    check_opt(
        out,
        &TASK_CARERS,
        &format!("{p}.carers_required"),
        "Carers required",
        t.carers_required,
    );

    // MH-SCORE: each part 1–5; scores of complete ratings.
    let mut scores = [None, None];
    for (slot, (name, rating)) in [("initial", t.initial), ("residual", t.residual)]
        .into_iter()
        .enumerate()
    {
        let path = format!("{p}.{name}");
        let r = rating.unwrap_or_default();
        require(
            out,
            stage,
            r.likelihood.is_some() && r.severity.is_some(),
            &path,
            &format!("The {name} risk"),
        );
        let mut valid = true;
        for (part, v) in [("likelihood", r.likelihood), ("severity", r.severity)] {
            if let Some(v) = v.filter(|v| !(1..=5).contains(v)) {
                valid = false;
                out.push(
                    Issue::error(
                        "MH-SCORE",
                        format!("{path}.{part}"),
                        format!("The {name} {part} ({v}) must be 1 to 5."),
                    )
                    .with_value(v.to_string()),
                );
            }
        }
        if valid {
            scores[slot] = rating_score(&r);
        }
    }
    let [initial, residual] = scores;
    if let (Some(i), Some(r)) = (initial, residual) {
        if r > i {
            out.push(
                Issue::error(
                    "MH-RESIDUAL",
                    format!("{p}.residual"),
                    format!(
                        "The residual risk ({r}) is higher than the initial risk ({i}); controls \
                         cannot raise a risk. Record a new hazard as its own task."
                    ),
                )
                .with_value(format!("{r}>{i}")),
            );
        }
    }
    if let Some(i) = initial.filter(|i| *i >= 4) {
        if live(&t.controls).next().is_none() {
            out.push(
                Issue::error(
                    "MH-CONTROLS",
                    format!("{p}.controls"),
                    format!("The initial risk is {i}; record at least one control."),
                )
                .with_value(i.to_string()),
            );
        }
    }
    if let Some(r) = residual {
        match band(r) {
            Some(Band::High) => out.push(
                Issue::warn(
                    "MH-RESIDUAL-HIGH",
                    format!("{p}.residual"),
                    format!("The residual risk is High ({r})."),
                )
                .with_value(r.to_string()),
            ),
            Some(Band::Extreme) if ra.task_stopped_pending_review != Some(true) => out.push(
                Issue::error(
                    "MH-RESIDUAL-EXTREME",
                    format!("{p}.residual"),
                    format!(
                        "The residual risk is Extreme ({r}); the task must be stopped pending review."
                    ),
                )
                .with_value(r.to_string()),
            ),
            _ => {}
        }
    }

    // MH-HOIST-REF: references exist, are of the right kind; hoist methods have them all.
    let refs = task_refs(t);
    let mut equipment: Vec<&Item<LiftingEquipment>> = Vec::new();
    for (field, id, what) in &refs {
        used.insert(*id);
        match find_live(&ra.lifting_equipment, *id) {
            None => out.push(Issue::error(
                "MH-HOIST-REF",
                format!("{p}.{field}"),
                format!("The task refers to a {what} that is not in the lifting equipment list."),
            )),
            Some(e) => {
                if let Some(kind) = e.data.kind.filter(|k| !kind_fits(field, *k)) {
                    out.push(Issue::error(
                        "MH-HOIST-REF",
                        format!("{p}.{field}"),
                        format!("The task's {what} refers to a {}.", kind.label()),
                    ));
                }
                equipment.push(e);
            }
        }
    }
    if t.method.is_some_and(|m| m.is_hoist()) {
        if t.hoist_id.is_none() || t.sling_id.is_none() {
            out.push(Issue::error(
                "MH-HOIST-REF",
                p.clone(),
                "A hoisting task needs its hoist and its sling recorded.",
            ));
        }
        let integral = t
            .hoist_id
            .and_then(|id| find_live(&ra.lifting_equipment, id))
            .and_then(|h| h.data.integral_spreader_bar)
            == Some(true);
        if t.spreader_bar_id.is_none() && !integral {
            out.push(Issue::error(
                "MH-HOIST-REF",
                format!("{p}.spreader_bar_id"),
                "A hoisting task needs its spreader bar recorded, unless the hoist's is integral.",
            ));
        }
    }

    // MH-SWL-MISSING, MH-SWL, MH-SWL-MARGIN.
    for e in &equipment {
        let path = format!("lifting_equipment.{}.swl_kg", e.item_id);
        if e.data.swl_kg.is_none() && reported.insert(path.clone()) {
            out.push(Issue::error(
                "MH-SWL-MISSING",
                path,
                format!(
                    "The {} used for this task has no safe working load recorded.",
                    e.data.kind.map(|k| k.label()).unwrap_or("equipment")
                ),
            ));
        }
    }
    if let Some(lowest) = lowest_swl(ra, t) {
        let mut weights: Vec<(i64, &str, String)> = Vec::new();
        if let Some(w) = ra.child_weight_kg {
            weights.push((w, "The child's weight", String::new()));
        }
        if let Some(n) = newer {
            weights.push((
                n.value_kg,
                "The child's later weight",
                format!(", measured {}", n.measured_on),
            ));
        }
        for (w, who, when) in weights {
            let shown_swl = format!("{}, {}", kg(lowest.swl_kg), lowest.label());
            let margin = ctx.thresholds.swl_margin_percent;
            let value = format!(
                "{}/{}",
                Unit::KgTenths.bare(w),
                Unit::KgTenths.bare(lowest.swl_kg)
            );
            match swl_severity_at(w, lowest.swl_kg, margin) {
                Some((rule, Severity::Error)) => out.push(
                    Issue::error(
                        rule,
                        p.clone(),
                        format!(
                            "{who} ({}{when}) is above the lowest safe working load in use \
                             ({shown_swl}).",
                            kg(w)
                        ),
                    )
                    .with_value(value),
                ),
                Some((rule, Severity::Warn)) => out.push(
                    Issue::warn(
                        rule,
                        p.clone(),
                        format!(
                            "{who} ({}{when}) is at or above {margin}% of the lowest safe working \
                             load in use ({shown_swl}).",
                            kg(w)
                        ),
                    )
                    .with_value(value),
                ),
                None => {}
            }
        }
    }
}

/// The equipment items the live tasks of `ra` reference (hoist, spreader bar, sling).
fn equipment_in_use(ra: &RiskAssessment) -> BTreeSet<Uuid> {
    live(&ra.tasks)
        .flat_map(|t| task_refs(&t.data).into_iter().map(|(_, id, _)| id))
        .collect()
}

/// The LOLER issues of the equipment the tasks use, judged on `date` rather than on the
/// assessment date: `EQ-HOIST-RA` asks whether the hoist and sling may still be relied on on
/// the day a request is approved (`MH-LOLER-DUE`, `MH-LOLER-LAPSED`, `MH-LOLER-SOON`).
pub fn equipment_issues_on(
    ra: &RiskAssessment,
    date: NaiveDate,
    thresholds: Thresholds,
) -> Vec<Issue> {
    let used = equipment_in_use(ra);
    let mut out = Vec::new();
    for e in live(&ra.lifting_equipment).filter(|e| used.contains(&e.item_id)) {
        loler_issues(e, Some(date), true, thresholds.loler_notice_days, &mut out);
    }
    out
}

fn loler_issues(
    e: &Item<LiftingEquipment>,
    as_of: Option<NaiveDate>,
    used: bool,
    notice_days: i64,
    out: &mut Vec<Issue>,
) {
    let p = format!("lifting_equipment.{}", e.item_id);
    let what = e.data.kind.map(|k| k.label()).unwrap_or("equipment");
    let due = e.data.next_exam_due_on;
    let scheme = e.data.written_scheme == Some(true);
    if let (Some(last), Some(next), false) = (e.data.last_exam_on, due, scheme) {
        if let Some(limit) = add_months(last, LOLER_INTERVAL_MONTHS).filter(|l| next > *l) {
            out.push(
                Issue::warn(
                    "MH-LOLER-INTERVAL",
                    format!("{p}.next_exam_due_on"),
                    format!(
                        "The {what}'s next examination ({next}) is more than 6 months after the \
                         last ({last}; limit {limit}); LOLER needs 6-monthly examination unless a \
                         written scheme says otherwise."
                    ),
                )
                .with_value(next.to_string()),
            );
        }
    }
    if !used {
        return;
    }
    let Some(d) = as_of else { return };
    // MH-LOLER-LAPSED: without a written scheme the 6-month limit holds, whatever next-due
    // date was typed.
    if let (Some(last), false) = (e.data.last_exam_on, scheme) {
        if let Some(limit) = add_months(last, LOLER_INTERVAL_MONTHS).filter(|l| *l < d) {
            out.push(
                Issue::error(
                    "MH-LOLER-LAPSED",
                    format!("{p}.last_exam_on"),
                    format!(
                        "The {what} was last examined on {last}; LOLER needs a thorough \
                         examination at least every 6 months (by {limit}), before {d}, unless a \
                         written scheme of examination is recorded."
                    ),
                )
                .with_value(last.to_string()),
            );
        }
    }
    match due {
        None => out.push(Issue::error(
            "MH-LOLER-DUE",
            format!("{p}.next_exam_due_on"),
            format!("The {what} in use has no next thorough examination date (LOLER)."),
        )),
        Some(next) if next < d => out.push(
            Issue::error(
                "MH-LOLER-DUE",
                format!("{p}.next_exam_due_on"),
                format!("The {what}'s thorough examination was due on {next}, before {d}."),
            )
            .with_value(next.to_string()),
        ),
        Some(next) if days_between(d, next) <= notice_days => out.push(
            Issue::warn(
                "MH-LOLER-SOON",
                format!("{p}.next_exam_due_on"),
                format!(
                    "The {what}'s thorough examination is due on {next}, within {notice_days} \
                     days of {d}."
                ),
            )
            .with_value(next.to_string()),
        ),
        _ => {}
    }
}
