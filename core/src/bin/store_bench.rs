//! Local store benchmark (docs/BENCHMARKS.md "Local store"). Prints, never asserts.
//!
//! `cargo run --locked -p homevisit-core --bin store_bench [-- --quick]`
//!
//! 1. The cost of a one-field edit through the store (automerge put + commit +
//!    `save_after` + projection + one SQLCipher transaction with `synchronous = FULL`) as a
//!    ratio to a plain rusqlite `UPDATE` + commit on a connection with the same key and pragmas,
//!    measured in the same run on the same disk.
//! 2. Opening a store of 5,000 records and running the first caseload query.

use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use automerge::{transaction::Transactable, AutoCommit, ROOT};
use chrono::{TimeZone, Utc};
use homevisit_core::{
    doc::{self, Scalar},
    model::{
        common::Schema,
        user::{Actor, Role},
    },
    store::{db::apply_key, CompactionPolicy, Encryption, Store, StoreKey, StoreOptions},
    Error, RecordId,
};
use rusqlite::Connection;
use uuid::Uuid;

const KEY: [u8; 32] = [0x42; 32];

fn err(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self, Error> {
        let dir = std::env::temp_dir().join(format!("store_bench_{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(err)?;
        Ok(Self(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn per_op(total: Duration, n: u32) -> Duration {
    total / n.max(1)
}

/// A plain `UPDATE` + commit with the store's key and pragmas.
fn baseline(path: &Path, n: u32) -> Result<Duration, Error> {
    let conn = Connection::open(path).map_err(err)?;
    apply_key(&conn, &Encryption::Key(StoreKey::Raw(KEY)))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
         INSERT INTO t VALUES (1, '');",
    )
    .map_err(err)?;
    let start = Instant::now();
    for i in 0..n {
        conn.execute_batch("BEGIN").map_err(err)?;
        conn.execute("UPDATE t SET v = ?1 WHERE id = 1", [format!("value {i}")])
            .map_err(err)?;
        conn.execute_batch("COMMIT").map_err(err)?;
    }
    Ok(per_op(start.elapsed(), n))
}

fn actor() -> Actor {
    Actor {
        user_id: Uuid::new_v4(),
        role: Role::Ot,
        device_id: Uuid::new_v4(),
        team_id: Uuid::new_v4(),
        hcpc_number: Some("OT12345".into()),
        hcpc_verified_until: None,
    }
}

/// A home-visit form that already has some content.
fn form(a: &Actor, id: RecordId) -> Result<AutoCommit, Error> {
    let at = instant()?;
    let mut d = doc::create(
        Schema::Assessment,
        id,
        a.team_id,
        Some(RecordId::new()),
        a,
        at,
    )?;
    for (path, v) in [
        ("sections.A.visit_date", "2026-03-15"),
        ("sections.A.start_time", "10:00"),
        ("sections.A.end_time", "11:30"),
    ] {
        doc::set_scalar(&mut d, path, Scalar::Str(v.into()), a, at)?;
    }
    Ok(d)
}

fn instant() -> Result<chrono::DateTime<Utc>, Error> {
    Utc.with_ymd_and_hms(2026, 3, 15, 10, 0, 0)
        .single()
        .ok_or_else(|| err("time"))
}

/// The in-memory parts of an edit, each alone: document change, projection, increment.
fn components(n: u32) -> Result<(Duration, Duration, Duration), Error> {
    let a = actor();
    let at = instant()?;
    let id = RecordId::new();
    let mut d = form(&a, id)?;
    let (mut change, mut project, mut save) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for i in 0..n {
        let heads = d.get_heads();
        let t = Instant::now();
        doc::set_scalar(
            &mut d,
            "sections.D.entrance_steps.riser_max_mm",
            Scalar::Int(150 + i64::from(i % 50)),
            &a,
            at,
        )?;
        change += t.elapsed();
        let t = Instant::now();
        homevisit_core::store::project(id, &mut d)?;
        project += t.elapsed();
        let t = Instant::now();
        let bytes = d.save_after(&heads);
        save += t.elapsed();
        if bytes.is_empty() {
            return Err(err("an edit produced no change"));
        }
    }
    Ok((per_op(change, n), per_op(project, n), per_op(save, n)))
}

/// One-field edits through the store.
fn store_edits(path: &Path, n: u32) -> Result<Duration, Error> {
    let a = actor();
    let at = instant()?;
    let store = Store::create_new(path, StoreKey::Raw(KEY))?;
    let id = RecordId::new();
    store.create(id, form(&a, id)?)?;
    let start = Instant::now();
    for i in 0..n {
        store.edit(id, |d| {
            doc::set_scalar(
                d,
                "sections.D.entrance_steps.riser_max_mm",
                Scalar::Int(150 + i64::from(i % 50)),
                &a,
                at,
            )
        })?;
    }
    let elapsed = per_op(start.elapsed(), n);
    store.close()?;
    Ok(elapsed)
}

/// Cold load (open + first read) of a record with `n` increments, then after compaction.
fn load_costs(path: &Path, n: u32) -> Result<(Duration, Duration), Error> {
    let a = actor();
    let at = instant()?;
    let no_compaction = StoreOptions {
        compaction: CompactionPolicy {
            max_chunks: u32::MAX,
            min_chunk_bytes: u64::MAX,
        },
        ..StoreOptions::default()
    };
    let open = || {
        Store::open_with(
            path,
            Encryption::Key(StoreKey::Raw(KEY)),
            no_compaction.clone(),
        )
    };
    let id = RecordId::new();
    {
        let store = Store::create_new_with(
            path,
            Encryption::Key(StoreKey::Raw(KEY)),
            no_compaction.clone(),
        )?;
        store.create(id, form(&a, id)?)?;
        for i in 0..n {
            store.edit(id, |d| {
                doc::set_scalar(
                    d,
                    "sections.D.entrance_steps.count",
                    Scalar::Int(i64::from(i)),
                    &a,
                    at,
                )
            })?;
        }
        store.close()?;
    }
    let cold = |compact: bool| -> Result<Duration, Error> {
        let store = open()?;
        if compact {
            store.compact(id)?;
            store.close()?;
            return Ok(Duration::ZERO);
        }
        let t = Instant::now();
        store.read(id, |d| Ok(d.get_heads().len()))?;
        let elapsed = t.elapsed();
        store.close()?;
        Ok(elapsed)
    };
    let with_chunks = cold(false)?;
    cold(true)?;
    let compacted = cold(false)?;
    Ok((with_chunks, compacted))
}

fn small_child(id: RecordId, team: &str, i: usize) -> Result<AutoCommit, Error> {
    let mut d = AutoCommit::new();
    d.put(ROOT, "schema", "homevisit/child")?;
    d.put(ROOT, "id", id.to_string())?;
    d.put(ROOT, "team_id", team)?;
    d.put(ROOT, "given_name", format!("Child{i}"))?;
    d.put(ROOT, "family_name", format!("Family{i}"))?;
    d.put(ROOT, "date_of_birth", "2016-05-01")?;
    d.commit();
    Ok(d)
}

/// Open + first caseload query of a store of `n` records.
fn open_large(path: &Path, n: usize) -> Result<(Duration, Duration, u64), Error> {
    let team = Uuid::new_v4().to_string();
    {
        let store = Store::create_new(path, StoreKey::Raw(KEY))?;
        let docs = (0..n)
            .map(|i| {
                let id = RecordId::new();
                small_child(id, &team, i).map(|d| (id, d))
            })
            .collect::<Result<Vec<_>, _>>()?;
        store.create_batch(docs)?;
        store.close()?;
    }
    let start = Instant::now();
    let store = Store::open_with(
        path,
        Encryption::Key(StoreKey::Raw(KEY)),
        StoreOptions::default(),
    )?;
    let opened = start.elapsed();
    let caseload = store.caseload()?;
    let listed = start.elapsed();
    if caseload.len() != n {
        return Err(err(format!("caseload has {} of {n}", caseload.len())));
    }
    Ok((opened, listed, store.loaded_documents()?))
}

fn run() -> Result<(), Error> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (edits, docs) = if quick { (30, 500) } else { (300, 5000) };
    let scratch = Scratch::new()?;
    println!(
        "store_bench ({}; SQLCipher, WAL, synchronous=FULL)",
        if quick { "quick" } else { "full" }
    );

    // Warm the disk and the code paths once, then measure both in the same run.
    baseline(&scratch.0.join("warm.db"), 5)?;
    let base = baseline(&scratch.0.join("baseline.db"), edits)?;
    let edit = store_edits(&scratch.0.join("edits.db"), edits)?;
    println!("one-field edit, {edits} edits:");
    println!("  plain rusqlite UPDATE + commit : {base:>10.2?} per edit");
    println!("  store edit (automerge + projection + transaction): {edit:>10.2?} per edit");
    println!(
        "  ratio store / plain UPDATE     : {:.2}",
        edit.as_secs_f64() / base.as_secs_f64().max(f64::EPSILON)
    );

    let (change, project, save) = components(edits)?;
    println!("  of which, in memory: doc::set_scalar {change:.2?}, project {project:.2?}, save_after {save:.2?}");

    let (with_chunks, compacted) = load_costs(&scratch.0.join("load.db"), 99)?;
    println!("loading one form from disk:");
    println!("  snapshot + 99 increments : {with_chunks:.2?}");
    println!("  after compaction         : {compacted:.2?}");

    let (opened, listed, loaded) = open_large(&scratch.0.join("large.db"), docs)?;
    println!("store of {docs} records:");
    println!("  open (key check, pragmas, migrations check): {opened:.2?}");
    println!("  open + first caseload query ({docs} rows) : {listed:.2?}");
    println!("  documents loaded by open + caseload        : {loaded}");
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("store_bench: {e}");
        std::process::exit(1);
    }
}
