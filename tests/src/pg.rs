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

/// A real `homevisit-server serve --database …` process (the binary beside the test
/// executable, as `cargo build --workspace` leaves it), killed when dropped.
pub struct Instance {
    child: std::process::Child,
    /// Where it listens (`127.0.0.1:port`).
    pub addr: String,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance")
            .field("addr", &self.addr)
            .finish()
    }
}

/// The server binary beside the running test executable.
pub fn server_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("homevisit-server");
    assert!(
        bin.exists(),
        "build the workspace first: {} is missing",
        bin.display()
    );
    bin
}

impl Instance {
    /// Starts an instance on the database at `url`, on a free loopback port.
    pub fn start(url: &str) -> Self {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(server_binary())
            .args(["serve", "--database", url, "--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("unexpected first line from the server: {line:?}"))
            .to_string();
        Self { child, addr }
    }

    /// Kills the process with SIGKILL (no shutdown of any kind) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// HAProxy (Debian's `haproxy`) in front of several instances, as ADR 0016 tells operators to
/// run it: round robin, `/healthz` checked every 200 ms, a dead instance taken out after one
/// failed check, and a connection attempt to a dead instance redispatched to another.
pub struct Haproxy {
    child: std::process::Child,
    /// The address devices use.
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl std::fmt::Debug for Haproxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Haproxy").field("addr", &self.addr).finish()
    }
}

impl Haproxy {
    /// Starts HAProxy on a free loopback port in front of `backends` (`host:port` each).
    pub fn start(backends: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let servers: String = backends
            .iter()
            .enumerate()
            .map(|(i, b)| format!("  server s{i} {b} check\n"))
            .collect();
        let config = format!(
            "global\n  maxconn 4096\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 120s\n  timeout server 120s\n  \
             timeout tunnel 120s\n  option redispatch\n  retries 3\n\
             frontend devices\n  bind 127.0.0.1:{port}\n  default_backend instances\n\
             backend instances\n  balance roundrobin\n  option httpchk GET /healthz\n  \
             default-server inter 200ms fall 1 rise 1\n{servers}"
        );
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).unwrap();
        let haproxy = ["/usr/sbin/haproxy", "/usr/bin/haproxy"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or_else(|| panic!("haproxy is not installed (apt-get install haproxy)"));
        let child = std::process::Command::new(haproxy)
            .args(["-db", "-f"])
            .arg(&path)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        // Ready when it accepts connections (it binds before serving).
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        Self {
            child,
            addr,
            _dir: dir,
        }
    }

    /// `ws://addr/sync` through the proxy.
    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
