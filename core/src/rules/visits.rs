//! Visits and safeguarding on the child record (DOMAIN.md §3.7): `CH-VISIT-OUTCOME`,
//! `CH-VISIT-SEEN`, `CH-VISIT-MISSED`, `CH-SG-STATUS`, `CH-SG-CONCERN`. Pure: no clock, no
//! store; the caller passes "today" where a date rule needs it.

use chrono::NaiveDate;

use super::{config::RulesConfig, fields::has_text, issue::Issue};
use crate::model::{
    child::Child,
    common::{live, Item},
    visit::{SafeguardingStatus, Visit, VisitOutcome},
};

/// Default `missed_visit_window_days` (`CH-VISIT-MISSED`).
pub const DEFAULT_MISSED_VISIT_WINDOW_DAYS: i64 = 90;
/// Allowed range of `missed_visit_window_days`.
pub const MISSED_VISIT_WINDOW_RANGE: (i64, i64) = (1, 730);

/// Checks one visit's outcome as it is recorded (`CH-VISIT-OUTCOME`): a visit needs its planned
/// date and place; an outcome other than `seen` needs a reason and the follow-up taken.
/// Returns every problem, as ERRORs at paths under `visits.<item_id>` (`prefix`).
pub fn check_visit(prefix: &str, v: &Visit) -> Vec<Issue> {
    let mut out = Vec::new();
    if v.planned_on.is_none() {
        out.push(Issue::error(
            "CH-VISIT-OUTCOME",
            format!("{prefix}.planned_on"),
            "A visit needs its planned date.",
        ));
    }
    if v.place.is_none() {
        out.push(Issue::error(
            "CH-VISIT-OUTCOME",
            format!("{prefix}.place"),
            "A visit needs its place.",
        ));
    }
    if let Some(outcome) = v.outcome.filter(|o| *o != VisitOutcome::Seen) {
        let what = outcome_label(outcome);
        if !has_text(v.reason.as_deref()) {
            out.push(Issue::error(
                "CH-VISIT-OUTCOME",
                format!("{prefix}.reason"),
                format!("A visit recorded as \"{what}\" needs the reason."),
            ));
        }
        if !has_text(v.follow_up.as_deref()) {
            out.push(Issue::error(
                "CH-VISIT-OUTCOME",
                format!("{prefix}.follow_up"),
                format!("A visit recorded as \"{what}\" needs the follow-up taken."),
            ));
        }
    }
    out
}

/// Every issue of the child's live visits: `CH-VISIT-OUTCOME` for each, `CH-VISIT-SEEN` for a
/// seen visit not yet linked to its assessment.
pub fn validate_visits(child: &Child) -> Vec<Issue> {
    let mut out = Vec::new();
    for item in live(&child.visits) {
        let prefix = format!("visits.{}", item.item_id);
        out.extend(check_visit(&prefix, &item.data));
        if item.data.outcome == Some(VisitOutcome::Seen) && item.data.assessment_id.is_none() {
            out.push(Issue::warn(
                "CH-VISIT-SEEN",
                format!("{prefix}.assessment_id"),
                "The child was seen at this visit; link the visit's home-visit assessment.",
            ));
        }
    }
    out
}

/// A plain label for an outcome, as messages and banners show it.
pub fn outcome_label(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::Seen => "seen",
        VisitOutcome::NoAccess => "no access",
        VisitOutcome::WasNotBrought => "was not brought / not available",
        VisitOutcome::CancelledByFamily => "cancelled by the family",
        VisitOutcome::CancelledByService => "cancelled by the service",
    }
}

/// The planned dates of the child's live visits that count as missed (no access, was not
/// brought), oldest first.
pub fn missed_visit_dates(visits: &[Item<Visit>]) -> Vec<NaiveDate> {
    let mut dates: Vec<NaiveDate> = live(visits)
        .filter(|v| v.data.outcome.is_some_and(VisitOutcome::is_missed))
        .filter_map(|v| v.data.planned_on)
        .collect();
    dates.sort();
    dates
}

/// The smallest number of days between two missed visits' planned dates, when there are at
/// least two. The store keeps this figure in the caseload projection, so the configurable
/// window (`CH-VISIT-MISSED`) applies at read time without reading any document.
pub fn closest_missed_gap_days(dates: &[NaiveDate]) -> Option<i64> {
    dates.windows(2).map(|w| (w[1] - w[0]).num_days()).min()
}

/// Whether a closest gap (from [`closest_missed_gap_days`]) is within the window.
pub fn gap_within_window(gap_days: Option<i64>, window_days: i64) -> bool {
    gap_days.is_some_and(|g| g <= window_days)
}

/// The message `CH-VISIT-MISSED` shows on the banner and in the caseload.
pub fn missed_visit_message(gap_days: i64, window_days: i64) -> String {
    format!(
        "Two visits were missed (no access or was not brought) {gap_days} days apart, within \
         {window_days} days: a child who is not brought is a safeguarding signal. Consider a \
         safeguarding referral."
    )
}

/// `CH-VISIT-MISSED` (WARN): two visits with outcome no access or was not brought whose planned
/// dates are at most `missed_visit_window_days` apart.
pub fn missed_visit_warning(child: &Child, config: &RulesConfig) -> Option<Issue> {
    let gap = closest_missed_gap_days(&missed_visit_dates(&child.visits));
    let window = config.missed_visit_window_days;
    gap_within_window(gap, window).then(|| {
        Issue::warn(
            "CH-VISIT-MISSED",
            "visits",
            missed_visit_message(gap.unwrap_or_default(), window),
        )
    })
}

/// A plain label for a safeguarding status, as the banner shows it.
pub fn status_label(s: Option<SafeguardingStatus>) -> &'static str {
    match s {
        Some(SafeguardingStatus::ChildProtectionPlan) => "Child protection plan",
        Some(SafeguardingStatus::ChildInNeed) => "Child in need",
        Some(SafeguardingStatus::LookedAfter) => "Looked-after child",
        Some(SafeguardingStatus::None) => "No safeguarding status",
        Some(SafeguardingStatus::Unknown) | None => "Safeguarding status unknown",
    }
}

/// `CH-SG-STATUS` and `CH-SG-CONCERN` over the child's safeguarding status and concerns.
/// `today` is the device's local date (a concern cannot be raised in the future).
pub fn validate_safeguarding(child: &Child, today: NaiveDate) -> Vec<Issue> {
    let mut out = Vec::new();
    if let Some(sg) = &child.safeguarding {
        let status = sg.status;
        if status == Some(SafeguardingStatus::LookedAfter)
            && !has_text(sg.looked_after_by.as_deref())
        {
            out.push(Issue::error(
                "CH-SG-STATUS",
                "safeguarding.looked_after_by",
                "A looked-after child needs the local authority that looks after them.",
            ));
        }
        let needs_worker = matches!(
            status,
            Some(
                SafeguardingStatus::ChildProtectionPlan
                    | SafeguardingStatus::ChildInNeed
                    | SafeguardingStatus::LookedAfter
            )
        );
        let sw = sg.social_worker.clone().unwrap_or_default();
        let reachable = has_text(sw.phone.as_deref()) || has_text(sw.email.as_deref());
        if needs_worker && !(has_text(sw.name.as_deref()) && reachable) {
            out.push(Issue::warn(
                "CH-SG-STATUS",
                "safeguarding.social_worker",
                format!(
                    "{}: record the allocated social worker's name and a phone number or email.",
                    status_label(status)
                ),
            ));
        }
    }
    for item in live(&child.safeguarding_concerns) {
        let p = format!("safeguarding_concerns.{}", item.item_id);
        let c = &item.data;
        if !has_text(c.concern.as_deref()) {
            out.push(Issue::error(
                "CH-SG-CONCERN",
                format!("{p}.concern"),
                "A safeguarding concern needs what the concern is.",
            ));
        }
        if c.raised_with.is_none() {
            out.push(Issue::error(
                "CH-SG-CONCERN",
                format!("{p}.raised_with"),
                "A safeguarding concern needs to whom it was raised (duty team, MASH, named \
                 safeguarding lead).",
            ));
        }
        match c.raised_on {
            None => out.push(Issue::error(
                "CH-SG-CONCERN",
                format!("{p}.raised_on"),
                "A safeguarding concern needs when it was raised.",
            )),
            Some(d) if d > today => out.push(
                Issue::error(
                    "CH-SG-CONCERN",
                    format!("{p}.raised_on"),
                    "A safeguarding concern cannot be raised in the future.",
                )
                .with_value(d.to_string()),
            ),
            Some(_) => {}
        }
        if !has_text(c.reference.as_deref()) {
            out.push(Issue::warn(
                "CH-SG-CONCERN",
                format!("{p}.reference"),
                "Record the reference the receiving team gave for this concern.",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::model::{
        assessment::VisitLocation,
        common::{Envelope, Schema},
        visit::{RaisedWith, Safeguarding, SafeguardingConcern, SocialWorker},
    };

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn child() -> Child {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        Child::new(Envelope::new(
            Schema::Child,
            Uuid::new_v4(),
            None,
            Uuid::new_v4(),
            at,
        ))
    }

    fn visit(on: &str, outcome: Option<VisitOutcome>) -> Item<Visit> {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        Item::new(
            Uuid::new_v4(),
            at,
            Uuid::new_v4(),
            Visit {
                planned_on: Some(d(on)),
                place: Some(VisitLocation::ChildHome),
                outcome,
                reason: Some("Nobody answered the door.".into()),
                follow_up: Some("Phoned the family; rebooked.".into()),
                ..Visit::default()
            },
        )
    }

    #[test]
    fn ch_visit_missed_two_missed_visits_within_the_window_warn() {
        let mut c = child();
        c.visits
            .push(visit("2026-01-10", Some(VisitOutcome::WasNotBrought)));
        c.visits
            .push(visit("2026-04-10", Some(VisitOutcome::NoAccess)));
        let config = RulesConfig::default();
        // 90 days apart, window 90: inclusive.
        let w = missed_visit_warning(&c, &config).expect("CH-VISIT-MISSED");
        assert_eq!(w.rule_id, "CH-VISIT-MISSED");
        assert!(!w.is_error());
        assert!(w.message.contains("safeguarding referral"), "{}", w.message);
        // 91 days apart: outside the window.
        c.visits[1].data.planned_on = Some(d("2026-04-11"));
        assert_eq!(missed_visit_warning(&c, &config), None);
        // A configured longer window catches it.
        let longer = RulesConfig {
            missed_visit_window_days: 120,
            ..RulesConfig::default()
        };
        assert!(missed_visit_warning(&c, &longer).is_some());
    }

    #[test]
    fn ch_visit_missed_ignores_cancellations_seen_visits_and_removed_visits() {
        let mut c = child();
        c.visits
            .push(visit("2026-01-10", Some(VisitOutcome::NoAccess)));
        c.visits
            .push(visit("2026-01-20", Some(VisitOutcome::CancelledByFamily)));
        c.visits.push(visit("2026-01-25", Some(VisitOutcome::Seen)));
        c.visits.push(visit("2026-01-30", None));
        let config = RulesConfig::default();
        assert_eq!(missed_visit_warning(&c, &config), None);
        let mut removed = visit("2026-01-12", Some(VisitOutcome::WasNotBrought));
        removed.removed_at = Some(Utc.with_ymd_and_hms(2026, 1, 13, 9, 0, 0).unwrap());
        c.visits.push(removed);
        assert_eq!(missed_visit_warning(&c, &config), None);
        c.visits
            .push(visit("2026-01-12", Some(VisitOutcome::WasNotBrought)));
        assert!(missed_visit_warning(&c, &config).is_some());
    }

    #[test]
    fn ch_visit_missed_closest_gap_is_between_neighbouring_dates() {
        let dates = [d("2025-01-01"), d("2025-06-01"), d("2025-06-11")];
        assert_eq!(closest_missed_gap_days(&dates), Some(10));
        assert_eq!(closest_missed_gap_days(&dates[..1]), None);
        assert!(gap_within_window(Some(10), 10));
        assert!(!gap_within_window(Some(11), 10));
        assert!(!gap_within_window(None, 10));
    }

    #[test]
    fn ch_visit_outcome_not_seen_needs_reason_and_follow_up() {
        let mut v = visit("2026-01-10", Some(VisitOutcome::NoAccess)).data;
        assert!(check_visit("visits.x", &v).is_empty());
        v.reason = Some("  ".into());
        v.follow_up = None;
        let issues = check_visit("visits.x", &v);
        let paths: Vec<_> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["visits.x.reason", "visits.x.follow_up"]);
        assert!(issues
            .iter()
            .all(|i| i.rule_id == "CH-VISIT-OUTCOME" && i.is_error()));
        // A seen visit needs neither; a planned one neither.
        v.outcome = Some(VisitOutcome::Seen);
        assert!(check_visit("visits.x", &v).is_empty());
        v.outcome = None;
        assert!(check_visit("visits.x", &v).is_empty());
        // Every visit needs its date and place.
        v.planned_on = None;
        v.place = None;
        assert_eq!(check_visit("visits.x", &v).len(), 2);
    }

    #[test]
    fn ch_visit_seen_without_its_assessment_warns_until_linked() {
        let mut c = child();
        c.visits.push(visit("2026-01-10", Some(VisitOutcome::Seen)));
        let issues = validate_visits(&c);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule_id, "CH-VISIT-SEEN");
        assert!(!issues[0].is_error());
        c.visits[0].data.assessment_id = Some(Uuid::new_v4());
        assert!(validate_visits(&c).is_empty());
    }

    #[test]
    fn ch_sg_status_looked_after_needs_the_authority_and_a_reachable_social_worker() {
        let today = d("2026-03-01");
        let mut c = child();
        c.safeguarding = Some(Safeguarding {
            status: Some(SafeguardingStatus::LookedAfter),
            looked_after_by: None,
            social_worker: None,
        });
        let issues = validate_safeguarding(&c, today);
        let got: Vec<_> = issues
            .iter()
            .map(|i| (i.rule_id.as_str(), i.path.as_str(), i.is_error()))
            .collect();
        assert_eq!(
            got,
            [
                ("CH-SG-STATUS", "safeguarding.looked_after_by", true),
                ("CH-SG-STATUS", "safeguarding.social_worker", false)
            ]
        );
        c.safeguarding = Some(Safeguarding {
            status: Some(SafeguardingStatus::LookedAfter),
            looked_after_by: Some("Luton Borough Council".into()),
            social_worker: Some(SocialWorker {
                name: Some("Dana Reid".into()),
                team: None,
                phone: Some("01582 000000".into()),
                email: None,
            }),
        });
        assert!(validate_safeguarding(&c, today).is_empty());
        // "None" and "unknown" need no social worker.
        c.safeguarding = Some(Safeguarding {
            status: Some(SafeguardingStatus::None),
            ..Safeguarding::default()
        });
        assert!(validate_safeguarding(&c, today).is_empty());
    }

    #[test]
    fn ch_sg_concern_needs_what_to_whom_and_when_and_warns_without_reference() {
        let today = d("2026-03-01");
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let mut c = child();
        c.safeguarding_concerns.push(Item::new(
            Uuid::new_v4(),
            at,
            Uuid::new_v4(),
            SafeguardingConcern::default(),
        ));
        let issues = validate_safeguarding(&c, today);
        assert_eq!(issues.len(), 4);
        assert!(issues.iter().all(|i| i.rule_id == "CH-SG-CONCERN"));
        assert_eq!(issues.iter().filter(|i| i.is_error()).count(), 3);
        c.safeguarding_concerns[0].data = SafeguardingConcern {
            concern: Some("Unexplained bruising seen at the visit.".into()),
            raised_with: Some(RaisedWith::Mash),
            raised_with_name: None,
            raised_on: Some(d("2026-03-02")),
            reference: Some("MASH-2026-0142".into()),
            visit_id: None,
        };
        let issues = validate_safeguarding(&c, today);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].path.rsplit('.').next(), Some("raised_on"));
        c.safeguarding_concerns[0].data.raised_on = Some(today);
        assert!(validate_safeguarding(&c, today).is_empty());
    }
}
