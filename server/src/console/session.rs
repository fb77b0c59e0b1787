//! Signing in and out, sessions and CSRF.
//!
//! Passwords are argon2id hashes (PHC strings) set with `homevisit-server user set-password`.
//! A session id is 32 random bytes in an `HttpOnly`, `SameSite=Strict` cookie (`Secure` under
//! TLS); the server keeps only its SHA-256, so a copy of the database signs nobody in. Each
//! session has a random CSRF token that every form carries; the sign-in form, before there is
//! a session, carries one that must match a short-lived cookie of its own. Sessions end after
//! [`ConsoleConfig::idle_timeout`] unused or [`ConsoleConfig::absolute_timeout`] after
//! sign-in, at sign-out, and at once when the user's console access is removed or replaced.

use std::time::Instant;

use argon2::{password_hash::PasswordHasher, password_hash::PasswordVerifier, Argon2};
use axum::{
    extract::{Query, State},
    http::{header, Extensions, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::html;
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{
    layout::public_page,
    peer_address,
    store::{ConsoleEvent, ConsoleUser},
    Console, ConsoleConfig, ConsoleError,
};
use crate::store::ServerStore;

/// The session cookie.
pub const SESSION_COOKIE: &str = "hv_console";
/// The sign-in form's own CSRF cookie.
pub const SIGN_IN_COOKIE: &str = "hv_console_signin";

/// A signed-in user on this request.
#[derive(Debug, Clone)]
pub struct Signed {
    /// Who.
    pub user: ConsoleUser,
    /// The session's CSRF token.
    pub csrf: String,
    /// Where from.
    pub address: Option<String>,
    id_hash: [u8; 32],
}

/// Why there is no signed-in user.
#[derive(Debug)]
pub enum NoSession {
    /// No cookie, or an unknown one.
    None,
    /// The session timed out (it has been ended).
    Expired,
    /// Storage failed.
    Failed(ConsoleError),
}

impl IntoResponse for NoSession {
    fn into_response(self) -> Response {
        match self {
            NoSession::None => Redirect::to("/console/sign-in").into_response(),
            NoSession::Expired => Redirect::to("/console/sign-in?expired=1").into_response(),
            NoSession::Failed(e) => e.into_response(),
        }
    }
}

/// A new random secret as 64 hex characters.
pub fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    hex::encode(raw)
}

fn id_hash(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

/// Hashes a console password with argon2id (default parameters, random salt).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Whether `password` matches the stored PHC string.
pub fn verify_password(password: &str, stored: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored)
        .is_ok()
}

/// A hash of a password nobody has, verified against when the login is unknown so that an
/// unknown login takes as long to refuse as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_secret()).unwrap_or_default())
}

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn set_cookie(config: &ConsoleConfig, name: &str, value: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if config.secure_cookies {
        c.push_str("; Secure");
    }
    c
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The signed-in user of a request, refreshing the session's idle timer.
pub async fn current<S: ServerStore>(
    console: &Console<S>,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Result<Signed, NoSession> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Err(NoSession::None);
    };
    let hash = id_hash(&id);
    let store = &console.app.store;
    let record = match store.console_session(hash).await {
        Ok(Some(r)) => r,
        Ok(None) => return Err(NoSession::None),
        Err(e) => return Err(NoSession::Failed(e.into())),
    };
    let now = now_secs();
    let cfg = console.config();
    let idle = i64::try_from(cfg.idle_timeout.as_secs()).unwrap_or(i64::MAX);
    let absolute = i64::try_from(cfg.absolute_timeout.as_secs()).unwrap_or(i64::MAX);
    if now.saturating_sub(record.last_seen) >= idle
        || now.saturating_sub(record.created_at) >= absolute
    {
        let _ = store.end_console_session(hash).await;
        let _ = store
            .append_console_event(ConsoleEvent {
                team_id: Some(record.user.team_id),
                user_id: Some(record.user.user_id),
                action: "session-expired".into(),
                detail: "the session timed out".into(),
                address: peer_address(extensions),
                at: String::new(),
            })
            .await;
        return Err(NoSession::Expired);
    }
    if let Err(e) = store.touch_console_session(hash, now).await {
        return Err(NoSession::Failed(e.into()));
    }
    Ok(Signed {
        user: record.user,
        csrf: record.csrf,
        address: peer_address(extensions),
        id_hash: hash,
    })
}

/// [`current`] for a form post: the form's `csrf` must be the session's token (`403`
/// otherwise, and nothing is done).
pub async fn current_for_post<S: ServerStore>(
    console: &Console<S>,
    headers: &HeaderMap,
    extensions: &Extensions,
    csrf: Option<&str>,
) -> Result<Signed, Response> {
    let signed = current(console, headers, extensions)
        .await
        .map_err(IntoResponse::into_response)?;
    if !csrf.is_some_and(|t| constant_time_eq(t.as_bytes(), signed.csrf.as_bytes())) {
        audit(
            console,
            &signed,
            "csrf-refused",
            "a form arrived without its security token".into(),
        )
        .await;
        return Err(ConsoleError::Csrf.into_response());
    }
    Ok(signed)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Writes a console action to the server's audit trail. A failure to write is logged: the
/// action itself has already been checked and done under its own transaction.
pub async fn audit<S: ServerStore>(
    console: &Console<S>,
    signed: &Signed,
    action: &str,
    detail: String,
) {
    let event = ConsoleEvent {
        team_id: Some(signed.user.team_id),
        user_id: Some(signed.user.user_id),
        action: action.into(),
        detail,
        address: signed.address.clone(),
        at: String::new(),
    };
    if let Err(e) = console.app.store.append_console_event(event).await {
        tracing::error!(error = %e, action, "console audit trail write failed");
    }
}

/// `?expired=1` after a timeout.
#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    expired: Option<String>,
}

fn sign_in_page(
    csrf: &str,
    error: Option<&str>,
    notice: Option<&str>,
    login: &str,
) -> maud::Markup {
    public_page(
        "Sign in",
        html! {
            @if let Some(e) = error {
                div class="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1" {
                    h2 class="nhsuk-error-summary__title" id="error-summary-title" { "There is a problem" }
                    div class="nhsuk-error-summary__body" {
                        ul class="nhsuk-list nhsuk-error-summary__list" {
                            li { a href="#login" { (e) } }
                        }
                    }
                }
            }
            @if let Some(n) = notice {
                div class="nhsuk-inset-text" id="notice" {
                    span class="nhsuk-u-visually-hidden" { "Information: " }
                    p { (n) }
                }
            }
            h1 { "Sign in to the team console" }
            form method="post" action="/console/sign-in" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="login" { "Login" }
                    input class="nhsuk-input nhsuk-u-width-two-thirds" id="login" name="login" type="text" autocomplete="username" spellcheck="false" value=(login);
                }
                div class="nhsuk-form-group" {
                    label class="nhsuk-label" for="password" { "Password" }
                    input class="nhsuk-input nhsuk-u-width-two-thirds" id="password" name="password" type="password" autocomplete="current-password";
                }
                button class="nhsuk-button" type="submit" id="sign-in" { "Sign in" }
            }
        },
    )
}

/// `GET /console/sign-in`.
pub async fn sign_in_form<S: ServerStore>(
    State(console): State<Console<S>>,
    Query(q): Query<SignInQuery>,
) -> Response {
    let csrf = new_secret();
    let notice = q
        .expired
        .is_some()
        .then_some("Your session ended because it was not used for a while. Sign in again.");
    (
        [(
            header::SET_COOKIE,
            set_cookie(console.config(), SIGN_IN_COOKIE, &csrf, Some(3600)),
        )],
        sign_in_page(&csrf, None, notice, ""),
    )
        .into_response()
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    login: Option<String>,
    password: Option<String>,
    csrf: Option<String>,
}

/// `POST /console/sign-in`.
pub async fn sign_in<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<SignInForm>,
) -> Response {
    let expected = cookie(&headers, SIGN_IN_COOKIE);
    let csrf_ok = matches!((&expected, &form.csrf), (Some(a), Some(b)) if !a.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes()));
    if !csrf_ok {
        return ConsoleError::Csrf.into_response();
    }
    let address = peer_address(&extensions);
    let login = form.login.unwrap_or_default().trim().to_string();
    let password = form.password.unwrap_or_default();
    let account_key = format!("account:{login}");
    let address_key = format!("address:{}", address.as_deref().unwrap_or("unknown"));
    let t = Instant::now();
    let store = &console.app.store;
    let csrf = expected.unwrap_or_default();
    if let Some(wait) = console
        .limiter
        .blocked(&account_key, t)
        .or_else(|| console.limiter.blocked(&address_key, t))
    {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let _ = store
            .append_console_event(ConsoleEvent {
                team_id: None,
                user_id: None,
                action: "sign-in-blocked".into(),
                detail: format!("login {login:?}: too many failed sign-ins"),
                address,
                at: String::new(),
            })
            .await;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, wait.as_secs().max(1).to_string())],
            sign_in_page(
                &csrf,
                Some(&format!(
                    "Too many failed sign-ins. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )),
                None,
                &login,
            ),
        )
            .into_response();
    }
    let credential = match store.console_credential(&login).await {
        Ok(c) => c,
        Err(e) => return ConsoleError::from(e).into_response(),
    };
    let stored = credential
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let verified = tokio::task::spawn_blocking(move || verify_password(&password, &stored))
        .await
        .unwrap_or(false);
    let user = match credential {
        Some((user, _)) if verified => user,
        other => {
            console.limiter.record_failure(&account_key, t);
            console.limiter.record_failure(&address_key, t);
            let _ = store
                .append_console_event(ConsoleEvent {
                    team_id: other.as_ref().map(|(u, _)| u.team_id),
                    user_id: other.as_ref().map(|(u, _)| u.user_id),
                    action: "sign-in-failed".into(),
                    detail: format!("login {login:?}"),
                    address,
                    at: String::new(),
                })
                .await;
            return (
                StatusCode::UNAUTHORIZED,
                sign_in_page(
                    &csrf,
                    Some("The login or password is not right."),
                    None,
                    &login,
                ),
            )
                .into_response();
        }
    };
    console.limiter.clear(&account_key);
    let session_id = new_secret();
    let session_csrf = new_secret();
    if let Err(e) = store
        .create_console_session(id_hash(&session_id), user.user_id, session_csrf, now_secs())
        .await
    {
        return ConsoleError::from(e).into_response();
    }
    let _ = store
        .append_console_event(ConsoleEvent {
            team_id: Some(user.team_id),
            user_id: Some(user.user_id),
            action: "sign-in".into(),
            detail: format!("login {login:?}"),
            address,
            at: String::new(),
        })
        .await;
    let cfg = console.config();
    let mut res = Redirect::to("/console/requests").into_response();
    let h = res.headers_mut();
    for c in [
        set_cookie(cfg, SESSION_COOKIE, &session_id, None),
        set_cookie(cfg, SIGN_IN_COOKIE, "", Some(0)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    res
}

/// A form with only its CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The token.
    pub csrf: Option<String>,
}

/// `POST /console/sign-out`.
pub async fn sign_out<S: ServerStore>(
    State(console): State<Console<S>>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<CsrfForm>,
) -> Response {
    let signed = match current_for_post(&console, &headers, &extensions, form.csrf.as_deref()).await
    {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = console.app.store.end_console_session(signed.id_hash).await {
        return ConsoleError::from(e).into_response();
    }
    audit(&console, &signed, "sign-out", String::new()).await;
    let mut res = Redirect::to("/console/sign-in").into_response();
    if let Ok(v) = HeaderValue::from_str(&set_cookie(console.config(), SESSION_COOKIE, "", Some(0)))
    {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct hors", &h));
        assert_ne!(hash_password("correct horse").unwrap(), h, "salted");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; hv_console=abc; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn session_cookies_are_httponly_strict_and_secure_under_tls() {
        let mut cfg = ConsoleConfig::default();
        let c = set_cookie(&cfg, SESSION_COOKIE, "x", None);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        cfg.secure_cookies = true;
        assert!(set_cookie(&cfg, SESSION_COOKIE, "x", None).ends_with("; Secure"));
    }
}
