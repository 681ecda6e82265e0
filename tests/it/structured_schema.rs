//! Structured summaries: the schema sent is the one pydantic's `model_json_schema()` gives for
//! the same model (what the Python client sends), and a streamed summary parses into the type.

use crate::common;

use bookwyrm::schemars::{self, JsonSchema};
use bookwyrm::SummarizeRequest;

#[derive(JsonSchema, serde::Deserialize, Debug)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum Mood {
    Hopeful,
    Grim,
}

#[derive(JsonSchema, serde::Deserialize, Debug)]
#[allow(dead_code)]
struct Person {
    name: String,
    age: Option<i64>,
}

#[derive(JsonSchema, serde::Deserialize, Debug)]
#[allow(dead_code)]
struct BookSummary {
    title: String,
    author: Option<String>,
    page_count: u32,
    rating: Option<f64>,
    characters: Vec<Person>,
    protagonist: Person,
    antagonist: Option<Person>,
    mood: Mood,
    tags: Vec<String>,
    published: bool,
}

/// What pydantic 2 prints for the same model (`BookSummary.model_json_schema()`), written out:
///
/// ```python
/// class Mood(str, Enum): hopeful = "hopeful"; grim = "grim"
/// class Person(BaseModel): name: str; age: Optional[int] = None
/// class BookSummary(BaseModel):
///     title: str; author: Optional[str] = None; page_count: int
///     rating: Optional[float] = None; characters: List[Person]; protagonist: Person
///     antagonist: Optional[Person] = None; mood: Mood; tags: List[str]; published: bool
/// ```
fn pydantic() -> serde_json::Value {
    serde_json::json!({
        "$defs": {
            "Mood": {"enum": ["hopeful", "grim"], "title": "Mood", "type": "string"},
            "Person": {
                "properties": {
                    "name": {"title": "Name", "type": "string"},
                    "age": {
                        "anyOf": [{"type": "integer"}, {"type": "null"}],
                        "default": null,
                        "title": "Age"
                    }
                },
                "required": ["name"],
                "title": "Person",
                "type": "object"
            }
        },
        "properties": {
            "title": {"title": "Title", "type": "string"},
            "author": {
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "default": null,
                "title": "Author"
            },
            "page_count": {"title": "Page Count", "type": "integer"},
            "rating": {
                "anyOf": [{"type": "number"}, {"type": "null"}],
                "default": null,
                "title": "Rating"
            },
            "characters": {
                "items": {"$ref": "#/$defs/Person"},
                "title": "Characters",
                "type": "array"
            },
            "protagonist": {"$ref": "#/$defs/Person"},
            "antagonist": {
                "anyOf": [{"$ref": "#/$defs/Person"}, {"type": "null"}],
                "default": null
            },
            "mood": {"$ref": "#/$defs/Mood"},
            "tags": {"items": {"type": "string"}, "title": "Tags", "type": "array"},
            "published": {"title": "Published", "type": "boolean"}
        },
        "required": ["title", "page_count", "characters", "protagonist", "mood", "tags", "published"],
        "title": "BookSummary",
        "type": "object"
    })
}

/// The schema the client sends for `T`, read from the emulator's request log.
async fn sent_schema(request: SummarizeRequest) -> (String, serde_json::Value) {
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let _ = c.summarize(request).await; // the answer does not matter here
    let sent = emu.recorded(false);
    let body: serde_json::Value = serde_json::from_slice(&sent[0].body).unwrap();
    let schema = serde_json::from_str(body["model_schema_json"].as_str().unwrap()).unwrap();
    (body["model_name"].as_str().unwrap().to_string(), schema)
}

#[tokio::test]
async fn the_schema_sent_is_pydantics() {
    let (name, schema) =
        sent_schema(SummarizeRequest::from_content("A text.").structured_as::<BookSummary>()).await;
    assert_eq!(name, "BookSummary");
    // `required` is a set; pydantic lists it in field order, schemars in its own.
    let sorted = |mut v: serde_json::Value| {
        for pointer in ["/required", "/$defs/Person/required"] {
            if let Some(r) = v.pointer_mut(pointer).and_then(|r| r.as_array_mut()) {
                r.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            }
        }
        v
    };
    assert_eq!(sorted(schema.clone()), sorted(pydantic()));
    insta::assert_json_snapshot!("book_summary_schema", schema);
}

#[tokio::test]
async fn a_streamed_summary_parses_into_the_type() {
    #[derive(JsonSchema, serde::Deserialize, Debug)]
    struct Brief {
        title: Option<String>,
        author: Option<String>,
    }
    let emu = common::emulator().await;
    let c = common::client(&emu);
    let request = SummarizeRequest::from_content(common::story()).structured_as::<Brief>();
    let brief = c
        .stream_summarize(request)
        .await
        .unwrap()
        .final_structured::<Brief>()
        .await
        .unwrap();
    assert_eq!(brief.value.author.as_deref(), Some("H. G. Wells"));
    assert_eq!(
        brief.value.title.as_deref(),
        Some("The Country of the Blind, and Other Stories")
    );
    // The raw summary is kept beside the parsed value.
    let raw: serde_json::Value = serde_json::from_str(&brief.response.summary).unwrap();
    assert_eq!(raw["author"], "H. G. Wells");
}
