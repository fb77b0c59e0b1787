//! A device: the real encrypted local store in a temporary directory, a sync client for it, and
//! the acting OT. Records are made and edited through the document layer (`homevisit_core::doc`)
//! exactly as the apps do, so every change carries its `RK-ATTRIB` metadata.

use std::sync::Arc;

use automerge::ChangeHash;
use chrono::Utc;
use homevisit_core::{
    doc::{self, Conflict, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    store::{Encryption, Store, StoreKey, StoreOptions, SyncStatus},
    sync::{SyncClient, SyncConfig, SyncReport},
    RecordId, Result,
};
use tempfile::TempDir;

use homevisit_server::ServerStore;

use crate::{TestServer, TestTeam};

/// One tablet. Cloning gives another handle on the same store and client.
#[derive(Clone)]
pub struct Device {
    /// The device's local store.
    pub store: Arc<Store>,
    /// Its sync client.
    pub client: Arc<SyncClient<Store>>,
    /// Its device token.
    pub token: String,
    /// The OT using it.
    pub actor: Actor,
    dir: Arc<TempDir>,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("device_id", &self.actor.device_id)
            .finish()
    }
}

impl Device {
    /// A new device of `team`, registered on `server`, syncing with it directly.
    pub async fn join<S: ServerStore>(server: &TestServer<S>, team: &TestTeam) -> Self {
        Self::join_via(server, team, server.url(), SyncConfig::default()).await
    }

    /// A new device of `team` registered on `server` that reaches it at `url` (a proxy).
    pub async fn join_via<S: ServerStore>(
        server: &TestServer<S>,
        team: &TestTeam,
        url: String,
        config: SyncConfig,
    ) -> Self {
        Self::join_with(server, team, url, config, StoreOptions::default()).await
    }

    /// [`Device::join_via`] with explicit store tuning (a small document cache, say).
    pub async fn join_with<S: ServerStore>(
        server: &TestServer<S>,
        team: &TestTeam,
        url: String,
        config: SyncConfig,
        options: StoreOptions,
    ) -> Self {
        // The device's identity is the server's: its changes name the device id the server
        // registered, as the apps' do (`RK-ATTRIB`).
        let (device_id, token) = server.device_credentials(team).await;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create_new_with(
            dir.path().join("device.db"),
            Encryption::Key(StoreKey::Raw([7u8; 32])),
            options,
        )
        .unwrap();
        let store = Arc::new(store);
        let client =
            SyncClient::with_config(url, token.clone(), Arc::clone(&store), config).unwrap();
        Self {
            store,
            client: Arc::new(client),
            token,
            actor: Actor {
                user_id: team.ot,
                role: Role::Ot,
                device_id,
                team_id: team.id,
                hcpc_number: Some("OT12345".into()),
                hcpc_verified_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
            },
            dir: Arc::new(dir),
        }
    }

    /// A new device of another user of `team`, registered on `server` for `user_id`; its
    /// actor carries the user's role and HCPC registration as the server's tables hold them.
    pub async fn join_as(
        server: &TestServer,
        team: &TestTeam,
        user_id: uuid::Uuid,
        role: Role,
        hcpc_number: Option<String>,
        hcpc_verified_until: Option<chrono::NaiveDate>,
    ) -> Self {
        let (device_id, token) =
            homevisit_server::admin::add_device(&*server.app.store, user_id, "tablet")
                .await
                .unwrap();
        let device = Self::join(server, team).await;
        let client = SyncClient::with_config(
            server.url(),
            token.clone(),
            Arc::clone(&device.store),
            SyncConfig::default(),
        )
        .unwrap();
        Self {
            client: Arc::new(client),
            token,
            actor: Actor {
                user_id,
                role,
                device_id,
                team_id: team.id,
                hcpc_number,
                hcpc_verified_until,
            },
            ..device
        }
    }

    /// The same store with a new client (as after an app restart), reaching the server at
    /// `url`.
    pub fn reconnect(device: &Device, url: String, config: SyncConfig) -> Self {
        Self::with_token(device, url, &device.token, config)
    }

    /// The same store with a new client using `token`.
    pub fn with_token(device: &Device, url: String, token: &str, config: SyncConfig) -> Self {
        let client =
            SyncClient::with_config(url, token.to_string(), Arc::clone(&device.store), config)
                .unwrap();
        Self {
            client: Arc::new(client),
            token: token.to_string(),
            ..device.clone()
        }
    }

    /// The store's directory.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// One sync session.
    pub async fn sync(&self) -> Result<SyncReport> {
        self.client.sync(|_| {}).await
    }

    /// Creates a child record with `given_name`.
    pub fn create_child(&self, given_name: &str) -> RecordId {
        let id = RecordId::new();
        let mut d = doc::create(
            Schema::Child,
            id,
            self.actor.team_id,
            None,
            &self.actor,
            Utc::now(),
        )
        .unwrap();
        doc::set_scalar(
            &mut d,
            "given_name",
            Scalar::Str(given_name.into()),
            &self.actor,
            Utc::now(),
        )
        .unwrap();
        self.store.create(id, d).unwrap();
        id
    }

    /// Creates `n` child records in one transaction.
    pub fn create_children(&self, n: usize) -> Vec<RecordId> {
        let docs: Vec<_> = (0..n)
            .map(|i| {
                let id = RecordId::new();
                let mut d = doc::create(
                    Schema::Child,
                    id,
                    self.actor.team_id,
                    None,
                    &self.actor,
                    Utc::now(),
                )
                .unwrap();
                doc::set_scalar(
                    &mut d,
                    "given_name",
                    Scalar::Str(format!("Child {i}")),
                    &self.actor,
                    Utc::now(),
                )
                .unwrap();
                (id, d)
            })
            .collect();
        let ids = docs.iter().map(|(id, _)| *id).collect();
        self.store.create_batch(docs).unwrap();
        ids
    }

    /// Sets a string field.
    pub fn set_str(&self, id: RecordId, path: &str, value: &str) {
        let actor = self.actor.clone();
        self.store
            .edit(id, |d| {
                doc::set_scalar(d, path, Scalar::Str(value.into()), &actor, Utc::now())
            })
            .unwrap();
    }

    /// Adds an alert (a `CF-LIST` item with free text).
    pub fn add_alert(&self, id: RecordId, text: &str) {
        let actor = self.actor.clone();
        let mut fields = serde_json::Map::new();
        fields.insert("text".into(), serde_json::Value::String(text.into()));
        self.store
            .edit(id, |d| {
                doc::add_item(d, "alerts", fields, &actor, Utc::now())
            })
            .unwrap();
    }

    /// A string field's current value.
    pub fn get_str(&self, id: RecordId, path: &str) -> Option<String> {
        self.store
            .read(id, |d| doc::value_at(d, path, None))
            .unwrap()
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// The texts of the record's alerts.
    pub fn alert_texts(&self, id: RecordId) -> Vec<String> {
        let json = self.store.read(id, |d| doc::to_json(d)).unwrap();
        let mut texts: Vec<String> = json["alerts"]
            .as_object()
            .map(|items| {
                items
                    .values()
                    .filter_map(|item| item["text"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        texts.sort();
        texts
    }

    /// The record's open conflicts (`CF-CLINICAL`).
    pub fn conflicts(&self, id: RecordId) -> Vec<Conflict> {
        self.store.read(id, doc::conflicts).unwrap()
    }

    /// The record's heads, sorted.
    pub fn heads(&self, id: RecordId) -> Vec<ChangeHash> {
        let mut heads = self.store.local_heads(id).unwrap().unwrap_or_default();
        heads.sort();
        heads
    }

    /// Whether the device has every change in `heads` of the record.
    pub fn has_heads(&self, id: RecordId, heads: &[ChangeHash]) -> bool {
        self.store.has_heads(id, heads).unwrap()
    }

    /// Whether the record is on the device.
    pub fn has_record(&self, id: RecordId) -> bool {
        self.store.contains(id).unwrap()
    }

    /// The record's sync status.
    pub fn status(&self, id: RecordId) -> SyncStatus {
        self.store.sync_status(id).unwrap()
    }

    /// Every record on the device, sorted.
    pub fn record_ids(&self) -> Vec<RecordId> {
        let mut ids = self.store.ids().unwrap();
        ids.sort();
        ids
    }

    /// Records with unacknowledged local changes, sorted.
    pub fn unsynced(&self) -> Vec<RecordId> {
        let mut ids = self.store.unsynced_ids().unwrap();
        ids.sort();
        ids
    }
}

/// Every device holds the same records with identical heads, equal to the server's committed
/// heads, and none has an unacknowledged change.
pub async fn assert_converged<S: ServerStore>(
    devices: &[&Device],
    server: &TestServer<S>,
    team: &TestTeam,
) {
    let ids = devices[0].record_ids();
    for d in devices {
        assert_eq!(d.record_ids(), ids, "same records on every device");
        assert!(d.unsynced().is_empty(), "nothing left unacknowledged");
    }
    for id in ids {
        let heads = devices[0].heads(id);
        for d in devices {
            assert_eq!(
                d.heads(id),
                heads,
                "record {id}: same heads on every device"
            );
            assert!(matches!(
                d.status(id),
                SyncStatus::Synced | SyncStatus::Conflict
            ));
        }
        let mut server_heads = server
            .document(team, id)
            .await
            .unwrap_or_else(|| panic!("record {id} is not on the server"))
            .get_heads();
        server_heads.sort();
        assert_eq!(
            server_heads, heads,
            "record {id}: the server has the same heads"
        );
    }
}
