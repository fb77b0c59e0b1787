//! Record-keeping rules that are pure decisions (DOMAIN.md §4, §5): how long records are kept
//! (`RK-RETENTION`), when a device may drop its local copy (`RK-LOCAL-EVICT`), what an audit
//! entry holds (`RK-AUDIT`), and when a device that has not synced must lock
//! (`SAF-DEVICE-LOST`).
//!
//! The store and the server act on these answers; nothing here reads the clock or a disk.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    config::{LeapDayBirthday, RulesConfig},
    dates,
};
use crate::{
    error::Error,
    ids::RecordId,
    model::{child::Child, common::Service, referral::Referral},
};

/// How long a record must be kept (`RK-RETENTION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", content = "date", rename_all = "snake_case")]
pub enum Retention {
    /// An episode is open: nothing is disposed of.
    EpisodeOpen,
    /// Keep to the end of this date; from the day after, the record may be listed for an
    /// approver to authorise disposal.
    Until(NaiveDate),
    /// Not enough is known to compute a date (no date of birth, no episode): keep.
    Undetermined,
}

impl Retention {
    /// Whether the record is due for review for disposal on local date `today`. Only ever
    /// lists a record for an approver; it never disposes of anything itself.
    pub fn is_due(self, today: NaiveDate) -> bool {
        matches!(self, Retention::Until(d) if today > d)
    }

    /// The later of two retentions: an open episode or an undetermined one outweighs any
    /// date, so one open referral keeps the whole child's record.
    pub fn max(self, other: Retention) -> Retention {
        use Retention::*;
        match (self, other) {
            (EpisodeOpen, _) | (_, EpisodeOpen) => EpisodeOpen,
            (Undetermined, _) | (_, Undetermined) => Undetermined,
            (Until(a), Until(b)) => Until(a.max(b)),
        }
    }
}

/// The retention of one episode (`RK-RETENTION`, §4, §9 Q8).
///
/// Health: until the 25th birthday, or the 26th if the young person was 17 when treatment
/// ended (`closed_on`); if 18 or over at discharge, the later of the 25th birthday and 8 years
/// after `closed_on`; after death, 8 years after death. Social care: the council's schedule
/// ([`crate::rules::config::SocialCareRetention`]). Nothing while the episode is open.
pub fn retention_date(
    service: Service,
    date_of_birth: NaiveDate,
    closed_on: Option<NaiveDate>,
    deceased_on: Option<NaiveDate>,
    config: &RulesConfig,
) -> Retention {
    let Some(closed) = closed_on else {
        return Retention::EpisodeOpen;
    };
    let leap = config.leap_day_birthday;
    let date = match service {
        Service::Health => health_retention(date_of_birth, closed, deceased_on, leap),
        Service::SocialCare => {
            let s = config.social_care_retention;
            match deceased_on {
                Some(death) => years_after(death, s.years_after_death),
                None => later(
                    dates::nth_birthday(date_of_birth, s.until_birthday, leap),
                    years_after(closed, s.years_after_closure),
                ),
            }
        }
    };
    date.map_or(Retention::Undetermined, Retention::Until)
}

fn health_retention(
    dob: NaiveDate,
    closed: NaiveDate,
    deceased_on: Option<NaiveDate>,
    leap: LeapDayBirthday,
) -> Option<NaiveDate> {
    if let Some(death) = deceased_on {
        return years_after(death, 8);
    }
    match dates::age(dob, closed, leap) {
        ..=16 => dates::nth_birthday(dob, 25, leap),
        17 => dates::nth_birthday(dob, 26, leap),
        _ => later(dates::nth_birthday(dob, 25, leap), years_after(closed, 8)),
    }
}

fn years_after(d: NaiveDate, years: u32) -> Option<NaiveDate> {
    dates::add_years(d, i32::try_from(years).ok()?)
}

/// The later of two dates; if either cannot be computed the result cannot be either, so
/// nothing is disposed of on a partial answer.
fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    Some(a?.max(b?))
}

/// The retention of everything held about a child: the latest over its referrals (entered in
/// error ones included, since they are kept too). Any open episode keeps it all; a child
/// with no referral or no date of birth is [`Retention::Undetermined`].
pub fn child_retention(child: &Child, referrals: &[Referral], config: &RulesConfig) -> Retention {
    let Some(dob) = child.date_of_birth else {
        return Retention::Undetermined;
    };
    let mut acc: Option<Retention> = None;
    for r in referrals {
        let this = match r.service {
            Some(service) => retention_date(service, dob, r.closed_on, child.deceased_on, config),
            None if r.is_open() => Retention::EpisodeOpen,
            None => Retention::Undetermined,
        };
        acc = Some(acc.map_or(this, |a| a.max(this)));
    }
    acc.unwrap_or(Retention::Undetermined)
}

/// A record's sync state on this device (`SAF-LOST-EDIT`), as the sync client reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalSyncState {
    /// Never sent to the server.
    LocalOnly,
    /// Local changes the server has not acknowledged.
    Pending,
    /// The server's acknowledged heads contain every local change.
    Synced,
    /// The record has an unresolved conflict.
    Conflict,
}

/// `RK-LOCAL-EVICT`: whether the device may drop its local copy of a record. Only when the
/// server-acknowledged heads contain every local change (`Synced`); a record with local-only
/// or pending changes is never dropped, and neither is one with an open conflict, which a
/// person on this device may be about to resolve.
pub fn may_evict_locally(state: LocalSyncState) -> bool {
    state == LocalSyncState::Synced
}

/// What an audit entry records (`RK-AUDIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    /// The record was viewed.
    View,
    /// The record was exported (needs a purpose).
    Export,
    /// The record was printed.
    Print,
}

/// Longest purpose an audit entry keeps.
pub const AUDIT_PURPOSE_MAX_CHARS: usize = 500;

/// One audit-log entry (`RK-AUDIT`): who did what to which record, on which device, when,
/// and — for exports — why. Written offline too; never edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The user.
    pub user_id: Uuid,
    /// The device.
    pub device_id: Uuid,
    /// The record.
    pub record_id: RecordId,
    /// View, export or print.
    pub action: AuditAction,
    /// When (UTC).
    pub at: DateTime<Utc>,
    /// Why: required for exports, optional otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

impl AuditEntry {
    /// A checked entry. An export without a purpose (or with a blank one), or a purpose over
    /// 500 characters, is refused with `RK-AUDIT`. A blank purpose on a view or print is
    /// dropped rather than stored.
    pub fn new(
        user_id: Uuid,
        device_id: Uuid,
        record_id: RecordId,
        action: AuditAction,
        at: DateTime<Utc>,
        purpose: Option<String>,
    ) -> Result<Self, Error> {
        let purpose = purpose
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let refuse = |detail: String| Error::InvalidInput {
            rule_id: "RK-AUDIT".into(),
            detail,
        };
        if action == AuditAction::Export && purpose.is_none() {
            return Err(refuse("an export needs a purpose".into()));
        }
        if let Some(n) = purpose
            .as_deref()
            .map(|p| p.chars().count())
            .filter(|n| *n > AUDIT_PURPOSE_MAX_CHARS)
        {
            return Err(refuse(format!(
                "the purpose is {n} characters; at most {AUDIT_PURPOSE_MAX_CHARS} fit"
            )));
        }
        Ok(Self {
            user_id,
            device_id,
            record_id,
            action,
            at,
            purpose,
        })
    }
}

/// `SAF-DEVICE-LOST`: whether records open only after online re-authentication. True once
/// more than `lock_after_days_without_sync` days (local dates) have passed since the last
/// successful sync, and also when `today` is before the last sync's date: a clock set back
/// would otherwise postpone the lock for ever, and re-authenticating online also corrects it.
pub fn lock_required(last_sync: DateTime<Utc>, today: NaiveDate, config: &RulesConfig) -> bool {
    let days = dates::days_between(dates::local_date(last_sync), today);
    days < 0 || days > config.lock_after_days_without_sync
}
