//! The API contract this SDK was built from, and how another one differs from it, from this
//! client's point of view.
//!
//! [`Contract`] is a normalized model of an OpenAPI document (3.0 or 3.1): its operations, the
//! schema of each request body and JSON response, with `$ref`s resolved, `allOf` merged and
//! nullability read from any of its spellings (`nullable: true`, `type: [T, "null"]`,
//! `anyOf: [T, {"type": "null"}]`). [`diff`] classifies each difference as
//! [`ChangeKind::Breaking`] or [`ChangeKind::Additive`] for this client; `bookwyrm contract
//! check` runs it against a server's `/openapi.json`.
//!
//! ```
//! let ours = bookwyrm::contract::Contract::embedded();
//! let changes = bookwyrm::contract::diff(&ours, &ours);
//! assert!(changes.is_empty());
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Map, Value};

/// The contract (`openapi/bookwyrm.yaml`) as JSON, embedded at build time.
///
/// ```
/// let doc: serde_json::Value = serde_json::from_str(bookwyrm::contract::EMBEDDED_JSON).unwrap();
/// assert_eq!(doc["openapi"], "3.0.3");
/// ```
pub const EMBEDDED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/contract.json"));

/// Why a document could not be read as an OpenAPI contract.
///
/// ```
/// let err = bookwyrm::contract::Contract::from_json_str("[1, 2]").unwrap_err();
/// assert!(err.to_string().contains("not an OpenAPI document"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractError(String);

impl fmt::Display for ContractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ContractError {}

/// A schema, normalized.
///
/// ```
/// use bookwyrm::contract::{Schema, Shape};
/// let s = Schema { shape: Shape::Scalar("string".into()), nullable: false };
/// assert_eq!(s.to_string(), "string");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    /// What the value is.
    pub shape: Shape,
    /// Whether `null` is allowed.
    pub nullable: bool,
}

/// The kinds of [`Schema`].
///
/// ```
/// let s = bookwyrm::contract::Shape::Any;
/// assert_eq!(format!("{s:?}"), "Any");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub enum Shape {
    /// An object with these properties, some required.
    Object {
        /// The properties.
        properties: BTreeMap<String, Schema>,
        /// The required ones.
        required: BTreeSet<String>,
    },
    /// An array of these.
    Array(Box<Schema>),
    /// `string`, `integer`, `number` or `boolean`.
    Scalar(String),
    /// One of these values; `open` when this client keeps values it does not know
    /// (`x-bookwyrm-open: true` in the contract).
    Enum {
        /// The values.
        values: Vec<Value>,
        /// Whether unknown values are kept rather than rejected.
        open: bool,
    },
    /// One of several schemas.
    OneOf(Vec<Schema>),
    /// Anything.
    Any,
}

impl fmt::Display for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.shape {
            Shape::Object { .. } => f.write_str("object")?,
            Shape::Array(items) => write!(f, "array of {items}")?,
            Shape::Scalar(t) => f.write_str(t)?,
            Shape::Enum { values, .. } => write!(f, "enum of {} values", values.len())?,
            Shape::OneOf(s) => write!(f, "one of {} schemas", s.len())?,
            Shape::Any => f.write_str("any")?,
        }
        if self.nullable {
            f.write_str(" or null")?;
        }
        Ok(())
    }
}

/// One operation.
///
/// ```
/// let ours = bookwyrm::contract::Contract::embedded();
/// let cite = &ours.operations["POST /cite"];
/// assert_eq!(cite.operation_id.as_deref(), Some("get_citations"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Operation {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path template.
    pub path: String,
    /// The `operationId`, when given.
    pub operation_id: Option<String>,
    /// Whether it answers with an event stream (its events are not in a server's document).
    pub streaming: bool,
    /// The request body's schema (JSON or multipart fields), when it has one.
    pub request: Option<Schema>,
    /// The JSON schema of each 2xx answer, by status.
    pub responses: BTreeMap<String, Schema>,
}

/// An API contract, normalized.
///
/// ```
/// let ours = bookwyrm::contract::Contract::embedded();
/// assert!(ours.operations.contains_key("POST /phrasal/sse"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Contract {
    /// Operations by `"METHOD /path"`.
    pub operations: BTreeMap<String, Operation>,
}

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
const MAX_DEPTH: usize = 64;

impl Contract {
    /// The contract this SDK was built from.
    ///
    /// ```
    /// assert_eq!(bookwyrm::contract::Contract::embedded().operations.len(), 9);
    /// ```
    pub fn embedded() -> Self {
        Self::from_json_str(EMBEDDED_JSON).unwrap_or(Self {
            operations: BTreeMap::new(),
        })
    }

    /// Reads an OpenAPI 3.0 or 3.1 document given as JSON text.
    ///
    /// ```
    /// let err = bookwyrm::contract::Contract::from_json_str("{").unwrap_err();
    /// assert!(err.to_string().starts_with("not JSON"));
    /// ```
    pub fn from_json_str(text: &str) -> Result<Self, ContractError> {
        let doc: Value =
            serde_json::from_str(text).map_err(|e| ContractError(format!("not JSON: {e}")))?;
        Self::from_value(&doc)
    }

    /// Reads an OpenAPI 3.0 or 3.1 document.
    ///
    /// ```
    /// let doc = serde_json::json!({"openapi": "3.1.0", "paths": {}});
    /// assert!(bookwyrm::contract::Contract::from_value(&doc).unwrap().operations.is_empty());
    /// let swagger = serde_json::json!({"swagger": "2.0", "paths": {}});
    /// assert!(bookwyrm::contract::Contract::from_value(&swagger).is_err());
    /// ```
    pub fn from_value(doc: &Value) -> Result<Self, ContractError> {
        let Some(root) = doc.as_object() else {
            return Err(ContractError(
                "not an OpenAPI document: the top level is not an object".into(),
            ));
        };
        let version = match root.get("openapi") {
            Some(Value::String(v)) => v.clone(),
            Some(_) => return Err(ContractError("`openapi` is not a string".into())),
            None if root.contains_key("swagger") => {
                return Err(ContractError(
                    "a Swagger 2.0 document: OpenAPI 3.0 or 3.1 is needed".into(),
                ))
            }
            None => {
                return Err(ContractError(
                    "not an OpenAPI document: no `openapi` version field".into(),
                ))
            }
        };
        if !(version.starts_with("3.0") || version.starts_with("3.1")) {
            return Err(ContractError(format!(
                "OpenAPI {version} is not supported (3.0 or 3.1)"
            )));
        }
        let paths = match root.get("paths") {
            Some(Value::Object(p)) => p,
            Some(_) => return Err(ContractError("`paths` is not an object".into())),
            None => return Err(ContractError("no `paths` in the document".into())),
        };
        let reader = Reader { doc };
        let mut operations = BTreeMap::new();
        for (path, item) in paths {
            let Some(item) = item.as_object() else {
                return Err(ContractError(format!("path `{path}` is not an object")));
            };
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let op = reader.operation(path, method, op)?;
                operations.insert(format!("{} {path}", op.method), op);
            }
        }
        Ok(Self { operations })
    }
}

struct Reader<'a> {
    doc: &'a Value,
}

impl Reader<'_> {
    fn operation(&self, path: &str, method: &str, op: &Value) -> Result<Operation, ContractError> {
        let at = |what: &str| format!("{} {path}: {what}", method.to_uppercase());
        let op = op
            .as_object()
            .ok_or_else(|| ContractError(at("not an object")))?;
        let mut streaming = op.contains_key("x-bookwyrm-stream");
        let request = match op.get("requestBody") {
            Some(body) => {
                let body = self.deref(body, 0)?;
                let content = body.get("content").and_then(Value::as_object);
                let media = content.and_then(|c| {
                    ["application/json", "multipart/form-data"]
                        .iter()
                        .find_map(|m| c.get(*m))
                });
                match media.and_then(|m| m.get("schema")) {
                    Some(schema) => Some(self.schema(schema, 0)?),
                    None => None,
                }
            }
            None => None,
        };
        let mut responses = BTreeMap::new();
        if let Some(rs) = op.get("responses").and_then(Value::as_object) {
            for (status, response) in rs {
                if !status.starts_with('2') {
                    continue;
                }
                let response = self.deref(response, 0)?;
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                if content.contains_key("text/event-stream") {
                    streaming = true;
                    continue;
                }
                if let Some(schema) = content
                    .get("application/json")
                    .and_then(|m| m.get("schema"))
                {
                    responses.insert(status.clone(), self.schema(schema, 0)?);
                }
            }
        }
        Ok(Operation {
            method: method.to_uppercase(),
            path: path.to_string(),
            operation_id: op
                .get("operationId")
                .and_then(Value::as_str)
                .map(str::to_string),
            streaming,
            request,
            responses,
        })
    }

    /// Follows a local `$ref` (`#/...`) to what it points at.
    fn deref<'v>(&'v self, value: &'v Value, depth: usize) -> Result<&'v Value, ContractError> {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            return Ok(value);
        };
        if depth > MAX_DEPTH {
            return Err(ContractError(format!(
                "`$ref` chain too deep at {reference}"
            )));
        }
        let pointer = reference.strip_prefix('#').ok_or_else(|| {
            ContractError(format!(
                "`$ref` outside the document is not supported: {reference}"
            ))
        })?;
        let target = self
            .doc
            .pointer(pointer)
            .ok_or_else(|| ContractError(format!("`$ref` to nothing: {reference}")))?;
        self.deref(target, depth + 1)
    }

    fn schema(&self, value: &Value, depth: usize) -> Result<Schema, ContractError> {
        if depth > MAX_DEPTH {
            // A recursive schema: compared to this depth only.
            return Ok(Schema {
                shape: Shape::Any,
                nullable: true,
            });
        }
        let value = self.deref(value, depth)?;
        let Some(map) = value.as_object() else {
            return Ok(Schema {
                shape: Shape::Any,
                nullable: value.as_bool() != Some(false),
            });
        };
        let mut nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
        // allOf: one schema (FastAPI wraps a $ref to add a description) or a merge of objects.
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let mut merged = Schema {
                shape: Shape::Any,
                nullable: false,
            };
            for part in parts {
                let part = self.schema(part, depth + 1)?;
                merged = merge(merged, part);
            }
            merged.nullable |= nullable;
            return Ok(merged);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(members)) = map.get(key) {
                let mut kept = Vec::new();
                for m in members {
                    if is_null_type(m) {
                        nullable = true;
                    } else {
                        kept.push(self.schema(m, depth + 1)?);
                    }
                }
                let mut schema = match kept.len() {
                    0 => Schema {
                        shape: Shape::Any,
                        nullable: true,
                    },
                    1 => kept.remove(0),
                    _ => Schema {
                        shape: Shape::OneOf(kept),
                        nullable: false,
                    },
                };
                schema.nullable |= nullable;
                return Ok(schema);
            }
        }
        let mut types: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if types.contains(&"null") {
            nullable = true;
            types.retain(|t| *t != "null");
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            let values: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
            nullable |= values.len() < map["enum"].as_array().map_or(0, Vec::len);
            return Ok(Schema {
                shape: Shape::Enum {
                    values,
                    open: map.get("x-bookwyrm-open").and_then(Value::as_bool) == Some(true),
                },
                nullable,
            });
        }
        let shape = match types.as_slice() {
            ["object"] | [] if map.contains_key("properties") => {
                let mut properties = BTreeMap::new();
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        properties.insert(name.clone(), self.schema(prop, depth + 1)?);
                    }
                }
                let required = map
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                Shape::Object {
                    properties,
                    required,
                }
            }
            ["object"] => Shape::Object {
                properties: BTreeMap::new(),
                required: BTreeSet::new(),
            },
            ["array"] => Shape::Array(Box::new(match map.get("items") {
                Some(items) => self.schema(items, depth + 1)?,
                None => Schema {
                    shape: Shape::Any,
                    nullable: true,
                },
            })),
            [t @ ("string" | "integer" | "number" | "boolean")] => Shape::Scalar(t.to_string()),
            _ => Shape::Any,
        };
        Ok(Schema { shape, nullable })
    }
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// The merge of two `allOf` parts: objects unite their properties; otherwise the more precise.
fn merge(a: Schema, b: Schema) -> Schema {
    match (a.shape, b.shape) {
        (Shape::Any, shape) | (shape, Shape::Any) => Schema {
            shape,
            nullable: a.nullable && b.nullable,
        },
        (
            Shape::Object {
                mut properties,
                mut required,
            },
            Shape::Object {
                properties: p2,
                required: r2,
            },
        ) => {
            properties.extend(p2);
            required.extend(r2);
            Schema {
                shape: Shape::Object {
                    properties,
                    required,
                },
                nullable: a.nullable && b.nullable,
            }
        }
        (shape, _) => Schema {
            shape,
            nullable: a.nullable,
        },
    }
}

/// Whether a change breaks this client.
///
/// ```
/// assert_ne!(bookwyrm::contract::ChangeKind::Breaking, bookwyrm::contract::ChangeKind::Additive);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ChangeKind {
    /// This client can fail against the other contract: an operation it calls is gone, a
    /// request field it sends was removed or retyped, a field it may not send became required,
    /// a response field it reads was removed, retyped or made optional or nullable, or an enum
    /// it models as closed gained a value.
    Breaking,
    /// New capability that does not affect this client: a new operation, a new optional
    /// request field, a new response field, a new value where unknown values are kept.
    Additive,
}

/// One difference between two contracts.
///
/// ```
/// let c = bookwyrm::contract::Change {
///     kind: bookwyrm::contract::ChangeKind::Additive,
///     pointer: "/paths/~1new/post".into(),
///     description: "new operation".into(),
/// };
/// assert_eq!(c.to_string(), "additive /paths/~1new/post: new operation");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Breaking or additive.
    pub kind: ChangeKind,
    /// Where: a JSON pointer into the document's operation and its schemas, references
    /// resolved (`/paths/~1cite/post/requestBody/properties/question`).
    pub pointer: String,
    /// What changed.
    pub description: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ChangeKind::Breaking => "breaking",
            ChangeKind::Additive => "additive",
        };
        write!(f, "{kind} {}: {}", self.pointer, self.description)
    }
}

/// The changes from `ours` (what this client was built from) to `theirs` (what a server
/// publishes), classified for this client; breaking ones first.
///
/// ```
/// use bookwyrm::contract::{diff, Contract, ChangeKind};
/// let ours = Contract::embedded();
/// let mut theirs = ours.clone();
/// theirs.operations.remove("POST /cite");
/// let changes = diff(&ours, &theirs);
/// assert_eq!(changes.len(), 1);
/// assert_eq!(changes[0].kind, ChangeKind::Breaking);
/// assert_eq!(changes[0].pointer, "/paths/~1cite/post");
/// ```
pub fn diff(ours: &Contract, theirs: &Contract) -> Vec<Change> {
    let mut out = Changes(Vec::new());
    for (key, op) in &ours.operations {
        let ptr = op_pointer(op);
        match theirs.operations.get(key) {
            None => out.push(
                ChangeKind::Breaking,
                &ptr,
                format!("operation `{key}` that this client calls is gone"),
            ),
            Some(their) => {
                match (&op.request, &their.request) {
                    (Some(a), Some(b)) => request(&mut out, a, b, &format!("{ptr}/requestBody")),
                    (Some(_), None) => out.push(
                        ChangeKind::Breaking,
                        &format!("{ptr}/requestBody"),
                        "the request body this client sends is no longer accepted".into(),
                    ),
                    (None, Some(b)) => out.push(
                        ChangeKind::Breaking,
                        &format!("{ptr}/requestBody"),
                        format!("a request body ({b}) is now expected; this client sends none"),
                    ),
                    (None, None) => {}
                }
                if !op.streaming && !their.streaming {
                    for (status, a) in &op.responses {
                        let rptr = format!("{ptr}/responses/{status}");
                        match their.responses.get(status) {
                            Some(b) => response(&mut out, a, b, &rptr),
                            None => out.push(
                                ChangeKind::Breaking,
                                &rptr,
                                format!("the {status} answer this client reads is gone"),
                            ),
                        }
                    }
                }
            }
        }
    }
    for (key, op) in &theirs.operations {
        if !ours.operations.contains_key(key) {
            out.push(
                ChangeKind::Additive,
                &op_pointer(op),
                format!("new operation `{key}`"),
            );
        }
    }
    let mut changes = out.0;
    changes.sort_by(|a, b| (a.kind, &a.pointer).cmp(&(b.kind, &b.pointer)));
    changes
}

struct Changes(Vec<Change>);

impl Changes {
    fn push(&mut self, kind: ChangeKind, pointer: &str, description: String) {
        self.0.push(Change {
            kind,
            pointer: pointer.to_string(),
            description,
        });
    }
}

fn op_pointer(op: &Operation) -> String {
    format!(
        "/paths/{}/{}",
        op.path.replace('~', "~0").replace('/', "~1"),
        op.method.to_lowercase()
    )
}

fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn same_type(a: &Schema, b: &Schema) -> bool {
    matches!(
        (&a.shape, &b.shape),
        (Shape::Object { .. }, Shape::Object { .. })
            | (Shape::Array(_), Shape::Array(_))
            | (Shape::Enum { .. }, Shape::Enum { .. })
            | (Shape::OneOf(_), Shape::OneOf(_))
            | (_, Shape::Any)
            | (Shape::Any, _)
    ) || matches!((&a.shape, &b.shape), (Shape::Scalar(x), Shape::Scalar(y)) if x == y)
        || matches!((&a.shape, &b.shape), (Shape::Enum { .. }, Shape::Scalar(t)) | (Shape::Scalar(t), Shape::Enum { .. }) if t == "string")
}

/// Which way a schema's values travel.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// This client sends `ours` to a server that expects `theirs`.
    Request,
    /// This client reads `theirs` as `ours`.
    Response,
}

fn request(out: &mut Changes, ours: &Schema, theirs: &Schema, ptr: &str) {
    compare(out, Direction::Request, ours, theirs, ptr);
}

fn response(out: &mut Changes, ours: &Schema, theirs: &Schema, ptr: &str) {
    compare(out, Direction::Response, ours, theirs, ptr);
}

/// The changes between two schemas of one value, by the direction it travels.
fn compare(out: &mut Changes, dir: Direction, ours: &Schema, theirs: &Schema, ptr: &str) {
    use ChangeKind::{Additive, Breaking};
    let (side, verb) = match dir {
        Direction::Request => ("request", "sends"),
        Direction::Response => ("response", "reads"),
    };
    if !same_type(ours, theirs) {
        let what = format!("a {side} value this client {verb} was retyped from {ours} to {theirs}");
        out.push(Breaking, ptr, what);
        return;
    }
    match dir {
        Direction::Request if ours.nullable && !theirs.nullable => out.push(
            Breaking,
            ptr,
            "null, which this client may send, is no longer accepted".into(),
        ),
        Direction::Response if theirs.nullable && !ours.nullable => out.push(
            Breaking,
            ptr,
            "may now be null, which this client does not expect".into(),
        ),
        _ => {}
    }
    match (&ours.shape, &theirs.shape) {
        (
            Shape::Object {
                properties: a,
                required: ra,
            },
            Shape::Object {
                properties: b,
                required: rb,
            },
        ) => {
            let at = |name: &str| format!("{ptr}/properties/{}", escape(name));
            for (name, sa) in a {
                match b.get(name) {
                    Some(sb) => compare(out, dir, sa, sb, &at(name)),
                    None => out.push(
                        Breaking,
                        &at(name),
                        format!("{side} field `{name}` that this client {verb} was removed"),
                    ),
                }
            }
            match dir {
                Direction::Request => {
                    for name in rb.difference(ra) {
                        let what = format!(
                            "request field `{name}` became required; this client does not always send it"
                        );
                        out.push(Breaking, &at(name), what);
                    }
                }
                Direction::Response => {
                    for name in ra.difference(rb).filter(|n| b.contains_key(*n)) {
                        let what = format!(
                            "response field `{name}` may now be absent; this client requires it"
                        );
                        out.push(Breaking, &at(name), what);
                    }
                }
            }
            for name in b.keys().filter(|n| !a.contains_key(*n)) {
                match dir {
                    Direction::Request if rb.contains(name) => {} // reported as required
                    Direction::Request => out.push(
                        Additive,
                        &at(name),
                        format!("new optional request field `{name}`"),
                    ),
                    Direction::Response => {
                        out.push(Additive, &at(name), format!("new response field `{name}`"))
                    }
                }
            }
        }
        (Shape::Array(a), Shape::Array(b)) => compare(out, dir, a, b, &format!("{ptr}/items")),
        (Shape::Enum { values: a, open }, Shape::Enum { values: b, .. }) => match dir {
            Direction::Request => {
                for v in a.iter().filter(|v| !b.contains(v)) {
                    let what = format!("value {v}, which this client may send, was removed");
                    out.push(Breaking, ptr, what);
                }
                for v in b.iter().filter(|v| !a.contains(v)) {
                    out.push(Additive, ptr, format!("new accepted value {v}"));
                }
            }
            Direction::Response => {
                for v in b.iter().filter(|v| !a.contains(v)) {
                    if *open {
                        let what = format!("new value {v} (this client keeps unknown values)");
                        out.push(Additive, ptr, what);
                    } else {
                        let what = format!("new value {v} in an enum this client models as closed");
                        out.push(Breaking, ptr, what);
                    }
                }
            }
        },
        _ => {}
    }
}

/// The embedded contract as a FastAPI server publishes its own at `/openapi.json`: OpenAPI
/// 3.1, nullability as `anyOf [..., {"type": "null"}]`, no `x-bookwyrm-*` extensions, and
/// event streams without event schemas. The emulator serves it.
///
/// ```
/// let doc = bookwyrm::contract::as_published();
/// assert_eq!(doc["openapi"], "3.1.0");
/// let theirs = bookwyrm::contract::Contract::from_value(&doc).unwrap();
/// assert!(bookwyrm::contract::diff(&bookwyrm::contract::Contract::embedded(), &theirs).is_empty());
/// ```
pub fn as_published() -> Value {
    let mut doc: Value = serde_json::from_str(EMBEDDED_JSON).unwrap_or(Value::Null);
    publish(&mut doc);
    if let Some(root) = doc.as_object_mut() {
        root.insert("openapi".into(), Value::String("3.1.0".into()));
    }
    // An event stream is an untyped answer in FastAPI's document.
    if let Some(stream) = doc.pointer_mut("/components/responses/EventStream/content") {
        let mut content = Map::new();
        content.insert(
            "text/event-stream".into(),
            serde_json::json!({ "schema": {} }),
        );
        *stream = Value::Object(content);
    }
    doc
}

fn publish(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|k, _| !k.starts_with("x-bookwyrm"));
            map.values_mut().for_each(publish);
            if map.remove("nullable") == Some(Value::Bool(true)) {
                let description = map.remove("description");
                let inner = Value::Object(std::mem::take(map));
                map.insert(
                    "anyOf".into(),
                    Value::Array(vec![inner, serde_json::json!({ "type": "null" })]),
                );
                if let Some(d) = description {
                    map.insert("description".into(), d);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(publish),
        _ => {}
    }
}
