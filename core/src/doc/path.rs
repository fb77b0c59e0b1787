//! Field paths: dot-separated keys from the document root (`sections.D.entrance_steps.riser_max_mm`,
//! `tasks.<item_id>.method`), as docs/DOCUMENT-LAYOUT.md and DOMAIN.md §1.3 write them, and
//! the navigation that reads or creates the maps along a path.

use std::fmt;

use automerge::{
    transaction::Transactable, AutoCommit, ChangeHash, ObjId, ObjType, ReadDoc, Value, ROOT,
};

use crate::error::{Error, Result};

/// Deepest path accepted. The deepest real path has about 8 segments; the bound keeps a
/// hostile path from building an absurd tree.
pub const MAX_PATH_SEGMENTS: usize = 16;

/// Longest segment accepted (item ids are 36 characters, change hashes 64).
pub const MAX_SEGMENT_LEN: usize = 100;

/// A parsed, validated field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath {
    segments: Vec<String>,
}

fn bad_path(detail: String) -> Error {
    Error::InvalidInput {
        rule_id: "FLD-FORMAT".into(),
        detail,
    }
}

/// Whether `s` can be one key of a path: ASCII letters, digits, `_` and `-` (field names,
/// codes, UUIDs, hex hashes), so a path never needs quoting.
pub fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SEGMENT_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl FieldPath {
    /// Parses `a.b.c`; empty segments, odd characters or too many segments are
    /// `InvalidInput { FLD-FORMAT }`.
    pub fn parse(s: &str) -> Result<Self> {
        let segments: Vec<String> = s.split('.').map(str::to_owned).collect();
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(bad_path(format!(
                "path `{s}` has more than {MAX_PATH_SEGMENTS} segments"
            )));
        }
        if let Some(bad) = segments.iter().find(|seg| !valid_segment(seg)) {
            return Err(bad_path(format!(
                "path `{s}` has an invalid segment `{bad}` (letters, digits, `_`, `-` only)"
            )));
        }
        Ok(Self { segments })
    }

    /// A path from already valid segments (internal: callers have checked them).
    pub(crate) fn from_segments(segments: Vec<String>) -> Self {
        Self { segments }
    }

    /// The keys from the root.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The last key.
    pub fn last(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or_default()
    }

    /// The path of the containing map (empty for a root field).
    pub fn parent(&self) -> &[String] {
        &self.segments[..self.segments.len().saturating_sub(1)]
    }

    /// This path with one more key.
    pub fn child(&self, key: &str) -> Self {
        let mut segments = self.segments.clone();
        segments.push(key.to_owned());
        Self { segments }
    }

    /// Whether `self` is `prefix` or lies inside it.
    pub fn is_within(&self, prefix: &FieldPath) -> bool {
        self.segments.starts_with(&prefix.segments)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.segments.join("."))
    }
}

/// Whether the dotted path `path` is `prefix` or lies inside it.
pub fn path_within(path: &str, prefix: &str) -> bool {
    path == prefix
        || (path.len() > prefix.len()
            && path.starts_with(prefix)
            && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// Reads the value at `segments` (at `heads`, or now). `Ok(None)` when a key along the way is
/// missing or a non-map stands in the way (nothing is there to read).
pub(crate) fn lookup(
    doc: &AutoCommit,
    segments: &[String],
    heads: Option<&[ChangeHash]>,
) -> Result<Option<(Value<'static>, ObjId)>> {
    let mut obj = ROOT;
    let mut found: Option<(Value<'static>, ObjId)> = None;
    for (i, seg) in segments.iter().enumerate() {
        if i > 0 {
            match &found {
                Some((Value::Object(ObjType::Map | ObjType::Table), id)) => obj = id.clone(),
                _ => return Ok(None),
            }
        }
        let v = match heads {
            Some(h) => doc.get_at(&obj, seg.as_str(), h)?,
            None => doc.get(&obj, seg.as_str())?,
        };
        match v {
            Some((v, id)) => found = Some((v.into_owned(), id)),
            None => return Ok(None),
        }
    }
    Ok(found)
}

/// The map at `segments`, creating empty maps where keys are missing. A key along the way
/// that holds a non-map (a number, text, a list) is `InvalidInput { FLD-FORMAT }`: the path
/// does not fit the document.
pub(crate) fn ensure_map(doc: &mut AutoCommit, segments: &[String]) -> Result<ObjId> {
    let mut obj = ROOT;
    for (i, seg) in segments.iter().enumerate() {
        obj = match doc.get(&obj, seg.as_str())? {
            None => doc.put_object(&obj, seg.as_str(), ObjType::Map)?,
            Some((Value::Object(ObjType::Map | ObjType::Table), id)) => id,
            Some(_) => {
                return Err(bad_path(format!(
                    "`{}` is not a map, so the path cannot continue below it",
                    segments[..=i].join(".")
                )))
            }
        };
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_reject_malformed_input() {
        let p = FieldPath::parse("sections.D.entrance_steps.riser_max_mm").unwrap();
        assert_eq!(p.segments().len(), 4);
        assert_eq!(p.to_string(), "sections.D.entrance_steps.riser_max_mm");
        assert_eq!(p.last(), "riser_max_mm");
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a b",
            "a.b/c",
            "ä",
            &"x.".repeat(20),
        ] {
            assert!(
                matches!(FieldPath::parse(bad), Err(Error::InvalidInput { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn path_within_respects_segment_boundaries() {
        assert!(path_within("addenda.x.text", "addenda"));
        assert!(path_within("addenda", "addenda"));
        assert!(!path_within("addenda_old", "addenda"));
        assert!(!path_within("add", "addenda"));
    }
}
