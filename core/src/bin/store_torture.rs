//! Crash-test child process for `core/tests/integration/store_crash.rs` (`SAF-LOST-EDIT`).
//!
//! `store_torture <db path> <record id>` opens the encrypted store, creates the record if it
//! is missing, then edits it in an endless loop: edit `n` sets root key `t<n>` to `n`. After
//! each edit *returns* it prints `saved <n>` and flushes, so every printed line is an edit the
//! store reported as durable. The test kills this process with SIGKILL at random moments and
//! checks that every printed edit survived. A small compaction threshold makes kills also land
//! in the middle of compactions.

use std::io::Write;

use automerge::{transaction::Transactable, AutoCommit, ReadDoc, ROOT};
use homevisit_core::{
    store::{CompactionPolicy, Encryption, Store, StoreKey, StoreOptions},
    Error, RecordId,
};

/// The test key (a real app takes it from the platform keystore).
pub const TORTURE_KEY: [u8; 32] = [0x5a; 32];

fn run() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(id)) = (args.next(), args.next()) else {
        return Err(Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: "usage: store_torture <db path> <record id>".into(),
        });
    };
    let id: RecordId = id.parse()?;
    let options = StoreOptions {
        compaction: CompactionPolicy {
            max_chunks: 7,
            min_chunk_bytes: 1 << 20,
        },
        ..StoreOptions::default()
    };
    let encryption = Encryption::Key(StoreKey::Raw(TORTURE_KEY));
    // The first round creates the store; every later round reopens what the killed one left.
    let store = if std::path::Path::new(&path).exists() {
        Store::open_with(&path, encryption, options)?
    } else {
        Store::create_new_with(&path, encryption, options)?
    };
    if !store.contains(id)? {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "id", id.to_string())?;
        doc.commit();
        store.create(id, doc)?;
    }
    // Continue after the highest edit already stored.
    let mut n = store.read(id, |d| {
        Ok(d.keys(ROOT)
            .filter_map(|k| k.strip_prefix('t').and_then(|n| n.parse::<u64>().ok()))
            .max()
            .map_or(0, |m| m + 1))
    })?;
    let stdout = std::io::stdout();
    loop {
        store.edit(id, |d| {
            d.put(ROOT, format!("t{n}"), n as i64)?;
            d.commit();
            Ok(())
        })?;
        let mut out = stdout.lock();
        writeln!(out, "saved {n}").map_err(|e| Error::Internal(e.to_string()))?;
        out.flush().map_err(|e| Error::Internal(e.to_string()))?;
        n += 1;
    }
}

fn main() {
    if let Err(e) = run() {
        eprintln!("store_torture: {e}");
        std::process::exit(1);
    }
}
