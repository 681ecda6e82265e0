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
//!
//! One home per part: `contract/read.rs` reads OpenAPI 3.0 and 3.1 into the model below,
//! `contract/diff.rs` holds the rules that compare two models ([`diff`]), and
//! `contract/publish.rs` writes the contract as a FastAPI server publishes its own
//! ([`as_published`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

mod diff;
mod publish;
mod read;

pub use diff::{diff, Change, ChangeKind};
pub use publish::as_published;

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
