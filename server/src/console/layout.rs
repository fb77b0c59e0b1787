//! The page frame (NHS design system header, navigation, footer) and the headers every
//! console response carries.

use axum::{
    http::{header, HeaderValue},
    response::Response,
};
use maud::{html, Markup, DOCTYPE};

use super::{assets::CSS_PATH, session::Signed};

/// The Content-Security-Policy of every console response: no script at all, styles and
/// images from this server only, forms post only here, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// Adds the console's security headers. Pages hold clinical data, so nothing but the
/// stylesheet may be cached.
pub async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The sections of the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// Equipment requests.
    Requests,
    /// Devices.
    Devices,
    /// Caseload and records.
    Records,
    /// Access log.
    Access,
    /// Sync health.
    Health,
    /// None (sign-in, errors).
    None,
}

const NAV: [(Nav, &str, &str); 5] = [
    (Nav::Requests, "/console/requests", "Equipment requests"),
    (Nav::Devices, "/console/devices", "Devices"),
    (Nav::Records, "/console/records", "Caseload"),
    (Nav::Access, "/console/access-log", "Access log"),
    (Nav::Health, "/console/health", "Sync health"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " – HomeVisit team console" }
            link rel="stylesheet" href=(CSS_PATH);
        }
    }
}

fn header(signed: Option<&Signed>, active: Nav) -> Markup {
    html! {
        a class="nhsuk-skip-link" href="#maincontent" { "Skip to main content" }
        header class="nhsuk-header" role="banner" {
            div class="nhsuk-header__container nhsuk-width-container" {
                div class="nhsuk-header__service" {
                    a class="nhsuk-header__service-logo" href="/console" aria-label="HomeVisit team console homepage" {
                        span class="nhsuk-header__service-name" { "HomeVisit team console" }
                    }
                }
                @if let Some(s) = signed {
                    nav class="nhsuk-header__account" aria-label="Account" {
                        ul class="nhsuk-header__account-list" {
                            li class="nhsuk-header__account-item" {
                                (s.user.name) " (" (role_name(s.user.role)) ")"
                            }
                            li class="nhsuk-header__account-item" {
                                form class="nhsuk-header__account-form" method="post" action="/console/sign-out" {
                                    input type="hidden" name="csrf" value=(s.csrf);
                                    button class="nhsuk-header__account-button" type="submit" id="sign-out" { "Sign out" }
                                }
                            }
                        }
                    }
                }
            }
            @if signed.is_some() {
                nav class="nhsuk-header__navigation" aria-label="Menu" {
                    div class="nhsuk-header__navigation-container nhsuk-width-container" {
                        ul class="nhsuk-header__navigation-list" {
                            @for (nav, href, label) in NAV {
                                li class="nhsuk-header__navigation-item" {
                                    @if nav == active {
                                        a class="nhsuk-header__navigation-link" href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a class="nhsuk-header__navigation-link" href=(href) { (label) }
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

fn footer() -> Markup {
    html! {
        footer class="nhsuk-footer" role="contentinfo" {
            div class="nhsuk-width-container" {
                p class="nhsuk-body-s" {
                    "HomeVisit team console. Every action here is recorded in the server's audit trail."
                }
            }
        }
    }
}

/// A page for a signed-in user.
pub fn page(title: &str, signed: &Signed, active: Nav, body: Markup) -> Markup {
    frame(title, Some(signed), active, body)
}

/// A page outside a session (sign-in, errors).
pub fn public_page(title: &str, body: Markup) -> Markup {
    frame(title, None, Nav::None, body)
}

/// A page with a heading and one sentence.
pub fn bare_page(title: &str, text: &str) -> Markup {
    public_page(
        title,
        html! {
            h1 { (title) }
            p { (text) }
            p { a href="/console" { "Go to the console" } }
        },
    )
}

fn frame(title: &str, signed: Option<&Signed>, active: Nav, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            (head(title))
            body {
                (header(signed, active))
                div class="nhsuk-width-container" {
                    main class="nhsuk-main-wrapper" id="maincontent" role="main" {
                        (body)
                    }
                }
                (footer())
            }
        }
    }
}

/// A role as people say it.
pub fn role_name(role: homevisit_core::model::user::Role) -> &'static str {
    use homevisit_core::model::user::Role;
    match role {
        Role::Ap => "assistant practitioner",
        Role::Ot => "occupational therapist",
        Role::Approver => "approver",
        Role::System => "system",
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(signed: &Signed) -> Markup {
    html! { input type="hidden" name="csrf" value=(signed.csrf); }
}

/// The child banner every record page shows first (`SAF-WRONG-CHILD`): name, date of birth,
/// NHS number, alerts.
pub fn banner(b: &homevisit_core::records::Banner) -> Markup {
    html! {
        section class="nhsuk-card hv-banner" aria-label="Child" id="banner" {
            div class="nhsuk-card__content" {
                p class="nhsuk-card__heading nhsuk-heading-m" id="child-name" { (b.name) }
                p class="nhsuk-body-s" {
                    "Born " (b.date_of_birth.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_else(|| "date not recorded".into()))
                    " · NHS number " (b.nhs_number.as_deref().unwrap_or("not recorded"))
                }
                @if !b.alerts.is_empty() {
                    ul class="nhsuk-list hv-alerts" id="alerts" {
                        @for a in &b.alerts {
                            li { strong class="nhsuk-tag nhsuk-tag--orange" { "Alert" } " " (a) }
                        }
                    }
                }
            }
        }
    }
}

/// A stored RFC 3339 instant as people read it (`3 Dec 2026 08:32:39 UTC`); anything else as
/// it is.
pub fn when(s: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%-d %b %Y %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| s.to_string())
}

/// A field path for people: the ids of list entries are dropped
/// (`alerts.<uuid>.text` → `alerts: text`).
pub fn field_label(path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [list, id, rest @ ..] if uuid::Uuid::parse_str(id).is_ok() => {
            if rest.is_empty() {
                format!("{list} (an entry)")
            } else {
                format!("{list}: {}", rest.join("."))
            }
        }
        _ => path.replace('_', " "),
    }
}

/// The fields a change touched, as a short list: one name per list whose entries changed.
fn touched(paths: &[String]) -> String {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let parts: Vec<&str> = p.split('.').collect();
        let label = match parts.as_slice() {
            [list, id, ..] if uuid::Uuid::parse_str(id).is_ok() => format!("{list} (an entry)"),
            _ => p.clone(),
        };
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out.join(", ")
}

/// Who changed what and when (`RK-HISTORY`), newest first.
pub fn history_table(
    history: &[homevisit_core::doc::HistoryEntry],
    names: &std::collections::HashMap<uuid::Uuid, String>,
) -> Markup {
    html! {
        h2 { "History" }
        table class="nhsuk-table" id="history" {
            thead class="nhsuk-table__head" {
                tr class="nhsuk-table__row" {
                    th class="nhsuk-table__header" scope="col" { "When" }
                    th class="nhsuk-table__header" scope="col" { "Who" }
                    th class="nhsuk-table__header" scope="col" { "Action" }
                    th class="nhsuk-table__header" scope="col" { "Fields" }
                }
            }
            tbody class="nhsuk-table__body" {
                @for h in history.iter().rev() {
                    tr class="nhsuk-table__row" {
                        @match h.attribution.meta() {
                            Some(m) => {
                                td class="nhsuk-table__cell hv-nowrap" { (m.at.format("%-d %b %Y %H:%M")) }
                                td class="nhsuk-table__cell" {
                                    (names.get(&m.user_id).cloned().unwrap_or_else(|| m.user_id.to_string()))
                                    " (" (role_name(m.role)) ")"
                                }
                                td class="nhsuk-table__cell" { (m.action.as_str()) }
                            }
                            None => {
                                td class="nhsuk-table__cell" { (chrono::DateTime::from_timestamp(h.timestamp, 0).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()) }
                                td class="nhsuk-table__cell" { "Unattributed" }
                                td class="nhsuk-table__cell" { "unknown" }
                            }
                        }
                        td class="nhsuk-table__cell" { (touched(&h.paths)) }
                    }
                }
            }
        }
    }
}
