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
//!
//! One home per part: `align.rs` says which server schema is which of ours, `downgrade.rs`
//! writes the server's document in 3.0 form under our names, `merge.rs` merges it into ours.

use std::collections::{BTreeMap, BTreeSet};

use crate::{Contract, Schema, Shape};
use serde_json::Value as J;
use serde_yaml_ng::{Mapping, Value as Y};

mod align;
mod downgrade;
mod merge;

use align::Aligner;
use downgrade::Downgrade;
use merge::{copy_missing, Merge};

/// Marks an operation the build must refuse until a person finishes it (lists a new stream's
/// events, writes a multipart call by hand). `build.rs` reads it.
pub const TODO: &str = "x-bookwyrm-todo";
/// Stands for a part with no OpenAPI 3.0 form while the merge runs; never written.
const UNCONVERTIBLE: &str = "x-bookwyrm-unconvertible";
const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
const SCHEMAS: &str = "#/components/schemas/";

/// The updated contract and what the update did, line by line.
#[derive(Debug)]
#[non_exhaustive]
pub struct Updated {
    /// The updated contract, to write with [`crate::yaml::to_string`].
    pub document: Y,
    /// What the update did, one line each.
    pub notes: Vec<String>,
}

/// Why there is no updated contract.
#[derive(Debug, PartialEq)]
#[non_exhaustive]
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
    let t3 = Downgrade { names: &names }.document(&theirs);
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
    if let Some(v) = at(&t3, &["info", "version"]).filter(|v| v.is_string())
        && at(&ours, &["info", "version"]) != Some(v)
    {
        merge.notes.push(format!(
            "info.version: {} -> {}",
            scalar(at(&ours, &["info", "version"])),
            scalar(Some(v))
        ));
        if let Some(info) = out.get_mut("info").and_then(Y::as_mapping_mut) {
            info.insert("version".into(), v.clone());
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
    let mut problems = placeholders(&out);
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
    set_or_remove(y, key, Some(value));
}

/// `key` set to `value`, or removed when there is none.
fn set_or_remove(y: &mut Y, key: &str, value: Option<Y>) {
    if let Some(m) = y.as_mapping_mut() {
        match value {
            Some(v) => {
                m.insert(key.into(), v);
            }
            None => {
                m.shift_remove(key);
            }
        }
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

/// Calls `f` on every mapping of a tree, outermost first.
fn visit(y: &Y, f: &mut impl FnMut(&Mapping)) {
    match y {
        Y::Mapping(m) => {
            f(m);
            m.values().for_each(|v| visit(v, f));
        }
        Y::Sequence(s) => s.iter().for_each(|v| visit(v, f)),
        _ => {}
    }
}

/// What the parts with no 3.0 form that reached a tree say (`pointer: what`).
fn placeholders(y: &Y) -> Vec<String> {
    let mut out = Vec::new();
    visit(y, &mut |m| {
        if let Some(Y::String(what)) = m.get(UNCONVERTIBLE) {
            out.push(what.clone());
        }
    });
    out
}

/// The `#/components/schemas/` names a tree refers to.
fn refs(y: &Y, out: &mut BTreeSet<String>) {
    visit(y, &mut |m| {
        if let Some(name) = m
            .get("$ref")
            .and_then(Y::as_str)
            .and_then(|r| r.strip_prefix(SCHEMAS))
        {
            out.insert(name.to_string());
        }
    });
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
/// Whether a response is an event stream (the contract crate's one rule).
fn is_stream(response: &J) -> bool {
    response["content"]
        .as_object()
        .is_some_and(|c| crate::event_stream_content(c).is_some())
}

/// What `v` points at through its `$ref`s (the contract crate's one resolver); a reference
/// that leads nowhere is left as it is (the reader reports it).
fn resolve<'a>(doc: &'a J, v: &'a J) -> &'a J {
    crate::resolve_ref(doc, v).unwrap_or(v)
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
        serde_yaml_ng::from_str(&ours_text()).unwrap()
    }

    fn yaml_of(j: &J) -> Y {
        serde_json::from_str(&j.to_string()).unwrap()
    }

    #[test]
    fn a_server_with_our_contract_changes_no_byte() {
        let theirs = yaml_of(&crate::as_published());
        let updated = update(&ours(), &theirs).unwrap();
        let written = crate::yaml::to_string(&updated.document);
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
        for c in crate::diff(&m, &theirs) {
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
        let mut doc = crate::as_published();
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
        let mut bad = crate::as_published();
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
        let mut unused = crate::as_published();
        unused["components"]["schemas"]["Unused"] =
            serde_json::json!({"type": "array", "prefixItems": [{"type": "string"}]});
        let updated = update(&ours(), &yaml_of(&unused)).unwrap();
        assert_eq!(crate::yaml::to_string(&updated.document), ours_text());
    }

    /// A new stream is written with the mark the build refuses; a removed operation goes with
    /// the schemas only it used.
    #[test]
    fn new_streams_are_marked_and_removed_operations_take_their_schemas() {
        let mut doc = crate::as_published();
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
