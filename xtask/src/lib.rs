//! Maintainer tasks of the bookwyrm workspace.
//!
//! `cargo xtask api-diff [--base REV] [--changelog]`: what regenerating the SDK from the
//! working tree's `openapi/bookwyrm.yaml` does, compared with the contract at `REV`: the wire
//! changes (the contract check's rules), the public Rust API changes of the generated code
//! (field types, fields, variants and methods added, removed or renamed), `cargo
//! semver-checks` when it is installed, the version bump they call for, and (with
//! `--changelog`) a `CHANGELOG.md` entry. See README, "When the API changes".

#![deny(missing_docs)]

use std::fmt::Write as _;

use bookwyrm_contract::{diff, Change, ChangeKind, Contract};
use serde_json::Value;

pub mod changelog;
#[allow(missing_docs)]
#[path = "../../build/codegen.rs"]
mod codegen;
pub mod rust_api;

pub use rust_api::{Level, RustApi, RustChange};

/// The generated code of a contract (YAML or JSON text): the client and types, and the
/// events, exactly as `build.rs` writes them. Panics, as the build does, when the contract
/// cannot be generated (an `x-bookwyrm-todo` left, an event naming an unknown schema).
pub fn generate(contract: &str) -> Result<(String, String), String> {
    let spec: Value =
        serde_yaml_ng::from_str(contract).map_err(|e| format!("the contract is not YAML: {e}"))?;
    Ok(codegen::generate(&spec))
}

/// The public Rust API a contract generates (`bookwyrm::types::…`, the client's methods, the
/// event enums).
pub fn rust_api(contract: &str) -> Result<RustApi, String> {
    let (client, events) = generate(contract)?;
    let mut api = RustApi::read(&client, "bookwyrm::")?;
    let events = RustApi::read(&events, "bookwyrm::")?;
    api.items.extend(events.items);
    api.non_exhaustive.extend(events.non_exhaustive);
    Ok(api)
}

/// What a regeneration does: the wire changes and the Rust ones.
#[derive(Debug, Clone)]
pub struct Report {
    /// Wire changes from the base contract to the new one, by the contract check's rules.
    pub wire: Vec<Change>,
    /// Public Rust API changes of the generated code.
    pub rust: Vec<RustChange>,
    /// The new contract's fingerprint ([`Contract::fingerprint`]).
    pub fingerprint: String,
    /// The new contract's `info.version`.
    pub contract_version: String,
}

impl Report {
    /// Compares two contracts (YAML or JSON text).
    pub fn new(base: &str, new: &str) -> Result<Self, String> {
        let model = |text: &str, which: &str| -> Result<(Contract, Value), String> {
            let doc: Value = serde_yaml_ng::from_str(text)
                .map_err(|e| format!("the {which} contract is not YAML: {e}"))?;
            let model =
                Contract::from_value(&doc).map_err(|e| format!("the {which} contract: {e}"))?;
            Ok((model, doc))
        };
        let (base_model, _) = model(base, "base")?;
        let (new_model, new_doc) = model(new, "new")?;
        let rust = rust_api::diff(&rust_api(base)?, &rust_api(new)?);
        Ok(Self {
            wire: diff(&base_model, &new_model),
            rust,
            fingerprint: new_model.fingerprint(),
            contract_version: new_doc
                .pointer("/info/version")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        })
    }

    /// Whether anything breaks: on the wire (for a client built from the base) or in Rust.
    pub fn breaking(&self) -> bool {
        self.wire.iter().any(|c| c.kind == ChangeKind::Breaking)
            || self.rust.iter().any(|c| c.level == Level::Breaking)
    }

    /// The version after `current` this report calls for: below 1.0, breaking -> minor and
    /// anything else -> patch; from 1.0, breaking -> major, additions -> minor, else patch.
    ///
    /// ```
    /// let report = xtask::Report { wire: vec![], rust: vec![], fingerprint: String::new(), contract_version: String::new() };
    /// assert_eq!(report.next_version("0.1.0").unwrap(), "0.1.1");
    /// ```
    pub fn next_version(&self, current: &str) -> Result<String, String> {
        let parts: Vec<u64> = current
            .split('.')
            .map(|p| p.parse::<u64>())
            .collect::<Result<_, _>>()
            .map_err(|_| format!("not a version: {current}"))?;
        let [major, minor, patch] = parts[..] else {
            return Err(format!("not a version: {current}"));
        };
        let added = self.wire.iter().any(|c| c.kind == ChangeKind::Additive)
            || self.rust.iter().any(|c| c.level == Level::Added);
        Ok(match (major, self.breaking()) {
            (0, true) => format!("0.{}.0", minor + 1),
            (0, false) => format!("0.{minor}.{}", patch + 1),
            (_, true) => format!("{}.0.0", major + 1),
            (_, false) if added => format!("{major}.{}.0", minor + 1),
            (_, false) => format!("{major}.{minor}.{}", patch + 1),
        })
    }

    /// The report as text: wire, then Rust, then the proposed version.
    pub fn render(&self, current_version: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "wire changes ({}):", self.wire.len());
        for c in &self.wire {
            let _ = writeln!(
                out,
                "  {:<8}  {}  {}",
                c.kind.as_str(),
                c.pointer,
                c.description
            );
        }
        let _ = writeln!(out, "Rust API changes ({}):", self.rust.len());
        for c in &self.rust {
            let level = match c.level {
                Level::Breaking => "breaking",
                Level::Added => "added",
            };
            let _ = writeln!(out, "  {level:<8}  {}  {}", c.path, c.description);
        }
        match self.next_version(current_version) {
            Ok(v) => {
                let _ = writeln!(
                    out,
                    "version: {current_version} -> {v} ({})",
                    if self.breaking() {
                        "breaking"
                    } else {
                        "nothing breaks"
                    }
                );
            }
            Err(e) => {
                let _ = writeln!(out, "version: {e}");
            }
        }
        out
    }
}
