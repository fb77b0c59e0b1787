//! The rules of `DOMAIN.md`, as pure functions over typed records. No rule reads the clock:
//! date rules take an explicit `as_of` (DOMAIN.md §1.5).

pub mod assessment;
pub mod child;
pub mod config;
pub mod dates;
pub mod eligibility;
pub mod equipment;
pub mod fields;
pub mod issue;
pub mod mh;
pub mod nhs;
pub mod record_keeping;
pub mod referral_outcome;
pub mod training;
pub mod visits;
pub mod voice;
pub mod workflow;
