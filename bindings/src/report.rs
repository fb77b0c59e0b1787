//! Reports as PDF over FFI (docs/REPORTS.md, docs/API.md "Reports"): one call returns the PDF
//! bytes of a record's report for the share sheet or print service. The core refuses a record
//! with an open conflict (`Conflict`, `CF-BLOCK`) and writes the `print` audit entry with the
//! purpose (`RK-AUDIT`) before the bytes come back.

use homevisit_core::report::{self, People};
use uuid::Uuid;

use crate::{
    error::{FfiResult, HomeVisitError},
    store::Store,
    types::parse_id,
};

/// Who a report is for; printed in its footer and written to the access log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReportPurpose {
    /// The child's family.
    Family,
    /// The child's GP.
    Gp,
    /// The school (SENCo).
    School,
    /// The housing authority (adaptations, DFG).
    HousingAuthority,
    /// Respite and shared carers (handling plans).
    ShareCarers,
    /// The team's own clinical record: the only purpose whose reports carry the child's
    /// address and the safeguarding answers (`RK-REPORT-SHARE`).
    ClinicalRecord,
}

impl From<ReportPurpose> for report::ReportPurpose {
    fn from(p: ReportPurpose) -> Self {
        match p {
            ReportPurpose::Family => Self::Family,
            ReportPurpose::Gp => Self::Gp,
            ReportPurpose::School => Self::School,
            ReportPurpose::HousingAuthority => Self::HousingAuthority,
            ReportPurpose::ShareCarers => Self::ShareCarers,
            ReportPurpose::ClinicalRecord => Self::ClinicalRecord,
        }
    }
}

/// Which document a report is; follows from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReportKind {
    /// A home-visit assessment (sections A–J).
    VisitReport,
    /// The handling plan of an M&H risk assessment.
    HandlingPlan,
    /// An equipment request summary.
    EquipmentSummary,
    /// The child summary (of a child record).
    ChildSummary,
}

impl From<report::ReportKind> for ReportKind {
    fn from(k: report::ReportKind) -> Self {
        match k {
            report::ReportKind::VisitReport => Self::VisitReport,
            report::ReportKind::HandlingPlan => Self::HandlingPlan,
            report::ReportKind::EquipmentSummary => Self::EquipmentSummary,
            report::ReportKind::ChildSummary => Self::ChildSummary,
        }
    }
}

/// A name for a user id the report mentions (signers, transition authors, the producer).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TeamMember {
    /// The user's id (UUID).
    pub user_id: String,
    /// The name to print.
    pub name: String,
}

/// A produced report.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReportPdf {
    /// Which document it is.
    pub kind: ReportKind,
    /// The PDF (PDF/A-2b, tagged, fonts embedded).
    pub pdf: Vec<u8>,
    /// A file name for the share sheet, without the child's name.
    pub file_name: String,
    /// Number of pages.
    pub page_count: u32,
}

fn people(members: &[TeamMember]) -> FfiResult<People> {
    let mut entries = Vec::with_capacity(members.len());
    for m in members {
        let id: Uuid = m
            .user_id
            .trim()
            .parse()
            .map_err(|_| HomeVisitError::InvalidInput {
                rule_id: "FLD-FORMAT".into(),
                detail: "a team member's user id is not a UUID".into(),
            })?;
        entries.push((id, m.name.clone()));
    }
    Ok(People::new(entries))
}

#[uniffi::export]
impl Store {
    /// The report of `record_id` as PDF, for `purpose`: a visit report, handling plan,
    /// equipment request summary or child summary, by the record's kind. `team` names the
    /// users the report mentions (unknown ids print as a short id). Refused with `Conflict`
    /// while the record or its child has an open conflict (`CF-BLOCK`), and with
    /// `InvalidInput` (`RK-REPORT`) for a referral. Writes the `print` access-log entry.
    pub fn report_pdf(
        &self,
        record_id: String,
        purpose: ReportPurpose,
        team: Vec<TeamMember>,
    ) -> FfiResult<ReportPdf> {
        let r = self
            .records()
            .report(parse_id(&record_id)?, purpose.into(), &people(&team)?)?;
        Ok(ReportPdf {
            kind: r.kind.into(),
            pdf: r.pdf,
            file_name: r.file_name,
            page_count: r.page_count,
        })
    }
}
