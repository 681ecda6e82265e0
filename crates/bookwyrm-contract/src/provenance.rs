//! Where this SDK's contract came from ([`Provenance`]): a fingerprint of its normalized model,
//! its `info.version` and its operation count. Two documents with the same fingerprint read
//! into the same model, whatever their spelling (3.0 or 3.1, `$ref`s, titles), so `contract
//! check` can say "identical" before comparing anything.

use serde_json::Value;

use crate::{Contract, EMBEDDED_JSON};

/// What this SDK was built from.
///
/// ```
/// let p = bookwyrm_contract::Provenance::of_sdk();
/// assert_eq!(p.operations, bookwyrm::OPERATIONS.len());
/// assert_eq!(p.fingerprint.len(), 16);
/// println!("built from contract {} ({}), {} operations", p.version, p.fingerprint, p.operations);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Provenance {
    /// [`Contract::fingerprint`] of the embedded contract.
    pub fingerprint: String,
    /// Its `info.version`.
    pub version: String,
    /// How many operations it has.
    pub operations: usize,
}

impl Provenance {
    /// The provenance of the contract embedded in this build (`openapi/bookwyrm.yaml`).
    ///
    /// ```
    /// assert!(!bookwyrm_contract::Provenance::of_sdk().version.is_empty());
    /// ```
    pub fn of_sdk() -> Self {
        let doc: Value = serde_json::from_str(EMBEDDED_JSON).unwrap_or(Value::Null);
        let contract = Contract::embedded();
        Self {
            fingerprint: contract.fingerprint(),
            version: doc
                .pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            operations: contract.operations.len(),
        }
    }
}

impl Contract {
    /// A fingerprint of this normalized model (FNV-1a, 64 bits, as 16 hex digits), without
    /// what a server's document cannot carry (this SDK's event lists): equal for two
    /// documents that describe the same operations and schemas.
    ///
    /// ```
    /// use bookwyrm_contract::Contract;
    /// let ours = Contract::embedded();
    /// let mut other = ours.clone();
    /// assert_eq!(ours.fingerprint(), other.fingerprint());
    /// other.operations.remove("POST /cite");
    /// assert_ne!(ours.fingerprint(), other.fingerprint());
    /// ```
    pub fn fingerprint(&self) -> String {
        let mut model = self.clone();
        for op in model.operations.values_mut() {
            op.events = None;
        }
        let bytes = serde_json::to_vec(&model).unwrap_or_default();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}
