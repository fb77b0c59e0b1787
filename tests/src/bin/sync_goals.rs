//! Sync goals: the device ↔ server figures of the release-build issue, each printed against a
//! baseline counted in the same run (docs/BENCHMARKS.md "Goals (issue: release builds)").
//! Prints, never asserts on time; exits non-zero only if a session did not do its work.
//!
//! The real `homevisit-server` binary runs as a child process on loopback over a SQLite
//! database in a temporary directory; every tablet is a real encrypted `homevisit-core` store
//! with a real `SyncClient` in this process.
//!
//! 1. **First sync of a new device** for each `--first` size (1,000 and 5,000 by default): wall
//!    time from connect to the stored cursor, and bytes down (WebSocket payload after the
//!    handshake) as a ratio to the records' saved size (`Store::save_document` on the device
//!    that made them). Twice, on two new devices: one durable commit per received record
//!    (`docs_per_transaction: 1`), then the default, and the ratio of the two wall times.
//! 2. **A day's work up**: 30 records × 5 edits made offline on a device that holds 1,000
//!    records, then one session: bytes up as a ratio to the raw bytes of the automerge changes
//!    those edits made (`Change::raw_bytes`, counted on the device), and round trips.
//! 3. **App restart after offline work**: 30 of the 1,000 records changed, then a new client
//!    object (new peer id, new socket, nothing in memory): the records that moved, and all
//!    bytes both ways (handshake included) against 1.2 × the raw changes + 1 KiB.
//! 4. **Live propagation**: two tablets in the long-lived mode; an edit on A until B's change
//!    observer reports the record with A's heads; p50 / p99 / max over `--edits` edits.
//!
//! ```sh
//! cargo build --locked --profile bench-release -p homevisit-server -p homevisit-tests \
//!   --bin homevisit-server --bin sync_goals
//! target/bench-release/sync_goals                      # 1,000 and 5,000; 1,000 live edits
//! target/bench-release/sync_goals --first 200 --live-edits 50   # a quick run
//! ```

#[path = "sim/mod.rs"]
mod sim;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use homevisit_core::{
    doc::{self, Scalar},
    model::common::Schema,
    store::{ChangeOrigin, SyncStatus},
    sync::SyncConfig,
    RecordId,
};
use homevisit_server::Location;
use sim::{flag, flags, quantile_ms, ServerProcess, SimDevice, R};
use tokio::sync::{mpsc, Notify};

const GIVEN: [&str; 8] = [
    "Amara", "Kwame", "Ife", "Tolu", "Zuri", "Nia", "Olu", "Sade",
];
const FAMILY: [&str; 6] = ["Okafor", "Mensah", "Adeyemi", "Bello", "Smith", "Jones"];

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sync_goals: error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `n` child records like the ones a caseload holds, created in one transaction.
fn seed(device: &SimDevice, n: usize) -> R<Vec<RecordId>> {
    let now = Utc::now();
    let mut docs = Vec::with_capacity(n);
    for i in 0..n {
        let id = RecordId::new();
        let mut d = doc::create(
            Schema::Child,
            id,
            device.actor.team_id,
            None,
            &device.actor,
            now,
        )?;
        for (path, value) in [
            ("given_name", GIVEN[i % GIVEN.len()]),
            ("family_name", FAMILY[i % FAMILY.len()]),
            ("date_of_birth", "2016-04-12"),
            ("school_name", "Riverside Primary"),
        ] {
            doc::set_scalar(&mut d, path, Scalar::Str(value.into()), &device.actor, now)?;
        }
        docs.push((id, d));
    }
    let mut ids: Vec<RecordId> = docs.iter().map(|(id, _)| *id).collect();
    device.store.create_batch(docs)?;
    ids.sort();
    Ok(ids)
}

/// Sum of the records' saved sizes on `device`.
fn saved_bytes(device: &SimDevice, ids: &[RecordId]) -> R<u64> {
    let mut total = 0u64;
    for id in ids {
        let saved = device
            .store
            .save_document(*id)?
            .ok_or_else(|| format!("record {id} is missing"))?;
        total += saved.len() as u64;
    }
    Ok(total)
}

/// Sets `preferred_name` of `id` to `value`.
fn edit(device: &SimDevice, id: RecordId, value: &str) -> R<()> {
    let actor = device.actor.clone();
    device.store.edit(id, |d| {
        doc::set_scalar(
            d,
            "preferred_name",
            Scalar::Str(value.into()),
            &actor,
            Utc::now(),
        )
    })?;
    Ok(())
}

/// Whether `device` holds every change of `heads` of record `id`.
fn has_all(device: &SimDevice, id: RecordId, heads: &[automerge::ChangeHash]) -> R<bool> {
    Ok(device.store.read(id, |d| {
        Ok(heads.iter().all(|h| d.get_change_by_hash(h).is_some()))
    })?)
}

/// Raw bytes of the automerge changes `ids` gained since `before` (their heads then).
fn raw_change_bytes(
    device: &SimDevice,
    ids: &[RecordId],
    before: &[Vec<automerge::ChangeHash>],
) -> R<u64> {
    let mut total = 0u64;
    for (id, heads) in ids.iter().zip(before) {
        total += device.store.read(*id, |d| {
            Ok(d.get_changes(heads)
                .iter()
                .map(|c| c.raw_bytes().len() as u64)
                .sum::<u64>())
        })?;
    }
    Ok(total)
}

fn heads(device: &SimDevice, ids: &[RecordId]) -> R<Vec<Vec<automerge::ChangeHash>>> {
    ids.iter()
        .map(|id| Ok(device.store.local_heads(*id)?.unwrap_or_default()))
        .collect()
}

fn check(ok: bool, what: &str) -> R<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("a session did not do its work: {what}").into())
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / (b as f64).max(1.0)
}

async fn run() -> R<()> {
    let f = flags(&["first", "live-edits", "day-records", "day-edits"])?;
    let sizes: Vec<usize> = flag(&f, "first", "1000,5000".to_string())?
        .split(',')
        .map(|s| s.trim().parse::<usize>())
        .collect::<Result<_, _>>()?;
    let live_edits: usize = flag(&f, "live-edits", 1000)?;
    let day_records: usize = flag(&f, "day-records", 30)?;
    let day_edits: usize = flag(&f, "day-edits", 5)?;
    let base = *sizes.first().ok_or("--first needs at least one size")?;
    if day_records > base {
        return Err("--day-records must not exceed the first --first size".into());
    }
    let root = tempfile::tempdir()?;
    let location = Location::DataDir(root.path().join("server"));
    println!(
        "sync_goals: build={} first sync of {sizes:?} records, day's work {day_records} x {day_edits}, {live_edits} live edits",
        sim::profile()
    );
    let mut teams = Vec::new();
    for n in &sizes {
        teams.push(sim::setup_team(&location, &format!("First sync {n}"), 3).await?);
    }
    let live_team = sim::setup_team(&location, "Live", 2).await?;
    let server = ServerProcess::start(&location, &[]).await?;
    let url = server.url();

    // 1. First sync of a new device: each size twice, on two new devices, in the same run:
    //    one durable commit per received record, then the default (many per transaction).
    println!("1. first sync of a new device (bytes down = WebSocket payload after the handshake)");
    let mut seeders = Vec::new();
    for (n, team) in sizes.iter().zip(&teams) {
        let seeder = SimDevice::new(root.path(), team, 0, &url)?;
        let ids = seed(&seeder, *n)?;
        let up = seeder.client.sync(|_| {}).await?;
        check(
            up.complete && seeder.store.unsynced_ids()?.is_empty(),
            "upload",
        )?;
        let saved = saved_bytes(&seeder, &ids)?;
        let mut walls = Vec::new();
        for (slot, per_tx) in [
            (1usize, 1usize),
            (2, SyncConfig::default().docs_per_transaction),
        ] {
            let fresh = SimDevice::new(root.path(), team, slot, &url)?;
            let client = fresh.client_with(SyncConfig {
                docs_per_transaction: per_tx,
                ..SyncConfig::default()
            })?;
            let cpu0 = server.cpu_seconds()?;
            let start = Instant::now();
            let r = client.sync(|_| {}).await?;
            let wall = start.elapsed();
            let cpu = server.cpu_seconds()? - cpu0;
            check(
                r.complete
                    && fresh.store.document_count()? == *n as u64
                    && fresh.store.unsynced_ids()?.is_empty(),
                "first sync",
            )?;
            println!(
                "  {n:>5} records, {per_tx:>2} per transaction: wall {:>8.1} ms ({:.0} records/s)  bytes down {} / saved size {} = {:.3}  (goal <= 1.05)  bytes up {}  round trips {}  server cpu {:.2} s",
                wall.as_secs_f64() * 1000.0,
                *n as f64 / wall.as_secs_f64().max(1e-9),
                r.bytes_received,
                saved,
                ratio(r.bytes_received, saved),
                r.bytes_sent,
                r.round_trips,
                cpu,
            );
            walls.push(wall.as_secs_f64());
        }
        if let [one, many] = walls[..] {
            println!(
                "  {n:>5} records: wall ratio many per transaction / one per transaction = {:.3}",
                many / one.max(1e-9)
            );
        }
        seeders.push((seeder, ids));
    }

    // 2. A day's work up, on the device holding the first size's records.
    let (device, ids) = seeders.first_mut().ok_or("no first-sync team to work on")?;
    let day: Vec<RecordId> = ids.iter().take(day_records).copied().collect();
    let before = heads(device, &day)?;
    for round in 0..day_edits {
        for (i, id) in day.iter().enumerate() {
            edit(device, *id, &format!("Day edit {round} of {i}"))?;
        }
    }
    let raw = raw_change_bytes(device, &day, &before)?;
    let r = device.client.sync(|_| {}).await?;
    check(
        r.complete && r.docs_sent == day_records as u64,
        "day's work upload",
    )?;
    println!(
        "2. a day's work up ({day_records} records x {day_edits} edits, offline, then one session)"
    );
    println!(
        "  bytes up {} / raw change bytes {} = {:.3}  (goal <= 1.2)  round trips {} (window 64)  bytes down {}  handshake {}",
        r.bytes_sent,
        raw,
        ratio(r.bytes_sent, raw),
        r.round_trips,
        r.bytes_received,
        r.handshake_bytes,
    );

    // 3. App restart after offline work: a new client object for the same store.
    let changed: Vec<RecordId> = ids.iter().rev().take(day_records).copied().collect();
    let before = heads(device, &changed)?;
    for (i, id) in changed.iter().enumerate() {
        edit(device, *id, &format!("Offline {i}"))?;
    }
    let raw = raw_change_bytes(device, &changed, &before)?;
    device.reconnect()?;
    let r = device.client.sync(|_| {}).await?;
    check(r.complete, "restart session")?;
    let all = r.bytes_sent + r.bytes_received + r.handshake_bytes;
    let allowed = (1.2 * raw as f64) as u64 + 1024;
    println!(
        "3. app restart after offline work ({} records, {day_records} changed, new client object)",
        ids.len()
    );
    println!(
        "  records sent {} received {}  bytes up {} down {} handshake {} = {all} against 1.2 x raw {raw} + 1 KiB = {allowed}: ratio {:.3} (goal <= 1)  round trips {}",
        r.docs_sent,
        r.docs_received,
        r.bytes_sent,
        r.bytes_received,
        r.handshake_bytes,
        ratio(all, allowed),
        r.round_trips,
    );

    // 4. Live propagation between two long-lived clients.
    if live_edits > 0 {
        live(&root, &live_team, &url, live_edits).await?;
    }
    server.stop().await;
    Ok(())
}

async fn live(root: &tempfile::TempDir, team: &sim::Team, url: &str, edits: usize) -> R<()> {
    let a = Arc::new(SimDevice::new(root.path(), team, 0, url)?);
    let b = Arc::new(SimDevice::new(root.path(), team, 1, url)?);
    // B makes the record and uploads it in its live session (the server pushes a connection
    // the records it syncs); A fetches it once, then goes live and edits it.
    let id = b.create_child("Live")?;

    // B's observer: every change sync brought to the record, with the time it fired.
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let _subscription = b.store.subscribe(move |e| {
        if e.record == Some(id) && e.origin == ChangeOrigin::Sync {
            let _ = tx.send(Instant::now());
        }
    });
    let stop = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for device in [Arc::clone(&b), Arc::clone(&a)] {
        let stop = Arc::clone(&stop);
        tasks.push(tokio::spawn(async move {
            device
                .client
                .run_until_cancelled(stop.notified(), |_| {})
                .await
        }));
        if tasks.len() == 1 {
            let deadline = Instant::now() + Duration::from_secs(30);
            while b.store.sync_status(id)? != SyncStatus::Synced {
                if Instant::now() > deadline {
                    return Err("B's live session did not upload the record in 30 s".into());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            a.client.sync(|_| {}).await?;
            if a.store.local_heads(id)?.is_none() {
                return Err("A did not fetch the record".into());
            }
        }
    }

    let mut times = Vec::with_capacity(edits);
    let mut missed = 0usize;
    // Five unmeasured edits first: both connections then sync the record.
    for i in 0..edits + 5 {
        while rx.try_recv().is_ok() {}
        let start = Instant::now();
        let (a2, value) = (Arc::clone(&a), format!("Live {i}"));
        tokio::task::spawn_blocking(move || edit(&a2, id, &value)).await??;
        let mut want = a.store.local_heads(id)?.unwrap_or_default();
        want.sort();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut arrived = None;
        while arrived.is_none() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(at)) => {
                    // B has A's edit once it holds every change of A's heads; the server may
                    // have added a change of its own on top (a flag), so heads need not match.
                    if has_all(&b, id, &want)? {
                        arrived = Some(at);
                    }
                }
                Ok(None) => return Err("B's observer went away".into()),
                Err(_) => break,
            }
        }
        match arrived {
            Some(at) if i >= 5 => times.push(at.saturating_duration_since(start)),
            Some(_) => {}
            None if i >= 5 => missed += 1,
            None => {
                for (name, task) in ["B", "A"].iter().zip(&mut tasks) {
                    if task.is_finished() {
                        let ended = task.await;
                        return Err(format!("{name}'s live session ended early: {ended:?}").into());
                    }
                }
                return Err(format!(
                    "the warm-up edit {i} did not reach B within 10 s (B has A's changes: {}, A's status {:?}, B's status {:?})",
                    has_all(&b, id, &want)?,
                    a.store.sync_status(id)?,
                    b.store.sync_status(id)?,
                )
                .into());
            }
        }
    }
    stop.notify_waiters();
    for task in tasks {
        task.await??;
    }
    times.sort();
    println!("4. live propagation (edit on A until B's change observer fires with A's heads)");
    println!(
        "  {} edits: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms  (goal p99 <= 250 ms)  not arrived within 10 s: {missed}",
        times.len(),
        quantile_ms(&times, 0.5),
        quantile_ms(&times, 0.99),
        quantile_ms(&times, 1.0),
    );
    Ok(())
}
