//! `bookwyrm contract update`: a server's OpenAPI 3.0 or 3.1 document merged into this SDK's
//! 3.0.3 contract.
//!
//! The merge keeps every part of our contract the server describes the same way (the same
//! model for [`Schema::read`], however spelled), so that a server that publishes exactly our
//! contract leaves the file byte-identical, and a real change is a small diff. Where the
//! server differs, its part is taken, converted to 3.0: nullability as `nullable: true`,
//! `const` as a one-value `enum`, keywords beside a `$ref` around an `allOf`, a numeric
//! `exclusiveMinimum` as `minimum` + `exclusiveMinimum: true`, `contentMediaType` as
//! `format: binary`, `examples` as `example`. Anything else with no 3.0 form is never dropped:
//! the update fails, naming its JSON pointer in the server's document.
//!
//! What is ours stays ours: the `x-bookwyrm-*` extensions, the `operationId`s (they name the
//! Rust methods, the wire never carries them), the names of our component schemas (a server
//! schema is matched to ours by where it is used: the request of the same operation, the same
//! property), and our descriptions (the SDK's docs; the server's fill in only where we have
//! none). `title`s are left out: FastAPI writes one on every property and nothing here uses
//! them.

use std::collections::{BTreeMap, BTreeSet};

use bookwyrm::contract::{Contract, Operation, Schema, Shape};
use serde_json::Value as J;
use serde_yaml::{Mapping, Value as Y};

/// Marks an operation the build must refuse until a person finishes it (lists a new stream's
/// events, writes a multipart call by hand). `build.rs` reads it.
pub const TODO: &str = "x-bookwyrm-todo";
/// Stands for a part with no OpenAPI 3.0 form while the merge runs; never written.
const UNCONVERTIBLE: &str = "x-bookwyrm-unconvertible";
const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
const SCHEMAS: &str = "#/components/schemas/";
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
/// JSON Schema keywords that OpenAPI 3.0 has no form for.
const NO_3_0_FORM: [&str; 19] = [
    "prefixItems",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "dependentRequired",
    "unevaluatedProperties",
    "unevaluatedItems",
    "patternProperties",
    "propertyNames",
    "contains",
    "minContains",
    "maxContains",
    "$defs",
    "$anchor",
    "$dynamicRef",
    "$dynamicAnchor",
    "$id",
    "$schema",
];

/// The updated contract and what the update did, line by line.
#[derive(Debug)]
pub struct Updated {
    pub document: Y,
    pub notes: Vec<String>,
}

/// Why there is no updated contract.
#[derive(Debug, PartialEq)]
pub enum UpdateError {
    /// The server's document cannot be read, or describes another API.
    Unreadable(String),
    /// Parts of the server's document that OpenAPI 3.0 cannot say, each `pointer: what`.
    NoThreeZeroForm(Vec<String>),
}

impl std::fmt::Display for UpdateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(why) => f.write_str(why),
            Self::NoThreeZeroForm(parts) => {
                write!(
                    f,
                    "{} part(s) of the server's document have no OpenAPI 3.0 form; the contract is left as it was:",
                    parts.len()
                )?;
                for p in parts {
                    write!(f, "\n  {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// `ours` (our 3.0.3 contract) updated from `theirs` (a server's 3.0 or 3.1 document).
pub fn update(ours: &Y, theirs: &Y) -> Result<Updated, UpdateError> {
    let ours = string_keys(ours);
    let theirs = string_keys(theirs);
    let (ours_j, theirs_j) = (json(&ours), json(&theirs));
    let version = theirs_j["openapi"].as_str().unwrap_or_default();
    if !(version.starts_with("3.0") || version.starts_with("3.1")) {
        return Err(UpdateError::Unreadable(if version.is_empty() {
            "not an OpenAPI 3.0 or 3.1 document (no `openapi` version)".into()
        } else {
            format!("OpenAPI {version}: update reads 3.0 and 3.1")
        }));
    }
    let their_model =
        Contract::from_value(&theirs_j).map_err(|e| UpdateError::Unreadable(e.to_string()))?;
    let our_model = Contract::from_value(&ours_j)
        .map_err(|e| UpdateError::Unreadable(format!("our contract: {e}")))?;
    if !their_model
        .operations
        .keys()
        .any(|k| our_model.operations.contains_key(k))
    {
        let theirs: Vec<&str> = their_model
            .operations
            .keys()
            .take(5)
            .map(String::as_str)
            .collect();
        return Err(UpdateError::Unreadable(format!(
            "not this API: none of its {} operation(s) ({}{}) is one of this SDK's",
            their_model.operations.len(),
            theirs.join(", "),
            if their_model.operations.len() > 5 {
                ", …"
            } else {
                ""
            }
        )));
    }

    let names = Aligner::names(&ours_j, &theirs_j, &our_model, &their_model);
    let mut down = Downgrade { names: &names };
    let t3 = down.document(&theirs);
    let t3_j = json(&t3);
    let t3_model =
        Contract::from_value(&t3_j).map_err(|e| UpdateError::Unreadable(e.to_string()))?;

    let mut merge = Merge {
        ours: &ours,
        ours_j: &ours_j,
        t3_j: &t3_j,
        our_model: &our_model,
        t3_model: &t3_model,
        notes: Vec::new(),
        response_updates: Vec::new(),
        security_changed: false,
        kept: BTreeMap::new(),
    };
    let mut out = ours.clone();
    if let Some(v) = at(&t3, &["info", "version"]).filter(|v| v.is_string()) {
        if at(&ours, &["info", "version"]) != Some(v) {
            merge.notes.push(format!(
                "info.version: {} -> {}",
                scalar(at(&ours, &["info", "version"])),
                scalar(Some(v))
            ));
            if let Some(info) = out.get_mut("info").and_then(Y::as_mapping_mut) {
                info.insert("version".into(), v.clone());
            }
        }
    }
    let paths = merge.paths(at(&ours, &["paths"]), at(&t3, &["paths"]));
    set(&mut out, "paths", Y::Mapping(paths));
    for (name, media, schema) in std::mem::take(&mut merge.response_updates) {
        if let Some(slot) = out
            .get_mut("components")
            .and_then(|c| c.get_mut("responses"))
            .and_then(|r| r.get_mut(name.as_str()))
            .and_then(|r| r.get_mut("content"))
            .and_then(|c| c.get_mut(media.as_str()))
            .and_then(Y::as_mapping_mut)
        {
            slot.insert("schema".into(), schema);
        }
    }
    if merge.security_changed {
        copy_missing(&mut out, &t3, "securitySchemes");
    }
    merge.components(&ours, &t3, &mut out);

    for (what, places) in std::mem::take(&mut merge.kept) {
        merge.notes.push(format!(
            "kept: {what} ({}): {}",
            places.len(),
            places.join(", ")
        ));
    }
    let mut problems = Vec::new();
    placeholders(&out, &mut problems);
    if !problems.is_empty() {
        problems.sort();
        problems.dedup();
        return Err(UpdateError::NoThreeZeroForm(problems));
    }
    if let Some(root) = out.as_mapping_mut() {
        root.insert("openapi".into(), "3.0.3".into());
    }
    Ok(Updated {
        document: out,
        notes: merge.notes,
    })
}

// ---------------------------------------------------------------------------------------
// Small helpers over the ordered YAML tree.

/// The same tree with every mapping key a string (`200:` unquoted in YAML is a number).
fn string_keys(y: &Y) -> Y {
    match y {
        Y::Mapping(m) => Y::Mapping(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s.clone(),
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        Y::Null => "null".into(),
                        other => format!("{other:?}"),
                    };
                    (Y::String(key), string_keys(v))
                })
                .collect(),
        ),
        Y::Sequence(s) => Y::Sequence(s.iter().map(string_keys).collect()),
        Y::Tagged(t) => string_keys(&t.value),
        other => other.clone(),
    }
}

fn json(y: &Y) -> J {
    serde_json::to_value(y).unwrap_or(J::Null)
}

fn at<'a>(y: &'a Y, keys: &[&str]) -> Option<&'a Y> {
    keys.iter().try_fold(y, |v, k| v.as_mapping()?.get(*k))
}

fn set(y: &mut Y, key: &str, value: Y) {
    if let Some(m) = y.as_mapping_mut() {
        m.insert(key.into(), value);
    }
}

fn scalar(y: Option<&Y>) -> String {
    match y {
        Some(Y::String(s)) => s.clone(),
        Some(other) => serde_json::to_string(&json(other)).unwrap_or_default(),
        None => "none".into(),
    }
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

fn is_null_schema(y: &Y) -> bool {
    at(y, &["type"]).and_then(Y::as_str) == Some("null")
}

fn copy_missing(out: &mut Y, t3: &Y, section: &str) {
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

fn placeholders(y: &Y, out: &mut Vec<String>) {
    match y {
        Y::Mapping(m) => {
            if let Some(Y::String(what)) = m.get(UNCONVERTIBLE) {
                out.push(what.clone());
            }
            m.values().for_each(|v| placeholders(v, out));
        }
        Y::Sequence(s) => s.iter().for_each(|v| placeholders(v, out)),
        _ => {}
    }
}

/// The `#/components/schemas/` names a tree refers to.
fn refs(y: &Y, out: &mut BTreeSet<String>) {
    match y {
        Y::Mapping(m) => {
            if let Some(name) = m
                .get("$ref")
                .and_then(Y::as_str)
                .and_then(|r| r.strip_prefix(SCHEMAS))
            {
                out.insert(name.to_string());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Y::Sequence(s) => s.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The component schemas a contract uses: from its paths, its shared responses, request
/// bodies and parameters, and its streams' events, and what those use in turn.
fn reachable(doc: &Y) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    if let Some(paths) = at(doc, &["paths"]) {
        refs(paths, &mut names);
        for item in paths.as_mapping().into_iter().flat_map(Mapping::values) {
            for op in item.as_mapping().into_iter().flat_map(Mapping::values) {
                for event in at(op, &["x-bookwyrm-events"])
                    .and_then(Y::as_mapping)
                    .into_iter()
                    .flat_map(Mapping::values)
                {
                    if let Some(s) = at(event, &["schema"]).and_then(Y::as_str) {
                        names.insert(s.to_string());
                    }
                }
            }
        }
    }
    for section in ["responses", "requestBodies", "parameters"] {
        if let Some(s) = at(doc, &["components", section]) {
            refs(s, &mut names);
        }
    }
    let schemas = at(doc, &["components", "schemas"]).and_then(Y::as_mapping);
    let mut todo: Vec<String> = names.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        if let Some(schema) = schemas.and_then(|s| s.get(name.as_str())) {
            let mut more = BTreeSet::new();
            refs(schema, &mut more);
            for m in more {
                if names.insert(m.clone()) {
                    todo.push(m);
                }
            }
        }
    }
    names
}

/// Whether a response (resolved) answers with an event stream.
fn is_stream(response: &J) -> bool {
    response["content"]
        .as_object()
        .is_some_and(|c| c.keys().any(|k| k.starts_with("text/event-stream")))
}

fn resolve<'a>(doc: &'a J, mut v: &'a J) -> &'a J {
    for _ in 0..64 {
        match v["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match doc.pointer(pointer) {
                Some(target) => v = target,
                None => return v,
            },
            None => return v,
        }
    }
    v
}

/// The model as this SDK uses it: whether an enum keeps unknown values is our choice
/// (`x-bookwyrm-open`), never the server's.
fn wire(mut s: Schema) -> Schema {
    match &mut s.shape {
        Shape::Enum { open, values } => {
            *open = false;
            values.sort_by_key(|v| v.to_string());
        }
        Shape::Object { properties, .. } => {
            for p in properties.values_mut() {
                *p = wire(p.clone());
            }
        }
        Shape::Array(items) => **items = wire((**items).clone()),
        Shape::OneOf(members) => {
            for m in members.iter_mut() {
                *m = wire(m.clone());
            }
        }
        _ => {}
    }
    s
}

// ---------------------------------------------------------------------------------------
// Which server schema is which of ours.

struct Aligner<'a> {
    ours: &'a J,
    theirs: &'a J,
    names: BTreeMap<String, String>,
}

impl<'a> Aligner<'a> {
    /// The server's component names mapped to ours: by where they are used (the request and
    /// answers of the same operation, the same property), else by the same name; a server
    /// name that is new keeps its name (with a digit added if ours has it for something else).
    fn names(
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
            match members(s).as_slice() {
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

// ---------------------------------------------------------------------------------------
// OpenAPI 3.1 -> 3.0.

struct Downgrade<'a> {
    names: &'a BTreeMap<String, String>,
}

impl Downgrade<'_> {
    /// The server's document in 3.0 form, its component schemas under our names.
    fn document(&mut self, t: &Y) -> Y {
        let mut out = t.clone();
        if let Some(paths) = out.get_mut("paths").and_then(Y::as_mapping_mut) {
            for (path, item) in paths.iter_mut() {
                let base = format!("/paths/{}", escape(path.as_str().unwrap_or_default()));
                if let Some(params) = item.get_mut("parameters") {
                    self.parameters(params, &format!("{base}/parameters"));
                }
                for method in METHODS {
                    if let Some(op) = item.get_mut(method) {
                        self.operation(op, &format!("{base}/{method}"));
                    }
                }
            }
        }
        if let Some(components) = out.get_mut("components").and_then(Y::as_mapping_mut) {
            if let Some(Y::Mapping(schemas)) = components.get("schemas") {
                let renamed: Mapping = schemas
                    .iter()
                    .map(|(k, v)| {
                        let name = k.as_str().unwrap_or_default();
                        let ptr = format!("/components/schemas/{}", escape(name));
                        let ours = self.names.get(name).cloned().unwrap_or(name.to_string());
                        (Y::String(ours), self.schema(v, &ptr))
                    })
                    .collect();
                components.insert("schemas".into(), Y::Mapping(renamed));
            }
            for section in ["responses", "requestBodies"] {
                if let Some(Y::Mapping(items)) = components.get_mut(section) {
                    for (k, v) in items.iter_mut() {
                        let ptr = format!(
                            "/components/{section}/{}",
                            escape(k.as_str().unwrap_or_default())
                        );
                        self.content(v, &ptr);
                    }
                }
            }
            if let Some(Y::Mapping(items)) = components.get_mut("parameters") {
                for (k, v) in items.iter_mut() {
                    let ptr = format!(
                        "/components/parameters/{}",
                        escape(k.as_str().unwrap_or_default())
                    );
                    self.parameter(v, &ptr);
                }
            }
        }
        out
    }

    fn operation(&mut self, op: &mut Y, base: &str) {
        if let Some(params) = op.get_mut("parameters") {
            self.parameters(params, &format!("{base}/parameters"));
        }
        if let Some(body) = op.get_mut("requestBody") {
            self.content(body, &format!("{base}/requestBody"));
        }
        if let Some(Y::Mapping(responses)) = op.get_mut("responses") {
            for (status, response) in responses.iter_mut() {
                let ptr = format!(
                    "{base}/responses/{}",
                    escape(status.as_str().unwrap_or_default())
                );
                self.content(response, &ptr);
            }
        }
    }

    fn parameters(&mut self, params: &mut Y, base: &str) {
        if let Y::Sequence(list) = params {
            for (i, p) in list.iter_mut().enumerate() {
                self.parameter(p, &format!("{base}/{i}"));
            }
        }
    }

    fn parameter(&mut self, p: &mut Y, base: &str) {
        if let Some(schema) = p.get("schema").cloned() {
            set(p, "schema", self.schema(&schema, &format!("{base}/schema")));
        }
    }

    /// The schemas of a request body's or response's `content` (and a response's headers).
    fn content(&mut self, holder: &mut Y, base: &str) {
        if holder.get("$ref").is_some() {
            return;
        }
        if let Some(Y::Mapping(content)) = holder.get_mut("content") {
            for (media, m) in content.iter_mut() {
                let ptr = format!("{base}/content/{}", escape(media.as_str().unwrap_or("")));
                if let Some(schema) = m.get("schema").cloned() {
                    set(m, "schema", self.schema(&schema, &format!("{ptr}/schema")));
                }
            }
        }
        if let Some(Y::Mapping(headers)) = holder.get_mut("headers") {
            for (name, h) in headers.iter_mut() {
                let ptr = format!("{base}/headers/{}", escape(name.as_str().unwrap_or("")));
                self.parameter(h, &ptr);
            }
        }
    }

    fn schema(&mut self, s: &Y, ptr: &str) -> Y {
        let map = match s {
            Y::Mapping(m) => m,
            Y::Bool(true) => return Y::Mapping(Mapping::new()),
            Y::Bool(false) => return self.cannot(ptr, "the schema `false` (no value allowed)"),
            other => return other.clone(),
        };
        let mut out = Mapping::new();
        let mut nullable = false;
        let mut union_nulls = false;
        for (k, v) in map {
            let key = k.as_str().unwrap_or_default();
            let here = format!("{ptr}/{}", escape(key));
            match key {
                "$ref" => {
                    let r = v.as_str().unwrap_or_default();
                    let renamed = match r.strip_prefix(SCHEMAS) {
                        Some(name) => format!(
                            "{SCHEMAS}{}",
                            self.names.get(name).map(String::as_str).unwrap_or(name)
                        ),
                        None => r.to_string(),
                    };
                    out.insert("$ref".into(), Y::String(renamed));
                }
                "type" => match v {
                    Y::String(t) if t == "null" => {
                        return self.cannot(ptr, "`type: null` alone (3.0 has no null type)")
                    }
                    Y::Sequence(types) => {
                        let named: Vec<&str> = types.iter().filter_map(Y::as_str).collect();
                        nullable |= named.contains(&"null");
                        let rest: Vec<&str> = named.into_iter().filter(|t| *t != "null").collect();
                        match rest.as_slice() {
                            [one] => {
                                out.insert("type".into(), Y::String(one.to_string()));
                            }
                            [] => return self.cannot(ptr, "`type: [null]` (3.0 has no null type)"),
                            many => {
                                return self.cannot(
                                    &here,
                                    &format!("a `type` list of {} non-null types", many.join(", ")),
                                )
                            }
                        }
                    }
                    other => {
                        out.insert(k.clone(), other.clone());
                    }
                },
                "const" => {
                    if map.contains_key("enum") {
                        return self.cannot(&here, "`const` beside `enum`");
                    }
                    out.insert("enum".into(), Y::Sequence(vec![v.clone()]));
                }
                "examples" => {
                    if let Some(first) = v.as_sequence().and_then(|s| s.first()) {
                        out.insert("example".into(), first.clone());
                    }
                }
                "exclusiveMinimum" | "exclusiveMaximum" if v.is_number() => {
                    let bound = if key == "exclusiveMinimum" {
                        "minimum"
                    } else {
                        "maximum"
                    };
                    out.insert(bound.into(), v.clone());
                    out.insert(k.clone(), Y::Bool(true));
                }
                "contentMediaType" => {
                    if !map.contains_key("format") {
                        out.insert("format".into(), "binary".into());
                    }
                }
                "contentEncoding" => {
                    if v.as_str() == Some("base64") && !map.contains_key("format") {
                        out.insert("format".into(), "byte".into());
                    }
                }
                "title" | "$comment" => {}
                "properties" => {
                    let props: Mapping = v
                        .as_mapping()
                        .into_iter()
                        .flatten()
                        .map(|(name, p)| {
                            let pp = format!("{here}/{}", escape(name.as_str().unwrap_or("")));
                            (name.clone(), self.schema(p, &pp))
                        })
                        .collect();
                    out.insert(k.clone(), Y::Mapping(props));
                }
                "items" => {
                    if v.is_sequence() {
                        return self.cannot(&here, "`items` as a list (a tuple)");
                    }
                    out.insert(k.clone(), self.schema(v, &here));
                }
                "additionalProperties" | "not" if v.is_mapping() => {
                    out.insert(k.clone(), self.schema(v, &here));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let mut kept = Vec::new();
                    for (i, m) in v.as_sequence().into_iter().flatten().enumerate() {
                        if key != "allOf" && is_null_schema(m) {
                            nullable = true;
                            union_nulls = true;
                        } else {
                            kept.push(self.schema(m, &format!("{here}/{i}")));
                        }
                    }
                    out.insert(k.clone(), Y::Sequence(kept));
                }
                k2 if NO_3_0_FORM.contains(&k2) => {
                    return self.cannot(&here, &format!("`{k2}` has no OpenAPI 3.0 form"));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if union_nulls {
            for key in ["anyOf", "oneOf"] {
                let single = match out.get(key) {
                    Some(Y::Sequence(members)) if members.len() == 1 => members[0].clone(),
                    Some(Y::Sequence(members)) if members.is_empty() => {
                        return self.cannot(ptr, "a union of `null` only");
                    }
                    _ => continue,
                };
                out.shift_remove(key);
                if single.get("$ref").is_some() {
                    out.insert("allOf".into(), Y::Sequence(vec![single]));
                } else if let Y::Mapping(inner) = single {
                    // The member's keywords first, then the wrapper's.
                    let mut merged = inner;
                    for (k, v) in std::mem::take(&mut out) {
                        merged.insert(k, v);
                    }
                    out = merged;
                }
            }
        }
        // 3.0 ignores keywords beside a `$ref`: the `$ref` goes into an `allOf`.
        if out.contains_key("$ref") && out.len() > 1 {
            let reference = out.shift_remove("$ref").unwrap_or(Y::Null);
            let mut wrapped = Mapping::new();
            let mut target = Mapping::new();
            target.insert("$ref".into(), reference);
            wrapped.insert("allOf".into(), Y::Sequence(vec![Y::Mapping(target)]));
            wrapped.extend(out);
            out = wrapped;
        }
        if nullable {
            out.insert("nullable".into(), Y::Bool(true));
        }
        Y::Mapping(out)
    }

    fn cannot(&mut self, ptr: &str, what: &str) -> Y {
        let text = format!("{ptr}: {what}");
        let mut m = Mapping::new();
        m.insert(UNCONVERTIBLE.into(), Y::String(text));
        Y::Mapping(m)
    }
}

// ---------------------------------------------------------------------------------------
// The merge.

struct Merge<'a> {
    ours: &'a Y,
    ours_j: &'a J,
    t3_j: &'a J,
    our_model: &'a Contract,
    t3_model: &'a Contract,
    notes: Vec<String>,
    /// Shared responses (`#/components/responses/N`) whose schema changed: name, media, schema.
    response_updates: Vec<(String, String, Y)>,
    security_changed: bool,
    /// What of ours was kept where the server leaves it unsaid, by kind: the places.
    kept: BTreeMap<&'static str, Vec<String>>,
}

impl Merge<'_> {
    fn same(&self, o: &Y, t: &Y) -> bool {
        match (
            Schema::read(self.ours_j, &json(o)),
            Schema::read(self.t3_j, &json(t)),
        ) {
            (Ok(a), Ok(b)) => wire(a) == wire(b),
            _ => false,
        }
    }

    fn paths(&mut self, ours: Option<&Y>, theirs: Option<&Y>) -> Mapping {
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
            match (out.as_mapping_mut(), t.get(field)) {
                (Some(m), Some(v)) => {
                    m.insert(field.into(), v.clone());
                }
                (Some(m), None) => {
                    m.shift_remove(field);
                }
                _ => {}
            }
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
            match (out.as_mapping_mut(), merged) {
                (Some(m), Some(b)) => {
                    m.insert("requestBody".into(), b);
                }
                (Some(m), None) => {
                    m.shift_remove("requestBody");
                }
                _ => {}
            }
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
            match t.get("required") {
                Some(r) => set(&mut out, "required", r.clone()),
                None => {
                    out.as_mapping_mut().map(|m| m.shift_remove("required"));
                }
            }
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
                        match (
                            Schema::read(self.ours_j, &om["schema"]),
                            Schema::read(self.t3_j, &tm["schema"]),
                        ) {
                            (Ok(a), Ok(b)) => wire(a) == wire(b),
                            _ => om.get("schema").is_none() && tm.get("schema").is_none(),
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
        let y_of = |j: &J| serde_yaml::to_value(j).unwrap_or(Y::Null);
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
        let streaming = t_json["responses"].as_object().is_some_and(|r| {
            r.iter()
                .any(|(s, resp)| s.starts_with('2') && is_stream(resolve(self.t3_j, resp)))
        });
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
            if let Some(Y::Mapping(responses)) = op.get_mut("responses") {
                for (status, r) in responses.iter_mut() {
                    if status.as_str().is_some_and(|s| s.starts_with('2'))
                        && is_stream(resolve(self.t3_j, &json(r)))
                    {
                        *r = stream_or(r, true);
                    }
                }
            }
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
    fn components(&mut self, ours: &Y, t3: &Y, out: &mut Y) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ours_text() -> String {
        std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../openapi/bookwyrm.yaml"
        ))
        .unwrap()
    }

    fn ours() -> Y {
        serde_yaml::from_str(&ours_text()).unwrap()
    }

    fn yaml_of(j: &J) -> Y {
        serde_json::from_str(&j.to_string()).unwrap()
    }

    #[test]
    fn a_server_with_our_contract_changes_no_byte() {
        let theirs = yaml_of(&bookwyrm::contract::as_published());
        let updated = update(&ours(), &theirs).unwrap();
        let written = super::super::yaml::to_string(&updated.document);
        assert!(written == ours_text(), "notes: {:?}", updated.notes);
        assert_eq!(updated.notes, vec!["unchanged: 9 operation(s)".to_string()]);
    }

    fn fastapi() -> Y {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/fastapi/openapi.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn model(y: &Y) -> Contract {
        Contract::from_value(&json(y)).unwrap()
    }

    /// The FastAPI app's document: what the server says of the wire is taken (new fields,
    /// required sets, enum values), what is ours stays (operationIds, extensions, events).
    #[test]
    fn a_fastapi_document_is_merged_into_ours() {
        let updated = update(&ours(), &fastapi()).unwrap();
        let doc = &updated.document;
        assert_eq!(at(doc, &["openapi"]).and_then(Y::as_str), Some("3.0.3"));
        let m = model(doc);
        let ours_model = model(&ours());
        for (key, op) in &m.operations {
            let o = &ours_model.operations[key];
            assert_eq!(op.operation_id, o.operation_id, "{key}");
            let names = |e: &Option<BTreeMap<String, Schema>>| {
                e.as_ref().map(|e| e.keys().cloned().collect::<Vec<_>>())
            };
            assert_eq!(names(&op.events), names(&o.events), "{key}");
        }
        // New optional fields of the server's models are in.
        let pdf = at(
            doc,
            &[
                "components",
                "schemas",
                "PdfExtractUrlRequest",
                "properties",
            ],
        )
        .unwrap();
        assert!(pdf.get("pdf_bytes").is_some() && pdf.get("pdf_content").is_some());
        // `const` became a one-value enum; 3.1 null unions became `nullable`.
        let kind = at(
            doc,
            &[
                "components",
                "schemas",
                "SummaryResponse",
                "properties",
                "type",
            ],
        )
        .unwrap();
        assert_eq!(kind.get("enum"), Some(&Y::Sequence(vec!["summary".into()])));
        let usage = at(
            doc,
            &[
                "components",
                "schemas",
                "CitationResponse",
                "properties",
                "usage",
            ],
        )
        .unwrap();
        assert_eq!(usage.get("nullable"), Some(&Y::Bool(true)));
        assert!(usage.get("anyOf").is_none());
        // Said another way, but the same for this SDK: our spelling (the server writes the
        // question inline as an anyOf; ours is a $ref to a oneOf, and its Rust type).
        assert_eq!(
            json(
                at(
                    doc,
                    &[
                        "components",
                        "schemas",
                        "CitationRequest",
                        "properties",
                        "question"
                    ]
                )
                .unwrap()
            ),
            serde_json::json!({"$ref": "#/components/schemas/Question"})
        );
        // The server's validation error schema is merged into ours, under our name.
        let issue = at(
            doc,
            &["components", "schemas", "ValidationIssue", "properties"],
        )
        .unwrap();
        assert!(issue.get("input").is_some());
        assert!(at(doc, &["components", "schemas", "HTTPValidationError"]).is_none());
        // Nothing the server says differently is left out: compared with the server's own
        // document, only what this SDK keeps on purpose remains.
        let theirs = Contract::from_value(&json(&fastapi())).unwrap();
        for c in bookwyrm::contract::diff(&m, &theirs) {
            let d = &c.description;
            assert!(
                d.contains("operationId")
                    || d.contains("minimum")
                    || d.contains("maximum")
                    || d.contains("default")
                    || d.contains("nullable")
                    || d.contains("null")
                    || d.contains("optional")
                    || d.contains("required"),
                "{} {}: {d}",
                c.pointer,
                c.kind.as_str()
            );
        }
        assert!(updated.notes.iter().any(|n| n.starts_with("kept: limits")));
    }

    /// 3.1 forms become their 3.0 equivalents; what has none fails where it would be taken,
    /// and is not noticed where ours is kept.
    #[test]
    fn three_one_forms_and_what_has_no_three_zero_form() {
        let mut doc = bookwyrm::contract::as_published();
        let props = &mut doc["components"]["schemas"]["TextSpan"]["properties"];
        props["kind"] = serde_json::json!({"const": "span", "title": "Kind"});
        props["weight"] = serde_json::json!({"type": ["number", "null"], "exclusiveMinimum": 0});
        props["style"] = serde_json::json!({
            "$ref": "#/components/schemas/ResponseFormat", "description": "How."
        });
        props["blob"] =
            serde_json::json!({"type": "string", "contentMediaType": "application/pdf"});
        let updated = update(&ours(), &yaml_of(&doc)).unwrap();
        let span = at(
            &updated.document,
            &["components", "schemas", "TextSpan", "properties"],
        )
        .unwrap();
        let span = json(span);
        assert_eq!(span["kind"], serde_json::json!({"enum": ["span"]}));
        assert_eq!(
            span["weight"],
            serde_json::json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "nullable": true})
        );
        assert_eq!(
            span["style"],
            serde_json::json!({"allOf": [{"$ref": "#/components/schemas/ResponseFormat"}], "description": "How."})
        );
        assert_eq!(
            span["blob"],
            serde_json::json!({"type": "string", "format": "binary"})
        );

        // No 3.0 form, in a part that would be taken: refused, by pointer.
        let mut bad = bookwyrm::contract::as_published();
        bad["components"]["schemas"]["TextSpan"]["properties"]["pair"] =
            serde_json::json!({"type": "array", "prefixItems": [{"type": "string"}]});
        bad["components"]["schemas"]["Citation"]["properties"]["text"] =
            serde_json::json!({"type": ["string", "integer"]});
        let err = update(&ours(), &yaml_of(&bad)).unwrap_err();
        assert_eq!(
            err,
            UpdateError::NoThreeZeroForm(vec![
                "/components/schemas/Citation/properties/text/type: a `type` list of string, integer non-null types".into(),
                "/components/schemas/TextSpan/properties/pair/prefixItems: `prefixItems` has no OpenAPI 3.0 form".into(),
            ])
        );
        // The same in a schema nothing uses: nothing taken, nothing refused.
        let mut unused = bookwyrm::contract::as_published();
        unused["components"]["schemas"]["Unused"] =
            serde_json::json!({"type": "array", "prefixItems": [{"type": "string"}]});
        let updated = update(&ours(), &yaml_of(&unused)).unwrap();
        assert_eq!(
            crate::commands::contract::yaml::to_string(&updated.document),
            ours_text()
        );
    }

    /// A new stream is written with the mark the build refuses; a removed operation goes with
    /// the schemas only it used.
    #[test]
    fn new_streams_are_marked_and_removed_operations_take_their_schemas() {
        let mut doc = bookwyrm::contract::as_published();
        let paths = doc["paths"].as_object_mut().unwrap();
        paths.remove("/classify");
        paths.insert(
            "/translate/sse".into(),
            serde_json::json!({"post": {
                "operationId": "stream_translate",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/TextSpan"}}}},
                "responses": {"200": {"description": "events", "content": {"text/event-stream": {}}}}
            }}),
        );
        let updated = update(&ours(), &yaml_of(&doc)).unwrap();
        let op = at(&updated.document, &["paths", "/translate/sse", "post"]).unwrap();
        assert_eq!(
            op.get("x-bookwyrm-stream").and_then(Y::as_str),
            Some("StreamTranslateEvent")
        );
        assert!(op
            .get(TODO)
            .and_then(Y::as_str)
            .unwrap()
            .contains("list the events"));
        assert_eq!(
            at(op, &["responses", "200", "$ref"]).and_then(Y::as_str),
            Some("#/components/responses/EventStream")
        );
        assert!(at(&updated.document, &["paths", "/classify"]).is_none());
        assert!(at(
            &updated.document,
            &["components", "schemas", "ClassifyUpload"]
        )
        .is_none());
        // ClassifyResponse is still an event of the classify stream.
        assert!(at(
            &updated.document,
            &["components", "schemas", "ClassifyResponse"]
        )
        .is_some());
        assert!(updated
            .notes
            .contains(&"removed: POST /classify".to_string()));
        assert!(updated
            .notes
            .contains(&"removed: schema ClassifyUpload (no longer used)".to_string()));
    }
}
