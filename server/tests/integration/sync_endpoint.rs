//! The `/sync` endpoint of the real server binary: authentication, team scope, malformed input,
//! size limits, revocation, flags, and the operations endpoints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use automerge::{
    sync::{self, SyncDoc},
    transaction::{CommitOptions, Transactable},
    AutoCommit, ROOT,
};
use common::{add_device, add_team, record, Client, Server};
use homevisit_core::{sync::protocol::Message, RecordId};
use homevisit_server::{store::ServerStore, SqliteStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::{client::IntoClientRequest, Error as WsError};

async fn http_status(url: String, bearer: Option<&str>) -> u16 {
    let mut req = url.into_client_request().unwrap();
    if let Some(t) = bearer {
        req.headers_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok(_) => 101,
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

async fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string();
    (status, body)
}

#[tokio::test]
async fn no_token_and_bad_token_get_401() {
    let dir = tempfile::tempdir().unwrap();
    let team = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    assert_eq!(http_status(server.url(None), None).await, 401);
    assert_eq!(
        http_status(server.url(None), Some("not-a-token")).await,
        401
    );
    let unknown = "ab".repeat(32);
    assert_eq!(http_status(server.url(None), Some(&unknown)).await, 401);
    assert_eq!(http_status(server.url(Some(&unknown)), None).await, 401);
    // The real token works both as a header and as `?token=`.
    assert_eq!(http_status(server.url(None), Some(&team.token)).await, 101);
    assert_eq!(http_status(server.url(Some(&team.token)), None).await, 101);
}

#[tokio::test]
async fn tokens_are_not_stored_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let team = add_team(dir.path(), "A");
    let raw = hex::decode(&team.token).unwrap();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        assert!(
            !bytes
                .windows(team.token.len())
                .any(|w| w == team.token.as_bytes()),
            "hex token found"
        );
        assert!(
            !bytes.windows(raw.len()).any(|w| w == &raw[..]),
            "raw token bytes found"
        );
        let upper = team.token.to_uppercase();
        assert!(!bytes.windows(upper.len()).any(|w| w == upper.as_bytes()));
    }
    assert!(scanned > 0, "the database files were scanned");
}

#[tokio::test]
async fn another_teams_document_is_unavailable_exactly_like_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let b = add_team(dir.path(), "B");
    let server = Server::start(dir.path(), &[]);

    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    let mut ca = Client::connect(&server, &a.token, true).await;
    let acked = ca.upload(id, &mut doc).await;
    assert_eq!(acked, doc.get_heads());

    // Team B asks for A's document and for one that exists nowhere, as a stock peer would.
    let mut cb = Client::connect(&server, &b.token, false).await;
    let missing = RecordId::new();
    let mut answers = Vec::new();
    for asked in [id, missing] {
        let mut empty = AutoCommit::new();
        let m = empty
            .sync()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        cb.send(&cb.doc_msg(asked, m.encode(), true)).await;
        let answer = cb.recv().await.unwrap();
        let Message::DocUnavailable {
            sender_id,
            target_id,
            document_id,
        } = answer
        else {
            panic!("expected doc-unavailable, got {answer:?}");
        };
        assert_eq!(document_id, asked);
        answers.push((sender_id, target_id));
    }
    assert_eq!(
        answers[0], answers[1],
        "the two answers differ only by document id"
    );

    // B's catch-up never lists A's document, and B creating the same id does not touch A's.
    let mut cb = Client::connect(&server, &b.token, true).await;
    cb.send(&Message::CatchupRequest {
        sender_id: cb.peer.clone(),
        target_id: cb.server.clone(),
        cursor: 0,
        changed_document_ids: vec![id],
    })
    .await;
    let Some(Message::CatchupResponse {
        changed, missing, ..
    }) = cb.recv().await
    else {
        panic!()
    };
    assert!(changed.is_empty());
    assert_eq!(missing, vec![id]);
    let mut impostor = record(&b.id, id);
    impostor.put(ROOT, "note", "team B's own record").unwrap();
    impostor.commit_with(CommitOptions::default().with_message(common::attrib(&b.id, "edit")));
    cb.upload(id, &mut impostor).await;

    let mut check = AutoCommit::new();
    let seen = Client::connect(&server, &a.token, true)
        .await
        .sync_doc(id, &mut check)
        .await;
    let Some(Message::Doc { data, heads, .. }) = seen.into_iter().next() else {
        panic!()
    };
    assert_eq!(heads, doc.get_heads(), "A's document is unchanged");
    let loaded = AutoCommit::load(&data).unwrap();
    assert!(automerge::ReadDoc::get(&loaded, ROOT, "note")
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_document_claiming_another_team_is_quarantined_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let b = add_team(dir.path(), "B");
    let server = Server::start(dir.path(), &[]);
    let id = RecordId::new();
    let mut claims_b = record(&b.id, id);
    let mut ca = Client::connect(&server, &a.token, true).await;
    ca.send(&Message::Doc {
        sender_id: ca.peer.clone(),
        target_id: ca.server.clone(),
        document_id: id,
        data: claims_b.save(),
        heads: claims_b.get_heads(),
    })
    .await;
    assert!(
        matches!(ca.recv().await, Some(Message::Reject { document_id, .. }) if document_id == id)
    );

    let mut no_team = AutoCommit::new();
    no_team.put(ROOT, "schema", "homevisit/child").unwrap();
    no_team.commit_with(CommitOptions::default().with_message(common::attrib(&a.id, "create")));
    let other = RecordId::new();
    let seen = ca.sync_doc(other, &mut no_team).await;
    assert!(
        seen.iter().any(|m| matches!(m, Message::Reject { .. })),
        "{seen:?}"
    );

    for (token, doc_id) in [(&a.token, id), (&b.token, id), (&a.token, other)] {
        let mut c = Client::connect(&server, token, false).await;
        let mut empty = AutoCommit::new();
        let m = empty
            .sync()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        c.send(&c.doc_msg(doc_id, m.encode(), true)).await;
        assert!(matches!(
            c.recv().await,
            Some(Message::DocUnavailable { .. })
        ));
    }
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let team_a = uuid::Uuid::parse_str(&a.id).unwrap();
    assert_eq!(
        store.quarantined_count(team_a).await.unwrap(),
        2,
        "kept, not lost"
    );
}

#[tokio::test]
async fn malformed_cbor_gets_an_error_and_a_close_and_other_connections_carry_on() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let mut good = Client::connect(&server, &a.token, true).await;
    let mut bad = Client::connect(&server, &a.token, true).await;
    bad.send_raw(vec![0xb9, 0x00, 0x05, 0x64, 0x74]).await;
    assert!(matches!(bad.recv().await, Some(Message::Error { .. })));
    assert_eq!(bad.close_code().await, Some(1002));

    let mut bad_am = Client::connect(&server, &a.token, true).await;
    let id = RecordId::new();
    bad_am
        .send(&bad_am.doc_msg(id, vec![0x42, 0xff, 0xff, 0xff], false))
        .await;
    assert!(matches!(bad_am.recv().await, Some(Message::Error { .. })));

    let mut unknown = Client::connect(&server, &a.token, true).await;
    let mut frame = Vec::new();
    ciborium::ser::into_writer(
        &ciborium::Value::Map(vec![(
            ciborium::Value::Text("type".into()),
            ciborium::Value::Text("teleport".into()),
        )]),
        &mut frame,
    )
    .unwrap();
    unknown.send_raw(frame).await;
    assert!(
        matches!(unknown.recv().await, Some(Message::Error { message, .. }) if message.contains("teleport"))
    );

    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    assert_eq!(good.upload(id, &mut doc).await, doc.get_heads());
}

#[tokio::test]
async fn message_and_document_size_limits_are_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(
        dir.path(),
        &[
            "--max-message-bytes",
            "65536",
            "--max-document-bytes",
            "20000",
        ],
    );

    let mut c = Client::connect(&server, &a.token, true).await;

    // A document over the limit is refused with hv-reject; the connection stays usable.
    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    // Random letters: deflate cannot shrink them below the limit.
    let noise: String = (0..60_000)
        .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
        .collect();
    doc.put(ROOT, "notes", noise).unwrap();
    doc.commit_with(CommitOptions::default().with_message(common::attrib(&a.id, "edit")));
    c.send(&Message::Doc {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        document_id: id,
        data: doc.save(),
        heads: doc.get_heads(),
    })
    .await;
    assert!(
        matches!(c.recv().await, Some(Message::Reject { document_id, .. }) if document_id == id)
    );
    let small = RecordId::new();
    let mut ok = record(&a.id, small);
    assert_eq!(c.upload(small, &mut ok).await, ok.get_heads());
}

#[tokio::test]
async fn oversized_frame_closes_only_that_connection() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &["--max-message-bytes", "65536"]);
    let mut other = Client::connect(&server, &a.token, true).await;
    let mut big = Client::connect(&server, &a.token, true).await;
    big.send_raw(vec![0u8; 70_000]).await;
    loop {
        match big.recv().await {
            None => break,
            Some(Message::Error { .. }) => continue,
            Some(m) => panic!("unexpected {m:?}"),
        }
    }
    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    assert_eq!(other.upload(id, &mut doc).await, doc.get_heads());
}

#[tokio::test]
async fn a_revoked_device_gets_the_revocation_message() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let second = add_device(dir.path(), &a.user);
    let server = Server::start(dir.path(), &[]);
    common::admin(&[
        "device",
        "revoke",
        "--data-dir",
        dir.path().to_str().unwrap(),
        &a.token,
    ]);

    let mut req = server.url(None).into_client_request().unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", a.token).parse().unwrap(),
    );
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    let mut c = Client {
        ws,
        peer: "p".into(),
        server: String::new(),
    };
    assert!(matches!(c.recv().await, Some(Message::Revoked { .. })));
    assert_eq!(c.close_code().await, Some(4001));

    // Revoked while connected: the next catch-up answers with the revocation.
    let mut live = Client::connect(&server, &second, true).await;
    common::admin(&[
        "device",
        "revoke",
        "--data-dir",
        dir.path().to_str().unwrap(),
        &second,
    ]);
    live.send(&Message::CatchupRequest {
        sender_id: live.peer.clone(),
        target_id: live.server.clone(),
        cursor: 0,
        changed_document_ids: vec![],
    })
    .await;
    assert!(matches!(live.recv().await, Some(Message::Revoked { .. })));
}

#[tokio::test]
async fn rk_attrib_change_without_metadata_is_stored_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    doc.put(ROOT, "child_weight_kg", 324).unwrap();
    doc.commit(); // no RK-ATTRIB message
    let unattributed = doc.get_heads()[0];
    let mut c = Client::connect(&server, &a.token, true).await;
    let seen = c.sync_doc(id, &mut doc).await;
    let acked = seen.iter().rev().find_map(|m| match m {
        Message::Ack { heads, .. } => Some(heads.clone()),
        _ => None,
    });
    assert_eq!(
        acked,
        Some(doc.get_heads()),
        "the change is stored, not discarded"
    );
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let flags = store
        .flags(uuid::Uuid::parse_str(&a.id).unwrap(), Some(id))
        .await
        .unwrap();
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0].flag.rule_id, "RK-ATTRIB");
    assert_eq!(flags[0].flag.change_hash, Some(unattributed));
    // The flag is in the record too, written by the server as `system`: the peer got it back.
    let in_record = homevisit_core::doc::flags(&doc).unwrap();
    assert_eq!(in_record.len(), 1, "{in_record:?}");
    assert_eq!(in_record[0].rule_id, "RK-ATTRIB");
    assert_eq!(in_record[0].change_hash, unattributed.to_string());
    assert_eq!(in_record[0].added_by, homevisit_core::doc::SYSTEM_USER_ID);
    assert_eq!(
        in_record[0].author.as_ref().map(|a| a.user_id.to_string()),
        Some(a.user.clone()),
        "the true author is the device's user"
    );
}

#[tokio::test]
async fn healthz_and_metrics_answer() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let (status, body) = http_get(&server.addr, "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    Client::connect(&server, &a.token, true)
        .await
        .upload(id, &mut doc)
        .await;
    let (status, body) = http_get(&server.addr, "/metrics").await;
    assert_eq!(status, 200);
    let value = |name: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(value("homevisit_docs_synced_total"), 1);
    assert!(value("homevisit_bytes_in_total") > 0);
    assert!(value("homevisit_bytes_out_total") > 0);
    assert_eq!(value("homevisit_connections_total"), 1);
    assert!(body.contains("# TYPE homevisit_errors_total counter"));
}

/// Changes whose dependencies never arrive are kept per connection (ADR 0013) only up to the
/// stored document size limit; beyond it the peer is abusive and that connection is closed with
/// `error`. Other connections carry on.
#[tokio::test]
async fn changes_whose_dependencies_never_arrive_are_bounded_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &["--max-document-bytes", "20000"]);
    let mut c = Client::connect(&server, &a.token, true).await;
    let id = RecordId::new();
    let mut doc = record(&a.id, id);
    c.upload(id, &mut doc).await;

    let mut sent = 0usize;
    let mut refused = None;
    for i in 0..100 {
        // y, then x on top of it; only x is sent, so it can never apply.
        let mut fork = doc.fork();
        fork.put(ROOT, "y", i).unwrap();
        fork.commit_with(CommitOptions::default().with_message(common::attrib(&a.id, "edit")));
        let noise: String = (0..1000)
            .map(|_| char::from(b'a' + rand::random::<u8>() % 26))
            .collect();
        fork.put(ROOT, "x", noise).unwrap();
        fork.commit_with(CommitOptions::default().with_message(common::attrib(&a.id, "edit")));
        let x = fork.get_last_local_change().unwrap().raw_bytes().to_vec();
        let mut m = fork
            .sync()
            .generate_sync_message(&mut sync::State::new())
            .unwrap();
        sent += x.len();
        m.changes = vec![x].into();
        c.send(&c.doc_msg(id, m.encode(), false)).await;
        loop {
            match c.recv().await {
                Some(Message::Ack { heads, .. }) => {
                    assert_eq!(heads, doc.get_heads(), "nothing of x applied");
                    break;
                }
                Some(Message::Error { message, .. }) => {
                    refused = Some(message);
                    break;
                }
                Some(_) => {}
                None => panic!("closed without an error after {sent} bytes"),
            }
        }
        if refused.is_some() {
            break;
        }
    }
    let message = refused.expect("the limit was never reached");
    assert!(message.contains("dependencies never arrived"), "{message}");
    assert!(
        sent > 20_000,
        "refused only beyond the limit ({sent} bytes)"
    );

    // The document is as uploaded, and another connection syncs normally.
    let other = RecordId::new();
    let mut fresh = record(&a.id, other);
    let mut c2 = Client::connect(&server, &a.token, true).await;
    assert_eq!(c2.upload(other, &mut fresh).await, fresh.get_heads());
}
