//! Attachment bytes through the real server (`blobs` extension, docs/PROTOCOL.md
//! "Attachments"): chunked upload and download, resuming a cut upload, the hash check, team
//! scope, limits and deduplication.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{add_device, add_team, Client, Server};
use futures_util::StreamExt;
use homevisit_core::sync::protocol::{Message, MAX_BLOB_CHUNK};
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::protocol::Message as Ws;

/// A photo's bytes of `len`, different for each `seed`.
fn photo(len: usize, seed: u8) -> (Vec<u8>, [u8; 32]) {
    let bytes: Vec<u8> = (0..len)
        .map(|i| ((i as u64 * 31 + u64::from(seed) * 7) % 253) as u8)
        .collect();
    let hash = Sha256::digest(&bytes).into();
    (bytes, hash)
}

async fn offer(c: &mut Client, hash: [u8; 32], size: u64) -> Message {
    c.send(&Message::BlobOffer {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        hash,
        size,
        media_type: "image/jpeg".into(),
    })
    .await;
    c.recv().await.unwrap()
}

async fn have(c: &mut Client, hash: [u8; 32], size: u64) -> u64 {
    match offer(c, hash, size).await {
        Message::BlobStatus { hash: h, have, .. } if h == hash => have,
        other => panic!("expected hv-blob-status, got {other:?}"),
    }
}

async fn chunk(c: &mut Client, hash: [u8; 32], offset: u64, data: &[u8]) -> Message {
    c.send(&Message::BlobChunk {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        hash,
        offset,
        data: data.to_vec(),
    })
    .await;
    c.recv().await.unwrap()
}

/// Sends the bytes from `from` in chunks of the largest size, checking every acknowledgement.
async fn upload_from(c: &mut Client, hash: [u8; 32], bytes: &[u8], from: usize) {
    let mut at = from;
    while at < bytes.len() {
        let end = (at + MAX_BLOB_CHUNK).min(bytes.len());
        match chunk(c, hash, at as u64, &bytes[at..end]).await {
            Message::BlobAck { have, .. } => assert_eq!(have, end as u64),
            other => panic!("expected hv-blob-ack, got {other:?}"),
        }
        at = end;
    }
}

async fn download(c: &mut Client, hash: [u8; 32], offset: u64) -> Result<Vec<u8>, Message> {
    c.send(&Message::BlobGet {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        hash,
        offset,
    })
    .await;
    let mut out = Vec::new();
    let mut at = offset;
    loop {
        match c.recv().await.unwrap() {
            Message::BlobChunk {
                offset: o, data, ..
            } => {
                assert_eq!(o, at, "chunks come in order");
                assert!(data.len() <= MAX_BLOB_CHUNK);
                at += data.len() as u64;
                let last = data.len() < MAX_BLOB_CHUNK;
                out.extend_from_slice(&data);
                if last {
                    return Ok(out);
                }
            }
            other => return Err(other),
        }
    }
}

/// The server's stored bytes of a team's attachment, read from its database.
fn stored(
    dir: &std::path::Path,
    team: &str,
    hash: [u8; 32],
) -> (Option<(i64, i64, bool)>, Vec<u8>) {
    let db = rusqlite::Connection::open(dir.join(homevisit_server::sqlite::DB_FILE)).unwrap();
    let row = db
        .query_row(
            "SELECT size, received, complete FROM blobs WHERE team_id = ?1 AND hash = ?2",
            rusqlite::params![team, &hash[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok();
    let mut stmt = db
        .prepare("SELECT data FROM blob_chunks WHERE team_id = ?1 AND hash = ?2 ORDER BY start")
        .unwrap();
    let bytes = stmt
        .query_map(rusqlite::params![team, &hash[..]], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .unwrap()
        .flat_map(Result::unwrap)
        .collect();
    (row, bytes)
}

#[tokio::test]
async fn an_attachment_uploaded_in_chunks_downloads_back_equal_on_another_device() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let second = add_device(dir.path(), &a.user);
    let server = Server::start(dir.path(), &[]);
    let (bytes, hash) = photo(2 * MAX_BLOB_CHUNK + 12_345, 1);
    let size = bytes.len() as u64;

    let mut up = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut up, hash, size).await, 0);
    upload_from(&mut up, hash, &bytes, 0).await;

    let mut down = Client::connect(&server, &second, true).await;
    assert_eq!(download(&mut down, hash, 0).await.unwrap(), bytes);
    // From the middle of a chunk (a cut download resuming).
    assert_eq!(
        download(&mut down, hash, 300_000).await.unwrap(),
        bytes[300_000..]
    );
    // At the end: one empty chunk, so the get has an answer.
    assert_eq!(
        download(&mut down, hash, size).await.unwrap(),
        Vec::<u8>::new()
    );

    let (status, body) = common_metrics(&server).await;
    assert_eq!(status, 200);
    let value = |name: &str| -> u64 {
        body.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(value("homevisit_blob_bytes_in_total"), size);
    assert_eq!(
        value("homevisit_blob_bytes_out_total"),
        size + (size - 300_000)
    );
}

async fn common_metrics(server: &Server) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

#[tokio::test]
async fn a_cut_upload_resumes_from_the_last_acknowledged_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let (bytes, hash) = photo(3 * MAX_BLOB_CHUNK + 99, 2);
    let size = bytes.len() as u64;

    let mut first = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut first, hash, size).await, 0);
    for n in 0..2 {
        let at = n * MAX_BLOB_CHUNK;
        let ack = chunk(&mut first, hash, at as u64, &bytes[at..at + MAX_BLOB_CHUNK]).await;
        assert!(
            matches!(ack, Message::BlobAck { have, .. } if have == (at + MAX_BLOB_CHUNK) as u64)
        );
    }
    // The connection drops half-way.
    drop(first);

    let mut again = Client::connect(&server, &a.token, true).await;
    let resumed = have(&mut again, hash, size).await;
    assert_eq!(resumed, 2 * MAX_BLOB_CHUNK as u64);
    // A chunk from the wrong place stores nothing and is told where the server is.
    assert!(matches!(
        chunk(&mut again, hash, 0, &bytes[..10]).await,
        Message::BlobStatus { have, .. } if have == resumed
    ));
    // Not downloadable while partial: the same answer as for any unknown hash.
    assert!(matches!(
        download(&mut again, hash, 0).await,
        Err(Message::BlobMissing { .. })
    ));
    upload_from(&mut again, hash, &bytes, 2 * MAX_BLOB_CHUNK).await;

    let (row, stored_bytes) = stored(dir.path(), &a.id, hash);
    assert_eq!(row, Some((size as i64, size as i64, true)));
    assert_eq!(<[u8; 32]>::from(Sha256::digest(&stored_bytes)), hash);
    assert_eq!(stored_bytes, bytes);
}

#[tokio::test]
async fn an_upload_whose_bytes_do_not_hash_to_its_id_is_rejected_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let (bytes, _) = photo(MAX_BLOB_CHUNK + 10, 3);
    let (_, claimed) = photo(MAX_BLOB_CHUNK + 10, 4);
    let size = bytes.len() as u64;

    let mut c = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut c, claimed, size).await, 0);
    let ack = chunk(&mut c, claimed, 0, &bytes[..MAX_BLOB_CHUNK]).await;
    assert!(matches!(ack, Message::BlobAck { .. }));
    match chunk(
        &mut c,
        claimed,
        MAX_BLOB_CHUNK as u64,
        &bytes[MAX_BLOB_CHUNK..],
    )
    .await
    {
        Message::BlobReject { hash, reason, .. } => {
            assert_eq!(hash, claimed);
            assert_eq!(reason, "hash-mismatch");
        }
        other => panic!("expected hv-blob-reject, got {other:?}"),
    }
    assert_eq!(stored(dir.path(), &a.id, claimed), (None, Vec::new()));
    assert!(matches!(
        download(&mut c, claimed, 0).await,
        Err(Message::BlobMissing { .. })
    ));
    // The offer went with the bytes: sending more is refused, and offering starts again.
    assert!(matches!(
        chunk(&mut c, claimed, 0, &bytes[..10]).await,
        Message::BlobReject { reason, .. } if reason.starts_with("not-offered:")
    ));
    assert_eq!(have(&mut c, claimed, size).await, 0);
}

/// The next frame as the server encoded it.
async fn recv_raw(c: &mut Client) -> Vec<u8> {
    loop {
        match c.ws.next().await.unwrap().unwrap() {
            Ws::Binary(b) => return b.to_vec(),
            Ws::Close(_) => panic!("closed"),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn another_teams_attachment_is_missing_exactly_like_one_that_exists_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let b = add_team(dir.path(), "B");
    let server = Server::start(dir.path(), &[]);
    let (bytes, theirs) = photo(1000, 5);
    let (_, nowhere) = photo(1000, 6);

    let mut ca = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut ca, theirs, 1000).await, 0);
    upload_from(&mut ca, theirs, &bytes, 0).await;

    let mut cb = Client::connect(&server, &b.token, true).await;
    let mut frames = Vec::new();
    for hash in [theirs, nowhere] {
        cb.send(&Message::BlobGet {
            sender_id: cb.peer.clone(),
            target_id: cb.server.clone(),
            hash,
            offset: 0,
        })
        .await;
        let frame = recv_raw(&mut cb).await;
        assert!(matches!(
            Message::decode(&frame).unwrap(),
            Message::BlobMissing { hash: h, .. } if h == hash
        ));
        frames.push(frame);
    }
    // Byte for byte the same frame once the hash asked for is put back in.
    let pos = frames[0]
        .windows(32)
        .position(|w| w == theirs)
        .expect("the hash is in the frame");
    let mut as_nowhere = frames[0].clone();
    as_nowhere[pos..pos + 32].copy_from_slice(&nowhere);
    assert_eq!(as_nowhere, frames[1]);

    // Team B offering the same bytes starts its own copy: nothing says team A has them.
    assert_eq!(have(&mut cb, theirs, 1000).await, 0);
}

#[tokio::test]
async fn over_size_and_over_quota_offers_are_refused_with_typed_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(
        dir.path(),
        &[
            "--max-attachment-bytes",
            "1000",
            "--team-attachment-quota-bytes",
            "1500",
        ],
    );
    let mut c = Client::connect(&server, &a.token, true).await;
    let (_, big) = photo(1001, 7);
    match offer(&mut c, big, 1001).await {
        Message::BlobReject { hash, reason, .. } => {
            assert_eq!(hash, big);
            assert_eq!(
                reason,
                "too-large: 1001 bytes, the largest attachment is 1000 bytes"
            );
        }
        other => panic!("expected hv-blob-reject, got {other:?}"),
    }
    let (bytes, first) = photo(900, 8);
    assert_eq!(have(&mut c, first, 900).await, 0);
    upload_from(&mut c, first, &bytes, 0).await;
    let (_, second) = photo(700, 9);
    match offer(&mut c, second, 700).await {
        Message::BlobReject { reason, .. } => assert_eq!(
            reason,
            "quota: the team holds 900 bytes of attachments, 700 more would pass its quota of 1500 bytes"
        ),
        other => panic!("expected hv-blob-reject, got {other:?}"),
    }
    // Nothing was recorded for the refused offers, and the connection carries on.
    assert_eq!(stored(dir.path(), &a.id, second).0, None);
    assert_eq!(stored(dir.path(), &a.id, big).0, None);
    assert_eq!(have(&mut c, second, 600).await, 0);
}

#[tokio::test]
async fn a_second_team_member_offering_the_same_photo_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let colleague = common::admin(&[
        "user",
        "add",
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--team",
        &a.id,
        "--name",
        "Ade",
        "--role",
        "ap",
    ])
    .remove(0);
    let token = add_device(dir.path(), &colleague);
    let server = Server::start(dir.path(), &[]);
    let (bytes, hash) = photo(MAX_BLOB_CHUNK + 1, 10);
    let size = bytes.len() as u64;
    let mut c = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut c, hash, size).await, 0);
    upload_from(&mut c, hash, &bytes, 0).await;

    let mut other = Client::connect(&server, &token, true).await;
    assert_eq!(have(&mut other, hash, size).await, size);
    // A chunk sent anyway stores nothing.
    assert!(matches!(
        chunk(&mut other, hash, 0, &bytes[..10]).await,
        Message::BlobStatus { have, .. } if have == size
    ));
    assert_eq!(stored(dir.path(), &a.id, hash).1, bytes);
}

#[tokio::test]
async fn malformed_blob_messages_close_the_connection_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let server = Server::start(dir.path(), &[]);
    let (bytes, hash) = photo(100, 11);

    // A chunk running past the offered size.
    let mut c = Client::connect(&server, &a.token, true).await;
    assert_eq!(have(&mut c, hash, 100).await, 0);
    assert!(matches!(
        chunk(&mut c, hash, 0, &[0; 101]).await,
        Message::Error { message, .. } if message.contains("past the offered size")
    ));
    assert_eq!(c.close_code().await, Some(1002));

    // A hash that is not 32 bytes.
    let mut c = Client::connect(&server, &a.token, true).await;
    let mut frame = Vec::new();
    let text = |s: &str| ciborium::Value::Text(s.into());
    ciborium::ser::into_writer(
        &ciborium::Value::Map(vec![
            (text("type"), text("hv-blob-get")),
            (text("senderId"), text(&c.peer)),
            (text("targetId"), text(&c.server)),
            (text("hash"), ciborium::Value::Bytes(vec![1; 31])),
            (text("offset"), ciborium::Value::Integer(0.into())),
        ]),
        &mut frame,
    )
    .unwrap();
    c.send_raw(frame).await;
    assert!(
        matches!(c.recv().await, Some(Message::Error { message, .. }) if message.contains("hash"))
    );
    assert_eq!(c.close_code().await, Some(1002));

    // A download from beyond the end of the team's own attachment.
    let mut c = Client::connect(&server, &a.token, true).await;
    upload_from(&mut c, hash, &bytes, 0).await;
    assert!(matches!(
        download(&mut c, hash, 101).await,
        Err(Message::Error { .. })
    ));

    // A peer that did not announce `blobs` may not use it.
    let mut stock = Client::connect(&server, &a.token, false).await;
    stock
        .send(&Message::BlobGet {
            sender_id: stock.peer.clone(),
            target_id: stock.server.clone(),
            hash,
            offset: 0,
        })
        .await;
    assert!(
        matches!(stock.recv().await, Some(Message::Error { message, .. }) if message.contains("blobs"))
    );
}

/// `migrate` cannot copy attachment bytes yet: it refuses rather than leave them behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_refuses_a_source_holding_attachments() {
    use homevisit_server::store::ServerStore;
    let dir = tempfile::tempdir().unwrap();
    let from = homevisit_server::SqliteStore::open_dir(dir.path()).unwrap();
    let team = from.create_team("A").await.unwrap();
    let (_, hash) = photo(10, 12);
    from.offer_blob(team, hash, 10, "image/png".into(), 1 << 20)
        .await
        .unwrap();
    let url = crate::store_suite::fresh_postgres_database().await;
    let to = homevisit_server::PgStore::connect(&url).await.unwrap();
    let err = homevisit_server::migrate::sqlite_to_postgres(&from, &to)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 attachment(s)"), "{err}");
}
