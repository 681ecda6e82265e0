//! The contract tooling of the bookwyrm SDK: the API contract the SDK was built from, and how
//! another one differs from it, from the SDK's point of view. A crate of its own, used by the
//! `bookwyrm` CLI (`contract check`, `contract update`), the emulator and `cargo xtask`; a
//! service that depends on the SDK does not link it (the SDK keeps only its contract's JSON,
//! [`bookwyrm::contract::EMBEDDED_JSON`]).
//!
//! [`Contract`] is a normalized model of an OpenAPI document (3.0 or 3.1): its operations, the
//! schema of each request body and JSON response, with `$ref`s resolved, `allOf` merged and
//! nullability read from any of its spellings (`nullable: true`, `type: [T, "null"]`,
//! `anyOf: [T, {"type": "null"}]`). [`diff`] classifies each difference as
//! [`ChangeKind::Breaking`], [`ChangeKind::Warning`] or [`ChangeKind::Additive`] for this
//! client (judged by what this SDK sends and decodes); `bookwyrm contract
//! check` runs it against a server's `/openapi.json`.
//!
//! ```
//! let ours = bookwyrm_contract::Contract::embedded();
//! let changes = bookwyrm_contract::diff(&ours, &ours);
//! assert!(changes.is_empty());
//! ```
//!
//! One home per part: `read.rs` reads OpenAPI 3.0 and 3.1 into the model below, `diff.rs`
//! holds the rules that compare two models ([`diff`]), `provenance.rs` what the SDK was built
//! from ([`Provenance`]), `publish.rs` writes the contract as a FastAPI server publishes its
//! own ([`as_published`]), [`update`] merges a server's document into the contract
//! (`bookwyrm contract update`), and [`yaml`] writes the contract in its one layout.

#![deny(missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

mod diff;
mod provenance;
mod publish;
mod read;
pub mod update;
pub mod yaml;

pub use diff::{diff, unchecked_streams, Change, ChangeKind};
pub use provenance::Provenance;
pub use publish::as_published;
pub use read::{event_stream_content, resolve_ref};

/// The SDK's contract (`openapi/bookwyrm.yaml`) as JSON, as the SDK embeds it
/// ([`bookwyrm::contract::EMBEDDED_JSON`]).
///
/// ```
/// let doc: serde_json::Value = serde_json::from_str(bookwyrm_contract::EMBEDDED_JSON).unwrap();
/// assert_eq!(doc["openapi"], "3.0.3");
/// ```
pub const EMBEDDED_JSON: &str = bookwyrm::contract::EMBEDDED_JSON;

/// Why a document could not be read as an OpenAPI contract.
///
/// ```
/// let err = bookwyrm_contract::Contract::from_json_str("[1, 2]").unwrap_err();
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
/// use bookwyrm_contract::{Schema, Shape};
/// let s = Schema::new(Shape::Scalar("string".into()), false);
/// assert_eq!(s.to_string(), "string");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Schema {
    /// What the value is.
    pub shape: Shape,
    /// Whether `null` is allowed.
    pub nullable: bool,
    /// Format, default, limits, deprecation.
    pub facets: Facets,
}

impl Schema {
    /// A schema of `shape`, without facets.
    ///
    /// ```
    /// let s = bookwyrm_contract::Schema::new(bookwyrm_contract::Shape::Any, true);
    /// assert!(s.nullable);
    /// ```
    pub fn new(shape: Shape, nullable: bool) -> Self {
        Self {
            shape,
            nullable,
            facets: Facets::default(),
        }
    }
}

/// What a schema says besides its shape: what chooses the Rust type (`format`), what the
/// server assumes when a field is left out (`default`), the limits a value must keep, and
/// whether it is deprecated.
///
/// ```
/// let f = bookwyrm_contract::Facets::default();
/// assert!(f.format.is_none() && !f.deprecated);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Facets {
    /// `format` (`int32`, `int64`, `uuid`, `date-time`, …).
    pub format: Option<String>,
    /// `default`.
    pub default: Option<Value>,
    /// `minimum` and `maximum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minItems`.
    pub min_items: Option<u64>,
    /// `maxItems`.
    pub max_items: Option<u64>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `deprecated: true`.
    pub deprecated: bool,
}

/// The kinds of [`Schema`].
///
/// ```
/// let s = bookwyrm_contract::Shape::Any;
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
/// let ours = bookwyrm_contract::Contract::embedded();
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
    /// The media types the request body may have (`application/json`, `multipart/form-data`).
    pub request_media: Vec<String>,
    /// The 2xx statuses it answers with (JSON, events or none).
    pub success: BTreeSet<String>,
    /// Parameters by `"in name"` (`"query limit"`, `"header x-key"`, `"path id"`).
    pub parameters: BTreeMap<String, Parameter>,
    /// The ways to authenticate, any one of which is enough; each a list of schemes that must
    /// all be given (`"http bearer"`, `"apiKey header X-API-Key"`). Empty: none needed.
    pub security: Vec<Vec<String>>,
    /// `deprecated: true`.
    pub deprecated: bool,
    /// `x-sunset` (or a `Sunset` date the document gives), when it has one.
    pub sunset: Option<String>,
    /// The events of its stream by name, with the schema of each one's data, when the
    /// document describes them (this SDK's `x-bookwyrm-events`, or OpenAPI 3.2's `itemSchema`
    /// of `text/event-stream`); `None` when it does not (a FastAPI document).
    pub events: Option<BTreeMap<String, Schema>>,
}

/// One parameter of an operation.
///
/// ```
/// let ours = bookwyrm_contract::Contract::embedded();
/// assert!(ours.operations.values().all(|o| o.parameters.is_empty()));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Parameter {
    /// Whether it must be given.
    pub required: bool,
    /// Its schema.
    pub schema: Schema,
}

/// An API contract, normalized.
///
/// ```
/// let ours = bookwyrm_contract::Contract::embedded();
/// assert!(ours.operations.contains_key("POST /phrasal/sse"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Contract {
    /// Operations by `"METHOD /path"`.
    pub operations: BTreeMap<String, Operation>,
    /// Where the document uses a validation keyword the model does not hold (`multipleOf`,
    /// `uniqueItems`, `not`, `if`, `patternProperties`, …), as JSON pointers: those were not
    /// compared, so two documents are *identical* only when neither has any. Not part of the
    /// [`fingerprint`](Self::fingerprint).
    #[serde(skip)]
    pub unchecked: Vec<String>,
}
