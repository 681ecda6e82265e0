//! The server's document in OpenAPI 3.0 form, its component schemas under our names.

use std::collections::BTreeMap;

use serde_yaml_ng::{Mapping, Value as Y};

use super::{at, escape, set, METHODS, SCHEMAS, UNCONVERTIBLE};

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

pub(super) struct Downgrade<'a> {
    pub(super) names: &'a BTreeMap<String, String>,
}

impl Downgrade<'_> {
    /// The server's document in 3.0 form, its component schemas under our names.
    pub(super) fn document(&self, t: &Y) -> Y {
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
            for section in ["responses", "requestBodies", "parameters"] {
                if let Some(Y::Mapping(items)) = components.get_mut(section) {
                    for (k, v) in items.iter_mut() {
                        let ptr = format!(
                            "/components/{section}/{}",
                            escape(k.as_str().unwrap_or_default())
                        );
                        if section == "parameters" {
                            self.parameter(v, &ptr);
                        } else {
                            self.content(v, &ptr);
                        }
                    }
                }
            }
        }
        out
    }

    fn operation(&self, op: &mut Y, base: &str) {
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

    fn parameters(&self, params: &mut Y, base: &str) {
        if let Y::Sequence(list) = params {
            for (i, p) in list.iter_mut().enumerate() {
                self.parameter(p, &format!("{base}/{i}"));
            }
        }
    }

    fn parameter(&self, p: &mut Y, base: &str) {
        if let Some(schema) = p.get("schema").cloned() {
            set(p, "schema", self.schema(&schema, &format!("{base}/schema")));
        }
    }

    /// The schemas of a request body's or response's `content` (and a response's headers).
    fn content(&self, holder: &mut Y, base: &str) {
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

    fn schema(&self, s: &Y, ptr: &str) -> Y {
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

    fn cannot(&self, ptr: &str, what: &str) -> Y {
        let text = format!("{ptr}: {what}");
        let mut m = Mapping::new();
        m.insert(UNCONVERTIBLE.into(), Y::String(text));
        Y::Mapping(m)
    }
}

fn is_null_schema(y: &Y) -> bool {
    at(y, &["type"]).and_then(Y::as_str) == Some("null")
}
