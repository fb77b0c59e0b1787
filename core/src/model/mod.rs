//! Typed records, exactly as `DOMAIN.md` §3 defines them. Pure data: no SQLite, no network.
//!
//! Units follow DOMAIN.md §1.1: body mass and SWL in integer tenths of a kg, stature in integer
//! tenths of a cm, other lengths in mm, money in pence, dates as ISO strings.

pub mod assessment;
pub mod child;
pub mod common;
pub mod equipment;
pub mod referral;
pub mod risk;
pub mod training;
pub mod user;
pub mod visit;
