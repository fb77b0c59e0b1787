//! SIGKILL during a sync: everything the server acknowledged is there after a restart
//! (`SAF-LOST-EDIT`: "synced" means the server has it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeMap;

use common::{add_team, record, Client, Server};
use futures_util::{SinkExt, StreamExt};
use homevisit_core::{sync::protocol::Message, RecordId};
use tokio_tungstenite::tungstenite::protocol::Message as Ws;

#[tokio::test]
async fn saf_lost_edit_nothing_acknowledged_is_lost_when_the_server_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let a = add_team(dir.path(), "A");
    let mut server = Server::start(dir.path(), &[]);
    let client = Client::connect(&server, &a.token, true).await;
    let (peer, server_peer) = (client.peer.clone(), client.server.clone());
    let (mut sink, mut stream) = client.ws.split();

    let docs: Vec<(RecordId, Vec<u8>)> = (0..300)
        .map(|_| {
            let id = RecordId::new();
            (id, record(&a.id, id).save())
        })
        .collect();
    let to_send = docs.clone();
    // Everything pipelined: the server is killed with uploads in flight.
    let sender = tokio::spawn(async move {
        for (id, data) in to_send {
            let msg = Message::Doc {
                sender_id: peer.clone(),
                target_id: server_peer.clone(),
                document_id: id,
                data,
                heads: vec![],
            };
            if sink
                .send(Ws::Binary(msg.encode().unwrap().into()))
                .await
                .is_err()
            {
                break;
            }
        }
    });
    let mut acked = BTreeMap::new();
    while let Some(Ok(frame)) = stream.next().await {
        if let Ws::Binary(b) = frame {
            if let Message::Ack {
                document_id, heads, ..
            } = Message::decode(&b).unwrap()
            {
                acked.insert(document_id, heads);
                if acked.len() == 40 {
                    server.kill();
                }
            }
        }
    }
    let _ = sender.await;
    assert!(acked.len() >= 40, "the kill came after 40 acknowledgements");

    let restarted = Server::start(dir.path(), &[]);
    let mut c = Client::connect(&restarted, &a.token, true).await;
    c.send(&Message::CatchupRequest {
        sender_id: c.peer.clone(),
        target_id: c.server.clone(),
        cursor: 0,
        changed_document_ids: acked.keys().copied().collect(),
    })
    .await;
    let Some(Message::CatchupResponse {
        changed, missing, ..
    }) = c.recv().await
    else {
        panic!()
    };
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let stored: BTreeMap<_, _> = changed
        .into_iter()
        .map(|c| (c.document_id, c.heads))
        .collect();
    for (id, heads) in &acked {
        assert_eq!(stored.get(id), Some(heads), "document {id}");
    }
}
