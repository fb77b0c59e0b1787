//! Reports a clinician can send (docs/REPORTS.md): the visit report of a home-visit
//! assessment, the handling plan of a moving-and-handling risk assessment, the equipment
//! request summary and the child summary, as PDF.
//!
//! Built once here so Android, iOS and the team server print the same pages. [`render`] works
//! on typed records and knows nothing of the device store, so the server renders from its own
//! documents; [`Records::report`](crate::records::Records::report) (in `service.rs`) is the
//! device path that reads the store, refuses conflicts and writes the `RK-AUDIT` print entry.
//!
//! Rules every report keeps (`RK-REPORT`, `RK-REPORT-STATE`, `RK-REPORT-SHARE`, DOMAIN.md §4): the child's name, date of birth
//! and NHS number and "Page n of N" on every page; who produced it and when (Europe/London);
//! clinical units, never stored integers; signer, role, HCPC number and date, and the
//! countersignature; a watermark on drafts and on records entered in error (with the reason);
//! addenda in order with their reasons; a record with an open conflict is refused (`CF-BLOCK`).
//!
//! One job per file: `layout.rs` wraps and paginates, `pdf.rs` typesets with krilla,
//! `fonts.rs` holds the embedded typeface, `units.rs` formats values, `common.rs` the blocks
//! every document shares (signatures, addenda, record state), `media.rs` the place photos and
//! drawn signatures will take, and one file per document kind.

mod child_summary;
mod common;
mod equipment;
mod fonts;
mod handling;
pub mod layout;
mod media;
mod pdf;
pub mod samples;
mod service;
pub mod units;
mod visit;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

pub use self::fonts::REPLACEMENT;
use crate::{
    error::{Error, Result},
    ids::RecordId,
    model::{
        assessment::Assessment, child::Child, common::Schema, equipment::EquipmentRequest,
        risk::RiskAssessment, user::Role,
    },
    rules::config::RulesConfig,
};

/// Which document a report is. Follows from the record's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// A home-visit assessment, sections A–J (DOMAIN.md §3.4).
    VisitReport,
    /// The handling plan of an M&H risk assessment (§3.5).
    HandlingPlan,
    /// An equipment request summary (§3.6).
    EquipmentSummary,
    /// The child's banner, alerts and records with their states (§3.2).
    ChildSummary,
}

impl ReportKind {
    /// The report a record of `schema` produces; referrals have none.
    pub fn for_schema(schema: Schema) -> Option<Self> {
        match schema {
            Schema::Assessment => Some(Self::VisitReport),
            Schema::RiskAssessment => Some(Self::HandlingPlan),
            Schema::EquipmentRequest => Some(Self::EquipmentSummary),
            Schema::Child => Some(Self::ChildSummary),
            Schema::Referral => None,
        }
    }

    /// The title printed on every page.
    pub fn title(self) -> &'static str {
        match self {
            Self::VisitReport => "Home visit report",
            Self::HandlingPlan => "Moving and handling plan",
            Self::EquipmentSummary => "Equipment request summary",
            Self::ChildSummary => "Child summary",
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Self::VisitReport => "visit-report",
            Self::HandlingPlan => "handling-plan",
            Self::EquipmentSummary => "equipment-request",
            Self::ChildSummary => "child-summary",
        }
    }
}

/// Why a report is produced; printed in the footer and written to the audit log
/// (`RK-AUDIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportPurpose {
    /// For the child's family.
    Family,
    /// For the child's GP.
    Gp,
    /// For the school (SENCo).
    School,
    /// For the housing authority (adaptations, DFG).
    HousingAuthority,
    /// For respite and shared carers (handling plans).
    ShareCarers,
    /// For the team's own clinical record.
    ClinicalRecord,
}

impl ReportPurpose {
    /// Every purpose.
    pub const ALL: [ReportPurpose; 6] = [
        Self::Family,
        Self::Gp,
        Self::School,
        Self::HousingAuthority,
        Self::ShareCarers,
        Self::ClinicalRecord,
    ];

    /// The purpose as the audit log records it.
    pub fn audit_text(self) -> &'static str {
        match self {
            Self::Family => "report for the family",
            Self::Gp => "report for the GP",
            Self::School => "report for the school",
            Self::HousingAuthority => "report for the housing authority",
            Self::ShareCarers => "report for shared carers",
            Self::ClinicalRecord => "report for the clinical record",
        }
    }

    /// Whether the report stays inside the team: only then does it carry the child's
    /// address and the safeguarding answers (`RK-REPORT-SHARE`).
    pub fn is_internal(self) -> bool {
        self == Self::ClinicalRecord
    }
}

/// Names of the people a report mentions (signers, authors of transitions), by user id. The
/// records hold user ids only; the app or server supplies names from its team directory.
/// An unknown id prints as `user 1a2b3c4d`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct People(BTreeMap<Uuid, String>);

impl People {
    /// From `(user id, display name)` pairs.
    pub fn new(entries: impl IntoIterator<Item = (Uuid, String)>) -> Self {
        Self(entries.into_iter().collect())
    }

    /// The person's name, or a short form of the id when the directory lacks it.
    pub fn name(&self, id: Uuid) -> String {
        match self.0.get(&id).map(|n| n.trim()).filter(|n| !n.is_empty()) {
            Some(n) => n.to_owned(),
            None => {
                let s = id.simple().to_string();
                format!("user {}", s.get(..8).unwrap_or(&s))
            }
        }
    }
}

/// Who produces the report, when, and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Producer {
    /// The user producing it.
    pub user_id: Uuid,
    /// Their role.
    pub role: Role,
    /// When (UTC; printed in Europe/London time).
    pub at: DateTime<Utc>,
    /// Why.
    pub purpose: ReportPurpose,
}

/// One of the child's records as the child summary lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordLine {
    /// The record.
    pub id: RecordId,
    /// Its schema.
    pub schema: Schema,
    /// Its short title.
    pub title: String,
    /// Its state in words (draft, signed, approved, entered in error…).
    pub state: String,
    /// The date it is about (visit, assessment, request date), when known.
    pub date: Option<NaiveDate>,
    /// Open clinical conflicts on it.
    pub conflicts: u32,
}

/// What a report is made from.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A visit report of this assessment.
    Visit(&'a Assessment),
    /// The handling plan of this risk assessment.
    HandlingPlan(&'a RiskAssessment),
    /// The summary of this request, with the risk assessment it links when available.
    Equipment {
        /// The request.
        request: &'a EquipmentRequest,
        /// Its linked risk assessment (`risk_assessment_id`), when the caller has it.
        risk_assessment: Option<&'a RiskAssessment>,
    },
    /// The child summary, listing these records.
    ChildSummary(&'a [RecordLine]),
}

impl Subject<'_> {
    /// The kind of report this subject makes.
    pub fn kind(&self) -> ReportKind {
        match self {
            Subject::Visit(_) => ReportKind::VisitReport,
            Subject::HandlingPlan(_) => ReportKind::HandlingPlan,
            Subject::Equipment { .. } => ReportKind::EquipmentSummary,
            Subject::ChildSummary(_) => ReportKind::ChildSummary,
        }
    }

    fn record_id(&self, child: &Child) -> RecordId {
        match self {
            Subject::Visit(a) => a.envelope.id,
            Subject::HandlingPlan(r) => r.envelope.id,
            Subject::Equipment { request, .. } => request.envelope.id,
            Subject::ChildSummary(_) => child.envelope.id,
        }
    }
}

/// How a picture's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    /// JPEG (photos, as stored): copied into the PDF as they are, never re-encoded.
    Jpeg,
    /// PNG (drawn signatures as the core renders them).
    Png,
}

/// A picture a report prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportImage {
    /// The encoding of `bytes`.
    pub format: ImageFormat,
    /// The image as stored (metadata already stripped when it was added).
    pub bytes: Vec<u8>,
    /// Pixel width.
    pub width_px: u32,
    /// Pixel height.
    pub height_px: u32,
    /// What is printed under it (caption, section, when, measured lengths); also its
    /// alternative text.
    pub caption: String,
}

/// The record's photos (with their annotations drawn in) and the family's drawn signatures,
/// read by the caller: their bytes live in the store, not in the record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportMedia {
    /// Photos, in the order they are printed.
    pub photos: Vec<ReportImage>,
    /// Drawn signatures, in the order they are printed.
    pub signatures: Vec<ReportImage>,
}

impl ReportMedia {
    /// The picture `r` names, if there is one.
    pub fn get(&self, r: layout::MediaRef) -> Option<&ReportImage> {
        match r {
            layout::MediaRef::Photo(n) => self.photos.get(n),
            layout::MediaRef::Signature(n) => self.signatures.get(n),
        }
    }
}

/// Everything [`render`] needs. The records are the effective view (addenda applied,
/// `RK-AMEND`).
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The child the record is about.
    pub child: &'a Child,
    /// The record.
    pub subject: Subject<'a>,
    /// Paths of open clinical conflicts on the record or on the child; any refuses the report
    /// (`CF-BLOCK`).
    pub open_conflicts: &'a [String],
    /// Names for user ids.
    pub people: &'a People,
    /// Who produces it, when, why.
    pub producer: &'a Producer,
    /// Rule settings (approval tier threshold).
    pub config: &'a RulesConfig,
    /// Photos and drawn signatures (empty when the record has none).
    pub media: &'a ReportMedia,
}

/// A produced report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which document it is.
    pub kind: ReportKind,
    /// The PDF bytes (PDF/A-2b, tagged).
    pub pdf: Vec<u8>,
    /// A file name for the share sheet, e.g. `visit-report-2026-03-15-1a2b3c4d.pdf`. It never
    /// carries the child's name: share targets and download folders show file names.
    pub file_name: String,
    /// Number of pages.
    pub page_count: u32,
}

/// What a document builder hands to the typesetter.
struct Document {
    blocks: Vec<layout::Block>,
    state: Option<String>,
    watermark: Option<String>,
    date: Option<NaiveDate>,
}

/// A report laid out but not yet set as PDF.
struct Typeset {
    kind: ReportKind,
    fonts: fonts::Fonts,
    frame: pdf::Frame,
    pages: Vec<layout::PageLayout>,
    date: Option<NaiveDate>,
}

fn typeset(input: &ReportInput<'_>) -> Result<Typeset> {
    if !input.open_conflicts.is_empty() {
        return Err(Error::Conflict {
            paths: input.open_conflicts.to_vec(),
        });
    }
    let fonts = fonts::Fonts::load()?;
    let kind = input.subject.kind();
    let doc = match input.subject {
        Subject::Visit(a) => visit::document(input, a),
        Subject::HandlingPlan(r) => handling::document(input, r),
        Subject::Equipment {
            request,
            risk_assessment,
        } => equipment::document(input, request, risk_assessment),
        Subject::ChildSummary(lines) => child_summary::document(input, lines),
    };
    let blocks: Vec<layout::Block> = doc
        .blocks
        .into_iter()
        .map(|b| common::printable_block(&fonts, b))
        .collect();
    let pages = layout::lay_out(&fonts, &blocks);
    let frame = pdf::Frame {
        title: kind.title().to_owned(),
        child_name: fonts::printable(&fonts, &common::child_name(input.child)),
        child_ids: fonts::printable(&fonts, &common::child_ids(input.child)),
        state: doc.state,
        watermark: doc.watermark,
        produced: fonts::printable(&fonts, &common::produced_line(input)),
        produced_at: input.producer.at,
    };
    Ok(Typeset {
        kind,
        fonts,
        frame,
        pages,
        date: doc.date,
    })
}

/// Renders the report of `input.subject`. Refused with [`Error::Conflict`] (`CF-BLOCK`) when
/// the record or the child has an open clinical conflict: a report never picks a value.
/// Writes nothing anywhere (the device path, [`Records::report`](crate::records::Records),
/// writes the audit entry; the server writes its own).
pub fn render(input: &ReportInput<'_>) -> Result<Report> {
    let t = typeset(input)?;
    let bytes = pdf::write(&t.fonts, &t.frame, &t.pages, input.media)?;
    let id = input.subject.record_id(input.child).to_string();
    let short: String = id.chars().filter(|c| *c != '-').take(8).collect();
    let date = t
        .date
        .unwrap_or_else(|| crate::rules::dates::local_date(input.producer.at));
    Ok(Report {
        kind: t.kind,
        pdf: bytes,
        file_name: format!("{}-{date}-{short}.pdf", t.kind.file_stem()),
        page_count: u32::try_from(t.pages.len()).unwrap_or(u32::MAX),
    })
}

/// The text set on each page of the report [`render`] makes from `input`, in drawing order
/// (header, footer, body, watermark), one string per page with one line per text line. For
/// tests and previews: the same layout, without the PDF.
pub fn page_texts(input: &ReportInput<'_>) -> Result<Vec<String>> {
    let t = typeset(input)?;
    let n = t.pages.len();
    Ok(t.pages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut lines: Vec<String> = pdf::frame_texts(&t.fonts, &t.frame, i + 1, n);
            lines.extend(p.lines.iter().map(|l| l.text.clone()));
            lines.extend(t.frame.watermark.clone());
            lines.join("\n")
        })
        .collect())
}
