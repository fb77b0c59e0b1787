//! Values in the units clinicians read (DOMAIN.md §1.1), never the stored integers: body mass
//! and SWL stored as tenths of a kg print as `32.4 kg`, stature as `123.5 cm`, lengths as
//! `450 mm`, money as `£1,234.50`, dates as `15 Mar 2026`, instants in Europe/London time.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::London;

/// Tenths (stored) → `"32.4"`; negative values keep their sign.
fn tenths(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{}", a / 10, a % 10)
}

/// Body mass or safe working load stored as tenths of a kg: `324` → `32.4 kg`.
pub fn kg(tenths_kg: i64) -> String {
    format!("{} kg", tenths(tenths_kg))
}

/// Stature stored as tenths of a cm: `1235` → `123.5 cm`.
pub fn cm(tenths_cm: i64) -> String {
    format!("{} cm", tenths(tenths_cm))
}

/// A length stored in mm: `450` → `450 mm`.
pub fn mm(v: i64) -> String {
    format!("{v} mm")
}

/// An angle in degrees: `20` → `20°`.
pub fn degrees(v: i64) -> String {
    format!("{v}°")
}

/// Money stored in pence: `123450` → `£1,234.50`.
pub fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let a = pence.unsigned_abs();
    let whole = (a / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}£{grouped}.{:02}", a % 100)
}

/// A calendar date as people write it in the UK: `15 Mar 2026`.
pub fn date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// An optional date, or an em dash.
pub fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_else(|| NOT_RECORDED.to_owned())
}

/// An instant in Europe/London time with the zone's abbreviation: `15 Mar 2026, 10:42 GMT`
/// (`BST` in summer).
pub fn instant(at: DateTime<Utc>) -> String {
    at.with_timezone(&London)
        .format("%-d %b %Y, %H:%M %Z")
        .to_string()
}

/// A stored field value (JSON view, stored units) in the unit its path names: `…_kg` and
/// `…_cm` hold tenths, `…_mm` millimetres, `…_deg` degrees, `…_pence` pence. Used for the
/// signed and new values of addendum field changes and for request measurements, so a stored
/// integer never reaches the page bare.
pub fn field_value(path: &str, v: &serde_json::Value) -> String {
    let leaf = path.rsplit('.').next().unwrap_or(path);
    match v {
        serde_json::Value::Null => NOT_RECORDED.to_owned(),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) if leaf.ends_with("_kg") => kg(i),
            Some(i) if leaf.ends_with("_cm") => cm(i),
            Some(i) if leaf.ends_with("_mm") => mm(i),
            Some(i) if leaf.ends_with("_deg") => degrees(i),
            Some(i) if leaf.ends_with("_pence") => pounds(i),
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => match s.parse::<NaiveDate>() {
            Ok(d) => date(d),
            Err(_) => s.clone(),
        },
        serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
        other => other.to_string(),
    }
}

/// What a report prints for an empty field.
pub const NOT_RECORDED: &str = "not recorded";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_tenths_print_in_clinical_units_never_raw() {
        assert_eq!(kg(324), "32.4 kg");
        assert_eq!(kg(3), "0.3 kg");
        assert_eq!(kg(2500), "250.0 kg");
        assert_eq!(cm(1235), "123.5 cm");
        assert_eq!(mm(450), "450 mm");
        assert_eq!(degrees(20), "20°");
        assert_eq!(kg(-5), "-0.5 kg");
    }

    #[test]
    fn addendum_values_print_in_the_unit_their_path_names() {
        use serde_json::json;
        assert_eq!(field_value("child_weight_kg", &json!(330)), "33.0 kg");
        assert_eq!(
            field_value("sections.D.entrance_steps.riser_max_mm", &json!(180)),
            "180 mm"
        );
        assert_eq!(
            field_value("sections.E.tilt_in_space_deg", &json!(15)),
            "15°"
        );
        assert_eq!(
            field_value("sections.I.next_review_on", &json!("2026-09-01")),
            "1 Sep 2026"
        );
        assert_eq!(field_value("x", &serde_json::Value::Null), NOT_RECORDED);
    }

    #[test]
    fn pence_print_as_pounds_with_grouping() {
        assert_eq!(pounds(123_450), "£1,234.50");
        assert_eq!(pounds(5), "£0.05");
        assert_eq!(pounds(100_000_000), "£1,000,000.00");
    }

    #[test]
    fn instants_print_in_london_time_with_bst_in_summer() {
        let winter: DateTime<Utc> = "2026-03-15T10:42:07Z".parse().unwrap();
        assert_eq!(instant(winter), "15 Mar 2026, 10:42 GMT");
        let summer: DateTime<Utc> = "2026-08-31T23:30:00Z".parse().unwrap();
        assert_eq!(instant(summer), "1 Sep 2026, 00:30 BST");
    }
}
