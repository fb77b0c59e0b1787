//! Automerge work off the async runtime. Loading a stored document, applying a received sync
//! message or whole document, merging and saving take time in proportion to the document, and
//! a device may send a large one; run on the runtime's worker threads they would stall every
//! other connection's tasks on that thread meanwhile. [`Blocking::run`] moves such work to
//! tokio's blocking pool, at most a fixed number of jobs at once (twice the cores by default),
//! so many large documents queue for a place instead of taking every thread.

use std::sync::Arc;

use tokio::sync::Semaphore;

/// Places for automerge work on the blocking pool, shared by every connection.
#[derive(Debug)]
pub struct Blocking {
    permits: Arc<Semaphore>,
    size: usize,
}

/// Why a job gave no result.
#[derive(Debug, thiserror::Error)]
pub enum BlockingError {
    /// The job panicked (or the runtime is shutting down); what it was working on is lost.
    #[error("{what} did not complete: {detail}")]
    Failed {
        /// What the job was doing.
        what: &'static str,
        /// The join error.
        detail: String,
    },
}

impl Blocking {
    /// At most `permits` jobs at once (at least 1).
    pub fn new(permits: usize) -> Self {
        let size = permits.max(1);
        Self {
            permits: Arc::new(Semaphore::new(size)),
            size,
        }
    }

    /// Twice the available cores (at least 2).
    pub fn default_permits() -> usize {
        std::thread::available_parallelism()
            .map(|n| n.get() * 2)
            .unwrap_or(2)
            .max(2)
    }

    /// How many jobs may run at once.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Runs `f` on the blocking pool once a place is free. If the caller stops waiting, `f`
    /// still runs to its end and keeps its place until then.
    pub async fn run<T, F>(&self, what: &'static str, f: F) -> Result<T, BlockingError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|e| BlockingError::Failed {
                what,
                detail: e.to_string(),
            })?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            f()
        })
        .await
        .map_err(|e| BlockingError::Failed {
            what,
            detail: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(flavor = "current_thread")]
    async fn jobs_run_off_the_runtime_at_most_the_permits_at_once() {
        let pool = Arc::new(Blocking::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let mut jobs = Vec::new();
        for _ in 0..6 {
            let (pool, running, most, rx) = (
                Arc::clone(&pool),
                Arc::clone(&running),
                Arc::clone(&most),
                Arc::clone(&rx),
            );
            jobs.push(tokio::spawn(async move {
                pool.run("a test job", move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Blocks this pool thread until the test lets one job go.
                    let _ = rx.lock().unwrap().recv();
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        // The single runtime thread stays free while jobs block: it can still let them go.
        for _ in 0..6 {
            tx.send(()).unwrap();
        }
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "at most two at once");
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_gives_its_place_back() {
        let pool = Blocking::new(1);
        let failed = pool
            .run("a panicking job", || -> u32 { panic!("boom") })
            .await;
        assert!(failed.is_err());
        assert_eq!(pool.run("the next job", || 7).await.unwrap(), 7);
    }
}
