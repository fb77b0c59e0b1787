//! [`ServerStore`] on PostgreSQL (`--database postgres://…`, ADR 0016): several stateless server
//! instances share one database.
//!
//! - A pool of connections (deadpool-postgres over tokio-postgres), each with a statement
//!   timeout, so a stuck query fails one request instead of holding a connection for ever.
//! - Versioned migrations in one transaction under an advisory lock: instances starting
//!   together do not race.
//! - `commit_document` locks the team row (`UPDATE teams … RETURNING last_seq`) for the
//!   transaction, so a team's sequence numbers commit in order on every instance and a reader
//!   never sees number 11 without number 10. The optimistic check on the document's sequence
//!   number (ADR 0008) makes a writer with a stale copy fail with `Conflict` rather than lose a
//!   commit.
//! - The commit sends `NOTIFY homevisit_changes` in the same transaction; every instance
//!   listens and hears of every commit once it is durable ([`StoreEvent`]).

use std::time::Duration;

use automerge::ChangeHash;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use futures_util::StreamExt;
use homevisit_core::{model::user::Role, RecordId};
use tokio::sync::broadcast;
use tokio_postgres::{error::SqlState, AsyncMessage, NoTls, Row};
use uuid::Uuid;

use crate::store::{
    blob_slice, heads_from_bytes, heads_to_bytes, BlobAppend, BlobHash, BlobOffer, BlobRead,
    ChangePage, ChangeReceipt, DeviceAuth, DeviceId, DocumentCommit, Flag, NewFlag, NewUser,
    RevokeBy, ServerStore, StoreError, StoreEvent, StoreResult, StoredDocument, TeamId, UserId,
};

/// The channel every instance listens on for commits made through any instance.
pub const CHANGES_CHANNEL: &str = "homevisit_changes";

/// Connections in each instance's pool.
const POOL_SIZE: usize = 16;

/// A statement that runs longer than this fails (and its request with it).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Schema migrations; entry `n` brings the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE teams (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE users (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams(id),
    name text NOT NULL,
    role text NOT NULL,
    hcpc_number text,
    hcpc_verified_until date,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE devices (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users(id),
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE TABLE documents (
    team_id uuid NOT NULL REFERENCES teams(id),
    doc_id bytea NOT NULL,
    heads bytea NOT NULL,
    seq bigint NOT NULL,
    size_bytes bigint NOT NULL,
    next_chunk bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, doc_id)
);
CREATE INDEX documents_by_seq ON documents(team_id, seq);
CREATE TABLE document_chunks (
    team_id uuid NOT NULL,
    doc_id bytea NOT NULL,
    n bigint NOT NULL,
    bytes bytea NOT NULL,
    PRIMARY KEY (team_id, doc_id, n),
    FOREIGN KEY (team_id, doc_id) REFERENCES documents(team_id, doc_id)
);
CREATE TABLE quarantine (
    id bigserial PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams(id),
    doc_id bytea NOT NULL,
    bytes_sha256 bytea NOT NULL,
    bytes bytea NOT NULL,
    reason text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, doc_id, bytes_sha256)
);
CREATE TABLE flags (
    id bigserial PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams(id),
    doc_id bytea NOT NULL,
    seq bigint NOT NULL,
    rule_id text NOT NULL,
    change_hash bytea,
    detail text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX flags_by_doc ON flags(team_id, doc_id);
CREATE TABLE sync_states (
    device_id uuid NOT NULL REFERENCES devices(id),
    doc_id bytea NOT NULL,
    state bytea NOT NULL,
    PRIMARY KEY (device_id, doc_id)
);
"#,
    // Step 2: who delivered each change (RK-ATTRIB) and the list item a flag is about.
    r#"
CREATE TABLE change_receipts (
    team_id uuid NOT NULL REFERENCES teams(id),
    change_hash bytea NOT NULL,
    doc_id bytea NOT NULL,
    device_id uuid NOT NULL,
    user_id uuid NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (team_id, change_hash)
);
ALTER TABLE flags ADD COLUMN item uuid;
"#,
    // Step 3: the team console's tables (console/postgres.rs).
    crate::console::postgres::CONSOLE_SCHEMA,
    // Step 4: attachment bytes per team, content-addressed (ADR 0021).
    r#"
CREATE TABLE blobs (
    team_id uuid NOT NULL REFERENCES teams(id),
    hash bytea NOT NULL,
    size bigint NOT NULL,
    media_type text NOT NULL,
    received bigint NOT NULL DEFAULT 0,
    complete boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (team_id, hash)
);
CREATE TABLE blob_chunks (
    team_id uuid NOT NULL,
    hash bytea NOT NULL,
    start bigint NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (team_id, hash, start),
    FOREIGN KEY (team_id, hash) REFERENCES blobs(team_id, hash)
);
"#,
];

/// The PostgreSQL-backed store of one server instance.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    /// This instance, named in the notifications it sends so it can skip its own.
    instance: Uuid,
    events: broadcast::Sender<StoreEvent>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("instance", &self.instance)
            .field("pool", &self.pool.status())
            .finish()
    }
}

pub(crate) fn backend(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::PROGRAM_LIMIT_EXCEEDED => {
            StoreError::Full(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => backend(e),
        other => StoreError::Backend(format!("database pool: {other}")),
    }
}

pub(crate) fn doc_from_bytes(b: &[u8]) -> StoreResult<RecordId> {
    <[u8; 16]>::try_from(b)
        .map(RecordId::from_bytes)
        .map_err(|_| StoreError::Corrupt("document id bytes".into()))
}

pub(crate) fn u64_from(v: i64) -> StoreResult<u64> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative counter {v}")))
}

fn i64_from(v: u64) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Backend(format!("counter {v} out of range")))
}

fn device_auth(row: &Row) -> StoreResult<DeviceAuth> {
    let role: String = row.get(3);
    let revoked_at: Option<DateTime<Utc>> = row.get(6);
    Ok(DeviceAuth {
        device_id: row.get(0),
        user_id: row.get(1),
        team_id: row.get(2),
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        hcpc_number: row.get(4),
        hcpc_verified_until: row.get(5),
        revoked: revoked_at.is_some(),
    })
}

const DEVICE_SELECT: &str = "SELECT d.id, u.id, u.team_id, u.role, u.hcpc_number,
     u.hcpc_verified_until, d.revoked_at
     FROM devices d JOIN users u ON u.id = d.user_id";

/// Bytes of a team's attachments that count towards its quota: complete ones in full,
/// partial ones as far as they are received.
async fn pg_blob_usage(c: &tokio_postgres::Transaction<'_>, team_id: TeamId) -> StoreResult<u64> {
    let used: i64 = c
        .query_one(
            "SELECT COALESCE(SUM(CASE WHEN complete THEN size ELSE received END), 0)::bigint
             FROM blobs WHERE team_id = $1",
            &[&team_id],
        )
        .await
        .map_err(backend)?
        .get(0);
    u64_from(used)
}

/// Removes an attachment's bytes and its row.
async fn pg_delete_blob(
    tx: &tokio_postgres::Transaction<'_>,
    team_id: TeamId,
    hash: &[u8],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM blob_chunks WHERE team_id = $1 AND hash = $2",
        &[&team_id, &hash],
    )
    .await
    .map_err(backend)?;
    tx.execute(
        "DELETE FROM blobs WHERE team_id = $1 AND hash = $2",
        &[&team_id, &hash],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

/// The notification payload of a commit: `instance team document-hex seq`.
fn change_payload(instance: Uuid, team: TeamId, doc: RecordId, seq: u64) -> String {
    format!("{instance} {team} {} {seq}", hex::encode(doc.as_bytes()))
}

fn parse_change_payload(p: &str) -> Option<(Uuid, StoreEvent)> {
    let mut parts = p.split(' ');
    let instance = Uuid::parse_str(parts.next()?).ok()?;
    let team_id = Uuid::parse_str(parts.next()?).ok()?;
    let doc = hex::decode(parts.next()?).ok()?;
    let document_id = doc_from_bytes(&doc).ok()?;
    let seq = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Some((
        instance,
        StoreEvent::DocumentCommitted {
            team_id,
            document_id,
            seq,
        },
    ))
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`), brings its schema up
    /// to date and starts listening for commits made through other instances.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("database URL: {e}")))?;
        if config.get_options().is_none() {
            config.options(format!(
                "-c statement_timeout={}",
                STATEMENT_TIMEOUT.as_millis()
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Backend(format!("database pool: {e}")))?;
        let store = Self {
            pool,
            instance: Uuid::new_v4(),
            events: broadcast::channel(4096).0,
        };
        store.migrate().await?;
        store.listen(config).await?;
        Ok(store)
    }

    /// This instance's id (it appears in the notifications it sends).
    pub fn instance(&self) -> Uuid {
        self.instance
    }

    /// Writes every row of an embedded server's database (`migrate`) into this empty
    /// database in one transaction: all of it or nothing.
    pub async fn restore_dump(&self, dump: crate::migrate::Dump) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let existing: i64 = tx
            .query_one("SELECT count(*) FROM teams", &[])
            .await
            .map_err(backend)?
            .get(0);
        if existing > 0 {
            return Err(StoreError::Conflict(format!(
                "the target database already holds {existing} team(s); migrate only into an empty database"
            )));
        }
        let uuid = |s: &str| {
            Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("stored id {s:?}: {e}")))
        };
        let time = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| StoreError::Corrupt(format!("stored time {s:?}: {e}")))
        };
        for (id, name, created, last_seq) in &dump.teams {
            tx.execute(
                "INSERT INTO teams (id, name, created_at, last_seq) VALUES ($1, $2, $3, $4)",
                &[&uuid(id)?, name, &time(created)?, last_seq],
            )
            .await
            .map_err(backend)?;
        }
        for (id, team, name, role, hcpc, until, created) in &dump.users {
            let until = until
                .as_deref()
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d")
                        .map_err(|e| StoreError::Corrupt(format!("stored date {d:?}: {e}")))
                })
                .transpose()?;
            tx.execute(
                "INSERT INTO users (id, team_id, name, role, hcpc_number, hcpc_verified_until, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&uuid(id)?, &uuid(team)?, name, role, hcpc, &until, &time(created)?],
            )
            .await
            .map_err(backend)?;
        }
        for (id, user, name, token_hash, created, revoked) in &dump.devices {
            let revoked = revoked.as_deref().map(time).transpose()?;
            tx.execute(
                "INSERT INTO devices (id, user_id, name, token_hash, created_at, revoked_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &uuid(id)?,
                    &uuid(user)?,
                    name,
                    token_hash,
                    &time(created)?,
                    &revoked,
                ],
            )
            .await
            .map_err(backend)?;
        }
        for d in &dump.documents {
            let team = uuid(&d.team_id)?;
            tx.execute(
                "INSERT INTO documents (team_id, doc_id, heads, seq, size_bytes, next_chunk, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&team, &d.doc_id, &d.heads, &d.seq, &d.size_bytes, &d.next_chunk, &time(&d.updated_at)?],
            )
            .await
            .map_err(backend)?;
            for (n, bytes) in &d.chunks {
                tx.execute(
                    "INSERT INTO document_chunks (team_id, doc_id, n, bytes) VALUES ($1, $2, $3, $4)",
                    &[&team, &d.doc_id, n, bytes],
                )
                .await
                .map_err(backend)?;
            }
        }
        for (team, doc, sha, bytes, reason, created) in &dump.quarantine {
            tx.execute(
                "INSERT INTO quarantine (team_id, doc_id, bytes_sha256, bytes, reason, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&uuid(team)?, doc, sha, bytes, reason, &time(created)?],
            )
            .await
            .map_err(backend)?;
        }
        for (team, doc, seq, rule, hash, detail, created, item) in &dump.flags {
            let item = item.as_deref().map(uuid).transpose()?;
            tx.execute(
                "INSERT INTO flags (team_id, doc_id, seq, rule_id, change_hash, detail, created_at, item)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[&uuid(team)?, doc, seq, rule, hash, detail, &time(created)?, &item],
            )
            .await
            .map_err(backend)?;
        }
        for (team, hash, doc, device, user, at) in &dump.receipts {
            tx.execute(
                "INSERT INTO change_receipts (team_id, change_hash, doc_id, device_id, user_id, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&uuid(team)?, hash, doc, &uuid(device)?, &uuid(user)?, &time(at)?],
            )
            .await
            .map_err(backend)?;
        }
        let c = &dump.console;
        for (user, login, hash, set_at) in &c.credentials {
            tx.execute(
                "INSERT INTO console_credentials (user_id, login, password_hash, set_at) VALUES ($1, $2, $3, $4)",
                &[&uuid(user)?, login, hash, set_at],
            )
            .await
            .map_err(backend)?;
        }
        for (user, device) in &c.devices {
            tx.execute(
                "INSERT INTO console_devices (user_id, device_id) VALUES ($1, $2)",
                &[&uuid(user)?, &uuid(device)?],
            )
            .await
            .map_err(backend)?;
        }
        for (team, user, action, detail, address, at) in &c.events {
            let team = team.as_deref().map(uuid).transpose()?;
            let user = user.as_deref().map(uuid).transpose()?;
            tx.execute(
                "INSERT INTO console_events (team_id, user_id, action, detail, address, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[&team, &user, action, detail, address, at],
            )
            .await
            .map_err(backend)?;
        }
        for (device, at, result) in &c.contacts {
            tx.execute(
                "INSERT INTO device_contacts (device_id, at, result) VALUES ($1, $2, $3)",
                &[&uuid(device)?, at, result],
            )
            .await
            .map_err(backend)?;
        }
        for (device, version, unsynced, at) in &c.reports {
            tx.execute(
                "INSERT INTO device_reports (device_id, core_version, unsynced, at) VALUES ($1, $2, $3, $4)",
                &[&uuid(device)?, version, unsynced, at],
            )
            .await
            .map_err(backend)?;
        }
        for a in &c.access_log {
            tx.execute(
                "INSERT INTO access_log
                 (team_id, entry_id, user_id, device_id, uploaded_by, record_id, action, at, purpose, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                &[
                    &uuid(&a.team_id)?,
                    &uuid(&a.entry_id)?,
                    &uuid(&a.user_id)?,
                    &uuid(&a.device_id)?,
                    &uuid(&a.uploaded_by)?,
                    &a.record_id,
                    &a.action,
                    &a.at,
                    &a.purpose,
                    &a.received_at,
                ],
            )
            .await
            .map_err(backend)?;
        }
        for (device, doc, state) in &dump.sync_states {
            tx.execute(
                "INSERT INTO sync_states (device_id, doc_id, state) VALUES ($1, $2, $3)",
                &[&uuid(device)?, doc, state],
            )
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    pub(crate) async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(pool_error)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        // One instance migrates at a time; the others wait here and then find nothing to do.
        tx.execute("SELECT pg_advisory_xact_lock(4857195710)", &[])
            .await
            .map_err(backend)?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS homevisit_schema (version integer NOT NULL);
             INSERT INTO homevisit_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM homevisit_schema);",
        )
        .await
        .map_err(backend)?;
        let version: i32 = tx
            .query_one("SELECT version FROM homevisit_schema", &[])
            .await
            .map_err(backend)?
            .get(0);
        let version = usize::try_from(version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {version}")))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Corrupt(format!(
                "database schema version {version} is newer than this server ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.batch_execute(sql).await.map_err(backend)?;
            let next = i32::try_from(i + 1).map_err(|_| StoreError::Backend("version".into()))?;
            tx.execute("UPDATE homevisit_schema SET version = $1", &[&next])
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    /// Starts the listener: one dedicated connection (not from the pool) that `LISTEN`s and
    /// turns notifications from other instances into [`StoreEvent`]s. When it loses the
    /// connection it reconnects and reports [`StoreEvent::Resync`], since notifications sent
    /// meanwhile are lost.
    async fn listen(&self, config: tokio_postgres::Config) -> StoreResult<()> {
        let first = listen_once(&config).await?;
        let events = self.events.clone();
        let instance = self.instance;
        tokio::spawn(async move {
            let mut next = Some(first);
            loop {
                let (client, mut messages) = match next.take() {
                    Some(c) => c,
                    None => match listen_once(&config).await {
                        Ok(c) => {
                            let _ = events.send(StoreEvent::Resync);
                            c
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "database listener cannot reconnect; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            continue;
                        }
                    },
                };
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(AsyncMessage::Notification(n)) if n.channel() == CHANGES_CHANNEL => {
                            match parse_change_payload(n.payload()) {
                                Some((from, _)) if from == instance => {}
                                Some((_, event)) => {
                                    // Nobody subscribed yet is fine.
                                    let _ = events.send(event);
                                }
                                None => tracing::warn!(
                                    payload = n.payload(),
                                    "unreadable change notification"
                                ),
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "database listener connection failed");
                            break;
                        }
                    }
                }
                drop(client);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        Ok(())
    }
}

type Messages = std::pin::Pin<
    Box<dyn futures_util::Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>,
>;

async fn listen_once(
    config: &tokio_postgres::Config,
) -> StoreResult<(tokio_postgres::Client, Messages)> {
    let (client, mut connection) = config.connect(NoTls).await.map_err(backend)?;
    let messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| {
        connection.poll_message(cx)
    }));
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    // The connection must be polled for the LISTEN below to complete: forward its messages
    // through a task while the client issues the statement.
    let pump = tokio::spawn(async move {
        let mut messages = messages;
        while let Some(m) = messages.next().await {
            if tx.send(m).is_err() {
                break;
            }
        }
    });
    client
        .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
        .await
        .map_err(backend)?;
    let stream: Messages = Box::pin(PumpStream { rx, _pump: pump });
    Ok((client, stream))
}

/// The listener's messages, read from the task that polls its connection.
struct PumpStream {
    rx: tokio::sync::mpsc::UnboundedReceiver<Result<AsyncMessage, tokio_postgres::Error>>,
    _pump: tokio::task::JoinHandle<()>,
}

impl futures_util::Stream for PumpStream {
    type Item = Result<AsyncMessage, tokio_postgres::Error>;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

impl Drop for PumpStream {
    fn drop(&mut self) {
        self._pump.abort();
    }
}

impl ServerStore for PgStore {
    async fn create_team(&self, name: &str) -> StoreResult<TeamId> {
        let id = Uuid::new_v4();
        self.client()
            .await?
            .execute(
                "INSERT INTO teams (id, name) VALUES ($1, $2)",
                &[&id, &name],
            )
            .await
            .map_err(backend)?;
        Ok(id)
    }

    async fn create_user(&self, user: NewUser) -> StoreResult<UserId> {
        let id = Uuid::new_v4();
        let until: Option<NaiveDate> = user.hcpc_verified_until;
        let n = self
            .client()
            .await?
            .execute(
                "INSERT INTO users (id, team_id, name, role, hcpc_number, hcpc_verified_until)
                 SELECT $1, id, $3, $4, $5, $6 FROM teams WHERE id = $2",
                &[
                    &id,
                    &user.team_id,
                    &user.name,
                    &user.role.as_str(),
                    &user.hcpc_number,
                    &until,
                ],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("team {}", user.team_id)));
        }
        Ok(id)
    }

    async fn create_device(
        &self,
        user_id: UserId,
        name: &str,
        token_hash: [u8; 32],
    ) -> StoreResult<DeviceId> {
        let id = Uuid::new_v4();
        let n = self
            .client()
            .await?
            .execute(
                "INSERT INTO devices (id, user_id, name, token_hash)
                 SELECT $1, id, $3, $4 FROM users WHERE id = $2",
                &[&id, &user_id, &name, &&token_hash[..]],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {user_id}")));
        }
        Ok(id)
    }

    async fn revoke_device(&self, by: RevokeBy) -> StoreResult<Option<DeviceId>> {
        let client = self.client().await?;
        let row = match by {
            RevokeBy::Device(id) => {
                client
                    .query_opt(
                        "UPDATE devices SET revoked_at = COALESCE(revoked_at, now())
                     WHERE id = $1 RETURNING id",
                        &[&id],
                    )
                    .await
            }
            RevokeBy::TokenHash(h) => {
                client
                    .query_opt(
                        "UPDATE devices SET revoked_at = COALESCE(revoked_at, now())
                     WHERE token_hash = $1 RETURNING id",
                        &[&&h[..]],
                    )
                    .await
            }
        }
        .map_err(backend)?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn authenticate(&self, token_hash: [u8; 32]) -> StoreResult<Option<DeviceAuth>> {
        self.client()
            .await?
            .query_opt(
                &format!("{DEVICE_SELECT} WHERE d.token_hash = $1"),
                &[&&token_hash[..]],
            )
            .await
            .map_err(backend)?
            .as_ref()
            .map(device_auth)
            .transpose()
    }

    async fn device(&self, device_id: DeviceId) -> StoreResult<Option<DeviceAuth>> {
        self.client()
            .await?
            .query_opt(&format!("{DEVICE_SELECT} WHERE d.id = $1"), &[&device_id])
            .await
            .map_err(backend)?
            .as_ref()
            .map(device_auth)
            .transpose()
    }

    async fn load_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> StoreResult<Option<StoredDocument>> {
        let mut client = self.client().await?;
        // REPEATABLE READ: the head row and the chunks come from one snapshot, even while
        // another instance commits to the same document.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let doc = &document_id.as_bytes()[..];
        let Some(head) = tx
            .query_opt(
                "SELECT heads, seq, size_bytes FROM documents WHERE team_id = $1 AND doc_id = $2",
                &[&team_id, &doc],
            )
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let chunks = tx
            .query(
                "SELECT bytes FROM document_chunks WHERE team_id = $1 AND doc_id = $2 ORDER BY n",
                &[&team_id, &doc],
            )
            .await
            .map_err(backend)?
            .iter()
            .map(|r| r.get::<_, Vec<u8>>(0))
            .collect();
        tx.commit().await.map_err(backend)?;
        Ok(Some(StoredDocument {
            chunks,
            heads: heads_from_bytes(head.get::<_, &[u8]>(0))?,
            seq: u64_from(head.get(1))?,
            size_bytes: u64_from(head.get(2))?,
        }))
    }

    async fn commit_document(&self, commit: DocumentCommit) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let team = commit.team_id;
        let doc = &commit.document_id.as_bytes()[..];
        // The team row first: it serialises the team's commits (every instance), so sequence
        // numbers become visible in order.
        let seq: i64 = tx
            .query_opt(
                "UPDATE teams SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
                &[&team],
            )
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound(format!("team {team}")))?
            .get(0);
        let current = tx
            .query_opt(
                "SELECT seq, size_bytes, next_chunk FROM documents
                 WHERE team_id = $1 AND doc_id = $2 FOR UPDATE",
                &[&team, &doc],
            )
            .await
            .map_err(backend)?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, i64>(2)));
        let current_seq = current.map(|(s, _, _)| u64_from(s)).transpose()?;
        if current_seq != commit.expected_seq {
            // Dropping the transaction rolls it back: the sequence number is not used.
            return Err(StoreError::Conflict(format!(
                "document {} is at {current_seq:?}, writer expected {:?}",
                commit.document_id, commit.expected_seq
            )));
        }
        let chunk_len = i64_from(commit.chunk.len() as u64)?;
        let (size, n) = match current {
            Some((_, size, next)) if !commit.compact => (size + chunk_len, next),
            _ => (chunk_len, 0),
        };
        let heads = heads_to_bytes(&commit.heads);
        tx.execute(
            "INSERT INTO documents (team_id, doc_id, heads, seq, size_bytes, next_chunk, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, now())
             ON CONFLICT (team_id, doc_id) DO UPDATE SET heads = excluded.heads, seq = excluded.seq,
               size_bytes = excluded.size_bytes, next_chunk = excluded.next_chunk,
               updated_at = excluded.updated_at",
            &[&team, &doc, &heads, &seq, &size, &(n + 1)],
        )
        .await
        .map_err(backend)?;
        if commit.compact {
            tx.execute(
                "DELETE FROM document_chunks WHERE team_id = $1 AND doc_id = $2",
                &[&team, &doc],
            )
            .await
            .map_err(backend)?;
        }
        tx.execute(
            "INSERT INTO document_chunks (team_id, doc_id, n, bytes) VALUES ($1, $2, $3, $4)",
            &[&team, &doc, &n, &commit.chunk],
        )
        .await
        .map_err(backend)?;
        for f in &commit.flags {
            let hash = f.change_hash.map(|h| h.0.to_vec());
            tx.execute(
                "INSERT INTO flags (team_id, doc_id, seq, rule_id, change_hash, detail, item)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&team, &doc, &seq, &f.rule_id, &hash, &f.detail, &f.item],
            )
            .await
            .map_err(backend)?;
        }
        for r in &commit.receipts {
            // A change delivered again (after a lost acknowledgement) keeps its first receipt.
            tx.execute(
                "INSERT INTO change_receipts (team_id, change_hash, doc_id, device_id, user_id, received_at)
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &team,
                    &&r.change_hash.0[..],
                    &&r.document_id.as_bytes()[..],
                    &r.device_id,
                    &r.user_id,
                    &r.received_at,
                ],
            )
            .await
            .map_err(backend)?;
        }
        let seq = u64_from(seq)?;
        // Delivered to every listening instance when (and only if) the transaction commits.
        tx.execute(
            "SELECT pg_notify($1, $2)",
            &[
                &CHANGES_CHANNEL,
                &change_payload(self.instance, team, commit.document_id, seq),
            ],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(seq)
    }

    async fn quarantine_document(
        &self,
        team_id: TeamId,
        document_id: RecordId,
        bytes: Vec<u8>,
        reason: &str,
    ) -> StoreResult<()> {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(&bytes).to_vec();
        self.client()
            .await?
            .execute(
                "INSERT INTO quarantine (team_id, doc_id, bytes_sha256, bytes, reason)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    &team_id,
                    &&document_id.as_bytes()[..],
                    &digest,
                    &bytes,
                    &reason,
                ],
            )
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn document_heads(
        &self,
        team_id: TeamId,
        document_ids: Vec<RecordId>,
    ) -> StoreResult<Vec<(RecordId, Option<Vec<ChangeHash>>)>> {
        let ids: Vec<Vec<u8>> = document_ids.iter().map(|d| d.as_bytes().to_vec()).collect();
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, heads FROM documents WHERE team_id = $1 AND doc_id = ANY($2)",
                &[&team_id, &ids],
            )
            .await
            .map_err(backend)?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in &rows {
            found.insert(
                doc_from_bytes(r.get::<_, &[u8]>(0))?,
                heads_from_bytes(r.get::<_, &[u8]>(1))?,
            );
        }
        Ok(document_ids
            .into_iter()
            .map(|id| {
                let heads = found.get(&id).cloned();
                (id, heads)
            })
            .collect())
    }

    async fn changed_since(
        &self,
        team_id: TeamId,
        cursor: u64,
        limit: usize,
    ) -> StoreResult<ChangePage> {
        let mut client = self.client().await?;
        // One snapshot: the page and the team's last sequence number agree.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(backend)?;
        let last: i64 = tx
            .query_opt("SELECT last_seq FROM teams WHERE id = $1", &[&team_id])
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound(format!("team {team_id}")))?
            .get(0);
        // A cursor past the team's last number comes from a timeline this database no longer
        // has (restored from a backup): list everything (see the SQLite implementation).
        let cursor = if cursor > u64_from(last)? { 0 } else { cursor };
        let fetch = i64_from(limit as u64 + 1)?;
        let rows = tx
            .query(
                "SELECT doc_id, heads, seq FROM documents WHERE team_id = $1 AND seq > $2
                 ORDER BY seq LIMIT $3",
                &[&team_id, &i64_from(cursor)?, &fetch],
            )
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let more = rows.len() > limit;
        let mut changed = Vec::with_capacity(rows.len().min(limit));
        let mut page_cursor = cursor;
        for r in rows.iter().take(limit) {
            changed.push((
                doc_from_bytes(r.get::<_, &[u8]>(0))?,
                heads_from_bytes(r.get::<_, &[u8]>(1))?,
            ));
            page_cursor = u64_from(r.get(2))?;
        }
        let cursor = if more {
            page_cursor
        } else {
            u64_from(last)?.max(cursor)
        };
        Ok(ChangePage {
            changed,
            cursor,
            more,
        })
    }

    async fn load_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
    ) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .client()
            .await?
            .query_opt(
                "SELECT state FROM sync_states WHERE device_id = $1 AND doc_id = $2",
                &[&device_id, &&document_id.as_bytes()[..]],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get(0)))
    }

    async fn save_sync_state(
        &self,
        device_id: DeviceId,
        document_id: RecordId,
        state: Vec<u8>,
    ) -> StoreResult<()> {
        let n = self
            .client()
            .await?
            .execute(
                "INSERT INTO sync_states (device_id, doc_id, state)
                 SELECT id, $2, $3 FROM devices WHERE id = $1
                 ON CONFLICT (device_id, doc_id) DO UPDATE SET state = excluded.state",
                &[&device_id, &&document_id.as_bytes()[..], &state],
            )
            .await
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("device {device_id}")));
        }
        Ok(())
    }

    async fn flags(
        &self,
        team_id: TeamId,
        document_id: Option<RecordId>,
    ) -> StoreResult<Vec<Flag>> {
        let doc = document_id.map(|d| d.as_bytes().to_vec());
        let rows = self
            .client()
            .await?
            .query(
                "SELECT doc_id, seq, rule_id, change_hash, detail, item FROM flags
                 WHERE team_id = $1 AND ($2::bytea IS NULL OR doc_id = $2) ORDER BY id",
                &[&team_id, &doc],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let change_hash = r
                    .get::<_, Option<&[u8]>>(3)
                    .map(|h| {
                        <[u8; 32]>::try_from(h)
                            .map(ChangeHash)
                            .map_err(|_| StoreError::Corrupt("flag change hash".into()))
                    })
                    .transpose()?;
                Ok(Flag {
                    team_id,
                    document_id: doc_from_bytes(r.get::<_, &[u8]>(0))?,
                    seq: u64_from(r.get(1))?,
                    flag: NewFlag {
                        rule_id: r.get(2),
                        change_hash,
                        item: r.get(5),
                        detail: r.get(4),
                    },
                })
            })
            .collect()
    }

    async fn change_receipt(
        &self,
        team_id: TeamId,
        change_hash: ChangeHash,
    ) -> StoreResult<Option<ChangeReceipt>> {
        self.client()
            .await?
            .query_opt(
                "SELECT doc_id, device_id, user_id, received_at FROM change_receipts
                 WHERE team_id = $1 AND change_hash = $2",
                &[&team_id, &&change_hash.0[..]],
            )
            .await
            .map_err(backend)?
            .map(|r| {
                Ok(ChangeReceipt {
                    change_hash,
                    document_id: doc_from_bytes(r.get::<_, &[u8]>(0))?,
                    device_id: r.get(1),
                    user_id: r.get(2),
                    received_at: r.get(3),
                })
            })
            .transpose()
    }

    async fn revoked_count(&self) -> StoreResult<u64> {
        let n: i64 = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM devices WHERE revoked_at IS NOT NULL",
                &[],
            )
            .await
            .map_err(backend)?
            .get(0);
        u64_from(n)
    }

    async fn offer_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        size: u64,
        media_type: String,
        quota: u64,
    ) -> StoreResult<BlobOffer> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let h = &hash[..];
        // The team row serialises the team's offers on every instance, so two offers cannot
        // both fit under the quota that has room for one.
        tx.query_opt("SELECT 1 FROM teams WHERE id = $1 FOR UPDATE", &[&team_id])
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::NotFound(format!("team {team_id}")))?;
        let row = tx
            .query_opt(
                "SELECT size, received, complete FROM blobs WHERE team_id = $1 AND hash = $2",
                &[&team_id, &h],
            )
            .await
            .map_err(backend)?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, bool>(2)));
        match row {
            Some((stored, _, true)) => return Ok(BlobOffer::Have(u64_from(stored)?)),
            Some((stored, received, false)) if u64_from(stored)? == size => {
                return Ok(BlobOffer::Have(u64_from(received)?))
            }
            Some(_) => pg_delete_blob(&tx, team_id, h).await?,
            None => {}
        }
        let used = pg_blob_usage(&tx, team_id).await?;
        if used.saturating_add(size) > quota {
            return Ok(BlobOffer::OverQuota { used, quota });
        }
        tx.execute(
            "INSERT INTO blobs (team_id, hash, size, media_type) VALUES ($1, $2, $3, $4)",
            &[&team_id, &h, &i64_from(size)?, &media_type],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(BlobOffer::Have(0))
    }

    async fn append_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        data: Vec<u8>,
    ) -> StoreResult<BlobAppend> {
        use sha2::{Digest, Sha256};
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let h = &hash[..];
        // The row lock orders two devices of the team sending the same attachment at once:
        // the second sees the first's bytes and is told where to resume.
        let row = tx
            .query_opt(
                "SELECT size, received, complete FROM blobs
                 WHERE team_id = $1 AND hash = $2 FOR UPDATE",
                &[&team_id, &h],
            )
            .await
            .map_err(backend)?
            .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1), r.get::<_, bool>(2)));
        let Some((size, received, complete)) = row else {
            return Ok(BlobAppend::NotOffered);
        };
        let (size, received) = (u64_from(size)?, u64_from(received)?);
        if complete {
            return Ok(BlobAppend::AlreadyComplete(size));
        }
        if offset != received {
            return Ok(BlobAppend::WrongOffset(received));
        }
        let have = received.saturating_add(data.len() as u64);
        if have > size {
            return Ok(BlobAppend::BeyondSize(size));
        }
        if data.is_empty() {
            return Ok(BlobAppend::Stored(received));
        }
        tx.execute(
            "INSERT INTO blob_chunks (team_id, hash, start, data) VALUES ($1, $2, $3, $4)",
            &[&team_id, &h, &i64_from(offset)?, &data],
        )
        .await
        .map_err(backend)?;
        if have < size {
            tx.execute(
                "UPDATE blobs SET received = $3 WHERE team_id = $1 AND hash = $2",
                &[&team_id, &h, &i64_from(have)?],
            )
            .await
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            return Ok(BlobAppend::Stored(have));
        }
        let mut hasher = Sha256::new();
        for r in tx
            .query(
                "SELECT data FROM blob_chunks WHERE team_id = $1 AND hash = $2 ORDER BY start",
                &[&team_id, &h],
            )
            .await
            .map_err(backend)?
        {
            hasher.update(r.get::<_, &[u8]>(0));
        }
        if hasher.finalize()[..] != hash[..] {
            pg_delete_blob(&tx, team_id, h).await?;
            tx.commit().await.map_err(backend)?;
            return Ok(BlobAppend::Mismatch);
        }
        tx.execute(
            "UPDATE blobs SET received = $3, complete = true, completed_at = now()
             WHERE team_id = $1 AND hash = $2",
            &[&team_id, &h, &i64_from(have)?],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(BlobAppend::Completed(size))
    }

    async fn read_blob(
        &self,
        team_id: TeamId,
        hash: BlobHash,
        offset: u64,
        max: usize,
    ) -> StoreResult<Option<BlobRead>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let h = &hash[..];
        let Some(size) = tx
            .query_opt(
                "SELECT size FROM blobs WHERE team_id = $1 AND hash = $2 AND complete",
                &[&team_id, &h],
            )
            .await
            .map_err(backend)?
            .map(|r| r.get::<_, i64>(0))
        else {
            return Ok(None);
        };
        let size = u64_from(size)?;
        let end = i64_from(offset.saturating_add(max as u64).min(size))?;
        let from = i64_from(offset.min(size))?;
        let chunks = tx
            .query(
                "SELECT start, data FROM blob_chunks
                 WHERE team_id = $1 AND hash = $2 AND start < $4 AND start + octet_length(data) > $3
                 ORDER BY start",
                &[&team_id, &h, &from, &end],
            )
            .await
            .map_err(backend)?
            .into_iter()
            .map(|r| Ok((u64_from(r.get::<_, i64>(0))?, r.get::<_, Vec<u8>>(1))))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some(BlobRead {
            size,
            data: blob_slice(chunks, offset, max),
        }))
    }

    async fn blob_usage(&self, team_id: TeamId) -> StoreResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        pg_blob_usage(&tx, team_id).await
    }

    async fn quarantined_count(&self, team_id: TeamId) -> StoreResult<u64> {
        let n: i64 = self
            .client()
            .await?
            .query_one(
                "SELECT count(*) FROM quarantine WHERE team_id = $1",
                &[&team_id],
            )
            .await
            .map_err(backend)?
            .get(0);
        u64_from(n)
    }

    fn events(&self) -> Option<broadcast::Receiver<StoreEvent>> {
        Some(self.events.subscribe())
    }

    async fn document_seq(
        &self,
        team_id: TeamId,
        document_id: RecordId,
    ) -> StoreResult<Option<u64>> {
        self.client()
            .await?
            .query_opt(
                "SELECT seq FROM documents WHERE team_id = $1 AND doc_id = $2",
                &[&team_id, &&document_id.as_bytes()[..]],
            )
            .await
            .map_err(backend)?
            .map(|r| u64_from(r.get(0)))
            .transpose()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.client()
            .await?
            .query_one("SELECT 1", &[])
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_payload_round_trips_and_rejects_garbage() {
        let instance = Uuid::new_v4();
        let team = Uuid::new_v4();
        let doc = RecordId::from_bytes([7; 16]);
        let p = change_payload(instance, team, doc, 42);
        let (from, event) = parse_change_payload(&p).unwrap();
        assert_eq!(from, instance);
        assert_eq!(
            event,
            StoreEvent::DocumentCommitted {
                team_id: team,
                document_id: doc,
                seq: 42
            }
        );
        for bad in ["", "x", &format!("{p} extra"), &p.replace(" 42", " -1")] {
            assert_eq!(parse_change_payload(bad), None, "{bad:?}");
        }
    }
}
