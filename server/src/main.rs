//! `homevisit-server`: the team server and its admin commands.
//!
//! Each admin command prints exactly one line on stdout (the new id or token) so scripts can
//! capture it; everything else goes to stderr.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use homevisit_server::{admin, AnyStore, App, Location, ServerConfig};
use uuid::Uuid;

#[derive(Debug, Parser)]
#[command(name = "homevisit-server", version, about = "HomeVisit team server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the server's data lives: exactly one of the two.
#[derive(Debug, clap::Args)]
struct StoreArgs {
    /// Directory holding the embedded (SQLite) server database.
    #[arg(
        long,
        required_unless_present = "database",
        conflicts_with = "database"
    )]
    data_dir: Option<PathBuf>,
    /// PostgreSQL database shared by every instance (postgres://user@host:port/db).
    #[arg(long)]
    database: Option<String>,
}

impl StoreArgs {
    fn location(self) -> Result<Location, String> {
        Location::from_options(self.data_dir, self.database)
    }

    async fn open(self) -> Result<AnyStore, Box<dyn std::error::Error>> {
        let location = self.location()?;
        Ok(AnyStore::open(&location).await?)
    }
}

// Parsed once at start: the size of `Serve`'s options does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the team server.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on; port 0 picks a free port (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:8787")]
        listen: SocketAddr,
        /// Largest WebSocket message accepted, in bytes.
        #[arg(long)]
        max_message_bytes: Option<usize>,
        /// Largest stored document, in bytes.
        #[arg(long)]
        max_document_bytes: Option<u64>,
        /// Most operations a document may hold once loaded; an upload or sync message that
        /// would pass it is refused with `too-many-ops:` before it is loaded
        /// [default: 1000000].
        #[arg(long)]
        max_document_ops: Option<u64>,
        /// Largest attachment (photo) a device may upload, in bytes [default: 26214400].
        #[arg(long)]
        max_attachment_bytes: Option<u64>,
        /// Attachment bytes one team may hold, in bytes [default: 21474836480].
        #[arg(long)]
        team_attachment_quota_bytes: Option<u64>,
        /// PEM certificate chain (leaf first): serve HTTPS/wss:// with it (needs --tls-key).
        #[arg(long, requires = "tls_key")]
        tls_cert: Option<PathBuf>,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the --tls-cert certificate.
        #[arg(long, requires = "tls_cert")]
        tls_key: Option<PathBuf>,
        /// Seconds a connection may take to send its HTTP request head before it is closed
        /// [default: 10].
        #[arg(long)]
        header_read_timeout_secs: Option<u64>,
        /// Most accepted connections still sending their first request (or in their TLS
        /// handshake); more get 503 and are closed at once [default: 1024].
        #[arg(long)]
        max_pending_connections: Option<usize>,
        /// Most WebSocket connections open at once; more get 503 [default: 4096].
        #[arg(long)]
        max_connections: Option<usize>,
        /// Most WebSocket connections per device; more get 429 [default: 4].
        #[arg(long)]
        max_connections_per_device: Option<usize>,
        /// Bad tokens one source address may present per window before it gets 429
        /// [default: 20; 0 turns the limit off].
        #[arg(long)]
        max_auth_failures: Option<u32>,
        /// The window of --max-auth-failures, in seconds [default: 60].
        #[arg(long)]
        auth_failure_window_secs: Option<u64>,
        /// Seconds a connection may stay silent (no message, no pong) before it is closed
        /// [default: 90].
        #[arg(long)]
        idle_timeout_secs: Option<u64>,
        /// Seconds a client may take to read a message the server sends before it is
        /// disconnected [default: 60].
        #[arg(long)]
        write_timeout_secs: Option<u64>,
        /// Documents kept loaded in memory; idle ones beyond this are dropped and reloaded
        /// from the database when next used [default: 512].
        #[arg(long)]
        doc_cache_slots: Option<usize>,
        /// Seconds a console session may go unused before it ends [default: 900, 15 minutes].
        #[arg(long)]
        console_idle_timeout_secs: Option<u64>,
        /// Seconds after sign-in at which a console session ends, used or not
        /// [default: 28800, 8 hours].
        #[arg(long)]
        console_absolute_timeout_secs: Option<u64>,
        /// Failed console sign-ins per account and per address in 15 minutes before sign-in is
        /// refused for the rest of the window [default: 5; 0 turns the limit off].
        #[arg(long)]
        console_max_failures: Option<u32>,
        /// Caps the database at this many pages (SQLite max_page_count): a storage quota, and
        /// how the full-disk path is exercised.
        #[arg(long, hide = true)]
        max_db_pages: Option<u64>,
    },
    /// Team administration.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// User administration.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Device tokens.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Copies an embedded server's data (stop it first) into an empty PostgreSQL database,
    /// unchanged: tablets carry on with their cursors and sync states.
    Migrate {
        /// The embedded server's data directory.
        #[arg(long)]
        from_data_dir: PathBuf,
        /// The empty PostgreSQL database (postgres://user@host:port/db).
        #[arg(long)]
        to: String,
    },
    /// Writes a consistent copy of the embedded database while the server runs. Restore: put
    /// the file as homevisit-server.db in an empty data directory. (PostgreSQL: pg_dump.)
    Backup {
        /// The embedded server's data directory.
        #[arg(long)]
        data_dir: PathBuf,
        /// The backup file to create (never overwritten).
        #[arg(long)]
        to: PathBuf,
    },
    /// Runs a team server on a temporary database with an OT's and an AP's tablet, offline
    /// edits, a conflict and sync, and prints what happened.
    Demo,
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Creates a team; prints its id.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// The team's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Creates a user; prints its id.
    Add {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        team: Uuid,
        #[arg(long)]
        name: String,
        /// ap, ot or approver.
        #[arg(long)]
        role: String,
        /// HCPC registration number.
        #[arg(long)]
        hcpc: Option<String>,
        /// Date (YYYY-MM-DD) until which the HCPC registration was checked valid.
        #[arg(long)]
        hcpc_verified_until: Option<NaiveDate>,
    },
    /// Gives a user team-console access: reads the password (at least 12 characters) from
    /// the first line of standard input, stores only its argon2id hash, and ends the user's
    /// open console sessions.
    SetPassword {
        #[command(flatten)]
        store: StoreArgs,
        /// The user's id.
        #[arg(long)]
        user: Uuid,
        /// The login the user signs in with.
        #[arg(long)]
        login: String,
    },
    /// Removes a user's team-console access; their console sessions end at once.
    RemoveConsole {
        #[command(flatten)]
        store: StoreArgs,
        /// The user's id.
        #[arg(long)]
        user: Uuid,
    },
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Registers a device; prints its token (shown only this once).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        user: Uuid,
        #[arg(long)]
        name: String,
    },
    /// Revokes a device by id or token; it wipes its data on next contact.
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        /// The device id, or its token.
        device: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(Some(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<Option<String>, Box<dyn std::error::Error>> {
    match command {
        Command::Serve {
            store,
            listen,
            max_message_bytes,
            max_document_bytes,
            max_document_ops,
            max_attachment_bytes,
            team_attachment_quota_bytes,
            tls_cert,
            tls_key,
            header_read_timeout_secs,
            max_pending_connections,
            max_connections,
            max_connections_per_device,
            max_auth_failures,
            auth_failure_window_secs,
            idle_timeout_secs,
            write_timeout_secs,
            doc_cache_slots,
            console_idle_timeout_secs,
            console_absolute_timeout_secs,
            console_max_failures,
            max_db_pages,
        } => {
            let store = store.open().await?;
            if max_db_pages.is_some() {
                match &store {
                    AnyStore::Sqlite(s) => {
                        s.set_max_pages(max_db_pages).await?;
                    }
                    AnyStore::Postgres(_) => {
                        return Err("--max-db-pages applies to the embedded database only".into())
                    }
                }
            }
            let mut config = ServerConfig::default();
            if let Some(n) = max_message_bytes {
                config.max_message_bytes = n;
            }
            if let Some(n) = max_document_bytes {
                config.max_document_bytes = n;
            }
            if let Some(n) = max_document_ops {
                config.document_limits.max_ops = n;
            }
            if let Some(n) = max_attachment_bytes {
                config.max_attachment_bytes = n;
            }
            if let Some(n) = team_attachment_quota_bytes {
                config.team_attachment_quota_bytes = n;
            }
            if let Some(s) = header_read_timeout_secs {
                config.header_read_timeout = Duration::from_secs(s.max(1));
            }
            if let Some(n) = max_pending_connections {
                config.max_pending_connections = n.max(1);
            }
            if let Some(n) = max_connections {
                config.max_connections = n;
            }
            if let Some(n) = max_connections_per_device {
                config.max_connections_per_device = n;
            }
            if let Some(n) = max_auth_failures {
                config.max_auth_failures = n;
            }
            if let Some(s) = auth_failure_window_secs {
                config.auth_failure_window = Duration::from_secs(s.max(1));
            }
            if let Some(s) = idle_timeout_secs {
                config.idle_timeout = Duration::from_secs(s.max(1));
            }
            if let Some(s) = write_timeout_secs {
                config.write_timeout = Duration::from_secs(s.max(1));
            }
            if let Some(n) = doc_cache_slots {
                config.doc_cache_slots = n.max(1);
            }
            if let Some(s) = console_idle_timeout_secs {
                config.console.idle_timeout = Duration::from_secs(s.max(1));
            }
            if let Some(s) = console_absolute_timeout_secs {
                config.console.absolute_timeout = Duration::from_secs(s.max(1));
            }
            if let Some(n) = console_max_failures {
                config.console.max_failures = n;
            }
            // Read the certificate before binding: a bad file fails the start, not a handshake.
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(homevisit_server::tls::server_config(&cert, &key)?),
                _ => None,
            };
            // Console cookies are `Secure` whenever the server speaks TLS.
            config.console.secure_cookies = tls.is_some();
            let listener = tokio::net::TcpListener::bind(listen).await?;
            let addr = listener.local_addr()?;
            // The one stdout line of `serve`: scripts and tests learn the port from it.
            println!("listening {addr}");
            tracing::info!(%addr, storage = store.kind(), tls = tls.is_some(), "serving");
            let app = App::new(store, config);
            match tls {
                Some(tls) => homevisit_server::serve_tls(listener, tls, app).await?,
                None => homevisit_server::serve(listener, app).await?,
            }
            Ok(None)
        }
        Command::Migrate { from_data_dir, to } => {
            let db = from_data_dir.join(homevisit_server::sqlite::DB_FILE);
            if !db.is_file() {
                return Err(format!("{} has no server database", from_data_dir.display()).into());
            }
            let from = homevisit_server::SqliteStore::open(&db)?;
            let Location::Postgres(url) = Location::from_options(None, Some(to))? else {
                return Err("--to takes a postgres:// URL".into());
            };
            let to = homevisit_server::PgStore::connect(&url).await?;
            let report = homevisit_server::migrate::sqlite_to_postgres(&from, &to).await?;
            Ok(Some(report.to_string()))
        }
        Command::Backup { data_dir, to } => {
            let db = data_dir.join(homevisit_server::sqlite::DB_FILE);
            if !db.is_file() {
                return Err(format!("{} has no server database", data_dir.display()).into());
            }
            homevisit_server::SqliteStore::open(&db)?
                .backup_to(&to)
                .await?;
            Ok(Some(format!("backup written to {}", to.display())))
        }
        Command::Demo => {
            let dir = tempfile::tempdir()?;
            let account = homevisit_server::demo::run(dir.path())
                .await
                .map_err(|e| -> Box<dyn std::error::Error> { e.to_string().into() })?;
            print!("{account}");
            Ok(None)
        }
        Command::Team {
            command: TeamCommand::Add { store, name },
        } => {
            let store = store.open().await?;
            Ok(Some(admin::add_team(&store, &name).await?.to_string()))
        }
        Command::User {
            command:
                UserCommand::Add {
                    store,
                    team,
                    name,
                    role,
                    hcpc,
                    hcpc_verified_until,
                },
        } => {
            let store = store.open().await?;
            let id = admin::add_user(&store, team, &name, &role, hcpc, hcpc_verified_until).await?;
            Ok(Some(id.to_string()))
        }
        Command::User {
            command: UserCommand::SetPassword { store, user, login },
        } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let store = store.open().await?;
            admin::set_console_password(&store, user, &login, &password).await?;
            tracing::info!(%user, "console access set");
            Ok(None)
        }
        Command::User {
            command: UserCommand::RemoveConsole { store, user },
        } => {
            let store = store.open().await?;
            admin::remove_console_access(&store, user).await?;
            tracing::info!(%user, "console access removed");
            Ok(None)
        }
        Command::Device {
            command: DeviceCommand::Add { store, user, name },
        } => {
            let store = store.open().await?;
            let (device_id, token) = admin::add_device(&store, user, &name).await?;
            tracing::info!(%device_id, "device added");
            Ok(Some(token))
        }
        Command::Device {
            command: DeviceCommand::Revoke { store, device },
        } => {
            let store = store.open().await?;
            let id = admin::revoke_device(&store, &device).await?;
            tracing::info!(device_id = %id, "device revoked");
            Ok(None)
        }
    }
}
