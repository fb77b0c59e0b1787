//! A TLS-terminating loopback proxy in front of the test server, so the device client's
//! `wss://` path (rustls) runs for real. It presents the test-only `localhost` certificate in
//! tests/fixtures/tls, signed by a test CA the client is told to trust.

use std::{net::SocketAddr, sync::Arc};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_rustls::TlsAcceptor;

/// The test CA certificate (DER): add it to the client's trust anchors.
pub const TEST_CA_DER: &[u8] = include_bytes!("../fixtures/tls/ca.der");
const LEAF_DER: &[u8] = include_bytes!("../fixtures/tls/localhost.der");
const LEAF_KEY_DER: &[u8] = include_bytes!("../fixtures/tls/localhost-key.pk8.der");

/// The proxy; it stops accepting when dropped.
#[derive(Debug)]
pub struct TlsProxy {
    /// Where devices connect.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl TlsProxy {
    /// Starts terminating TLS on a loopback port and forwarding plain TCP to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(LEAF_DER.to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(LEAF_KEY_DER.to_vec())),
            )
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
        Self { addr, task }
    }

    /// The `wss://localhost:port/sync` endpoint (the certificate names `localhost`).
    pub fn url(&self) -> String {
        format!("wss://localhost:{}/sync", self.addr.port())
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
