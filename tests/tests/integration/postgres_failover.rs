//! Failover (ADR 0016): two real server processes on one PostgreSQL database behind HAProxy.
//! One instance is killed with SIGKILL while twelve tablets upload; they reconnect through the
//! proxy to the other, every change a tablet saw acknowledged is in the database, the tablets'
//! cursors and sync states survive (an unchanged reconnect afterwards is one round trip with
//! nothing moved), and everything converges.

use std::time::Duration;

use automerge::ReadDoc;

use homevisit_core::{store::SyncStatus, sync::SyncConfig};
use homevisit_server::{ServerConfig, ServerStore};
use homevisit_tests::{
    device::{assert_converged, Device},
    pg::{self, Haproxy, Instance},
    TestServer,
};

const TABLETS: usize = 12;
const RECORDS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_of_one_instance_while_tablets_upload_loses_nothing_and_converges() {
    let location = pg::fresh_location().await;
    let homevisit_server::Location::Postgres(url) = &location else {
        unreachable!()
    };
    // Admin work (team, users, tokens) and the final checks go through a third, in-process
    // instance on the same database; no tablet connects to it.
    let admin = TestServer::on(&location, ServerConfig::default()).await;
    let team = admin.team("North").await;
    let mut first = Instance::start(url);
    let second = Instance::start(url);
    let proxy = Haproxy::start(&[&first.addr, &second.addr]);

    let config = SyncConfig {
        response_timeout: Duration::from_secs(10),
        ..SyncConfig::default()
    };
    let mut tablets = Vec::new();
    for _ in 0..TABLETS {
        let t = Device::join_via(&admin, &team, proxy.url(), config.clone()).await;
        for id in t.create_children(RECORDS) {
            t.set_str(id, "gp_area", "luton");
        }
        tablets.push(t);
    }

    let uploads: Vec<_> = tablets
        .iter()
        .cloned()
        .map(|t| {
            tokio::spawn(async move {
                // Retry until a session completes: the kill may cut any of them.
                for _ in 0..5 {
                    if let Ok(report) = t.client.sync_with_retry(|_| {}).await {
                        if report.complete {
                            return;
                        }
                    }
                }
                panic!("a tablet never completed a sync after the failover");
            })
        })
        .collect();

    // Kill the first instance once uploads are landing (a condition, not a timer).
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let page = admin
                .app
                .store
                .changed_since(team.id, 0, 100_000)
                .await
                .unwrap();
            if page.cursor >= (TABLETS * RECORDS / 4) as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("uploads never started landing");
    first.kill();
    let killed_at = admin
        .app
        .store
        .changed_since(team.id, 0, 100_000)
        .await
        .unwrap()
        .cursor;

    for u in uploads {
        u.await.unwrap();
    }
    let total = admin
        .app
        .store
        .changed_since(team.id, 0, 100_000)
        .await
        .unwrap()
        .cursor;
    println!("instance 1 killed after {killed_at} commits; {total} commits in all");
    assert!(
        killed_at < total,
        "the kill happened while uploads were still going on"
    );

    // Every record a tablet holds as synced is in the database with every local change.
    for t in &tablets {
        for id in t.record_ids() {
            assert_eq!(t.status(id), SyncStatus::Synced, "{id}");
            let stored = admin
                .document(&team, id)
                .await
                .expect("acknowledged record is stored");
            assert!(
                t.heads(id)
                    .iter()
                    .all(|h| stored.get_change_by_hash(h).is_some()),
                "an acknowledged change of {id} is missing from the database"
            );
        }
    }
    // Everyone fetches everyone else's records (through the surviving instance) …
    for t in &tablets {
        let report = t.sync().await.unwrap();
        assert!(report.complete, "{report:?}");
    }
    // … and then an unchanged reconnect moves nothing: no cursor or sync state was lost.
    for t in &tablets {
        let report = t.sync().await.unwrap();
        assert_eq!(
            (report.docs_received, report.docs_sent, report.round_trips),
            (0, 0, 1),
            "{report:?}"
        );
    }
    let refs: Vec<&Device> = tablets.iter().collect();
    assert_converged(&refs, &admin, &team).await;
    assert_eq!(tablets[0].record_ids().len(), TABLETS * RECORDS);
    drop(proxy);
    drop(second);
}
