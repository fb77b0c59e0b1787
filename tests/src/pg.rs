//! PostgreSQL for tests: a fresh, empty database per test on the cluster named by
//! `HOMEVISIT_TEST_POSTGRES` (a `postgres://` URL of a role that may create databases).
//! `.ci/run` starts a throw-away cluster on loopback and sets it (`.ci/postgres.sh`); a developer
//! runs `eval "$(bash .ci/postgres.sh start)"` once. Without it these tests fail, with that
//! instruction: they are never skipped.

use homevisit_server::Location;
use tokio_postgres::NoTls;

/// The variable naming the test cluster.
pub const ENV: &str = "HOMEVISIT_TEST_POSTGRES";

/// The test cluster's URL.
pub fn cluster_url() -> String {
    std::env::var(ENV).unwrap_or_else(|_| {
        panic!(
            "{ENV} is not set: these tests need PostgreSQL. Start a throw-away cluster with \
             `eval \"$(bash .ci/postgres.sh start)\"` (Debian's postgresql package), as .ci/run does"
        )
    })
}

/// Creates an empty database for one test; returns its URL.
pub async fn fresh_database() -> String {
    let url = cluster_url();
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the test cluster at {url}: {e}"));
    let conn = tokio::spawn(connection);
    let name = format!("hv_test_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    drop(client);
    let _ = conn.await;
    with_database(&url, &name)
}

/// `url` with its database replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// A fresh database as a server storage location.
pub async fn fresh_location() -> Location {
    Location::Postgres(fresh_database().await)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://hv@127.0.0.1:55432/postgres", "x"),
            "postgres://hv@127.0.0.1:55432/x"
        );
        assert_eq!(
            with_database("postgres://hv@127.0.0.1:55432", "x"),
            "postgres://hv@127.0.0.1:55432/x"
        );
        assert_eq!(
            with_database("postgres://hv@h/db?sslmode=disable", "x"),
            "postgres://hv@h/x?sslmode=disable"
        );
    }
}
