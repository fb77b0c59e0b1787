//! Server limits against real sockets: a silent or stalled peer is dropped without holding up
//! other devices, connections beyond the overall and per-device limits are refused with
//! `503`/`429`, and an address that keeps presenting bad tokens is told to wait (`429` with
//! `Retry-After`). Every refusal is counted in `/metrics`.
//!
//! Waits are bounded by timeouts on events (a socket closing, a counter changing), never by
//! sleeping for a fixed time and hoping.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use homevisit_core::{
    sync::protocol::{HomeVisitMetadata, Message, PeerMetadata, PROTOCOL_VERSION},
    Error, RecordId,
};
use homevisit_server::ServerConfig;
use homevisit_tests::{device::Device, TestServer, TestTeam};
use tokio::{io::AsyncReadExt, net::TcpStream};
use tokio_tungstenite::{
    tungstenite::{self, client::IntoClientRequest, http::StatusCode, Message as WsMessage},
    MaybeTlsStream, WebSocketStream,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Most time any awaited event may take before the test fails.
const BOUND: Duration = Duration::from_secs(30);

fn request(server: &TestServer, token: &str) -> tungstenite::handshake::client::Request {
    let mut req = server.url().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

/// Opens a raw WebSocket to `/sync` with `token`.
async fn open(server: &TestServer, token: &str) -> Result<Ws, tungstenite::Error> {
    tokio_tungstenite::connect_async(request(server, token))
        .await
        .map(|(ws, _)| ws)
}

/// The HTTP status (and `Retry-After`) of a refused upgrade.
async fn refused(server: &TestServer, token: &str) -> (StatusCode, Option<u64>) {
    match open(server, token).await {
        Err(tungstenite::Error::Http(resp)) => (
            resp.status(),
            resp.headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().parse().unwrap()),
        ),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("expected an HTTP refusal, the upgrade succeeded"),
    }
}

/// Sends `join` (announcing every HomeVisit extension) and waits for `peer`.
async fn join(ws: &mut Ws) -> String {
    let join = Message::Join {
        sender_id: "raw-peer".into(),
        supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
        peer_metadata: Some(PeerMetadata {
            storage_id: None,
            is_ephemeral: Some(true),
            homevisit: Some(HomeVisitMetadata::all()),
        }),
    };
    ws.send(WsMessage::Binary(join.encode().unwrap().into()))
        .await
        .unwrap();
    loop {
        let frame = tokio::time::timeout(BOUND, ws.next())
            .await
            .expect("the server answers join")
            .expect("the connection stays open")
            .unwrap();
        if let WsMessage::Binary(b) = frame {
            match Message::decode(&b).unwrap() {
                Message::Peer { sender_id, .. } => return sender_id,
                other => panic!("expected peer, got {}", other.type_name()),
            }
        }
    }
}

/// Reads the raw TCP bytes under a WebSocket (so that no pong is ever sent back) until the
/// server closes the connection; fails if that takes longer than `BOUND`.
async fn until_closed_raw(ws: &mut Ws) {
    let MaybeTlsStream::Plain(tcp) = ws.get_mut() else {
        panic!("plain TCP expected")
    };
    let mut buf = vec![0u8; 64 * 1024];
    tokio::time::timeout(BOUND, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the silent connection");
}

/// Waits (bounded) until `f` holds, re-checking whenever the runtime gets a turn.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < BOUND, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn metric(server: &TestServer, name: &str) -> u64 {
    let text = server.app.metrics.render();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("{name} is not in /metrics"))
        .parse()
        .unwrap()
}

async fn team_and_device(server: &TestServer) -> (TestTeam, Device) {
    let team = server.team("North").await;
    let device = Device::join(server, &team).await;
    (team, device)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_joins_is_closed_after_the_join_timeout_while_others_sync() {
    let server = TestServer::with_config(ServerConfig {
        join_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let (team, device) = team_and_device(&server).await;
    let silent_token = server.device_token(&team).await;
    let mut silent = open(&server, &silent_token).await.unwrap();

    // The silent connection does not hold up a device syncing meanwhile.
    let child = device.create_child("Amara");
    let report = device.sync().await.unwrap();
    assert!(report.complete);
    assert!(server.document(&team, child).await.is_some());

    until_closed_raw(&mut silent).await;
    eventually("the timeout is counted", || {
        metric(&server, "homevisit_timeouts_total") >= 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joined_peer_that_goes_silent_is_dropped_after_the_idle_timeout() {
    let server = TestServer::with_config(ServerConfig {
        idle_timeout: Duration::from_millis(600),
        ..ServerConfig::default()
    })
    .await;
    let (team, device) = team_and_device(&server).await;
    let token = server.device_token(&team).await;
    let mut silent = open(&server, &token).await.unwrap();
    join(&mut silent).await;
    // From here the peer sends nothing and answers no ping.
    let opened = Instant::now();
    until_closed_raw(&mut silent).await;
    assert!(
        opened.elapsed() >= Duration::from_millis(600),
        "not closed before the idle timeout"
    );
    assert_eq!(metric(&server, "homevisit_timeouts_total"), 1);

    // A live device that stays connected for several idle timeouts is kept: it answers the
    // server's pings while it waits for work.
    let live = device.clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        live.client
            .run_until_cancelled(
                async {
                    let _ = stop_rx.await;
                },
                |_| {},
            )
            .await
    });
    eventually("the live device is connected", || {
        metric(&server, "homevisit_connections_total") == 2 && server.app.connections.open() == 1
    })
    .await;
    let connected_total = metric(&server, "homevisit_connections_total");
    // Not a race: whatever the timing, a device that answers pings must never be dropped.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(metric(&server, "homevisit_timeouts_total"), 1);
    assert_eq!(
        metric(&server, "homevisit_connections_total"),
        connected_total,
        "the live device kept its connection"
    );
    assert_eq!(server.app.connections.open(), 1);
    stop_tx.send(()).unwrap();
    tokio::time::timeout(BOUND, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Text that does not compress (automerge deflates its columns).
fn noise(bytes: usize, seed: u64) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    (0..bytes)
        .map(|_| char::from(rng.gen_range(b'!'..=b'~')))
        .collect()
}

/// Children with a large free-text field, so that fetching them is megabytes.
fn big_children(device: &Device, n: usize, bytes: usize) -> Vec<RecordId> {
    (0..n)
        .map(|i| {
            let id = device.create_child(&format!("Child {i}"));
            device.set_str(id, "given_name", &noise(bytes, i as u64));
            id
        })
        .collect()
}

/// A peer that asks for every document (whole-document transfers) and then reads nothing.
async fn stalled_reader(server: &TestServer, team: &TestTeam, ids: &[RecordId]) -> Ws {
    let token = server.device_token(team).await;
    let mut ws = open(server, &token).await.unwrap();
    let server_peer = join(&mut ws).await;
    // What an empty peer says first: no heads, no changes.
    let empty = {
        use automerge::sync::SyncDoc;
        automerge::Automerge::new()
            .generate_sync_message(&mut automerge::sync::State::new())
            .expect("an empty document still opens sync")
    };
    for id in ids {
        let req = Message::Request {
            sender_id: "raw-peer".into(),
            target_id: server_peer.clone(),
            document_id: *id,
            data: empty.clone().encode(),
        };
        ws.send(WsMessage::Binary(req.encode().unwrap().into()))
            .await
            .unwrap();
    }
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_does_not_block_other_devices() {
    let server = TestServer::with_config(ServerConfig {
        write_timeout: Duration::from_secs(600),
        idle_timeout: Duration::from_secs(600),
        ..ServerConfig::default()
    })
    .await;
    let (team, uploader) = team_and_device(&server).await;
    // About 10 MiB to fetch: more than the loopback socket buffers hold unread.
    let ids = big_children(&uploader, 10, 1024 * 1024);
    uploader.sync().await.unwrap();
    let total: u64 = {
        let mut n = 0;
        for id in &ids {
            n += server.document(&team, *id).await.unwrap().save().len() as u64;
        }
        n
    };
    let out_before = metric(&server, "homevisit_bytes_out_total");
    let _stalled = stalled_reader(&server, &team, &ids).await;
    eventually("the server started answering the stalled peer", || {
        metric(&server, "homevisit_bytes_out_total") > out_before + 1024 * 1024
    })
    .await;

    // Meanwhile a device of another team syncs to the end, and the stalled connection is
    // still open: its writes wait on its own socket only.
    let south = server.team("South").await;
    let other = Device::join(&server, &south).await;
    let child = other.create_child("Bea");
    let report = tokio::time::timeout(BOUND, other.sync())
        .await
        .expect("a device syncs while another connection is stalled")
        .unwrap();
    assert!(report.complete);
    assert!(server.document(&south, child).await.is_some());
    eventually("the other device's connection is released", || {
        server.app.connections.open() <= 1
    })
    .await;
    assert_eq!(
        server.app.connections.open(),
        1,
        "the stalled peer is still connected"
    );
    // The stalled peer was not sent everything: the server is blocked on its socket.
    let sent_to_others = report.bytes_received;
    assert!(
        metric(&server, "homevisit_bytes_out_total") - out_before < total + sent_to_others,
        "the server could not have written everything to a peer that reads nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_after_the_write_timeout() {
    let server = TestServer::with_config(ServerConfig {
        write_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(600),
        ..ServerConfig::default()
    })
    .await;
    let (team, uploader) = team_and_device(&server).await;
    let ids = big_children(&uploader, 10, 1024 * 1024);
    uploader.sync().await.unwrap();
    let mut stalled = stalled_reader(&server, &team, &ids).await;
    eventually("the stalled peer is dropped", || {
        metric(&server, "homevisit_timeouts_total") == 1
    })
    .await;
    eventually("its connection is released", || {
        server.app.connections.open() == 0
    })
    .await;
    until_closed_raw(&mut stalled).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_server_limit_are_refused_with_503() {
    let server = TestServer::with_config(ServerConfig {
        max_connections: 2,
        ..ServerConfig::default()
    })
    .await;
    let (team, device) = team_and_device(&server).await;
    let a = open(&server, &server.device_token(&team).await)
        .await
        .unwrap();
    let _b = open(&server, &server.device_token(&team).await)
        .await
        .unwrap();
    let (status, retry) = refused(&server, &device.token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(retry.unwrap() >= 1);
    // The device client sees a retryable network error naming the status; nothing changes.
    let child = device.create_child("Amara");
    match device.sync().await {
        Err(Error::Network(detail)) => assert!(detail.contains("503"), "{detail}"),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert_eq!(device.unsynced(), vec![child]);
    assert_eq!(metric(&server, "homevisit_refused_server_full_total"), 2);

    // A place frees up when a connection ends.
    drop(a);
    eventually("a connection slot is released", || {
        server.app.connections.open() < 2
    })
    .await;
    let report = device.sync().await.unwrap();
    assert!(report.complete);
    assert!(device.unsynced().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_beyond_its_connection_limit_gets_429_and_others_are_unaffected() {
    let server = TestServer::with_config(ServerConfig {
        max_connections_per_device: 1,
        ..ServerConfig::default()
    })
    .await;
    let (team, device) = team_and_device(&server).await;
    let held = open(&server, &device.token).await.unwrap();
    let (status, retry) = refused(&server, &device.token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.unwrap() >= 1);
    assert_eq!(metric(&server, "homevisit_refused_device_limit_total"), 1);

    let other = Device::join(&server, &team).await;
    other.create_child("Bea");
    assert!(other.sync().await.unwrap().complete);

    drop(held);
    eventually("the device's connection is released", || {
        server.app.connections.open() == 0
    })
    .await;
    assert!(device.sync().await.unwrap().complete);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_bad_tokens_from_one_address_get_429_with_retry_after() {
    let server = TestServer::with_config(ServerConfig {
        max_auth_failures: 3,
        auth_failure_window: Duration::from_secs(120),
        ..ServerConfig::default()
    })
    .await;
    let (_team, device) = team_and_device(&server).await;
    let bad = "0".repeat(64);
    for _ in 0..3 {
        assert_eq!(refused(&server, &bad).await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, retry) = refused(&server, &bad).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry = retry.unwrap();
    assert!((1..=120).contains(&retry), "Retry-After {retry}");
    // The whole address waits out the window, valid token or not: guessing buys nothing.
    let (status, _) = refused(&server, &device.token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    match device.sync().await {
        Err(Error::Network(detail)) => assert!(detail.contains("429"), "{detail}"),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert_eq!(metric(&server, "homevisit_auth_failures_total"), 3);
    assert_eq!(metric(&server, "homevisit_refused_rate_limited_total"), 3);
    assert_eq!(
        server.app.metrics.connections_total.load(Ordering::Relaxed),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_few_bad_tokens_do_not_lock_out_a_device() {
    let server = TestServer::with_config(ServerConfig {
        max_auth_failures: 3,
        ..ServerConfig::default()
    })
    .await;
    let (_team, device) = team_and_device(&server).await;
    let bad = "f".repeat(64);
    for _ in 0..2 {
        assert_eq!(refused(&server, &bad).await.0, StatusCode::UNAUTHORIZED);
    }
    device.create_child("Amara");
    assert!(device.sync().await.unwrap().complete);
    assert_eq!(metric(&server, "homevisit_refused_rate_limited_total"), 0);
}
