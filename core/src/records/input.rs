//! What the record service accepts from typed input, whatever a client sends: paths only the
//! workflow, signing, acknowledgement and breach calls write (the derived and system paths),
//! per-field text limits (`FLD-TEXT-LENGTH`) and characters that can disguise a name
//! (`FLD-TEXT-CHARS`: NUL and other control characters, bidirectional controls such as
//! U+202E, which can make a banner show another child's name). Incoming documents are not
//! refused (nothing received is lost): their text is checked by [`text_issues`] and shown
//! through [`neutralise`].

use serde_json::Value as Json;

use crate::{
    error::{Error, Result},
    rules::issue::Issue,
};

/// The longest name (DOMAIN.md §3.2: names are 1–100 characters).
pub const NAME_MAX_CHARS: usize = 100;
/// The longest value of any other text field (notes, justifications, concerns, addenda,
/// codes, references).
pub const TEXT_MAX_CHARS: usize = 10_000;

/// Derived and system paths and the call that writes each: direct edits of them are refused.
const SERVICE_ONLY: [(&str, &str, &str); 14] = [
    ("transitions", "EQ-TRANSITION", "the workflow (transition)"),
    ("requested_by", "EQ-TRANSITION", "creating the request"),
    ("requested_at", "EQ-TRANSITION", "creating the request"),
    (
        "status",
        "EQ-TRANSITION",
        "the workflow (derived from transitions)",
    ),
    ("flags", "CF-RULE-BREACH", "breach handling"),
    (
        "sign_race_decisions",
        "CF-SIGN-RACE",
        "adopting or rejecting a change",
    ),
    ("signature", "RK-SIGN", "signing"),
    ("countersignature", "RK-COUNTERSIGN", "countersigning"),
    ("addenda", "RK-ADDENDUM", "adding an addendum"),
    ("acks", "FLD-ACK", "acknowledging a warning"),
    ("photos", "RK-PHOTO-META", "the photo calls"),
    (
        "family_signatures",
        "RK-SIGN-FAMILY",
        "recording a family signature",
    ),
    ("record_status", "RK-EIE", "marking entered in error"),
    (
        "eligibility",
        "S-INELIGIBLE",
        "evaluating eligibility (derived)",
    ),
];

/// Refuses a direct edit of a derived or system path (`NotPermitted` with the rule of the call
/// that owns it). The check looks at every segment, so a signature nested in a section
/// (`sections.J.signature`) is covered too.
pub fn guard_path(path: &str) -> Result<()> {
    for seg in path.split('.') {
        if let Some((_, rule, owner)) = SERVICE_ONLY.iter().find(|(p, _, _)| *p == seg) {
            return Err(Error::NotPermitted {
                rule_id: (*rule).into(),
                detail: format!("`{path}` is written only by {owner}, not by a direct edit"),
            });
        }
    }
    Ok(())
}

/// Whether a field is a name (`given_name`, `family_name`, `preferred_name`, a carer's `name`).
fn is_name(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    last == "name" || last.ends_with("_name")
}

/// The character limit of the text field at `path`.
pub fn max_chars(path: &str) -> usize {
    if is_name(path) {
        NAME_MAX_CHARS
    } else {
        TEXT_MAX_CHARS
    }
}

/// Whether `c` is refused in text (`FLD-TEXT-CHARS`): NUL and the other C0/C1 controls (text
/// other than a name keeps tab and line breaks), and the bidirectional controls (U+061C,
/// U+200E, U+200F, U+202A–U+202E, U+2066–U+2069).
pub fn is_forbidden_char(c: char, name: bool) -> bool {
    let bidi = matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    let control = c.is_control() && (name || !matches!(c, '\t' | '\n' | '\r'));
    bidi || control
}

/// The problems of one string value, as issues on `path` (ERROR).
fn problems(path: &str, text: &str) -> Vec<Issue> {
    let mut out = Vec::new();
    let name = is_name(path);
    if let Some(c) = text.chars().find(|c| is_forbidden_char(*c, name)) {
        out.push(
            Issue::error(
                "FLD-TEXT-CHARS",
                path,
                format!(
                    "The text contains a control or bidirectional character (U+{:04X}), which \
                     can hide or reorder what is shown.",
                    u32::from(c)
                ),
            )
            .with_value(format!("U+{:04X}", u32::from(c))),
        );
    }
    let max = max_chars(path);
    let n = text.chars().count();
    if n > max {
        out.push(
            Issue::error(
                "FLD-TEXT-LENGTH",
                path,
                format!("The text is {n} characters; at most {max} fit this field."),
            )
            .with_value(n.to_string()),
        );
    }
    out
}

/// Checks typed input for a string field: refused with `InvalidInput` (`FLD-TEXT-CHARS`,
/// `FLD-TEXT-LENGTH`) before anything is written.
pub fn check_text(path: &str, text: &str) -> Result<()> {
    match problems(path, text).into_iter().next() {
        None => Ok(()),
        Some(i) => Err(Error::InvalidInput {
            rule_id: i.rule_id,
            detail: i.message,
        }),
    }
}

/// The text problems of a whole record's JSON view (an incoming document is kept as it came;
/// these issues flag it and block sign and submit). Item-map keys are path segments, as in
/// issue paths.
pub fn text_issues(json: &Json) -> Vec<Issue> {
    let mut out = Vec::new();
    walk(json, &mut String::new(), &mut out, 0);
    out
}

fn walk(v: &Json, path: &mut String, out: &mut Vec<Issue>, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Json::String(s) => out.extend(problems(path, s)),
        Json::Object(m) => {
            for (k, v) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(v, path, out, depth + 1);
                path.truncate(len);
            }
        }
        Json::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!(".{i}"));
                walk(v, path, out, depth + 1);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Text as it may be shown: refused characters removed and the value cut to `max` characters
/// (with "…"), so a name from an incoming document cannot reorder or hide the banner.
pub fn neutralise(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !is_forbidden_char(*c, true))
        .collect();
    if clean.chars().count() > max {
        let mut cut: String = clean.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fld_text_chars_nul_and_bidi_controls_are_refused_in_names() {
        for bad in [
            "Amara\u{0}",
            "\u{202e}arama",
            "A\u{2066}b",
            "A\u{200f}",
            "A\nB",
        ] {
            match check_text("given_name", bad) {
                Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-TEXT-CHARS"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(check_text("given_name", "Zoë O'Brien-Nowak").is_ok());
        // Other text keeps line breaks and tabs, never a bidi override or NUL.
        assert!(check_text("notes", "line 1\n\tline 2").is_ok());
        assert!(check_text("notes", "x\u{202e}y").is_err());
        assert!(check_text("notes", "x\u{0}y").is_err());
    }

    #[test]
    fn fld_text_length_names_100_other_text_10000() {
        assert!(check_text("family_name", &"é".repeat(100)).is_ok());
        match check_text("family_name", &"é".repeat(101)) {
            Err(Error::InvalidInput { rule_id, .. }) => assert_eq!(rule_id, "FLD-TEXT-LENGTH"),
            other => panic!("{other:?}"),
        }
        assert!(check_text("carers.x.name", &"a".repeat(101)).is_err());
        assert!(check_text("notes", &"a".repeat(10_000)).is_ok());
        assert!(check_text("notes", &"a".repeat(10_001)).is_err());
    }

    #[test]
    fn neutralise_removes_bidi_controls_and_cuts_long_names() {
        assert_eq!(neutralise("\u{202e}ramA\u{0}", 100), "ramA");
        assert_eq!(
            neutralise(&"a".repeat(105), 100),
            format!("{}…", "a".repeat(100))
        );
    }

    #[test]
    fn guard_refuses_derived_and_system_paths() {
        for (path, rule) in [
            ("transitions", "EQ-TRANSITION"),
            ("transitions.abc.role", "EQ-TRANSITION"),
            ("requested_by", "EQ-TRANSITION"),
            ("status", "EQ-TRANSITION"),
            ("flags.x", "CF-RULE-BREACH"),
            ("signature.user_id", "RK-SIGN"),
            ("sections.J.signature", "RK-SIGN"),
            ("countersignature", "RK-COUNTERSIGN"),
            ("acks", "FLD-ACK"),
        ] {
            match guard_path(path) {
                Err(Error::NotPermitted { rule_id, .. }) => assert_eq!(rule_id, rule, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(guard_path("sections.D.entrance_steps.count").is_ok());
        assert!(guard_path("given_name").is_ok());
    }
}
