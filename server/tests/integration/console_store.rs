//! The console's storage (server/src/console/store.rs) on SQLite and on PostgreSQL: sessions
//! die with the user's console access, console devices never show as tablets, the audit trail
//! and the access log are append-only.

use homevisit_core::model::user::Role;
use homevisit_server::{
    admin,
    console::{
        session::{hash_password, verify_password},
        store::{AccessEntry, AccessFilter, ConsoleEvent},
    },
    ServerStore, SqliteStore,
};

async fn world<S: ServerStore>(store: S) -> (S, uuid::Uuid, uuid::Uuid) {
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
    (store, team, user)
}

async fn a_session_ends_at_once_when_console_access_is_removed_or_replaced<S: ServerStore>(
    store: S,
) {
    let (store, team, user) = world(store).await;
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

async fn console_passwords_must_be_long_and_logins_unique<S: ServerStore>(store: S) {
    let (store, team, user) = world(store).await;
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

async fn the_console_device_is_stable_and_never_listed_as_a_tablet<S: ServerStore>(store: S) {
    let (store, team, user) = world(store).await;
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

async fn the_console_audit_trail_is_kept_per_team_newest_first<S: ServerStore>(store: S) {
    let (store, team, user) = world(store).await;
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

async fn the_access_log_keeps_each_entry_once_and_filters_by_record_user_and_time<
    S: ServerStore,
>(
    store: S,
) {
    let (store, team, user) = world(store).await;
    let (tablet, _) = admin::add_device(&store, user, "Olivia's tablet")
        .await
        .unwrap();
    let record = |n: u8| homevisit_core::RecordId::from_bytes([n; 16]);
    let entry = |n: u8, at: &str| AccessEntry {
        entry_id: uuid::Uuid::from_bytes([n; 16]),
        user_id: user,
        user_name: None,
        device_id: uuid::Uuid::from_bytes([99; 16]),
        uploaded_by: tablet,
        uploaded_by_name: None,
        record_id: record(n % 2),
        action: "view".into(),
        at: at.into(),
        purpose: None,
    };
    let batch = vec![
        entry(1, "2026-03-01T09:00:00Z"),
        entry(2, "2026-03-02T09:00:00Z"),
        entry(3, "2026-03-03T09:00:00Z"),
    ];
    assert_eq!(
        store
            .append_access_entries(team, tablet, batch.clone())
            .await
            .unwrap(),
        3
    );
    // The same upload again (a lost acknowledgement) adds nothing.
    assert_eq!(
        store
            .append_access_entries(team, tablet, batch)
            .await
            .unwrap(),
        0
    );
    let all = store
        .access_entries(team, AccessFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(
        all.iter().map(|e| e.at.as_str()).collect::<Vec<_>>(),
        [
            "2026-03-03T09:00:00Z",
            "2026-03-02T09:00:00Z",
            "2026-03-01T09:00:00Z"
        ],
        "newest first"
    );
    assert_eq!(all[0].user_name.as_deref(), Some("Olivia Tan"));
    assert_eq!(all[0].uploaded_by_name.as_deref(), Some("Olivia's tablet"));
    let of_record_1 = AccessFilter {
        records: Some(vec![record(1)]),
        ..AccessFilter::default()
    };
    assert_eq!(
        store
            .access_entries(team, of_record_1, 100)
            .await
            .unwrap()
            .len(),
        2
    );
    let window = AccessFilter {
        from: Some("2026-03-02T00:00:00Z".into()),
        until: Some("2026-03-03T00:00:00Z".into()),
        ..AccessFilter::default()
    };
    let got = store.access_entries(team, window, 100).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].entry_id, uuid::Uuid::from_bytes([2; 16]));
    let nobody = AccessFilter {
        user_id: Some(uuid::Uuid::new_v4()),
        ..AccessFilter::default()
    };
    assert!(store
        .access_entries(team, nobody, 100)
        .await
        .unwrap()
        .is_empty());
    let no_records = AccessFilter {
        records: Some(vec![]),
        ..AccessFilter::default()
    };
    assert!(store
        .access_entries(team, no_records, 100)
        .await
        .unwrap()
        .is_empty());
    let other = admin::add_team(&store, "Hillview").await.unwrap();
    assert!(store
        .access_entries(other, AccessFilter::default(), 100)
        .await
        .unwrap()
        .is_empty());
    // Device contacts count per team since an instant.
    store.note_device_contact(tablet, "ok").await.unwrap();
    store
        .note_device_contact(tablet, "refused: revoked")
        .await
        .unwrap();
    assert_eq!(
        store
            .contact_counts(team, "2000-01-01T00:00:00Z".into())
            .await
            .unwrap(),
        (2, 1)
    );
    store
        .note_device_report(tablet, Some("1.2.3".into()), Some(4))
        .await
        .unwrap();
    let row = store.team_devices(team).await.unwrap().remove(0);
    assert_eq!(row.last_result.as_deref(), Some("refused: revoked"));
    assert_eq!(row.core_version.as_deref(), Some("1.2.3"));
    assert_eq!(row.unsynced, Some(4));
    assert_eq!(row.revoked_at, None);
    admin::revoke_device(&store, &tablet.to_string())
        .await
        .unwrap();
    let row = store.team_devices(team).await.unwrap().remove(0);
    assert!(
        row.revoked_at
            .as_deref()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 20),
        "{:?}",
        row.revoked_at
    );
}

macro_rules! console_suite {
    ($module:ident, $make:expr) => {
        mod $module {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_session_ends_at_once_when_console_access_is_removed_or_replaced() {
                let (_dir, s) = $make;
                super::a_session_ends_at_once_when_console_access_is_removed_or_replaced(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn console_passwords_must_be_long_and_logins_unique() {
                let (_dir, s) = $make;
                super::console_passwords_must_be_long_and_logins_unique(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_console_device_is_stable_and_never_listed_as_a_tablet() {
                let (_dir, s) = $make;
                super::the_console_device_is_stable_and_never_listed_as_a_tablet(s).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_access_log_keeps_each_entry_once_and_filters_by_record_user_and_time() {
                let (_dir, s) = $make;
                super::the_access_log_keeps_each_entry_once_and_filters_by_record_user_and_time(s)
                    .await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_console_audit_trail_is_kept_per_team_newest_first() {
                let (_dir, s) = $make;
                super::the_console_audit_trail_is_kept_per_team_newest_first(s).await;
            }
        }
    };
}

console_suite!(sqlite, {
    let dir = tempfile::tempdir().unwrap();
    let store = homevisit_server::SqliteStore::open_dir(dir.path()).unwrap();
    (dir, store)
});

console_suite!(postgres, {
    let url = super::super::store_suite::fresh_postgres_database().await;
    let store = homevisit_server::PgStore::connect(&url).await.unwrap();
    ((), store)
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_the_console_audit_trail_and_access_log_refuse_edits_and_deletes() {
    let url = super::store_suite::fresh_postgres_database().await;
    drop(homevisit_server::PgStore::connect(&url).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    // Rows are written directly here, so the references they name need not exist.
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    client
        .batch_execute(
            "INSERT INTO console_events (action, detail, at) VALUES ('sign-in', '', '2026-01-01T00:00:00Z')",
        )
        .await
        .unwrap();
    client
        .batch_execute("SET session_replication_role = DEFAULT")
        .await
        .unwrap();
    for sql in [
        "UPDATE console_events SET action = 'x'",
        "DELETE FROM console_events",
    ] {
        let e = client.batch_execute(sql).await.unwrap_err();
        assert!(format!("{e:?}").contains("append-only"), "{sql}: {e:?}");
    }
    let team = uuid::Uuid::new_v4();
    client
        .execute("INSERT INTO teams (id, name) VALUES ($1, 'T')", &[&team])
        .await
        .unwrap();
    client
        .batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO access_log (team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, received_at)
             VALUES ($1, $2, $2, $2, $2, 'r', 'view', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            &[&team, &uuid::Uuid::new_v4()],
        )
        .await
        .unwrap();
    client
        .batch_execute("SET session_replication_role = DEFAULT")
        .await
        .unwrap();
    for sql in [
        "UPDATE access_log SET action = 'print'",
        "DELETE FROM access_log",
    ] {
        let e = client.batch_execute(sql).await.unwrap_err();
        assert!(format!("{e:?}").contains("append-only"), "{sql}: {e:?}");
    }
}
