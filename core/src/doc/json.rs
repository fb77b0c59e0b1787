//! The generic JSON view of a record document (docs/DOCUMENT-LAYOUT.md, "Generic JSON view"):
//! map → object, list → array, text → string, int → number, str → string, boolean → bool,
//! null → null. A field with concurrent values shows automerge's deterministic winner; the
//! conflict is reported separately (`CF-CLINICAL`, [`super::conflict`]).
//!
//! Also the inverse used by setters: writing a JSON value into the document, with free-text
//! fields as automerge text.

use automerge::{
    transaction::Transactable, AutoCommit, ChangeHash, ObjId, ObjType, Prop, ReadDoc, ScalarValue,
    Value, ROOT,
};
use serde_json::{Map, Number, Value as Json};

use crate::{
    error::{Error, Result},
    model::common::MAX_JSON_DEPTH,
};

/// The record as JSON at its current heads.
pub fn to_json(doc: &AutoCommit) -> Result<Json> {
    object_json(doc, &ROOT, ObjType::Map, None, 0)
}

/// The record as JSON as it stood at `heads` (any earlier heads of this document).
pub fn to_json_at(doc: &AutoCommit, heads: &[ChangeHash]) -> Result<Json> {
    object_json(doc, &ROOT, ObjType::Map, Some(heads), 0)
}

/// The JSON of the value at a dotted path (now, or at `heads`); `None` when nothing is there.
pub fn value_at(
    doc: &AutoCommit,
    path: &str,
    heads: Option<&[ChangeHash]>,
) -> Result<Option<Json>> {
    let path = super::path::FieldPath::parse(path)?;
    match super::path::lookup(doc, path.segments(), heads)? {
        Some((v, id)) => value_json(doc, &v, &id, heads, 0).map(Some),
        None => Ok(None),
    }
}

fn too_deep() -> Error {
    Error::Corrupt {
        record: None,
        detail: format!("document nests deeper than {MAX_JSON_DEPTH} levels"),
    }
}

/// JSON for one value: a scalar, or the object `id` refers to.
pub(crate) fn value_json(
    doc: &AutoCommit,
    v: &Value<'_>,
    id: &ObjId,
    heads: Option<&[ChangeHash]>,
    depth: usize,
) -> Result<Json> {
    match v {
        Value::Object(t) => object_json(doc, id, *t, heads, depth + 1),
        Value::Scalar(s) => Ok(scalar_json(s)),
    }
}

fn object_json(
    doc: &AutoCommit,
    obj: &ObjId,
    t: ObjType,
    heads: Option<&[ChangeHash]>,
    depth: usize,
) -> Result<Json> {
    // Iterative depth bound rather than trusting the peer: a hostile, very deep document
    // must not exhaust the stack.
    if depth > MAX_JSON_DEPTH {
        return Err(too_deep());
    }
    match t {
        ObjType::Map | ObjType::Table => {
            let keys: Vec<String> = match heads {
                Some(h) => doc.keys_at(obj, h).collect(),
                None => doc.keys(obj).collect(),
            };
            let mut out = Map::new();
            for k in keys {
                let got = match heads {
                    Some(h) => doc.get_at(obj, k.as_str(), h)?,
                    None => doc.get(obj, k.as_str())?,
                };
                if let Some((v, id)) = got {
                    out.insert(k, value_json(doc, &v, &id, heads, depth)?);
                }
            }
            Ok(Json::Object(out))
        }
        ObjType::List => {
            let len = match heads {
                Some(h) => doc.length_at(obj, h),
                None => doc.length(obj),
            };
            let mut out = Vec::with_capacity(len);
            for i in 0..len {
                let got = match heads {
                    Some(h) => doc.get_at(obj, i, h)?,
                    None => doc.get(obj, i)?,
                };
                if let Some((v, id)) = got {
                    out.push(value_json(doc, &v, &id, heads, depth)?);
                }
            }
            Ok(Json::Array(out))
        }
        ObjType::Text => Ok(Json::String(match heads {
            Some(h) => doc.text_at(obj, h)?,
            None => doc.text(obj)?,
        })),
    }
}

/// JSON for a scalar. Our layout only writes str, int, boolean and null; the other automerge
/// scalars a foreign peer might write are shown as faithfully as JSON allows.
pub(crate) fn scalar_json(s: &ScalarValue) -> Json {
    match s {
        ScalarValue::Str(s) => Json::String(s.to_string()),
        ScalarValue::Int(i) => Json::from(*i),
        ScalarValue::Uint(u) => Json::from(*u),
        ScalarValue::F64(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        ScalarValue::Counter(c) => Json::from(i64::from(c)),
        ScalarValue::Timestamp(t) => Json::from(*t),
        ScalarValue::Boolean(b) => Json::Bool(*b),
        ScalarValue::Bytes(b) => Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
        ScalarValue::Null | ScalarValue::Unknown { .. } => Json::Null,
    }
}

/// The automerge scalar for a JSON scalar. Numbers must be integers: every stored quantity is
/// an integer in its stored unit (DOMAIN.md §1.1), so a float is `FLD-FORMAT`.
pub(crate) fn json_scalar(v: &Json, path: &str) -> Result<ScalarValue> {
    Ok(match v {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => {
                return Err(Error::InvalidInput {
                    rule_id: "FLD-FORMAT".into(),
                    detail: format!(
                        "`{path}`: {n} is not an integer; values are stored as integers in their stored unit"
                    ),
                })
            }
        },
        Json::Array(_) | Json::Object(_) => {
            return Err(Error::Internal(format!("`{path}`: not a scalar")))
        }
    })
}

/// Writes `v` at `prop` of `obj`, replacing what is there. Objects become maps, arrays
/// lists; a string whose path `is_text` says is free text becomes automerge text
/// (`CF-TEXT`). `path` is the dotted path of `prop`, for the text decision and messages.
pub(crate) fn put_json(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    v: &Json,
    path: &mut Vec<String>,
    is_text: &dyn Fn(&[String]) -> bool,
) -> Result<()> {
    if path.len() > MAX_JSON_DEPTH {
        return Err(Error::InvalidInput {
            rule_id: "FLD-FORMAT".into(),
            detail: format!("value nests deeper than {MAX_JSON_DEPTH} levels"),
        });
    }
    match v {
        Json::Object(m) => {
            let child = doc.put_object(obj, prop, ObjType::Map)?;
            for (k, cv) in m {
                if !super::path::valid_segment(k) {
                    return Err(Error::InvalidInput {
                        rule_id: "FLD-FORMAT".into(),
                        detail: format!("`{}`: invalid key `{k}`", path.join(".")),
                    });
                }
                path.push(k.clone());
                let r = put_json(doc, &child, Prop::Map(k.clone()), cv, path, is_text);
                path.pop();
                r?;
            }
        }
        Json::Array(items) => {
            let child = doc.put_object(obj, prop, ObjType::List)?;
            for (i, cv) in items.iter().enumerate() {
                path.push(i.to_string());
                // Lists hold scalars or maps; text inside lists is not a layout form.
                let r = match cv {
                    Json::Object(_) | Json::Array(_) => {
                        let t = if cv.is_object() {
                            ObjType::Map
                        } else {
                            ObjType::List
                        };
                        let el = doc.insert_object(&child, i, t)?;
                        fill_object(doc, &el, cv, path, is_text)
                    }
                    s => json_scalar(s, &path.join("."))
                        .and_then(|sv| doc.insert(&child, i, sv).map_err(Error::from)),
                };
                path.pop();
                r?;
            }
        }
        Json::String(s) if is_text(path) => {
            let t = doc.put_object(obj, prop, ObjType::Text)?;
            doc.splice_text(&t, 0, 0, s)?;
        }
        s => {
            let sv = json_scalar(s, &path.join("."))?;
            doc.put(obj, prop, sv)?;
        }
    }
    Ok(())
}

/// Fills a freshly created map or list `obj` with the contents of `v`.
fn fill_object(
    doc: &mut AutoCommit,
    obj: &ObjId,
    v: &Json,
    path: &mut Vec<String>,
    is_text: &dyn Fn(&[String]) -> bool,
) -> Result<()> {
    match v {
        Json::Object(m) => {
            for (k, cv) in m {
                if !super::path::valid_segment(k) {
                    return Err(Error::InvalidInput {
                        rule_id: "FLD-FORMAT".into(),
                        detail: format!("`{}`: invalid key `{k}`", path.join(".")),
                    });
                }
                path.push(k.clone());
                let r = put_json(doc, obj, Prop::Map(k.clone()), cv, path, is_text);
                path.pop();
                r?;
            }
            Ok(())
        }
        Json::Array(items) => {
            for (i, cv) in items.iter().enumerate() {
                path.push(i.to_string());
                let r = match cv {
                    Json::Object(_) | Json::Array(_) => {
                        let t = if cv.is_object() {
                            ObjType::Map
                        } else {
                            ObjType::List
                        };
                        doc.insert_object(obj, i, t)
                            .map_err(Error::from)
                            .and_then(|el| fill_object(doc, &el, cv, path, is_text))
                    }
                    s => json_scalar(s, &path.join("."))
                        .and_then(|sv| doc.insert(obj, i, sv).map_err(Error::from)),
                };
                path.pop();
                r?;
            }
            Ok(())
        }
        _ => Err(Error::Internal("fill_object on a scalar".into())),
    }
}

/// Sets a JSON value into the tree `root` (a JSON object) at `segments`, creating objects on
/// the way and replacing non-objects that stand in the way. Used to build overlay views
/// (signed view plus addenda).
pub(crate) fn set_in(root: &mut Json, segments: &[String], v: Json) {
    let Some((last, parents)) = segments.split_last() else {
        *root = v;
        return;
    };
    let mut cur = root;
    for seg in parents {
        if !cur.is_object() {
            *cur = Json::Object(Map::new());
        }
        let Json::Object(m) = cur else { return };
        cur = m
            .entry(seg.clone())
            .or_insert_with(|| Json::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Json::Object(Map::new());
    }
    if let Json::Object(m) = cur {
        m.insert(last.clone(), v);
    }
}

/// Reads the JSON value at `segments` inside `root`.
pub(crate) fn get_in<'a>(root: &'a Json, segments: &[String]) -> Option<&'a Json> {
    segments
        .iter()
        .try_fold(root, |cur, seg| cur.get(seg.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_view_maps_every_automerge_type() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "s", "x").unwrap();
        doc.put(ROOT, "i", 324_i64).unwrap();
        doc.put(ROOT, "b", true).unwrap();
        doc.put(ROOT, "n", ScalarValue::Null).unwrap();
        let t = doc.put_object(ROOT, "t", ObjType::Text).unwrap();
        doc.splice_text(&t, 0, 0, "hello").unwrap();
        let l = doc.put_object(ROOT, "l", ObjType::List).unwrap();
        doc.insert(&l, 0, 1_i64).unwrap();
        let m = doc.put_object(ROOT, "m", ObjType::Map).unwrap();
        doc.put(&m, "k", "v").unwrap();
        doc.commit();
        assert_eq!(
            to_json(&doc).unwrap(),
            json!({"s":"x","i":324,"b":true,"n":null,"t":"hello","l":[1],"m":{"k":"v"}})
        );
    }

    #[test]
    fn floats_are_refused_when_writing() {
        let mut doc = AutoCommit::new();
        let r = put_json(
            &mut doc,
            &ROOT,
            Prop::Map("w".into()),
            &json!(32.4),
            &mut vec!["w".into()],
            &|_| false,
        );
        assert!(matches!(r, Err(Error::InvalidInput { rule_id, .. }) if rule_id == "FLD-FORMAT"));
    }

    #[test]
    fn hostile_deep_documents_are_corrupt_not_a_stack_overflow() {
        let mut doc = AutoCommit::new();
        let mut obj = ROOT;
        for _ in 0..(MAX_JSON_DEPTH + 5) {
            obj = doc.put_object(&obj, "x", ObjType::Map).unwrap();
        }
        doc.commit();
        assert!(matches!(to_json(&doc), Err(Error::Corrupt { .. })));
    }
}
