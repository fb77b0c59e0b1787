//! The access-log upload (`hv-audit-upload`, docs/PROTOCOL.md): a tablet's `RK-AUDIT` entries,
//! written while it was offline, reach its team's access log at the next sync, once, and no
//! other team's; the device's core version and unsynced count reach the devices page.

use std::sync::Arc;

use homevisit_core::{
    records::{Records, SystemClock},
    rules::config::RulesConfig,
};
use homevisit_server::console::store::{AccessFilter, ConsoleStore};
use homevisit_tests::{device::Device, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rk_audit_offline_view_reaches_the_team_access_log_once_and_no_other_team() {
    let server = TestServer::start().await;
    let team = server.team("Riverside").await;
    let other = server.team("Hillview").await;
    let tablet = Device::join(&server, &team).await;
    let child = tablet.create_child("Amy");
    tablet.sync().await.unwrap();

    // Offline: the OT opens the record; the core logs the view on the device.
    let records = Records::new(
        Arc::clone(&tablet.store),
        tablet.actor.clone(),
        RulesConfig::default(),
        Arc::new(SystemClock),
    );
    records.view(child).unwrap();
    assert_eq!(tablet.store.pending_audit(100).unwrap().len(), 1);
    let store = &server.app.store;
    assert!(store
        .access_entries(team.id, AccessFilter::default(), 100)
        .await
        .unwrap()
        .is_empty());

    tablet.sync().await.unwrap();
    assert!(
        tablet.store.pending_audit(100).unwrap().is_empty(),
        "the server acknowledged the entry"
    );
    let log = store
        .access_entries(team.id, AccessFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].record_id, child);
    assert_eq!(log[0].user_id, team.ot);
    assert_eq!(log[0].device_id, tablet.actor.device_id);
    assert_eq!(log[0].action, "view");

    // A second sync uploads nothing new; the entry stays one row.
    tablet.sync().await.unwrap();
    assert_eq!(
        store
            .access_entries(team.id, AccessFilter::default(), 100)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .access_entries(other.id, AccessFilter::default(), 100)
        .await
        .unwrap()
        .is_empty());

    // What the tablet reported about itself.
    let devices = store.team_devices(team.id).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        devices[0].core_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(devices[0].unsynced, Some(0));
    assert!(devices[0]
        .last_result
        .as_deref()
        .is_some_and(|r| r.starts_with("ok")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rk_audit_entries_resent_after_a_lost_ack_are_stored_once() {
    let server = TestServer::start().await;
    let team = server.team("Riverside").await;
    let tablet = Device::join(&server, &team).await;
    let child = tablet.create_child("Amy");
    tablet.sync().await.unwrap();
    let records = Records::new(
        Arc::clone(&tablet.store),
        tablet.actor.clone(),
        RulesConfig::default(),
        Arc::new(SystemClock),
    );
    records.record_print(child, None).unwrap();
    let pending = tablet.store.pending_audit(100).unwrap();
    assert_eq!(pending.len(), 1);
    tablet.sync().await.unwrap();
    // As if the acknowledgement had been lost: the same entry is offered again.
    let store = &server.app.store;
    let devices = store.team_devices(team.id).await.unwrap();
    let entry = homevisit_server::console::store::AccessEntry {
        entry_id: pending[0].id,
        user_id: team.ot,
        user_name: None,
        device_id: tablet.actor.device_id,
        uploaded_by: devices[0].device_id,
        uploaded_by_name: None,
        record_id: child,
        action: "print".into(),
        at: "2026-03-15T10:42:07Z".into(),
        purpose: None,
    };
    let new = store
        .append_access_entries(team.id, devices[0].device_id, vec![entry])
        .await
        .unwrap();
    assert_eq!(new, 0, "an entry already stored is not stored again");
    let log = store
        .access_entries(team.id, AccessFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "print");
    assert_ne!(
        log[0].at, "2026-03-15T10:42:07Z",
        "the first copy is kept as it was"
    );
}
