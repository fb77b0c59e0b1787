//! Local store benchmark (docs/BENCHMARKS.md "Local store"). Prints, never asserts.
//!
//! `cargo run --locked -p homevisit-core --bin store_bench [-- --quick] [--caseload]`
//! (`--caseload`: item 2 alone, for profiling the query); the goals are
//! measured in the release profile: `--profile bench-release` (docs/BENCHMARKS.md).
//!
//! 1. The cost of a one-field edit through the store (automerge put + commit +
//!    `save_after` + projection + one SQLCipher transaction with `synchronous = FULL`) as a
//!    ratio to a plain rusqlite `UPDATE` + commit on a connection with the same key and pragmas,
//!    measured in the same run on the same disk.
//! 2. The caseload query over 2,000 children as a ratio to the same rows read, in the same
//!    order, from one plain table (same key and pragmas) that holds them denormalised.
//! 3. Opening a store of 5,000 records and running the first caseload query, in a fresh
//!    process (this program again, `--open-child`) so that its peak RSS (`VmHWM`) is what
//!    open + caseload cost and nothing else.

use std::{
    path::{Path, PathBuf},
    process::Command,
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
    store::{
        db::apply_key, CaseloadEntry, CompactionPolicy, Encryption, Store, StoreKey, StoreOptions,
    },
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

/// A store of `n` small child records at `path`.
fn fill(path: &Path, n: usize) -> Result<(), Error> {
    let team = Uuid::new_v4().to_string();
    let store = Store::create_new(path, StoreKey::Raw(KEY))?;
    let docs = (0..n)
        .map(|i| {
            let id = RecordId::new();
            small_child(id, &team, i).map(|d| (id, d))
        })
        .collect::<Result<Vec<_>, _>>()?;
    store.create_batch(docs)?;
    store.close()
}

/// A connection with the store's key and pragmas, for the plain baselines.
fn plain_connection(path: &Path) -> Result<Connection, Error> {
    let conn = Connection::open(path).map_err(err)?;
    apply_key(&conn, &Encryption::Key(StoreKey::Raw(KEY)))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
    )
    .map_err(err)?;
    Ok(conn)
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// The caseload of `n` children through the store, and the same rows from one plain table
/// (`plain`): median of `reps` warm queries each, alternating.
fn caseload_costs(
    path: &Path,
    plain: &Path,
    n: usize,
    reps: usize,
) -> Result<(Duration, Duration), Error> {
    fill(path, n)?;
    let store = Store::open(path, StoreKey::Raw(KEY))?;
    let rows = store.caseload()?;
    if rows.len() != n {
        return Err(err(format!("caseload has {} of {n}", rows.len())));
    }
    let conn = plain_connection(plain)?;
    conn.execute_batch(
        "CREATE TABLE caseload (id TEXT PRIMARY KEY, given_name TEXT, family_name TEXT,
             preferred_name TEXT, date_of_birth TEXT, nhs_number TEXT, record_count INTEGER,
             conflict_count INTEGER, unsynced_count INTEGER, awaiting INTEGER, flagged INTEGER,
             safeguarding_status TEXT, missed_visit_gap_days INTEGER);
         BEGIN;",
    )
    .map_err(err)?;
    for r in &rows {
        conn.execute(
            "INSERT INTO caseload VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            rusqlite::params![
                r.child_id.to_string(),
                r.given_name,
                r.family_name,
                r.preferred_name,
                r.date_of_birth,
                r.nhs_number,
                r.record_count,
                r.conflict_count,
                r.unsynced_count,
                r.awaiting_signature_count,
                r.flagged_count,
                r.safeguarding_status,
                r.missed_visit_gap_days,
            ],
        )
        .map_err(err)?;
    }
    conn.execute_batch("COMMIT").map_err(err)?;
    let plain_query = || -> Result<Vec<CaseloadEntry>, Error> {
        let mut stmt = conn
            .prepare_cached(
                "SELECT * FROM caseload
                 ORDER BY family_name COLLATE NOCASE, given_name COLLATE NOCASE, id",
            )
            .map_err(err)?;
        let out = stmt
            .query_map([], |row| {
                let id: String = row.get(0)?;
                Ok(CaseloadEntry {
                    child_id: id.parse().map_err(|e: homevisit_core::IdError| {
                        rusqlite::Error::FromSqlConversionFailure(
                            0,
                            rusqlite::types::Type::Text,
                            Box::new(e),
                        )
                    })?,
                    given_name: row.get(1)?,
                    family_name: row.get(2)?,
                    preferred_name: row.get(3)?,
                    date_of_birth: row.get(4)?,
                    nhs_number: row.get(5)?,
                    record_count: row.get(6)?,
                    conflict_count: row.get(7)?,
                    unsynced_count: row.get(8)?,
                    awaiting_signature_count: row.get(9)?,
                    flagged_count: row.get(10)?,
                    safeguarding_status: row.get(11)?,
                    missed_visit_gap_days: row.get(12)?,
                })
            })
            .map_err(err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(err)?;
        Ok(out)
    };
    if plain_query()? != rows {
        return Err(err("the plain table does not return the caseload's rows"));
    }
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let t = Instant::now();
        let got = store.caseload()?;
        ours.push(t.elapsed());
        let t = Instant::now();
        let plain_rows = plain_query()?;
        theirs.push(t.elapsed());
        if got.len() != n || plain_rows.len() != n {
            return Err(err("a caseload query lost rows"));
        }
    }
    store.close()?;
    Ok((median(ours), median(theirs)))
}

/// A line of `/proc/self/status` in KiB (`VmHWM:`, `VmRSS:`).
fn status_kib(field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string("/proc/self/status").map_err(err)?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .ok_or_else(|| err(format!("{field} missing from /proc/self/status")))?
        .parse()
        .map_err(err)
}

/// In a fresh process: open the store at `path`, run the first caseload, and print
/// `open_us caseload_us rows loaded_documents vmhwm_kib` on one line.
fn open_child(path: &Path) -> Result<(), Error> {
    let start = Instant::now();
    let store = Store::open_with(
        path,
        Encryption::Key(StoreKey::Raw(KEY)),
        StoreOptions::default(),
    )?;
    let opened = start.elapsed();
    let rows = store.caseload()?.len();
    let listed = start.elapsed();
    let hwm = status_kib("VmHWM:")?;
    println!(
        "{} {} {rows} {} {hwm}",
        opened.as_micros(),
        listed.as_micros(),
        store.loaded_documents()?
    );
    Ok(())
}

/// What the `--open-child` process measured.
struct OpenCosts {
    opened: Duration,
    listed: Duration,
    loaded: u64,
    hwm_kib: u64,
}

/// Open + first caseload query of a store of `n` records, in a fresh process.
fn open_large(path: &Path, n: usize) -> Result<OpenCosts, Error> {
    fill(path, n)?;
    let exe = std::env::current_exe().map_err(err)?;
    let out = Command::new(exe)
        .arg("--open-child")
        .arg(path)
        .output()
        .map_err(err)?;
    if !out.status.success() {
        return Err(err(format!(
            "the open process failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let f = line
        .split_whitespace()
        .map(str::parse::<u64>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let [opened, listed, rows, loaded, hwm_kib] = f[..] else {
        return Err(err(format!(
            "unexpected output of the open process: {line:?}"
        )));
    };
    if rows != n as u64 {
        return Err(err(format!("caseload has {rows} of {n}")));
    }
    Ok(OpenCosts {
        opened: Duration::from_micros(opened),
        listed: Duration::from_micros(listed),
        loaded,
        hwm_kib,
    })
}

fn run() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--open-child") {
        let path = args
            .get(i + 1)
            .ok_or_else(|| err("--open-child needs a path"))?;
        return open_child(Path::new(path));
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (edits, docs, children) = if quick {
        (30, 500, 200)
    } else {
        (300, 5000, 2000)
    };
    let scratch = Scratch::new()?;
    println!(
        "store_bench ({}; SQLCipher, WAL, synchronous=FULL)",
        if quick { "quick" } else { "full" }
    );

    if !args.iter().any(|a| a == "--caseload") {
        edits_and_loads(&scratch, edits)?;
    }
    let (ours, plain) = caseload_costs(
        &scratch.0.join("caseload.db"),
        &scratch.0.join("caseload_plain.db"),
        children,
        21,
    )?;
    println!("caseload of {children} children (median of 21 warm queries):");
    println!("  plain table, same rows and order : {plain:>10.2?}");
    println!("  store caseload (projections)     : {ours:>10.2?}");
    println!(
        "  ratio store / plain table        : {:.2}",
        ours.as_secs_f64() / plain.as_secs_f64().max(f64::EPSILON)
    );

    let o = open_large(&scratch.0.join("large.db"), docs)?;
    println!("store of {docs} records, opened in a fresh process:");
    println!(
        "  open (key check, pragmas, migrations check): {:.2?}",
        o.opened
    );
    println!(
        "  open + first caseload query ({docs} rows) : {:.2?}",
        o.listed
    );
    println!(
        "  documents loaded by open + caseload        : {}",
        o.loaded
    );
    println!(
        "  peak RSS of that process (VmHWM)           : {:.1} MiB",
        o.hwm_kib as f64 / 1024.0
    );
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("store_bench: {e}");
        std::process::exit(1);
    }
}

/// Item 1 and the load costs: the edit against a plain `UPDATE`, and loading one form.
fn edits_and_loads(scratch: &Scratch, edits: u32) -> Result<(), Error> {
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

    Ok(())
}
