//! The merge: ours where the server says the same, the server's where it differs.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Contract, Schema};
use serde_json::Value as J;
use serde_yaml_ng::{Mapping, Value as Y};

use super::{
    at, is_stream, json, reachable, resolve, scalar, set, set_or_remove, wire, METHODS, TODO,
};

/// Keywords that limit a value or choose its Rust type.
const LIMITS: [&str; 10] = [
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "pattern",
    "format",
];

pub(super) struct Merge<'a> {
    pub(super) ours: &'a Y,
    pub(super) ours_j: &'a J,
    pub(super) t3_j: &'a J,
    pub(super) our_model: &'a Contract,
    pub(super) t3_model: &'a Contract,
    pub(super) notes: Vec<String>,
    /// Shared responses (`#/components/responses/N`) whose schema changed: name, media, schema.
    pub(super) response_updates: Vec<(String, String, Y)>,
    pub(super) security_changed: bool,
    /// What of ours was kept where the server leaves it unsaid, by kind: the places.
    pub(super) kept: BTreeMap<&'static str, Vec<String>>,
}

impl Merge<'_> {
    /// Whether our schema `o` and the server's `t` read the same for this SDK.
    fn same(&self, o: &Y, t: &Y) -> bool {
        self.same_json(&json(o), &json(t))
    }

    fn same_json(&self, o: &J, t: &J) -> bool {
        match (Schema::read(self.ours_j, o), Schema::read(self.t3_j, t)) {
            (Ok(a), Ok(b)) => wire(a) == wire(b),
            _ => false,
        }
    }

    pub(super) fn paths(&mut self, ours: Option<&Y>, theirs: Option<&Y>) -> Mapping {
        let empty = Mapping::new();
        let ours = ours.and_then(Y::as_mapping).unwrap_or(&empty);
        let theirs = theirs.and_then(Y::as_mapping).unwrap_or(&empty);
        let mut out = Mapping::new();
        let mut unchanged = 0;
        for (path, o_item) in ours {
            let p = path.as_str().unwrap_or_default();
            let t_item = theirs.get(path);
            let mut item = Mapping::new();
            for (k, v) in o_item.as_mapping().into_iter().flatten() {
                let method = k.as_str().unwrap_or_default();
                if !METHODS.contains(&method) {
                    item.insert(k.clone(), v.clone());
                    continue;
                }
                let key = format!("{} {p}", method.to_uppercase());
                match t_item.and_then(|t| t.get(method)) {
                    Some(t_op) => {
                        let (merged, changed) = self.operation(&key, v, t_op);
                        if !changed {
                            unchanged += 1;
                        }
                        item.insert(k.clone(), merged);
                    }
                    None => self.notes.push(format!("removed: {key}")),
                }
            }
            for (k, v) in t_item.and_then(Y::as_mapping).into_iter().flatten() {
                let method = k.as_str().unwrap_or_default();
                if METHODS.contains(&method) && !item.contains_key(k) {
                    let key = format!("{} {p}", method.to_uppercase());
                    item.insert(k.clone(), self.new_operation(&key, v));
                }
            }
            if item
                .keys()
                .any(|k| METHODS.contains(&k.as_str().unwrap_or("")))
            {
                out.insert(path.clone(), Y::Mapping(item));
            }
        }
        for (path, t_item) in theirs {
            if ours.contains_key(path) {
                continue;
            }
            let p = path.as_str().unwrap_or_default();
            let mut item = Mapping::new();
            for (k, v) in t_item.as_mapping().into_iter().flatten() {
                let method = k.as_str().unwrap_or_default();
                if METHODS.contains(&method) {
                    let key = format!("{} {p}", method.to_uppercase());
                    item.insert(k.clone(), self.new_operation(&key, v));
                } else {
                    item.insert(k.clone(), v.clone());
                }
            }
            out.insert(path.clone(), Y::Mapping(item));
        }
        self.notes
            .insert(0, format!("unchanged: {unchanged} operation(s)"));
        out
    }

    /// One operation both have: ours, with what the server changed. Also whether it changed.
    fn operation(&mut self, key: &str, o: &Y, t: &Y) -> (Y, bool) {
        let (Some(oc), Some(tc)) = (
            self.our_model.operations.get(key),
            self.t3_model.operations.get(key),
        ) else {
            return (o.clone(), false);
        };
        let mut out = o.clone();
        let mut what = Vec::new();
        if oc.operation_id != tc.operation_id {
            self.notes.push(format!(
                "kept: our operationId {} of {key} (the server's is {}; it names the Rust method)",
                oc.operation_id.as_deref().unwrap_or("none"),
                tc.operation_id.as_deref().unwrap_or("none"),
            ));
        }
        let take = |out: &mut Y, field: &str, what: &mut Vec<String>| {
            what.push(field.to_string());
            set_or_remove(out, field, t.get(field).cloned());
        };
        if oc.deprecated != tc.deprecated {
            take(&mut out, "deprecated", &mut what);
        }
        if oc.sunset != tc.sunset {
            take(&mut out, "x-sunset", &mut what);
        }
        if oc
            .parameters
            .iter()
            .map(|(k, p)| (k, p.required, wire(p.schema.clone())))
            .ne(tc
                .parameters
                .iter()
                .map(|(k, p)| (k, p.required, wire(p.schema.clone()))))
        {
            take(&mut out, "parameters", &mut what);
        }
        if oc.security != tc.security {
            take(&mut out, "security", &mut what);
            self.security_changed = true;
        }
        let same_request = oc.request_media == tc.request_media
            && oc.request.clone().map(wire) == tc.request.clone().map(wire);
        if !same_request {
            what.push("request".into());
            let merged = self.request_body(o.get("requestBody"), t.get("requestBody"));
            set_or_remove(&mut out, "requestBody", merged);
        }
        let mut became_stream = false;
        if let (Some(or), Some(tr)) = (
            o.get("responses").and_then(Y::as_mapping),
            t.get("responses").and_then(Y::as_mapping),
        ) {
            let (responses, changed, stream) = self.responses(or, tr);
            became_stream = stream && !oc.streaming;
            if changed {
                what.push("responses".into());
                set(&mut out, "responses", Y::Mapping(responses));
            }
        }
        if became_stream {
            mark_new_stream(&mut out, key);
        }
        let changed = !what.is_empty();
        if changed {
            self.notes
                .push(format!("changed: {key} ({})", what.join(", ")));
        }
        (out, changed)
    }

    fn request_body(&mut self, o: Option<&Y>, t: Option<&Y>) -> Option<Y> {
        let (o, t) = match (o, t) {
            (_, None) => return None,
            (None, Some(t)) => return Some(t.clone()),
            (Some(o), Some(t)) => (o, t),
        };
        let mut out = o.clone();
        if o.get("required") != t.get("required") {
            set_or_remove(&mut out, "required", t.get("required").cloned());
        }
        let empty = Mapping::new();
        let oc = o.get("content").and_then(Y::as_mapping).unwrap_or(&empty);
        let tc = t.get("content").and_then(Y::as_mapping).unwrap_or(&empty);
        let mut content = Mapping::new();
        for (media, om) in oc {
            if let Some(tm) = tc.get(media) {
                let mut m = om.clone();
                match (om.get("schema"), tm.get("schema")) {
                    (Some(os), Some(ts)) => {
                        let at = format!("request {}", media.as_str().unwrap_or_default());
                        set(&mut m, "schema", self.schema(os, ts, &at, false, true))
                    }
                    (_, Some(ts)) => set(&mut m, "schema", ts.clone()),
                    _ => {}
                }
                content.insert(media.clone(), m);
            }
        }
        for (media, tm) in tc {
            if !content.contains_key(media) {
                content.insert(media.clone(), tm.clone());
            }
        }
        set(&mut out, "content", Y::Mapping(content));
        Some(out)
    }

    /// Ours, with the server's statuses; whether anything changed; whether a success answer
    /// is now an event stream.
    fn responses(&mut self, ours: &Mapping, theirs: &Mapping) -> (Mapping, bool, bool) {
        let mut out = Mapping::new();
        let mut changed = false;
        let mut stream = false;
        for (status, o_r) in ours {
            let Some(t_r) = theirs.get(status) else {
                changed = true;
                continue;
            };
            let (o_owned, t_owned) = (json(o_r), json(t_r));
            let o_res = resolve(self.ours_j, &o_owned).clone();
            let t_res = resolve(self.t3_j, &t_owned).clone();
            match (is_stream(&o_res), is_stream(&t_res)) {
                (true, true) => {
                    out.insert(status.clone(), o_r.clone());
                }
                (false, false) => {
                    let merged = self.response(o_r, &o_res, t_r);
                    changed |= merged != *o_r;
                    out.insert(status.clone(), merged);
                }
                (_, t_stream) => {
                    changed = true;
                    stream |= t_stream;
                    out.insert(status.clone(), stream_or(t_r, t_stream));
                }
            }
        }
        for (status, t_r) in theirs {
            if !out.contains_key(status) && !ours.contains_key(status) {
                changed = true;
                let t_stream = is_stream(resolve(self.t3_j, &json(t_r)));
                stream |= t_stream && status.as_str().is_some_and(|s| s.starts_with('2'));
                out.insert(status.clone(), stream_or(t_r, t_stream));
            }
        }
        (out, changed, stream)
    }

    /// One JSON (or empty) answer both have.
    fn response(&mut self, o_r: &Y, o_res: &J, t_r: &Y) -> Y {
        let t_owned = json(t_r);
        let t_res = resolve(self.t3_j, &t_owned);
        let (oc, tc) = (o_res["content"].as_object(), t_res["content"].as_object());
        let same = match (oc, tc) {
            (None, None) => true,
            (Some(oc), Some(tc)) => {
                oc.keys().eq(tc.keys())
                    && oc.iter().all(|(media, om)| {
                        let tm = &tc[media];
                        match (om.get("schema"), tm.get("schema")) {
                            (None, None) => true,
                            (os, ts) => {
                                self.same_json(os.unwrap_or(&J::Null), ts.unwrap_or(&J::Null))
                            }
                        }
                    })
            }
            _ => false,
        };
        if same {
            return o_r.clone();
        }
        let (Some(oc), Some(tc)) = (oc, tc) else {
            return t_r.clone();
        };
        if !oc.keys().eq(tc.keys()) {
            return t_r.clone();
        }
        // The same media types: the schemas merged, where ours are.
        let shared = o_r
            .get("$ref")
            .and_then(Y::as_str)
            .and_then(|r| r.strip_prefix("#/components/responses/"))
            .map(str::to_string);
        let y_of = |j: &J| serde_yaml_ng::to_value(j).unwrap_or(Y::Null);
        let t_content = t_r
            .get("content")
            .cloned()
            .unwrap_or_else(|| y_of(&t_res["content"]));
        let mut out = o_r.clone();
        let mut content = match &shared {
            // A shared response of ours: its content, in order, from our document.
            Some(name) => at(self.ours, &["components", "responses", name, "content"])
                .cloned()
                .unwrap_or(Y::Null),
            None => o_r.get("content").cloned().unwrap_or(Y::Null),
        };
        for media in oc.keys() {
            let (Some(os), Some(ts)) = (
                content
                    .get(media.as_str())
                    .and_then(|m| m.get("schema"))
                    .cloned(),
                t_content.get(media.as_str()).and_then(|m| m.get("schema")),
            ) else {
                continue;
            };
            let merged = self.schema(&os, ts, &format!("answer {media}"), false, false);
            match &shared {
                Some(name) => self
                    .response_updates
                    .push((name.clone(), media.clone(), merged)),
                None => {
                    if let Some(m) = content.get_mut(media.as_str()) {
                        set(m, "schema", merged);
                    }
                }
            }
        }
        if shared.is_none() {
            set(&mut out, "content", content);
        }
        out
    }

    /// A schema both have: ours where the server says the same, else the server's, merged
    /// property by property so that what did not change keeps our spelling.
    /// `at` names the place for the notes; `optional` says it is a property that may be left
    /// out; `request` that it is only ever sent, never decoded.
    fn schema(&mut self, o: &Y, t: &Y, at: &str, optional: bool, request: bool) -> Y {
        if self.same(o, t) {
            return o.clone();
        }
        let (Some(om), Some(tm)) = (o.as_mapping(), t.as_mapping()) else {
            return t.clone();
        };
        // The same component, referred to in another way: our reference, their wrapper.
        if let (Some(a), Some(b)) = (direct_ref(om), direct_ref(tm)) {
            if a == b && local(om) == local(tm) {
                return o.clone();
            }
            return with_ours(om, tm);
        }
        if direct_ref(om).is_some() != direct_ref(tm).is_some() {
            return with_ours(om, tm);
        }
        // Ours, keyword by keyword: properties and items merged in turn, the rest the server's.
        let mut out = om.clone();
        if om.contains_key("properties") || tm.contains_key("properties") {
            let empty = Mapping::new();
            let op = om
                .get("properties")
                .and_then(Y::as_mapping)
                .unwrap_or(&empty);
            let tp = tm
                .get("properties")
                .and_then(Y::as_mapping)
                .unwrap_or(&empty);
            let required: BTreeSet<&str> = tm
                .get("required")
                .and_then(Y::as_sequence)
                .into_iter()
                .flatten()
                .filter_map(Y::as_str)
                .collect();
            let mut props = Mapping::new();
            for (name, ov) in op {
                if let Some(tv) = tp.get(name) {
                    let n = name.as_str().unwrap_or_default();
                    let merged =
                        self.schema(ov, tv, &format!("{at}.{n}"), !required.contains(n), request);
                    props.insert(name.clone(), merged);
                }
            }
            for (name, tv) in tp {
                if !props.contains_key(name) {
                    props.insert(name.clone(), tv.clone());
                }
            }
            out.insert("properties".into(), Y::Mapping(props));
        }
        if let (Some(oi), Some(ti)) = (om.get("items"), tm.get("items")) {
            out.insert(
                "items".into(),
                self.schema(oi, ti, &format!("{at}[]"), false, request),
            );
        }
        self.sync(&mut out, tm, at, optional);
        if request {
            self.keep_required(&mut out, om, at);
        }
        Y::Mapping(out)
    }

    /// `out` (ours) given the server's keywords, except: what is merged before (`properties`,
    /// `items` when both have one); our description and extensions; lists that hold the same
    /// values in another order (`required`, `enum`); and what the server only leaves unsaid
    /// and would change the Rust types without changing what this SDK sends or decodes: a
    /// limit or format it does not state, of a value whose type did not change (ours chooses
    /// `u64`, `NonZeroU64`), `nullable` on a
    /// property that may be left out (an `Option` either way), a default where we have none
    /// (it would turn an `Option` into a value). Each kept one is noted.
    fn sync(&mut self, out: &mut Mapping, t: &Mapping, at: &str, optional: bool) {
        let merged = |k: &str| k == "properties" || (k == "items" && t.contains_key("items"));
        let ours_only = |k: &str| k == "description" || k.starts_with("x-bookwyrm");
        let gone: Vec<Y> = out
            .keys()
            .filter(|k| {
                let k = k.as_str().unwrap_or_default();
                !ours_only(k) && !merged(k) && !t.contains_key(k)
            })
            .cloned()
            .collect();
        let same_type = out.get("type") == t.get("type");
        for k in gone {
            let key = k.as_str().unwrap_or_default();
            if LIMITS.contains(&key) && same_type {
                self.kept
                    .entry("limits and formats the server does not state")
                    .or_default()
                    .push(format!("{at} {key}"));
                continue;
            }
            out.shift_remove(&k);
        }
        for (k, v) in t {
            let key = k.as_str().unwrap_or_default();
            if merged(key) || (ours_only(key) && out.contains_key(k)) {
                continue;
            }
            if !out.contains_key(k) {
                if key == "nullable" && optional {
                    self.kept
                        .entry("no `nullable` on properties that may be left out")
                        .or_default()
                        .push(at.to_string());
                    continue;
                }
                if key == "default" {
                    self.kept
                        .entry("no default where ours has none")
                        .or_default()
                        .push(format!("{at} = {}", scalar(Some(v))));
                    continue;
                }
            }
            let same = match (out.get(k), v) {
                (Some(Y::Sequence(a)), Y::Sequence(b)) if matches!(key, "required" | "enum") => {
                    a.len() == b.len() && a.iter().all(|x| b.contains(x))
                }
                (Some(a), b) => a == b,
                (None, _) => false,
            };
            if !same {
                out.insert(k.clone(), v.clone());
            }
        }
    }

    /// A property we require in a body only ever sent stays required when the server makes it
    /// optional: this SDK still sends it, and its Rust type stays a value, not an `Option`.
    fn keep_required(&mut self, out: &mut Mapping, ours: &Mapping, at: &str) {
        let names = |m: &Mapping| -> Vec<Y> {
            m.get("required")
                .and_then(Y::as_sequence)
                .cloned()
                .unwrap_or_default()
        };
        let mut now = names(out);
        let props = out.get("properties").and_then(Y::as_mapping);
        let kept: Vec<Y> = names(ours)
            .into_iter()
            .filter(|n| !now.contains(n) && props.is_some_and(|p| p.contains_key(n)))
            .collect();
        if kept.is_empty() {
            return;
        }
        for n in &kept {
            self.kept
                .entry("required in bodies only sent (this SDK always sends them)")
                .or_default()
                .push(format!("{at}.{}", n.as_str().unwrap_or_default()));
        }
        now.extend(kept);
        // Our order, then the server's new ones.
        let ours_order = names(ours);
        now.sort_by_key(|n| ours_order.iter().position(|o| o == n).unwrap_or(usize::MAX));
        out.insert("required".into(), Y::Sequence(now));
    }

    fn new_operation(&mut self, key: &str, t: &Y) -> Y {
        let mut op = t.clone();
        let t_json = json(t);
        // A success answer that is an event stream becomes our shared `EventStream`.
        let mut streaming = false;
        if let Some(Y::Mapping(responses)) = op.get_mut("responses") {
            for (status, r) in responses.iter_mut() {
                if status.as_str().is_some_and(|s| s.starts_with('2'))
                    && is_stream(resolve(self.t3_j, &json(r)))
                {
                    *r = stream_or(r, true);
                    streaming = true;
                }
            }
        }
        if op.get("operationId").is_none() {
            let id: String = key
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect::<String>()
                .split('_')
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join("_");
            set(&mut op, "operationId", Y::String(id));
        }
        if streaming {
            mark_new_stream(&mut op, key);
            self.notes.push(format!(
                "added: {key}, an event stream: list its events in x-bookwyrm-events before building"
            ));
        } else {
            self.notes.push(format!("added: {key}"));
        }
        let multipart = t_json["requestBody"]["content"]
            .as_object()
            .is_some_and(|c| c.keys().any(|m| m.starts_with("multipart/")));
        if multipart {
            set(&mut op, "x-bookwyrm-handwritten", "multipart".into());
            add_todo(
                &mut op,
                "write this multipart operation by hand (progenitor cannot), then remove this mark",
            );
        }
        op
    }

    /// Component schemas: each one the merged document uses, ours merged with the server's
    /// of the same (aligned) name; the server's new ones added; ours no longer used removed.
    pub(super) fn components(&mut self, ours: &Y, t3: &Y, out: &mut Y) {
        let before = reachable(ours);
        let t3_schemas = at(t3, &["components", "schemas"])
            .and_then(Y::as_mapping)
            .cloned()
            .unwrap_or_default();
        let our_schemas = at(ours, &["components", "schemas"])
            .and_then(Y::as_mapping)
            .cloned()
            .unwrap_or_default();
        // What is decoded: the schemas answers and events use.
        let answers = {
            let mut decoded = out.clone();
            if let Some(paths) = decoded.get_mut("paths").and_then(Y::as_mapping_mut) {
                for item in paths.values_mut().filter_map(Y::as_mapping_mut) {
                    for op in item.values_mut().filter_map(Y::as_mapping_mut) {
                        op.shift_remove("requestBody");
                    }
                }
            }
            if let Some(c) = decoded.get_mut("components").and_then(Y::as_mapping_mut) {
                c.shift_remove("requestBodies");
            }
            reachable(&decoded)
        };
        let mut done: BTreeSet<String> = BTreeSet::new();
        loop {
            let mut progressed = false;
            for name in reachable(out) {
                if done.contains(&name) {
                    continue;
                }
                done.insert(name.clone());
                let Some(theirs) = t3_schemas.get(name.as_str()) else {
                    continue;
                };
                let merged = match our_schemas.get(name.as_str()) {
                    Some(o) => {
                        let request = !answers.contains(&name);
                        let merged = self.schema(o, theirs, &name, false, request);
                        if merged != *o {
                            self.notes.push(format!("changed: schema {name}"));
                        }
                        merged
                    }
                    None => {
                        self.notes.push(format!("added: schema {name}"));
                        theirs.clone()
                    }
                };
                if let Some(schemas) = out
                    .get_mut("components")
                    .and_then(|c| c.get_mut("schemas"))
                    .and_then(Y::as_mapping_mut)
                {
                    schemas.insert(Y::String(name.clone()), merged);
                }
                progressed = true;
            }
            if !progressed {
                break;
            }
        }
        let after = reachable(out);
        if let Some(schemas) = out
            .get_mut("components")
            .and_then(|c| c.get_mut("schemas"))
            .and_then(Y::as_mapping_mut)
        {
            for gone in before.difference(&after) {
                if schemas.shift_remove(gone.as_str()).is_some() {
                    self.notes
                        .push(format!("removed: schema {gone} (no longer used)"));
                }
            }
        }
    }
}

/// The component a schema refers to directly or through a one-part `allOf`.
fn direct_ref(m: &Mapping) -> Option<&str> {
    if let Some(r) = m.get("$ref").and_then(Y::as_str) {
        return Some(r);
    }
    match m.get("allOf").and_then(Y::as_sequence).map(Vec::as_slice) {
        Some([one]) => one.get("$ref").and_then(Y::as_str),
        _ => None,
    }
}

/// What a reference wrapper says besides its target and its words.
fn local(m: &Mapping) -> Mapping {
    m.iter()
        .filter(|(k, _)| {
            let k = k.as_str().unwrap_or_default();
            !matches!(k, "$ref" | "allOf" | "description") && !k.starts_with("x-bookwyrm")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The server's schema, with our description (where we have one) and our extensions.
fn with_ours(o: &Mapping, t: &Mapping) -> Y {
    let mut out = t.clone();
    for (k, v) in o {
        let key = k.as_str().unwrap_or_default();
        if key == "description" || key.starts_with("x-bookwyrm") {
            out.insert(k.clone(), v.clone());
        }
    }
    Y::Mapping(out)
}

/// A success answer that is an event stream becomes our shared `EventStream` response.
fn stream_or(r: &Y, stream: bool) -> Y {
    if !stream {
        return r.clone();
    }
    let mut m = Mapping::new();
    m.insert(
        "$ref".into(),
        Y::String("#/components/responses/EventStream".into()),
    );
    Y::Mapping(m)
}

fn mark_new_stream(op: &mut Y, key: &str) {
    let id = op
        .get("operationId")
        .and_then(Y::as_str)
        .unwrap_or(key)
        .to_string();
    let name: String = id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut cs = p.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    set(op, "x-bookwyrm-stream", Y::String(format!("{name}Event")));
    add_todo(
        op,
        "list the events of this stream in x-bookwyrm-events (event name -> variant and payload schema), then remove this mark",
    );
}

fn add_todo(op: &mut Y, what: &str) {
    let text = match op.get(TODO).and_then(Y::as_str) {
        Some(before) => format!("{before}; {what}"),
        None => what.to_string(),
    };
    set(op, TODO, Y::String(text));
}

pub(super) fn copy_missing(out: &mut Y, t3: &Y, section: &str) {
    let Some(theirs) = at(t3, &["components", section]).and_then(Y::as_mapping) else {
        return;
    };
    let Some(components) = out.get_mut("components").and_then(Y::as_mapping_mut) else {
        return;
    };
    let slot = components
        .entry(section.into())
        .or_insert_with(|| Y::Mapping(Mapping::new()));
    if let Some(slot) = slot.as_mapping_mut() {
        for (k, v) in theirs {
            if !slot.contains_key(k) {
                slot.insert(k.clone(), v.clone());
            }
        }
    }
}
