//! `homevisit-server`: the team server. It syncs record documents with devices over the
//! automerge-repo protocol (plus HomeVisit extensions), scoped to each device's team, on an
//! embedded SQLite database or on PostgreSQL shared by several instances; admin commands create teams, users and device tokens.

pub mod admin;
pub mod app;
pub mod auth;
pub mod backend;
pub mod blobs;
pub mod blocking;
pub mod checks;
pub mod conn;
pub mod console;
pub mod demo;
pub mod docs;
pub mod http;
pub mod limits;
pub mod metrics;
pub mod migrate;
pub mod postgres;
pub mod sqlite;
pub mod store;
pub mod tls;
pub mod verify;

pub use app::{App, ServerConfig};
pub use backend::{AnyStore, Location};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use store::ServerStore;

/// Serves `app` over plain HTTP on `listener` until the process ends.
pub async fn serve<S: ServerStore>(
    listener: tokio::net::TcpListener,
    app: App<S>,
) -> std::io::Result<()> {
    http::serve(listener, None, app).await
}

/// Serves `app` over HTTPS (TLS with `config`) on `listener` until the process ends.
pub async fn serve_tls<S: ServerStore>(
    listener: tokio::net::TcpListener,
    config: std::sync::Arc<rustls::ServerConfig>,
    app: App<S>,
) -> std::io::Result<()> {
    http::serve(listener, Some(tokio_rustls::TlsAcceptor::from(config)), app).await
}
