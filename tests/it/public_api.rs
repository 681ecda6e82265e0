//! The public API of `bookwyrm` (every feature on), read from rustdoc's JSON by the
//! `public-api` crate, as a reviewed snapshot: a change to what the SDK promises (a new item,
//! a changed signature, a removed variant) fails here until `cargo insta review` accepts it,
//! so it shows in review beside its CHANGELOG entry. Blanket, auto-trait and auto-derived
//! impls are left out (they follow from the items).

use std::path::PathBuf;
use std::process::Command;

/// Where cargo puts this workspace's build output.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    )
}

/// A `rustdoc` that may write JSON: rustdoc's JSON output is unstable, and RUSTC_BOOTSTRAP
/// lets the stable toolchain write it. Set for rustdoc alone (through `RUSTDOC`), not for
/// cargo: build scripts that probe the compiler (proc-macro2's) rerun when RUSTC_BOOTSTRAP
/// changes, which would rebuild every dependency here and again in the next `cargo test`.
fn rustdoc_with_json() -> PathBuf {
    let wrapper = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rustdoc-json");
    let rustdoc = std::env::var("RUSTDOC").unwrap_or_else(|_| "rustdoc".into());
    let script = format!("#!/bin/sh\nRUSTC_BOOTSTRAP=1 exec {rustdoc} \"$@\"\n");
    std::fs::write(&wrapper, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    wrapper
}

/// The variables cargo sets for a test's process, not in the environment of the `cargo test`
/// that ran it: given to the inner cargo, they would make build scripts that watch them
/// (ring's watches `CARGO_MANIFEST_DIR`) run again, and the next `cargo test` rebuild
/// everything above them.
fn set_for_tests(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_MANIFEST_LINKS",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&name)
}

#[test]
fn the_public_api_is_the_reviewed_one() {
    let mut cargo = Command::new(env!("CARGO"));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_for_tests) {
            cargo.env_remove(name);
        }
    }
    let out = cargo
        .args([
            "rustdoc",
            "--lib",
            "--all-features",
            "--locked",
            "-p",
            "bookwyrm",
        ])
        .args(["--", "-Z", "unstable-options", "--output-format", "json"])
        .env("RUSTDOC", rustdoc_with_json())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo rustdoc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = target_dir().join("doc").join("bookwyrm.json");
    let api = public_api::Builder::from_rustdoc_json(&json)
        .omit_blanket_impls(true)
        .omit_auto_trait_impls(true)
        .omit_auto_derived_impls(true)
        .build()
        .expect("the rustdoc JSON reads");
    let listing = api.to_string();
    // The reading found the SDK (an empty listing would match an empty snapshot).
    assert!(listing.contains("pub fn bookwyrm::AsyncBookWyrmClient::close(&self)"));
    insta::assert_snapshot!(listing);
}
