//! Devices: who holds which tablet, when it last made contact, what it reported, and revoking
//! one (with a confirmation page). A revoked device hears `hv-revoked` at its next contact and
//! wipes its local data (`SAF-DEVICE-LOST`), exactly as after `homevisit-server device revoke`.

use axum::{
    extract::{Path, State},
    http::{Extensions, HeaderMap},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::{html, Markup};

use super::{
    layout::{self, csrf_field, Nav},
    session::{self, CsrfForm, Signed},
    store::DeviceRow,
    Console, ConsoleError,
};
use crate::{
    app::App,
    store::{DeviceAuth, RevokeBy, ServerStore},
};

/// Records a device's connection (last seen, last result) for the devices page. A failure
/// to record is logged and never stops the sync.
pub async fn note_contact<S: ServerStore>(app: &App<S>, auth: &DeviceAuth) {
    let result = if auth.revoked {
        "refused: revoked (told to wipe)"
    } else {
        "ok: connected"
    };
    if let Err(e) = app.store.note_device_contact(auth.device_id, result).await {
        tracing::warn!(error = %e, "could not record the device's contact");
    }
}

async fn team_device<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    id: &str,
) -> Result<DeviceRow, ConsoleError> {
    let id = uuid::Uuid::parse_str(id).map_err(|_| ConsoleError::NotFound)?;
    console
        .app
        .store
        .team_devices(signed.user.team_id)
        .await?
        .into_iter()
        .find(|d| d.device_id == id)
        .ok_or(ConsoleError::NotFound)
}

/// `GET /console/devices`.
pub async fn list<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    match console.app.store.team_devices(signed.user.team_id).await {
        Ok(devices) => list_page(&signed, &devices).into_response(),
        Err(e) => ConsoleError::from(e).into_response(),
    }
}

fn list_page(signed: &Signed, devices: &[DeviceRow]) -> Markup {
    layout::page(
        "Devices",
        signed,
        Nav::Devices,
        html! {
            h1 { "Devices" }
            @if devices.is_empty() {
                p { "No devices are registered for your team." }
            } @else {
                div class="hv-table-scroll" {
                table class="nhsuk-table" id="devices" {
                    caption class="nhsuk-table__caption" { "Your team's tablets" }
                    thead class="nhsuk-table__head" {
                        tr class="nhsuk-table__row" {
                            th class="nhsuk-table__header" scope="col" { "Device" }
                            th class="nhsuk-table__header" scope="col" { "User" }
                            th class="nhsuk-table__header" scope="col" { "Last seen" }
                            th class="nhsuk-table__header" scope="col" { "Last sync" }
                            th class="nhsuk-table__header" scope="col" { "Unsynced records" }
                            th class="nhsuk-table__header" scope="col" { "Core version" }
                            th class="nhsuk-table__header" scope="col" { "Action" }
                        }
                    }
                    tbody class="nhsuk-table__body" {
                        @for d in devices {
                            tr class="nhsuk-table__row" id={"device-" (d.device_id)} {
                                td class="nhsuk-table__cell" { (d.name) }
                                td class="nhsuk-table__cell" { (d.user_name) br; span class="nhsuk-body-s" { (layout::role_name(d.role)) } }
                                td class="nhsuk-table__cell" { (d.last_seen.as_deref().map(layout::when).unwrap_or_else(|| "never".into())) }
                                td class="nhsuk-table__cell" { (d.last_result.as_deref().unwrap_or("none yet")) }
                                td class="nhsuk-table__cell" { (d.unsynced.map(|n| n.to_string()).unwrap_or_else(|| "not reported".into())) }
                                td class="nhsuk-table__cell" { (d.core_version.as_deref().unwrap_or("not reported")) }
                                td class="nhsuk-table__cell" {
                                    @match &d.revoked_at {
                                        Some(at) => { strong class="nhsuk-tag nhsuk-tag--red" { "Revoked" } br; span class="nhsuk-body-s" { (layout::when(at)) } }
                                        None => {
                                            a href={"/console/devices/" (d.device_id) "/revoke"} id={"revoke-" (d.device_id)} {
                                                "Revoke" span class="nhsuk-u-visually-hidden" { " " (d.name) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                }
            }
        },
    )
}

/// `GET /console/devices/{id}/revoke`: the confirmation page.
pub async fn confirm<S: ServerStore>(
    State(console): State<Console<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let signed = match session::current(&console, &headers, &extensions).await {
        Ok(s) => s,
        Err(n) => return n.into_response(),
    };
    let device = match team_device(&console, &signed, &id).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    layout::page(
        "Revoke a device",
        &signed,
        Nav::Devices,
        html! {
            h1 { "Revoke " (device.name) "?" }
            div class="nhsuk-warning-callout" {
                h2 class="nhsuk-warning-callout__label" { span role="text" { span class="nhsuk-u-visually-hidden" { "Important: " } "This cannot be undone" } }
                p {
                    "The tablet of " (device.user_name) " will be told to wipe every record it holds the next time it contacts the server. "
                    "Work it has not synced is lost with it."
                }
                p { "Unsynced records it last reported: " (device.unsynced.map(|n| n.to_string()).unwrap_or_else(|| "not reported".into())) }
            }
            @if device.revoked_at.is_some() {
                p { "This device is already revoked." }
            } @else {
                form method="post" action={"/console/devices/" (device.device_id) "/revoke"} {
                    (csrf_field(&signed))
                    button class="nhsuk-button nhsuk-button--warning" type="submit" id="confirm-revoke" { "Revoke and wipe this device" }
                }
            }
            p { a href="/console/devices" { "Cancel and go back to devices" } }
        },
    )
    .into_response()
}

/// `POST /console/devices/{id}/revoke`.
pub async fn revoke<S: ServerStore>(
    State(console): State<Console<S>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<CsrfForm>,
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
    let device = match team_device(&console, &signed, &id).await {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = console
        .app
        .store
        .revoke_device(RevokeBy::Device(device.device_id))
        .await
    {
        return ConsoleError::from(e).into_response();
    }
    session::audit(
        &console,
        &signed,
        "revoke-device",
        format!(
            "device {} ({}) of {}",
            device.device_id, device.name, device.user_name
        ),
    )
    .await;
    Redirect::to("/console/devices").into_response()
}
