//! Field checks shared by every record: ranges (`FLD-HARD`, `FLD-SOFT`), required fields
//! (`FLD-REQUIRED`) and canonical-unit parsing (`FLD-FORMAT`). DOMAIN.md §1.1, §1.3.
//!
//! Ranges are inclusive and compare integers in the field's stored unit; where no soft range
//! is given it equals the hard range.

use super::issue::Issue;
use crate::error::Error;

/// How a stored integer is shown to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Integer tenths of a kg, shown `32.4 kg`.
    KgTenths,
    /// Integer tenths of a cm, shown `120.5 cm`.
    CmTenths,
    /// Millimetres.
    Mm,
    /// Degrees.
    Degrees,
    /// Pence, shown `£12.34`.
    Pence,
    /// A plain count.
    Count,
}

impl Unit {
    /// Formats a stored value for messages, e.g. `52.3 kg`.
    pub fn display(self, v: i64) -> String {
        match self {
            Unit::KgTenths => format!("{} kg", tenths(v)),
            Unit::CmTenths => format!("{} cm", tenths(v)),
            Unit::Mm => format!("{v} mm"),
            Unit::Degrees => format!("{v}°"),
            Unit::Pence => format!("£{}.{:02}", v / 100, (v % 100).abs()),
            Unit::Count => v.to_string(),
        }
    }

    /// Formats the bare value (no unit), as stored in issues and acks, e.g. `52.3`.
    pub fn bare(self, v: i64) -> String {
        match self {
            Unit::KgTenths | Unit::CmTenths => tenths(v),
            _ => v.to_string(),
        }
    }
}

fn tenths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{}", v.abs() / 10, v.abs() % 10)
}

/// An inclusive hard and soft range in a field's stored unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// Outside → `FLD-HARD` (ERROR).
    pub hard: (i64, i64),
    /// Inside hard, outside soft → `FLD-SOFT` (WARN).
    pub soft: (i64, i64),
    /// The unit, for messages.
    pub unit: Unit,
}

impl Range {
    /// A range with a distinct soft range.
    pub const fn new(hard: (i64, i64), soft: (i64, i64), unit: Unit) -> Self {
        Self { hard, soft, unit }
    }

    /// A range whose soft range equals its hard range.
    pub const fn hard_only(hard: (i64, i64), unit: Unit) -> Self {
        Self {
            hard,
            soft: hard,
            unit,
        }
    }

    /// Checks `value` at `path` (`label` names the field for a person).
    pub fn check(&self, path: &str, label: &str, value: i64) -> Option<Issue> {
        let shown = self.unit.display(value);
        let bare = self.unit.bare(value);
        let (hl, hh) = self.hard;
        let (sl, sh) = self.soft;
        if value < hl || value > hh {
            Some(
                Issue::error(
                    "FLD-HARD",
                    path,
                    format!(
                        "{label} ({shown}) is outside the possible range {} to {}; check the unit.",
                        self.unit.display(hl),
                        self.unit.display(hh)
                    ),
                )
                .with_value(bare),
            )
        } else if value < sl || value > sh {
            Some(
                Issue::warn(
                    "FLD-SOFT",
                    path,
                    format!(
                        "{label} ({shown}) is unusual (expected {} to {}); confirm it is right.",
                        self.unit.display(sl),
                        self.unit.display(sh)
                    ),
                )
                .with_value(bare),
            )
        } else {
            None
        }
    }
}

/// `FLD-REQUIRED` (ERROR) for a missing value at submit or sign.
pub fn required(path: &str, label: &str) -> Issue {
    Issue::error("FLD-REQUIRED", path, format!("{label} is required."))
}

/// Parses a decimal with at most one decimal place (`"32.4"`, `"32"`) into integer tenths.
/// Anything else (letters, two decimals, NaN, blanks, exponents) is `FLD-FORMAT`.
pub fn parse_tenths(input: &str) -> Result<i64, Error> {
    let s = input.trim();
    let bad = || Error::InvalidInput {
        rule_id: "FLD-FORMAT".into(),
        detail: format!("`{input}` is not a number with at most one decimal place"),
    };
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    if int_part.is_empty() || int_part.len() > 12 || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = int_part.parse().map_err(|_| bad())?;
    let frac = match frac_part {
        None => 0,
        Some(f) if f.len() == 1 && f.as_bytes()[0].is_ascii_digit() => {
            i64::from(f.as_bytes()[0] - b'0')
        }
        Some(_) => return Err(bad()),
    };
    let v = whole * 10 + frac;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEIGHT: Range = Range::new((3, 2500), (20, 1200), Unit::KgTenths);

    #[test]
    fn fld_hard_and_fld_soft_are_inclusive() {
        assert!(WEIGHT.check("w", "Weight", 3).map(|i| i.rule_id) == Some("FLD-SOFT".into()));
        assert_eq!(WEIGHT.check("w", "Weight", 2).unwrap().rule_id, "FLD-HARD");
        assert_eq!(
            WEIGHT.check("w", "Weight", 2501).unwrap().rule_id,
            "FLD-HARD"
        );
        assert!(WEIGHT.check("w", "Weight", 20).is_none());
        assert!(WEIGHT.check("w", "Weight", 1200).is_none());
        assert_eq!(
            WEIGHT.check("w", "Weight", 1201).unwrap().rule_id,
            "FLD-SOFT"
        );
    }

    #[test]
    fn fld_hard_message_names_value_and_unit() {
        let i = WEIGHT
            .check("child_weight_kg", "The child's weight", 2600)
            .unwrap();
        assert!(
            i.message
                .starts_with("[FLD-HARD] The child's weight (260.0 kg)"),
            "{}",
            i.message
        );
        assert_eq!(i.value.as_deref(), Some("260.0"));
    }

    #[test]
    fn fld_format_accepts_one_decimal_only() {
        assert_eq!(parse_tenths("32.4").unwrap(), 324);
        assert_eq!(parse_tenths("32").unwrap(), 320);
        assert_eq!(parse_tenths(" 0.3 ").unwrap(), 3);
        assert_eq!(parse_tenths("-1.5").unwrap(), -15);
        for bad in [
            "32.45",
            "abc",
            "",
            "NaN",
            "1e3",
            ".5",
            "3.",
            "inf",
            "1,5",
            "99999999999999",
        ] {
            match parse_tenths(bad) {
                Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-FORMAT"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn fld_required_is_an_error() {
        let i = required("visit_date", "Visit date");
        assert!(i.is_error());
        assert_eq!(i.rule_id, "FLD-REQUIRED");
    }

    #[test]
    fn pence_display() {
        assert_eq!(Unit::Pence.display(123456), "£1234.56");
    }
}
