//! The local store keeps its promises about files (`SAF-DEVICE-LOST`, `SAF-LOST-EDIT`): a
//! wrong key after a crash leaves every file byte-identical, opening and creating are
//! different calls, and a missing, empty, directory or unreadable path is a typed
//! `StoreFile` error that creates nothing.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use homevisit_core::{
    store::{Encryption, Store, StoreKey, StoreOptions},
    Error, RecordId, StoreFileProblem,
};
use sha2::{Digest, Sha256};

const TORTURE_KEY: [u8; 32] = [0x5a; 32]; // store_torture's

/// Every file in `dir` with the SHA-256 of its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let bytes = std::fs::read(e.path()).unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                Sha256::digest(bytes).to_vec(),
            )
        })
        .collect()
}

fn problem(r: Result<Store, Error>) -> StoreFileProblem {
    match r {
        Err(Error::StoreFile { problem, .. }) => problem,
        Err(other) => panic!("expected StoreFile, got {other:?}"),
        Ok(_) => panic!("expected StoreFile, the store opened"),
    }
}

/// Runs store_torture on `path` until it reports `saves` saves, then SIGKILLs it: the store
/// is left as a crash leaves it, with a hot write-ahead log.
fn crash_mid_write(path: &Path, id: RecordId, saves: usize) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_store_torture"))
        .arg(path)
        .arg(id.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..saves {
        let line = lines.next().expect("the child reports saves").unwrap();
        assert!(line.starts_with("saved "), "{line}");
    }
    child.kill().unwrap(); // SIGKILL: no close, no checkpoint
    child.wait().unwrap();
}

#[test]
fn saf_device_lost_wrong_key_after_a_crash_leaves_db_wal_and_shm_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("torture.db");
    let id = RecordId::new();
    crash_mid_write(&path, id, 5);
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    assert!(
        std::fs::metadata(&wal).unwrap().len() > 0,
        "the crash left a hot WAL"
    );
    let before = snapshot(dir.path());
    assert!(before.len() >= 2, "{before:?}");

    for wrong in [
        Encryption::Key(StoreKey::Raw([0x12; 32])),
        Encryption::Key(StoreKey::Passphrase("not the key".into())),
        Encryption::PlainForTestsAndDemo,
    ] {
        let r = Store::open_with(&path, wrong.clone(), StoreOptions::default());
        assert!(
            matches!(r, Err(Error::WrongKey)),
            "{wrong:?}: {:?}",
            r.err()
        );
        assert_eq!(
            snapshot(dir.path()),
            before,
            "{wrong:?}: every file (database, -wal, -shm) is byte-identical and none is added \
             or removed"
        );
    }

    // The right key recovers the WAL and every reported save is there.
    let store = Store::open(&path, StoreKey::Raw(TORTURE_KEY)).unwrap();
    store.check_integrity(true).unwrap();
    assert!(store.contains(id).unwrap());
}

#[test]
fn opening_a_missing_file_is_store_file_missing_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    assert_eq!(
        problem(Store::open(&path, StoreKey::Raw([1; 32]))),
        StoreFileProblem::Missing
    );
    assert_eq!(
        problem(Store::open_plain_for_tests_and_demo(&path)),
        StoreFileProblem::Missing
    );
    assert!(snapshot(dir.path()).is_empty(), "no file was created");
}

#[test]
fn opening_a_0_byte_file_is_store_file_empty_and_the_file_stays_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, b"").unwrap();
    assert_eq!(
        problem(Store::open(&path, StoreKey::Raw([1; 32]))),
        StoreFileProblem::Empty
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    assert_eq!(snapshot(dir.path()).len(), 1, "no WAL or SHM created");
    // Set-up may create the store over an empty file: there is nothing in it to lose.
    let store = Store::create_new(&path, StoreKey::Raw([1; 32])).unwrap();
    store.close().unwrap();
    assert!(Store::open(&path, StoreKey::Raw([1; 32])).is_ok());
}

#[test]
fn a_directory_is_store_file_not_a_file_for_open_and_create() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("s.db");
    std::fs::create_dir(&sub).unwrap();
    assert_eq!(
        problem(Store::open(&sub, StoreKey::Raw([1; 32]))),
        StoreFileProblem::NotAFile
    );
    assert_eq!(
        problem(Store::create_new(&sub, StoreKey::Raw([1; 32]))),
        StoreFileProblem::NotAFile
    );
    assert!(std::fs::read_dir(&sub).unwrap().next().is_none());
}

#[test]
fn an_unreadable_path_is_store_file_unreadable() {
    let dir = tempfile::tempdir().unwrap();
    // A path through a regular file can never be read or created.
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, b"not a folder").unwrap();
    let through = file.join("s.db");
    assert_eq!(
        problem(Store::open(&through, StoreKey::Raw([1; 32]))),
        StoreFileProblem::Unreadable
    );
    assert_eq!(
        problem(Store::create_new(&through, StoreKey::Raw([1; 32]))),
        StoreFileProblem::Unreadable
    );
    // Permissions, where the test does not run as root (root reads anything).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join("locked.db");
        Store::create_new(&path, StoreKey::Raw([1; 32]))
            .unwrap()
            .close()
            .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::File::open(&path).is_err() {
            assert_eq!(
                problem(Store::open(&path, StoreKey::Raw([1; 32]))),
                StoreFileProblem::Unreadable
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn creating_where_a_store_exists_is_store_file_already_exists_and_the_store_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::create_new(&path, StoreKey::Raw([1; 32])).unwrap();
    store.set_meta("marker", "kept").unwrap();
    store.close().unwrap();
    let before = snapshot(dir.path());
    for key in [StoreKey::Raw([1; 32]), StoreKey::Raw([2; 32])] {
        assert_eq!(
            problem(Store::create_new(&path, key)),
            StoreFileProblem::AlreadyExists
        );
    }
    assert_eq!(
        problem(Store::create_new_plain_for_tests_and_demo(&path)),
        StoreFileProblem::AlreadyExists
    );
    assert_eq!(snapshot(dir.path()), before);
    let store = Store::open(&path, StoreKey::Raw([1; 32])).unwrap();
    assert_eq!(store.meta("marker").unwrap().as_deref(), Some("kept"));
}
