//! Caseload and records, read-only: the child banner with alerts, each record's sign state,
//! open conflicts flagged (never resolved here), history. Showing a record is viewing it: the
//! core writes its `view` entry, and the console adds one to the team's access log first.

use axum::{
    extract::{Path, Query, State},
    http::{header, Extensions, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use homevisit_core::{
    model::common::Schema,
    records::RecordView,
    report::{People, ReportKind, ReportPurpose},
    store::{CaseloadEntry, RecordSummary},
};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value as Json;

use super::{
    access, actor,
    layout::{self, banner, history_table, Nav},
    mirror, parse_record_id,
    session::{self, Signed},
    user_names, Console, ConsoleError,
};
use crate::store::ServerStore;

/// `GET /console/records`: the team's caseload.
pub async fn caseload<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match caseload_page(&console, &signed).await {
        Ok(m) => m.into_response(),
        Err(e) => e.into_response(),
    }
}

fn child_name(c: &CaseloadEntry) -> String {
    let given = c.given_name.clone().unwrap_or_default();
    let family = c.family_name.clone().unwrap_or_default();
    let name = format!("{given} {family}");
    if name.trim().is_empty() {
        "Unnamed child".into()
    } else {
        name.trim().to_string()
    }
}

async fn caseload_page<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
) -> Result<Markup, ConsoleError> {
    let mirror = console
        .mirrors
        .team(&console.app, signed.user.team_id)
        .await?;
    let store = std::sync::Arc::clone(&mirror.store);
    let children = mirror::run(move || store.caseload()).await?;
    Ok(layout::page(
        "Caseload",
        signed,
        Nav::Records,
        html! {
            h1 { "Caseload" }
            p { "Read-only. Opening a record is recorded in the access log." }
            @if children.is_empty() {
                p { "No children's records have been synced yet." }
            } @else {
                table class="nhsuk-table" id="caseload" {
                    thead class="nhsuk-table__head" {
                        tr class="nhsuk-table__row" {
                            th class="nhsuk-table__header" scope="col" { "Child" }
                            th class="nhsuk-table__header" scope="col" { "Date of birth" }
                            th class="nhsuk-table__header" scope="col" { "Records" }
                            th class="nhsuk-table__header" scope="col" { "Open conflicts" }
                            th class="nhsuk-table__header" scope="col" { "Awaiting signature" }
                        }
                    }
                    tbody class="nhsuk-table__body" {
                        @for c in &children {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { a href={"/console/records/" (c.child_id)} { (child_name(c)) } }
                                td class="nhsuk-table__cell" { (c.date_of_birth.as_deref().unwrap_or("")) }
                                td class="nhsuk-table__cell" { (c.record_count) }
                                td class="nhsuk-table__cell" {
                                    @if c.conflict_count > 0 { strong class="nhsuk-tag nhsuk-tag--red" { (c.conflict_count) " open" } } @else { "none" }
                                }
                                td class="nhsuk-table__cell" { (c.awaiting_signature_count) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// `GET /console/records/{id}`.
pub async fn show<S: ServerStore>(
    State(console): State<Console<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match record_page(&console, &signed, &id).await {
        Ok(m) => m.into_response(),
        Err(e) => e.into_response(),
    }
}

fn schema_name(s: Schema) -> &'static str {
    match s {
        Schema::Child => "Child",
        Schema::Referral => "Referral",
        Schema::Assessment => "Home-visit assessment",
        Schema::RiskAssessment => "Moving and handling risk assessment",
        Schema::EquipmentRequest => "Equipment request",
    }
}

/// Bookkeeping keys the record page does not show (ids, schema, list entry stamps).
fn hidden(path: &str) -> bool {
    const HIDDEN: [&str; 8] = [
        "id",
        "schema",
        "schema_version",
        "team_id",
        "child_id",
        "item_id",
        "added_at",
        "added_by",
    ];
    let last = path.rsplit('.').next().unwrap_or(path);
    HIDDEN.contains(&path)
        || HIDDEN[4..].contains(&last)
        || path.starts_with("signature")
        || path.starts_with("countersignature")
}

/// Scalar fields of the effective content, flattened to dotted paths, for display.
fn fields(prefix: &str, v: &Json, out: &mut Vec<(String, String)>) {
    match v {
        Json::Object(m) => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                fields(&p, v, out);
            }
        }
        Json::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                fields(&format!("{prefix}.{i}"), v, out);
            }
        }
        Json::Null => {}
        Json::String(s) => out.push((prefix.to_string(), s.clone())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// Record `id` of the signed-in user's team: its id, the user's record service over the
/// team's copy and the console's device. Another team's id, like an unknown one: not found.
async fn team_record<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id: &str,
) -> Result<
    (
        homevisit_core::RecordId,
        homevisit_core::records::Records,
        crate::store::DeviceAuth,
    ),
    ConsoleError,
> {
    let id = parse_record_id(id)?;
    let mirror = console
        .mirrors
        .team(&console.app, signed.user.team_id)
        .await?;
    let (actor, auth) = actor(console, signed).await?;
    let records = mirror.records(actor);
    let store = std::sync::Arc::clone(&mirror.store);
    if !mirror::run(move || store.contains(id)).await? {
        return Err(ConsoleError::NotFound);
    }
    Ok((id, records, auth))
}

async fn record_page<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id: &str,
) -> Result<Markup, ConsoleError> {
    let (id, records, auth) = team_record(console, signed, id).await?;
    // The access-log entry is written before anything of the record is read out.
    access::log_console_view(console, signed, &auth, id).await?;
    let (view, history, children): (RecordView, _, Vec<RecordSummary>) = mirror::run(move || {
        let view = records.view(id)?;
        let history = records.history(id)?;
        let children = if view.schema == Schema::Child {
            let code = homevisit_core::doc::record::schema_code(Schema::EquipmentRequest);
            let mut rows = records.store().records_of_child(id)?;
            // Equipment requests: the workflow status, derived from their log.
            for r in rows.iter_mut().filter(|r| r.schema == code) {
                if let Ok(req) =
                    records.typed::<homevisit_core::model::equipment::EquipmentRequest>(r.id)
                {
                    r.status = homevisit_core::rules::workflow::status(&req)
                        .code()
                        .to_string();
                }
            }
            rows
        } else {
            Vec::new()
        };
        Ok((view, history, children))
    })
    .await?;
    session::audit(console, signed, "view", format!("record {id}")).await;
    let names = user_names(console, signed.user.team_id).await?;
    let mut shown = Vec::new();
    fields("", &view.content, &mut shown);
    shown.retain(|(k, _)| !hidden(k));
    let shown: Vec<(String, String)> = shown
        .into_iter()
        .map(|(k, v)| {
            let v = uuid::Uuid::parse_str(&v)
                .ok()
                .and_then(|u| names.get(&u).cloned())
                .unwrap_or(v);
            (layout::field_label(&k), v)
        })
        .collect();
    Ok(layout::page(
        schema_name(view.schema),
        signed,
        Nav::Records,
        html! {
            (banner(&view.banner))
            h1 { span class="nhsuk-caption-l" { "Read-only" } (schema_name(view.schema)) }
            @if view.schema != Schema::Child {
                p { "Sign state: " strong class="nhsuk-tag nhsuk-tag--grey" id="sign-state" { (super::words(&view.sign_state)) } }
            }
            @if !view.conflicts.is_empty() {
                div class="nhsuk-warning-callout" id="conflicts" {
                    h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "Open conflicts" } }
                    p { "Different values were entered on two devices. They are resolved on a tablet, never here." }
                    ul { @for c in &view.conflicts { li { (c.path) " (" (c.values.len()) " values)" } } }
                }
            }
            @if view.schema == Schema::Child {
                h2 { "Records" }
                @if children.is_empty() {
                    p { "No records about this child yet." }
                } @else {
                    table class="nhsuk-table" id="child-records" {
                        thead class="nhsuk-table__head" {
                            tr class="nhsuk-table__row" {
                                th class="nhsuk-table__header" scope="col" { "Record" }
                                th class="nhsuk-table__header" scope="col" { "Status" }
                                th class="nhsuk-table__header" scope="col" { "Conflicts" }
                                th class="nhsuk-table__header" scope="col" { "Last change" }
                            }
                        }
                        tbody class="nhsuk-table__body" {
                            @for r in &children {
                                tr class="nhsuk-table__row" {
                                    td class="nhsuk-table__cell" { a href={"/console/records/" (r.id)} { (r.title) } }
                                    td class="nhsuk-table__cell" { (r.status.replace('_', " ")) @if r.state != "active" { " (" (r.state.replace('_', " ")) ")" } }
                                    td class="nhsuk-table__cell" { @if r.conflict_count > 0 { strong class="nhsuk-tag nhsuk-tag--red" { (r.conflict_count) " open" } } @else { "none" } }
                                    td class="nhsuk-table__cell" { (layout::when(r.updated_at.as_deref().unwrap_or(""))) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(kind) = ReportKind::for_schema(view.schema) {
                h2 { "Report" }
                form method="get" action={"/console/records/" (id) "/report"} id="report-form" novalidate {
                    div class="nhsuk-form-group" {
                        label class="nhsuk-label" for="purpose" { "Who is the " (kind.title().to_lowercase()) " for?" }
                        div class="nhsuk-hint" id="purpose-hint" { "Printing is recorded in the access log with its purpose. Only the clinical record carries the child's address and safeguarding answers." }
                        select class="nhsuk-select" id="purpose" name="purpose" aria-describedby="purpose-hint" {
                            @for (code, purpose) in PURPOSES {
                                option value=(code) { (purpose_label(purpose)) }
                            }
                        }
                    }
                    button class="nhsuk-button nhsuk-button--secondary" type="submit" id="download-report" { "Download PDF" }
                }
            }
            h2 { "Content" }
            dl class="nhsuk-summary-list" id="content" {
                @for (k, v) in &shown {
                    div class="nhsuk-summary-list__row" {
                        dt class="nhsuk-summary-list__key" { (k) }
                        dd class="nhsuk-summary-list__value" { (v) }
                    }
                }
            }
            (history_table(&history, &names))
        },
    ))
}

/// The purposes offered on the record page, with the code the form sends.
const PURPOSES: [(&str, ReportPurpose); 6] = [
    ("clinical-record", ReportPurpose::ClinicalRecord),
    ("family", ReportPurpose::Family),
    ("gp", ReportPurpose::Gp),
    ("school", ReportPurpose::School),
    ("housing-authority", ReportPurpose::HousingAuthority),
    ("share-carers", ReportPurpose::ShareCarers),
];

/// The report form's one field (a GET form: printing changes no record).
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    purpose: Option<String>,
}

/// `GET /console/records/{id}/report?purpose=…`: the record's PDF (docs/REPORTS.md), made by
/// the core from the team's copy, for a stated purpose. The PDF is made first; then the
/// `print` entry with the purpose goes into the team's access log; only then are the bytes
/// sent (`RK-AUDIT`: no entry, no report). Open conflicts refuse it (`CF-BLOCK`), shown with
/// the rule ID.
pub async fn report<S: ServerStore>(
    State(console): State<Console<S>>,
    Path(id): Path<String>,
    Query(query): Query<ReportQuery>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match report_pdf(&console, &signed, &id, query.purpose.as_deref()).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn report_pdf<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id: &str,
    purpose: Option<&str>,
) -> Result<Response, ConsoleError> {
    let (id, records, auth) = team_record(console, signed, id).await?;
    let Some(purpose) = purpose.and_then(|p| {
        PURPOSES
            .iter()
            .find(|(code, _)| *code == p)
            .map(|(_, purpose)| *purpose)
    }) else {
        return Ok(refusal(
            StatusCode::BAD_REQUEST,
            "Choose a purpose",
            "RK-AUDIT",
            "a report is made for a stated purpose; choose one on the record's page",
        ));
    };
    let people = People::new(user_names(console, signed.user.team_id).await?);
    let made = mirror::run(move || records.report(id, purpose, &people)).await;
    let report = match made {
        Ok(r) => r,
        Err(ConsoleError::Core(homevisit_core::Error::Conflict { .. })) => {
            return Ok(refusal(
                StatusCode::CONFLICT,
                "This record has open conflicts",
                "CF-BLOCK",
                "a report is not made while the record or its child has open conflicts; resolve them on a tablet first",
            ))
        }
        Err(ConsoleError::Core(homevisit_core::Error::InvalidInput { rule_id, detail })) => {
            return Ok(refusal(
                StatusCode::UNPROCESSABLE_ENTITY,
                "No report for this record",
                &rule_id,
                &detail,
            ))
        }
        Err(e) => return Err(e),
    };
    access::log_console_entry(
        console,
        signed,
        &auth,
        id,
        "print",
        Some(purpose.audit_text()),
    )
    .await?;
    session::audit(
        console,
        signed,
        "print",
        format!("record {id}: {}", purpose.audit_text()),
    )
    .await;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", report.file_name),
            ),
        ],
        report.pdf,
    )
        .into_response())
}

fn purpose_label(purpose: ReportPurpose) -> &'static str {
    match purpose {
        ReportPurpose::ClinicalRecord => "The team's clinical record",
        ReportPurpose::Family => "The child's family",
        ReportPurpose::Gp => "The child's GP",
        ReportPurpose::School => "The school (SENCo)",
        ReportPurpose::HousingAuthority => "The housing authority",
        ReportPurpose::ShareCarers => "Respite and shared carers",
    }
}

/// A refusal page naming its rule.
fn refusal(status: StatusCode, title: &str, rule_id: &str, sentence: &str) -> Response {
    (
        status,
        layout::bare_page(title, &format!("{rule_id}: {sentence}")),
    )
        .into_response()
}
