//! Shared helpers for the cross-crate integration tests in `tests/tests/`: the real team server
//! started in-process on `127.0.0.1:0` with a temporary data directory, its admin commands,
//! and loopback proxies (fault injection, TLS termination) that sit between a device and it.
//!
//! Helpers panic on failure: they only ever run inside tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod cli;
pub mod device;
pub mod fuzz;
pub mod pg;
pub mod proxy;
pub mod tls;

use std::net::SocketAddr;

use automerge::Automerge;
use homevisit_core::RecordId;
use homevisit_server::{admin, AnyStore, App, Location, ServerConfig, ServerStore, SqliteStore};
use tempfile::TempDir;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// The real team server, serving on a loopback port until dropped: on its own embedded SQLite
/// database by default, or (`TestServer<AnyStore>`) on any storage, such as a PostgreSQL
/// database that several instances share.
pub struct TestServer<S = SqliteStore> {
    /// The running application.
    pub app: App<S>,
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    _dir: Option<TempDir>,
}

impl<S> std::fmt::Debug for TestServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish()
    }
}

/// A team and its first user, an HCPC-registered OT.
#[derive(Debug, Clone)]
pub struct TestTeam {
    /// The team id (the `team_id` at the root of its records).
    pub id: Uuid,
    /// The OT's user id.
    pub ot: Uuid,
}

impl TestServer {
    /// Starts a server with the default limits.
    pub async fn start() -> Self {
        Self::with_config(ServerConfig::default()).await
    }

    /// Starts a server with `config`.
    pub async fn with_config(config: ServerConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        serve_on(store, config, Some(dir)).await
    }
}

impl TestServer<AnyStore> {
    /// Starts a server instance on the storage at `location` (several instances may share a
    /// PostgreSQL database).
    pub async fn on(location: &Location, config: ServerConfig) -> Self {
        let store = AnyStore::open(location).await.unwrap();
        serve_on(store, config, None).await
    }
}

async fn serve_on<S: ServerStore>(
    store: S,
    config: ServerConfig,
    dir: Option<TempDir>,
) -> TestServer<S> {
    let app = App::new(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = app.clone();
    let task = tokio::spawn(async move {
        let _ = homevisit_server::serve(listener, serving).await;
    });
    TestServer {
        app,
        addr,
        task,
        _dir: dir,
    }
}

impl<S: ServerStore> TestServer<S> {
    /// Starts a server over an already opened store.
    pub async fn over(store: S, config: ServerConfig) -> Self {
        serve_on(store, config, None).await
    }

    /// The data directory of a server started with [`TestServer::start`] or
    /// [`TestServer::with_config`] (its embedded database is `homevisit-server.db` there).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self._dir.as_ref().map(TempDir::path)
    }

    /// The WebSocket endpoint (`ws://127.0.0.1:port/sync`).
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    /// Creates a team with one OT.
    pub async fn team(&self, name: &str) -> TestTeam {
        let store = &*self.app.store;
        let id = admin::add_team(store, name).await.unwrap();
        let ot = admin::add_user(
            store,
            id,
            "Olu Adebayo",
            "ot",
            Some("OT12345".into()),
            chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
        )
        .await
        .unwrap();
        TestTeam { id, ot }
    }

    /// Registers a new device for the team's OT; returns its token.
    pub async fn device_token(&self, team: &TestTeam) -> String {
        self.device_credentials(team).await.1
    }

    /// Registers a new device for the team's OT; returns its device id and token.
    pub async fn device_credentials(&self, team: &TestTeam) -> (Uuid, String) {
        admin::add_device(&*self.app.store, team.ot, "tablet")
            .await
            .unwrap()
    }

    /// Revokes the device holding `token`.
    pub async fn revoke(&self, token: &str) {
        admin::revoke_device(&*self.app.store, token).await.unwrap();
    }

    /// The server's committed copy of a record, if the team has it.
    pub async fn document(&self, team: &TestTeam, id: RecordId) -> Option<Automerge> {
        let stored = self.app.store.load_document(team.id, id).await.unwrap()?;
        let mut doc = Automerge::new();
        for chunk in &stored.chunks {
            doc.load_incremental(chunk).unwrap();
        }
        Some(doc)
    }
}

impl<S> Drop for TestServer<S> {
    fn drop(&mut self) {
        self.task.abort();
    }
}
