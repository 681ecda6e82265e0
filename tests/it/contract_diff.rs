//! `bookwyrm-contract`: OpenAPI 3.0 and 3.1 read into one model, and each change classified
//! from this client's point of view; the emulator publishes the contract as FastAPI would.

use crate::common;

use bookwyrm_contract::{diff, ChangeKind, Contract};
use serde_json::{json, Value};

/// Our side: OpenAPI 3.0, nullability as `nullable: true`.
fn ours() -> Value {
    json!({
        "openapi": "3.0.3",
        "paths": {
            "/a": {"post": {
                "operationId": "a",
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Res"}}}}}
            }},
            "/b": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"type": "string"}}}}}}}
        },
        "components": {"schemas": {
            "Req": {"type": "object", "required": ["x"], "properties": {
                "x": {"type": "string", "maxLength": 100},
                "y": {"type": "integer", "minimum": 0, "default": 0},
                "ratio": {"type": "number"},
                "note": {"type": "string", "nullable": true},
                "mode": {"type": "string", "enum": ["fast", "slow"]}
            }},
            "Res": {"type": "object", "required": ["r", "kind"], "properties": {
                "r": {"type": "string"},
                "kind": {"type": "string", "enum": ["p", "q"]},
                "label": {"type": "string", "enum": ["s", "t"], "x-bookwyrm-open": true},
                "when": {"type": "string", "nullable": true},
                "also": {"type": "integer", "nullable": true},
                "size": {"type": "integer", "format": "int32"},
                "pick": {"oneOf": [{"type": "string"}, {"type": "integer"}]}
            }}
        }}
    })
}

/// Their side: the same API as FastAPI publishes it, written out by hand (not derived from
/// [`ours`]): OpenAPI 3.1, nullability as `anyOf` with null and as a type array, `title`s and
/// `default: null` on optional fields, a description wrapped around a `$ref` with `allOf`.
fn theirs() -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "FastAPI", "version": "0.1.0"},
        "paths": {
            "/a": {"post": {
                "operationId": "a",
                "requestBody": {"content": {"application/json": {"schema": {
                    "allOf": [{"$ref": "#/components/schemas/Req"}],
                    "description": "The request"
                }}}, "required": true},
                "responses": {"200": {
                    "description": "Successful Response",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Res"}}}
                }}
            }},
            "/b": {"get": {"responses": {"200": {
                "description": "Successful Response",
                "content": {"application/json": {"schema": {"type": "string", "title": "Response B"}}}
            }}}}
        },
        "components": {"schemas": {
            "Req": {"type": "object", "title": "Req", "required": ["x"], "properties": {
                "x": {"type": "string", "maxLength": 100, "title": "X"},
                "y": {"type": "integer", "minimum": 0, "default": 0, "title": "Y"},
                "ratio": {"anyOf": [{"type": "number"}], "title": "Ratio"},
                "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Note"},
                "mode": {"type": "string", "enum": ["fast", "slow"], "title": "Mode"}
            }},
            "Res": {"type": "object", "title": "Res", "required": ["r", "kind"], "properties": {
                "r": {"type": "string", "title": "R"},
                "kind": {"type": "string", "enum": ["p", "q"], "title": "Kind"},
                "label": {"type": "string", "enum": ["s", "t"], "title": "Label"},
                "when": {"type": ["string", "null"], "title": "When"},
                "also": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "Also"},
                "size": {"anyOf": [{"type": "integer", "format": "int32"}, {"type": "null"}], "default": null, "title": "Size"},
                "pick": {"anyOf": [{"type": "string"}, {"type": "integer"}], "title": "Pick"}
            }}
        }}
    })
}

fn changes(edit: impl FnOnce(&mut Value)) -> Vec<(ChangeKind, String)> {
    let mut t = theirs();
    edit(&mut t);
    let ours = Contract::from_value(&ours()).unwrap();
    let theirs = Contract::from_value(&t).unwrap();
    diff(&ours, &theirs)
        .into_iter()
        .map(|c| (c.kind, c.pointer))
        .collect()
}

fn schemas(t: &mut Value) -> &mut Value {
    &mut t["components"]["schemas"]
}

const REQ: &str = "/paths/~1a/post/requestBody/properties";
const RES: &str = "/paths/~1a/post/responses/200/properties";

#[test]
fn each_kind_of_change_is_classified() {
    use ChangeKind::{Additive, Breaking, Warning};
    type Edit = Box<dyn FnOnce(&mut Value)>;
    type Expected = Vec<(ChangeKind, String)>;
    let cases: Vec<(&str, Edit, Expected)> = vec![
        (
            "3.0 and 3.1 spellings of the same contract",
            Box::new(|_| {}),
            vec![],
        ),
        (
            "operation removed",
            Box::new(|t| {
                t["paths"].as_object_mut().unwrap().remove("/b");
            }),
            vec![(Breaking, "/paths/~1b/get".into())],
        ),
        (
            "operation added",
            Box::new(|t| t["paths"]["/c"] = json!({"delete": {"responses": {}}})),
            vec![(Additive, "/paths/~1c/delete".into())],
        ),
        (
            "request field removed",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["properties"].as_object_mut().unwrap().remove("x");
            }),
            vec![(Breaking, format!("{REQ}/x"))],
        ),
        (
            "request field retyped",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["properties"]["y"] = json!({"type": "string"});
            }),
            vec![(Breaking, format!("{REQ}/y"))],
        ),
        (
            "required request field added",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["properties"]["z"] = json!({"type": "string"});
                s["Req"]["required"] = json!(["x", "z"]);
            }),
            vec![(Breaking, format!("{REQ}/z"))],
        ),
        (
            "optional field we send became required",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["required"] = json!(["x", "y"]);
            }),
            vec![(Breaking, format!("{REQ}/y"))],
        ),
        (
            "optional request field added",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["properties"]["z"] = json!({"type": "boolean"});
            }),
            vec![(Additive, format!("{REQ}/z"))],
        ),
        (
            "response field removed",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"].as_object_mut().unwrap().remove("r");
            }),
            vec![(Breaking, format!("{RES}/r"))],
        ),
        (
            "response field added",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"]["extra"] = json!({"type": "number"});
            }),
            vec![(Additive, format!("{RES}/extra"))],
        ),
        (
            "enum value added to a closed enum",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"]["kind"]["enum"] = json!(["p", "q", "r"]);
            }),
            vec![(Breaking, format!("{RES}/kind"))],
        ),
        (
            "enum value added to an open enum",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"]["label"]["enum"] = json!(["s", "t", "u"]);
            }),
            vec![(Additive, format!("{RES}/label"))],
        ),
        (
            "value accepted in a request enum",
            Box::new(|t| {
                let s = schemas(t);
                s["Req"]["properties"]["mode"]["enum"] = json!(["fast", "slow", "eco"]);
            }),
            vec![(Additive, format!("{REQ}/mode"))],
        ),
        (
            "a response field we need may now be null",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"]["r"] = json!({"type": ["string", "null"]});
            }),
            vec![(Breaking, format!("{RES}/r"))],
        ),
        (
            "an optional response field may now be null: the SDK's Option holds it",
            Box::new(|t| {
                let s = schemas(t);
                s["Res"]["properties"]["size"] =
                    json!({"type": ["integer", "null"], "format": "int32"});
            }),
            vec![],
        ),
        (
            "a request integer widened to number",
            Box::new(|t| {
                schemas(t)["Req"]["properties"]["y"] =
                    json!({"type": "number", "minimum": 0, "default": 0})
            }),
            vec![(Additive, format!("{REQ}/y"))],
        ),
        (
            "a request number narrowed to integer",
            Box::new(|t| schemas(t)["Req"]["properties"]["ratio"] = json!({"type": "integer"})),
            vec![(Breaking, format!("{REQ}/ratio"))],
        ),
        (
            "a response integer widened to number",
            Box::new(|t| schemas(t)["Res"]["properties"]["size"] = json!({"type": "number"})),
            vec![(Breaking, format!("{RES}/size"))],
        ),
        (
            "a request string became an enum",
            Box::new(|t| {
                schemas(t)["Req"]["properties"]["x"] =
                    json!({"type": "string", "maxLength": 100, "enum": ["a", "b"]})
            }),
            vec![(Breaking, format!("{REQ}/x"))],
        ),
        (
            "a closed response enum became a free string",
            Box::new(|t| schemas(t)["Res"]["properties"]["kind"] = json!({"type": "string"})),
            vec![(Breaking, format!("{RES}/kind"))],
        ),
        (
            "an open response enum became a free string",
            Box::new(|t| schemas(t)["Res"]["properties"]["label"] = json!({"type": "string"})),
            vec![(Warning, format!("{RES}/label"))],
        ),
        (
            "maxLength tightened on a request field",
            Box::new(|t| schemas(t)["Req"]["properties"]["x"]["maxLength"] = json!(50)),
            vec![(Breaking, format!("{REQ}/x"))],
        ),
        (
            "maxLength loosened on a request field",
            Box::new(|t| schemas(t)["Req"]["properties"]["x"]["maxLength"] = json!(500)),
            vec![(Warning, format!("{REQ}/x"))],
        ),
        (
            "a pattern added to a request field",
            Box::new(|t| schemas(t)["Req"]["properties"]["x"]["pattern"] = json!("^[a-z]+$")),
            vec![(Breaking, format!("{REQ}/x"))],
        ),
        (
            "format int32 -> int64 in a response",
            Box::new(|t| {
                schemas(t)["Res"]["properties"]["size"] =
                    json!({"type": "integer", "format": "int64"})
            }),
            vec![(Breaking, format!("{RES}/size"))],
        ),
        (
            "format uuid required of a request string",
            Box::new(|t| schemas(t)["Req"]["properties"]["x"]["format"] = json!("uuid")),
            vec![(Breaking, format!("{REQ}/x"))],
        ),
        (
            "format date-time dropped from... nothing: a response string gains date-time",
            Box::new(|t| schemas(t)["Res"]["properties"]["r"]["format"] = json!("date-time")),
            vec![(Warning, format!("{RES}/r"))],
        ),
        (
            "an untyped response",
            Box::new(|t| schemas(t)["Res"]["properties"]["r"] = json!({})),
            vec![(Warning, format!("{RES}/r"))],
        ),
        (
            "a multi-type response field",
            Box::new(|t| {
                schemas(t)["Res"]["properties"]["r"] = json!({"type": ["string", "integer"]})
            }),
            vec![(Breaking, format!("{RES}/r"))],
        ),
        (
            "a new form in a response oneOf",
            Box::new(|t| {
                schemas(t)["Res"]["properties"]["pick"] =
                    json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]})
            }),
            vec![(Breaking, format!("{RES}/pick"))],
        ),
        (
            "a JSON operation became an event stream",
            Box::new(|t| {
                t["paths"]["/b"]["get"]["responses"]["200"]["content"] =
                    json!({"text/event-stream": {}});
            }),
            vec![(Breaking, "/paths/~1b/get/responses".into())],
        ),
        (
            "a JSON request body became multipart",
            Box::new(|t| {
                let body = &mut t["paths"]["/a"]["post"]["requestBody"]["content"];
                let schema = body["application/json"].clone();
                *body = json!({"multipart/form-data": schema});
            }),
            vec![(Breaking, "/paths/~1a/post/requestBody/content".into())],
        ),
        (
            "a new required query parameter, and an optional one",
            Box::new(|t| {
                t["paths"]["/b"]["get"]["parameters"] = json!([
                    {"name": "v", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "w", "in": "query", "schema": {"type": "string"}}
                ]);
            }),
            vec![
                (Breaking, "/paths/~1b/get/parameters/query v".into()),
                (Additive, "/paths/~1b/get/parameters/query w".into()),
            ],
        ),
        (
            "an apiKey scheme instead of a Bearer key",
            Box::new(|t| {
                t["components"]["securitySchemes"] =
                    json!({"key": {"type": "apiKey", "in": "header", "name": "X-API-Key"}});
                t["security"] = json!([{"key": []}]);
            }),
            vec![
                (Breaking, "/paths/~1a/post/security".into()),
                (Breaking, "/paths/~1b/get/security".into()),
            ],
        ),
        (
            "a Bearer scheme (what this client sends)",
            Box::new(|t| {
                t["components"]["securitySchemes"] =
                    json!({"HTTPBearer": {"type": "http", "scheme": "bearer"}});
                t["security"] = json!([{"HTTPBearer": []}]);
            }),
            vec![],
        ),
        (
            "the default of a field this client may leave out",
            Box::new(|t| schemas(t)["Req"]["properties"]["y"]["default"] = json!(5)),
            vec![(Warning, format!("{REQ}/y"))],
        ),
        (
            "deprecation of an operation and of a field; a sunset; a renamed operationId",
            Box::new(|t| {
                let op = &mut t["paths"]["/a"]["post"];
                op["deprecated"] = json!(true);
                op["x-sunset"] = json!("2027-06-30");
                op["operationId"] = json!("a_v2");
                schemas(t)["Res"]["properties"]["when"]["deprecated"] = json!(true);
            }),
            vec![
                (Warning, "/paths/~1a/post/deprecated".into()),
                (Warning, "/paths/~1a/post/operationId".into()),
                (Warning, format!("{RES}/when")),
                (Warning, "/paths/~1a/post/x-sunset".into()),
            ],
        ),
        (
            "a new success status",
            Box::new(|t| {
                t["paths"]["/a"]["post"]["responses"]["202"] = json!({"description": "Accepted"});
            }),
            vec![(Warning, "/paths/~1a/post/responses/202".into())],
        ),
    ];
    for (name, edit, expected) in cases {
        assert_eq!(changes(edit), expected, "{name}");
    }
}

/// A stream's events: compared when both sides describe them (ours with `x-bookwyrm-events`,
/// theirs with OpenAPI 3.2's `itemSchema`), named as unchecked when theirs does not.
/// One rule for what an event stream is: its media type, with parameters or not, in any case
/// (the reader and `contract update` share it).
#[test]
fn an_event_stream_is_known_by_its_media_type_with_or_without_parameters() {
    for media in [
        "text/event-stream",
        "text/event-stream; charset=utf-8",
        "Text/Event-Stream",
    ] {
        let doc = json!({
            "openapi": "3.1.0",
            "paths": {"/s": {"post": {
                "operationId": "s",
                "responses": {"200": {"content": {media: {"itemSchema": {"type": "object"}}}}}
            }}}
        });
        let c = Contract::from_value(&doc).unwrap();
        let op = c.operations.values().next().unwrap();
        assert!(op.streaming, "{media}");
    }
    let json_only = json!({
        "openapi": "3.1.0",
        "paths": {"/s": {"post": {
            "responses": {"200": {"content": {"application/json": {"schema": {"type": "string"}}}}}
        }}}
    });
    let c = Contract::from_value(&json_only).unwrap();
    assert!(!c.operations.values().next().unwrap().streaming);
}

#[test]
fn stream_events_are_compared_when_described_and_named_when_not() {
    use bookwyrm_contract::unchecked_streams;
    use ChangeKind::{Additive, Breaking, Warning};
    let ours = Contract::from_value(&json!({
        "openapi": "3.0.3",
        "paths": {"/s": {"post": {
            "x-bookwyrm-stream": "S",
            "x-bookwyrm-events": {
                "a": {"variant": "A", "schema": "Ev"},
                "b": {"variant": "B", "schema": "Ev"},
                "keepalive": {"ignore": true}
            },
            "responses": {"200": {"description": "events"}}
        }}},
        "components": {"schemas": {"Ev": {"type": "object", "required": ["v"], "properties": {"v": {"type": "string"}}}}}
    }))
    .unwrap();
    let theirs = |events: Value, schema: Value| {
        let mut stream = json!({});
        if !events.is_null() {
            stream["itemSchema"] = json!({"oneOf": events});
        }
        Contract::from_value(&json!({
            "openapi": "3.2.0",
            "paths": {"/s": {"post": {"responses": {"200": {"content": {"text/event-stream": stream}}}}}},
            "components": {"schemas": {"Ev": schema}}
        }))
        .unwrap()
    };
    let event = |name: &str| {
        json!({"type": "object", "properties": {
            "event": {"const": name},
            "data": {"contentMediaType": "application/json", "contentSchema": {"$ref": "#/components/schemas/Ev"}}
        }})
    };
    let ev = json!({"type": "object", "required": ["v"], "properties": {"v": {"type": "string"}}});
    let kinds = |t: &Contract| {
        diff(&ours, t)
            .into_iter()
            .map(|c| (c.kind, c.pointer))
            .collect::<Vec<_>>()
    };
    let same = theirs(json!([event("a"), event("b")]), ev.clone());
    assert_eq!(kinds(&same), vec![]);
    assert!(unchecked_streams(&ours, &same).is_empty());
    let at = |e: &str| format!("/paths/~1s/post/responses/events/{e}");
    let changed = theirs(
        json!([event("a"), event("c")]),
        json!({"type": "object", "properties": {"w": {"type": "string"}}}),
    );
    assert_eq!(
        kinds(&changed),
        vec![
            (Breaking, format!("{}/properties/v", at("a"))),
            (Warning, at("b")),
            (Additive, format!("{}/properties/w", at("a"))),
            (Additive, at("c")),
        ]
    );
    let undescribed = theirs(Value::Null, ev);
    assert_eq!(kinds(&undescribed), vec![]);
    assert_eq!(unchecked_streams(&ours, &undescribed), ["POST /s"]);
}

#[test]
fn unreadable_documents_are_errors_that_say_why() {
    for (doc, needle) in [
        (json!([1]), "top level is not an object"),
        (json!({"paths": {}}), "no `openapi` version"),
        (json!({"swagger": "2.0", "paths": {}}), "Swagger 2.0"),
        (
            json!({"openapi": "4.0", "paths": {}}),
            "4.0 is not supported (3.0, 3.1 or 3.2)",
        ),
        (json!({"openapi": "3.1.0"}), "no `paths`"),
        (
            json!({"openapi": "3.1.0", "paths": []}),
            "`paths` is not an object",
        ),
        (
            json!({"openapi": "3.1.0", "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Nope"}}}}}}}}}),
            "/paths/~1x/get: `$ref` to nothing: #/components/schemas/Nope",
        ),
        (
            json!({"openapi": "3.1.0", "paths": {"/x": {"get": {"responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Loop"}}}}}}}}, "components": {"schemas": {"Loop": {"$ref": "#/components/schemas/Loop"}}}}),
            "too deep",
        ),
    ] {
        let err = Contract::from_value(&doc).unwrap_err();
        assert!(err.to_string().contains(needle), "{err} (wanted {needle})");
    }
    assert!(Contract::from_json_str("not json")
        .unwrap_err()
        .to_string()
        .starts_with("not JSON"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_published_contract_round_trips_to_no_change() {
    let emu = common::emulator().await;
    // Public, like FastAPI's: no key.
    let doc: Value = reqwest::get(format!("{}/openapi.json", emu.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(
        !doc.to_string().contains("\"x-bookwyrm"),
        "no x-bookwyrm-* keys"
    );
    assert!(!doc.to_string().contains("\"nullable\""));
    // The emulator publishes the SDK's own contract (`contract::as_published`): this compares
    // the SDK with itself through the 3.1 writer and reader, a round trip, not a drift test.
    let theirs = Contract::from_value(&doc).unwrap();
    let ours = Contract::embedded();
    assert_eq!(ours.operations.len(), bookwyrm::OPERATIONS.len());
    assert_eq!(diff(&ours, &theirs), vec![]);
    // The same model, so the same fingerprint: `contract check` says "identical" from it.
    let sdk = bookwyrm_contract::Provenance::of_sdk();
    assert_eq!(theirs.fingerprint(), sdk.fingerprint);
    assert_eq!(sdk.operations, bookwyrm::OPERATIONS.len());
    // A FastAPI server's document of the same API is another model (extra fields, limits).
    let fastapi =
        Contract::from_json_str(include_str!("../fixtures/fastapi/openapi.json")).unwrap();
    assert_ne!(fastapi.fingerprint(), sdk.fingerprint);
}
