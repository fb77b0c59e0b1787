//! The bounded, least-recently-used cache of loaded documents.
//!
//! Opening a store loads nothing; a document is decoded from its snapshot and chunks the first
//! time a record is read or edited and stays here until less recently used documents push it
//! out. The cached document is always exactly what is on disk: an edit that fails to commit
//! marks its entry stale and removes it, so the unsaved change is never seen again.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use automerge::{AutoCommit, ChangeHash};

use crate::ids::RecordId;

/// A loaded document and the heads that are on disk.
#[derive(Debug)]
pub(crate) struct CachedDoc {
    /// The document, equal to its saved state whenever the entry's lock is free.
    pub doc: AutoCommit,
    /// Heads of the saved state: the next save writes every change after these.
    pub saved_heads: Vec<ChangeHash>,
    /// Set when the document may hold something that is not on disk; holders must reload.
    pub stale: bool,
}

impl CachedDoc {
    pub fn new(mut doc: AutoCommit) -> Self {
        let saved_heads = doc.get_heads();
        Self {
            doc,
            saved_heads,
            stale: false,
        }
    }
}

/// A shared handle to one cached document.
pub(crate) type DocHandle = Arc<Mutex<CachedDoc>>;

/// Counters of the cache, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    /// The most documents kept loaded.
    pub capacity: usize,
    /// Documents loaded now.
    pub cached: usize,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to load from disk.
    pub misses: u64,
    /// Documents pushed out to respect the capacity.
    pub evictions: u64,
}

/// LRU map: `entries` holds each document with its last-use tick, `order` the ticks.
#[derive(Debug)]
pub(crate) struct DocCache {
    capacity: usize,
    tick: u64,
    entries: HashMap<RecordId, (DocHandle, u64)>,
    order: BTreeMap<u64, RecordId>,
    hits: u64,
    misses: u64,
    evictions: u64,
}

impl DocCache {
    /// A cache holding at most `capacity` documents (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
            order: BTreeMap::new(),
            hits: 0,
            misses: 0,
            evictions: 0,
        }
    }

    /// The cached handle, marked as most recently used; counts a hit or a miss.
    pub fn get(&mut self, id: RecordId) -> Option<DocHandle> {
        self.tick += 1;
        let tick = self.tick;
        match self.entries.get_mut(&id) {
            Some((handle, used)) => {
                self.order.remove(used);
                *used = tick;
                self.order.insert(tick, id);
                self.hits += 1;
                Some(Arc::clone(handle))
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    /// Caches `doc` unless another copy got there first (then that one is returned and `doc`
    /// is dropped: the first copy is the one any writer may already be holding).
    pub fn insert_if_absent(&mut self, id: RecordId, doc: CachedDoc) -> DocHandle {
        if let Some((handle, _)) = self.entries.get(&id) {
            return Arc::clone(handle);
        }
        self.tick += 1;
        let handle = Arc::new(Mutex::new(doc));
        self.entries.insert(id, (Arc::clone(&handle), self.tick));
        self.order.insert(self.tick, id);
        while self.entries.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
            self.evictions += 1;
        }
        handle
    }

    /// Forgets a document (it will be reloaded from disk on next use).
    pub fn remove(&mut self, id: RecordId) {
        if let Some((_, used)) = self.entries.remove(&id) {
            self.order.remove(&used);
        }
    }

    /// Forgets every document.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.order.clear();
    }

    /// The counters.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            capacity: self.capacity,
            cached: self.entries.len(),
            hits: self.hits,
            misses: self.misses,
            evictions: self.evictions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> CachedDoc {
        CachedDoc::new(AutoCommit::new())
    }

    #[test]
    fn least_recently_used_document_is_evicted_first() {
        let mut cache = DocCache::new(2);
        let (a, b, c) = (RecordId::new(), RecordId::new(), RecordId::new());
        cache.insert_if_absent(a, doc());
        cache.insert_if_absent(b, doc());
        assert!(cache.get(a).is_some(), "a is now the most recently used");
        cache.insert_if_absent(c, doc());
        assert!(cache.get(b).is_none(), "b was the least recently used");
        assert!(cache.get(a).is_some());
        assert!(cache.get(c).is_some());
        let stats = cache.stats();
        assert_eq!(stats.cached, 2);
        assert_eq!(stats.evictions, 1);
        assert_eq!(stats.hits, 3);
        assert_eq!(stats.misses, 1);
    }

    #[test]
    fn insert_keeps_the_first_copy() {
        let mut cache = DocCache::new(4);
        let id = RecordId::new();
        let first = cache.insert_if_absent(id, doc());
        let second = cache.insert_if_absent(id, doc());
        assert!(Arc::ptr_eq(&first, &second));
        cache.remove(id);
        assert!(cache.get(id).is_none());
    }
}
