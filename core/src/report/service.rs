//! The device path: [`Records::report`] reads the record's effective view from the store,
//! refuses open conflicts (`CF-BLOCK`), reads the record's photos and family signatures from
//! the store (`records::photos`), renders, and writes the `RK-AUDIT` print entry with
//! the purpose before handing the bytes back.

use super::{
    render, People, Producer, RecordLine, Report, ReportInput, ReportKind, ReportPurpose, Subject,
};
use crate::{
    doc,
    error::{Error, Result},
    ids::RecordId,
    model::{
        assessment::Assessment,
        child::Child,
        common::{from_json, Record, Schema},
        equipment::EquipmentRequest,
        risk::RiskAssessment,
    },
    records::Records,
};

const SCHEMAS: [Schema; 5] = [
    Schema::Child,
    Schema::Referral,
    Schema::Assessment,
    Schema::RiskAssessment,
    Schema::EquipmentRequest,
];

fn schema_of(code: &str) -> Option<Schema> {
    SCHEMAS
        .into_iter()
        .find(|s| doc::record::schema_code(*s) == code)
}

/// A record read for a report: its schema, effective view and open conflict paths.
struct Read {
    schema: Schema,
    view: serde_json::Value,
    conflicts: Vec<String>,
}

impl Records {
    fn read_for_report(&self, id: RecordId) -> Result<Read> {
        if !self.store().contains(id)? {
            return Err(Error::NotFound(id));
        }
        self.store().read(id, |d| {
            Ok(Read {
                schema: doc::record_schema(d)?,
                view: doc::effective_view(d)?,
                conflicts: doc::conflicts(d)?.into_iter().map(|c| c.path).collect(),
            })
        })
    }

    fn typed_view<R: Record>(&self, id: RecordId) -> Result<(R, Vec<String>)> {
        let r = self.read_for_report(id)?;
        Ok((from_json(r.view)?, r.conflicts))
    }

    /// The report of record `id` as PDF (docs/REPORTS.md), for `purpose`. `people` names the
    /// users the report mentions. Refused with [`Error::Conflict`] (`CF-BLOCK`) while the
    /// record or its child has an open conflict, and with `InvalidInput` (`RK-REPORT`) for a
    /// referral, which has no report. Writes the `print` audit entry with the purpose
    /// (`RK-AUDIT`) after the PDF is made and before it is returned; if the entry cannot be
    /// written, no report is returned.
    pub fn report(&self, id: RecordId, purpose: ReportPurpose, people: &People) -> Result<Report> {
        let main = self.read_for_report(id)?;
        let Some(kind) = ReportKind::for_schema(main.schema) else {
            return Err(Error::InvalidInput {
                rule_id: "RK-REPORT".into(),
                detail: "a referral has no report; print the child summary instead".into(),
            });
        };
        let child_id = if main.schema == Schema::Child {
            id
        } else {
            main.view
                .get("child_id")
                .and_then(|v| v.as_str())
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| Error::Corrupt {
                    record: Some(id),
                    detail: "record has no child_id".into(),
                })?
        };
        let mut conflicts = main.conflicts.clone();
        let child: Child = if main.schema == Schema::Child {
            from_json(main.view.clone())?
        } else {
            let (child, child_conflicts) = self.typed_view::<Child>(child_id)?;
            conflicts.extend(child_conflicts.into_iter().map(|p| format!("child: {p}")));
            child
        };
        let producer = Producer {
            user_id: self.actor().user_id,
            role: self.actor().role,
            at: self.now(),
            purpose,
        };
        let config = self.config().clone();
        // Photos (annotations drawn in, removed ones left out) and the family's signatures
        // come from the store; the layout decides what consent lets it print.
        let media = crate::records::photos::report_media(self, id)?;
        let report = match kind {
            ReportKind::VisitReport => {
                let a: Assessment = from_json(main.view)?;
                render(&ReportInput {
                    child: &child,
                    subject: Subject::Visit(&a),
                    open_conflicts: &conflicts,
                    people,
                    producer: &producer,
                    config: &config,
                    media: &media,
                })?
            }
            ReportKind::HandlingPlan => {
                let ra: RiskAssessment = from_json(main.view)?;
                render(&ReportInput {
                    child: &child,
                    subject: Subject::HandlingPlan(&ra),
                    open_conflicts: &conflicts,
                    people,
                    producer: &producer,
                    config: &config,
                    media: &media,
                })?
            }
            ReportKind::EquipmentSummary => {
                let req: EquipmentRequest = from_json(main.view)?;
                let linked = match req.risk_assessment_id.map(RecordId::from_uuid) {
                    Some(ra_id) if self.store().contains(ra_id)? => {
                        let (ra, _) = self.typed_view::<RiskAssessment>(ra_id)?;
                        Some(ra)
                    }
                    _ => None,
                };
                render(&ReportInput {
                    child: &child,
                    subject: Subject::Equipment {
                        request: &req,
                        risk_assessment: linked.as_ref(),
                    },
                    open_conflicts: &conflicts,
                    people,
                    producer: &producer,
                    config: &config,
                    media: &media,
                })?
            }
            ReportKind::ChildSummary => {
                let lines: Vec<RecordLine> = self
                    .store()
                    .records_of_child(child_id)?
                    .into_iter()
                    .filter_map(|r| {
                        Some(RecordLine {
                            id: r.id,
                            schema: schema_of(&r.schema)?,
                            title: r.title,
                            state: if r.state == "entered_in_error" {
                                "Entered in error".to_owned()
                            } else {
                                super::common::label(&r.status)
                            },
                            date: None,
                            conflicts: r.conflict_count,
                        })
                    })
                    .collect();
                render(&ReportInput {
                    child: &child,
                    subject: Subject::ChildSummary(&lines),
                    open_conflicts: &conflicts,
                    people,
                    producer: &producer,
                    config: &config,
                    media: &media,
                })?
            }
        };
        self.record_print(id, Some(purpose.audit_text().to_owned()))?;
        Ok(report)
    }
}
