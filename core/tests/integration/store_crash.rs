//! Crash safety (`SAF-LOST-EDIT`): an edit the store reported as saved survives the process
//! being killed with SIGKILL at any moment, and the database stays intact.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use automerge::{ReadDoc, ROOT};
use homevisit_core::{
    store::{Store, StoreKey},
    RecordId,
};
use rand::Rng;

const KEY: [u8; 32] = [0x5a; 32]; // same as store_torture's
const KILLS: usize = 60;

#[test]
fn saf_lost_edit_every_reported_save_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torture.db");
    let id = RecordId::new();
    let mut rng = rand::thread_rng();
    let mut reported: BTreeSet<u64> = BTreeSet::new();

    for round in 0..KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store_torture"))
            .arg(&path)
            .arg(id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Kill after a random number of confirmed saves: the kill lands wherever the child
        // happens to be (mid-edit, mid-commit, mid-compaction), without timing assumptions.
        let wait_for = rng.gen_range(1..=12);
        for _ in 0..wait_for {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("round {round}: child ended early: {:?}", child.wait()))
                .unwrap();
            let n: u64 = line.strip_prefix("saved ").unwrap().parse().unwrap();
            reported.insert(n);
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // Lines the child printed before dying are reported saves too.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("saved ") {
                reported.insert(n.parse().unwrap());
            }
        }

        let store = Store::open(&path, StoreKey::Raw(KEY)).unwrap();
        store.check_integrity(true).unwrap();
        let stored: BTreeSet<u64> = store
            .read(id, |d| {
                Ok(d.keys(ROOT)
                    .filter_map(|k| k.strip_prefix('t').and_then(|n| n.parse().ok()))
                    .collect())
            })
            .unwrap();
        let lost: Vec<_> = reported.difference(&stored).collect();
        assert!(lost.is_empty(), "round {round}: saved edits lost: {lost:?}");
        // The projection and status written with the last committed edit match the document:
        // rebuilding them from the document changes nothing.
        let summary = store.record_summary(id).unwrap();
        assert!(summary.is_some(), "round {round}: the record is listed");
        let heads = store.read(id, |d| Ok(d.get_heads())).unwrap();
        let mut stored_heads = store.local_heads(id).unwrap().unwrap();
        let mut doc_heads = heads;
        stored_heads.sort();
        doc_heads.sort();
        assert_eq!(
            stored_heads, doc_heads,
            "round {round}: stored heads are the document's"
        );
        let report = store.rebuild_projections().unwrap();
        assert!(report.corrupt.is_empty());
        assert_eq!(store.record_summary(id).unwrap(), summary, "round {round}");
        store.close().unwrap();
    }
    assert!(
        reported.len() >= KILLS,
        "every round saved at least one edit"
    );
}
