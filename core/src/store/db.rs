//! Connections: opening a database file with its key, verifying the key before anything is
//! written, the connection initializer (pragmas) and the mapping of SQLite failures onto the
//! core's typed errors.
//!
//! Order matters for `SAF-DEVICE-LOST` and for "a wrong key leaves the file untouched": the key
//! is applied first, then checked with a pure read; only a connection that has proved it can
//! read the file gets the pragmas that write (WAL switch) and the migrations.

use std::{
    fmt,
    path::{Path, PathBuf},
    time::Duration,
};

use rusqlite::{config::DbConfig, Connection, ErrorCode, OpenFlags};

use crate::error::{Error, Result};

/// How long a connection waits for another connection's lock before failing with "busy".
/// Only the store's own connections share the file, and a write transaction is short (one
/// record), so a few seconds is generous; it only matters across processes (tests, tools).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The key of an encrypted store, handed in by the app (Android Keystore / iOS Keychain).
///
/// `Debug` never prints the key material.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreKey {
    /// 32 random bytes used directly as the SQLCipher key (`PRAGMA key = "x'…'"`): no key
    /// derivation, so opening is fast; the platform keystore guards the bytes.
    Raw([u8; 32]),
    /// A passphrase, stretched by SQLCipher's PBKDF2 (slow on purpose; for the demo and tools).
    Passphrase(String),
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Raw(_) => f.write_str("StoreKey::Raw(<redacted>)"),
            Self::Passphrase(_) => f.write_str("StoreKey::Passphrase(<redacted>)"),
        }
    }
}

/// Whether a store file is encrypted. The unencrypted form exists only for tests and the demo
/// and must be asked for by name ([`Encryption::PlainForTestsAndDemo`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encryption {
    /// SQLCipher with this key (the product).
    Key(StoreKey),
    /// No encryption at all: tests and the demo only, never clinical data.
    PlainForTestsAndDemo,
}

/// Converts an SQLite failure into the core error the caller can act on.
pub(crate) fn sql_error(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            ErrorCode::DiskFull => return Error::DiskFull,
            ErrorCode::OperationInterrupted => return Error::Interrupted,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return Error::Corrupt {
                    record: None,
                    detail: e.to_string(),
                }
            }
            _ => {}
        }
    }
    Error::Sqlite(e)
}

/// `.sql()?` on rusqlite results: maps through [`sql_error`] so that "disk full",
/// "interrupted" and "corrupt" never reach callers as an anonymous database error.
pub(crate) trait SqlResult<T> {
    /// The result with its error mapped to a core [`Error`].
    fn sql(self) -> Result<T>;
}

impl<T> SqlResult<T> for rusqlite::Result<T> {
    fn sql(self) -> Result<T> {
        self.map_err(sql_error)
    }
}

/// Which connection is being opened: the writer runs migrations, readers refuse writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Writer,
    Reader,
}

/// Whether a connection may create the file or only open an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The file must exist ([`Store::open`](super::Store::open)).
    Existing,
    /// The file may be created ([`Store::create`](super::Store::create)).
    New,
}

/// The write-ahead log beside a database file.
pub(crate) fn wal_path(path: &Path) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

/// Opens one connection to `path`, applies and verifies the key, then the pragmas.
///
/// A key that does not open the file is [`Error::WrongKey`] and nothing has been written: the
/// only statements run before the check are `PRAGMA key` and a read of `sqlite_master`. When
/// a write-ahead log is present (a crash left it "hot"), the key is first proved on a
/// read-only connection that keeps its WAL index in private memory and never checkpoints, so
/// a wrong key leaves the database, its `-wal` and its `-shm` byte for byte as they were.
pub(crate) fn open_connection(
    path: &Path,
    encryption: &Encryption,
    role: Role,
    mode: Mode,
) -> Result<Connection> {
    // Readers open after the writer, whose live connection already owns the WAL.
    if role == Role::Writer && wal_path(path).exists() {
        probe_key(path, encryption)?;
    }
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    if mode == Mode::New {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let conn = Connection::open_with_flags(path, flags).sql()?;
    // Until the key is proved, closing this connection must not checkpoint the WAL into the
    // file (SQLite does so when the last connection closes, key or no key).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .sql()?;
    apply_key(&conn, encryption)?;
    verify_readable(&conn, encryption)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
        .sql()?;
    configure(&conn, role)?;
    Ok(conn)
}

/// Proves the key without writing anything: a `query_only` connection in exclusive locking
/// mode (its WAL index lives in heap memory, so the `-shm` file is neither read-marked nor
/// created) that never checkpoints on close. (A read-only file descriptor cannot take the
/// exclusive lock, hence read-write flags without `CREATE`.) Another live connection to the file (the lock is
/// busy) means the WAL is not a crash's leftover; the normal open then proves the key, and
/// closing it is not the last close, so it does not checkpoint either.
fn probe_key(path: &Path, encryption: &Encryption) -> Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).sql()?;
    conn.busy_timeout(Duration::ZERO).sql()?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .sql()?;
    apply_key(&conn, encryption)?;
    conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; PRAGMA query_only = ON;")
        .sql()?;
    match verify_readable(&conn, encryption) {
        Err(Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)))
            if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// Applies the key (or checks that a plain store really is plain). Statement order: SQLCipher
/// requires `PRAGMA key` before any other statement touches the file.
pub fn apply_key(conn: &Connection, encryption: &Encryption) -> Result<()> {
    let Encryption::Key(key) = encryption else {
        return Ok(());
    };
    // SQLCipher logs a failed HMAC check of a wrong key to stderr; the typed error says it.
    // Plain SQLite ignores unknown pragmas, so this is harmless there.
    conn.execute_batch("PRAGMA cipher_log_level = NONE;")
        .sql()?;
    match key {
        StoreKey::Raw(bytes) => {
            // The blob-literal form makes SQLCipher use the bytes as the key, no PBKDF2.
            conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", hex::encode(bytes)))
                .sql()?;
        }
        StoreKey::Passphrase(p) => {
            if p.is_empty() {
                return Err(Error::InvalidInput {
                    rule_id: "SAF-DEVICE-LOST".into(),
                    detail: "an empty passphrase would leave the store unencrypted".into(),
                });
            }
            conn.pragma_update(None, "key", p).sql()?;
        }
    }
    // A build without SQLCipher (the `plain-sqlite` feature, or a dependency graph that
    // unified onto plain SQLite) would silently ignore the key and write plaintext: refuse.
    let cipher: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })
        .sql()?;
    if cipher.as_deref().is_none_or(str::is_empty) {
        return Err(Error::NotPermitted {
            rule_id: "SAF-DEVICE-LOST".into(),
            detail: "this build has no SQLCipher: an encrypted store cannot be opened and \
                     clinical data is never stored in plaintext"
                .into(),
        });
    }
    Ok(())
}

/// The first read: proves the key (or proves a plain file really is plain SQLite).
fn verify_readable(conn: &Connection, encryption: &Encryption) -> Result<()> {
    match conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    }) {
        Ok(_) => Ok(()),
        Err(rusqlite::Error::SqliteFailure(f, _)) if f.code == ErrorCode::NotADatabase => {
            match encryption {
                Encryption::Key(_) => Err(Error::WrongKey),
                // An encrypted file opened without a key looks exactly like this too.
                Encryption::PlainForTestsAndDemo => Err(Error::WrongKey),
            }
        }
        Err(e) => Err(sql_error(e)),
    }
}

/// The connection initializer (after the key is proved).
///
/// - `journal_mode = WAL`: readers never block the writer and a commit is one append.
/// - `synchronous = FULL`: a commit is on stable storage before "saved" is reported, also
///   across power loss, not only a killed process (docs/adr/0003-synchronous-full.md).
/// - `foreign_keys = ON`: chunks, projections and sync rows cannot outlive their document.
/// - `busy_timeout`: waits instead of failing when another connection holds the lock.
/// - readers get `query_only`, so a bug cannot write through them.
fn configure(conn: &Connection, role: Role) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT).sql()?;
    conn.execute_batch("PRAGMA foreign_keys = ON;").sql()?;
    if role == Role::Writer {
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .sql()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Internal(format!(
                "the store could not switch to WAL (journal_mode is {mode})"
            )));
        }
    }
    conn.execute_batch("PRAGMA synchronous = FULL;").sql()?;
    if role == Role::Reader {
        conn.execute_batch("PRAGMA query_only = ON;").sql()?;
    }
    Ok(())
}

/// Runs `PRAGMA quick_check` (or the full `integrity_check`) and turns any complaint into
/// [`Error::Corrupt`].
pub(crate) fn check_integrity(conn: &Connection, full: bool) -> Result<()> {
    let pragma = if full {
        "integrity_check"
    } else {
        "quick_check"
    };
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}")).sql()?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .sql()?
        .collect::<rusqlite::Result<_>>()
        .sql()?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(Error::Corrupt {
            record: None,
            detail: format!("{pragma}: {}", rows.join("; ")),
        })
    }
}
