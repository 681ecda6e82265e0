//! The generation of the typed wire layer from the contract, shared by `build.rs` (which
//! writes it into the crate) and `xtask` (which compares two contracts' generated code):
//!
//! - the client and types: progenitor's, for every operation not marked
//!   `x-bookwyrm-handwritten` (progenitor cannot generate multipart bodies);
//! - the events: one `#[non_exhaustive]` event enum per `x-bookwyrm-stream`, built from the
//!   operation's `x-bookwyrm-events` map, plus the table of every operation in the contract.

use std::collections::BTreeMap;

use serde_json::Value;

/// Where the contract is, from the crate's root.
pub const SPEC: &str = "openapi/bookwyrm.yaml";

/// The generated code of a contract: the client and types, then the events. Panics with a
/// message naming what is wrong when the contract cannot be generated (a build must stop).
pub fn generate(spec: &Value) -> (String, String) {
    let operations = collect_operations(spec);
    let progenitor_spec = without_handwritten(spec, &operations);

    let openapi: openapiv3::OpenAPI =
        serde_json::from_value(progenitor_spec).expect("the contract is valid OpenAPI 3.0");
    let mut settings = progenitor::GenerationSettings::default();
    settings
        .with_interface(progenitor::InterfaceStyle::Positional)
        .with_inner_type(quote::quote!(crate::transport::CallContext))
        .with_hooks(progenitor::HooksMode::Expected)
        .with_derive("PartialEq");
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator
        .generate_tokens(&openapi)
        .expect("progenitor generates the client");
    let ast: syn::File = syn::parse2(tokens).expect("generated code parses");
    let code = prettyplease::unparse(&ast);
    (code, generate_events(spec, &operations))
}

/// One operation of the contract.
struct Operation {
    id: String,
    method: String,
    path: String,
    handwritten: bool,
    request_schema: Option<String>,
    stream: Option<String>,
    events: Option<Value>,
}

fn collect_operations(spec: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    let paths = spec["paths"].as_object().expect("paths");
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            // `bookwyrm contract update` marks what a person must finish before a build.
            if let Some(todo) = op.get("x-bookwyrm-todo") {
                panic!(
                    "{} {path} in {SPEC} is not finished (x-bookwyrm-todo): {}",
                    method.to_uppercase(),
                    todo.as_str().unwrap_or("see its x-bookwyrm-todo")
                );
            }
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"))
                .to_string();
            let request_schema = op["requestBody"]["content"]
                .as_object()
                .and_then(|c| c.values().next())
                .and_then(|m| m["schema"]["$ref"].as_str())
                .map(|r| r.rsplit('/').next().unwrap_or(r).to_string());
            out.push(Operation {
                id,
                method: method.to_uppercase(),
                path: path.clone(),
                handwritten: op.get("x-bookwyrm-handwritten").is_some(),
                request_schema,
                stream: op["x-bookwyrm-stream"].as_str().map(str::to_string),
                events: op.get("x-bookwyrm-events").cloned(),
            });
        }
    }
    out
}

/// The contract as progenitor must see it: without the hand-written (multipart) operations and
/// without the request schemas only they use.
fn without_handwritten(spec: &Value, operations: &[Operation]) -> Value {
    let mut spec = spec.clone();
    for op in operations.iter().filter(|o| o.handwritten) {
        let item = spec["paths"][&op.path].as_object_mut().expect("path item");
        item.remove(&op.method.to_lowercase());
        if item.is_empty() {
            spec["paths"]
                .as_object_mut()
                .expect("paths")
                .remove(&op.path);
        }
        if let Some(schema) = &op.request_schema {
            let still_used = operations
                .iter()
                .any(|o| !o.handwritten && o.request_schema.as_deref() == Some(schema));
            if !still_used {
                spec["components"]["schemas"]
                    .as_object_mut()
                    .expect("schemas")
                    .remove(schema);
            }
        }
    }
    spec
}

fn generate_events(spec: &Value, operations: &[Operation]) -> String {
    use proc_macro2::{Ident, Span, TokenStream};
    use quote::quote;

    let schemas = spec["components"]["schemas"].as_object().expect("schemas");
    let ident = |name: &str| Ident::new(name, Span::call_site());

    // The operation table.
    let rows = operations.iter().map(|op| {
        let (id, method, path, handwritten, streaming) = (
            &op.id,
            &op.method,
            &op.path,
            op.handwritten,
            op.stream.is_some(),
        );
        quote! {
            OperationInfo { id: #id, method: #method, path: #path, handwritten: #handwritten, streaming: #streaming },
        }
    });
    let mut code: TokenStream = quote! {
        /// Every operation of the contract, sorted by path.
        pub const OPERATIONS: &[OperationInfo] = &[#(#rows)*];
    };

    // The event enums, one per stream name (operations may share one).
    let mut enums: BTreeMap<String, (Vec<String>, Value)> = BTreeMap::new();
    for op in operations {
        let (Some(name), Some(events)) = (&op.stream, &op.events) else {
            assert!(
                op.stream.is_none() && op.events.is_none(),
                "{}: x-bookwyrm-stream and x-bookwyrm-events go together",
                op.id
            );
            continue;
        };
        let entry = enums
            .entry(name.clone())
            .or_insert_with(|| (Vec::new(), events.clone()));
        assert_eq!(
            &entry.1, events,
            "operations sharing {name} must declare the same events"
        );
        entry.0.push(format!("`{} {}`", op.method, op.path));
    }

    for (name, (ops, events)) in &enums {
        let events = events.as_object().expect("x-bookwyrm-events is a map");
        // variant -> (schema, [event names])
        let mut variants: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut ignored: Vec<String> = Vec::new();
        for (event, spec) in events {
            if spec["ignore"].as_bool() == Some(true) {
                ignored.push(event.clone());
                continue;
            }
            let variant = spec["variant"].as_str().expect("variant").to_string();
            let schema = spec["schema"].as_str().expect("schema").to_string();
            assert!(
                schemas.contains_key(&schema),
                "{name}: event {event} names unknown schema {schema}"
            );
            assert!(variant != "Unknown", "{name}: `Unknown` is reserved");
            match variants.iter_mut().find(|(v, _, _)| *v == variant) {
                Some((_, s, names)) => {
                    assert_eq!(*s, schema, "{name}: variant {variant} has two schemas");
                    names.push(event.clone());
                }
                None => variants.push((variant, schema, vec![event.clone()])),
            }
        }

        let enum_name = ident(name);
        let enum_doc = format!(" A typed event of {}.", ops.join(" and "));
        let enum_doc_more = format!(
            " Generated from the contract's `x-bookwyrm-events`. Events the SDK does not know \
             arrive as [`{name}::Unknown`], never dropped."
        );
        let variant_defs = variants.iter().map(|(variant, schema, names)| {
            let desc = schemas[schema]["description"].as_str().unwrap_or("");
            let names = names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let doc = format!(" SSE event {names}: {desc}");
            let (variant, schema) = (ident(variant), ident(schema));
            quote! {
                #[doc = #doc]
                #variant(crate::generated::types::#schema),
            }
        });
        let decode_arms = variants.iter().map(|(variant, schema, names)| {
            let (variant, schema) = (ident(variant), ident(schema));
            quote! {
                #(#names)|* => crate::event::decode_payload::<crate::generated::types::#schema>(event, data)
                    .map(Self::#variant)
                    .into(),
            }
        });
        let ignore_arm = (!ignored.is_empty()).then(|| {
            quote! { #(#ignored)|* => crate::event::Decoded::Ignored, }
        });
        let error_arm = variants.iter().any(|(v, _, _)| v == "Error").then(|| {
            quote! { Self::Error(e) => Some(crate::event::ErrorPayload::to_server_error(e)), }
        });
        let name_arms = variants.iter().map(|(variant, _, names)| {
            let (variant, first) = (ident(variant), &names[0]);
            quote! { Self::#variant(_) => #first, }
        });
        let data_arms = variants.iter().map(|(variant, _, _)| {
            let variant = ident(variant);
            quote! { Self::#variant(p) => serde_json::to_string(p), }
        });
        let data_doc = [
            " ```".to_string(),
            format!(
                " let e = bookwyrm::{name}::Unknown(bookwyrm::UnknownEvent::new(\"x\", \"{{}}\"));"
            ),
            " assert_eq!(e.sse_data().unwrap(), \"{}\");".to_string(),
            " ```".to_string(),
        ];
        let serialize_arms = variants.iter().map(|(variant, _, _)| {
            let variant = ident(variant);
            quote! { Self::#variant(p) => crate::event::serialize_tagged(p, self.event_name(), serializer), }
        });
        code.extend(quote! {
            #[doc = #enum_doc]
            #[doc = ""]
            #[doc = #enum_doc_more]
            #[derive(Debug, Clone, PartialEq)]
            #[non_exhaustive]
            pub enum #enum_name {
                #(#variant_defs)*
                /// An event this version of the SDK does not know, kept with its raw data.
                Unknown(crate::event::UnknownEvent),
            }

            impl crate::event::StreamEvent for #enum_name {
                fn decode(event: &str, data: &str) -> crate::event::Decoded<Self> {
                    match event {
                        #(#decode_arms)*
                        #ignore_arm
                        _ => crate::event::Decoded::Event(Ok(Self::Unknown(
                            crate::event::UnknownEvent::new(event, data),
                        ))),
                    }
                }

                fn server_error(&self) -> Option<crate::error::ServerError> {
                    match self {
                        #error_arm
                        _ => None,
                    }
                }

                fn event_name(&self) -> &str {
                    match self {
                        #(#name_arms)*
                        Self::Unknown(u) => u.event(),
                    }
                }

                fn is_unknown(&self) -> bool {
                    matches!(self, Self::Unknown(_))
                }
            }

            impl #enum_name {
                /// The event's SSE `data` as a server sends it: the payload as JSON (an unknown
                /// event's raw data). With
                /// [`StreamEvent::event_name`](crate::StreamEvent::event_name), what a test
                /// server or the emulator writes for this event.
                ///
                #(#[doc = #data_doc])*
                pub fn sse_data(&self) -> serde_json::Result<String> {
                    match self {
                        #(#data_arms)*
                        Self::Unknown(u) => Ok(u.data().to_string()),
                    }
                }
            }

            /// Serializes as the payload's fields plus `"type"`: the SSE event name (an unknown
            /// event's data is inlined when it is a JSON object, else kept under `"data"`).
            impl serde::Serialize for #enum_name {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    use crate::event::StreamEvent as _;
                    match self {
                        #(#serialize_arms)*
                        Self::Unknown(u) => {
                            let data = u
                                .json()
                                .filter(serde_json::Value::is_object)
                                .unwrap_or_else(|| serde_json::json!({ "data": u.data() }));
                            crate::event::serialize_tagged(&data, self.event_name(), serializer)
                        }
                    }
                }
            }
        });
    }
    let ast: syn::File = syn::parse2(code).expect("generated events parse");
    format!(
        "// @generated by build.rs from openapi/bookwyrm.yaml. Do not edit.\n\n{}",
        prettyplease::unparse(&ast)
    )
}
