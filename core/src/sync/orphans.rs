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
//! `tests/tests/integration/sync_bloom_false_positive.rs`.
//!
//! So the server connection and the device session each keep the change chunks a message
//! carried that did not apply, and put them in front of the next message for that document:
//! applying it re-queues them, and they apply when their dependencies arrive.

use std::collections::HashMap;

use automerge::{sync, Automerge, Change, ChangeHash, ReadDoc};

use crate::ids::RecordId;

/// Waiting changes beyond this many bytes for one connection mean the peer keeps sending
/// changes whose dependencies never come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("more than {limit} bytes of changes whose dependencies never arrived")]
pub struct TooManyOrphans {
    /// The limit that was passed.
    pub limit: usize,
}

/// The change chunks a message carried: the re-queued waiting ones (with their hashes) and the
/// message's own, parsed only if something is left waiting afterwards.
#[derive(Debug, Default)]
pub struct Carried {
    parsed: Vec<(ChangeHash, Vec<u8>)>,
    unparsed: Vec<Vec<u8>>,
}

impl Carried {
    /// Whether the message carried no changes at all.
    pub fn is_empty(&self) -> bool {
        self.parsed.is_empty() && self.unparsed.is_empty()
    }

    /// The hashes of the carried single changes (a chunk that is a whole document, in a v2
    /// message, depends on nothing outside itself and is left out).
    pub fn hashes(&mut self) -> Vec<ChangeHash> {
        for chunk in std::mem::take(&mut self.unparsed) {
            // Peer bytes (already applied once by automerge, so they parse): guarded all the
            // same, as every automerge call on peer input is.
            let parsed =
                super::guard::guarded("a received change", || Change::from_bytes(chunk.clone()));
            if let Ok(Ok(change)) = parsed {
                let hash = change.hash();
                if !self.parsed.iter().any(|(h, _)| *h == hash) {
                    self.parsed.push((hash, chunk));
                }
            }
        }
        self.parsed.iter().map(|(h, _)| *h).collect()
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
    /// re-queues them, and returns everything the message now carries, for
    /// [`Orphans::settle`].
    pub fn carry(&mut self, id: RecordId, message: &mut sync::Message) -> Carried {
        let waiting = self.take(id);
        let unparsed: Vec<Vec<u8>> = message.changes.iter().map(<[u8]>::to_vec).collect();
        if !waiting.is_empty() {
            // Waiting changes first; automerge applies them in dependency order either way,
            // and skips one the peer happened to send again.
            let mut all: Vec<Vec<u8>> = waiting.iter().map(|(_, c)| c.clone()).collect();
            all.extend(unparsed.iter().cloned());
            message.changes = all.into();
        }
        Carried {
            parsed: waiting,
            unparsed,
        }
    }

    /// After the message was applied: keeps the carried changes named in `waiting` (those the
    /// document does not contain: they wait for their dependencies). With nothing waiting,
    /// nothing is parsed or kept.
    pub fn settle(
        &mut self,
        id: RecordId,
        mut carried: Carried,
        waiting: &[ChangeHash],
    ) -> Result<(), TooManyOrphans> {
        if waiting.is_empty() {
            return Ok(());
        }
        carried.hashes();
        let kept: Vec<(ChangeHash, Vec<u8>)> = carried
            .parsed
            .into_iter()
            .filter(|(h, _)| waiting.contains(h))
            .collect();
        let size: usize = kept.iter().map(|(_, c)| c.len()).sum();
        if self.bytes + size > self.limit {
            return Err(TooManyOrphans { limit: self.limit });
        }
        self.bytes += size;
        self.docs.insert(id, kept);
        Ok(())
    }

    /// Removes and returns `id`'s waiting changes.
    pub fn take(&mut self, id: RecordId) -> Vec<(ChangeHash, Vec<u8>)> {
        let waiting = self.docs.remove(&id).unwrap_or_default();
        self.bytes -= waiting.iter().map(|(_, c)| c.len()).sum::<usize>();
        waiting
    }
}

/// The carried changes `doc` does not contain after the message was applied. A document with
/// nothing queued applied everything, and then nothing is parsed.
pub fn still_waiting(doc: &Automerge, carried: &mut Carried) -> Vec<ChangeHash> {
    if carried.is_empty() || doc.get_missing_deps(&[]).is_empty() {
        return Vec::new();
    }
    carried
        .hashes()
        .into_iter()
        .filter(|h| doc.get_change_meta_by_hash(h).is_none())
        .collect()
}

#[cfg(test)]
mod tests {
    use automerge::{sync::SyncDoc, transaction::Transactable, AutoCommit, Automerge, ROOT};

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
        let mut carried = orphans.carry(id, &mut m);
        assert_eq!(carried.hashes().len(), 1);
        doc.load_incremental(&x).unwrap();
        assert_eq!(doc.get_heads(), base.get_heads());
        let waiting = still_waiting(&doc, &mut carried);
        orphans.settle(id, carried, &waiting).unwrap();
        assert!(orphans.has(id));
        assert_eq!(orphans.bytes(), x.len());

        // The document is dropped and reloaded (its queue is gone); y arrives. Carrying puts x
        // back in front, and both apply.
        let mut doc = base.clone();
        let mut m = message_with(vec![y.clone()]);
        let mut carried = orphans.carry(id, &mut m);
        assert_eq!(m.changes.len(), 2);
        let chunks: Vec<u8> = m.changes.iter().flatten().copied().collect();
        doc.load_incremental(&chunks).unwrap();
        assert!(still_waiting(&doc, &mut carried).is_empty());
        orphans.settle(id, carried, &[]).unwrap();
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
        let mut carried = orphans.carry(id, &mut m);
        let all = carried.hashes();
        orphans.settle(id, carried, &all).unwrap();
        let mut m = message_with(vec![x.clone()]);
        let mut carried = orphans.carry(id, &mut m);
        assert_eq!(carried.hashes().len(), 1, "carried once");
        assert_eq!(
            m.changes.len(),
            2,
            "sent in the message again; automerge skips the copy"
        );
    }

    #[test]
    fn waiting_changes_beyond_the_limit_are_refused_and_nothing_is_kept() {
        let (_, y, x) = chain();
        let id = RecordId::new();
        let mut orphans = Orphans::new(x.len() + y.len() - 1);
        let mut m = message_with(vec![x, y]);
        let mut carried = orphans.carry(id, &mut m);
        let all = carried.hashes();
        let err = orphans.settle(id, carried, &all).unwrap_err();
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
