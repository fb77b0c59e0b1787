//! Automerge calls on bytes a peer controls, made safe for a server and a device.
//!
//! Fuzzing (docs/FUZZING.md) found that automerge 0.12 panics on some hostile input instead of
//! returning an error:
//! - a sync message whose `have` bloom filter claims entries but carries no bits makes the
//!   *next* `generate_sync_message` divide by zero, and a filter with billions of probes makes
//!   it allocate and loop without bound (tests/fuzz-regressions/automerge_sync/);
//! - a crafted document chunk loaded into an existing document (`load_incremental`) unwraps a
//!   missing actor (tests/fuzz-regressions/whole_document/).
//!
//! [`decode_sync_message`] refuses the degenerate bloom filters before automerge keeps them;
//! [`guarded`] turns any remaining panic inside an automerge call into a typed error, so a
//! hostile peer costs its own connection (or its one document) and nothing else. The value the
//! call was working on must be a copy the caller discards on error.

use std::{
    cell::Cell,
    panic::{catch_unwind, AssertUnwindSafe},
};

use automerge::{sync, Automerge};

/// Most probes a sync bloom filter may ask for; automerge writes 7.
pub const MAX_BLOOM_PROBES: u64 = 64;
/// Most bits per entry a sync bloom filter may use; automerge writes 10.
pub const MAX_BLOOM_BITS_PER_ENTRY: u64 = 64;

thread_local! {
    static GUARDING: Cell<u32> = const { Cell::new(0) };
}

/// Whether this thread is inside [`guarded`]: a panic now is caught and becomes an error (for
/// panic hooks that abort on any other panic, as a fuzzer's does).
pub fn is_guarding() -> bool {
    GUARDING.with(|g| g.get() > 0)
}

/// Runs `f` (an automerge call on peer input); a panic inside it is `Err` describing `what`.
pub fn guarded<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    GUARDING.with(|g| g.set(g.get() + 1));
    let out = catch_unwind(AssertUnwindSafe(f));
    GUARDING.with(|g| g.set(g.get().saturating_sub(1)));
    out.map_err(|p| {
        let detail = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        format!("automerge failed on {what}: {detail}")
    })
}

/// Decodes an automerge sync message from a peer and refuses bloom filters automerge cannot
/// use safely (entries without bits, zero or too many probes, absurd bits per entry).
pub fn decode_sync_message(bytes: &[u8]) -> Result<sync::Message, String> {
    let message =
        guarded("a sync message", || sync::Message::decode(bytes))?.map_err(|e| e.to_string())?;
    check_sync_message(&message)?;
    Ok(message)
}

/// The bloom filter checks of [`decode_sync_message`] on an already decoded message.
pub fn check_sync_message(message: &sync::Message) -> Result<(), String> {
    for have in &message.have {
        let bytes = have.bloom.to_bytes();
        if bytes.is_empty() {
            continue; // no entries: never probed
        }
        let mut rest = bytes.as_slice();
        let mut field = || leb128(&mut rest).ok_or("a bloom filter header is malformed");
        let (_entries, bits_per_entry, probes) = (field()?, field()?, field()?);
        if rest.is_empty() {
            return Err("a bloom filter has entries but no bits".into());
        }
        if probes == 0 || probes > MAX_BLOOM_PROBES {
            return Err(format!("a bloom filter asks for {probes} probes"));
        }
        if bits_per_entry == 0 || bits_per_entry > MAX_BLOOM_BITS_PER_ENTRY {
            return Err(format!(
                "a bloom filter has {bits_per_entry} bits per entry"
            ));
        }
    }
    Ok(())
}

/// Automerge's chunk header: magic bytes, then a 4-byte checksum, then the chunk type.
const CHUNK_MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
/// Chunk type of a "bundle" (automerge 0.12): never written by `save`/`save_after`.
const CHUNK_BUNDLE: u8 = 3;

/// Refuses document bytes that contain a bundle chunk. automerge 0.12 sizes its buffers for a
/// bundle from counts the bytes claim, so 281 bytes made it allocate gigabytes
/// (tests/fuzz-regressions/whole_document/oom-…): enough to kill a server. HomeVisit peers and
/// automerge-repo send document and change chunks only. Bytes that are malformed further on are
/// left to automerge, which parses them in the same order and refuses them.
pub fn check_chunks(bytes: &[u8]) -> Result<(), String> {
    let mut rest = bytes;
    while rest.len() >= 9 && rest[..4] == CHUNK_MAGIC {
        let chunk_type = rest[8];
        if chunk_type == CHUNK_BUNDLE {
            return Err("bundle chunks are not accepted".into());
        }
        rest = &rest[9..];
        let Some(len) = leb128(&mut rest) else {
            return Ok(());
        };
        let Some(next) = usize::try_from(len).ok().and_then(|l| rest.get(l..)) else {
            return Ok(());
        };
        rest = next;
    }
    Ok(())
}

/// Loads a whole document a peer sent (`hv-doc` for a record new here).
pub fn load_document(bytes: &[u8]) -> Result<Automerge, String> {
    check_chunks(bytes)?;
    guarded("a document", || Automerge::load(bytes))?.map_err(|e| e.to_string())
}

/// Loads a peer's document bytes into `doc` (a copy the caller discards on error).
pub fn load_incremental(doc: &mut Automerge, bytes: &[u8]) -> Result<usize, String> {
    check_chunks(bytes)?;
    guarded("a document", || doc.load_incremental(bytes))?.map_err(|e| e.to_string())
}

/// Unsigned LEB128, at most 64 bits.
fn leb128(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&b, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_is_an_error_and_the_flag_is_cleared() {
        assert!(!is_guarding());
        let r: Result<(), String> = guarded("a test", || {
            assert!(is_guarding());
            let v: Vec<u8> = Vec::new();
            let _ = v[usize::from(is_guarding())];
        });
        assert!(r.unwrap_err().contains("a test"));
        assert!(!is_guarding());
    }

    #[test]
    fn bundle_chunks_are_refused_and_saved_documents_pass() {
        let mut doc = automerge::AutoCommit::new();
        let saved = doc.save();
        assert_eq!(check_chunks(&saved), Ok(()));
        let mut bundle = saved.clone();
        bundle[8] = CHUNK_BUNDLE;
        assert!(check_chunks(&bundle).is_err());
        // A bundle after a valid chunk is found too.
        let mut two = saved.clone();
        two.extend_from_slice(&bundle);
        assert!(check_chunks(&two).is_err());
        assert_eq!(check_chunks(b"not automerge"), Ok(()));
    }

    #[test]
    fn leb128_reads_multi_byte_values_and_refuses_truncation() {
        let mut b: &[u8] = &[0xe5, 0x8e, 0x26, 9];
        assert_eq!(leb128(&mut b), Some(624_485));
        assert_eq!(b, &[9]);
        let mut t: &[u8] = &[0x80];
        assert_eq!(leb128(&mut t), None);
    }
}
