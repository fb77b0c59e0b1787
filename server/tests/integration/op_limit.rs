//! The operation-count limit on the real server binary (docs/adr/0017-operation-count-limit.md):
//! a valid device's small upload that would expand to ten million operations is refused with
//! `too-many-ops:` before it is loaded, nothing of it is stored, and the server goes on serving
//! an honest device while such uploads arrive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use crate::common;

use automerge::{
    sync,
    transaction::{CommitOptions, Transactable},
    AutoCommit, ReadDoc, ROOT,
};
use common::{add_device, add_team, record, Client, Server};
use homevisit_core::{
    sync::{opcount::repeated_insert_change, protocol::Message},
    RecordId,
};

/// Ten million list insertions (plus the list) in one change of about a hundred bytes.
const HOSTILE_OPS: u64 = 10_000_000;

/// A record of `team` with a ten-million-operation change from another actor beside it, as
/// `load_incremental` takes it: a whole-document upload of a few hundred bytes.
fn hostile_upload(team: &str, id: RecordId, actor: u8) -> Vec<u8> {
    let mut bytes = record(team, id).save();
    bytes.extend(repeated_insert_change(&[actor; 16], HOSTILE_OPS));
    bytes
}

/// Sends `data` as a whole document and returns the server's answer about `id`.
async fn upload_bytes(c: &mut Client, id: RecordId, data: Vec<u8>) -> Option<Message> {
    c.send(&Message::Doc {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        document_id: id,
        data,
        heads: Vec::new(),
    })
    .await;
    c.recv().await
}

fn refused_for_ops(answer: &Option<Message>, id: RecordId) -> bool {
    matches!(answer, Some(Message::Reject { document_id, reason, .. })
        if *document_id == id && reason.starts_with("too-many-ops:"))
}

/// What a fresh connection of `token` gets for `id`: the server's document, synced into an
/// empty one (`None` when the server does not have it).
async fn fetch(server: &Server, token: &str, id: RecordId) -> Option<AutoCommit> {
    let mut c = Client::connect(server, token, true).await;
    let mut doc = AutoCommit::new();
    let seen = c.sync_doc(id, &mut doc).await;
    if seen
        .iter()
        .any(|m| matches!(m, Message::DocUnavailable { .. }))
    {
        return None;
    }
    for m in seen {
        if let Message::Doc { data, .. } = m {
            return Some(AutoCommit::load(&data).unwrap());
        }
    }
    Some(doc)
}

#[tokio::test]
async fn a_small_upload_of_ten_million_operations_is_refused_and_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let team = add_team(dir.path(), "A");
    let mut server = Server::start(dir.path(), &[]);
    let mut c = Client::connect(&server, &team.token, true).await;

    // A new document.
    let new_id = RecordId::new();
    let data = hostile_upload(&team.id, new_id, 7);
    assert!(data.len() < 10 * 1024, "{} bytes", data.len());
    let answer = upload_bytes(&mut c, new_id, data).await;
    assert!(refused_for_ops(&answer, new_id), "{answer:?}");

    // An existing document: the honest record is stored, the hostile change added to it is
    // refused, and the record stays as it was.
    let id = RecordId::new();
    let mut honest = record(&team.id, id);
    let heads = c.upload(id, &mut honest).await;
    let mut incremental = honest.save();
    incremental.extend(repeated_insert_change(&[8; 16], HOSTILE_OPS));
    let answer = upload_bytes(&mut c, id, incremental).await;
    assert!(refused_for_ops(&answer, id), "{answer:?}");

    // The same change carried by a sync message.
    let message = sync::Message {
        heads: Vec::new(),
        need: Vec::new(),
        have: Vec::new(),
        changes: vec![repeated_insert_change(&[9; 16], HOSTILE_OPS)].into(),
        flags: None,
        version: sync::MessageVersion::V1,
    };
    c.send(&c.doc_msg(id, message.encode(), false)).await;
    let answer = c.recv().await;
    assert!(refused_for_ops(&answer, id), "{answer:?}");

    // The connection and the server go on; nothing of the hostile bytes was stored.
    let mut later = honest.clone();
    later.put(ROOT, "notes", "still here").unwrap();
    later.commit_with(CommitOptions::default().with_message(common::attrib(&team.id, "edit")));
    let acked = c.upload(id, &mut later).await;
    assert_eq!(acked, later.get_heads());
    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    assert!(fetch(&server, &team.token, new_id).await.is_none());
    let mut stored = fetch(&server, &team.token, id).await.expect("the record");
    assert_eq!(stored.get_heads(), later.get_heads());
    assert!(stored.get(ROOT, "items").unwrap().is_none());
    assert!(stored.document().stats().num_ops < 100);
    assert_ne!(heads, acked);
    server.kill();
}

#[tokio::test]
async fn an_honest_device_syncs_while_four_hostile_uploads_run() {
    let dir = tempfile::tempdir().unwrap();
    let team = add_team(dir.path(), "A");
    let hostile_tokens: Vec<String> = (0..4).map(|_| add_device(dir.path(), &team.user)).collect();
    let server = Server::start(dir.path(), &[]);

    // Each hostile device sends its uploads without waiting, then reads the answers.
    const UPLOADS: usize = 5;
    let mut hostile = Vec::new();
    for (n, token) in hostile_tokens.iter().enumerate() {
        let mut c = Client::connect(&server, token, true).await;
        let team_id = team.id.clone();
        hostile.push(tokio::spawn(async move {
            let ids: Vec<RecordId> = (0..UPLOADS).map(|_| RecordId::new()).collect();
            for (i, id) in ids.iter().enumerate() {
                let actor = u8::try_from(n * UPLOADS + i + 1).unwrap();
                c.send(&Message::Doc {
                    sender_id: c.peer.clone(),
                    target_id: c.server.clone(),
                    document_id: *id,
                    data: hostile_upload(&team_id, *id, actor),
                    heads: Vec::new(),
                })
                .await;
            }
            // One answer per upload, in order (news of the honest device's record may come
            // in between).
            let mut refused = 0;
            for id in &ids {
                loop {
                    let answer = c.recv().await;
                    let about_ours = matches!(&answer,
                        Some(Message::Reject { document_id, .. } | Message::Ack { document_id, .. })
                            if ids.contains(document_id));
                    if answer.is_none() || about_ours {
                        assert!(refused_for_ops(&answer, *id), "{answer:?}");
                        refused += 1;
                        break;
                    }
                }
            }
            refused
        }));
    }

    let started = Instant::now();
    let mut c = Client::connect(&server, &team.token, true).await;
    let id = RecordId::new();
    let mut doc = record(&team.id, id);
    for i in 0..20_i64 {
        doc.put(ROOT, format!("visit{i}"), i).unwrap();
    }
    doc.commit_with(CommitOptions::default().with_message(common::attrib(&team.id, "edit")));
    let seen = c.sync_doc(id, &mut doc).await;
    let took = started.elapsed();
    assert!(
        seen.iter()
            .any(|m| matches!(m, Message::Ack { heads, .. } if *heads == doc.get_heads())),
        "{seen:?}"
    );
    eprintln!("the honest device's sync took {took:?} while four devices sent hostile uploads");

    let mut refused = 0;
    for h in hostile {
        refused += h.await.unwrap();
    }
    assert_eq!(refused, 4 * UPLOADS);
    let mut stored = fetch(&server, &team.token, id).await.expect("the record");
    assert_eq!(stored.get_heads(), doc.get_heads());
}
