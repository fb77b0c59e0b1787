//! `homevisit-server`: the team server. It syncs record documents with devices over the
//! automerge-repo protocol (plus HomeVisit extensions), scoped to each device's team, on an
//! embedded SQLite database; admin commands create teams, users and device tokens.

pub mod admin;
pub mod app;
pub mod auth;
pub mod checks;
pub mod conn;
pub mod demo;
pub mod docs;
pub mod metrics;
pub mod sqlite;
pub mod store;

pub use app::{App, ServerConfig};
pub use sqlite::SqliteStore;
pub use store::ServerStore;

/// Serves `app` on `listener` until the process ends.
pub async fn serve<S: ServerStore>(
    listener: tokio::net::TcpListener,
    app: App<S>,
) -> std::io::Result<()> {
    axum::serve(listener, app.router()).await
}
