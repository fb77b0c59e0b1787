//! Limits a valid device or an anonymous caller cannot get round: the auth-failure limiter
//! counts attempts still being evaluated, a revoked device's open session ends within a second,
//! and a catch-up cursor beyond the range of change numbers is a protocol error, not a storage
//! failure; `/metrics`, which needs no token, names no team, user, device or record.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use homevisit_core::sync::protocol::{HomeVisitMetadata, Message, PeerMetadata, PROTOCOL_VERSION};
use homevisit_server::{conn::CLOSE_PROTOCOL_ERROR, ServerConfig};
use homevisit_tests::{device::Device, TestServer};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{self, client::IntoClientRequest, http::StatusCode, Message as WsMessage},
    MaybeTlsStream, WebSocketStream,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Most time any awaited event may take before the test fails.
const BOUND: Duration = Duration::from_secs(30);

async fn open(server: &TestServer, token: &str) -> Result<Ws, tungstenite::Error> {
    let mut req = server.url().into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

async fn send(ws: &mut Ws, msg: &Message) {
    ws.send(WsMessage::Binary(msg.encode().unwrap().into()))
        .await
        .unwrap();
}

/// Joins announcing every extension; returns the server's peer id.
async fn join(ws: &mut Ws) -> String {
    send(
        ws,
        &Message::Join {
            sender_id: "raw-peer".into(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: Some(true),
                homevisit: Some(HomeVisitMetadata::all()),
            }),
        },
    )
    .await;
    match next_message(ws).await {
        Some(Message::Peer { sender_id, .. }) => sender_id,
        other => panic!("expected peer, got {other:?}"),
    }
}

/// The next protocol message, `None` at a close (bounded by `BOUND`).
async fn next_message(ws: &mut Ws) -> Option<Message> {
    loop {
        let frame = tokio::time::timeout(BOUND, ws.next())
            .await
            .expect("the server answers in time")?;
        match frame {
            Ok(WsMessage::Binary(b)) => return Some(Message::decode(&b).unwrap()),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Reads until the close frame; its code.
async fn close_code(ws: &mut Ws) -> Option<u16> {
    loop {
        match tokio::time::timeout(BOUND, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(WsMessage::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_hundred_concurrent_bad_tokens_from_one_address_evaluate_at_most_the_limit() {
    const LIMIT: u32 = 20;
    let server = TestServer::with_config(ServerConfig {
        max_auth_failures: LIMIT,
        auth_failure_window: Duration::from_secs(120),
        ..ServerConfig::default()
    })
    .await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let url = server.url();
    let burst: Vec<_> = (0..400)
        .map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                // Well-formed (64 hex digits) and unknown: each would cost a lookup.
                let token = format!("{:064x}", 0xbad0_0000_u64 + i);
                let mut req = url.into_client_request().unwrap();
                req.headers_mut()
                    .insert("authorization", format!("Bearer {token}").parse().unwrap());
                match tokio_tungstenite::connect_async(req).await {
                    Err(tungstenite::Error::Http(resp)) => resp.status(),
                    Err(e) => panic!("expected an HTTP refusal, got {e}"),
                    Ok(_) => panic!("a bad token was accepted"),
                }
            })
        })
        .collect();
    let mut unauthorized = 0;
    for task in burst {
        match task.await.unwrap() {
            StatusCode::UNAUTHORIZED => unauthorized += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    let evaluated = metric(&server, "homevisit_auth_evaluations_total");
    assert!(
        evaluated <= u64::from(LIMIT),
        "{evaluated} tokens were looked up; the limit is {LIMIT}"
    );
    assert_eq!(
        unauthorized, evaluated,
        "every lookup was a 401, every other a 429"
    );
    assert!(evaluated > 0);
    assert_eq!(
        metric(&server, "homevisit_refused_rate_limited_total"),
        400 - evaluated
    );
    // The address now waits out its window, valid token or not (as before).
    assert!(matches!(
        open(&server, &device.token).await,
        Err(tungstenite::Error::Http(r)) if r.status() == StatusCode::TOO_MANY_REQUESTS
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_devices_open_session_ends_within_a_second() {
    // The periodic re-check stays at its default (15 s): the session must end long before.
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    device.create_child("Amara");
    device.sync().await.unwrap();
    let mut ws = open(&server, &device.token).await.unwrap();
    join(&mut ws).await;

    let revoked_at = Instant::now();
    server.revoke(&device.token).await;
    let msg = next_message(&mut ws).await;
    let took = revoked_at.elapsed();
    assert!(
        matches!(msg, Some(Message::Revoked { .. })),
        "expected hv-revoked, got {msg:?}"
    );
    assert!(
        took < Duration::from_secs(1),
        "the session ended after {took:?}"
    );
    assert_eq!(
        close_code(&mut ws).await,
        Some(homevisit_server::conn::CLOSE_REVOKED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catchup_cursor_beyond_the_range_is_a_protocol_error_not_a_storage_failure() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let device = Device::join(&server, &team).await;
    let mut ws = open(&server, &device.token).await.unwrap();
    let server_peer = join(&mut ws).await;
    send(
        &mut ws,
        &Message::CatchupRequest {
            sender_id: "raw-peer".into(),
            target_id: server_peer,
            cursor: u64::MAX,
            changed_document_ids: Vec::new(),
        },
    )
    .await;
    match next_message(&mut ws).await {
        Some(Message::Error { message, .. }) => {
            assert!(message.contains("cursor"), "{message}")
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(close_code(&mut ws).await, Some(CLOSE_PROTOCOL_ERROR));
    assert_eq!(metric(&server, "homevisit_errors_total"), 1);
    // The device's own sessions are unaffected.
    assert!(device.sync().await.unwrap().complete);
}

/// `GET /metrics` as an anonymous caller: no token, a raw HTTP/1.1 request.
async fn anonymous_metrics(server: &TestServer) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(BOUND, s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_name_no_team_device_user_or_record_after_two_teams_sync() {
    let server = TestServer::start().await;
    let north = server.team("Northgate Children's OT").await;
    let south = server.team("Southbank Paediatrics").await;
    let a = Device::join(&server, &north).await;
    let b = Device::join(&server, &south).await;
    let ra = a.create_child("Amara");
    let rb = b.create_child("Bartholomew");
    assert!(a.sync().await.unwrap().complete);
    assert!(b.sync().await.unwrap().complete);
    let text = anonymous_metrics(&server).await;
    // The counters did move: the page reflects the two syncs.
    assert!(metric(&server, "homevisit_docs_synced_total") >= 2);
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    let lower = body.to_lowercase();
    let secrets = [
        north.id.to_string(),
        south.id.to_string(),
        north.id.simple().to_string(),
        south.id.simple().to_string(),
        north.ot.to_string(),
        south.ot.to_string(),
        a.actor.device_id.to_string(),
        b.actor.device_id.to_string(),
        ra.to_string(),
        rb.to_string(),
        a.token.clone(),
        b.token.clone(),
        "northgate".into(),
        "southbank".into(),
        "amara".into(),
        "bartholomew".into(),
    ];
    for secret in &secrets {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "/metrics names {secret}:\n{body}"
        );
    }
    // Only process-wide series: every sample line is a bare metric name and a number (no
    // labels, so nothing per team, device or record can be carried).
    for line in body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut parts = line.split(' ');
        let name = parts.next().unwrap();
        let value = parts.next().unwrap();
        assert!(parts.next().is_none(), "{line}");
        assert!(
            name.starts_with("homevisit_")
                && name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{line}"
        );
        assert!(value.parse::<u64>().is_ok(), "{line}");
    }
}
