//! The JSON Schema of a structured summary, in the dialect the server's side speaks: the shape
//! of pydantic's `model_json_schema()`, which is what the Python client sends.
//!
//! schemars writes draft 2020-12 (`$schema`, `"type": ["string", "null"]`, integer formats, no
//! titles). Pydantic writes: a `title` on the model, on each `$defs` model and on every property
//! (Python's `str.title()` of the name, `_` as a space) except those that are a `$ref` or an
//! `anyOf` holding one; an optional field as `anyOf: [<schema>, {"type": "null"}]` with
//! `default: null`; `required` listing the fields without a default; integers and numbers
//! without `format`.

use serde_json::{Map, Value};

/// Keywords that describe the non-null branch of a nullable schema.
const TYPE_KEYWORDS: [&str; 16] = [
    "format",
    "items",
    "prefixItems",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "properties",
    "required",
];

/// `schema` (schemars' output for a model named `name`) in pydantic's shape.
pub(crate) fn pydantic_shape(mut schema: Value, name: &str) -> Value {
    shape(&mut schema);
    if let Value::Object(root) = &mut schema {
        root.remove("$schema");
        root.insert("title".into(), Value::String(name.to_string()));
        if let Some(Value::Object(defs)) = root.get_mut("$defs") {
            for (def_name, def) in defs.iter_mut() {
                shape(def);
                if let Value::Object(def) = def {
                    def.entry("title")
                        .or_insert_with(|| Value::String(def_name.clone()));
                }
            }
        }
    }
    schema
}

/// Reshapes one schema and everything below it (but `$defs`, done by the caller).
fn shape(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    split_nullable_type(map);
    strip_number_format(map);
    for key in ["items", "additionalProperties", "not"] {
        if let Some(sub) = map.get_mut(key) {
            shape(sub);
        }
    }
    for key in ["anyOf", "oneOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(subs)) = map.get_mut(key) {
            subs.iter_mut().for_each(shape);
        }
    }
    let required: Vec<String> = match map.get("required") {
        Some(Value::Array(r)) => r
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    if let Some(Value::Object(props)) = map.get_mut("properties") {
        for (field, prop) in props.iter_mut() {
            shape(prop);
            let Value::Object(prop) = prop else { continue };
            if !required.contains(field) && is_nullable(prop) {
                prop.entry("default").or_insert(Value::Null);
            }
            if !refers(prop) {
                prop.entry("title")
                    .or_insert_with(|| Value::String(title_of(field)));
            }
        }
    }
}

/// `"type": [T, "null"]` becomes `anyOf: [{"type": T, ...}, {"type": "null"}]`.
fn split_nullable_type(map: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = map.get("type") else {
        return;
    };
    let others: Vec<Value> = types
        .iter()
        .filter(|t| t.as_str() != Some("null"))
        .cloned()
        .collect();
    if others.len() != 1 || others.len() == types.len() {
        return;
    }
    let mut branch = Map::new();
    branch.insert("type".into(), others[0].clone());
    for key in TYPE_KEYWORDS {
        if let Some(v) = map.remove(key) {
            branch.insert(key.into(), v);
        }
    }
    strip_number_format(&mut branch);
    map.remove("type");
    let mut null = Map::new();
    null.insert("type".into(), Value::String("null".into()));
    map.insert(
        "anyOf".into(),
        Value::Array(vec![Value::Object(branch), Value::Object(null)]),
    );
}

/// Integers and numbers carry no `format` in pydantic's schemas (nor the `minimum: 0` that
/// schemars adds for unsigned types).
fn strip_number_format(map: &mut Map<String, Value>) {
    if !matches!(
        map.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    ) {
        return;
    }
    if let Some(Value::String(format)) = map.remove("format")
        && format.starts_with("uint")
        && map.get("minimum") == Some(&Value::from(0))
    {
        map.remove("minimum");
    }
}

fn is_nullable(prop: &Map<String, Value>) -> bool {
    match prop.get("anyOf") {
        Some(Value::Array(branches)) => branches
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("null")),
        _ => false,
    }
}

/// Whether the property is a `$ref`, or an `anyOf` holding one (pydantic gives those no title).
fn refers(prop: &Map<String, Value>) -> bool {
    prop.contains_key("$ref")
        || matches!(prop.get("anyOf"), Some(Value::Array(b)) if b.iter().any(|x| x.get("$ref").is_some()))
}

/// Python's `name.title().replace("_", " ")`: each run of letters capitalized, the rest of
/// the run in lower case.
fn title_of(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_word = false;
    for c in name.chars() {
        if c.is_alphabetic() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(if c == '_' { ' ' } else { c });
            in_word = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_python_str_title() {
        assert_eq!(title_of("page_count"), "Page Count");
        assert_eq!(title_of("isbn10code"), "Isbn10Code");
        assert_eq!(title_of("camelCase"), "Camelcase");
        assert_eq!(title_of("_private"), " Private");
    }
}
