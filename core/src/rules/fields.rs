//! Field checks shared by every record: ranges (`FLD-HARD`, `FLD-SOFT`), required fields
//! (`FLD-REQUIRED`) and canonical-unit parsing (`FLD-FORMAT`). DOMAIN.md §1.1, §1.3.
//!
//! Ranges are inclusive and compare integers in the field's stored unit; where no soft range
//! is given it equals the hard range.

use chrono::NaiveDate;
use serde::{de::DeserializeOwned, Serialize};

use super::issue::{Issue, Severity};
use crate::error::Error;

/// When a record is checked: while drafting (every value checked, nothing required) or for
/// sign/submit (`FLD-REQUIRED` and the other completeness rules also apply). Drafts always
/// save; issues only flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Stage {
    /// Editing a draft: values are checked, missing ones are not reported.
    #[default]
    Draft,
    /// About to sign or submit: missing required values are reported too.
    Final,
}

impl Stage {
    /// Whether completeness rules apply.
    pub fn is_final(self) -> bool {
        self == Stage::Final
    }
}

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

/// Checks an optional value against a range, pushing any issue onto `out`.
pub fn check_opt(out: &mut Vec<Issue>, range: &Range, path: &str, label: &str, v: Option<i64>) {
    if let Some(v) = v {
        out.extend(range.check(path, label, v));
    }
}

/// Pushes `FLD-REQUIRED` when `present` is false at the final stage.
pub fn require(out: &mut Vec<Issue>, stage: Stage, present: bool, path: &str, label: &str) {
    if stage.is_final() && !present {
        out.push(required(path, label));
    }
}

/// Whether an optional text holds something other than blanks.
pub fn has_text(s: Option<&str>) -> bool {
    s.is_some_and(|s| !s.trim().is_empty())
}

/// A date outside its allowed range (`FLD-HARD`, ERROR) or its usual range (`FLD-SOFT`,
/// WARN); `detail` says which bound, e.g. "must not be after the signing date 2026-03-15".
pub fn date_issue(
    severity: Severity,
    path: &str,
    label: &str,
    d: NaiveDate,
    detail: &str,
) -> Issue {
    let rule = match severity {
        Severity::Error => "FLD-HARD",
        Severity::Warn => "FLD-SOFT",
    };
    Issue::new(
        rule,
        path,
        severity,
        format!("{label} ({d}) {detail}."),
        Some(d.to_string()),
    )
}

/// A clinical field with concurrent values nobody has resolved yet (`CF-CLINICAL`): its
/// path and every candidate value, in the JSON view of the document layout.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenConflict {
    /// The field path, e.g. `child_weight_kg` or `measurements.seat_width_mm.value`.
    pub path: String,
    /// The concurrent values.
    pub candidates: Vec<serde_json::Value>,
}

/// Above this many candidate combinations, [`worst_case`] varies one conflicting path at a
/// time instead of every combination, so a record with many conflicts stays cheap to check.
pub const MAX_WORST_CASE_COMBINATIONS: usize = 1024;

/// `CF-WORST` and `CF-BLOCK`: runs `validate` on the record with every combination of the
/// candidate values of its open conflicts and returns the worst result — the union of all
/// issues, keeping per (rule, path) the highest severity — plus one `CF-BLOCK` ERROR per
/// conflicting path, since nothing is signed, submitted or moved on while a clinical value is
/// undecided. A candidate that does not fit the model is reported as `FLD-FORMAT` (ERROR)
/// on its path and left out of the combinations.
pub fn worst_case<R, F>(
    record: &R,
    conflicts: &[OpenConflict],
    validate: F,
) -> Result<Vec<Issue>, Error>
where
    R: Serialize + DeserializeOwned,
    F: Fn(&R) -> Vec<Issue>,
{
    let base = serde_json::to_value(record)
        .map_err(|e| Error::Internal(format!("serialize record for CF-WORST: {e}")))?;
    let mut worst = validate(record);

    // Candidates that fit the model, per conflict.
    let mut usable: Vec<(&str, Vec<&serde_json::Value>)> = Vec::new();
    for c in conflicts {
        let mut ok = Vec::new();
        for v in &c.candidates {
            let mut doc = base.clone();
            set_path(&mut doc, &c.path, v.clone())?;
            if serde_json::from_value::<R>(doc).is_ok() {
                ok.push(v);
            } else {
                merge_worst(
                    &mut worst,
                    vec![Issue::error(
                        "FLD-FORMAT",
                        c.path.as_str(),
                        format!("A concurrent value ({v}) does not fit this field."),
                    )
                    .with_value(v.to_string())],
                );
            }
        }
        if !ok.is_empty() {
            usable.push((c.path.as_str(), ok));
        }
    }

    let combos = usable
        .iter()
        .try_fold(1usize, |n, (_, c)| n.checked_mul(c.len()))
        .filter(|n| *n <= MAX_WORST_CASE_COMBINATIONS);
    let run =
        |assignment: &[(&str, &serde_json::Value)], worst: &mut Vec<Issue>| -> Result<(), Error> {
            let mut doc = base.clone();
            for (path, v) in assignment {
                set_path(&mut doc, path, (*v).clone())?;
            }
            // Each candidate fitted alone; together they still fit unless two paths overlap, in
            // which case the later one wins, exactly as set.
            if let Ok(r) = serde_json::from_value::<R>(doc) {
                merge_worst(worst, validate(&r));
            }
            Ok(())
        };
    match combos {
        Some(n) => {
            for mut k in 0..n {
                let mut assignment = Vec::with_capacity(usable.len());
                for (path, cands) in &usable {
                    assignment.push((*path, cands[k % cands.len()]));
                    k /= cands.len();
                }
                run(&assignment, &mut worst)?;
            }
        }
        None => {
            for (path, cands) in &usable {
                for v in cands {
                    run(&[(*path, *v)], &mut worst)?;
                }
            }
        }
    }

    for c in conflicts {
        let unit = unit_of_path(&c.path);
        let shown: Vec<String> = c
            .candidates
            .iter()
            .map(|v| match (unit, v.as_i64()) {
                (Some(u), Some(n)) => u.display(n),
                _ => v.to_string(),
            })
            .collect();
        worst.push(Issue::error(
            "CF-BLOCK",
            c.path.as_str(),
            format!(
                "This field has unresolved concurrent values ({}); choose one before signing, \
                 submitting or moving the record on.",
                shown.join(" / ")
            ),
        ));
    }
    Ok(worst)
}

/// The stored unit of a field, from its name's suffix (DOMAIN.md §1.1: `_kg` tenths of a kg,
/// `_cm` tenths of a cm, `_mm`, `_deg`, `_pence`), looking through the path from its end so
/// that `measurements.weight_kg.value` and `weights.<id>.value_kg` are both kg. `None` for a
/// field without a unit; messages then show the value as stored.
pub fn unit_of_path(path: &str) -> Option<Unit> {
    path.rsplit('.').find_map(|seg| {
        [
            ("_kg", Unit::KgTenths),
            ("_cm", Unit::CmTenths),
            ("_mm", Unit::Mm),
            ("_deg", Unit::Degrees),
            ("_pence", Unit::Pence),
        ]
        .into_iter()
        .find(|(suffix, _)| seg.ends_with(suffix))
        .map(|(_, u)| u)
    })
}

/// Adds `new` issues to `worst`, keeping one issue per (rule, path): the more severe one, or
/// the first seen at equal severity.
pub fn merge_worst(worst: &mut Vec<Issue>, new: Vec<Issue>) {
    for issue in new {
        match worst
            .iter_mut()
            .find(|w| w.rule_id == issue.rule_id && w.path == issue.path)
        {
            Some(w) if issue.severity > w.severity => *w = issue,
            Some(_) => {}
            None => worst.push(issue),
        }
    }
}

/// Sets `value` at a dotted path in a JSON view, creating objects (over nulls) on the way.
fn set_path(
    doc: &mut serde_json::Value,
    path: &str,
    value: serde_json::Value,
) -> Result<(), Error> {
    let bad = |why: &str| Error::InvalidInput {
        rule_id: "CF-WORST".into(),
        detail: format!("conflict path `{path}` {why}"),
    };
    let mut segments = path.split('.').peekable();
    let mut cur = doc;
    while let Some(seg) = segments.next() {
        if seg.is_empty() {
            return Err(bad("has an empty segment"));
        }
        if cur.is_null() {
            *cur = serde_json::Value::Object(serde_json::Map::new());
        }
        let obj = cur
            .as_object_mut()
            .ok_or_else(|| bad("crosses a value that is not a map"))?;
        if segments.peek().is_none() {
            obj.insert(seg.to_owned(), value);
            return Ok(());
        }
        cur = obj.entry(seg.to_owned()).or_insert(serde_json::Value::Null);
    }
    Err(bad("is empty"))
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
