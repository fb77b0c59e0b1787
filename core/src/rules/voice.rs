//! The child's voice in the home-visit assessment (DOMAIN.md §3.4, `HV-B-VOICE`): the Children
//! Act 1989 s.17(4A) asks for the child's wishes and feelings, so a social-care assessment
//! cannot be signed without them; a health assessment warns.

use super::{
    fields::{has_text, Stage},
    issue::Issue,
};
use crate::model::{
    assessment::{Assessment, ChildViewsMode},
    common::Service,
};

/// Path of the child's views.
pub const CHILD_VIEWS_PATH: &str = "sections.B.child_views";

/// Whether the child's views are recorded: declined, observed (with how), or given (text).
pub fn views_recorded(a: &Assessment) -> bool {
    let b = &a.sections.b;
    match b.child_views_mode {
        Some(ChildViewsMode::Declined) => true,
        Some(ChildViewsMode::NonVerbalObserved) => has_text(b.child_views_observed_how.as_deref()),
        Some(ChildViewsMode::Given) | None => has_text(b.child_views.as_deref()),
    }
}

/// `HV-B-VOICE` at sign: social care ERROR, health (or service not known) WARN, when the
/// child's views are not recorded.
pub fn validate(a: &Assessment, service: Option<Service>, stage: Stage) -> Vec<Issue> {
    if !stage.is_final() || views_recorded(a) {
        return Vec::new();
    }
    let observed = a.sections.b.child_views_mode == Some(ChildViewsMode::NonVerbalObserved);
    let what = if observed {
        "The child's views are marked \"non-verbal — views observed\"; describe how they were \
         observed."
    } else {
        "Record the child's views (their wishes and feelings), or \"non-verbal — views \
         observed\" with how, or \"declined to give views\"."
    };
    vec![if service == Some(Service::SocialCare) {
        Issue::error("HV-B-VOICE", CHILD_VIEWS_PATH, what)
    } else {
        Issue::warn("HV-B-VOICE", CHILD_VIEWS_PATH, what)
    }]
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::model::common::{Envelope, Schema};

    fn blank() -> Assessment {
        Assessment {
            envelope: Envelope::new(
                Schema::Assessment,
                Uuid::new_v4(),
                Some(crate::RecordId::new()),
                Uuid::new_v4(),
                Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap(),
            ),
            sections: Default::default(),
        }
    }

    #[test]
    fn hv_b_voice_social_care_without_views_is_an_error_at_sign_only() {
        let a = blank();
        let issues = validate(&a, Some(Service::SocialCare), Stage::Final);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule_id, "HV-B-VOICE");
        assert_eq!(issues[0].path, CHILD_VIEWS_PATH);
        assert!(issues[0].is_error());
        assert!(validate(&a, Some(Service::SocialCare), Stage::Draft).is_empty());
    }

    #[test]
    fn hv_b_voice_health_without_views_warns() {
        let a = blank();
        let issues = validate(&a, Some(Service::Health), Stage::Final);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule_id, "HV-B-VOICE");
        assert!(!issues[0].is_error());
    }

    #[test]
    fn hv_b_voice_non_verbal_needs_how_observed_declined_needs_nothing() {
        let mut a = blank();
        a.sections.b.child_views_mode = Some(ChildViewsMode::NonVerbalObserved);
        assert_eq!(
            validate(&a, Some(Service::SocialCare), Stage::Final).len(),
            1
        );
        a.sections.b.child_views_observed_how =
            Some("Smiled and reached for the standing frame; turned away from the hoist.".into());
        assert!(validate(&a, Some(Service::SocialCare), Stage::Final).is_empty());
        a.sections.b.child_views_mode = Some(ChildViewsMode::Declined);
        a.sections.b.child_views_observed_how = None;
        assert!(validate(&a, Some(Service::SocialCare), Stage::Final).is_empty());
        a.sections.b.child_views_mode = Some(ChildViewsMode::Given);
        assert_eq!(
            validate(&a, Some(Service::SocialCare), Stage::Final).len(),
            1
        );
        a.sections.b.child_views = Some("I want to have a bath by myself.".into());
        assert!(validate(&a, Some(Service::SocialCare), Stage::Final).is_empty());
    }
}
