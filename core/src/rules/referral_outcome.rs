//! What happens after eligibility (DOMAIN.md §2.2, §2.6): the graduated-offer tier of an
//! accepted health referral (`H-OFFER-TIER`) and an eligibility outcome overridden as a
//! recorded exception (`RK-ELIG-OVERRIDE`).

use chrono::NaiveDate;

use super::{fields::Stage, issue::Issue};
use crate::{
    error::Error,
    model::{
        common::Service,
        referral::{Disposition, EligibilityOutcome, Referral},
        user::Actor,
    },
};

/// `H-OFFER-TIER`: an accepted health referral records its tier (WARN at the final stage); a
/// tier on a social-care referral is an ERROR.
pub fn validate_offer_tier(r: &Referral, stage: Stage) -> Vec<Issue> {
    match (r.service, r.outcome_tier) {
        (Some(Service::SocialCare), Some(_)) => vec![Issue::error(
            "H-OFFER-TIER",
            "outcome_tier",
            "The graduated-offer tiers are the health service's; a social-care referral has none.",
        )],
        (Some(Service::Health), None)
            if stage.is_final() && r.disposition == Some(Disposition::Accepted) =>
        {
            vec![Issue::warn(
                "H-OFFER-TIER",
                "outcome_tier",
                "Record the tier of the graduated offer (universal, targeted or specialist) \
                 this accepted referral receives.",
            )]
        }
        _ => Vec::new(),
    }
}

/// Longest override reason, as for acknowledgements.
pub const MAX_OVERRIDE_REASON_CHARS: usize = 500;

/// Checks that `actor` may override `outcome` on `today` with `reason` (`RK-ELIG-OVERRIDE`):
/// an `ot` or `approver` HCPC-registered that day, a reason of 1–500 characters, and an outcome
/// that is not already `Eligible`.
pub fn check_override(
    outcome: Option<&EligibilityOutcome>,
    actor: &Actor,
    today: NaiveDate,
    reason: &str,
) -> Result<(), Error> {
    let refuse = |detail: String| Error::NotPermitted {
        rule_id: "RK-ELIG-OVERRIDE".into(),
        detail,
    };
    if !actor.hcpc_registered_on(today) {
        return Err(refuse(
            "only an OT or approver HCPC-registered today may accept a referral by exception"
                .into(),
        ));
    }
    match outcome {
        None => return Err(refuse("evaluate eligibility before overriding it".into())),
        Some(EligibilityOutcome::Eligible { .. }) => {
            return Err(refuse(
                "the referral is eligible; there is nothing to override".into(),
            ))
        }
        Some(_) => {}
    }
    let n = reason.trim().chars().count();
    if n == 0 || n > MAX_OVERRIDE_REASON_CHARS {
        return Err(Error::InvalidInput {
            rule_id: "RK-ELIG-OVERRIDE".into(),
            detail: format!(
                "the reason for the exception must be 1 to {MAX_OVERRIDE_REASON_CHARS} \
                 characters, not blank"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::model::{
        common::{Envelope, Schema},
        referral::OfferTier,
        user::Role,
    };

    fn referral(service: Service) -> Referral {
        let mut r = Referral::new(Envelope::new(
            Schema::Referral,
            Uuid::new_v4(),
            Some(crate::RecordId::new()),
            Uuid::new_v4(),
            Utc.with_ymd_and_hms(2026, 3, 15, 9, 0, 0).unwrap(),
        ));
        r.service = Some(service);
        r
    }

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: Uuid::new_v4(),
            role,
            device_id: Uuid::new_v4(),
            team_id: Uuid::new_v4(),
            hcpc_number: (role != Role::Ap).then(|| "OT12345".into()),
            hcpc_verified_until: NaiveDate::from_ymd_opt(2030, 1, 1),
        }
    }

    #[test]
    fn h_offer_tier_accepted_health_referral_without_tier_warns() {
        let mut r = referral(Service::Health);
        r.disposition = Some(Disposition::Accepted);
        let issues = validate_offer_tier(&r, Stage::Final);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule_id, "H-OFFER-TIER");
        assert!(!issues[0].is_error());
        assert!(validate_offer_tier(&r, Stage::Draft).is_empty());
        r.outcome_tier = Some(OfferTier::Targeted);
        assert!(validate_offer_tier(&r, Stage::Final).is_empty());
        // Not accepted: no tier needed.
        r.outcome_tier = None;
        r.disposition = Some(Disposition::NotAcceptedSignposted);
        assert!(validate_offer_tier(&r, Stage::Final).is_empty());
    }

    #[test]
    fn h_offer_tier_on_a_social_care_referral_is_an_error() {
        let mut r = referral(Service::SocialCare);
        r.outcome_tier = Some(OfferTier::Universal);
        let issues = validate_offer_tier(&r, Stage::Draft);
        assert_eq!(issues.len(), 1);
        assert!(issues[0].is_error());
        assert_eq!(issues[0].rule_id, "H-OFFER-TIER");
    }

    #[test]
    fn rk_elig_override_needs_a_registered_ot_a_reason_and_a_refusal_to_override() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 15).unwrap();
        let refused = EligibilityOutcome::NotEligible {
            rule_ids: vec!["S-NEED".into(), "S-INELIGIBLE".into()],
            reasons: vec![],
            signpost: vec![],
            declined_parts: vec![],
        };
        let ot = actor(Role::Ot);
        assert!(check_override(
            Some(&refused),
            &ot,
            today,
            "Exceptional home circumstances."
        )
        .is_ok());
        let rule = |e: Error| match e {
            Error::NotPermitted { rule_id, .. } | Error::InvalidInput { rule_id, .. } => rule_id,
            other => panic!("{other:?}"),
        };
        let ap = actor(Role::Ap);
        assert_eq!(
            rule(check_override(Some(&refused), &ap, today, "Because.").unwrap_err()),
            "RK-ELIG-OVERRIDE"
        );
        assert!(matches!(
            check_override(Some(&refused), &ot, today, "   "),
            Err(Error::InvalidInput { .. })
        ));
        let long = "x".repeat(501);
        assert!(check_override(Some(&refused), &ot, today, &long).is_err());
        let eligible = EligibilityOutcome::Eligible {
            declined_parts: vec![],
        };
        assert!(matches!(
            check_override(Some(&eligible), &ot, today, "Because."),
            Err(Error::NotPermitted { .. })
        ));
        assert!(check_override(None, &ot, today, "Because.").is_err());
        let lapsed = Actor {
            hcpc_verified_until: NaiveDate::from_ymd_opt(2026, 3, 14),
            ..actor(Role::Ot)
        };
        assert!(check_override(Some(&refused), &lapsed, today, "Because.").is_err());
    }
}
