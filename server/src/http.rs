//! The server's accept loop: HTTP/1.1 (plain, or TLS first) on hyper, with two limits that
//! hold whatever a peer sends before its request is complete.
//!
//! - A connection's request head must arrive within `header_read_timeout` of the server
//!   starting to read it; a peer that sends part of a request line and falls silent is
//!   disconnected then (hyper's `header_read_timeout`, driven by tokio's timer).
//! - At most `max_pending_connections` accepted connections may be still in their TLS
//!   handshake or still sending their first request head ([`PendingLimit`]); beyond that, a
//!   new connection gets a `503` written without waiting (plain HTTP only) and is closed at
//!   once. The accept
//!   loop itself never waits on a peer, so a flood of half-open connections holds a bounded
//!   number of file descriptors and a device's connection is still accepted and answered.
//!
//! A connection gives its pending place back as soon as its first request head has been read;
//! WebSocket sessions are then counted by [`crate::limits::ConnectionLimits`].

use std::{io, net::SocketAddr, sync::Arc, time::Duration};

use axum::{extract::ConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpListener,
};
use tokio_rustls::TlsAcceptor;

use crate::{
    limits::{PendingLimit, PendingSlot},
    metrics::Metrics,
    tls::{PeerAddr, HANDSHAKE_TIMEOUT},
    App, ServerStore,
};

/// What a connection beyond the pending limit is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// Serves `app` on `listener` until the process ends: plain HTTP, or HTTPS when `tls` is
/// given.
pub async fn serve<S: ServerStore>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: App<S>,
) -> io::Result<()> {
    let _revocations = app.watch_revocations();
    let pending = Arc::new(PendingLimit::new(app.config.max_pending_connections));
    let header_timeout = app.config.header_read_timeout.max(Duration::from_millis(1));
    let metrics = Arc::clone(&app.metrics);
    let router = app.router();
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(pair) => pair,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Sync frames are small and each waits for an answer: without this, Nagle's algorithm
        // and the peer's delayed ACK hold a live edit back by up to 40 ms on every hop.
        let _ = tcp.set_nodelay(true);
        let Some(slot) = pending.admit() else {
            Metrics::add(&metrics.refused_pending_total, 1);
            // Best effort, never waiting: a fresh socket's send buffer takes these bytes. A TLS
            // client would read them as garbage, so it is only closed.
            if tls.is_none() {
                let _ = tcp.try_write(BUSY);
            }
            drop(tcp);
            continue;
        };
        let router = router.clone();
        let tls = tls.clone();
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            let conn = Connection {
                peer,
                router,
                slot: Arc::new(slot),
                header_timeout,
                metrics,
            };
            match tls {
                None => conn.serve(tcp).await,
                Some(acceptor) => {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => conn.serve(stream).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
}

/// One accepted connection and what serving it needs.
struct Connection {
    peer: SocketAddr,
    router: Router,
    slot: Arc<PendingSlot>,
    header_timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Connection {
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            peer,
            router,
            slot,
            header_timeout,
            metrics,
        } = self;
        let router = TowerToHyperService::new(router);
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            // The head has been read: no longer pending.
            slot.release();
            req.extensions_mut().insert(ConnectInfo(PeerAddr(peer)));
            hyper::service::Service::call(&router, req)
        });
        let served = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades()
            .await;
        if let Err(e) = served {
            if e.is_timeout() {
                Metrics::add(&metrics.header_timeouts_total, 1);
            }
            tracing::debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

/// Errors of one incoming connection (it went away before it was accepted), not the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
