//! Generates the typed wire layer from `openapi/bookwyrm.yaml` (see `build/codegen.rs`):
//! `generated.rs` (progenitor's client and types), `events.rs` (the event enums and the
//! operation table) and `contract.json` (the contract embedded by `bookwyrm::contract`).
//!
//! It reruns only when the contract (or the generator) changes.

use std::path::PathBuf;

#[path = "build/codegen.rs"]
mod codegen;

use codegen::SPEC;

fn main() {
    println!("cargo:rerun-if-changed={SPEC}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build/codegen.rs");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));

    let text = std::fs::read_to_string(SPEC).expect("read the OpenAPI contract");
    let spec: serde_json::Value =
        serde_yaml_ng::from_str(&text).expect("the contract is valid YAML");

    // The contract as JSON, embedded by `bookwyrm::contract`.
    std::fs::write(
        out_dir.join("contract.json"),
        serde_json::to_string(&spec).expect("the contract serializes"),
    )
    .expect("write contract.json");

    let (code, events) = codegen::generate(&spec);
    std::fs::write(out_dir.join("generated.rs"), code).expect("write generated.rs");
    std::fs::write(out_dir.join("events.rs"), events).expect("write events.rs");
}
