//! Reading an OpenAPI 3.0 or 3.1 document into the [`Contract`] model: `$ref`s resolved,
//! `allOf` merged, nullability from any of its spellings.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::diff::escape;
use crate::{Contract, ContractError, Facets, Operation, Parameter, Schema, Shape, EMBEDDED_JSON};

const METHODS: [&str; 7] = ["get", "post", "put", "patch", "delete", "head", "options"];
const MAX_DEPTH: usize = 64;

/// Follows a local `$ref` (`#/...`) in `doc` to what it points at (through a chain of them);
/// a value without `$ref` is itself. The one `$ref` rule of the contract tooling: the reader
/// and `contract update` both follow references with it.
///
/// ```
/// let doc = serde_json::json!({"components": {"schemas": {"A": {"$ref": "#/components/schemas/B"}, "B": {"type": "string"}}}});
/// let a = serde_json::json!({"$ref": "#/components/schemas/A"});
/// assert_eq!(bookwyrm_contract::resolve_ref(&doc, &a).unwrap()["type"], "string");
/// assert!(bookwyrm_contract::resolve_ref(&doc, &serde_json::json!({"$ref": "#/nowhere"})).is_err());
/// ```
pub fn resolve_ref<'v>(doc: &'v Value, value: &'v Value) -> Result<&'v Value, ContractError> {
    resolve_ref_from(doc, value, 0)
}

fn resolve_ref_from<'v>(
    doc: &'v Value,
    value: &'v Value,
    depth: usize,
) -> Result<&'v Value, ContractError> {
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
    let target = doc
        .pointer(pointer)
        .ok_or_else(|| ContractError(format!("`$ref` to nothing: {reference}")))?;
    resolve_ref_from(doc, target, depth + 1)
}

/// The `text/event-stream` entry of a response's `content` (its media type with or without
/// parameters such as `; charset=utf-8`, in any case), if it has one: the one rule of the
/// contract tooling for what an event stream is.
///
/// ```
/// let content = serde_json::json!({"text/event-stream; charset=utf-8": {}});
/// assert!(bookwyrm_contract::event_stream_content(content.as_object().unwrap()).is_some());
/// let json = serde_json::json!({"application/json": {}});
/// assert!(bookwyrm_contract::event_stream_content(json.as_object().unwrap()).is_none());
/// ```
pub fn event_stream_content(content: &serde_json::Map<String, Value>) -> Option<&Value> {
    content.iter().find_map(|(media, v)| {
        let essence = media.split(';').next().unwrap_or("").trim();
        essence
            .eq_ignore_ascii_case("text/event-stream")
            .then_some(v)
    })
}

impl Contract {
    /// The contract this SDK was built from.
    ///
    /// ```
    /// assert_eq!(bookwyrm_contract::Contract::embedded().operations.len(), 9);
    /// ```
    pub fn embedded() -> Self {
        Self::from_json_str(EMBEDDED_JSON).unwrap_or(Self {
            operations: BTreeMap::new(),
            unchecked: Vec::new(),
        })
    }

    /// Reads an OpenAPI 3.0 or 3.1 document given as JSON text.
    ///
    /// ```
    /// let err = bookwyrm_contract::Contract::from_json_str("{").unwrap_err();
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
    /// assert!(bookwyrm_contract::Contract::from_value(&doc).unwrap().operations.is_empty());
    /// let swagger = serde_json::json!({"swagger": "2.0", "paths": {}});
    /// assert!(bookwyrm_contract::Contract::from_value(&swagger).is_err());
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
        if !["3.0", "3.1", "3.2"].iter().any(|v| version.starts_with(v)) {
            return Err(ContractError(format!(
                "OpenAPI {version} is not supported (3.0, 3.1 or 3.2)"
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
                return Err(ContractError(format!(
                    "/paths/{}: path `{path}` is not an object",
                    escape(path)
                )));
            };
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                // Every error inside an operation names where: its JSON pointer.
                let op = reader
                    .operation(path, method, op, item.get("parameters"))
                    .map_err(|e| {
                        ContractError(format!("/paths/{}/{method}: {}", escape(path), e.0))
                    })?;
                operations.insert(format!("{} {path}", op.method), op);
            }
        }
        Ok(Self {
            operations,
            unchecked: unmodelled_keywords(doc),
        })
    }
}

/// Validation keywords the model does not hold: a document that uses one is compared without
/// it, and [`Contract::unchecked`] names where.
const UNMODELLED: &[&str] = &[
    "multipleOf",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "propertyNames",
    "contains",
    "minContains",
    "maxContains",
    "prefixItems",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// Keys whose value is a map from names (of properties, paths, statuses, media types…) to
/// what they name: its keys are not keywords.
const NAME_MAPS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "dependentRequired",
    "$defs",
    "definitions",
    "schemas",
    "paths",
    "responses",
    "content",
    "headers",
    "links",
    "callbacks",
    "encoding",
    "securitySchemes",
];

/// Keys whose value is data, not schemas.
const DATA: &[&str] = &["example", "examples", "default", "enum", "const"];

/// The JSON pointers of the [`UNMODELLED`] keywords in `doc`'s paths and components.
fn unmodelled_keywords(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for root in ["paths", "components"] {
        if let Some(v) = doc.get(root) {
            walk_keywords(v, &format!("/{root}"), true, &mut out);
        }
    }
    out
}

fn walk_keywords(value: &Value, at: &str, names: bool, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{at}/{}", escape(key));
                if !names && UNMODELLED.contains(&key.as_str()) {
                    out.push(here.clone());
                }
                if (!names && (DATA.contains(&key.as_str()) || key.starts_with("x-")))
                    || child.is_string()
                {
                    continue;
                }
                let child_names = !names && NAME_MAPS.contains(&key.as_str());
                walk_keywords(child, &here, child_names, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_keywords(item, &format!("{at}/{i}"), false, out);
            }
        }
        _ => {}
    }
}

impl Schema {
    /// Reads one schema of `doc` into the model, its `$ref`s resolved in `doc`: two schemas
    /// are the same for this SDK when they read equal, however each is spelled.
    ///
    /// ```
    /// use bookwyrm_contract::Schema;
    /// let doc = serde_json::json!({"components": {"schemas": {"N": {"type": "integer"}}}});
    /// let a = Schema::read(&doc, &serde_json::json!({"allOf": [{"$ref": "#/components/schemas/N"}], "nullable": true})).unwrap();
    /// let b = Schema::read(&doc, &serde_json::json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})).unwrap();
    /// assert_eq!(a, b);
    /// ```
    pub fn read(doc: &Value, schema: &Value) -> Result<Self, ContractError> {
        Reader { doc }.schema(schema, 0)
    }
}

struct Reader<'a> {
    doc: &'a Value,
}

impl Reader<'_> {
    fn operation(
        &self,
        path: &str,
        method: &str,
        op: &Value,
        shared_parameters: Option<&Value>,
    ) -> Result<Operation, ContractError> {
        let at = |what: &str| format!("{} {path}: {what}", method.to_uppercase());
        let op = op
            .as_object()
            .ok_or_else(|| ContractError(at("not an object")))?;
        let mut streaming = op.contains_key("x-bookwyrm-stream");
        let mut events = match op.get("x-bookwyrm-events") {
            Some(list) => Some(self.bookwyrm_events(list)?),
            None => None,
        };
        let mut request_media = Vec::new();
        let request = match op.get("requestBody") {
            Some(body) => {
                let body = self.deref(body, 0)?;
                let content = body.get("content").and_then(Value::as_object);
                request_media = content.map_or(Vec::new(), |c| c.keys().cloned().collect());
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
        let mut success = BTreeSet::new();
        if let Some(rs) = op.get("responses").and_then(Value::as_object) {
            for (status, response) in rs {
                if !status.starts_with('2') {
                    continue;
                }
                success.insert(status.clone());
                let response = self.deref(response, 0)?;
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    continue;
                };
                if let Some(stream) = event_stream_content(content) {
                    streaming = true;
                    if let (None, Some(items)) = (&events, stream.get("itemSchema")) {
                        events = Some(self.item_schema(items)?);
                    }
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
            request_media,
            success,
            parameters: self.parameters(shared_parameters, op.get("parameters"))?,
            security: self.security(op.get("security"))?,
            deprecated: op.get("deprecated").and_then(Value::as_bool) == Some(true),
            sunset: op
                .get("x-sunset")
                .and_then(Value::as_str)
                .map(str::to_string),
            events,
        })
    }

    /// This SDK's `x-bookwyrm-events`: `name: {schema: Component}` (or `{ignore: true}`).
    fn bookwyrm_events(&self, list: &Value) -> Result<BTreeMap<String, Schema>, ContractError> {
        let list = list
            .as_object()
            .ok_or_else(|| ContractError("`x-bookwyrm-events` is not an object".into()))?;
        let mut out = BTreeMap::new();
        for (name, event) in list {
            if event.get("ignore").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let schema = match event.get("schema").and_then(Value::as_str) {
                Some(c) => self.schema(
                    &serde_json::json!({"$ref": format!("#/components/schemas/{c}")}),
                    0,
                )?,
                None => Schema::new(Shape::Any, true),
            };
            out.insert(name.clone(), schema);
        }
        Ok(out)
    }

    /// OpenAPI 3.2's `itemSchema` of an event stream: one schema per event (a `oneOf` or
    /// `anyOf` of them, or one), each naming its event (`event: {const}` or a one-value
    /// `enum`) and its data (`data: {contentSchema}`, the JSON in the data lines).
    fn item_schema(&self, items: &Value) -> Result<BTreeMap<String, Schema>, ContractError> {
        let items = self.deref(items, 0)?;
        let branches: Vec<&Value> = ["oneOf", "anyOf"]
            .iter()
            .find_map(|k| items.get(*k).and_then(Value::as_array))
            .map_or_else(|| vec![items], |b| b.iter().collect());
        let mut out = BTreeMap::new();
        for branch in branches {
            let branch = self.deref(branch, 0)?;
            let props = branch.get("properties");
            let event = props.and_then(|p| p.get("event"));
            let names: Vec<String> = match event {
                Some(e) => e
                    .get("const")
                    .map(|c| vec![c.clone()])
                    .or_else(|| e.get("enum").and_then(Value::as_array).cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                None => vec!["message".to_string()], // SSE's default event name
            };
            let data = props.and_then(|p| p.get("data"));
            let schema = match data.map(|d| d.get("contentSchema").unwrap_or(d)) {
                Some(d) => self.schema(d, 0)?,
                None => Schema::new(Shape::Any, true),
            };
            for name in names {
                out.insert(name, schema.clone());
            }
        }
        Ok(out)
    }

    /// The parameters of the path item and of the operation (the operation's win).
    fn parameters(
        &self,
        shared: Option<&Value>,
        own: Option<&Value>,
    ) -> Result<BTreeMap<String, Parameter>, ContractError> {
        let mut out = BTreeMap::new();
        for list in [shared, own].into_iter().flatten() {
            let Some(list) = list.as_array() else {
                return Err(ContractError("`parameters` is not an array".into()));
            };
            for p in list {
                let p = self.deref(p, 0)?;
                let (Some(name), Some(place)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    return Err(ContractError("a parameter without `name` or `in`".into()));
                };
                let schema = match p.get("schema") {
                    Some(s) => self.schema(s, 0)?,
                    None => Schema::new(Shape::Any, true),
                };
                let required =
                    place == "path" || p.get("required").and_then(Value::as_bool) == Some(true);
                out.insert(format!("{place} {name}"), Parameter { required, schema });
            }
        }
        Ok(out)
    }

    /// The security requirements in effect (the operation's, else the document's), each
    /// scheme described by its kind.
    fn security(&self, own: Option<&Value>) -> Result<Vec<Vec<String>>, ContractError> {
        let Some(reqs) = own.or_else(|| self.doc.get("security")) else {
            return Ok(Vec::new());
        };
        let Some(reqs) = reqs.as_array() else {
            return Err(ContractError("`security` is not an array".into()));
        };
        let schemes = self.doc.pointer("/components/securitySchemes");
        let mut out = Vec::new();
        for req in reqs {
            let Some(req) = req.as_object() else {
                return Err(ContractError(
                    "a security requirement is not an object".into(),
                ));
            };
            let mut all = Vec::new();
            for name in req.keys() {
                let scheme = schemes
                    .and_then(|s| s.get(name))
                    .map(|s| self.deref(s, 0))
                    .transpose()?
                    .ok_or_else(|| {
                        ContractError(format!("security scheme `{name}` is not defined"))
                    })?;
                let field = |k: &str| scheme.get(k).and_then(Value::as_str).unwrap_or("");
                all.push(match field("type") {
                    "http" => format!("http {}", field("scheme").to_lowercase()),
                    "apiKey" => format!("apiKey {} {}", field("in"), field("name")),
                    other => other.to_string(),
                });
            }
            out.push(all);
        }
        Ok(out)
    }

    /// Follows a local `$ref` (`#/...`) to what it points at.
    fn deref<'v>(&'v self, value: &'v Value, depth: usize) -> Result<&'v Value, ContractError> {
        resolve_ref_from(self.doc, value, depth)
    }

    /// One schema: what its `$ref` (or its own keywords) says, with the keywords 3.1 allows
    /// beside a `$ref` applied over it.
    fn schema(&self, value: &Value, depth: usize) -> Result<Schema, ContractError> {
        let mut schema = self.schema_of(value, depth)?;
        if let Some(beside) = value.as_object().filter(|m| m.contains_key("$ref")) {
            restrict(&mut schema, beside);
        }
        Ok(schema)
    }

    fn schema_of(&self, value: &Value, depth: usize) -> Result<Schema, ContractError> {
        if depth > MAX_DEPTH {
            // A recursive schema: compared to this depth only.
            return Ok(Schema::new(Shape::Any, true));
        }
        // 3.1 allows keywords beside a `$ref` (FastAPI puts `default` and `description`
        // there): they count over the target's.
        let beside = value
            .as_object()
            .filter(|m| m.contains_key("$ref"))
            .map(facets);
        let value = self.deref(value, depth)?;
        let Some(map) = value.as_object() else {
            return Ok(Schema::new(Shape::Any, value.as_bool() != Some(false)));
        };
        let mut facets = facets(map);
        if let Some(beside) = beside {
            overlay(&mut facets, beside);
        }
        let mut nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
        // allOf: one schema (FastAPI wraps a $ref to add a description) or a merge of objects.
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let mut merged = Schema::new(Shape::Any, false);
            for part in parts {
                let part = self.schema(part, depth + 1)?;
                merged = merge(merged, part);
            }
            merged.nullable |= nullable;
            overlay(&mut merged.facets, facets);
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
                    0 => Schema::new(Shape::Any, true),
                    1 => kept.remove(0),
                    _ => Schema::new(Shape::OneOf(kept), false),
                };
                schema.nullable |= nullable;
                overlay(&mut schema.facets, facets);
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
        if let Some((values, null)) = listed(map) {
            nullable |= null;
            let open = map.get("x-bookwyrm-open").and_then(Value::as_bool) == Some(true);
            return Ok(Schema {
                shape: Shape::Enum { values, open },
                nullable,
                facets,
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
                None => Schema::new(Shape::Any, true),
            })),
            [t @ ("string" | "integer" | "number" | "boolean")] => Shape::Scalar(t.to_string()),
            // `type: [string, integer]`: one of these scalars.
            many if many.len() > 1 => Shape::OneOf(
                many.iter()
                    .map(|t| Schema::new(Shape::Scalar(t.to_string()), false))
                    .collect(),
            ),
            _ => Shape::Any,
        };
        Ok(Schema {
            shape,
            nullable,
            facets,
        })
    }
}

/// The values a schema lists: `enum`, or 3.1's `const` (a one-value enum), without `null`,
/// and whether `null` was among them.
fn listed(map: &serde_json::Map<String, Value>) -> Option<(Vec<Value>, bool)> {
    let listed = match (map.get("enum"), map.get("const")) {
        (Some(Value::Array(values)), _) => values.as_slice(),
        (None, Some(value)) => std::slice::from_ref(value),
        _ => return None,
    };
    let values: Vec<Value> = listed.iter().filter(|v| !v.is_null()).cloned().collect();
    let null = values.len() < listed.len();
    Some((values, null))
}

/// The shape keywords beside a `$ref` (3.1): `enum` or `const` restrict the values to those
/// listed; `nullable: true` or a `null` in `type` allow `null`. (Limits, `pattern`, `format`
/// and `default` beside a `$ref` are facets, read with the schema.)
fn restrict(schema: &mut Schema, beside: &serde_json::Map<String, Value>) {
    if let Some((values, null)) = listed(beside) {
        schema.nullable |= null;
        schema.shape = Shape::Enum {
            values,
            open: false,
        };
    }
    if beside.get("nullable").and_then(Value::as_bool) == Some(true) {
        schema.nullable = true;
    }
    if let Some(Value::Array(types)) = beside.get("type")
        && types.iter().any(|t| t.as_str() == Some("null"))
    {
        schema.nullable = true;
    }
}

fn is_null_type(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("null")
}

/// The merge of two `allOf` parts: objects unite their properties; otherwise the more precise.
/// The facets a schema object states.
fn facets(map: &serde_json::Map<String, Value>) -> Facets {
    let num = |k: &str| map.get(k).and_then(Value::as_f64);
    let count = |k: &str| map.get(k).and_then(Value::as_u64);
    Facets {
        // 3.1 spells an uploaded file `contentMediaType` where 3.0 said `format: binary`.
        format: map
            .get("format")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| {
                map.contains_key("contentMediaType")
                    .then(|| "binary".to_string())
            }),
        // `default: null` on an optional field is what leaving it out means anyway.
        default: map.get("default").filter(|d| !d.is_null()).cloned(),
        minimum: num("minimum"),
        maximum: num("maximum"),
        min_length: count("minLength"),
        max_length: count("maxLength"),
        min_items: count("minItems"),
        max_items: count("maxItems"),
        pattern: map
            .get("pattern")
            .and_then(Value::as_str)
            .map(str::to_string),
        deprecated: map.get("deprecated").and_then(Value::as_bool) == Some(true),
    }
}

/// `outer`'s facets over `inner`'s, where `outer` (a wrapper: `allOf`, `anyOf` with null)
/// states them.
fn overlay(inner: &mut Facets, outer: Facets) {
    let Facets {
        format,
        default,
        minimum,
        maximum,
        min_length,
        max_length,
        min_items,
        max_items,
        pattern,
        deprecated,
    } = outer;
    inner.format = format.or(inner.format.take());
    inner.default = default.or(inner.default.take());
    inner.minimum = minimum.or(inner.minimum);
    inner.maximum = maximum.or(inner.maximum);
    inner.min_length = min_length.or(inner.min_length);
    inner.max_length = max_length.or(inner.max_length);
    inner.min_items = min_items.or(inner.min_items);
    inner.max_items = max_items.or(inner.max_items);
    inner.pattern = pattern.or(inner.pattern.take());
    inner.deprecated |= deprecated;
}

fn merge(a: Schema, b: Schema) -> Schema {
    match (a.shape, b.shape) {
        (Shape::Any, shape) | (shape, Shape::Any) => {
            let mut facets = a.facets;
            overlay(&mut facets, b.facets);
            Schema {
                shape,
                nullable: a.nullable && b.nullable,
                facets,
            }
        }
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
                facets: a.facets,
            }
        }
        (shape, _) => Schema {
            shape,
            nullable: a.nullable,
            facets: a.facets,
        },
    }
}
