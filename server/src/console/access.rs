//! The access log: who viewed, printed or exported which child's records, when, from which
//! device. Tablets upload their append-only `RK-AUDIT` entries when they sync
//! ([`super::audit_upload`]); the console's own views are written here too. Filtered by
//! child, user and date.

use std::collections::HashMap;

use axum::{
    extract::{Query, State},
    http::{Extensions, HeaderMap},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use homevisit_core::RecordId;
use maud::{html, Markup};
use serde::Deserialize;

use super::{
    actor,
    layout::{self, Nav},
    mirror,
    session::{self, Signed},
    store::{AccessEntry, AccessFilter},
    Console, ConsoleError,
};
use crate::store::{DeviceAuth, ServerStore};

/// Most entries one page shows.
const PAGE: usize = 500;

/// Writes a console view of `record` to the access log (`RK-AUDIT`), before the record is
/// shown: if it cannot be written the record is not shown.
pub async fn log_console_view<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    auth: &DeviceAuth,
    record: RecordId,
) -> Result<(), ConsoleError> {
    log_console_entry(console, signed, auth, record, "view", None).await
}

/// Writes a console `action` (`view`, `print`) on `record` to the team's access log
/// (`RK-AUDIT`), with the purpose of a print.
pub async fn log_console_entry<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    auth: &DeviceAuth,
    record: RecordId,
    action: &str,
    purpose: Option<&str>,
) -> Result<(), ConsoleError> {
    let entry = AccessEntry {
        entry_id: uuid::Uuid::new_v4(),
        user_id: signed.user.user_id,
        user_name: None,
        device_id: auth.device_id,
        uploaded_by: auth.device_id,
        uploaded_by_name: None,
        record_id: record,
        action: action.into(),
        at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        purpose: purpose.map(str::to_owned),
    };
    console
        .app
        .store
        .append_access_entries(signed.user.team_id, auth.device_id, vec![entry])
        .await?;
    Ok(())
}

/// The filter form's fields (a GET form: it changes nothing).
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    child: Option<String>,
    user: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /console/access-log`.
pub async fn list<S: ServerStore>(
    State(console): State<Console<S>>,
    Query(filters): Query<Filters>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match page(&console, &signed, filters).await {
        Ok(m) => m.into_response(),
        Err(e) => e.into_response(),
    }
}

fn blank(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

async fn page<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    filters: Filters,
) -> Result<Markup, ConsoleError> {
    let team = signed.user.team_id;
    let mirror = console.mirrors.team(&console.app, team).await?;
    let (actor, _) = actor(console, signed).await?;
    let records = mirror.records(actor);
    let users = console.app.store.team_users(team).await?;
    let child: Option<RecordId> = blank(&filters.child).and_then(|c| c.parse().ok());
    let user = blank(&filters.user).and_then(|u| uuid::Uuid::parse_str(u).ok());
    let from = blank(&filters.from).and_then(|d| d.parse::<NaiveDate>().ok());
    let to = blank(&filters.to).and_then(|d| d.parse::<NaiveDate>().ok());
    let lookup = records.clone();
    let (children, child_records) = mirror::run(move || {
        let store = lookup.store();
        let children: Vec<(RecordId, String)> = store
            .caseload()?
            .into_iter()
            .map(|c| {
                let name = lookup
                    .banner(c.child_id)
                    .map(|b| b.name)
                    .unwrap_or_else(|_| "Unnamed child".into());
                (c.child_id, name)
            })
            .collect();
        let child_records = match child {
            Some(c) => {
                let mut ids = vec![c];
                ids.extend(store.records_of_child(c)?.into_iter().map(|r| r.id));
                Some(ids)
            }
            None => None,
        };
        Ok((children, child_records))
    })
    .await?;
    let filter = AccessFilter {
        records: child_records,
        user_id: user,
        from: from.map(|d| format!("{d}T00:00:00Z")),
        until: to
            .and_then(|d| d.succ_opt())
            .map(|d| format!("{d}T00:00:00Z")),
    };
    let entries = console.app.store.access_entries(team, filter, PAGE).await?;
    // Which child each record is about, for the table.
    let ids: Vec<RecordId> = entries.iter().map(|e| e.record_id).collect();
    let names_of: HashMap<RecordId, (String, String)> = mirror::run(move || {
        let store = records.store();
        let mut out = HashMap::new();
        for id in ids {
            if out.contains_key(&id) {
                continue;
            }
            let Some(summary) = store.record_summary(id)? else {
                continue;
            };
            let child = summary.child_id.unwrap_or(id);
            let title = if summary.child_id.is_none() {
                "Child record".to_string()
            } else {
                summary.title
            };
            let name = records
                .banner(child)
                .map(|b| b.name)
                .unwrap_or_else(|_| "Unknown child".into());
            out.insert(id, (name, title));
        }
        Ok(out)
    })
    .await?;
    let user_names: HashMap<uuid::Uuid, String> =
        users.iter().map(|u| (u.user_id, u.name.clone())).collect();
    session::audit(console, signed, "view-access-log", String::new()).await;
    let selected = |a: &str, b: Option<&str>| b == Some(a);
    Ok(layout::page(
        "Access log",
        signed,
        Nav::Access,
        html! {
            h1 { "Access log" }
            p { "Who viewed, printed or exported a child's records, when and from which device. Tablets send their entries when they sync, including views made offline." }
            form method="get" action="/console/access-log" class="hv-filters" id="filters" {
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="child" { "Child" }
                    select class="nhsuk-select" id="child" name="child" {
                        option value="" { "Any child" }
                        @for (id, name) in &children {
                            @let v = id.to_string();
                            option value=(v) selected[selected(&v, blank(&filters.child))] { (name) }
                        }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="user" { "User" }
                    select class="nhsuk-select" id="user" name="user" {
                        option value="" { "Anyone" }
                        @for u in &users {
                            @let v = u.user_id.to_string();
                            option value=(v) selected[selected(&v, blank(&filters.user))] { (u.name) }
                        }
                    }
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="from" { "From (date)" }
                    input class="nhsuk-input nhsuk-input--width-10" type="date" id="from" name="from" value=(blank(&filters.from).unwrap_or(""));
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="to" { "To (date, inclusive)" }
                    input class="nhsuk-input nhsuk-input--width-10" type="date" id="to" name="to" value=(blank(&filters.to).unwrap_or(""));
                }
                button class="nhsuk-button nhsuk-button--secondary" type="submit" id="apply-filters" { "Show entries" }
            }
            @if entries.is_empty() {
                p id="no-entries" { "No entries match." }
            } @else {
                div class="hv-table-scroll" {
                table class="nhsuk-table" id="access-log" {
                    caption class="nhsuk-table__caption" { (entries.len()) " entries, newest first" }
                    thead class="nhsuk-table__head" {
                        tr class="nhsuk-table__row" {
                            th class="nhsuk-table__header" scope="col" { "When" }
                            th class="nhsuk-table__header" scope="col" { "Who" }
                            th class="nhsuk-table__header" scope="col" { "Action" }
                            th class="nhsuk-table__header" scope="col" { "Child and record" }
                            th class="nhsuk-table__header" scope="col" { "Device" }
                            th class="nhsuk-table__header" scope="col" { "Purpose" }
                        }
                    }
                    tbody class="nhsuk-table__body" {
                        @for e in &entries {
                            tr class="nhsuk-table__row" {
                                td class="nhsuk-table__cell" { (layout::when(&e.at)) }
                                td class="nhsuk-table__cell" { (user_names.get(&e.user_id).cloned().unwrap_or_else(|| e.user_id.to_string())) }
                                td class="nhsuk-table__cell" { (e.action) }
                                td class="nhsuk-table__cell" {
                                    @match names_of.get(&e.record_id) {
                                        Some((child, title)) => { (child) br; a href={"/console/records/" (e.record_id)} { (title) } }
                                        None => { "Record " (e.record_id) }
                                    }
                                }
                                td class="nhsuk-table__cell" { (e.uploaded_by_name.as_deref().unwrap_or("unknown")) }
                                td class="nhsuk-table__cell" { (e.purpose.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
                }
            }
        },
    ))
}
