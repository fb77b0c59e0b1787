//! Changes that arrived before the changes they depend on ("orphans"), kept for the rest of a
//! sync connection.
//!
//! Automerge's sync protocol summarises what a peer has as a Bloom filter, which claims about
//! 1 % of changes it does not hold. When it wrongly claims a change `Y`, the sender leaves `Y`
//! out and sends only its descendant `X`. Automerge relies on the receiver keeping `X` in the
//! document's in-memory queue: its next message then asks for `Y` by hash, and both apply.
//! Neither side here keeps a document in memory for a whole exchange (the server's document
//! cache and the device store's cache both drop idle documents, and reload them from storage,
//! which holds applied changes only). A reloaded document asks for `X` instead, which the
//! sender will not send twice in one session (automerge's `sent_hashes`), and the two peers then
//! trade empty messages for ever while the edit never syncs. Found as a load-test session that
//! never ended (docs/BENCHMARKS.md, N = 1,000), reproduced in
//! `tests/tests/sync_bloom_false_positive.rs`.
//!
//! So the server connection and the device session each keep the change chunks a message
//! carried that did not apply, and put them in front of the next message for that document:
//! applying it re-queues them, and they apply when their dependencies arrive.

use std::collections::HashMap;

use automerge::{sync, Change, ChangeHash};

use crate::ids::RecordId;

/// Waiting changes beyond this many bytes for one connection mean the peer keeps sending
/// changes whose dependencies never come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("more than {limit} bytes of changes whose dependencies never arrived")]
pub struct TooManyOrphans {
    /// The limit that was passed.
    pub limit: usize,
}

/// The change chunks a message carried (its own and the re-queued ones), by hash.
#[derive(Debug, Default)]
pub struct Carried {
    chunks: Vec<(ChangeHash, Vec<u8>)>,
}

impl Carried {
    /// The hashes of the carried changes.
    pub fn hashes(&self) -> Vec<ChangeHash> {
        self.chunks.iter().map(|(h, _)| *h).collect()
    }

    /// Whether the message carried no single changes.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }
}

/// Orphaned changes per document, for one connection.
#[derive(Debug)]
pub struct Orphans {
    docs: HashMap<RecordId, Vec<(ChangeHash, Vec<u8>)>>,
    bytes: usize,
    limit: usize,
}

impl Orphans {
    /// Keeps at most `limit` bytes of waiting changes in all.
    pub fn new(limit: usize) -> Self {
        Self {
            docs: HashMap::new(),
            bytes: 0,
            limit,
        }
    }

    /// Bytes of waiting changes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Whether changes of `id` are waiting.
    pub fn has(&self, id: RecordId) -> bool {
        self.docs.contains_key(&id)
    }

    /// Puts `id`'s waiting changes in front of `message`'s own, so that applying the message
    /// re-queues them, and returns every single change the message now carries, for
    /// [`Orphans::settle`]. A chunk that is not one change (a whole document in a v2 message)
    /// depends on nothing outside itself and is not tracked.
    pub fn carry(&mut self, id: RecordId, message: &mut sync::Message) -> Carried {
        let waiting = self.take(id);
        if waiting.is_empty() && message.changes.is_empty() {
            return Carried::default();
        }
        let own: Vec<(ChangeHash, Vec<u8>)> = message
            .changes
            .iter()
            .filter_map(|chunk| {
                let change = Change::from_bytes(chunk.to_vec()).ok()?;
                Some((change.hash(), chunk.to_vec()))
            })
            .collect();
        let again: Vec<(ChangeHash, Vec<u8>)> = waiting
            .into_iter()
            .filter(|(h, _)| !own.iter().any(|(o, _)| o == h))
            .collect();
        if !again.is_empty() {
            // Waiting changes first; automerge applies them in dependency order either way.
            let mut all: Vec<Vec<u8>> = again.iter().map(|(_, c)| c.clone()).collect();
            all.extend(message.changes.iter().map(<[u8]>::to_vec));
            message.changes = all.into();
        }
        let mut chunks = again;
        chunks.extend(own);
        Carried { chunks }
    }

    /// After the message was applied: keeps the carried changes for which `missing` is true
    /// (the document does not contain them: they wait for their dependencies).
    pub fn settle(
        &mut self,
        id: RecordId,
        carried: Carried,
        missing: impl Fn(&ChangeHash) -> bool,
    ) -> Result<(), TooManyOrphans> {
        let waiting: Vec<(ChangeHash, Vec<u8>)> = carried
            .chunks
            .into_iter()
            .filter(|(h, _)| missing(h))
            .collect();
        if waiting.is_empty() {
            return Ok(());
        }
        let size: usize = waiting.iter().map(|(_, c)| c.len()).sum();
        if self.bytes + size > self.limit {
            return Err(TooManyOrphans { limit: self.limit });
        }
        self.bytes += size;
        self.docs.insert(id, waiting);
        Ok(())
    }

    /// Removes and returns `id`'s waiting changes.
    pub fn take(&mut self, id: RecordId) -> Vec<(ChangeHash, Vec<u8>)> {
        let waiting = self.docs.remove(&id).unwrap_or_default();
        self.bytes -= waiting.iter().map(|(_, c)| c.len()).sum::<usize>();
        waiting
    }
}

#[cfg(test)]
mod tests {
    use automerge::{
        sync::SyncDoc, transaction::Transactable, AutoCommit, Automerge, ReadDoc, ROOT,
    };

    use super::*;

    /// A document and two later changes `y` and `x` (x depends on y), as raw chunks.
    fn chain() -> (Automerge, Vec<u8>, Vec<u8>) {
        let mut d = AutoCommit::new();
        d.put(ROOT, "a", 1).unwrap();
        d.commit();
        let base = d.document().clone();
        d.put(ROOT, "y", 1).unwrap();
        d.commit();
        d.put(ROOT, "x", 1).unwrap();
        d.commit();
        let changes = d.get_changes(&base.get_heads());
        let y = changes[0].raw_bytes().to_vec();
        let x = changes[1].raw_bytes().to_vec();
        (base, y, x)
    }

    fn message_with(chunks: Vec<Vec<u8>>) -> sync::Message {
        let mut state = sync::State::new();
        let mut m = Automerge::new().generate_sync_message(&mut state).unwrap();
        m.changes = chunks.into();
        m
    }

    #[test]
    fn a_change_whose_dependency_is_missing_waits_and_applies_when_it_arrives() {
        let (base, y, x) = chain();
        let id = RecordId::new();
        let mut orphans = Orphans::new(1 << 20);

        // x alone: it cannot apply, and is kept.
        let mut doc = base.clone();
        let mut m = message_with(vec![x.clone()]);
        let carried = orphans.carry(id, &mut m);
        assert_eq!(carried.hashes().len(), 1);
        doc.load_incremental(&x).unwrap();
        assert_eq!(doc.get_heads(), base.get_heads());
        orphans
            .settle(id, carried, |h| doc.get_change_by_hash(h).is_none())
            .unwrap();
        assert!(orphans.has(id));
        assert_eq!(orphans.bytes(), x.len());

        // The document is dropped and reloaded (its queue is gone); y arrives. Carrying puts x
        // back in front, and both apply.
        let mut doc = base.clone();
        let mut m = message_with(vec![y.clone()]);
        let carried = orphans.carry(id, &mut m);
        assert_eq!(m.changes.len(), 2);
        let chunks: Vec<u8> = m.changes.iter().flatten().copied().collect();
        doc.load_incremental(&chunks).unwrap();
        orphans
            .settle(id, carried, |h| doc.get_change_by_hash(h).is_none())
            .unwrap();
        assert!(!orphans.has(id));
        assert_eq!(orphans.bytes(), 0);
        assert_eq!(doc.get_changes(&base.get_heads()).len(), 2);
    }

    #[test]
    fn a_change_sent_again_is_carried_once() {
        let (_, _, x) = chain();
        let id = RecordId::new();
        let mut orphans = Orphans::new(1 << 20);
        let mut m = message_with(vec![x.clone()]);
        let carried = orphans.carry(id, &mut m);
        orphans.settle(id, carried, |_| true).unwrap();
        let mut m = message_with(vec![x.clone()]);
        let carried = orphans.carry(id, &mut m);
        assert_eq!(carried.hashes().len(), 1);
        assert_eq!(m.changes.len(), 1);
    }

    #[test]
    fn waiting_changes_beyond_the_limit_are_refused_and_nothing_is_kept() {
        let (_, y, x) = chain();
        let id = RecordId::new();
        let mut orphans = Orphans::new(x.len() + y.len() - 1);
        let mut m = message_with(vec![x, y]);
        let carried = orphans.carry(id, &mut m);
        let err = orphans.settle(id, carried, |_| true).unwrap_err();
        assert_eq!(err.limit, orphans.limit);
        assert!(!orphans.has(id));
        assert_eq!(orphans.bytes(), 0);
    }

    #[test]
    fn a_message_without_changes_carries_nothing_when_nothing_waits() {
        let mut orphans = Orphans::new(1024);
        let mut m = message_with(Vec::new());
        let carried = orphans.carry(RecordId::new(), &mut m);
        assert!(carried.is_empty());
        assert!(m.changes.is_empty());
    }
}
