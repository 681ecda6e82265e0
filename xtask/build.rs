//! The generator `xtask::generate` runs: this build script, compiled on the host with the
//! same build dependencies as the SDK's own `build.rs` (progenitor and what it needs), so
//! that a `cargo test` builds that stack once, for both, instead of a second time as
//! xtask's normal dependencies.
//!
//! Run by cargo (no arguments), it tells xtask where it is (`XTASK_GENERATOR`). Run by
//! xtask with `CONTRACT OUT_DIR`, it writes `generated.rs` and `events.rs` into `OUT_DIR`
//! from the contract (YAML or JSON), exactly as the SDK's build does.

#[allow(dead_code)]
#[path = "../build/codegen.rs"]
mod codegen;

fn main() {
    let args: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if let [contract, out_dir] = args.as_slice() {
        let text = std::fs::read_to_string(contract).expect("read the contract");
        let spec: serde_json::Value =
            serde_yaml_ng::from_str(&text).expect("the contract is valid YAML");
        let (code, events) = codegen::generate(&spec);
        std::fs::write(out_dir.join("generated.rs"), code).expect("write generated.rs");
        std::fs::write(out_dir.join("events.rs"), events).expect("write events.rs");
        return;
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../build/codegen.rs");
    let me = std::env::current_exe().expect("the build script's own path");
    println!("cargo:rustc-env=XTASK_GENERATOR={}", me.display());
}
