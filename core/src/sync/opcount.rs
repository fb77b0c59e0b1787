//! What automerge bytes from a peer would cost once loaded, read without loading them.
//!
//! Automerge's storage format is column-oriented and run-length encoded: a change that inserts
//! ten million identical characters is a few kilobytes, and deflate shrinks what is left. A
//! limit on compressed bytes alone therefore lets one valid device make a server (or another
//! device) build a ten-million-operation document. [`cost`] reads the chunk headers and the
//! run-length headers of the operation and change columns, never the operations themselves, so
//! a run of ten million identical values is one header: the work is proportional to the bytes
//! (after bounded inflation), not to the operations they claim. [`DocumentLimits::check`]
//! then refuses a document whose operations, changes or inflated bytes would pass the limits,
//! before automerge materialises anything (docs/adr/0017-operation-count-limit.md).
//!
//! The layout read here is automerge 0.12's binary format: a chunk is the magic bytes
//! `85 6f 4a 83`, a 4-byte checksum, a type byte (0 document, 1 change, 2 deflated change), a
//! uLEB body length and the body. A change body holds its dependencies, actor, sequence
//! number, start op, time, message and other actors, then the metadata of its operation
//! columns and their data; a document body holds its actors and heads, the metadata of its
//! change columns and of its operation columns, then their data (columns of a document may
//! each be deflated).

use std::io::{BufRead, BufReader};

use automerge::{sync, Automerge, ReadDoc};
use flate2::bufread::DeflateDecoder;

/// The start of every automerge chunk.
const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_DEFLATED_CHANGE: u8 = 2;
/// Bytes of a change hash.
const HASH_LEN: u64 = 32;
/// The bit of a column specification that says its data is deflated.
const COLUMN_DEFLATED: u32 = 0b1000;
/// The value type (low four bits of a value-metadata entry) of a UTF-8 string.
const VALUE_TYPE_STRING: u64 = 6;

/// The prefix of every refusal by [`DocumentLimits::check`], as peers see it.
pub const TOO_MANY_OPS: &str = "too-many-ops";

/// The most a document may cost once loaded, whatever its compressed size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentLimits {
    /// Most operations in the document (a heavy real record has about 10^4).
    pub max_ops: u64,
    /// Most changes in the document's history.
    pub max_changes: u64,
    /// Most bytes one upload may inflate to (deflated chunks and columns, read with this
    /// bound: inflation stops when it is passed).
    pub max_inflated_bytes: u64,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_ops: 1_000_000,
            max_changes: 250_000,
            max_inflated_bytes: 64 * 1024 * 1024,
        }
    }
}

/// What automerge bytes cost once loaded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocumentCost {
    /// Operations (rows of the operation columns).
    pub ops: u64,
    /// Changes: one per change chunk, the rows of the change columns of a document chunk.
    pub changes: u64,
    /// Size after inflating deflated chunks and columns.
    pub inflated_bytes: u64,
    /// UTF-8 bytes of the string values the operations carry (text characters, map strings).
    pub string_bytes: u64,
}

impl DocumentCost {
    /// The cost of a loaded document (what automerge's own statistics say).
    pub fn of_document(doc: &Automerge) -> Self {
        let stats = doc.stats();
        Self {
            ops: stats.num_ops,
            changes: stats.num_changes,
            ..Self::default()
        }
    }

    /// Both costs together (saturating: a made-up count cannot wrap round below a limit).
    pub fn plus(self, other: Self) -> Self {
        Self {
            ops: self.ops.saturating_add(other.ops),
            changes: self.changes.saturating_add(other.changes),
            inflated_bytes: self.inflated_bytes.saturating_add(other.inflated_bytes),
            string_bytes: self.string_bytes.saturating_add(other.string_bytes),
        }
    }
}

/// Why bytes were refused before loading.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The bytes are not automerge chunks this version can read.
    #[error("malformed automerge bytes: {0}")]
    Malformed(String),
    /// The document would pass a [`DocumentLimits`] limit. The text starts with
    /// [`TOO_MANY_OPS`]`:`.
    #[error("{TOO_MANY_OPS}: {0}")]
    TooManyOps(String),
}

impl CostError {
    fn malformed(what: &str) -> Self {
        Self::Malformed(what.to_owned())
    }
}

type Result<T> = std::result::Result<T, CostError>;

impl DocumentLimits {
    /// Refuses a cost beyond these limits.
    pub fn check(&self, cost: &DocumentCost) -> Result<()> {
        if cost.ops > self.max_ops {
            return Err(CostError::TooManyOps(format!(
                "the document would hold {} operations; the limit is {}",
                cost.ops, self.max_ops
            )));
        }
        if cost.changes > self.max_changes {
            return Err(CostError::TooManyOps(format!(
                "the document would hold {} changes; the limit is {}",
                cost.changes, self.max_changes
            )));
        }
        if cost.inflated_bytes > self.max_inflated_bytes {
            return Err(CostError::TooManyOps(format!(
                "the upload inflates to {} bytes; the limit is {}",
                cost.inflated_bytes, self.max_inflated_bytes
            )));
        }
        Ok(())
    }

    /// The cost of `doc` (none when the document is new) once `bytes` (a whole document or
    /// a sequence of chunks, as `load_incremental` takes) are loaded into it; refused beyond
    /// these limits.
    pub fn check_load(&self, doc: Option<&Automerge>, bytes: &[u8]) -> Result<DocumentCost> {
        self.check_after(doc, cost(bytes, self.max_inflated_bytes)?)
    }

    /// [`DocumentLimits::check_load`] for the changes a sync message carries.
    pub fn check_sync_message(
        &self,
        doc: Option<&Automerge>,
        message: &sync::Message,
    ) -> Result<DocumentCost> {
        self.check_after(
            doc,
            cost_of_chunks(message.changes.iter(), self.max_inflated_bytes)?,
        )
    }

    fn check_after(&self, doc: Option<&Automerge>, incoming: DocumentCost) -> Result<DocumentCost> {
        // Incoming changes the document already holds are counted again: an overestimate
        // that only matters for a document already near the limit.
        let after = doc
            .map(DocumentCost::of_document)
            .unwrap_or_default()
            .plus(incoming);
        self.check(&after)?;
        Ok(after)
    }
}

/// The cost of automerge bytes: a whole document, a sequence of chunks, or one change. Stops
/// (with [`CostError::TooManyOps`]) as soon as inflating passes `max_inflated_bytes`.
pub fn cost(bytes: &[u8], max_inflated_bytes: u64) -> Result<DocumentCost> {
    let mut total = DocumentCost::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let budget = max_inflated_bytes.saturating_sub(total.inflated_bytes);
        let (chunk, next) = chunk_cost(rest, budget)?;
        total = total.plus(chunk);
        if total.inflated_bytes > max_inflated_bytes {
            return Err(inflated_too_far(max_inflated_bytes));
        }
        rest = next;
    }
    Ok(total)
}

/// [`cost`] of several byte strings together (the changes of a sync message).
pub fn cost_of_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
    max_inflated_bytes: u64,
) -> Result<DocumentCost> {
    let mut total = DocumentCost::default();
    for chunk in chunks {
        let budget = max_inflated_bytes.saturating_sub(total.inflated_bytes);
        total = total.plus(cost(chunk, budget)?);
        if total.inflated_bytes > max_inflated_bytes {
            return Err(inflated_too_far(max_inflated_bytes));
        }
    }
    Ok(total)
}

fn inflated_too_far(limit: u64) -> CostError {
    CostError::TooManyOps(format!("the upload inflates to more than {limit} bytes"))
}

/// The cost of the chunk at the start of `bytes`, and the bytes after it.
fn chunk_cost(bytes: &[u8], budget: u64) -> Result<(DocumentCost, &[u8])> {
    let Some(after_magic) = bytes.strip_prefix(&MAGIC) else {
        return Err(CostError::malformed(
            "a chunk does not start with automerge's magic bytes",
        ));
    };
    let Some((&chunk_type, mut rest)) = after_magic.get(4..).and_then(<[u8]>::split_first) else {
        return Err(CostError::malformed("a chunk header is truncated"));
    };
    let len = slice_uleb(&mut rest)?;
    let Some(body) = usize::try_from(len).ok().and_then(|l| rest.get(..l)) else {
        return Err(CostError::malformed(
            "a chunk is shorter than its header says",
        ));
    };
    let next = &rest[body.len()..];
    let header_len = (bytes.len() - rest.len()) as u64;
    let mut cost = match chunk_type {
        CHUNK_DOCUMENT => document_cost(body, budget.saturating_sub(header_len))?,
        CHUNK_CHANGE => {
            let mut r = Reader::new(body, u64::MAX);
            let mut cost = change_cost(&mut r)?;
            cost.inflated_bytes = body.len() as u64;
            cost
        }
        CHUNK_DEFLATED_CHANGE => {
            let inflating = BufReader::new(DeflateDecoder::new(body));
            let mut r = Reader::new(inflating, budget.saturating_sub(header_len));
            let mut cost = change_cost(&mut r)?;
            cost.inflated_bytes = r.pos;
            cost
        }
        other => {
            return Err(CostError::Malformed(format!(
                "chunk type {other} is not accepted"
            )))
        }
    };
    cost.inflated_bytes = cost.inflated_bytes.saturating_add(header_len);
    Ok((cost, next))
}

/// A change body (after the chunk header): one change, its operations the rows of its
/// operation columns.
fn change_cost<R: BufRead>(r: &mut Reader<R>) -> Result<DocumentCost> {
    let deps = r.uleb()?;
    r.skip(deps.saturating_mul(HASH_LEN))?;
    let actor_len = r.uleb()?;
    r.skip(actor_len)?;
    let _seq = r.uleb()?;
    let _start_op = r.uleb()?;
    let _time = r.sleb()?;
    let message_len = r.uleb()?;
    r.skip(message_len)?;
    let other_actors = r.uleb()?;
    for _ in 0..other_actors {
        let len = r.uleb()?;
        r.skip(len)?;
    }
    let columns = column_metadata(r)?;
    let mut rows = Rows::default();
    for column in &columns {
        if column.spec & COLUMN_DEFLATED != 0 {
            return Err(CostError::malformed("a change has deflated columns"));
        }
        let end = r.pos.saturating_add(column.len);
        let outer = std::mem::replace(&mut r.end, end);
        let counted = column_rows(r, column.spec);
        r.end = outer;
        rows.add(column.spec, counted?);
        r.skip(end.saturating_sub(r.pos))?;
    }
    // The rest is the change's extra bytes.
    r.skip_to_end()?;
    Ok(DocumentCost {
        ops: rows.count(),
        changes: 1,
        inflated_bytes: 0,
        string_bytes: rows.string_bytes,
    })
}

/// A document body: changes are the rows of its change columns, operations the rows of its
/// operation columns; deflated columns are inflated within `budget`.
fn document_cost(body: &[u8], budget: u64) -> Result<DocumentCost> {
    let mut r = Reader::new(body, u64::MAX);
    let actors = r.uleb()?;
    for _ in 0..actors {
        let len = r.uleb()?;
        r.skip(len)?;
    }
    let heads = r.uleb()?;
    r.skip(heads.saturating_mul(HASH_LEN))?;
    let change_columns = column_metadata(&mut r)?;
    let op_columns = column_metadata(&mut r)?;
    let mut offset =
        usize::try_from(r.pos).map_err(|_| CostError::malformed("a document is too large"))?;
    let mut inflated = body.len() as u64;
    let mut count = |columns: &[Column], offset: &mut usize| -> Result<Rows> {
        let mut rows = Rows::default();
        for column in columns {
            let data = usize::try_from(column.len)
                .ok()
                .and_then(|len| body.get(*offset..offset.checked_add(len)?))
                .ok_or_else(|| CostError::malformed("a document's columns are truncated"))?;
            *offset += data.len();
            let counted = if column.spec & COLUMN_DEFLATED != 0 {
                // The deflated bytes are replaced by what they inflate to.
                inflated -= data.len() as u64;
                let left = budget.saturating_sub(inflated);
                let mut c = Reader::new(BufReader::new(DeflateDecoder::new(data)), left);
                let counted = column_rows(&mut c, column.spec)?;
                inflated = inflated.saturating_add(c.pos);
                counted
            } else {
                column_rows(&mut Reader::new(data, u64::MAX), column.spec)?
            };
            rows.add(column.spec, counted);
        }
        Ok(rows)
    };
    let changes = count(&change_columns, &mut offset)?;
    let ops = count(&op_columns, &mut offset)?;
    // What follows (head indices) costs nothing to load.
    Ok(DocumentCost {
        ops: ops.count(),
        changes: changes.count(),
        inflated_bytes: inflated,
        string_bytes: ops.string_bytes,
    })
}

/// One column's metadata: its specification (id, type, deflated bit) and data length.
struct Column {
    spec: u32,
    len: u64,
}

/// Most columns a chunk may describe: automerge writes fewer than twenty.
const MAX_COLUMNS: u64 = 64;

fn column_metadata<R: BufRead>(r: &mut Reader<R>) -> Result<Vec<Column>> {
    let n = r.uleb()?;
    if n > MAX_COLUMNS {
        return Err(CostError::Malformed(format!(
            "a chunk describes {n} columns"
        )));
    }
    let mut columns = Vec::new();
    for _ in 0..n {
        let spec = u32::try_from(r.uleb()?)
            .map_err(|_| CostError::malformed("a column specification is out of range"))?;
        let len = r.uleb()?;
        columns.push(Column { spec, len });
    }
    Ok(columns)
}

/// Column types of automerge's format (the low three bits of a specification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnType {
    Group,
    Actor,
    Integer,
    Delta,
    Boolean,
    String,
    ValueMetadata,
    Value,
}

impl ColumnType {
    fn of(spec: u32) -> Self {
        match spec & 0b111 {
            0 => Self::Group,
            1 => Self::Actor,
            2 => Self::Integer,
            3 => Self::Delta,
            4 => Self::Boolean,
            5 => Self::String,
            6 => Self::ValueMetadata,
            _ => Self::Value,
        }
    }
}

/// Rows of one column and, for value metadata, the bytes of the string values it describes.
#[derive(Debug, Default, Clone, Copy)]
struct Counted {
    rows: u64,
    string_bytes: u64,
}

/// The row count of a set of columns: the most rows any column has (a column may be left out
/// when all its values are null), where a grouped column (the entries of a list per row, such
/// as predecessors) counts only through its group column.
#[derive(Debug, Default)]
struct Rows {
    max: u64,
    grouped: Vec<u32>,
    string_bytes: u64,
}

impl Rows {
    fn add(&mut self, spec: u32, counted: Option<Counted>) {
        let id = spec >> 4;
        let Some(counted) = counted else { return };
        if ColumnType::of(spec) == ColumnType::Group {
            self.grouped.push(id);
        } else if self.grouped.contains(&id) {
            return;
        }
        self.max = self.max.max(counted.rows);
        self.string_bytes = self.string_bytes.saturating_add(counted.string_bytes);
    }

    fn count(&self) -> u64 {
        self.max
    }
}

/// The rows of the column `r` holds (read to its end); `None` for a raw value column, which
/// has no rows of its own. Reads run-length headers, and the values of literal runs only.
fn column_rows<R: BufRead>(r: &mut Reader<R>, spec: u32) -> Result<Option<Counted>> {
    let kind = ColumnType::of(spec);
    let mut counted = Counted::default();
    match kind {
        ColumnType::Value => {
            r.skip_to_end()?;
            return Ok(None);
        }
        ColumnType::Boolean => {
            // Alternating counts of false and true values.
            while !r.at_end()? {
                counted.rows = counted.rows.saturating_add(r.uleb()?);
            }
        }
        _ => {
            while !r.at_end()? {
                let run = r.sleb()?;
                match run {
                    // A run of nulls.
                    0 => counted.rows = counted.rows.saturating_add(r.uleb()?),
                    // One value repeated.
                    n if n > 0 => {
                        let value = value(r, kind)?;
                        counted.rows = counted.rows.saturating_add(n.unsigned_abs());
                        counted.string_bytes = counted.string_bytes.saturating_add(
                            string_bytes(kind, value).saturating_mul(n.unsigned_abs()),
                        );
                    }
                    // Literal values, each at least one byte.
                    n => {
                        for _ in 0..n.unsigned_abs() {
                            let value = value(r, kind)?;
                            counted.string_bytes = counted
                                .string_bytes
                                .saturating_add(string_bytes(kind, value));
                        }
                        counted.rows = counted.rows.saturating_add(n.unsigned_abs());
                    }
                }
            }
        }
    }
    Ok(Some(counted))
}

/// Reads one value of a run-length encoded column; returns it for value metadata.
fn value<R: BufRead>(r: &mut Reader<R>, kind: ColumnType) -> Result<u64> {
    match kind {
        ColumnType::Delta => r.sleb().map(|_| 0),
        ColumnType::String => {
            let len = r.uleb()?;
            r.skip(len).map(|()| 0)
        }
        _ => r.uleb(),
    }
}

fn string_bytes(kind: ColumnType, meta: u64) -> u64 {
    if kind == ColumnType::ValueMetadata && meta & 0b1111 == VALUE_TYPE_STRING {
        meta >> 4
    } else {
        0
    }
}

/// Reads bytes (from a slice, or from an inflating decoder) up to a position `end`, counting
/// them, and refuses to read more than `limit` in all.
struct Reader<R: BufRead> {
    inner: R,
    pos: u64,
    end: u64,
    limit: u64,
}

impl<R: BufRead> Reader<R> {
    fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            pos: 0,
            end: u64::MAX,
            limit,
        }
    }

    fn buffer(&mut self) -> Result<&[u8]> {
        let room = usize::try_from(self.end - self.pos).unwrap_or(usize::MAX);
        let buf = self
            .inner
            .fill_buf()
            .map_err(|e| CostError::Malformed(format!("deflated data does not inflate: {e}")))?;
        let n = buf.len().min(room);
        Ok(&buf[..n])
    }

    fn consume(&mut self, n: usize) -> Result<()> {
        self.inner.consume(n);
        self.pos += n as u64;
        if self.pos > self.limit {
            return Err(inflated_too_far(self.limit));
        }
        Ok(())
    }

    fn at_end(&mut self) -> Result<bool> {
        Ok(self.pos >= self.end || self.buffer()?.is_empty())
    }

    fn byte(&mut self) -> Result<u8> {
        let Some(&b) = self.buffer()?.first() else {
            return Err(CostError::malformed(
                "the data ends in the middle of a value",
            ));
        };
        self.consume(1)?;
        Ok(b)
    }

    fn skip(&mut self, mut n: u64) -> Result<()> {
        while n > 0 {
            let available = self.buffer()?.len();
            if available == 0 {
                return Err(CostError::malformed("the data is shorter than it says"));
            }
            let step = available.min(usize::try_from(n).unwrap_or(usize::MAX));
            self.consume(step)?;
            n -= step as u64;
        }
        Ok(())
    }

    fn skip_to_end(&mut self) -> Result<()> {
        loop {
            let available = self.buffer()?.len();
            if available == 0 {
                return Ok(());
            }
            self.consume(available)?;
        }
    }

    /// Unsigned LEB128, at most 64 bits.
    fn uleb(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let bits = u64::from(b & 0x7f);
            if shift == 63 && bits > 1 {
                break;
            }
            value |= bits << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CostError::malformed("a number is longer than 64 bits"))
    }

    /// Signed LEB128, at most 64 bits.
    fn sleb(&mut self) -> Result<i64> {
        let mut value = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.byte()?;
            if shift >= 64 {
                return Err(CostError::malformed("a number is longer than 64 bits"));
            }
            value |= i64::from(b & 0x7f).wrapping_shl(shift);
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    value |= -1i64 << shift;
                }
                return Ok(value);
            }
        }
    }
}

/// Unsigned LEB128 from a slice (the chunk length).
fn slice_uleb(input: &mut &[u8]) -> Result<u64> {
    let mut r = Reader::new(*input, u64::MAX);
    let value = r.uleb()?;
    *input = &input[r.pos as usize..];
    Ok(value)
}

/// A valid automerge change chunk that makes a list at the root key `items` and inserts `ops`
/// `true` values into it, one after the other: `ops + 1` operations in about fifty bytes,
/// whatever `ops` is. This is what a hostile peer can send with no automerge at all; the
/// limit's tests and benchmarks use it to stand for the ten-million-operation upload.
pub fn repeated_insert_change(actor: &[u8], ops: u64) -> Vec<u8> {
    fn uleb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn sleb(out: &mut Vec<u8>, mut v: i64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            let done = (v == 0 && b & 0x40 == 0) || (v == -1 && b & 0x40 != 0);
            if done {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    // A run of `n` copies of the unsigned value `v`, or of nulls.
    fn run(out: &mut Vec<u8>, n: u64, v: Option<u64>) {
        if n == 0 {
            return;
        }
        match v {
            Some(v) => {
                sleb(out, i64::try_from(n).unwrap_or(i64::MAX));
                uleb(out, v);
            }
            None => {
                sleb(out, 0);
                uleb(out, n);
            }
        }
    }
    let n = ops;
    let mut columns: Vec<(u32, Vec<u8>)> = Vec::new();
    let mut col = |spec: u32, f: &dyn Fn(&mut Vec<u8>)| {
        let mut data = Vec::new();
        f(&mut data);
        columns.push((spec, data));
    };
    // Operation 1 is the list (root object), operations 2.. the insertions into it.
    col(0x01, &|o| {
        run(o, 1, None);
        run(o, n, Some(0));
    }); // object actor
    col(0x02, &|o| {
        run(o, 1, None);
        run(o, n, Some(1));
    }); // object counter
    col(0x11, &|o| {
        run(o, 2, None);
        run(o, n.saturating_sub(1), Some(0));
    }); // key actor: the prop, then the list's head, then the previous element
    col(0x13, &|o| {
        // Key counter (delta): null for the prop, 0 for the head, then 2, 3, 4, …
        run(o, 1, None);
        if n > 0 {
            sleb(o, 1);
            sleb(o, 0);
        }
        if n > 1 {
            sleb(o, 1);
            sleb(o, 2);
        }
        if n > 2 {
            sleb(o, i64::try_from(n - 2).unwrap_or(i64::MAX));
            sleb(o, 1);
        }
    });
    col(0x15, &|o| {
        sleb(o, 1);
        uleb(o, 5);
        o.extend_from_slice(b"items");
        run(o, n, None);
    }); // key string
    col(0x34, &|o| {
        uleb(o, 1);
        if n > 0 {
            uleb(o, n);
        }
    }); // insert: false, then true
    col(0x42, &|o| {
        run(o, 1, Some(2));
        run(o, n, Some(1));
    }); // action: make list, then set
    col(0x56, &|o| {
        run(o, 1, Some(0));
        run(o, n, Some(2));
    }); // value metadata: null, then true
    col(0x70, &|o| run(o, n + 1, Some(0))); // no predecessors
    let mut body = Vec::new();
    uleb(&mut body, 0); // dependencies
    uleb(&mut body, actor.len() as u64);
    body.extend_from_slice(actor);
    uleb(&mut body, 1); // seq
    uleb(&mut body, 1); // start op
    sleb(&mut body, 0); // time
    uleb(&mut body, 0); // message
    uleb(&mut body, 0); // other actors
    uleb(&mut body, columns.len() as u64);
    for (spec, data) in &columns {
        uleb(&mut body, u64::from(*spec));
        uleb(&mut body, data.len() as u64);
    }
    for (_, data) in &columns {
        body.extend_from_slice(data);
    }
    let mut hashed = vec![CHUNK_CHANGE];
    uleb(&mut hashed, body.len() as u64);
    hashed.extend_from_slice(&body);
    let hash = <sha2::Sha256 as sha2::Digest>::digest(&hashed);
    let mut chunk = MAGIC.to_vec();
    chunk.extend_from_slice(&hash[..4]);
    chunk.extend_from_slice(&hashed);
    chunk
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use automerge::{
        transaction::Transactable, ActorId, AutoCommit, ObjType, ReadDoc, ScalarValue, ROOT,
    };

    use super::*;

    const NO_BOUND: u64 = u64::MAX;

    /// What automerge itself counts for `doc`: operations and changes once loaded, and the
    /// operations of its changes.
    fn automerge_counts(doc: &mut AutoCommit) -> (u64, u64, u64) {
        let stats = doc.document().stats();
        let change_ops = doc.get_changes(&[]).iter().map(|c| c.len() as u64).sum();
        (stats.num_ops, stats.num_changes, change_ops)
    }

    fn assert_counts_match(doc: &mut AutoCommit) {
        let (ops, changes, change_ops) = automerge_counts(doc);
        let saved = doc.save();
        let whole = cost(&saved, NO_BOUND).expect("a saved document is counted");
        assert_eq!((whole.ops, whole.changes), (ops, changes), "save()");
        // The same history as a sequence of change chunks, as `load_incremental` takes it.
        let chunks: Vec<u8> = doc
            .get_changes(&[])
            .iter()
            .flat_map(|c| c.raw_bytes().to_vec())
            .collect();
        let incremental = cost(&chunks, NO_BOUND).expect("changes are counted");
        assert_eq!(
            (incremental.ops, incremental.changes),
            (change_ops, changes),
            "changes"
        );
        // And one by one, as a sync message carries them.
        let changes_list: Vec<Vec<u8>> = doc
            .get_changes(&[])
            .into_iter()
            .map(|mut c| c.bytes().to_vec())
            .collect();
        let each = cost_of_chunks(changes_list.iter().map(Vec::as_slice), NO_BOUND).unwrap();
        assert_eq!(
            (each.ops, each.changes),
            (change_ops, changes),
            "chunk list"
        );
        // A document loaded from those bytes agrees.
        let loaded = Automerge::load(&saved).unwrap();
        assert_eq!(DocumentCost::of_document(&loaded).ops, whole.ops);
    }

    #[test]
    fn counts_equal_automerges_for_maps() {
        let mut doc = AutoCommit::new();
        for i in 0..200_i64 {
            doc.put(ROOT, format!("key{i}"), i).unwrap();
            if i % 10 == 0 {
                doc.commit();
            }
        }
        let nested = doc.put_object(ROOT, "nested", ObjType::Map).unwrap();
        doc.put(&nested, "name", "Ada").unwrap();
        doc.put(&nested, "weight", 31.8).unwrap();
        doc.put(ROOT, "key3", "overwritten").unwrap();
        doc.delete(ROOT, "key4").unwrap();
        assert_counts_match(&mut doc);
    }

    #[test]
    fn counts_equal_automerges_for_lists_and_text() {
        let mut doc = AutoCommit::new();
        let list = doc.put_object(ROOT, "items", ObjType::List).unwrap();
        for i in 0..300_u64 {
            doc.insert(&list, 0, ScalarValue::Uint(i % 3)).unwrap();
        }
        doc.commit();
        doc.delete(&list, 5).unwrap();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"Hoist and sling checked. ".repeat(40))
            .unwrap();
        doc.splice_text(&text, 10, 5, "ü€😀").unwrap();
        doc.commit();
        doc.splice_text(&text, 0, 0, &"a".repeat(5_000)).unwrap();
        assert_counts_match(&mut doc);
    }

    #[test]
    fn counts_equal_automerges_for_many_actors() {
        let mut base = AutoCommit::new();
        base.put(ROOT, "team_id", "t1").unwrap();
        let list = base.put_object(ROOT, "visits", ObjType::List).unwrap();
        base.commit();
        let mut merged = base.fork();
        for a in 0..12_u8 {
            let mut peer = base.fork().with_actor(ActorId::from(vec![a + 1; 16]));
            for i in 0..20_i64 {
                peer.insert(&list, 0, i).unwrap();
                peer.put(ROOT, format!("by{a}"), i).unwrap();
            }
            peer.commit();
            merged.merge(&mut peer).unwrap();
        }
        assert!(merged.document().stats().num_actors > 10);
        assert_counts_match(&mut merged);
    }

    #[test]
    fn counts_deflated_changes_and_columns() {
        // Large enough that automerge deflates the change chunk and the document's columns.
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"x".repeat(100_000)).unwrap();
        doc.commit();
        let change = doc.get_changes(&[]).pop().unwrap().bytes().to_vec();
        assert_eq!(change[8], CHUNK_DEFLATED_CHANGE, "the change is deflated");
        let counted = cost(&change, NO_BOUND).unwrap();
        assert_eq!(counted.ops, 100_001);
        assert!(counted.inflated_bytes > change.len() as u64);
        assert_eq!(counted.string_bytes, 100_000);
        assert_counts_match(&mut doc);
        let saved = doc.save();
        assert!(cost(&saved, NO_BOUND).unwrap().inflated_bytes > saved.len() as u64);
    }

    #[test]
    fn the_crafted_change_is_one_automerge_loads_with_the_same_count() {
        let bytes = repeated_insert_change(&[7; 16], 1_000);
        let change = automerge::Change::try_from(&bytes[..]).expect("a valid change");
        assert_eq!(change.len(), 1_001);
        let doc = Automerge::load(&bytes).expect("loads");
        assert_eq!(
            doc.length(doc.get(ROOT, "items").unwrap().unwrap().1),
            1_000
        );
        let counted = cost(&bytes, NO_BOUND).unwrap();
        assert_eq!(counted.ops, 1_001);
        assert_eq!(counted.ops, doc.stats().num_ops);
        assert_eq!(counted.changes, 1);
    }

    #[test]
    fn ten_million_operations_in_a_few_bytes_are_counted_at_once_and_refused() {
        let bytes = repeated_insert_change(&[7; 16], 10_000_000);
        assert!(bytes.len() < 10 * 1024, "{} bytes", bytes.len());
        let started = Instant::now();
        let counted = cost(&bytes, NO_BOUND).unwrap();
        let took = started.elapsed();
        eprintln!(
            "{} bytes claiming {} operations counted in {took:?}",
            bytes.len(),
            counted.ops
        );
        assert_eq!(counted.ops, 10_000_001);
        let refused = DocumentLimits::default()
            .check_load(None, &bytes)
            .unwrap_err();
        assert!(matches!(refused, CostError::TooManyOps(_)));
        assert!(
            refused.to_string().starts_with("too-many-ops:"),
            "{refused}"
        );
        // Also when it comes as a sync message's change.
        let message = sync::Message {
            heads: Vec::new(),
            need: Vec::new(),
            have: Vec::new(),
            changes: vec![bytes.clone()].into(),
            flags: None,
            version: sync::MessageVersion::V1,
        };
        let refused = DocumentLimits::default()
            .check_sync_message(None, &message)
            .unwrap_err();
        assert!(
            refused.to_string().starts_with("too-many-ops:"),
            "{refused}"
        );
    }

    #[test]
    fn existing_operations_count_towards_the_limit() {
        let limits = DocumentLimits {
            max_ops: 1_500,
            ..DocumentLimits::default()
        };
        let small = repeated_insert_change(&[1; 16], 999);
        let doc = Automerge::load(&small).unwrap();
        assert_eq!(limits.check_load(None, &small).unwrap().ops, 1_000);
        let other = repeated_insert_change(&[2; 16], 499);
        assert_eq!(limits.check_load(Some(&doc), &other).unwrap().ops, 1_500);
        let more = repeated_insert_change(&[2; 16], 500);
        let refused = limits.check_load(Some(&doc), &more).unwrap_err();
        assert!(
            refused.to_string().starts_with("too-many-ops:"),
            "{refused}"
        );
    }

    #[test]
    fn inflation_stops_at_the_bound() {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"x".repeat(100_000)).unwrap();
        let change = doc.get_changes(&[]).pop().unwrap().bytes().to_vec();
        let inflated = cost(&change, NO_BOUND).unwrap().inflated_bytes;
        let refused = cost(&change, inflated / 2).unwrap_err();
        assert!(
            refused.to_string().starts_with("too-many-ops:"),
            "{refused}"
        );
        let limits = DocumentLimits {
            max_inflated_bytes: inflated / 2,
            ..DocumentLimits::default()
        };
        assert!(limits.check_load(None, &doc.save()).is_err());
        assert!(limits.check_load(None, &change).is_err());
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, &"abc".repeat(20_000)).unwrap();
        doc.put(ROOT, "team_id", "t1").unwrap();
        for bytes in [
            doc.save(),
            doc.get_changes(&[]).pop().unwrap().bytes().to_vec(),
            repeated_insert_change(&[3; 16], 10_000_000),
        ] {
            for len in (1..bytes.len()).step_by(7).chain([bytes.len() - 1]) {
                assert!(
                    matches!(cost(&bytes[..len], NO_BOUND), Err(CostError::Malformed(_))),
                    "a prefix of {len} of {} bytes",
                    bytes.len()
                );
            }
        }
    }

    #[test]
    fn garbled_input_is_an_error_not_a_panic() {
        assert!(matches!(
            cost(b"not automerge", NO_BOUND),
            Err(CostError::Malformed(_))
        ));
        let good = repeated_insert_change(&[4; 16], 10);
        let mut bad_type = good.clone();
        bad_type[8] = 9;
        assert!(matches!(
            cost(&bad_type, NO_BOUND),
            Err(CostError::Malformed(_))
        ));
        let mut bad_magic = good.clone();
        bad_magic[0] = 0;
        assert!(matches!(
            cost(&bad_magic, NO_BOUND),
            Err(CostError::Malformed(_))
        ));
        // A deflated chunk whose body is not deflate data.
        let mut not_deflate = good.clone();
        not_deflate[8] = CHUNK_DEFLATED_CHANGE;
        assert!(cost(&not_deflate, NO_BOUND).is_err());
        // A number with no end, and one past 64 bits.
        let mut endless = MAGIC.to_vec();
        endless.extend_from_slice(&[0, 0, 0, 0, CHUNK_CHANGE]);
        endless.extend_from_slice(&[0xff; 12]);
        assert!(matches!(
            cost(&endless, NO_BOUND),
            Err(CostError::Malformed(_))
        ));
        // Every single-byte change of real chunks: an error or a count, never a panic.
        let mut doc = AutoCommit::new();
        let text = doc.put_object(ROOT, "notes", ObjType::Text).unwrap();
        doc.splice_text(&text, 0, 0, "Hoist checked").unwrap();
        doc.put(ROOT, "n", 3).unwrap();
        for bytes in [doc.save(), good] {
            for i in 0..bytes.len() {
                for flip in [0x01, 0x80, 0xff] {
                    let mut garbled = bytes.clone();
                    garbled[i] ^= flip;
                    let _ = cost(&garbled, 1 << 20);
                }
            }
        }
    }
}
