//! Replays, on stable and without libFuzzer, every checked-in fuzz input through the same target
//! bodies the cargo-fuzz targets run (`homevisit_tests::fuzz`, docs/FUZZING.md): the seed
//! corpora in `tests/fuzz/corpus/<target>/` and every saved crash in
//! `tests/fuzz-regressions/<target>/`. A panic in a body fails the test and names the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    panic::{catch_unwind, AssertUnwindSafe},
    path::{Path, PathBuf},
};

use homevisit_core::sync::Message;
use homevisit_tests::fuzz::{self, TARGETS};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Every file under `dir/<target>/` for every target, sorted.
fn inputs(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != ".gitkeep"))
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|p| (target, p)));
    }
    out
}

/// Runs every input; returns the ones whose body panicked.
fn replay(inputs: &[(&'static str, PathBuf)]) -> Vec<String> {
    let mut failed = Vec::new();
    for (target, path) in inputs {
        let data = std::fs::read(path).unwrap();
        let outcome = catch_unwind(AssertUnwindSafe(|| fuzz::run(target, &data)));
        match outcome {
            Ok(true) => {}
            Ok(false) => failed.push(format!("{}: unknown target {target}", path.display())),
            Err(_) => failed.push(format!("{target}: {}", path.display())),
        }
    }
    failed
}

#[test]
fn every_seed_corpus_input_runs_clean() {
    let corpus = inputs(&root().join("fuzz/corpus"));
    for target in TARGETS {
        assert!(
            corpus.iter().any(|(t, _)| *t == target),
            "no seed corpus for {target} in tests/fuzz/corpus/{target}/"
        );
    }
    let failed = replay(&corpus);
    assert!(
        failed.is_empty(),
        "inputs that panic:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_saved_fuzz_crash_stays_fixed() {
    let saved = inputs(&root().join("fuzz-regressions"));
    // What fuzzing found in automerge (docs/FUZZING.md) is among them.
    for name in [
        "automerge_sync/bloom-without-bits-divides-by-zero",
        "whole_document/load-incremental-unknown-actor-unwrap",
        "whole_document/bundle-chunk-allocates-gigabytes",
    ] {
        let path = root().join("fuzz-regressions").join(name);
        assert!(saved.iter().any(|(_, p)| *p == path), "{name} is missing");
    }
    let failed = replay(&saved);
    assert!(failed.is_empty(), "regressions:\n{}", failed.join("\n"));
}

#[test]
fn every_generated_seed_is_checked_in_and_the_seeds_are_valid() {
    let seeds = fuzz::seed_corpus();
    let dir = root().join("fuzz/corpus");
    for (target, name, bytes) in &seeds {
        let path = dir.join(target).join(name);
        assert!(
            path.is_file(),
            "{} is not checked in; run `HOMEVISIT_WRITE_FUZZ_SEEDS=1 cargo nextest run -p \
             homevisit-tests --test fuzz_regressions write_seed_corpora --run-ignored all`",
            path.display()
        );
        if *target == "protocol_message" {
            // Every protocol seed is a valid frame, so the fuzzer starts from real messages.
            Message::decode(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    // A body rejects nothing it must accept: a real document seed hydrates to its record.
    let child = seeds
        .iter()
        .find(|(t, n, _)| *t == "whole_document" && n == "child.automerge")
        .unwrap();
    let mut doc = automerge::AutoCommit::load(&child.2).unwrap();
    let json = homevisit_core::doc::to_json(&doc).unwrap();
    assert_eq!(json["given_name"], "Amara");
    fuzz::hydrate(&mut doc);
}

/// Writes the seed corpora (`tests/fuzz/corpus/<target>/`) from [`fuzz::seed_corpus`]; run by
/// hand after a protocol or layout change (docs/FUZZING.md).
#[test]
#[ignore = "writes the seed corpora; run by hand with HOMEVISIT_WRITE_FUZZ_SEEDS=1"]
fn write_seed_corpora() {
    if std::env::var_os("HOMEVISIT_WRITE_FUZZ_SEEDS").is_none() {
        return;
    }
    let dir = root().join("fuzz/corpus");
    for (target, name, bytes) in fuzz::seed_corpus() {
        std::fs::create_dir_all(dir.join(target)).unwrap();
        std::fs::write(dir.join(target).join(name), bytes).unwrap();
    }
}
