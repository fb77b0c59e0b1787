//! Sync health: connections open now, device sessions and refusals over the last 24 hours,
//! quarantined documents, and storage used by the team.

use axum::{
    extract::State,
    http::{Extensions, HeaderMap},
    response::{IntoResponse, Response},
};
use maud::html;

use super::{
    layout::{self, Nav},
    session, Console, ConsoleError,
};
use crate::store::ServerStore;

/// `GET /console/health`.
pub async fn show<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    let team = signed.user.team_id;
    let store = &console.app.store;
    let since = (chrono::Utc::now() - chrono::Duration::hours(24))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let result = async {
        let (sessions, errors) = store.contact_counts(team, since).await?;
        let quarantined = store.quarantined_count(team).await?;
        let (documents, bytes) = store.team_storage(team).await?;
        let events = store.console_events(team, 20).await?;
        let names = super::user_names(&console, team).await?;
        Ok::<_, ConsoleError>((
            sessions,
            errors,
            quarantined,
            documents,
            bytes,
            events,
            names,
        ))
    }
    .await;
    let (sessions, errors, quarantined, documents, bytes, events, names) = match result {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let open = console.app.connections.open();
    let rows: [(&str, &str, String); 6] = [
        (
            "connections",
            "Connections open now (all teams)",
            open.to_string(),
        ),
        (
            "sessions",
            "Device sessions in the last 24 hours",
            sessions.to_string(),
        ),
        (
            "errors",
            "Refused sessions in the last 24 hours",
            errors.to_string(),
        ),
        (
            "quarantined",
            "Quarantined documents",
            quarantined.to_string(),
        ),
        ("documents", "Documents stored", documents.to_string()),
        (
            "storage",
            "Storage used by your team",
            format!("{:.1} KiB", bytes as f64 / 1024.0),
        ),
    ];
    layout::page(
        "Sync health",
        &signed,
        Nav::Health,
        html! {
            h1 { "Sync health" }
            dl class="nhsuk-summary-list" id="health" {
                @for (id, label, value) in &rows {
                    div class="nhsuk-summary-list__row" {
                        dt class="nhsuk-summary-list__key" { (label) }
                        dd class="nhsuk-summary-list__value" id={"health-" (id)} { (value) }
                    }
                }
            }
            p class="nhsuk-body-s" { "Quarantined documents claimed another team or none; they are kept where no device can see them." }
            h2 { "Latest console actions" }
            table class="nhsuk-table" id="console-events" {
                caption class="nhsuk-table__caption nhsuk-u-visually-hidden" { "The server's audit trail of console actions, newest first" }
                thead class="nhsuk-table__head" {
                    tr class="nhsuk-table__row" {
                        th class="nhsuk-table__header" scope="col" { "When" }
                        th class="nhsuk-table__header" scope="col" { "Who" }
                        th class="nhsuk-table__header" scope="col" { "What" }
                        th class="nhsuk-table__header" scope="col" { "From" }
                    }
                }
                tbody class="nhsuk-table__body" {
                    @for e in &events {
                        tr class="nhsuk-table__row" {
                            td class="nhsuk-table__cell hv-nowrap" { (layout::when(&e.at)) }
                            td class="nhsuk-table__cell" { (e.user_id.and_then(|u| names.get(&u).cloned()).unwrap_or_else(|| "unknown".into())) }
                            td class="nhsuk-table__cell" { (e.action) @if !e.detail.is_empty() { br; span class="nhsuk-body-s" { (e.detail) } } }
                            td class="nhsuk-table__cell" { (e.address.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
