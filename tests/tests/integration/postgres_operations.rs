//! Operations (ADR 0016): `homevisit-server migrate` moves an embedded server to PostgreSQL
//! and tablets carry on as if nothing happened; `homevisit-server backup` copies the embedded
//! database while it serves; `pg_dump`/`pg_restore` do the same for PostgreSQL; after a
//! restore from an older backup, tablets re-send what the restored server lacks.

use std::process::Command;

use homevisit_core::Error;
use homevisit_server::{
    console::store::{AccessEntry, ConsoleEvent, ConsoleStore},
    AnyStore, Location, ServerConfig, ServerStore, SqliteStore,
};
use homevisit_tests::{
    device::{assert_converged, Device},
    pg::{self, server_binary},
    TestServer,
};

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn pg_bin(tool: &str) -> std::path::PathBuf {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("postgresql is not installed")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(tool)))
        .filter(|p| p.exists())
        .collect();
    dirs.sort();
    dirs.pop().unwrap_or_else(|| panic!("{tool} not found"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_an_embedded_server_to_postgres_and_tablets_carry_on() {
    let embedded = TestServer::start().await;
    let team = embedded.team("North").await;
    let a = Device::join(&embedded, &team).await;
    let b = Device::join(&embedded, &team).await;
    let lost = Device::join(&embedded, &team).await;
    let children = a.create_children(5);
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    lost.sync().await.unwrap();
    embedded.revoke(&lost.token).await;
    // The console's rows come along: a login, the audit trail, the access log.
    let store = &*embedded.app.store;
    homevisit_server::admin::set_console_password(store, team.ot, "olu", "a long enough password")
        .await
        .unwrap();
    store
        .append_console_event(ConsoleEvent {
            team_id: Some(team.id),
            user_id: Some(team.ot),
            action: "sign-in".into(),
            detail: "before the move".into(),
            address: Some("127.0.0.1".into()),
            at: String::new(),
        })
        .await
        .unwrap();
    let tablet = store.team_devices(team.id).await.unwrap()[0].device_id;
    let entry = AccessEntry {
        entry_id: uuid::Uuid::new_v4(),
        user_id: team.ot,
        user_name: None,
        device_id: uuid::Uuid::new_v4(),
        uploaded_by: tablet,
        uploaded_by_name: None,
        record_id: children[0],
        action: "print".into(),
        at: "2026-03-15T10:00:00Z".into(),
        purpose: Some("school meeting".into()),
    };
    store
        .append_access_entries(team.id, tablet, vec![entry.clone()])
        .await
        .unwrap();
    let flags_before = store.flags(team.id, None).await.unwrap().len();
    let dir = embedded.data_dir().unwrap().to_path_buf();

    let url = pg::fresh_database().await;
    let line = run(Command::new(server_binary()).args([
        "migrate",
        "--from-data-dir",
        dir.to_str().unwrap(),
        "--to",
        &url,
    ]));
    assert!(
        line.starts_with("migrated 1 teams, 1 users, 3 devices, 5 documents"),
        "{line}"
    );
    assert!(
        line.contains("10 change receipts, 1 console events, 1 access-log entries"),
        "{line}"
    );
    // Migrating twice is refused: the target is no longer empty.
    let again = Command::new(server_binary())
        .args([
            "migrate",
            "--from-data-dir",
            dir.to_str().unwrap(),
            "--to",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));

    let pg = TestServer::on(&Location::Postgres(url), ServerConfig::default()).await;
    let moved = &*pg.app.store;
    let (user, _) = moved.console_credential("olu").await.unwrap().unwrap();
    assert_eq!(user.user_id, team.ot);
    let events = moved.console_events(team.id, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].detail, "before the move");
    let log = moved
        .access_entries(team.id, Default::default(), 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].entry_id, log[0].record_id, log[0].purpose.as_deref()),
        (entry.entry_id, children[0], Some("school meeting"))
    );
    assert_eq!(
        moved.flags(team.id, None).await.unwrap().len(),
        flags_before
    );
    let a = Device::reconnect(&a, pg.url(), Default::default());
    let b = Device::reconnect(&b, pg.url(), Default::default());
    // Same tokens, same cursors, same sync states: an unchanged reconnect moves nothing.
    for d in [&a, &b] {
        let report = d.sync().await.unwrap();
        assert_eq!(
            (report.docs_received, report.round_trips),
            (0, 1),
            "{report:?}"
        );
    }
    a.set_str(children[0], "gp_area", "luton");
    a.sync().await.unwrap();
    assert_eq!(b.sync().await.unwrap().docs_received, 1);
    // The revocation came along; a new tablet downloads everything.
    let lost = Device::reconnect(&lost, pg.url(), Default::default());
    assert!(matches!(lost.sync().await, Err(Error::Revoked)));
    let fresh = Device::join(&pg, &team).await;
    assert_eq!(fresh.sync().await.unwrap().docs_received, 5);
    assert_converged(&[&a, &b, &fresh], &pg, &team).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_backup_taken_while_serving_restores_and_tablets_resend_what_it_lacks() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let children = a.create_children(3);
    a.sync().await.unwrap();
    b.sync().await.unwrap();

    let backups = tempfile::tempdir().unwrap();
    let file = backups.path().join("backup.db");
    run(Command::new(server_binary()).args([
        "backup",
        "--data-dir",
        server.data_dir().unwrap().to_str().unwrap(),
        "--to",
        file.to_str().unwrap(),
    ]));
    // A backup never overwrites.
    let twice = Command::new(server_binary())
        .args([
            "backup",
            "--data-dir",
            server.data_dir().unwrap().to_str().unwrap(),
            "--to",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!twice.status.success());

    // Work acknowledged after the backup …
    a.set_str(children[1], "gp_area", "bedford");
    let after = a.create_child("Bilal");
    a.sync().await.unwrap();
    drop(server);

    // … is missing from the restored server, and the tablet that has it sends it again.
    let restored_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        &file,
        restored_dir.path().join(homevisit_server::sqlite::DB_FILE),
    )
    .unwrap();
    let restored = TestServer::over(
        SqliteStore::open_dir(restored_dir.path()).unwrap(),
        ServerConfig::default(),
    )
    .await;
    assert!(restored.document(&team, after).await.is_none());
    let a = Device::reconnect(&a, restored.url(), Default::default());
    let b = Device::reconnect(&b, restored.url(), Default::default());
    a.sync().await.unwrap();
    assert!(restored.document(&team, after).await.is_some());
    b.sync().await.unwrap();
    assert_eq!(
        b.get_str(children[1], "gp_area").as_deref(),
        Some("bedford")
    );
    assert!(b.has_record(after));
    assert_converged(&[&a, &b], &restored, &team).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_dump_restores_into_a_new_database_that_tablets_sync_with() {
    let url = pg::fresh_database().await;
    let source = TestServer::on(&Location::Postgres(url.clone()), ServerConfig::default()).await;
    let team = source.team("North").await;
    let a = Device::join(&source, &team).await;
    a.create_children(4);
    a.sync().await.unwrap();

    let dumps = tempfile::tempdir().unwrap();
    let file = dumps.path().join("homevisit.dump");
    run(Command::new(pg_bin("pg_dump")).args(["-Fc", "-d", &url, "-f", file.to_str().unwrap()]));
    let target = pg::fresh_database().await;
    run(Command::new(pg_bin("pg_restore")).args([
        "--no-owner",
        "-d",
        &target,
        file.to_str().unwrap(),
    ]));
    drop(source);

    let restored: TestServer<AnyStore> =
        TestServer::on(&Location::Postgres(target), ServerConfig::default()).await;
    let a = Device::reconnect(&a, restored.url(), Default::default());
    let report = a.sync().await.unwrap();
    assert_eq!(
        (report.docs_received, report.round_trips),
        (0, 1),
        "{report:?}"
    );
    let fresh = Device::join(&restored, &team).await;
    assert_eq!(fresh.sync().await.unwrap().docs_received, 4);
    assert_converged(&[&a, &fresh], &restored, &team).await;
}
