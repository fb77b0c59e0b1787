//! Equipment requests: the list (awaiting decision first), one request with everything an
//! approver needs, and the workflow actions. Actions are offered only when the core's
//! transition table permits them for the signed-in user ([`workflow::permitted`]), and are
//! made by the core's record service ([`Records::transition`]) with the user as actor and the
//! console as device, then committed through the server's document engine like any upload:
//! same checks, a new team sequence number, and tablets receive it at their next sync.

use axum::{
    extract::{Path, State},
    http::{Extensions, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use homevisit_core::{
    doc,
    model::{
        common::{live, Item, Schema},
        equipment::{EquipmentRequest, Status, Transition},
    },
    records::{RecordView, Records},
    rules::{
        equipment::{self, approval_tier, Tier},
        issue::{Issue, Severity},
        workflow::{self, TransitionInput, WorkflowStatus},
    },
    store::RecordSummary,
    RecordId,
};
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    access, actor,
    layout::{self, banner, csrf_field, history_table, Nav},
    mirror, parse_record_id,
    session::{self, Signed},
    user_names, words, Console, ConsoleError,
};
use crate::store::ServerStore;

/// The decisions the console offers, with their button labels.
pub const DECISIONS: [(Status, &str); 4] = [
    (Status::Approved, "Approve"),
    (Status::InfoRequested, "Request information"),
    (Status::Declined, "Decline"),
    (
        Status::ReferredToDfg,
        "Refer for a Disabled Facilities Grant",
    ),
];

struct Row {
    summary: RecordSummary,
    child: Option<String>,
    category: String,
    status: String,
    awaiting: bool,
}

fn status_tag(code: &str) -> Markup {
    let colour = match code {
        "submitted" | "info_requested" => "nhsuk-tag--blue",
        "approved" | "ordered" | "delivered" | "installed" | "reviewed" | "dfg_approved" => {
            "nhsuk-tag--green"
        }
        "declined" | "cancelled" | "dfg_declined" | "conflict" => "nhsuk-tag--red",
        _ => "nhsuk-tag--grey",
    };
    html! { strong class={"nhsuk-tag " (colour)} { (code.replace('_', " ")) } }
}

/// `GET /console/requests`.
pub async fn list<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match list_page(&console, &signed).await {
        Ok(m) => m.into_response(),
        Err(e) => e.into_response(),
    }
}

async fn list_page<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
) -> Result<Markup, ConsoleError> {
    let mirror = console
        .mirrors
        .team(&console.app, signed.user.team_id)
        .await?;
    let (actor, _) = actor(console, signed).await?;
    let records = mirror.records(actor);
    let mut rows = mirror::run(move || {
        let store = records.store();
        let code = doc::record::schema_code(Schema::EquipmentRequest);
        let mut rows = Vec::new();
        for id in store.ids()? {
            let Some(summary) = store.record_summary(id)? else {
                continue;
            };
            if summary.schema != code {
                continue;
            }
            let Ok(req) = records.typed::<EquipmentRequest>(id) else {
                continue;
            };
            let child = summary
                .child_id
                .and_then(|c| records.banner(c).ok())
                .map(|b| b.name);
            let status = workflow::status(&req);
            rows.push(Row {
                awaiting: status == WorkflowStatus::At(Status::Submitted),
                status: status.code().to_string(),
                category: req
                    .category
                    .as_ref()
                    .map(words)
                    .unwrap_or_else(|| "not set".into()),
                child,
                summary,
            });
        }
        Ok(rows)
    })
    .await?;
    rows.sort_by(|a, b| {
        b.awaiting
            .cmp(&a.awaiting)
            .then_with(|| b.summary.updated_at.cmp(&a.summary.updated_at))
    });
    let awaiting = rows.iter().filter(|r| r.awaiting).count();
    Ok(layout::page(
        "Equipment requests",
        signed,
        Nav::Requests,
        html! {
            h1 { "Equipment requests" }
            p class="nhsuk-body-l" { (awaiting) " awaiting a decision" }
            @if rows.is_empty() {
                p { "No equipment requests have been synced yet." }
            } @else {
                table class="nhsuk-table" id="requests" {
                    caption class="nhsuk-table__caption" { "Requests, awaiting decision first" }
                    thead class="nhsuk-table__head" {
                        tr class="nhsuk-table__row" {
                            th class="nhsuk-table__header" scope="col" { "Child" }
                            th class="nhsuk-table__header" scope="col" { "Category" }
                            th class="nhsuk-table__header" scope="col" { "Status" }
                            th class="nhsuk-table__header" scope="col" { "Last change" }
                        }
                    }
                    tbody class="nhsuk-table__body" {
                        @for r in &rows {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" {
                                    a href={"/console/requests/" (r.summary.id)} {
                                        (r.child.as_deref().unwrap_or("Unknown child"))
                                        span class="nhsuk-u-visually-hidden" { ", " (r.category) " request" }
                                    }
                                }
                                td class="nhsuk-table__cell" { (r.category) }
                                td class="nhsuk-table__cell" { (status_tag(&r.status)) }
                                td class="nhsuk-table__cell" { (layout::when(r.summary.updated_at.as_deref().unwrap_or(""))) }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// Everything the request page shows, read through the core.
struct Detail {
    view: RecordView,
    req: EquipmentRequest,
    issues: Vec<Issue>,
    ra: Option<(RecordId, String)>,
    history: Vec<doc::HistoryEntry>,
}

fn load_detail(records: &Records, id: RecordId) -> Result<Detail, homevisit_core::Error> {
    let view = records.view(id)?;
    if view.schema != Schema::EquipmentRequest {
        return Err(homevisit_core::Error::NotFound(id));
    }
    let req: EquipmentRequest = records.typed(id)?;
    let issues = records.validate(id, false)?.issues;
    let ra = match req.risk_assessment_id.map(RecordId::from_uuid) {
        Some(ra_id) => {
            let state = match records.store().record_summary(ra_id)? {
                Some(s) => s.status,
                None => "not synced to the server".into(),
            };
            Some((ra_id, state))
        }
        None => None,
    };
    let history = records.history(id)?;
    Ok(Detail {
        view,
        req,
        issues,
        ra,
        history,
    })
}

/// `GET /console/requests/{id}`.
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
    match show_page(&console, &signed, &id, None).await {
        Ok(m) => m.into_response(),
        Err(e) => e.into_response(),
    }
}

/// What the page says above the request after an action.
enum Outcome {
    Done(String),
    Refused { rule_id: String, detail: String },
}

async fn show_page<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id: &str,
    outcome: Option<Outcome>,
) -> Result<Markup, ConsoleError> {
    let id = parse_record_id(id)?;
    let mirror = console
        .mirrors
        .team(&console.app, signed.user.team_id)
        .await?;
    let (actor, auth) = actor(console, signed).await?;
    let records = mirror.records(actor.clone());
    let detail = match mirror::run(move || load_detail(&records, id)).await {
        Ok(d) => d,
        Err(ConsoleError::Core(homevisit_core::Error::NotFound(_))) => {
            return Err(ConsoleError::NotFound)
        }
        Err(e) => return Err(e),
    };
    access::log_console_view(console, signed, &auth, id).await?;
    session::audit(console, signed, "view", format!("equipment request {id}")).await;
    let names = user_names(console, signed.user.team_id).await?;
    let req = &detail.req;
    let state = workflow::derive(req);
    let from = match state.status {
        WorkflowStatus::At(s) => Some(s),
        _ => None,
    };
    let requester = req.requested_by.unwrap_or(req.envelope.created_by);
    let offered: Vec<(Status, &str)> = DECISIONS
        .into_iter()
        .filter(|(to, _)| {
            from.is_some()
                && workflow::permitted(from, *to, actor.role, actor.user_id == requester).is_ok()
        })
        .collect();
    let tier = match approval_tier(
        req.category,
        req.estimated_cost_pence,
        homevisit_core::rules::config::RulesConfig::default().tier2_cost_pence,
    ) {
        Tier::One => "Tier 1: an HCPC-registered OT or approver other than the requester",
        Tier::Two => "Tier 2: an HCPC-registered approver other than the requester",
        Tier::DfgOnly => "Disabled Facilities Grant referral only",
        Tier::Refused => "Not provided (wheelchair service)",
    };
    let name = |u: uuid::Uuid| names.get(&u).cloned().unwrap_or_else(|| u.to_string());
    let measurement_issues = |key: &str| -> Vec<&Issue> {
        let prefix = format!("measurements.{key}");
        detail
            .issues
            .iter()
            .filter(|i| i.path.starts_with(&prefix))
            .collect()
    };
    Ok(layout::page(
        "Equipment request",
        signed,
        Nav::Requests,
        html! {
            @match &outcome {
                Some(Outcome::Done(text)) => {
                    div class="nhsuk-inset-text" id="outcome" role="status" {
                        span class="nhsuk-u-visually-hidden" { "Done: " }
                        p { (text) }
                    }
                }
                Some(Outcome::Refused { rule_id, detail }) => {
                    div class="nhsuk-error-summary" aria-labelledby="refusal-title" role="alert" tabindex="-1" id="refusal" {
                        h2 class="nhsuk-error-summary__title" id="refusal-title" { "This action is not permitted" }
                        div class="nhsuk-error-summary__body" {
                            p { strong class="hv-rule-id" { (rule_id) } " " (detail) }
                        }
                    }
                }
                None => {}
            }
            (banner(&detail.view.banner))
            h1 {
                span class="nhsuk-caption-l" { "Equipment request" }
                (req.category.as_ref().map(words).unwrap_or_else(|| "No category".into()))
            }
            p { "Status: " span id="status" { (status_tag(state.status.code())) } }
            @if !detail.view.conflicts.is_empty() {
                div class="nhsuk-warning-callout" id="conflicts" {
                    h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "Open conflicts" } }
                    p { "Two devices entered different values. Resolve them on a tablet; the console never resolves a conflict." }
                    ul { @for c in &detail.view.conflicts { li { (c.path) } } }
                }
            }
            dl class="nhsuk-summary-list" {
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Approval tier" }
                    dd class="nhsuk-summary-list__value" { (tier) }
                }
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Requested by" }
                    dd class="nhsuk-summary-list__value" {
                        (name(requester))
                        @if let Some(at) = req.requested_at { " on " (at.format("%Y-%m-%d %H:%M UTC")) }
                    }
                }
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Items" }
                    dd class="nhsuk-summary-list__value" {
                        ul class="nhsuk-list" {
                            @for item in live(&req.items) {
                                li {
                                    (item.data.description.as_deref().unwrap_or("(no description)"))
                                    @if let Some(q) = item.data.quantity { " × " (q) }
                                }
                            }
                        }
                    }
                }
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Clinical justification" }
                    dd class="nhsuk-summary-list__value" id="justification" { (req.clinical_justification.as_deref().unwrap_or("None given")) }
                }
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Estimated cost" }
                    dd class="nhsuk-summary-list__value" {
                        @match req.estimated_cost_pence { Some(p) => (homevisit_core::rules::fields::Unit::Pence.display(p)), None => "Not stated" }
                    }
                }
                div class="nhsuk-summary-list__row" {
                    dt class="nhsuk-summary-list__key" { "Risk assessment" }
                    dd class="nhsuk-summary-list__value" {
                        @match &detail.ra {
                            Some((ra, state)) => { a href={"/console/records/" (ra)} { "Moving and handling risk assessment" } " (" (state.replace('_', " ")) ")" }
                            None => "None linked",
                        }
                    }
                }
            }
            h2 { "Measurements" }
            @if req.measurements.is_empty() {
                p { "No measurements recorded." }
            } @else {
                table class="nhsuk-table" id="measurements" {
                    thead class="nhsuk-table__head" {
                        tr class="nhsuk-table__row" {
                            th class="nhsuk-table__header" scope="col" { "Measurement" }
                            th class="nhsuk-table__header" scope="col" { "Value" }
                            th class="nhsuk-table__header" scope="col" { "Measured on" }
                            th class="nhsuk-table__header" scope="col" { "Range check" }
                        }
                    }
                    tbody class="nhsuk-table__body" {
                        @for (key, m) in &req.measurements {
                            @let spec = equipment::spec(*key);
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { (spec.what) }
                                td class="nhsuk-table__cell" { (spec.range.unit.display(m.value)) }
                                td class="nhsuk-table__cell" { (m.measured_on.map(|d| d.to_string()).unwrap_or_default()) }
                                td class="nhsuk-table__cell" {
                                    @let found = measurement_issues(key.as_str());
                                    @if found.is_empty() { "Within the expected range" }
                                    @for i in found {
                                        p class={ @if i.severity == Severity::Error { "hv-issue hv-issue--error" } @else { "hv-issue hv-issue--warn" } } { (i.message) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !offered.is_empty() {
                h2 { "Decision" }
                @for (to, label) in &offered {
                    form method="post" action={"/console/requests/" (id) "/transition"} class="hv-decision" {
                        (csrf_field(signed))
                        input type="hidden" name="to" value=(workflow::status_code(*to));
                        @if matches!(to, Status::InfoRequested | Status::Declined) {
                            div class="nhsuk-form-group" {
                                label class="nhsuk-label" for={"reason-" (workflow::status_code(*to))} {
                                    @if *to == Status::InfoRequested { "Your question to the requester" } @else { "Reason for declining" }
                                }
                                textarea class="nhsuk-textarea" id={"reason-" (workflow::status_code(*to))} name="reason" rows="3" {}
                            }
                        }
                        button class={ "nhsuk-button" @if *to == Status::Declined { " nhsuk-button--warning" } @else if *to != Status::Approved { " nhsuk-button--secondary" } } type="submit" id={"action-" (workflow::status_code(*to))} { (label) }
                    }
                }
            } @else if from == Some(Status::Submitted) {
                div class="nhsuk-inset-text" id="no-actions" {
                    span class="nhsuk-u-visually-hidden" { "Information: " }
                    p { "Your role (" (layout::role_name(actor.role)) ") may view this request but not decide on it." }
                }
            }
            h2 { "Workflow log" }
            table class="nhsuk-table" id="transitions" {
                thead class="nhsuk-table__head" {
                    tr class="nhsuk-table__row" {
                        th class="nhsuk-table__header" scope="col" { "When" }
                        th class="nhsuk-table__header" scope="col" { "Change" }
                        th class="nhsuk-table__header" scope="col" { "By" }
                        th class="nhsuk-table__header" scope="col" { "Reason" }
                    }
                }
                tbody class="nhsuk-table__body" {
                    @for t in log_order(&req.transitions) {
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell" { (t.data.at.format("%Y-%m-%d %H:%M UTC")) }
                            td class="nhsuk-table__cell" {
                                (t.data.from.map(workflow::status_code).unwrap_or("new").replace('_', " ")) " → " (workflow::status_code(t.data.to).replace('_', " "))
                            }
                            td class="nhsuk-table__cell" { (name(t.data.user_id)) " (" (layout::role_name(t.data.role)) ")" }
                            td class="nhsuk-table__cell" { (t.data.reason.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
            (history_table(&detail.history, &names))
        },
    ))
}

/// The live transitions in the order they were made: each after the one it follows, and
/// transitions that follow the same one (concurrent, `CF-STATUS`) by time. Times alone may tie:
/// a submission is often made in the same millisecond as the draft before it.
fn log_order(items: &[Item<Transition>]) -> Vec<&Item<Transition>> {
    let mut rest: Vec<&Item<Transition>> = live(items).collect();
    rest.sort_by_key(|t| (t.data.at, t.item_id));
    let mut out = Vec::with_capacity(rest.len());
    let mut frontier: Vec<Option<uuid::Uuid>> = vec![None];
    while !rest.is_empty() {
        let next = frontier
            .iter()
            .find_map(|f| rest.iter().position(|t| t.data.follows == *f));
        // A transition whose predecessor is missing (removed, or not yet synced): by time.
        let i = next.unwrap_or(0);
        let t = rest.remove(i);
        frontier.insert(0, Some(t.item_id));
        out.push(t);
    }
    out
}

/// The decision form.
#[derive(Debug, Deserialize)]
pub struct TransitionForm {
    csrf: Option<String>,
    to: Option<String>,
    reason: Option<String>,
}

/// `POST /console/requests/{id}/transition`.
pub async fn transition<S: ServerStore>(
    State(console): State<Console<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<TransitionForm>,
) -> Response {
    let signed = match session::current_for_post(
        &console,
        &headers,
        &extensions,
        form.csrf.as_deref(),
    )
    .await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    match decide(&console, &signed, &id, form).await {
        Ok((status, page)) => (status, page).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn decide<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id_text: &str,
    form: TransitionForm,
) -> Result<(StatusCode, Markup), ConsoleError> {
    let id = parse_record_id(id_text)?;
    let to = form
        .to
        .as_deref()
        .and_then(|code| {
            DECISIONS
                .into_iter()
                .find(|(s, _)| workflow::status_code(*s) == code)
        })
        .map(|(s, _)| s);
    let team = signed.user.team_id;
    let mirror = console.mirrors.team(&console.app, team).await?;
    let (actor, auth) = actor(console, signed).await?;
    let Some(to) = to else {
        return Ok((
            StatusCode::BAD_REQUEST,
            show_page(
                console,
                signed,
                id_text,
                Some(Outcome::Refused {
                    rule_id: "EQ-TRANSITION".into(),
                    detail: "the console offers approve, request information, decline and refer for a DFG only".into(),
                }),
            )
            .await?,
        ));
    };
    // The document's lock is held from reading it to committing the change, so the rules
    // judge exactly the state the change is added to.
    let mut slot = console.app.docs.lock(team, id).await?;
    let Some(current) = slot.doc.clone() else {
        return Err(ConsoleError::NotFound);
    };
    let bytes = current.save();
    let store = std::sync::Arc::clone(&mirror.store);
    let records = mirror.records(actor);
    let mut input = TransitionInput::at(chrono::Utc::now());
    input.reason = form.reason.filter(|r| !r.trim().is_empty());
    let result = mirror::run(move || {
        store.insert_remote_document(id, &bytes)?;
        // Only equipment requests have a workflow; another record is as unknown here.
        let schema = store.read(id, |d| doc::record_schema(d))?;
        if schema != Schema::EquipmentRequest {
            return Err(homevisit_core::Error::NotFound(id));
        }
        match records.transition(id, to, input) {
            Ok(status) => Ok(Ok((status, store.save_document(id)?))),
            Err(homevisit_core::Error::NotPermitted { rule_id, detail }) => {
                Ok(Err((rule_id, detail)))
            }
            Err(homevisit_core::Error::Conflict { paths }) => Ok(Err((
                "CF-BLOCK".to_string(),
                format!(
                    "a clinical field is in conflict ({}); resolve it on a tablet first",
                    paths.join(", ")
                ),
            ))),
            Err(e) => Err(e),
        }
    })
    .await;
    let outcome = match result {
        Err(ConsoleError::Core(homevisit_core::Error::NotFound(_))) => {
            return Err(ConsoleError::NotFound)
        }
        Err(e) => return Err(e),
        Ok(Err((rule_id, detail))) => {
            drop(slot);
            session::audit(
                console,
                signed,
                "transition-refused",
                format!(
                    "request {id} to {}: {rule_id} {detail}",
                    workflow::status_code(to)
                ),
            )
            .await;
            return Ok((
                StatusCode::FORBIDDEN,
                show_page(
                    console,
                    signed,
                    id_text,
                    Some(Outcome::Refused { rule_id, detail }),
                )
                .await?,
            ));
        }
        Ok(Ok((status, saved))) => {
            let saved = saved.ok_or(ConsoleError::NotFound)?;
            let mut candidate = current;
            candidate.load_incremental(&saved).map_err(|e| {
                ConsoleError::Internal(format!("console change does not load: {e}"))
            })?;
            let done = console
                .app
                .docs
                .commit(&mut slot, team, id, &auth, CONSOLE_ORIGIN, candidate)
                .await?;
            drop(slot);
            match done {
                crate::docs::Outcome::Committed { seq } => {
                    session::audit(
                        console,
                        signed,
                        "transition",
                        format!(
                            "request {id} to {} (team sequence {seq})",
                            workflow::status_code(status)
                        ),
                    )
                    .await;
                    Outcome::Done(format!(
                        "The request is now {}. Tablets receive the change at their next sync.",
                        workflow::status_code(status).replace('_', " ")
                    ))
                }
                crate::docs::Outcome::Unchanged => Outcome::Done("Nothing changed.".into()),
                crate::docs::Outcome::Rejected(why) | crate::docs::Outcome::Quarantined(why) => {
                    return Err(ConsoleError::Internal(format!(
                        "the server refused the change: {why}"
                    )))
                }
            }
        }
    };
    Ok((
        StatusCode::OK,
        show_page(console, signed, id_text, Some(outcome)).await?,
    ))
}

/// The connection id the console's commits carry, so every sync connection pushes them on.
pub const CONSOLE_ORIGIN: u64 = u64::MAX;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn transition(
        id: &str,
        from: Option<&str>,
        to: &str,
        follows: Option<&str>,
    ) -> Item<Transition> {
        let user = "00000000-0000-4000-8000-000000000001";
        serde_json::from_value(json!({
            "item_id": id, "added_at": "2026-12-03T21:51:00Z", "added_by": user,
            "from": from, "to": to, "follows": follows, "user_id": user, "role": "ap",
            "device_id": user, "at": "2026-12-03T21:51:00Z",
        }))
        .expect("a transition item")
    }

    /// Transitions made in the same instant are shown in the order they were made (each after
    /// the one it follows), not by their random ids.
    #[test]
    fn the_workflow_log_follows_the_chain_when_times_tie() {
        let draft = "ffffffff-0000-4000-8000-000000000000";
        let submitted = "00000000-0000-4000-8000-00000000000a";
        let approved = "88888888-0000-4000-8000-000000000000";
        let items = vec![
            transition(submitted, Some("draft"), "submitted", Some(draft)),
            transition(approved, Some("submitted"), "approved", Some(submitted)),
            transition(draft, None, "draft", None),
        ];
        let order: Vec<String> = log_order(&items)
            .iter()
            .map(|t| t.item_id.to_string())
            .collect();
        assert_eq!(order, [draft, submitted, approved]);
    }
}
