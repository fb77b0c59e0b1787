//! Team configuration of the open questions in `DOMAIN.md` §9.
//!
//! Every setting §9 names is a field of [`RulesConfig`] with the documented default, so that a
//! team's answer to an open question is data, not a code change. A configuration read from
//! outside (a file, the server) is checked with [`RulesConfig::validate`] before use.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// When a 29 February birthday falls in a non-leap year (§2.5, §9 Q1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum LeapDayBirthday {
    /// On 1 March (default): keeps a child in an under-18 service a day longer, not shorter.
    #[default]
    #[serde(rename = "mar1")]
    Mar1,
    /// On 28 February.
    #[serde(rename = "feb28")]
    Feb28,
}

/// The council's retention schedule for social-care records (`RK-RETENTION`, §9 Q8).
///
/// A closed episode is kept until the later of the child's `until_birthday`-th birthday and
/// `years_after_closure` years after `closed_on`; after the child's death, for
/// `years_after_death` years. The defaults mirror the health rule for an adult discharge and
/// are a placeholder until the council confirms its schedule: they never dispose of a record
/// earlier than the health service would.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct SocialCareRetention {
    /// Keep at least until this birthday.
    pub until_birthday: u32,
    /// Keep at least this many years after the episode closed.
    pub years_after_closure: u32,
    /// After death, keep this many years.
    pub years_after_death: u32,
}

impl Default for SocialCareRetention {
    fn default() -> Self {
        Self {
            until_birthday: 25,
            years_after_closure: 8,
            years_after_death: 8,
        }
    }
}

/// Default `lock_after_days_without_sync` (`SAF-DEVICE-LOST`).
pub const DEFAULT_LOCK_AFTER_DAYS_WITHOUT_SYNC: i64 = 14;
/// Allowed range of `lock_after_days_without_sync` (`SAF-DEVICE-LOST`).
pub const LOCK_AFTER_DAYS_RANGE: (i64, i64) = (1, 30);
/// Default FHIR base for local code systems and extensions (§7, §9 Q10).
pub const DEFAULT_FHIR_BASE_URL: &str = "https://fhir.homevisit.example";

/// Every configurable setting of `DOMAIN.md` §9, with its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RulesConfig {
    /// §9 Q1: when a 29 February birthday falls in a non-leap year.
    pub leap_day_birthday: LeapDayBirthday,
    /// §9 Q3: whether the health service accepts referrals from the family (default false).
    pub h_accepts_family: bool,
    /// §9 Q4: whether the social-care service accepts social workers as referrers.
    pub sc_accepts_social_worker: bool,
    /// §9 Q4: whether the social-care service accepts other professionals as referrers.
    pub sc_accepts_other_professional: bool,
    /// §9 Q6: whether the social-care service requires the child to live in Luton (default
    /// true: the service is Luton Borough Council's).
    pub sc_require_luton_residence: bool,
    /// §9 Q9: a weight older than this many days is stale (`MH-WEIGHT-STALE`).
    pub weight_max_age_days: i64,
    /// §9 Q9: a body measurement older than this many days warns (`EQ-MEAS-AGE`).
    pub measurement_max_age_days: i64,
    /// §9 Q9: weight at or above this percentage of the lowest SWL warns (`MH-SWL-MARGIN`).
    pub swl_margin_percent: i64,
    /// §9 Q9: LOLER examinations due within this many days warn (`MH-LOLER-SOON`).
    pub loler_notice_days: i64,
    /// §9 Q9: records open only after online re-authentication once the device has not
    /// synced for more than this many days (`SAF-DEVICE-LOST`), 1–30.
    pub lock_after_days_without_sync: i64,
    /// §9 Q9: minor adaptations above this cost (pence) need tier-2 approval.
    pub tier2_cost_pence: i64,
    /// §9 Q10: base URL of local FHIR code systems and extensions.
    pub fhir_base_url: String,
    /// §9 Q8: the council's retention schedule for social-care records.
    pub social_care_retention: SocialCareRetention,
    /// §9 Q13: two missed visits (no access, was not brought) at most this many days apart
    /// raise `CH-VISIT-MISSED`, 1–730.
    pub missed_visit_window_days: i64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            leap_day_birthday: LeapDayBirthday::Mar1,
            h_accepts_family: false,
            sc_accepts_social_worker: false,
            sc_accepts_other_professional: false,
            sc_require_luton_residence: true,
            weight_max_age_days: 90,
            measurement_max_age_days: 90,
            swl_margin_percent: 90,
            loler_notice_days: 30,
            lock_after_days_without_sync: DEFAULT_LOCK_AFTER_DAYS_WITHOUT_SYNC,
            tier2_cost_pence: 100_000,
            fhir_base_url: DEFAULT_FHIR_BASE_URL.to_owned(),
            social_care_retention: SocialCareRetention::default(),
            missed_visit_window_days: super::visits::DEFAULT_MISSED_VISIT_WINDOW_DAYS,
        }
    }
}

/// The §9 Q9 thresholds the form rules read, taken from a [`RulesConfig`] (the defaults are
/// those of [`RulesConfig::default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// `MH-SWL-MARGIN`: weight at or above this percentage of the lowest SWL warns.
    pub swl_margin_percent: i64,
    /// `MH-WEIGHT-STALE`: a weight more than this many days old at the assessment warns.
    pub weight_max_age_days: i64,
    /// `MH-LOLER-SOON`: an examination due within this many days after the assessment warns.
    pub loler_notice_days: i64,
    /// `EQ-MEAS-AGE`: a body measurement more than this many days old warns.
    pub measurement_max_age_days: i64,
}

impl Default for Thresholds {
    fn default() -> Self {
        RulesConfig::default().thresholds()
    }
}

impl RulesConfig {
    /// The thresholds the form rules read.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            swl_margin_percent: self.swl_margin_percent,
            weight_max_age_days: self.weight_max_age_days,
            loler_notice_days: self.loler_notice_days,
            measurement_max_age_days: self.measurement_max_age_days,
        }
    }

    /// Checks that every setting is within its allowed range; a configuration that fails is
    /// refused rather than clamped, so a typo never silently weakens a safety rule.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |detail: String| Error::InvalidInput {
            rule_id: "FLD-HARD".into(),
            detail,
        };
        let (lo, hi) = LOCK_AFTER_DAYS_RANGE;
        if !(lo..=hi).contains(&self.lock_after_days_without_sync) {
            return Err(bad(format!(
                "lock_after_days_without_sync must be {lo} to {hi} days (got {})",
                self.lock_after_days_without_sync
            )));
        }
        for (name, v, max) in [
            ("weight_max_age_days", self.weight_max_age_days, 3650),
            (
                "measurement_max_age_days",
                self.measurement_max_age_days,
                3650,
            ),
            ("loler_notice_days", self.loler_notice_days, 366),
        ] {
            if !(0..=max).contains(&v) {
                return Err(bad(format!("{name} must be 0 to {max} days (got {v})")));
            }
        }
        if !(1..=100).contains(&self.swl_margin_percent) {
            return Err(bad(format!(
                "swl_margin_percent must be 1 to 100 (got {})",
                self.swl_margin_percent
            )));
        }
        if self.tier2_cost_pence < 0 {
            return Err(bad(format!(
                "tier2_cost_pence must not be negative (got {})",
                self.tier2_cost_pence
            )));
        }
        let url = self.fhir_base_url.as_str();
        if !url.starts_with("https://") || url.len() <= "https://".len() || url.ends_with('/') {
            return Err(bad(format!(
                "fhir_base_url must be an https URL without a trailing slash (got `{url}`)"
            )));
        }
        let (lo, hi) = super::visits::MISSED_VISIT_WINDOW_RANGE;
        if !(lo..=hi).contains(&self.missed_visit_window_days) {
            return Err(bad(format!(
                "missed_visit_window_days must be {lo} to {hi} days (got {})",
                self.missed_visit_window_days
            )));
        }
        let r = self.social_care_retention;
        if !(18..=100).contains(&r.until_birthday)
            || r.years_after_closure > 100
            || r.years_after_death > 100
        {
            return Err(bad(format!(
                "social_care_retention is out of range: until_birthday 18 to 100, years 0 to \
                 100 (got {r:?})"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = RulesConfig::default();
        assert_eq!(c.leap_day_birthday, LeapDayBirthday::Mar1);
        assert!(!c.h_accepts_family);
        assert!(!c.sc_accepts_social_worker);
        assert!(!c.sc_accepts_other_professional);
        assert!(c.sc_require_luton_residence);
        assert_eq!(c.weight_max_age_days, 90);
        assert_eq!(c.measurement_max_age_days, 90);
        assert_eq!(c.swl_margin_percent, 90);
        assert_eq!(c.loler_notice_days, 30);
        assert_eq!(c.lock_after_days_without_sync, 14);
        assert_eq!(c.tier2_cost_pence, 100_000);
        assert_eq!(c.fhir_base_url, "https://fhir.homevisit.example");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn saf_device_lost_lock_setting_must_be_1_to_30_days() {
        for (days, ok) in [(0, false), (1, true), (30, true), (31, false)] {
            let c = RulesConfig {
                lock_after_days_without_sync: days,
                ..RulesConfig::default()
            };
            assert_eq!(c.validate().is_ok(), ok, "{days}");
        }
    }

    #[test]
    fn partial_json_keeps_defaults_and_uses_documented_codes() {
        let c: RulesConfig =
            serde_json::from_str(r#"{"leap_day_birthday":"feb28","h_accepts_family":true}"#)
                .unwrap();
        assert_eq!(c.leap_day_birthday, LeapDayBirthday::Feb28);
        assert!(c.h_accepts_family);
        assert_eq!(c.lock_after_days_without_sync, 14);
        let json = serde_json::to_value(RulesConfig::default()).unwrap();
        assert_eq!(json["leap_day_birthday"], "mar1");
    }
}
