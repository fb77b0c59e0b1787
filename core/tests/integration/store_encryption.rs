//! Encryption at rest (`SAF-DEVICE-LOST`): no plaintext header or names in the database file or
//! its WAL, and a wrong key is a typed error that leaves the file byte for byte unchanged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::Path;

use homevisit_core::{
    doc,
    store::{Store, StoreKey},
    Error, RecordId,
};
use sha2::{Digest, Sha256};
use store_support::*;
use uuid::Uuid;

const KEY: [u8; 32] = [0x11; 32];
const NAME: &str = "Perpetua";
const FAMILY: &str = "Quackenbush";
const NHS: &str = "9434765919";

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn file_hash(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

fn files_of(db: &Path) -> Vec<std::path::PathBuf> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|s| std::path::PathBuf::from(format!("{}{s}", db.display())))
        .filter(|p| p.exists())
        .collect()
}

fn write_child(store: &Store) -> RecordId {
    let a = ot(Uuid::new_v4());
    let id = RecordId::new();
    store
        .create(id, child_doc(&a, id, NAME, FAMILY, "2016-05-01", NHS))
        .unwrap();
    store
        .edit(id, |d| set(d, &a, "preferred_name", "Pet"))
        .unwrap();
    id
}

#[test]
fn saf_device_lost_file_and_wal_hold_no_header_or_plaintext_names() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::create_new(&path, StoreKey::Raw(KEY)).unwrap();
    write_child(&store);
    // While open, the recent pages sit in the WAL: check it too.
    let open_files = files_of(&path);
    assert!(open_files
        .iter()
        .any(|p| p.to_string_lossy().ends_with("-wal")));
    for f in &open_files {
        let bytes = std::fs::read(f).unwrap();
        for needle in [NAME, FAMILY, NHS, "homevisit/child"] {
            assert!(
                !contains(&bytes, needle.as_bytes()),
                "{needle} in {}",
                f.display()
            );
        }
    }
    store.close().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0");
    for needle in [NAME, FAMILY, NHS, "CREATE TABLE"] {
        assert!(
            !contains(&bytes, needle.as_bytes()),
            "{needle} in the closed file"
        );
    }

    // The plain mode (tests and demo only) really is plain: the check above is meaningful.
    let plain = dir.path().join("plain.db");
    let store = Store::create_new_plain_for_tests_and_demo(&plain).unwrap();
    write_child(&store);
    store.close().unwrap();
    let bytes = std::fs::read(&plain).unwrap();
    assert_eq!(&bytes[..16], b"SQLite format 3\0");
    assert!(contains(&bytes, FAMILY.as_bytes()));
}

#[test]
fn saf_device_lost_wrong_key_is_wrong_key_and_leaves_the_file_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::create_new(&path, StoreKey::Raw(KEY)).unwrap();
    let id = write_child(&store);
    store.close().unwrap();
    assert_eq!(
        files_of(&path),
        vec![path.clone()],
        "closed cleanly: no WAL left"
    );
    let before = file_hash(&path);

    let wrong = [
        StoreKey::Raw([0x12; 32]),
        StoreKey::Passphrase("not the key".into()),
    ];
    for key in wrong {
        assert!(matches!(Store::open(&path, key), Err(Error::WrongKey)));
        assert_eq!(file_hash(&path), before, "the file is byte-identical");
        assert_eq!(files_of(&path), vec![path.clone()], "no WAL or SHM created");
    }
    assert!(matches!(
        Store::open_plain_for_tests_and_demo(&path),
        Err(Error::WrongKey)
    ));
    assert_eq!(file_hash(&path), before);

    // The right key still opens it, with the data.
    let store = Store::open(&path, StoreKey::Raw(KEY)).unwrap();
    let json = store.read(id, |d| doc::to_json(d)).unwrap();
    assert_eq!(json["family_name"], serde_json::json!(FAMILY));
}

#[test]
fn a_passphrase_store_opens_only_with_its_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let pass = || StoreKey::Passphrase("correct horse battery staple".into());
    let store = Store::create_new(&path, pass()).unwrap();
    let id = write_child(&store);
    store.close().unwrap();
    assert!(matches!(
        Store::open(&path, StoreKey::Raw(KEY)),
        Err(Error::WrongKey)
    ));
    let store = Store::open(&path, pass()).unwrap();
    assert!(store.contains(id).unwrap());
    assert!(
        Store::create_new(dir.path().join("e.db"), StoreKey::Passphrase(String::new())).is_err()
    );
}

#[test]
fn a_plain_test_store_does_not_open_with_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.db");
    let store = Store::create_new_plain_for_tests_and_demo(&path).unwrap();
    write_child(&store);
    store.close().unwrap();
    let before = file_hash(&path);
    assert!(matches!(
        Store::open(&path, StoreKey::Raw(KEY)),
        Err(Error::WrongKey)
    ));
    assert_eq!(file_hash(&path), before);
}
