//! A per-team read copy of the team's documents in a core [`Store`], so that the console
//! reads records (banners, sign states, conflicts, history, caseload) and makes workflow
//! changes through the core's own record service ([`Records`]) exactly as a tablet does.
//!
//! The copy lives in a temporary directory, encrypted with a key that exists only in this
//! process's memory; it is brought up to date from the team's change feed before each page.
//! It is never a source of truth: every change the console makes is committed through the
//! server's document engine ([`crate::docs::Documents::commit`]).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use homevisit_core::{
    model::user::Actor,
    records::{Records, SystemClock},
    rules::config::RulesConfig,
    store::{Encryption, Store, StoreKey, StoreOptions},
    RecordId,
};
use rand::RngCore;
use tempfile::TempDir;
use tokio::sync::Mutex as AsyncMutex;

use super::ConsoleError;
use crate::{app::App, store::ServerStore, store::TeamId};

/// Documents read from the change feed per page.
const FEED_PAGE: usize = 200;

/// One team's copy.
#[derive(Debug)]
pub struct Mirror {
    /// The core store holding the copy.
    pub store: Arc<Store>,
    cursor: AsyncMutex<u64>,
    _dir: TempDir,
}

/// Every team's copy, made on first use.
#[derive(Debug, Default)]
pub struct Mirrors {
    teams: Mutex<HashMap<TeamId, Arc<Mirror>>>,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, homevisit_core::Error> + Send + 'static,
) -> Result<T, ConsoleError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ConsoleError::Internal(format!("mirror task failed: {e}")))?
        .map_err(ConsoleError::from)
}

impl Mirrors {
    /// The team's copy, up to date with every commit so far.
    pub async fn team<S: ServerStore>(
        &self,
        app: &App<S>,
        team: TeamId,
    ) -> Result<Arc<Mirror>, ConsoleError> {
        let existing = self
            .teams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&team)
            .cloned();
        let mirror = match existing {
            Some(m) => m,
            None => {
                let made = blocking(|| {
                    let dir = tempfile::Builder::new()
                        .prefix("homevisit-console-")
                        .tempdir()
                        .map_err(|e| homevisit_core::Error::Internal(e.to_string()))?;
                    let mut key = [0u8; 32];
                    rand::rngs::OsRng.fill_bytes(&mut key);
                    let store = Store::create_new_with(
                        dir.path().join("mirror.db"),
                        Encryption::Key(StoreKey::Raw(key)),
                        StoreOptions::default(),
                    )?;
                    Ok(Mirror {
                        store: Arc::new(store),
                        cursor: AsyncMutex::new(0),
                        _dir: dir,
                    })
                })
                .await?;
                let mut teams = self.teams.lock().unwrap_or_else(|p| p.into_inner());
                Arc::clone(teams.entry(team).or_insert_with(|| Arc::new(made)))
            }
        };
        mirror.refresh(app, team).await?;
        Ok(mirror)
    }
}

impl Mirror {
    /// Copies in every document the team's feed shows changed since the last refresh.
    async fn refresh<S: ServerStore>(
        &self,
        app: &App<S>,
        team: TeamId,
    ) -> Result<(), ConsoleError> {
        let mut cursor = self.cursor.lock().await;
        loop {
            let page = app.store.changed_since(team, *cursor, FEED_PAGE).await?;
            for (id, _) in page.changed {
                self.copy_in(app, team, id).await?;
            }
            *cursor = page.cursor;
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Copies the server's committed document `id` into the mirror (a merge). A document
    /// the core cannot read is skipped and logged: it stays on the server untouched.
    pub async fn copy_in<S: ServerStore>(
        &self,
        app: &App<S>,
        team: TeamId,
        id: RecordId,
    ) -> Result<bool, ConsoleError> {
        let bytes = {
            let slot = app.docs.lock(team, id).await?;
            slot.doc.as_ref().map(automerge::Automerge::save)
        };
        let Some(bytes) = bytes else {
            return Ok(false);
        };
        let store = Arc::clone(&self.store);
        match blocking(move || store.insert_remote_document(id, &bytes)).await {
            Ok(()) => Ok(true),
            Err(ConsoleError::Core(e)) => {
                tracing::warn!(%id, error = %e, "console: a document the core cannot read was skipped");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The core's record service over this copy, acting as `actor`.
    pub fn records(&self, actor: Actor) -> Records {
        Records::new(
            Arc::clone(&self.store),
            actor,
            RulesConfig::default(),
            Arc::new(SystemClock),
        )
    }
}

/// Runs blocking core work (the record service) off the async runtime.
pub async fn run<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, homevisit_core::Error> + Send + 'static,
) -> Result<T, ConsoleError> {
    blocking(f).await
}
