//! The admin commands (`team add`, `user add`, `user set-password`, `user remove-console`,
//! `device add`, `device revoke`) as functions, so
//! the CLI stays a thin parser and the commands can be tested without a process.

use chrono::NaiveDate;
use homevisit_core::model::user::Role;
use uuid::Uuid;

use crate::{
    auth::{issue_token, token_hash},
    console::session::hash_password,
    store::{DeviceId, NewUser, RevokeBy, ServerStore, StoreError, TeamId, UserId},
};

/// Why an admin command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Bad arguments.
    #[error("{0}")]
    Usage(String),
    /// No such device.
    #[error("no device matches {0:?}")]
    NoSuchDevice(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates a team; returns its id.
pub async fn add_team(store: &impl ServerStore, name: &str) -> Result<TeamId, AdminError> {
    if name.trim().is_empty() {
        return Err(AdminError::Usage("the team name is empty".into()));
    }
    Ok(store.create_team(name.trim()).await?)
}

/// Creates a user; `role` is `ap`, `ot` or `approver`.
pub async fn add_user(
    store: &impl ServerStore,
    team: Uuid,
    name: &str,
    role: &str,
    hcpc: Option<String>,
    hcpc_verified_until: Option<NaiveDate>,
) -> Result<UserId, AdminError> {
    let role = match Role::parse(role) {
        Some(r @ (Role::Ap | Role::Ot | Role::Approver)) => r,
        _ => {
            return Err(AdminError::Usage(format!(
                "role must be ap, ot or approver, not {role:?}"
            )))
        }
    };
    if name.trim().is_empty() {
        return Err(AdminError::Usage("the user name is empty".into()));
    }
    Ok(store
        .create_user(NewUser {
            team_id: team,
            name: name.trim().to_string(),
            role,
            hcpc_number: hcpc.filter(|h| !h.trim().is_empty()),
            hcpc_verified_until,
        })
        .await?)
}

/// Registers a device for a user; returns the device id and the token (shown once).
pub async fn add_device(
    store: &impl ServerStore,
    user: Uuid,
    name: &str,
) -> Result<(DeviceId, String), AdminError> {
    let issued = issue_token();
    let id = store.create_device(user, name.trim(), issued.hash).await?;
    Ok((id, issued.token))
}

/// Revokes a device named by its id or its token.
pub async fn revoke_device(store: &impl ServerStore, which: &str) -> Result<DeviceId, AdminError> {
    let by = match Uuid::parse_str(which.trim()) {
        Ok(id) => RevokeBy::Device(id),
        Err(_) => match token_hash(which) {
            Some(h) => RevokeBy::TokenHash(h),
            None => {
                return Err(AdminError::Usage(
                    "expected a device id or a device token".into(),
                ))
            }
        },
    };
    // The argument may be a token: never echo it back.
    store
        .revoke_device(by)
        .await?
        .ok_or_else(|| AdminError::NoSuchDevice("the given device".into()))
}

/// The shortest console password accepted.
pub const MIN_CONSOLE_PASSWORD: usize = 12;

/// Gives an existing user console access with `login` and `password` (stored as an argon2id
/// hash), replacing any earlier one and ending the user's open console sessions.
pub async fn set_console_password(
    store: &impl ServerStore,
    user: Uuid,
    login: &str,
    password: &str,
) -> Result<(), AdminError> {
    let login = login.trim();
    if login.is_empty() || login.chars().any(char::is_whitespace) {
        return Err(AdminError::Usage(
            "the login is empty or contains spaces".into(),
        ));
    }
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < MIN_CONSOLE_PASSWORD {
        return Err(AdminError::Usage(format!(
            "the password must be at least {MIN_CONSOLE_PASSWORD} characters"
        )));
    }
    let owned = password.to_string();
    let hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| AdminError::Usage(format!("hashing failed: {e}")))?
        .map_err(AdminError::Usage)?;
    Ok(store.set_console_password(user, login, hash).await?)
}

/// Removes a user's console access; their console sessions end at once.
pub async fn remove_console_access(store: &impl ServerStore, user: Uuid) -> Result<(), AdminError> {
    if store.remove_console_access(user).await? {
        Ok(())
    } else {
        Err(AdminError::Usage(format!(
            "user {user} has no console access"
        )))
    }
}
