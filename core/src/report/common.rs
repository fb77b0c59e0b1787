//! Blocks every document shares: the child's identity line, the producer line, the record's
//! state (draft, entered in error), signatures with HCPC numbers, addenda, and code labels.

use serde::Serialize;

use super::{
    fonts::{self, Fonts},
    layout::Block,
    units, People, ReportInput,
};
use crate::model::{
    child::Child,
    common::{live, Addendum, Item, RecordStatus, SignState, Signature},
    user::Role,
};

/// Watermark and header text of an unsigned record (`RK-REPORT-STATE`).
pub const DRAFT: &str = "DRAFT — not signed";
/// Watermark and header text of a record entered in error (`RK-REPORT-STATE`, `RK-EIE`).
pub const ENTERED_IN_ERROR: &str = "ENTERED IN ERROR";

/// The child's full name as the header prints it (preferred name in brackets).
pub fn child_name(child: &Child) -> String {
    let given = child.given_name.as_deref().unwrap_or("").trim();
    let family = child.family_name.as_deref().unwrap_or("").trim();
    let name = match child.preferred_name.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() && p != given => format!("{given} ({p}) {family}"),
        _ => format!("{given} {family}"),
    };
    let name = name.trim().to_owned();
    if name.is_empty() {
        "Name not recorded".to_owned()
    } else {
        name
    }
}

/// Date of birth and NHS number (3-3-4) as the header prints them on every page.
pub fn child_ids(child: &Child) -> String {
    let dob = child
        .date_of_birth
        .map(units::date)
        .unwrap_or_else(|| units::NOT_RECORDED.to_owned());
    let nhs = child
        .nhs_number_display()
        .unwrap_or_else(|| units::NOT_RECORDED.to_owned());
    format!("Born {dob}  ·  NHS No. {nhs}")
}

/// A role in words.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Ap => "Assistant practitioner",
        Role::Ot => "Occupational therapist",
        Role::Approver => "Occupational therapist (approver)",
        Role::System => "System",
    }
}

/// The footer's producer line: who, role, when in Europe/London time, and the purpose.
pub fn produced_line(input: &ReportInput<'_>) -> String {
    let p = input.producer;
    format!(
        "Produced by {} ({}) on {} · {}",
        input.people.name(p.user_id),
        role(p.role),
        units::instant(p.at),
        p.purpose.audit_text()
    )
}

/// A code (`child_home`, `hoist_mobile`) in words (`Child home`, `Hoist mobile`).
pub fn label<T: Serialize>(code: &T) -> String {
    let raw = match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => return units::NOT_RECORDED.to_owned(),
    };
    let words: Vec<String> = raw
        .split('_')
        .map(|w| match w {
            "dfg" | "camhs" | "ld" | "nhs" | "gp" | "ot" | "ap" => w.to_uppercase(),
            _ => w.to_owned(),
        })
        .collect();
    let words = words.join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// An optional code in words.
pub fn opt_label<T: Serialize>(code: Option<&T>) -> String {
    code.map(label)
        .unwrap_or_else(|| units::NOT_RECORDED.to_owned())
}

/// Codes of a set in words, comma-separated; `none` when empty.
pub fn labels<'a, T: Serialize + 'a>(codes: impl IntoIterator<Item = &'a T>) -> String {
    let v: Vec<String> = codes.into_iter().map(label).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}

/// Optional text, or "not recorded".
pub fn text(t: Option<&str>) -> String {
    match t.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => units::NOT_RECORDED.to_owned(),
    }
}

/// Yes / no / not recorded.
pub fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => "Yes".to_owned(),
        Some(false) => "No".to_owned(),
        None => units::NOT_RECORDED.to_owned(),
    }
}

/// Header state and watermark for a signable record (`RK-REPORT-STATE`): drafts and records
/// entered in error are marked on every page; an AP-signed record says it awaits
/// countersignature.
pub fn sign_marks(state: SignState) -> (Option<String>, Option<String>) {
    match state {
        SignState::Draft => (Some(DRAFT.to_owned()), Some(DRAFT.to_owned())),
        SignState::EnteredInError => (
            Some(ENTERED_IN_ERROR.to_owned()),
            Some(ENTERED_IN_ERROR.to_owned()),
        ),
        SignState::AwaitingCountersignature => (Some("Awaiting countersignature".to_owned()), None),
        SignState::Signed | SignState::Countersigned => (None, None),
    }
}

/// The alert that opens a report of a record entered in error: who, when and why (`RK-EIE`).
pub fn entered_in_error(status: &RecordStatus, people: &People) -> Vec<Block> {
    match status {
        RecordStatus::Active => Vec::new(),
        RecordStatus::EnteredInError {
            reason,
            user_id,
            at,
        } => vec![
            Block::Alert(format!(
                "{ENTERED_IN_ERROR}: marked by {} on {}. Reason: {}",
                people.name(*user_id),
                units::instant(*at),
                reason.trim()
            )),
            Block::Alert(
                "Do not act on this record. It is kept, with its history, only as the record of \
                 what was written."
                    .to_owned(),
            ),
        ],
    }
}

fn signer(sig: &Signature, people: &People) -> String {
    let hcpc = match sig.hcpc_number.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => format!(", HCPC number {n}"),
        _ if sig.role == Role::Ap => ", not HCPC-registered".to_owned(),
        _ => ", HCPC number not recorded".to_owned(),
    };
    format!("{} — {}{hcpc}", people.name(sig.user_id), role(sig.role))
}

/// The signature section (`RK-SIGN`, `RK-COUNTERSIGN`): signer, role, HCPC number and date,
/// the countersignature when there is one, and addenda in order with their reasons
/// (`RK-ADDENDUM`, `RK-AMEND`).
pub fn signatures(
    heading: &str,
    state: SignState,
    signature: Option<&Signature>,
    countersignature: Option<&Signature>,
    addenda: &[Item<Addendum>],
    people: &People,
) -> Vec<Block> {
    let mut b = vec![Block::Heading(heading.to_owned())];
    match signature {
        Some(sig) => {
            b.push(Block::field("Signed by", signer(sig, people)));
            b.push(Block::field("Signed on", units::instant(sig.signed_at)));
        }
        None => b.push(Block::Alert(format!(
            "{DRAFT}. This record has not been signed; its content may still change."
        ))),
    }
    match countersignature {
        Some(cs) => {
            b.push(Block::field("Countersigned by", signer(cs, people)));
            b.push(Block::field(
                "Countersigned on",
                units::instant(cs.signed_at),
            ));
        }
        None if state == SignState::AwaitingCountersignature => b.push(Block::Alert(
            "Awaiting countersignature by an HCPC-registered occupational therapist.".to_owned(),
        )),
        None => {}
    }
    let addenda: Vec<&Item<Addendum>> = live(addenda).collect();
    if !addenda.is_empty() {
        b.push(Block::Heading("Addenda".to_owned()));
        for (n, a) in addenda.iter().enumerate() {
            let a = &a.data;
            b.push(Block::Subheading(format!(
                "Addendum {} — {}, {} ({})",
                n + 1,
                units::instant(a.at),
                people.name(a.author),
                role(a.role)
            )));
            b.push(Block::field("Reason", a.reason.trim()));
            if !a.text.trim().is_empty() {
                b.push(Block::Paragraph(a.text.trim().to_owned()));
            }
            for fc in &a.field_changes {
                b.push(Block::field(
                    "Amended",
                    format!(
                        "{}: {} (as signed) → {} (from this addendum)",
                        field_name(&fc.path),
                        units::field_value(&fc.path, &fc.signed_value),
                        units::field_value(&fc.path, &fc.new_value)
                    ),
                ));
            }
            if let Some(orig) = a.original_author {
                b.push(Block::field("Original change by", people.name(orig)));
            }
            match &a.countersignature {
                Some(cs) => b.push(Block::field("Countersigned by", signer(cs, people))),
                None if a.role == Role::Ap => b.push(Block::Alert(
                    "This addendum awaits countersignature.".to_owned(),
                )),
                None => {}
            }
        }
    }
    b
}

/// A field path in words: `sections.D.entrance_steps.riser_max_mm` → `entrance steps, riser
/// max`; item ids (UUIDs), the `sections` prefix, section letters and unit suffixes are left
/// out (the unit is printed with the value).
pub fn field_name(path: &str) -> String {
    let words: Vec<String> = path
        .split('.')
        .filter(|seg| *seg != "sections" && seg.len() > 1 && uuid::Uuid::parse_str(seg).is_err())
        .map(|seg| {
            let seg = ["_kg", "_cm", "_mm", "_deg", "_pence"]
                .iter()
                .find_map(|u| seg.strip_suffix(u))
                .unwrap_or(seg);
            seg.replace('_', " ")
        })
        .collect();
    if words.is_empty() {
        path.to_owned()
    } else {
        words.join(", ")
    }
}

/// A block with its text made printable by the embedded font (uncovered characters → `�`).
pub fn printable_block(f: &Fonts, b: Block) -> Block {
    let p = |s: String| fonts::printable(f, &s);
    match b {
        Block::Title(t) => Block::Title(p(t)),
        Block::Heading(t) => Block::Heading(p(t)),
        Block::Subheading(t) => Block::Subheading(p(t)),
        Block::Paragraph(t) => Block::Paragraph(p(t)),
        Block::Alert(t) => Block::Alert(p(t)),
        Block::Field { label, value } => Block::Field {
            label: p(label),
            value: p(value),
        },
        Block::Gap => Block::Gap,
        Block::Image {
            media,
            width_px,
            height_px,
            max_height,
            caption,
        } => Block::Image {
            media,
            width_px,
            height_px,
            max_height,
            caption: p(caption),
        },
    }
}
