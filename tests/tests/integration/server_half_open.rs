//! Half-open HTTP requests cannot exhaust the server's file descriptors: the real
//! `homevisit-server` binary, limited to 4,096 descriptors, takes 4,300 connections that each
//! send part of a request line and fall silent; the ones beyond `--max-pending-connections`
//! are answered 503 and closed at once, the rest are closed at `--header-read-timeout-secs`,
//! the server's descriptor count stays bounded throughout, and an honest device completes a
//! sync within a bounded time.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

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
use homevisit_server::SqliteStore;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const ATTACKERS: usize = 4300;
const SERVER_NOFILE: u64 = 4096;
const MAX_PENDING: usize = 1024;
/// The defaults of `--max-pending-connections` and `--header-read-timeout-secs`, given
/// explicitly.
const HEADER_TIMEOUT_SECS: u64 = 10;
/// Most time the honest device may take to complete a sync once the attack is in place.
const SYNC_BOUND: Duration = Duration::from_secs(30);

fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("homevisit-server");
    assert!(
        bin.exists(),
        "build the server first: {} is missing",
        bin.display()
    );
    bin
}

/// The soft limit on open files of process `pid`, from `/proc/<pid>/limits`.
fn soft_nofile(pid: u32) -> u64 {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// This test process needs a descriptor per attacking socket: raise its soft limit to its hard
/// limit (util-linux `prlimit` on our own pid; no unsafe code) when it is lower than that.
fn ensure_own_descriptors(needed: u64) {
    let me = std::process::id();
    if soft_nofile(me) >= needed {
        return;
    }
    // Only the soft limit: `--nofile=SOFT:` keeps the hard one.
    let status = std::process::Command::new("prlimit")
        .arg(format!("--pid={me}"))
        .arg(format!("--nofile={needed}:"))
        .status();
    assert!(
        soft_nofile(me) >= needed,
        "the test needs {needed} descriptors and could not raise its limit ({status:?})"
    );
}

/// Sets up a team, an OT and a device in `dir`; returns the OT's actor and the device token.
async fn provision(dir: &Path) -> (Actor, String) {
    let store = SqliteStore::open_dir(dir).unwrap();
    let team = homevisit_server::admin::add_team(&store, "North")
        .await
        .unwrap();
    let ot = homevisit_server::admin::add_user(
        &store,
        team,
        "Olu",
        "ot",
        Some("OT12345".into()),
        chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
    )
    .await
    .unwrap();
    let (device_id, token) = homevisit_server::admin::add_device(&store, ot, "tablet")
        .await
        .unwrap();
    let actor = Actor {
        user_id: ot,
        role: Role::Ot,
        device_id,
        team_id: team,
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: chrono::NaiveDate::from_ymd_opt(2030, 1, 1),
    };
    (actor, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_requests_do_not_exhaust_descriptors_and_a_device_still_syncs() {
    ensure_own_descriptors(ATTACKERS as u64 + 512);
    let dir = tempfile::tempdir().unwrap();
    let (actor, token) = provision(dir.path()).await;

    let mut child = tokio::process::Command::new("prlimit")
        .arg(format!("--nofile={SERVER_NOFILE}:{SERVER_NOFILE}"))
        .arg("--")
        .arg(server_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--header-read-timeout-secs")
        .arg(HEADER_TIMEOUT_SECS.to_string())
        .arg("--max-pending-connections")
        .arg(MAX_PENDING.to_string())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let addr = line.strip_prefix("listening ").unwrap().to_string();
    assert_eq!(soft_nofile(pid), SERVER_NOFILE, "prlimit execs the server");
    let baseline_fds = open_fds(pid);

    // The attack: each connection sends part of a request line and then nothing.
    let attack_start = Instant::now();
    let mut attackers = Vec::with_capacity(ATTACKERS);
    for _ in 0..ATTACKERS {
        let mut s = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(&addr))
            .await
            .expect("the listener keeps accepting")
            .unwrap();
        s.write_all(b"GET /sync HTT").await.unwrap();
        attackers.push((s, attack_start.elapsed()));
    }
    let opened_in = attack_start.elapsed();

    // Every attacking socket is watched until the server closes it.
    let watch_deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut closes = tokio::task::JoinSet::new();
    for (mut s, opened_at) in attackers {
        closes.spawn(async move {
            let mut got = Vec::new();
            let read = tokio::time::timeout_at(watch_deadline, async {
                let mut buf = [0u8; 256];
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
            })
            .await;
            let held = attack_start.elapsed() - opened_at;
            (read.is_ok(), held, got.starts_with(b"HTTP/1.1 503"))
        });
    }

    // While the attack holds its places, the server's descriptors stay bounded by the
    // pending limit, far below its 4,096.
    let during_fds = open_fds(pid);
    assert!(
        during_fds <= baseline_fds + MAX_PENDING + 64,
        "server holds {during_fds} descriptors (baseline {baseline_fds})"
    );

    // An honest device syncs a new record within the bound.
    let local_dir = tempfile::tempdir().unwrap();
    let local =
        Arc::new(Store::create_new(local_dir.path().join("d.db"), StoreKey::Raw([3; 32])).unwrap());
    let id = RecordId::new();
    let mut d = doc::create(Schema::Child, id, actor.team_id, None, &actor, Utc::now()).unwrap();
    doc::set_scalar(
        &mut d,
        "given_name",
        Scalar::Str("Ada".into()),
        &actor,
        Utc::now(),
    )
    .unwrap();
    local.create(id, d).unwrap();
    let client = SyncClient::with_config(
        format!("ws://{addr}/sync"),
        token,
        Arc::clone(&local),
        SyncConfig::default(),
    )
    .unwrap();
    let sync_start = Instant::now();
    let mut attempts = 0;
    let report = loop {
        attempts += 1;
        match client.sync(|_| {}).await {
            Ok(report) if report.complete => break report,
            other => {
                assert!(
                    sync_start.elapsed() < SYNC_BOUND,
                    "no sync within {SYNC_BOUND:?} ({attempts} attempts), last: {other:?}"
                );
                // Polling with a deadline: the next attempt after a short pause.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let synced_in = sync_start.elapsed();
    assert_eq!(report.docs_synced, 1, "{report:?}");

    // Afterwards every half-open socket was closed by the server: the ones beyond the limit
    // at once with a 503, the others at the header-read timeout.
    let (mut refused, mut timed_out) = (0usize, 0usize);
    let (mut shortest, mut longest) = (Duration::MAX, Duration::ZERO);
    while let Some(r) = closes.join_next().await {
        let (closed, held, busy) = r.unwrap();
        assert!(closed, "a half-open socket was still open after 60 s");
        if busy {
            refused += 1;
        } else {
            timed_out += 1;
            shortest = shortest.min(held);
            longest = longest.max(held);
        }
    }
    eprintln!(
        "{ATTACKERS} half-open connections opened in {opened_in:?}; server fds {baseline_fds} \
         before, {during_fds} during; {refused} refused with 503 at once, {timed_out} closed by \
         the header timeout (held {shortest:?} to {longest:?}); device synced in {synced_in:?} after \
         {attempts} attempt(s)"
    );
    assert_eq!(refused + timed_out, ATTACKERS);
    if opened_in < Duration::from_secs(HEADER_TIMEOUT_SECS) {
        // No held connection timed out while the attack was being opened: every one beyond
        // the limit was refused.
        assert!(refused >= ATTACKERS - MAX_PENDING, "{refused} refused");
    }
    assert!(
        refused > 0 && timed_out > 0,
        "{refused} refused, {timed_out} timed out"
    );
    assert!(
        shortest >= Duration::from_secs(HEADER_TIMEOUT_SECS) - Duration::from_millis(500),
        "held connections are closed by the timeout, not before ({shortest:?})"
    );
    // The server's descriptors are back near where they started.
    let after_deadline = Instant::now() + Duration::from_secs(10);
    while open_fds(pid) > baseline_fds + 16 {
        assert!(
            Instant::now() < after_deadline,
            "server holds {} fds",
            open_fds(pid)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().await.unwrap();
}
