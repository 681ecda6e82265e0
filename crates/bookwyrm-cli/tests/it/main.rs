//! The CLI's tests, one binary (a module per area) so that the SDK, the emulator and axum are
//! linked once: the commands end to end against the emulator, `contract update` and
//! `cargo xtask api-diff`'s routine on a contract change, and TLS.

mod api_change;
mod cli;
mod tls;
