//! The API contract this SDK was built from (`openapi/bookwyrm.yaml`), as JSON: what a running
//! service may log or check about the SDK it links. Reading, comparing and updating contracts
//! is the `bookwyrm-contract` crate's (the CLI's `contract check` and `contract update`), which
//! a service does not link.

/// The contract (`openapi/bookwyrm.yaml`) as JSON, embedded at build time.
///
/// ```
/// let doc: serde_json::Value = serde_json::from_str(bookwyrm::contract::EMBEDDED_JSON).unwrap();
/// assert_eq!(doc["openapi"], "3.0.3");
/// println!("built from contract {}", doc["info"]["version"]);
/// ```
pub const EMBEDDED_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/contract.json"));
