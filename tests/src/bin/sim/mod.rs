//! What the load and soak programs share: the real `homevisit-server` binary run as a child
#![allow(dead_code)] // shared by the load and soak programs; each uses part of it
//! process on loopback (so its RSS and CPU can be read from /proc), a team with one OT and N
//! registered devices, and simulated tablets — each a real encrypted `homevisit-core` store
//! with a real `SyncClient` speaking the real protocol over a WebSocket.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
    time::Duration,
};

use automerge::ChangeHash;
use chrono::Utc;
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    store::{Store, StoreKey},
    sync::{SyncClient, SyncConfig},
    RecordId,
};
use homevisit_server::{admin, AnyStore, Location, ServerStore};
use tempfile::TempDir;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use uuid::Uuid;

/// Errors of these programs: reported, never unwrapped.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Result alias.
pub type R<T> = Result<T, BoxError>;

/// `dev` or `release`: the profile this program (and, built alongside, the server) runs in.
pub fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "dev (debug)"
    } else {
        "release"
    }
}

/// Parses `--name value` flags; unknown flags are an error.
pub fn flags(known: &[&str]) -> R<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let name = flag
            .strip_prefix("--")
            .filter(|n| known.contains(n))
            .ok_or_else(|| format!("unknown argument {flag:?}; flags: --{}", known.join(" --")))?;
        let value = args
            .next()
            .ok_or_else(|| format!("--{name} needs a value"))?;
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

/// A flag's value parsed, or `default`.
pub fn flag<T: std::str::FromStr>(flags: &BTreeMap<String, String>, name: &str, default: T) -> R<T>
where
    T::Err: std::fmt::Display,
{
    match flags.get(name) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}").into()),
    }
}

/// The server binary: `$HOMEVISIT_SERVER_BIN`, else `homevisit-server` beside this program.
pub fn server_binary() -> R<PathBuf> {
    if let Some(p) = std::env::var_os("HOMEVISIT_SERVER_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .ok_or("this program has no directory")?
        .join("homevisit-server");
    if bin.exists() {
        Ok(bin)
    } else {
        Err(format!(
            "{} is missing: build it first (cargo build --locked -p homevisit-server)",
            bin.display()
        )
        .into())
    }
}

/// The real server running as a child process.
pub struct ServerProcess {
    child: Child,
    /// Its process id (for /proc).
    pub pid: u32,
    /// Where it listens.
    pub addr: String,
}

impl ServerProcess {
    /// Starts `homevisit-server serve` on a free loopback port over `location` (a data
    /// directory, or a PostgreSQL database that other instances may share).
    pub async fn start(location: &Location, extra: &[String]) -> R<Self> {
        let mut command = Command::new(server_binary()?);
        command.arg("serve");
        match location {
            Location::DataDir(dir) => command.arg("--data-dir").arg(dir),
            Location::Postgres(url) => command.arg("--database").arg(url),
        };
        let mut child = command
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()?;
        let pid = child.id().ok_or("the server exited at once")?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .map_err(|_| "the server did not report its address within 60 s")??
            .ok_or("the server exited before listening")?;
        let addr = line
            .strip_prefix("listening ")
            .ok_or_else(|| format!("unexpected first line from the server: {line:?}"))?
            .to_string();
        Ok(Self { child, pid, addr })
    }

    /// `ws://addr/sync`.
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    fn status_field(&self, field: &str) -> R<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(field))
            .ok_or_else(|| format!("{field} missing from /proc/{}/status", self.pid))?;
        Ok(line
            .split_whitespace()
            .nth(1)
            .ok_or("malformed /proc status line")?
            .parse()?)
    }

    /// Resident set size now, KiB (`VmRSS`).
    pub fn rss_kib(&self) -> R<u64> {
        self.status_field("VmRSS:")
    }

    /// Peak resident set size, KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> R<u64> {
        self.status_field("VmHWM:")
    }

    /// User + system CPU time so far, in seconds (/proc/<pid>/stat fields 14 and 15).
    pub fn cpu_seconds(&self) -> R<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // Fields after the command name, which is in parentheses and may contain spaces.
        let rest = stat
            .rsplit_once(')')
            .ok_or("malformed /proc stat")?
            .1
            .split_whitespace()
            .collect::<Vec<_>>();
        // rest[0] is field 3 (state); utime is field 14, stime field 15.
        let utime: u64 = rest.get(11).ok_or("no utime")?.parse()?;
        let stime: u64 = rest.get(12).ok_or("no stime")?.parse()?;
        Ok((utime + stime) as f64 / clock_ticks() as f64)
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Clock ticks per second for /proc times (`getconf CLK_TCK`; 100 on Linux if unavailable).
fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// A team with one OT and `n` device tokens, created in the database before the server starts.
pub struct Team {
    /// The team id.
    pub id: Uuid,
    /// The OT's user id.
    pub ot: Uuid,
    /// One token per device.
    pub tokens: Vec<String>,
    /// The device ids the server registered, in the order of `tokens`: a device's edits name
    /// its own id (`RK-ATTRIB`), as a real tablet's do, so the server flags none of them.
    pub devices: Vec<Uuid>,
}

/// Creates a team, its OT and `n` devices in the server's storage at `location`.
pub async fn setup_team(location: &Location, name: &str, n: usize) -> R<Team> {
    let store = AnyStore::open(location).await?;
    let id = admin::add_team(&store, name).await?;
    let ot = admin::add_user(
        &store,
        id,
        "Olu Adebayo",
        "ot",
        Some("OT12345".into()),
        chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
    )
    .await?;
    let mut tokens = Vec::with_capacity(n);
    let mut devices = Vec::with_capacity(n);
    for i in 0..n {
        let (device, token) = admin::add_device(&store, ot, &format!("tablet {i}")).await?;
        devices.push(device);
        tokens.push(token);
    }
    Ok(Team {
        id,
        ot,
        tokens,
        devices,
    })
}

/// The server's committed heads of `ids` (sorted), read from its database.
pub async fn server_heads(
    location: &Location,
    team: Uuid,
    ids: Vec<RecordId>,
) -> R<BTreeMap<RecordId, Vec<ChangeHash>>> {
    let store = AnyStore::open(location).await?;
    let mut out = BTreeMap::new();
    for (id, heads) in store.document_heads(team, ids).await? {
        if let Some(mut heads) = heads {
            heads.sort();
            out.insert(id, heads);
        }
    }
    Ok(out)
}

/// One simulated tablet.
pub struct SimDevice {
    /// Its encrypted local store.
    pub store: Arc<Store>,
    /// Its sync client (replaced on reconnect).
    pub client: SyncClient<Store>,
    /// The acting OT.
    pub actor: Actor,
    token: String,
    url: String,
    _dir: TempDir,
}

impl SimDevice {
    /// A new tablet with an empty store under `root`.
    pub fn new(root: &Path, team: &Team, index: usize, url: &str) -> R<Self> {
        let dir = tempfile::tempdir_in(root)?;
        let store = Arc::new(Store::create_new(
            dir.path().join("device.db"),
            StoreKey::Raw([7u8; 32]),
        )?);
        let token = team
            .tokens
            .get(index)
            .ok_or("no token for this device")?
            .clone();
        let client = SyncClient::with_config(
            url.to_string(),
            token.clone(),
            Arc::clone(&store),
            SyncConfig::default(),
        )?;
        Ok(Self {
            store,
            client,
            actor: Actor {
                user_id: team.ot,
                role: Role::Ot,
                device_id: team
                    .devices
                    .get(index)
                    .copied()
                    .ok_or("no device id for this device")?,
                team_id: team.id,
                hcpc_number: Some("OT12345".into()),
                hcpc_verified_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
            },
            token,
            url: url.to_string(),
            _dir: dir,
        })
    }

    /// A fresh client object for the same store (an app restart: new peer id, new socket).
    pub fn reconnect(&mut self) -> R<()> {
        self.client = SyncClient::with_config(
            self.url.clone(),
            self.token.clone(),
            Arc::clone(&self.store),
            SyncConfig::default(),
        )?;
        Ok(())
    }

    /// Another client object for the same store, with other tunables.
    pub fn client_with(&self, config: SyncConfig) -> R<SyncClient<Store>> {
        Ok(SyncClient::with_config(
            self.url.clone(),
            self.token.clone(),
            Arc::clone(&self.store),
            config,
        )?)
    }

    /// Creates a child record.
    pub fn create_child(&self, given_name: &str) -> R<RecordId> {
        let id = RecordId::new();
        let mut d = doc::create(
            Schema::Child,
            id,
            self.actor.team_id,
            None,
            &self.actor,
            Utc::now(),
        )?;
        doc::set_scalar(
            &mut d,
            "given_name",
            Scalar::Str(given_name.into()),
            &self.actor,
            Utc::now(),
        )?;
        self.store.create(id, d)?;
        Ok(id)
    }

    /// Edits a record: adds an alert (merges with everyone's) or, when `rename`, sets the
    /// given name (concurrent renames become a `CF-CLINICAL` conflict; heads still converge).
    pub fn edit(&self, id: RecordId, text: &str, rename: bool) -> R<()> {
        let actor = self.actor.clone();
        if rename {
            self.store.edit(id, |d| {
                doc::set_scalar(
                    d,
                    "given_name",
                    Scalar::Str(text.into()),
                    &actor,
                    Utc::now(),
                )
            })?;
        } else {
            let mut fields = serde_json::Map::new();
            fields.insert("text".into(), serde_json::Value::String(text.into()));
            self.store.edit(id, |d| {
                doc::add_item(d, "alerts", fields, &actor, Utc::now())
            })?;
        }
        Ok(())
    }
}

/// How far the devices are from the server's state: a list of problems (empty = converged).
pub async fn convergence(
    location: &Location,
    team: Uuid,
    devices: &[SimDevice],
    expected: &[RecordId],
) -> R<Vec<String>> {
    let mut expected = expected.to_vec();
    expected.sort();
    expected.dedup();
    let server = server_heads(location, team, expected.clone()).await?;
    let mut problems = Vec::new();
    if server.len() != expected.len() {
        problems.push(format!(
            "the server has {} of the {} expected records",
            server.len(),
            expected.len()
        ));
    }
    for (i, d) in devices.iter().enumerate() {
        let mut ids = d.store.ids()?;
        ids.sort();
        if ids != expected {
            problems.push(format!(
                "device {i} holds {} records, expected {}",
                ids.len(),
                expected.len()
            ));
            continue;
        }
        let unsynced = d.store.unsynced_ids()?.len();
        if unsynced > 0 {
            problems.push(format!("device {i} has {unsynced} unacknowledged records"));
        }
        for id in &ids {
            let mut heads = d.store.local_heads(*id)?.unwrap_or_default();
            heads.sort();
            if server.get(id) != Some(&heads) {
                problems.push(format!(
                    "device {i}: record {id} heads differ from the server's"
                ));
            }
        }
    }
    Ok(problems)
}

/// The `q` quantile (0..=1) of sorted durations, in milliseconds.
pub fn quantile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
