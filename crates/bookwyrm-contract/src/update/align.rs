//! Which server schema is which of ours: matched by where each is used.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Contract, Operation};
use serde_json::Value as J;

use super::{escape, resolve, SCHEMAS};

pub(super) struct Aligner<'a> {
    ours: &'a J,
    theirs: &'a J,
    names: BTreeMap<String, String>,
}

impl<'a> Aligner<'a> {
    /// The server's component names mapped to ours: by where they are used (the request and
    /// answers of the same operation, the same property), else by the same name; a server
    /// name that is new keeps its name (with a digit added if ours has it for something else).
    pub(super) fn names(
        ours: &'a J,
        theirs: &'a J,
        our_model: &Contract,
        their_model: &Contract,
    ) -> BTreeMap<String, String> {
        let mut a = Aligner {
            ours,
            theirs,
            names: BTreeMap::new(),
        };
        for key in their_model.operations.keys() {
            let (Some(o), Some(t)) = (
                our_model.operations.get(key),
                their_model.operations.get(key),
            ) else {
                continue;
            };
            let (o, t) = (operation_json(ours, o), operation_json(theirs, t));
            if let (Some(oc), Some(tc)) = (
                resolve(ours, &o["requestBody"])["content"].as_object(),
                resolve(theirs, &t["requestBody"])["content"].as_object(),
            ) {
                for (media, tm) in tc {
                    if let Some(om) = oc.get(media) {
                        a.align(&om["schema"], &tm["schema"], 0);
                    }
                }
            }
            if let (Some(or), Some(tr)) = (o["responses"].as_object(), t["responses"].as_object()) {
                for (status, tresp) in tr {
                    let Some(oresp) = or.get(status) else {
                        continue;
                    };
                    let (oc, tc) = (
                        &resolve(ours, oresp)["content"],
                        &resolve(theirs, tresp)["content"],
                    );
                    if let Some(tc) = tc.as_object() {
                        for (media, tm) in tc {
                            if let Some(om) = oc.get(media) {
                                a.align(&om["schema"], &tm["schema"], 0);
                            }
                        }
                    }
                }
            }
        }
        let mut names = a.names;
        let targets: BTreeSet<String> = names.values().cloned().collect();
        let our_schemas = ours.pointer("/components/schemas").and_then(J::as_object);
        for name in theirs
            .pointer("/components/schemas")
            .and_then(J::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if names.contains_key(name) {
                continue;
            }
            let ours_has = our_schemas.is_some_and(|s| s.contains_key(name));
            let target = if !ours_has || !targets.contains(name) {
                name.clone()
            } else {
                (2..)
                    .map(|n| format!("{name}{n}"))
                    .find(|n| !our_schemas.is_some_and(|s| s.contains_key(n)))
                    .unwrap_or_default()
            };
            names.insert(name.clone(), target);
        }
        names
    }

    fn align(&mut self, o: &J, t: &J, depth: usize) {
        if depth > 32 {
            return;
        }
        if let (Some(on), Some(tn)) = (ref_name(o), ref_name(t)) {
            if self.names.contains_key(tn) {
                return;
            }
            self.names.insert(tn.to_string(), on.to_string());
            let (ours, theirs) = (self.ours, self.theirs);
            if let (Some(ob), Some(tb)) = (
                ours.pointer(&format!("/components/schemas/{}", escape(on))),
                theirs.pointer(&format!("/components/schemas/{}", escape(tn))),
            ) {
                self.align(ob, tb, depth + 1);
            }
            return;
        }
        let (o, t) = (body(self.ours, o), body(self.theirs, t));
        if let (Some(op), Some(tp)) = (o["properties"].as_object(), t["properties"].as_object()) {
            for (name, tv) in tp {
                if let Some(ov) = op.get(name) {
                    self.align(ov, tv, depth + 1);
                }
            }
        }
        for key in ["items", "additionalProperties"] {
            if o[key].is_object() && t[key].is_object() {
                self.align(&o[key], &t[key], depth + 1);
            }
        }
        let (om, tm) = (members(o), members(t));
        if om.len() == tm.len() && om.len() > 1 {
            for (a, b) in om.iter().zip(&tm) {
                self.align(a, b, depth + 1);
            }
        }
    }
}

fn operation_json<'a>(doc: &'a J, op: &Operation) -> &'a J {
    doc.pointer(&format!(
        "/paths/{}/{}",
        escape(&op.path),
        op.method.to_lowercase()
    ))
    .unwrap_or(&J::Null)
}

/// The component a schema names, through a one-part `allOf` and a union with `null`.
fn ref_name(s: &J) -> Option<&str> {
    if let Some(r) = s["$ref"].as_str() {
        return r.strip_prefix(SCHEMAS);
    }
    if let Some([one]) = s["allOf"].as_array().map(Vec::as_slice) {
        return ref_name(one);
    }
    match members(s).as_slice() {
        [one] => ref_name(one),
        _ => None,
    }
}

/// The non-null members of an `anyOf` or `oneOf`.
fn members(s: &J) -> Vec<&J> {
    ["anyOf", "oneOf"]
        .iter()
        .filter_map(|k| s[*k].as_array())
        .flatten()
        .filter(|m| m["type"].as_str() != Some("null"))
        .collect()
}

/// The schema that says what a value is, through `$ref`s, a one-part `allOf` and a union
/// with `null`.
fn body<'a>(doc: &'a J, mut s: &'a J) -> &'a J {
    for _ in 0..64 {
        let next = if s.get("$ref").is_some() {
            resolve(doc, s)
        } else if let Some([one]) = s["allOf"].as_array().map(Vec::as_slice) {
            one
        } else {
            match *members(s).as_slice() {
                [one] => one,
                _ => return s,
            }
        };
        if std::ptr::eq(next, s) {
            return s;
        }
        s = next;
    }
    s
}
