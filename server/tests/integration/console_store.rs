//! The console's storage (server/src/console/store.rs) on SQLite: sessions die with the user's
//! console access, console devices never show as tablets, the audit trail and the access log
//! are append-only.

use homevisit_core::model::user::Role;
use homevisit_server::{
    admin,
    console::{
        session::{hash_password, verify_password},
        store::{ConsoleEvent, ConsoleStore},
    },
    SqliteStore,
};

async fn world() -> (tempfile::TempDir, SqliteStore, uuid::Uuid, uuid::Uuid) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let team = admin::add_team(&store, "Riverside").await.unwrap();
    let user = admin::add_user(
        &store,
        team,
        "Olivia Tan",
        "ot",
        Some("OT1".into()),
        chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
    )
    .await
    .unwrap();
    (dir, store, team, user)
}

#[tokio::test]
async fn a_session_ends_at_once_when_console_access_is_removed_or_replaced() {
    let (_dir, store, team, user) = world().await;
    admin::set_console_password(&store, user, "olivia", "a long enough password")
        .await
        .unwrap();
    let (found, hash) = store.console_credential("olivia").await.unwrap().unwrap();
    assert_eq!(found.user_id, user);
    assert_eq!(found.team_id, team);
    assert_eq!(found.role, Role::Ot);
    assert!(hash.starts_with("$argon2id$"));
    assert!(verify_password("a long enough password", &hash));

    store
        .create_console_session([1; 32], user, "csrf".into(), 100)
        .await
        .unwrap();
    assert!(store.console_session([1; 32]).await.unwrap().is_some());
    // A new password ends every open session.
    admin::set_console_password(&store, user, "olivia", "another long password")
        .await
        .unwrap();
    assert!(store.console_session([1; 32]).await.unwrap().is_none());
    store
        .create_console_session([2; 32], user, "csrf".into(), 100)
        .await
        .unwrap();
    admin::remove_console_access(&store, user).await.unwrap();
    assert!(store.console_session([2; 32]).await.unwrap().is_none());
    assert!(store.console_credential("olivia").await.unwrap().is_none());
    assert!(admin::remove_console_access(&store, user).await.is_err());
}

#[tokio::test]
async fn console_passwords_must_be_long_and_logins_unique() {
    let (_dir, store, team, user) = world().await;
    assert!(
        admin::set_console_password(&store, user, "olivia", "short\n")
            .await
            .is_err()
    );
    assert!(
        admin::set_console_password(&store, user, "has space", "a long enough password")
            .await
            .is_err()
    );
    admin::set_console_password(&store, user, "olivia", "a long enough password\n")
        .await
        .unwrap();
    let other = admin::add_user(&store, team, "Adam Price", "ap", None, None)
        .await
        .unwrap();
    assert!(
        admin::set_console_password(&store, other, "olivia", "a long enough password")
            .await
            .is_err(),
        "a login names one user"
    );
    // The trailing newline of standard input is not part of the password.
    let (_, hash) = store.console_credential("olivia").await.unwrap().unwrap();
    assert!(verify_password("a long enough password", &hash));
    assert!(!verify_password("a long enough password\n", &hash));
    assert_ne!(hash, hash_password("a long enough password").unwrap());
}

#[tokio::test]
async fn the_console_device_is_stable_and_never_listed_as_a_tablet() {
    let (_dir, store, team, user) = world().await;
    let (tablet, _) = admin::add_device(&store, user, "Olivia's tablet")
        .await
        .unwrap();
    let console = store.console_device(user).await.unwrap();
    assert_eq!(store.console_device(user).await.unwrap(), console);
    let devices = store.team_devices(team).await.unwrap();
    assert_eq!(
        devices.iter().map(|d| d.device_id).collect::<Vec<_>>(),
        vec![tablet]
    );
}

#[tokio::test]
async fn the_console_audit_trail_is_kept_per_team_newest_first() {
    let (_dir, store, team, user) = world().await;
    let other = admin::add_team(&store, "Hillview").await.unwrap();
    for action in ["sign-in", "transition"] {
        store
            .append_console_event(ConsoleEvent {
                team_id: Some(team),
                user_id: Some(user),
                action: action.into(),
                detail: "request 1".into(),
                address: Some("127.0.0.1".into()),
                at: String::new(),
            })
            .await
            .unwrap();
    }
    let events = store.console_events(team, 10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["transition", "sign-in"]
    );
    assert_eq!(events[0].address.as_deref(), Some("127.0.0.1"));
    assert!(events[0].at.ends_with('Z'));
    assert!(store.console_events(other, 10).await.unwrap().is_empty());
}

#[test]
fn the_console_audit_trail_and_access_log_refuse_edits_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    drop(SqliteStore::open_dir(dir.path()).unwrap());
    let conn =
        rusqlite::Connection::open(dir.path().join(homevisit_server::sqlite::DB_FILE)).unwrap();
    // Rows are written directly here, so the references they name need not exist.
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    conn.execute(
        "INSERT INTO console_events (action, detail, at) VALUES ('sign-in', '', '2026-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    assert!(conn
        .execute("UPDATE console_events SET action = 'x'", [])
        .is_err());
    assert!(conn.execute("DELETE FROM console_events", []).is_err());
    conn.execute(
        "INSERT INTO access_log (team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, received_at)
         VALUES ('t', 'e', 'u', 'd', 'd', 'r', 'view', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        [],
    )
    .unwrap();
    assert!(conn
        .execute("UPDATE access_log SET action = 'print'", [])
        .is_err());
    assert!(conn.execute("DELETE FROM access_log", []).is_err());
}
