//! The library's end-to-end tests against the emulator, in one test binary (one link of the
//! SDK, the emulator, axum and tokio instead of one per file). Tests that set process-wide
//! state (environment variables, the OpenTelemetry propagator, the metrics recorder) are
//! binaries of their own: `tests/env.rs`, `tests/otel.rs`, `tests/metrics.rs`.

#[path = "../common/mod.rs"]
mod common;

mod adopter;
mod blocking;
mod blocking_twin;
mod connection_reuse;
mod contract;
mod contract_diff;
mod cut_faults;
mod direct_transport;
mod docs_imports;
mod errors;
mod module_graph;
mod public_api;
mod requests;
mod resume;
mod retries;
mod sse_decoder;
mod streams;
mod structured_schema;
mod tls;
mod validation;
mod wire_fidelity;
