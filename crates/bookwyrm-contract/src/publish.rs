//! The contract as a FastAPI server publishes its own at `/openapi.json`.

use serde_json::{Map, Value};

use crate::EMBEDDED_JSON;

/// The embedded contract as a FastAPI server publishes its own at `/openapi.json`: OpenAPI
/// 3.1, nullability as `anyOf [..., {"type": "null"}]`, no `x-bookwyrm-*` extensions, and
/// event streams without event schemas. The emulator serves it.
///
/// ```
/// let doc = bookwyrm_contract::as_published();
/// assert_eq!(doc["openapi"], "3.1.0");
/// let theirs = bookwyrm_contract::Contract::from_value(&doc).unwrap();
/// assert!(bookwyrm_contract::diff(&bookwyrm_contract::Contract::embedded(), &theirs).is_empty());
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
