//! One connection's large document never stalls other tasks: loading a stored document and
//! applying an uploaded one run on tokio's blocking pool, so on a runtime with a single worker
//! thread a ticking task keeps ticking while the server does that work.

use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use automerge::{transaction::Transactable, AutoCommit, Automerge, ObjType, ROOT};
use futures_util::{SinkExt, StreamExt};
use homevisit_core::{
    sync::protocol::{HomeVisitMetadata, Message, PeerMetadata, PROTOCOL_VERSION},
    RecordId,
};
use homevisit_server::{
    store::{DocumentCommit, ServerStore},
    App, ServerConfig, SqliteStore,
};
use homevisit_tests::TestServer;
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Message as WsMessage};

/// A record of `team` whose `notes` text has `chars` characters, each its own insertion (so
/// loading it materialises `chars` operations).
fn heavy_record(team: uuid::Uuid, chars: usize) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "team_id", team.to_string()).unwrap();
    let notes = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
    doc.splice_text(&notes, 0, 0, &"n".repeat(chars)).unwrap();
    doc.commit();
    doc
}

/// Ticks every millisecond on the current runtime until `stop`; the longest gap between two
/// ticks, in microseconds, goes to `max_gap_us`.
fn ticker(stop: Arc<AtomicBool>, max_gap_us: Arc<AtomicU64>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last = Instant::now();
        while !stop.load(Ordering::Acquire) {
            tokio::time::sleep(Duration::from_millis(1)).await;
            let now = Instant::now();
            max_gap_us.fetch_max((now - last).as_micros() as u64, Ordering::AcqRel);
            last = now;
        }
    })
}

/// How long loading `bytes` takes when done inline: what a stall would cost.
fn inline_load_time(bytes: &[u8]) -> Duration {
    let start = Instant::now();
    let doc = Automerge::load(bytes).unwrap();
    let took = start.elapsed();
    assert!(!doc.get_heads().is_empty());
    took
}

const CHARS: usize = 400_000;

#[test]
fn loading_a_large_stored_document_does_not_stall_other_tasks() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let team = homevisit_server::admin::add_team(&store, "North")
            .await
            .unwrap();
        let id = RecordId::new();
        let mut doc = heavy_record(team, CHARS);
        let bytes = doc.save();
        let inline = inline_load_time(&bytes);
        store
            .commit_document(DocumentCommit {
                team_id: team,
                document_id: id,
                expected_seq: None,
                chunk: bytes,
                compact: true,
                heads: doc.get_heads(),
                flags: Vec::new(),
                receipts: Vec::new(),
            })
            .await
            .unwrap();
        let app = App::new(store, ServerConfig::default());

        let (stop, max_gap_us) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let ticking = ticker(Arc::clone(&stop), Arc::clone(&max_gap_us));
        tokio::task::yield_now().await;
        let start = Instant::now();
        let slot = app.docs.lock(team, id).await.unwrap();
        let took = start.elapsed();
        stop.store(true, Ordering::Release);
        ticking.await.unwrap();
        assert!(slot.doc.is_some());
        let gap = Duration::from_micros(max_gap_us.load(Ordering::Acquire));
        eprintln!("inline load {inline:?}; lock() took {took:?}; longest tick gap {gap:?}");
        assert!(
            inline >= Duration::from_millis(40),
            "the document must be heavy enough to show a stall ({inline:?})"
        );
        assert!(
            gap < inline / 4,
            "another task stalled for {gap:?} during a load of {inline:?}"
        );
    });
}

#[test]
fn a_large_upload_does_not_stall_other_tasks() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let server = TestServer::start().await;
        let team = server.team("North").await;
        let token = server.device_token(&team).await;
        let id = RecordId::new();
        let mut doc = heavy_record(team.id, CHARS);
        let bytes = doc.save();
        let inline = inline_load_time(&bytes);

        let mut req = server.url().into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
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
        let server_peer = loop {
            match ws.next().await.unwrap().unwrap() {
                WsMessage::Binary(b) => match Message::decode(&b).unwrap() {
                    Message::Peer { sender_id, .. } => break sender_id,
                    other => panic!("expected peer, got {other:?}"),
                },
                _ => continue,
            }
        };
        let upload = Message::Doc {
            sender_id: "raw-peer".into(),
            target_id: server_peer,
            document_id: id,
            data: bytes,
            heads: doc.get_heads(),
        };
        let frame = WsMessage::Binary(upload.encode().unwrap().into());

        let (stop, max_gap_us) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let ticking = ticker(Arc::clone(&stop), Arc::clone(&max_gap_us));
        let start = Instant::now();
        ws.send(frame).await.unwrap();
        let acked = loop {
            let frame = tokio::time::timeout(Duration::from_secs(60), ws.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let WsMessage::Binary(b) = frame else {
                continue;
            };
            match Message::decode(&b).unwrap() {
                Message::Ack { heads, .. } => break heads,
                Message::Sync { .. } => continue,
                other => panic!("expected hv-ack, got {other:?}"),
            }
        };
        let took = start.elapsed();
        stop.store(true, Ordering::Release);
        ticking.await.unwrap();
        // Committed (the server's heads may add its own flag change on top).
        assert!(!acked.is_empty());
        let stored = server.document(&team, id).await.unwrap();
        for head in doc.get_heads() {
            assert!(
                stored.get_change_meta_by_hash(&head).is_some(),
                "the upload was committed"
            );
        }
        let gap = Duration::from_micros(max_gap_us.load(Ordering::Acquire));
        eprintln!("inline load {inline:?}; upload to ack {took:?}; longest tick gap {gap:?}");
        assert!(
            inline >= Duration::from_millis(40),
            "the document must be heavy enough to show a stall ({inline:?})"
        );
        assert!(
            gap < inline / 4,
            "another task stalled for {gap:?} while the server applied a document that takes \
             {inline:?} to load"
        );
    });
}
