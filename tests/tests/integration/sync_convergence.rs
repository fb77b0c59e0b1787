//! Devices edit offline and sync in every order through the real server and real local stores:
//! all replicas end with identical heads, and a clinical field changed on two devices is a
//! visible conflict everywhere (SAF-SILENT-CONFLICT), never a silent pick.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use homevisit_core::store::SyncStatus;
use homevisit_tests::{
    device::{assert_converged, Device},
    TestServer,
};

/// Every ordering of `n` devices (n ≤ 3 here: 6 orders).
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn go(rest: Vec<usize>, prefix: Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if rest.is_empty() {
            out.push(prefix);
            return;
        }
        for (i, &x) in rest.iter().enumerate() {
            let mut r = rest.clone();
            r.remove(i);
            let mut p = prefix.clone();
            p.push(x);
            go(r, p, out);
        }
    }
    let mut out = Vec::new();
    go((0..n).collect(), Vec::new(), &mut out);
    out
}

/// Shared record, then offline work on every device: a new record each, an edit of a
/// different clinical field of the shared record each, and free text typed into one field by
/// everyone.
async fn offline_edits(devices: &[Device]) -> homevisit_core::RecordId {
    let shared = devices[0].create_child("Amara");
    devices[0].sync().await.unwrap();
    for d in &devices[1..] {
        d.sync().await.unwrap();
        assert!(d.has_record(shared), "the shared record arrived");
    }
    let fields = ["family_name", "education_setting", "gp_area"];
    let values = ["Okafor", "mainstream", "luton"];
    for (i, d) in devices.iter().enumerate() {
        d.create_child(&format!("Child of device {i}"));
        d.set_str(shared, fields[i], values[i]);
        d.add_alert(shared, &format!("note from device {i}"));
    }
    shared
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_with_offline_edits_converge_in_either_order() {
    for order in permutations(2) {
        let server = TestServer::start().await;
        let team = server.team("North").await;
        let devices = vec![
            Device::join(&server, &team).await,
            Device::join(&server, &team).await,
        ];
        let shared = offline_edits(&devices).await;
        // First pass uploads; the second brings every device the others' changes.
        for &i in order.iter().chain(order.iter()) {
            devices[i].sync().await.unwrap();
        }
        assert_converged(&devices.iter().collect::<Vec<_>>(), &server, &team).await;
        for d in &devices {
            assert_eq!(d.record_ids().len(), 3, "order {order:?}");
            assert_eq!(d.get_str(shared, "family_name").as_deref(), Some("Okafor"));
            assert_eq!(
                d.get_str(shared, "education_setting").as_deref(),
                Some("mainstream")
            );
            assert_eq!(d.alert_texts(shared).len(), 2, "both alerts kept (CF-LIST)");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_devices_with_offline_edits_converge_in_every_order() {
    for order in permutations(3) {
        let server = TestServer::start().await;
        let team = server.team("North").await;
        let mut devices = Vec::new();
        for _ in 0..3 {
            devices.push(Device::join(&server, &team).await);
        }
        let shared = offline_edits(&devices).await;
        for &i in order.iter().chain(order.iter()) {
            devices[i].sync().await.unwrap();
        }
        assert_converged(&devices.iter().collect::<Vec<_>>(), &server, &team).await;
        for d in &devices {
            assert_eq!(d.record_ids().len(), 4, "order {order:?}");
            assert_eq!(d.get_str(shared, "gp_area").as_deref(), Some("luton"));
            assert_eq!(d.alert_texts(shared).len(), 3);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saf_silent_conflict_same_clinical_field_on_two_devices_is_a_conflict_on_all_devices() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let c = Device::join(&server, &team).await;
    let child = a.create_child("Amara");
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // Offline, the same clinical field (DOMAIN.md §6 child: gp_area) gets two values.
    a.set_str(child, "gp_area", "luton");
    b.set_str(child, "gp_area", "bedfordshire");
    a.sync().await.unwrap();
    let report = b.sync().await.unwrap();
    assert_eq!(
        report.conflicts, 1,
        "the device that merged sees the conflict"
    );
    a.sync().await.unwrap();
    c.sync().await.unwrap();
    assert_converged(&[&a, &b, &c], &server, &team).await;
    for d in [&a, &b, &c] {
        let conflicts = d.conflicts(child);
        let gp = conflicts
            .iter()
            .find(|c| c.path == "gp_area")
            .unwrap_or_else(|| panic!("gp_area conflict missing: {conflicts:?}"));
        let mut values: Vec<String> = gp
            .values
            .iter()
            .map(|v| v.value.as_str().unwrap().to_string())
            .collect();
        values.sort();
        assert_eq!(values, ["bedfordshire", "luton"], "both candidates kept");
        assert_eq!(d.status(child), SyncStatus::Conflict);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_new_to_a_device_arrives_whole_and_synced() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let a = Device::join(&server, &team).await;
    let b = Device::join(&server, &team).await;
    let child = a.create_child("Amara");
    for i in 0..20 {
        a.set_str(child, "family_name", &format!("Name {i}"));
    }
    a.sync().await.unwrap();
    let report = b.sync().await.unwrap();
    assert_eq!(report.docs_received, 1);
    assert_eq!(report.docs_sent, 0);
    assert!(report.complete, "{report:?}");
    assert_eq!(b.heads(child), a.heads(child));
    assert_eq!(b.status(child), SyncStatus::Synced);
}
