//! The admin command-line contract: each command prints exactly one line (the new id or the
//! token) on stdout, so scripts can capture it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::process::Command;

use common::{admin, BIN};

#[test]
fn team_user_and_device_add_print_exactly_one_id_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let team = admin(&["team", "add", "--data-dir", d, "Luton Children's OT"]);
    assert_eq!(team.len(), 1);
    uuid::Uuid::parse_str(&team[0]).expect("team id is a UUID");

    let user = admin(&[
        "user",
        "add",
        "--data-dir",
        d,
        "--team",
        &team[0],
        "--name",
        "Ana",
        "--role",
        "ap",
    ]);
    assert_eq!(user.len(), 1);
    uuid::Uuid::parse_str(&user[0]).expect("user id is a UUID");

    let ot = admin(&[
        "user",
        "add",
        "--data-dir",
        d,
        "--team",
        &team[0],
        "--name",
        "Olu",
        "--role",
        "ot",
        "--hcpc",
        "OT12345",
        "--hcpc-verified-until",
        "2027-03-31",
    ]);
    assert_eq!(ot.len(), 1);

    let token = admin(&[
        "device",
        "add",
        "--data-dir",
        d,
        "--user",
        &user[0],
        "--name",
        "Ana's tablet",
    ]);
    assert_eq!(token.len(), 1);
    assert_eq!(token[0].len(), 64);
    assert!(token[0].bytes().all(|b| b.is_ascii_hexdigit()));

    let again = admin(&[
        "device",
        "add",
        "--data-dir",
        d,
        "--user",
        &user[0],
        "--name",
        "spare",
    ]);
    assert_ne!(again[0], token[0], "every token is fresh");

    // Revoke by token prints nothing on stdout and succeeds; by unknown id it fails.
    assert!(admin(&["device", "revoke", "--data-dir", d, &token[0]]).is_empty());
    let out = Command::new(BIN)
        .args([
            "device",
            "revoke",
            "--data-dir",
            d,
            &uuid::Uuid::new_v4().to_string(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_arguments_fail_without_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let team = admin(&["team", "add", "--data-dir", d, "T"]);
    for args in [
        vec![
            "user",
            "add",
            "--data-dir",
            d,
            "--team",
            &team[0],
            "--name",
            "X",
            "--role",
            "system",
        ],
        vec![
            "user",
            "add",
            "--data-dir",
            d,
            "--team",
            "00000000-0000-4000-8000-000000000000",
            "--name",
            "X",
            "--role",
            "ot",
        ],
        vec![
            "device",
            "add",
            "--data-dir",
            d,
            "--user",
            "00000000-0000-4000-8000-000000000000",
            "--name",
            "t",
        ],
        vec![
            "user",
            "add",
            "--data-dir",
            d,
            "--team",
            &team[0],
            "--name",
            "X",
            "--role",
            "ot",
            "--hcpc-verified-until",
            "31/03/2027",
        ],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn serve_refuses_to_start_with_unreadable_tls_files_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let missing = dir.path().join("missing-cert.pem");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            d,
            "--listen",
            "127.0.0.1:0",
            "--tls-cert",
        ])
        .arg(&missing)
        .arg("--tls-key")
        .arg(dir.path().join("missing-key.pem"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TLS certificate file") && stderr.contains("missing-cert.pem"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
}

#[test]
fn serve_needs_both_tls_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--data-dir", d, "--tls-cert", "cert.pem"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}
