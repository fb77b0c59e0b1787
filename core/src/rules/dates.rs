//! Calendar dates as the rules use them (DOMAIN.md §1.1, §1.5, §2.4, §2.5, `SAF-ELIG-DATE`).
//!
//! "Today" is the device's Europe/London date, never UTC's; "days between" subtracts local
//! dates; "plus n months" clamps to the month's end. Month and birthday arithmetic is written
//! out here rather than delegated to a date library, because the clamping and the 29 February
//! birthday are policy (§2.5, §9 Q1) and must be visible and tested. No function reads the
//! clock: callers pass the instant or date.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;

use super::config::LeapDayBirthday;
use crate::{error::Error, model::common::ClockTime};

/// The time zone every local date and clock time is in.
pub const LONDON: Tz = chrono_tz::Europe::London;

/// The Europe/London calendar date of an instant (`SAF-ELIG-DATE`): `2026-08-31T23:30:00Z`
/// is 2026-09-01 in London (BST, UTC+1).
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&LONDON).date_naive()
}

/// Whole days from `from` to `to`, subtracting local dates (negative when `to` is earlier).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days()
}

/// Whether `year` is a leap year in the Gregorian calendar.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Number of days in `month` (1–12) of `year`; 0 for a month outside 1–12.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// `d` plus `months` (negative to go back), clamped to the end of the target month:
/// 2025-08-31 + 6 months = 2026-02-28, 2024-02-29 − 12 months = 2023-02-28. `None` only when
/// the result is outside the representable calendar.
pub fn add_months(d: NaiveDate, months: i32) -> Option<NaiveDate> {
    let index = i64::from(d.year()) * 12 + i64::from(d.month0()) + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    let day = d.day().min(days_in_month(year, month));
    NaiveDate::from_ymd_opt(year, month, day)
}

/// `d` plus `years` whole years, clamped like [`add_months`] (29 February → 28 February).
pub fn add_years(d: NaiveDate, years: i32) -> Option<NaiveDate> {
    add_months(d, years.checked_mul(12)?)
}

/// The date in `year` on which someone born on `dob` has their birthday: the same month and
/// day, except that a 29 February birthday in a non-leap year falls on 1 March or 28 February
/// as configured (§2.5). `None` only outside the representable calendar.
pub fn birthday_in(dob: NaiveDate, year: i32, leap: LeapDayBirthday) -> Option<NaiveDate> {
    if dob.month() == 2 && dob.day() == 29 && !is_leap_year(year) {
        return match leap {
            LeapDayBirthday::Mar1 => NaiveDate::from_ymd_opt(year, 3, 1),
            LeapDayBirthday::Feb28 => NaiveDate::from_ymd_opt(year, 2, 28),
        };
    }
    NaiveDate::from_ymd_opt(year, dob.month(), dob.day())
}

/// The date of the `n`-th birthday of someone born on `dob` (§2.5 for 29 February).
pub fn nth_birthday(dob: NaiveDate, n: u32, leap: LeapDayBirthday) -> Option<NaiveDate> {
    let year = dob.year().checked_add(i32::try_from(n).ok()?)?;
    birthday_in(dob, year, leap)
}

/// Age in completed years on local date `d` (§2.5): an age is attained at the start of the
/// birthday, and a 29 February birthday falls on 1 March (`mar1`, default) or 28 February
/// (`feb28`) in non-leap years. DOB 2008-02-29 is 17 on 2026-02-28 and 18 on 2026-03-01 with
/// `mar1`. Before the date of birth the result is negative.
pub fn age(dob: NaiveDate, d: NaiveDate, leap: LeapDayBirthday) -> i32 {
    let years = d.year() - dob.year();
    // Compare (month, day) with this year's birthday rather than constructing it, so no date
    // can be out of range here.
    let birthday = if dob.month() == 2 && dob.day() == 29 && !is_leap_year(d.year()) {
        match leap {
            LeapDayBirthday::Mar1 => (3, 1),
            LeapDayBirthday::Feb28 => (2, 28),
        }
    } else {
        (dob.month(), dob.day())
    };
    if (d.month(), d.day()) < birthday {
        years - 1
    } else {
        years
    }
}

/// The last day (31 August) of the English academic year in which a child born on `dob`
/// turns `n` (§2.4): the school year runs 1 September – 31 August, so a child born from
/// September onwards turns `n` in the school year ending the following August. The limit is
/// inclusive. `None` only outside the representable calendar.
pub fn ay_end(dob: NaiveDate, n: i32) -> Option<NaiveDate> {
    let year = dob
        .year()
        .checked_add(n)?
        .checked_add(i32::from(dob.month() >= 9))?;
    NaiveDate::from_ymd_opt(year, 8, 31)
}

fn format_error(input: &str, what: &str) -> Error {
    Error::InvalidInput {
        rule_id: "FLD-FORMAT".into(),
        detail: format!("`{input}` is not {what}"),
    }
}

/// Parses an ISO 8601 calendar date, exactly `YYYY-MM-DD` with a real day; anything else
/// (other separators, missing zeros, 2026-02-30, surrounding spaces) is `FLD-FORMAT`.
pub fn parse_date(input: &str) -> Result<NaiveDate, Error> {
    let bad = || format_error(input, "a date YYYY-MM-DD");
    let b = input.as_bytes();
    let digits_at = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    if !(digits_at(0..4) && digits_at(5..7) && digits_at(8..10)) {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter()
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    let year = i32::try_from(num(0..4)).map_err(|_| bad())?;
    NaiveDate::from_ymd_opt(year, num(5..7), num(8..10)).ok_or_else(bad)
}

/// Parses a visit clock time, exactly `HH:MM` 24-hour (`FLD-FORMAT` otherwise).
pub fn parse_time(input: &str) -> Result<ClockTime, Error> {
    input.parse()
}

/// Parses an instant: RFC 3339 in UTC with a `Z` (`2026-03-15T10:42:07Z`, fractional
/// seconds allowed). An offset other than `Z`, a missing `T`, or a lower-case `t`/`z` is
/// `FLD-FORMAT`: instants are stored in exactly one form so they compare as text too.
pub fn parse_instant(input: &str) -> Result<DateTime<Utc>, Error> {
    let bad = || {
        format_error(
            input,
            "an RFC 3339 UTC instant such as 2026-03-15T10:42:07Z",
        )
    };
    let b = input.as_bytes();
    if b.len() < 20 || b.get(10) != Some(&b'T') || !input.ends_with('Z') {
        return Err(bad());
    }
    parse_date(input.get(..10).ok_or_else(bad)?)?;
    DateTime::parse_from_rfc3339(input)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| bad())
}

/// Formats an instant the one way instants are stored: RFC 3339 UTC, whole seconds, `Z`.
pub fn format_instant(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn days_in_month_follows_the_gregorian_leap_rule() {
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2026, 13), 0);
    }

    #[test]
    fn add_months_clamps_to_month_end() {
        assert_eq!(add_months(d("2025-08-31"), 6), Some(d("2026-02-28")));
        assert_eq!(add_months(d("2023-08-31"), 6), Some(d("2024-02-29")));
        assert_eq!(add_months(d("2025-01-15"), 12), Some(d("2026-01-15")));
        assert_eq!(add_months(d("2025-10-31"), 1), Some(d("2025-11-30")));
    }

    #[test]
    fn add_months_handles_year_wrap_and_negative_months() {
        assert_eq!(add_months(d("2025-11-30"), 3), Some(d("2026-02-28")));
        assert_eq!(add_months(d("2026-01-31"), -2), Some(d("2025-11-30")));
        assert_eq!(add_months(d("2026-03-15"), 0), Some(d("2026-03-15")));
        assert_eq!(add_months(NaiveDate::MAX, 12), None);
    }
}
