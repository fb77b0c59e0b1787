//! Rules that hold whatever a client sends (`CF-RULE-BREACH`, `RK-ATTRIB`): a modified client
//! — a raw automerge peer over the real server, holding a valid device token — approves as an
//! AP, approves its own request, edits a signed record or writes a change naming another
//! user. The change is kept (convergence needs it), the server records its true author and
//! writes a flag into the record as the `system` actor, and a second device sees at its next
//! sync the flag with its rule ID and the true author, a request that is not approved, and a
//! history that names the true author.

use std::sync::Arc;

use automerge::{
    sync::{self, SyncDoc},
    transaction::{CommitOptions, Transactable},
    AutoCommit, ChangeHash, ObjType, ReadDoc, ROOT,
};
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use homevisit_core::{
    doc::{self, signing::Flag, Attribution},
    model::{
        common::{Schema, Service},
        equipment::{Category, EquipmentRequest, Status},
        user::Role,
    },
    records::{Clock, FieldValue, Records},
    rules::{config::RulesConfig, workflow, workflow::TransitionInput},
    sync::protocol::{HomeVisitMetadata, Message, PeerMetadata},
    RecordId,
};
use homevisit_server::{admin, ServerStore};
use homevisit_tests::{device::Device, TestServer, TestTeam};
use serde_json::json;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    tungstenite::{client::IntoClientRequest, Message as Ws},
    MaybeTlsStream, WebSocketStream,
};
use uuid::Uuid;

#[derive(Debug)]
struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A modified client: a raw automerge-repo peer with a valid device token that writes
/// whatever it likes into documents.
struct RawPeer {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    peer: String,
    server: String,
}

impl RawPeer {
    async fn connect(server: &TestServer, token: &str) -> Self {
        let mut req = server.url().into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
        let mut p = RawPeer {
            ws,
            peer: format!("raw-{}", Uuid::new_v4()),
            server: String::new(),
        };
        p.send(&Message::Join {
            sender_id: p.peer.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: Some(true),
                homevisit: Some(HomeVisitMetadata::all()),
            }),
        })
        .await;
        match p.recv().await {
            Some(Message::Peer { sender_id, .. }) => p.server = sender_id,
            other => panic!("expected peer, got {other:?}"),
        }
        p
    }

    async fn send(&mut self, msg: &Message) {
        self.ws
            .send(Ws::Binary(msg.encode().unwrap().into()))
            .await
            .unwrap();
    }

    async fn recv(&mut self) -> Option<Message> {
        loop {
            match self.ws.next().await? {
                Ok(Ws::Binary(b)) => return Some(Message::decode(&b).unwrap()),
                Ok(Ws::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    fn msg(&self, id: RecordId, data: Vec<u8>, request: bool) -> Message {
        let (sender_id, target_id, document_id) = (self.peer.clone(), self.server.clone(), id);
        if request {
            Message::Request {
                sender_id,
                target_id,
                document_id,
                data,
            }
        } else {
            Message::Sync {
                sender_id,
                target_id,
                document_id,
                data,
            }
        }
    }

    /// Runs the automerge sync protocol for one document until both sides are quiet (the
    /// server answers every request/sync with an optional sync and one `hv-ack`).
    async fn sync_doc(&mut self, id: RecordId, doc: &mut AutoCommit) {
        let mut state = sync::State::new();
        let first = doc.sync().generate_sync_message(&mut state).unwrap();
        self.send(&self.msg(id, first.encode(), true)).await;
        let mut outstanding = 1;
        loop {
            match self.recv().await.expect("connection closed during sync") {
                Message::Doc { data, .. } => {
                    doc.load_incremental(&data).unwrap();
                    return;
                }
                Message::Sync { data, .. } => {
                    let m = sync::Message::decode(&data).unwrap();
                    doc.sync().receive_sync_message(&mut state, m).unwrap();
                    if let Some(next) = doc.sync().generate_sync_message(&mut state) {
                        self.send(&self.msg(id, next.encode(), false)).await;
                        outstanding += 1;
                    }
                }
                Message::Ack { .. } => {
                    outstanding -= 1;
                    if outstanding == 0 {
                        match doc.sync().generate_sync_message(&mut state) {
                            Some(next) => {
                                self.send(&self.msg(id, next.encode(), false)).await;
                                outstanding += 1;
                            }
                            None => return,
                        }
                    }
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The server's copy of a document.
    async fn fetch(&mut self, id: RecordId) -> AutoCommit {
        let mut doc = AutoCommit::new();
        self.sync_doc(id, &mut doc).await;
        assert!(!doc.get_heads().is_empty(), "the server has {id}");
        doc
    }
}

/// Who a raw peer is on the server.
struct Identity {
    user_id: Uuid,
    device_id: Uuid,
    token: String,
}

async fn ap_of(server: &TestServer, team: &TestTeam) -> Identity {
    let store = &*server.app.store;
    let user_id = admin::add_user(store, team.id, "Ayo Bello", "ap", None, None)
        .await
        .unwrap();
    let (device_id, token) = admin::add_device(store, user_id, "modified tablet")
        .await
        .unwrap();
    Identity {
        user_id,
        device_id,
        token,
    }
}

async fn second_device_of_the_ot(server: &TestServer, team: &TestTeam) -> Identity {
    let (device_id, token) = admin::add_device(&*server.app.store, team.ot, "second tablet")
        .await
        .unwrap();
    Identity {
        user_id: team.ot,
        device_id,
        token,
    }
}

fn records(device: &Device) -> Records {
    Records::new(
        Arc::clone(&device.store),
        device.actor.clone(),
        RulesConfig::default(),
        Arc::new(WallClock),
    )
}

/// A bathing-aids request the OT on `device` submits (W1, W2), synced to the server.
async fn submitted_request(device: &Device) -> RecordId {
    let r = records(device);
    let child = r
        .create_child("Amara", "Okafor", "2016-05-01".parse().unwrap())
        .unwrap();
    let req = r
        .create_equipment_request(child, Service::Health, Category::BathingAids)
        .unwrap();
    let mut item = serde_json::Map::new();
    item.insert("description".into(), json!("Bath seat"));
    item.insert("quantity".into(), json!(1));
    r.add_item(req, "items", item).unwrap();
    r.set_text(
        req,
        "clinical_justification",
        "Cannot sit unsupported in the bath",
    )
    .unwrap();
    let today = Utc::now().date_naive().to_string();
    for (key, v) in [("weight_kg", 324), ("bath_rim_height_mm", 550)] {
        r.set_field(
            req,
            &format!("measurements.{key}.value"),
            FieldValue::Int(v),
        )
        .unwrap();
        r.set_field(
            req,
            &format!("measurements.{key}.measured_on"),
            FieldValue::Str(today.clone()),
        )
        .unwrap();
    }
    r.transition(req, Status::Submitted, TransitionInput::at(Utc::now()))
        .unwrap();
    device.sync().await.unwrap();
    req
}

/// Commits `f`'s writes with `RK-ATTRIB` metadata naming `user`/`role`/`device`.
fn commit_as(
    doc: &mut AutoCommit,
    user: Uuid,
    role: &str,
    device: Uuid,
    action: &str,
) -> ChangeHash {
    let at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    doc.commit_with(CommitOptions::default().with_message(format!(
        r#"{{"user_id":"{user}","role":"{role}","device_id":"{device}","action":"{action}","at":"{at}"}}"#
    )))
    .unwrap()
}

/// Writes an approval (submitted → approved) naming `user`/`role`/`device`, as a modified
/// client would: straight into the `transitions` item map.
fn write_approval(
    doc: &mut AutoCommit,
    user: Uuid,
    role: &str,
    device: Uuid,
) -> (Uuid, ChangeHash) {
    let json = doc::to_json(doc).unwrap();
    let req: EquipmentRequest = serde_json::from_value(json).unwrap();
    let head = workflow::derive(&req).head.unwrap();
    let (_, transitions) = doc.get(ROOT, "transitions").unwrap().unwrap();
    let item_id = Uuid::new_v4();
    let t = doc
        .put_object(&transitions, item_id.to_string(), ObjType::Map)
        .unwrap();
    let at = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    for (k, v) in [
        ("item_id", item_id.to_string()),
        ("added_at", at.clone()),
        ("added_by", user.to_string()),
        ("from", "submitted".into()),
        ("to", "approved".into()),
        ("follows", head.to_string()),
        ("user_id", user.to_string()),
        ("role", role.into()),
        ("device_id", device.to_string()),
        ("at", at.clone()),
    ] {
        doc.put(&t, k, v).unwrap();
    }
    let hash = commit_as(doc, user, role, device, "transition");
    (item_id, hash)
}

fn flags_on(device: &Device, id: RecordId) -> Vec<Flag> {
    device.store.read(id, |d| doc::signing::flags(d)).unwrap()
}

fn status_on(device: &Device, id: RecordId) -> String {
    let req: EquipmentRequest = records(device).typed(id).unwrap();
    workflow::status(&req).code().to_owned()
}

fn history_author(device: &Device, id: RecordId, hash: ChangeHash) -> (Option<Uuid>, Option<Role>) {
    let history = device.store.read(id, doc::history).unwrap();
    let entry = history
        .iter()
        .find(|e| e.hash == hash.to_string())
        .expect("the change is in the history");
    (entry.attribution.user_id(), entry.attribution.role())
}

async fn setup() -> (TestServer, TestTeam, Device) {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let ot = Device::join(&server, &team).await;
    (server, team, ot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eq_role_an_ap_approval_from_a_modified_client_is_kept_flagged_and_does_not_approve() {
    let (server, team, ot) = setup().await;
    let req = submitted_request(&ot).await;
    let ap = ap_of(&server, &team).await;

    let mut peer = RawPeer::connect(&server, &ap.token).await;
    let mut d = peer.fetch(req).await;
    let (item, hash) = write_approval(&mut d, ap.user_id, "ap", ap.device_id);
    peer.sync_doc(req, &mut d).await;

    // Kept: the server's copy holds the change, with its true author on record.
    let stored = server.document(&team, req).await.unwrap();
    assert!(
        stored.get_change_by_hash(&hash).is_some(),
        "the change is kept"
    );
    let receipt = server
        .app
        .store
        .change_receipt(team.id, hash)
        .await
        .unwrap()
        .expect("the server keeps who delivered the change");
    assert_eq!(
        (receipt.device_id, receipt.user_id),
        (ap.device_id, ap.user_id)
    );

    let second = Device::join(&server, &team).await;
    second.sync().await.unwrap();
    let flags = flags_on(&second, req);
    let flag = flags
        .iter()
        .find(|f| f.rule_id == "EQ-ROLE")
        .unwrap_or_else(|| panic!("EQ-ROLE flag reaches the second device: {flags:?}"));
    assert_eq!(flag.change_hash, hash.to_string());
    assert_eq!(flag.item, Some(item));
    let author = flag
        .author
        .as_ref()
        .expect("the flag names the true author");
    assert_eq!(
        (author.user_id, author.role, author.device_id),
        (ap.user_id, Role::Ap, ap.device_id)
    );
    assert_eq!(
        status_on(&second, req),
        "submitted",
        "a flagged approval does not approve"
    );
    // The record's view, its list row and the caseload show it.
    let view = records(&second).view(req).unwrap();
    assert!(
        view.flags.iter().any(|f| f.rule_id == "EQ-ROLE"),
        "{:?}",
        view.flags
    );
    let row = second.store.record_summary(req).unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.flag_count > 0),
        ("submitted", true)
    );
    let caseload = second.store.caseload().unwrap();
    assert_eq!(caseload.len(), 1);
    assert_eq!(caseload[0].flagged_count, 1, "{caseload:?}");
    assert_eq!(
        history_author(&second, req, hash),
        (Some(ap.user_id), Some(Role::Ap))
    );
    // The first device too, at its next sync; and the caseload row shows the status.
    ot.sync().await.unwrap();
    assert_eq!(status_on(&ot, req), "submitted");
    assert!(flags_on(&ot, req).iter().any(|f| f.rule_id == "EQ-ROLE"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rk_attrib_a_change_naming_another_user_is_flagged_with_its_true_author() {
    let (server, team, ot) = setup().await;
    let req = submitted_request(&ot).await;
    let ap = ap_of(&server, &team).await;

    // The AP's modified tablet approves in the OT's name, role and device.
    let mut peer = RawPeer::connect(&server, &ap.token).await;
    let mut d = peer.fetch(req).await;
    let (item, hash) = write_approval(&mut d, team.ot, "ot", ot.actor.device_id);
    peer.sync_doc(req, &mut d).await;

    let second = Device::join(&server, &team).await;
    second.sync().await.unwrap();
    let flags = flags_on(&second, req);
    let attrib: Vec<&Flag> = flags.iter().filter(|f| f.rule_id == "RK-ATTRIB").collect();
    assert!(!attrib.is_empty(), "{flags:?}");
    for f in &attrib {
        assert_eq!(f.change_hash, hash.to_string());
        assert_eq!(f.author.as_ref().map(|a| a.user_id), Some(ap.user_id));
    }
    assert!(
        attrib.iter().any(|f| f.item == Some(item)),
        "the transition itself is flagged"
    );
    // Judged as the AP it really is.
    assert!(flags.iter().any(|f| f.rule_id == "EQ-ROLE"), "{flags:?}");
    assert_eq!(status_on(&second, req), "submitted");
    // The history names the AP, not the OT the change claims.
    assert_eq!(
        history_author(&second, req, hash),
        (Some(ap.user_id), Some(Role::Ap))
    );
    let history = second.store.read(req, doc::history).unwrap();
    let entry = history.iter().find(|e| e.hash == hash.to_string()).unwrap();
    assert!(
        matches!(&entry.claimed, Some(Attribution::By(m)) if m.user_id == team.ot),
        "the claimed author is kept beside the true one: {entry:?}"
    );
    assert!(entry.flags.iter().any(|r| r == "RK-ATTRIB"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eq_approve_self_a_requester_approving_their_own_request_is_flagged() {
    let (server, team, ot) = setup().await;
    let req = submitted_request(&ot).await;
    // The requesting OT's other tablet, modified, approves the OT's own request.
    let me = second_device_of_the_ot(&server, &team).await;
    let mut peer = RawPeer::connect(&server, &me.token).await;
    let mut d = peer.fetch(req).await;
    let (item, hash) = write_approval(&mut d, me.user_id, "ot", me.device_id);
    peer.sync_doc(req, &mut d).await;

    let second = Device::join(&server, &team).await;
    second.sync().await.unwrap();
    let flags = flags_on(&second, req);
    let flag = flags
        .iter()
        .find(|f| f.rule_id == "EQ-APPROVE-SELF")
        .unwrap_or_else(|| panic!("{flags:?}"));
    assert_eq!(
        (flag.change_hash.as_str(), flag.item),
        (hash.to_string().as_str(), Some(item))
    );
    assert_eq!(
        flag.author.as_ref().map(|a| a.device_id),
        Some(me.device_id)
    );
    assert!(
        !flags.iter().any(|f| f.rule_id == "RK-ATTRIB"),
        "truthfully attributed: {flags:?}"
    );
    assert_eq!(status_on(&second, req), "submitted");
    assert_eq!(
        history_author(&second, req, hash),
        (Some(me.user_id), Some(Role::Ot))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rk_sign_lock_an_edit_of_a_signed_record_from_a_modified_client_is_flagged() {
    let (server, team, ot) = setup().await;
    let child = ot.create_child("Amara");
    let ra = RecordId::new();
    let now = Utc::now();
    let mut d = doc::create(
        Schema::RiskAssessment,
        ra,
        team.id,
        Some(child),
        &ot.actor,
        now,
    )
    .unwrap();
    doc::sign(&mut d, &ot.actor, now).unwrap();
    ot.store.create(ra, d).unwrap();
    ot.sync().await.unwrap();

    let ap = ap_of(&server, &team).await;
    let mut peer = RawPeer::connect(&server, &ap.token).await;
    let mut d = peer.fetch(ra).await;
    d.put(ROOT, "review_date", "2030-01-01").unwrap();
    let hash = commit_as(&mut d, ap.user_id, "ap", ap.device_id, "edit");
    peer.sync_doc(ra, &mut d).await;

    let second = Device::join(&server, &team).await;
    second.sync().await.unwrap();
    let flags = flags_on(&second, ra);
    let flag = flags
        .iter()
        .find(|f| f.rule_id == "RK-SIGN-LOCK" && f.change_hash == hash.to_string())
        .unwrap_or_else(|| panic!("{flags:?}"));
    assert_eq!(flag.author.as_ref().map(|a| a.user_id), Some(ap.user_id));
    // The signed view is what was signed: the edit is kept but not applied.
    let signed = second.store.read(ra, |d| doc::signed_view(d)).unwrap();
    assert_ne!(signed["review_date"], json!("2030-01-01"));
    assert_eq!(
        history_author(&second, ra, hash),
        (Some(ap.user_id), Some(Role::Ap))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_approval_is_not_flagged_and_approves_everywhere() {
    let (server, team, ot) = setup().await;
    let req = submitted_request(&ot).await;
    // A second OT approves through the record service, as the app does.
    let store = &*server.app.store;
    let ot2 = admin::add_user(
        store,
        team.id,
        "Kim Shah",
        "ot",
        Some("OT54321".into()),
        "2030-01-01".parse().ok(),
    )
    .await
    .unwrap();
    let approver = Device::join_as(
        &server,
        &team,
        ot2,
        Role::Ot,
        Some("OT54321".into()),
        "2030-01-01".parse().ok(),
    )
    .await;
    approver.sync().await.unwrap();
    records(&approver)
        .transition(req, Status::Approved, TransitionInput::at(Utc::now()))
        .unwrap();
    approver.sync().await.unwrap();
    ot.sync().await.unwrap();
    assert_eq!(flags_on(&ot, req), Vec::new());
    assert_eq!(status_on(&ot, req), "approved");
    let row = ot.store.record_summary(req).unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.flag_count), ("approved", 0));
    assert_eq!(ot.store.caseload().unwrap()[0].flagged_count, 0);
    assert!(server
        .app
        .store
        .flags(team.id, Some(req))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cf_rule_breach_a_flag_forged_by_a_modified_client_is_itself_flagged() {
    let (server, team, ot) = setup().await;
    let req = submitted_request(&ot).await;
    let ap = ap_of(&server, &team).await;
    let mut peer = RawPeer::connect(&server, &ap.token).await;
    let mut d = peer.fetch(req).await;
    // A made-up "server" flag, in the system actor's name.
    let (_, flags) = d.get(ROOT, "flags").unwrap().unwrap();
    let fake = d
        .put_object(&flags, Uuid::new_v4().to_string(), ObjType::Map)
        .unwrap();
    d.put(&fake, "rule_id", "EQ-ROLE").unwrap();
    d.put(&fake, "added_by", Uuid::nil().to_string()).unwrap();
    let hash = commit_as(&mut d, Uuid::nil(), "system", Uuid::nil(), "edit");
    peer.sync_doc(req, &mut d).await;

    let second = Device::join(&server, &team).await;
    second.sync().await.unwrap();
    let history = second.store.read(req, doc::history).unwrap();
    let entry = history.iter().find(|e| e.hash == hash.to_string()).unwrap();
    assert!(
        entry.flags.iter().any(|r| r == "CF-RULE-BREACH"),
        "{entry:?}"
    );
    assert!(entry.flags.iter().any(|r| r == "RK-ATTRIB"), "{entry:?}");
    assert_eq!(
        entry.attribution.user_id(),
        Some(ap.user_id),
        "the forger is named"
    );
}
