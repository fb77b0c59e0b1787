//! Helpers for the server's integration tests: the real binary, its admin commands, and a small
//! protocol client speaking to it over a real WebSocket.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use automerge::{
    sync::{self, SyncDoc},
    transaction::{CommitOptions, Transactable},
    AutoCommit, ChangeHash, ROOT,
};
use futures_util::{SinkExt, StreamExt};
use homevisit_core::{
    sync::protocol::{HomeVisitMetadata, Message, PeerMetadata},
    RecordId,
};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, protocol::Message as Ws},
    MaybeTlsStream, WebSocketStream,
};

pub const BIN: &str = env!("CARGO_BIN_EXE_homevisit-server");

/// Runs an admin command; returns its stdout lines.
pub fn admin(args: &[&str]) -> Vec<String> {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn one_line(args: &[&str]) -> String {
    let lines = admin(args);
    assert_eq!(lines.len(), 1, "{args:?} printed {lines:?}");
    lines[0].clone()
}

/// A team with one OT and one device token.
pub struct Team {
    pub id: String,
    pub user: String,
    pub token: String,
}

pub fn add_team(dir: &Path, name: &str) -> Team {
    let d = dir.to_str().unwrap();
    let id = one_line(&["team", "add", "--data-dir", d, name]);
    let user = one_line(&[
        "user",
        "add",
        "--data-dir",
        d,
        "--team",
        &id,
        "--name",
        "Olu",
        "--role",
        "ot",
        "--hcpc",
        "OT12345",
        "--hcpc-verified-until",
        "2030-01-01",
    ]);
    let token = add_device(dir, &user);
    let device = device_id(dir, &token);
    IDENTITIES
        .lock()
        .unwrap()
        .insert(id.clone(), (user.clone(), device));
    Team { id, user, token }
}

/// The first device of each team made by [`add_team`], and its user: the identity its changes
/// name (`RK-ATTRIB`), as the server's tables hold it.
static IDENTITIES: std::sync::Mutex<std::collections::BTreeMap<String, (String, String)>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// The device id the server registered for `token`.
pub fn device_id(dir: &Path, token: &str) -> String {
    let hash = homevisit_server::auth::token_hash(token).unwrap();
    let db = rusqlite::Connection::open(dir.join(homevisit_server::sqlite::DB_FILE)).unwrap();
    db.query_row(
        "SELECT id FROM devices WHERE token_hash = ?1",
        [hash.to_vec()],
        |r| r.get(0),
    )
    .unwrap()
}

pub fn add_device(dir: &Path, user: &str) -> String {
    one_line(&[
        "device",
        "add",
        "--data-dir",
        dir.to_str().unwrap(),
        "--user",
        user,
        "--name",
        "tablet",
    ])
}

/// The server binary, killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub dir: PathBuf,
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--data-dir",
                dir.to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .expect("listening line")
            .to_string();
        Server {
            child,
            addr,
            dir: dir.to_path_buf(),
        }
    }

    pub fn url(&self, token: Option<&str>) -> String {
        match token {
            Some(t) => format!("ws://{}/sync?token={t}", self.addr),
            None => format!("ws://{}/sync", self.addr),
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Makes a record document of `team` with RK-ATTRIB change metadata.
pub fn record(team: &str, id: RecordId) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "schema", "homevisit/child").unwrap();
    doc.put(ROOT, "schema_version", 1).unwrap();
    doc.put(ROOT, "id", id.to_string()).unwrap();
    doc.put(ROOT, "team_id", team).unwrap();
    doc.commit_with(CommitOptions::default().with_message(attrib(team, "create")));
    doc
}

/// `RK-ATTRIB` metadata naming the OT and first device of `team` (made by [`add_team`]), so
/// the server finds nothing to flag; made-up ids for a team it does not know.
pub fn attrib(team: &str, action: &str) -> String {
    let (user, device) = IDENTITIES
        .lock()
        .unwrap()
        .get(team)
        .cloned()
        .unwrap_or_else(|| {
            (
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().to_string(),
            )
        });
    format!(
        r#"{{"user_id":"{user}","role":"ot","device_id":"{device}","action":"{action}","at":"2026-03-15T10:42:07Z"}}"#
    )
}

/// A protocol client over a real WebSocket.
pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub peer: String,
    pub server: String,
}

impl Client {
    /// Connects with `Authorization: Bearer` and joins, announcing every HomeVisit extension
    /// when `homevisit`.
    pub async fn connect(server: &Server, token: &str, homevisit: bool) -> Self {
        let mut req = server.url(None).into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut c = Client {
            ws,
            peer: format!("test-{}", uuid::Uuid::new_v4()),
            server: String::new(),
        };
        c.send(&Message::Join {
            sender_id: c.peer.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: Some(true),
                homevisit: homevisit.then(HomeVisitMetadata::all),
            }),
        })
        .await;
        match c.recv().await {
            Some(Message::Peer {
                sender_id,
                selected_protocol_version,
                ..
            }) => {
                assert_eq!(selected_protocol_version, "1");
                c.server = sender_id;
            }
            other => panic!("expected peer, got {other:?}"),
        }
        c
    }

    pub async fn send(&mut self, msg: &Message) {
        self.send_raw(msg.encode().unwrap()).await;
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        self.ws.send(Ws::Binary(bytes.into())).await.unwrap();
    }

    /// The next protocol message; `None` once the server closed the connection.
    pub async fn recv(&mut self) -> Option<Message> {
        loop {
            match self.ws.next().await? {
                Ok(Ws::Binary(b)) => return Some(Message::decode(&b).unwrap()),
                Ok(Ws::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.ws.next().await {
                Some(Ok(Ws::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub fn doc_msg(&self, id: RecordId, data: Vec<u8>, request: bool) -> Message {
        if request {
            Message::Request {
                sender_id: self.peer.clone(),
                target_id: self.server.clone(),
                document_id: id,
                data,
            }
        } else {
            Message::Sync {
                sender_id: self.peer.clone(),
                target_id: self.server.clone(),
                document_id: id,
                data,
            }
        }
    }

    /// Uploads a whole document (`hv-doc`); returns the acknowledged heads.
    pub async fn upload(&mut self, id: RecordId, doc: &mut AutoCommit) -> Vec<ChangeHash> {
        self.send(&Message::Doc {
            sender_id: self.peer.clone(),
            target_id: self.server.clone(),
            document_id: id,
            data: doc.save(),
            heads: doc.get_heads(),
        })
        .await;
        match self.recv().await {
            Some(Message::Ack {
                document_id, heads, ..
            }) if document_id == id => heads,
            other => panic!("expected hv-ack, got {other:?}"),
        }
    }

    /// Runs the automerge sync protocol for one document until both sides are quiet; returns
    /// every message the server sent about it.
    pub async fn sync_doc(&mut self, id: RecordId, doc: &mut AutoCommit) -> Vec<Message> {
        let mut state = sync::State::new();
        let mut seen = Vec::new();
        let first = doc.sync().generate_sync_message(&mut state).unwrap();
        self.send(&self.doc_msg(id, first.encode(), true)).await;
        // The server answers every request/sync with an optional sync and one hv-ack.
        let mut outstanding = 1;
        loop {
            let msg = self.recv().await.expect("connection closed during sync");
            seen.push(msg.clone());
            match msg {
                Message::Sync { data, .. } => {
                    let m = sync::Message::decode(&data).unwrap();
                    doc.sync().receive_sync_message(&mut state, m).unwrap();
                    if let Some(next) = doc.sync().generate_sync_message(&mut state) {
                        self.send(&self.doc_msg(id, next.encode(), false)).await;
                        outstanding += 1;
                    }
                }
                Message::Ack { .. } => {
                    outstanding -= 1;
                    if outstanding == 0 {
                        match doc.sync().generate_sync_message(&mut state) {
                            Some(next) => {
                                self.send(&self.doc_msg(id, next.encode(), false)).await;
                                outstanding += 1;
                            }
                            None => return seen,
                        }
                    }
                }
                Message::DocUnavailable { .. } | Message::Reject { .. } | Message::Doc { .. } => {
                    return seen
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}
