//! The team server's own TLS (`serve --tls-cert FILE --tls-key FILE`): the real device client
//! syncs over `wss://` straight to it, trusting the team CA; an untrusted certificate, a
//! plain-text client and bad certificate files all fail cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{path::PathBuf, sync::Arc};

use homevisit_core::{store::SyncStatus, sync::SyncConfig, Error};
use homevisit_server::{
    tls::{server_config, TlsError},
    SqliteStore,
};
use homevisit_tests::{device::Device, tls::TEST_CA_DER, TestServer};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/tls")
        .join(name)
}

/// Serves `server`'s application over TLS on another loopback port; returns the `wss://` URL.
async fn serve_tls(server: &TestServer) -> (String, tokio::task::JoinHandle<()>) {
    let tls = server_config(&fixture("localhost.pem"), &fixture("localhost-key.pem")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = server.app.clone();
    let task = tokio::spawn(async move {
        let _ = homevisit_server::serve_tls(listener, tls, app).await;
    });
    (format!("wss://localhost:{port}/sync"), task)
}

fn trusting_the_team_ca() -> SyncConfig {
    SyncConfig {
        extra_root_certificates: vec![TEST_CA_DER.to_vec()],
        ..SyncConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_syncs_over_wss_with_the_servers_own_tls() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let (url, task) = serve_tls(&server).await;
    let a = Device::join_via(&server, &team, url.clone(), trusting_the_team_ca()).await;
    let b = Device::join_via(&server, &team, url, trusting_the_team_ca()).await;
    let child = a.create_child("Amara");
    let report = a.sync().await.unwrap();
    assert_eq!(report.docs_sent, 1);
    assert_eq!(a.status(child), SyncStatus::Synced);
    assert!(server.document(&team, child).await.is_some());
    b.sync().await.unwrap();
    assert_eq!(b.get_str(child, "given_name").as_deref(), Some("Amara"));
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_that_does_not_trust_the_certificate_sends_nothing() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let (url, task) = serve_tls(&server).await;
    let device = Device::join_via(&server, &team, url, SyncConfig::default()).await;
    let child = device.create_child("Amara");
    let outcome = device.sync().await;
    assert!(matches!(outcome, Err(Error::Network(_))), "{outcome:?}");
    assert_eq!(device.status(child), SyncStatus::LocalOnly);
    assert!(server.document(&team, child).await.is_none());
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_ws_to_a_tls_port_fails_and_the_tls_server_keeps_serving() {
    let server = TestServer::start().await;
    let team = server.team("North").await;
    let (url, task) = serve_tls(&server).await;
    let plain_url = url.replace("wss://", "ws://");
    let plain = Device::join_via(&server, &team, plain_url, SyncConfig::default()).await;
    plain.create_child("Amara");
    assert!(matches!(plain.sync().await, Err(Error::Network(_))));
    // A stalled TLS handshake does not block the accept loop either.
    let port: u16 = url
        .trim_start_matches("wss://localhost:")
        .trim_end_matches("/sync")
        .parse()
        .unwrap();
    let _stalled = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let good = Device::join_via(&server, &team, url, trusting_the_team_ca()).await;
    good.create_child("Bea");
    assert!(good.sync().await.unwrap().complete);
    task.abort();
}

#[test]
fn bad_certificate_or_key_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let cert = fixture("localhost.pem");
    let key = fixture("localhost-key.pem");
    assert!(matches!(
        server_config(&missing, &key),
        Err(TlsError::Certificate { .. })
    ));
    assert!(matches!(
        server_config(&garbage, &key),
        Err(TlsError::Certificate { .. })
    ));
    assert!(matches!(
        server_config(&cert, &garbage),
        Err(TlsError::Key { .. })
    ));
    // A key that is not the certificate's: the CA's certificate with the leaf key.
    let ca_pem = dir.path().join("ca.pem");
    let b64 = {
        // PEM from the DER fixture, without a base64 dependency.
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in TEST_CA_DER.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    };
    let body: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|l| String::from_utf8(l.to_vec()).unwrap())
        .collect();
    std::fs::write(
        &ca_pem,
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            body.join("\n")
        ),
    )
    .unwrap();
    assert!(matches!(
        server_config(&ca_pem, &key),
        Err(TlsError::Config(_))
    ));
    assert!(server_config(&cert, &key).is_ok());
}

/// The real `homevisit-server serve --tls-cert --tls-key` binary, next to this test's
/// executable when the workspace is built (`cargo build --workspace` / nextest --workspace).
fn server_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("homevisit-server");
    bin.exists().then_some(bin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_serve_command_with_tls_flags_serves_wss() {
    let Some(bin) = server_binary() else {
        panic!("build the workspace first: target/debug/homevisit-server is missing");
    };
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
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
    let (_, token) = homevisit_server::admin::add_device(&store, ot, "tablet")
        .await
        .unwrap();
    drop(store);
    let mut child = tokio::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .arg("--tls-cert")
        .arg(fixture("localhost.pem"))
        .arg("--tls-key")
        .arg(fixture("localhost-key.pem"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let port = line.rsplit(':').next().unwrap().to_string();
    let url = format!("wss://localhost:{port}/sync");

    let local_dir = tempfile::tempdir().unwrap();
    let local = Arc::new(
        homevisit_core::store::Store::create_new(
            local_dir.path().join("d.db"),
            homevisit_core::store::StoreKey::Raw([3; 32]),
        )
        .unwrap(),
    );
    let client = homevisit_core::sync::SyncClient::with_config(
        url,
        token,
        Arc::clone(&local),
        trusting_the_team_ca(),
    )
    .unwrap();
    let report = client.sync(|_| {}).await.unwrap();
    assert!(report.complete);
    child.kill().await.unwrap();
}
