//! Dotted paths into JSON Lines records: the one path model used by `apply`,
//! `decrypt`, `scan` and the audits.
//!
//! A path such as `customer.address.zip` names the values reached by
//! splitting it into keys. A key may itself contain a dot: at each object the
//! path may continue with any key that equals the next one or more segments
//! joined by dots, so `customer.phone` finds `{"customer.phone": …}` as well
//! as `{"customer": {"phone": …}}`. Exactly one reading may exist in a record;
//! a record holding both is refused as ambiguous rather than transforming one
//! and passing the other through.
//!
//! A dotted reading is chosen by what the record holds: a record with
//! `{"customer.phone": …, "customer": {"name": …}}` has one reading of
//! `customer.phone` that reaches a value, and that one is used.
//!
//! Arrays are transparent: every element is followed, so a path reaches each
//! value in an array of scalars, each object in an array of objects and each
//! element of nested arrays. What a path reaches is taken whole: an object or
//! array there has every scalar inside it transformed, at any depth. A scalar
//! where the path needs an object (a `customer` that is a plain string on
//! some line) is an error for that record, since the string may hold what the
//! path was meant to protect. `null` where the path continues reads as
//! absent.

use std::string::{String, ToString};
use std::vec::Vec;

use serde_json::{Map, Value};

/// Why a path cannot be followed in a record (the rule, never the value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// Both a literal dotted key and a nested path match.
    Ambiguous,
    /// A string, number or boolean where the path continues into an object.
    NotAnObject,
}

impl PathError {
    /// A sentence for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            PathError::Ambiguous => {
                "the path matches both a key containing a dot and nested keys in this record"
            }
            PathError::NotAnObject => {
                "the path goes through a value that is not an object in this record"
            }
        }
    }
}

/// Whether a path reaches a value below `v`: used only to choose between
/// two keys that both continue it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    Found,
    Absent,
    /// A scalar stands where the path continues.
    Blocked,
}

fn reach(v: &Value, segs: &[&str]) -> Reach {
    if segs.is_empty() {
        return Reach::Found;
    }
    let best = |a: Reach, b: Reach| match (a, b) {
        (Reach::Found, _) | (_, Reach::Found) => Reach::Found,
        (Reach::Blocked, _) | (_, Reach::Blocked) => Reach::Blocked,
        _ => Reach::Absent,
    };
    match v {
        Value::Object(map) => candidates(map, segs)
            .map(|(j, child)| reach(child, &segs[j..]))
            .fold(Reach::Absent, best),
        Value::Array(items) => items
            .iter()
            .map(|i| reach(i, segs))
            .fold(Reach::Absent, best),
        Value::Null => Reach::Absent,
        _ => Reach::Blocked,
    }
}

/// The keys of `map` that continue `segs` (one segment, or several joined
/// by dots), with how many segments each takes.
fn candidates<'m>(
    map: &'m Map<String, Value>,
    segs: &[&str],
) -> impl Iterator<Item = (usize, &'m Value)> + 'm {
    let mut key = String::new();
    let joined: Vec<(usize, String)> = segs
        .iter()
        .enumerate()
        .map(|(j, seg)| {
            if j > 0 {
                key.push('.');
            }
            key.push_str(seg);
            (j + 1, key.clone())
        })
        .collect();
    joined
        .into_iter()
        .filter_map(move |(j, k)| map.get(k.as_str()).map(|v| (j, v)))
}

/// The key of `map` that continues the path `segs`, and how many segments
/// it takes: `None` when no key matches. With two candidate keys, the one
/// whose reading reaches a value wins; two that both do are ambiguous.
fn find_key<'m>(
    map: &'m Map<String, Value>,
    segs: &[&str],
) -> Result<Option<(usize, &'m String)>, PathError> {
    let key_of = |j: usize| {
        map.get_key_value(segs[..j].join(".").as_str())
            .map(|(k, _)| k)
    };
    let found: Vec<(usize, &Value)> = candidates(map, segs).collect();
    let j = match found.as_slice() {
        [] => return Ok(None),
        [(j, _)] => *j,
        many => {
            let reaching: Vec<usize> = many
                .iter()
                .filter(|(j, child)| reach(child, &segs[*j..]) == Reach::Found)
                .map(|(j, _)| *j)
                .collect();
            match reaching.as_slice() {
                [j] => *j,
                // None reaches a value: follow one that is blocked by a
                // scalar, so the record fails rather than passing it.
                [] => many
                    .iter()
                    .find(|(j, child)| reach(child, &segs[*j..]) == Reach::Blocked)
                    .map_or(many[0].0, |(j, _)| *j),
                _ => return Err(PathError::Ambiguous),
            }
        }
    };
    Ok(key_of(j).map(|k| (j, k)))
}

/// What [`walk_value`] calls at each place a path reaches: the object
/// holding the value and the value's key.
type Leaf<'a> = dyn FnMut(&mut Map<String, Value>, &str) -> Result<(), PathError> + 'a;

/// Calls `leaf` with the object and key of every place `segs` reaches.
fn walk_value(v: &mut Value, segs: &[&str], leaf: &mut Leaf<'_>) -> Result<(), PathError> {
    match v {
        Value::Object(map) => {
            let Some((j, key)) = find_key(map, segs)? else {
                return Ok(());
            };
            let key = key.clone();
            if j == segs.len() {
                return leaf(map, &key);
            }
            match map.get_mut(key.as_str()) {
                Some(child) => walk_value(child, &segs[j..], leaf),
                None => Ok(()),
            }
        }
        Value::Array(items) => items.iter_mut().try_for_each(|i| walk_value(i, segs, leaf)),
        Value::Null => Ok(()),
        _ => Err(PathError::NotAnObject),
    }
}

/// The read-only twin of [`walk_value`]: calls `f` on every scalar at the
/// end of `segs` (arrays followed, `null` skipped).
fn visit<'v>(v: &'v Value, segs: &[&str], f: &mut dyn FnMut(&'v Value)) -> Result<(), PathError> {
    match v {
        Value::Object(map) if !segs.is_empty() => match find_key(map, segs)? {
            Some((j, key)) => match map.get(key.as_str()) {
                Some(child) => visit(child, &segs[j..], f),
                None => Ok(()),
            },
            None => Ok(()),
        },
        Value::Object(map) => map.values().try_for_each(|c| visit(c, segs, f)),
        Value::Array(items) => items.iter().try_for_each(|i| visit(i, segs, f)),
        Value::Null => Ok(()),
        _ if segs.is_empty() => {
            f(v);
            Ok(())
        }
        _ => Err(PathError::NotAnObject),
    }
}

fn segments(path: &str) -> Vec<&str> {
    path.split('.').collect()
}

/// Calls `f` on every scalar (string, number, boolean) at `path`, and on
/// every scalar inside an array or object there, at any depth. `null` is
/// skipped.
///
/// # Errors
/// The path's [`PathError`], or `f`'s error (as `Err(Ok(e))`).
pub fn for_each_scalar<E>(
    root: &mut Value,
    path: &str,
    f: &mut dyn FnMut(&mut Value) -> Result<(), E>,
) -> Result<(), Result<E, PathError>> {
    fn target<E>(
        v: &mut Value,
        f: &mut dyn FnMut(&mut Value) -> Result<(), E>,
        err: &mut Option<E>,
    ) -> Result<(), PathError> {
        match v {
            Value::Null => Ok(()),
            Value::Object(map) => map.values_mut().try_for_each(|i| target(i, f, err)),
            Value::Array(items) => items.iter_mut().try_for_each(|i| target(i, f, err)),
            scalar => {
                if err.is_none() {
                    if let Err(e) = f(scalar) {
                        *err = Some(e);
                    }
                }
                Ok(())
            }
        }
    }
    let mut err = None;
    let segs = segments(path);
    let r = walk_value(root, &segs, &mut |map, key| match map.get_mut(key) {
        Some(v) => target(v, f, &mut err),
        None => Ok(()),
    });
    match (r, err) {
        (_, Some(e)) => Err(Ok(e)),
        (Err(p), None) => Err(Err(p)),
        (Ok(()), None) => Ok(()),
    }
}

/// Removes every value at `path`.
///
/// # Errors
/// The path's [`PathError`].
pub fn remove(root: &mut Value, path: &str) -> Result<(), PathError> {
    let segs = segments(path);
    walk_value(root, &segs, &mut |map, key| {
        map.shift_remove(key);
        Ok(())
    })
}

/// The scalars at `path`, in document order.
///
/// # Errors
/// The path's [`PathError`].
pub fn values<'v>(root: &'v Value, path: &str, out: &mut Vec<&'v Value>) -> Result<(), PathError> {
    visit(root, &segments(path), &mut |v| out.push(v))
}

/// The scalars at `path` as text (strings as their content, numbers and
/// booleans as their JSON text).
///
/// # Errors
/// The path's [`PathError`].
pub fn scalars(root: &Value, path: &str, out: &mut Vec<Vec<u8>>) -> Result<(), PathError> {
    visit(root, &segments(path), &mut |v| {
        let mut t = Vec::new();
        scalar_text(v, &mut t);
        out.push(t);
    })
}

/// Strings as their content, numbers and booleans as their JSON text.
/// Returns false (writing nothing) for null, arrays and objects.
pub fn scalar_text(v: &Value, out: &mut Vec<u8>) -> bool {
    match v {
        Value::String(s) => out.extend_from_slice(s.as_bytes()),
        Value::Number(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        _ => return false,
    }
    true
}

/// The paths of every scalar in a record, through objects and arrays, each
/// once, in document order. A path reached by two different key sequences
/// (`{"a.b": 1, "a": {"b": 2}}`) is listed twice, so that
/// [`check_unique_columns`](super::error::check_unique_columns) refuses it.
pub fn leaf_paths(v: &Value) -> Vec<String> {
    fn go(v: &Value, keys: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    keys.push(k.clone());
                    go(child, keys, out);
                    keys.pop();
                }
            }
            Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
                for i in items {
                    go(i, keys, out);
                }
            }
            _ if keys.is_empty() => {}
            _ => {
                if !out.iter().any(|k| k == keys) {
                    out.push(keys.clone());
                }
            }
        }
    }
    let mut seqs = Vec::new();
    go(v, &mut Vec::new(), &mut seqs);
    seqs.into_iter().map(|k| k.join(".")).collect()
}

/// Keeps only the values at `listed` paths (and the objects and arrays that
/// lead to them); everything else is removed.
pub fn retain(v: &mut Value, listed: &[&str]) {
    fn go(v: &mut Value, prefix: &mut String, listed: &[&str]) -> bool {
        match v {
            Value::Object(map) => {
                map.retain(|k, child| {
                    let len = prefix.len();
                    if len > 0 {
                        prefix.push('.');
                    }
                    prefix.push_str(k);
                    let keep = if listed.contains(&prefix.as_str()) {
                        true
                    } else if listed.iter().any(|p| {
                        p.starts_with(prefix.as_str())
                            && p.as_bytes().get(prefix.len()) == Some(&b'.')
                    }) {
                        go(child, prefix, listed)
                    } else {
                        false
                    };
                    prefix.truncate(len);
                    keep
                });
                true
            }
            Value::Array(items) => {
                items.retain_mut(|i| go(i, prefix, listed));
                true
            }
            // A scalar on the way to a listed path is not itself listed.
            _ => false,
        }
    }
    go(v, &mut String::new(), listed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upper(v: &mut Value, path: &str) -> Result<(), Result<(), PathError>> {
        for_each_scalar(v, path, &mut |s| {
            *s = Value::String(s.to_string().to_uppercase());
            Ok(())
        })
    }

    #[test]
    fn every_value_at_a_path_is_reached() {
        let mut v = json!({"c": [{"p": "a"}, {"p": ["b", ["c"]]}, {"q": 1}], "x": "y"});
        upper(&mut v, "c.p").unwrap();
        assert_eq!(
            v,
            json!({"c": [{"p": "\"A\""}, {"p": ["\"B\"", ["\"C\""]]}, {"q": 1}], "x": "y"})
        );
    }

    #[test]
    fn literal_dotted_keys_and_ambiguity() {
        let mut v = json!({"customer.phone": "a"});
        upper(&mut v, "customer.phone").unwrap();
        assert_eq!(v["customer.phone"], "\"A\"");
        let mut v = json!({"customer.phone": "a", "customer": {"phone": "b"}});
        assert_eq!(
            upper(&mut v, "customer.phone"),
            Err(Err(PathError::Ambiguous))
        );
        // Only one reading reaches a value: that one is used.
        let mut v = json!({"customer.phone": "a", "customer": {"name": "b"}});
        upper(&mut v, "customer.phone").unwrap();
        assert_eq!(
            v,
            json!({"customer.phone": "\"A\"", "customer": {"name": "b"}})
        );
        let mut v = json!({"a": {"b.c": "x"}});
        upper(&mut v, "a.b.c").unwrap();
        assert_eq!(v["a"]["b.c"], "\"X\"");
    }

    #[test]
    fn shapes_that_cannot_hold_the_path_fail() {
        let mut v = json!({"customer": "Seoul 04524"});
        assert_eq!(
            upper(&mut v, "customer.zip"),
            Err(Err(PathError::NotAnObject))
        );
        // An object at the path is taken whole.
        let mut v = json!({"customer": {"zip": "1", "tags": [{"a": true}]}});
        upper(&mut v, "customer").unwrap();
        assert_eq!(
            v,
            json!({"customer": {"zip": "\"1\"", "tags": [{"a": "TRUE"}]}})
        );
        let mut v = json!({"customer": null});
        upper(&mut v, "customer.zip").unwrap();
    }

    #[test]
    fn remove_and_retain() {
        let mut v = json!({"a.b": 1, "c": [{"d": 1, "e": 2}], "f": 3});
        remove(&mut v, "a.b").unwrap();
        remove(&mut v, "c.d").unwrap();
        assert_eq!(v, json!({"c": [{"e": 2}], "f": 3}));
        let mut v = json!({"c": [{"d": 1, "e": 2}, 5], "f": {"g": 1, "h": 2}, "i": 1});
        retain(&mut v, &["c.d", "f.g"]);
        assert_eq!(v, json!({"c": [{"d": 1}], "f": {"g": 1}}));
    }

    #[test]
    fn leaf_paths_go_through_arrays() {
        let v = json!({"a": [{"b": 1}, {"b": 2, "c": 3}], "t": [1, 2], "n": {"m": null}});
        assert_eq!(leaf_paths(&v), ["a.b", "a.c", "t", "n.m"]);
        let v = json!({"a.b": 1, "a": {"b": 2}});
        assert_eq!(leaf_paths(&v), ["a.b", "a.b"]);
    }
}
