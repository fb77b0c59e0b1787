//! Several server instances on one PostgreSQL database (ADR 0016): devices on different
//! instances converge, a device catching up through another instance receives exactly what it
//! lacks, a commit through one instance is pushed live to devices connected to another, and a
//! revocation through one instance refuses the device on the others.
//!
//! Each instance is a separate `App` with its own connection pool, document cache and
//! listener, as separate processes would have; the failover test runs real server processes.

use std::{sync::Arc, time::Duration};

use homevisit_core::{store::SyncStatus, Error};
use homevisit_server::{AnyStore, ServerConfig};
use homevisit_tests::{
    device::{assert_converged, Device},
    pg, TestServer,
};
use tokio::sync::{oneshot, Notify};

async fn instances(n: usize) -> Vec<TestServer<AnyStore>> {
    let location = pg::fresh_location().await;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(TestServer::on(&location, ServerConfig::default()).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_on_different_instances_converge() {
    let servers = instances(3).await;
    let team = servers[0].team("North").await;
    let a = Device::join(&servers[0], &team).await;
    let b = Device::join(&servers[1], &team).await;
    let c = Device::join(&servers[2], &team).await;

    let child = a.create_child("Amara");
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    assert_eq!(b.get_str(child, "given_name").as_deref(), Some("Amara"));

    // Edits of different fields through different instances, offline at the same time.
    b.set_str(child, "gp_area", "luton");
    c.sync().await.unwrap();
    c.set_str(child, "family_name", "Okafor");
    b.sync().await.unwrap();
    c.sync().await.unwrap();
    for d in [&a, &b, &c] {
        d.sync().await.unwrap();
    }
    assert_eq!(a.get_str(child, "gp_area").as_deref(), Some("luton"));
    assert_eq!(a.get_str(child, "family_name").as_deref(), Some("Okafor"));
    for s in &servers {
        assert_converged(&[&a, &b, &c], s, &team).await;
    }
    assert_eq!(a.status(child), SyncStatus::Synced);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_catching_up_through_another_instance_receives_exactly_what_it_lacks() {
    let servers = instances(2).await;
    let team = servers[0].team("North").await;
    let writer = Device::join(&servers[0], &team).await;
    let reader = Device::join(&servers[0], &team).await;
    let first = writer.create_children(20);
    writer.sync().await.unwrap();
    let report = reader.sync().await.unwrap();
    assert_eq!(report.docs_received, first.len() as u64);

    // Three records change through instance 1 …
    for id in &first[..3] {
        writer.set_str(*id, "gp_area", "bedford");
    }
    let extra = writer.create_child("Bilal");
    writer.sync().await.unwrap();

    // … and the reader, now on instance 2, gets those four and nothing else.
    let moved = Device::reconnect(&reader, servers[1].url(), Default::default());
    let report = moved.sync().await.unwrap();
    assert_eq!(report.docs_received, 4, "{report:?}");
    assert!(report.complete, "{report:?}");
    assert!(moved.has_record(extra));
    assert_eq!(
        moved.get_str(first[0], "gp_area").as_deref(),
        Some("bedford")
    );
    // An unchanged reconnect through instance 2 is one round trip.
    let again = moved.sync().await.unwrap();
    assert_eq!(
        (again.docs_received, again.round_trips),
        (0, 1),
        "{again:?}"
    );
    assert_converged(&[&writer, &moved], &servers[1], &team).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_through_one_instance_is_pushed_live_to_a_device_on_another() {
    let servers = instances(2).await;
    let team = servers[0].team("North").await;
    let live = Device::join(&servers[1], &team).await;
    let writer = Device::join(&servers[0], &team).await;
    // The server pushes changes of the records a connection syncs (docs/SYNC-CLIENT.md): the
    // live device's session uploads this one.
    let child = live.create_child("Amara");

    let progressed = Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let runner = {
        let live = live.clone();
        let progressed = Arc::clone(&progressed);
        tokio::spawn(async move {
            live.client
                .run_until_cancelled(
                    async {
                        let _ = stopped.await;
                    },
                    move |_| progressed.notify_one(),
                )
                .await
        })
    };
    // The live device's first catch-up uploads the record; the writer fetches it through
    // the other instance.
    let l = live.clone();
    tokio::time::timeout(Duration::from_secs(30), async {
        while l.status(child) != SyncStatus::Synced {
            progressed.notified().await;
        }
    })
    .await
    .unwrap();
    writer.sync().await.unwrap();
    assert!(writer.has_record(child));

    let mut latencies = Vec::new();
    for round in 0..5 {
        writer.set_str(child, "gp_area", &format!("area {round}"));
        let started = std::time::Instant::now();
        writer.sync().await.unwrap();
        let (l, w) = (live.clone(), writer.clone());
        tokio::time::timeout(Duration::from_secs(20), async {
            while l.heads(child) != w.heads(child) {
                progressed.notified().await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("round {round}: the push from the other instance never came"));
        latencies.push(started.elapsed());
        assert_eq!(
            live.get_str(child, "gp_area").as_deref(),
            Some(format!("area {round}").as_str())
        );
    }
    println!("cross-instance push after the writer's sync returned: {latencies:?}");
    let _ = stop.send(());
    runner.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_through_one_instance_refuses_the_device_on_the_others() {
    let servers = instances(2).await;
    let team = servers[0].team("North").await;
    let device = Device::join(&servers[1], &team).await;
    let child = device.create_child("Amara");
    device.sync().await.unwrap();
    assert!(device.has_record(child));

    servers[0].revoke(&device.token).await;
    let outcome = device.sync().await;
    assert!(matches!(outcome, Err(Error::Revoked)), "{outcome:?}");
    assert!(
        device.record_ids().is_empty(),
        "the revoked device wiped its data"
    );
    // A token issued through instance 2 works through instance 1 at once.
    let fresh = Device::join(&servers[1], &team).await;
    let on_first = Device::reconnect(&fresh, servers[0].url(), Default::default());
    let report = on_first.sync().await.unwrap();
    assert_eq!(report.docs_received, 1);
}

async fn healthz(addr: std::net::SocketAddr) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_the_database_and_fails_when_it_is_gone() {
    let location = pg::fresh_location().await;
    let server = TestServer::on(&location, ServerConfig::default()).await;
    assert_eq!(healthz(server.addr).await, (200, "ok\n".to_string()));
    // The database disappears under the instance (its connections are terminated): the
    // health check answers 503, so a proxy takes the instance out.
    let homevisit_server::Location::Postgres(url) = &location else {
        unreachable!("a PostgreSQL location")
    };
    let name = url.rsplit('/').next().unwrap().to_string();
    let (client, connection) =
        tokio_postgres::connect(&pg::with_database(url, "postgres"), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
    let (status, body) = healthz(server.addr).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage"), "{body}");
}
