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

/// An inner `cargo` for this workspace, without the variables cargo set for this test.
fn cargo() -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(set_for_tests) {
            cargo.env_remove(name);
        }
    }
    cargo.current_dir(env!("CARGO_MANIFEST_DIR"));
    cargo
}

/// What `cargo test --no-run --workspace --all-features` says of each unit, when every unit is
/// fresh; `None` (its compiling stopped) as soon as one is not.
fn messages_of_a_fresh_build() -> Option<Vec<serde_json::Value>> {
    use std::io::BufRead;
    let mut child = cargo()
        .args([
            "test",
            "--no-run",
            "--workspace",
            "--all-features",
            "--locked",
        ])
        .args(["--offline", "--message-format=json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut messages = Vec::new();
    for line in std::io::BufReader::new(child.stdout.take()?).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line.ok()?) else {
            continue;
        };
        if message["reason"] == "compiler-artifact" && message["fresh"] != true {
            // This test runs under another build: stop compiling it.
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        messages.push(message);
    }
    child.wait().ok()?.success().then_some(messages)
}

/// rustdoc's JSON for `bookwyrm`, from the libraries `cargo test --workspace --all-features`
/// (the README's command) has already built: cargo reports them (`--no-run`, all fresh, about
/// a second) and rustdoc reads the SDK's dependencies from them. `None` when that build is not
/// the one this test ran under (something would compile) or a dependency's library is not
/// told apart from its build-script twin; then `cargo rustdoc` does it, at the price of a
/// check build of every dependency (a minute of CPU on a fresh clone).
fn rustdoc_json_from_the_test_build() -> Option<PathBuf> {
    use serde_json::Value;
    let messages = messages_of_a_fresh_build()?;
    let artifacts: Vec<&Value> = messages
        .iter()
        .filter(|m| m["reason"] == "compiler-artifact" && is_lib(m))
        .collect();
    let sdk = *artifacts.iter().find(|a| is_sdk(&a["package_id"]))?;
    let out_dir = messages
        .iter()
        .find(|m| m["reason"] == "build-script-executed" && is_sdk(&m["package_id"]))?
        .get("out_dir")?
        .as_str()?;
    let mut rustdoc = Command::new(rustdoc_with_json());
    let mut deps_dirs = std::collections::BTreeSet::new();
    for (name, pkg) in sdk_dependencies()? {
        // Its library built for the target, with the SDK's own profile (a build script's
        // twin of the same package has the build-override profile).
        let built: Vec<&&Value> = artifacts
            .iter()
            .filter(|a| a["package_id"] == pkg && a["profile"] == sdk["profile"])
            .collect();
        let file = match built.as_slice() {
            [] => continue, // not built for this platform (a `cfg(...)` dependency)
            [one] => library_file(one)?,
            _ => return None,
        };
        rustdoc.arg("--extern").arg(format!("{name}={file}"));
        deps_dirs.insert(std::path::Path::new(file).parent()?.to_path_buf());
    }
    for dir in deps_dirs {
        rustdoc
            .arg("-L")
            .arg(format!("dependency={}", dir.display()));
    }
    for feature in sdk["features"].as_array()?.iter().filter_map(Value::as_str) {
        rustdoc.arg("--cfg").arg(format!("feature=\"{feature}\""));
    }
    let doc = target_dir().join("public-api");
    let done = rustdoc
        .args([
            "--edition",
            "2024",
            "--crate-type",
            "lib",
            "--crate-name",
            "bookwyrm",
        ])
        .arg(sdk["target"]["src_path"].as_str()?)
        .arg("-o")
        .arg(&doc)
        .args(["-Z", "unstable-options", "--output-format", "json"])
        .env("OUT_DIR", out_dir)
        .env("CARGO_PKG_VERSION", env!("CARGO_PKG_VERSION"))
        .output()
        .ok()?;
    assert!(
        done.status.success(),
        "rustdoc failed: {rustdoc:?}\n{}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    Some(doc.join("bookwyrm.json"))
}

/// Whether a package id is this SDK's.
fn is_sdk(id: &serde_json::Value) -> bool {
    let sdk = format!("#bookwyrm@{}", env!("CARGO_PKG_VERSION"));
    id.as_str().is_some_and(|id| id.ends_with(&sdk))
}

/// Whether an artifact is a library (not a test build of one).
fn is_lib(artifact: &serde_json::Value) -> bool {
    let kinds = artifact["target"]["kind"].as_array();
    kinds.is_some_and(|k| {
        k.iter()
            .any(|k| k == "lib" || k == "rlib" || k == "proc-macro")
    }) && artifact["profile"]["test"] == false
}

/// The file rustdoc links: the rlib (or a proc macro's shared library), not the rmeta.
fn library_file(artifact: &serde_json::Value) -> Option<&str> {
    let files = artifact["filenames"].as_array()?;
    let mut files = files.iter().filter_map(serde_json::Value::as_str);
    files
        .clone()
        .find(|f| !f.ends_with(".rmeta"))
        .or_else(|| files.next())
}

/// The SDK's direct normal dependencies (every feature on): the name its code uses, and the
/// package id.
fn sdk_dependencies() -> Option<Vec<(String, serde_json::Value)>> {
    let meta = cargo()
        .args(["metadata", "--format-version", "1", "--all-features"])
        .args(["--locked", "--offline"])
        .output()
        .ok()?;
    let meta: serde_json::Value = serde_json::from_slice(&meta.stdout).ok()?;
    let node = meta["resolve"]["nodes"]
        .as_array()?
        .iter()
        .find(|n| is_sdk(&n["id"]))?;
    let deps = node["deps"].as_array()?.iter().filter(|dep| {
        let kinds = dep["dep_kinds"].as_array();
        kinds.is_some_and(|k| k.iter().any(|k| k["kind"].is_null()))
    });
    deps.map(|dep| Some((dep["name"].as_str()?.to_string(), dep["pkg"].clone())))
        .collect()
}

/// rustdoc's JSON for `bookwyrm` through `cargo rustdoc` (its own check build).
fn rustdoc_json_from_cargo() -> PathBuf {
    let out = cargo()
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
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo rustdoc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    target_dir().join("doc").join("bookwyrm.json")
}

#[test]
fn the_public_api_is_the_reviewed_one() {
    let json = rustdoc_json_from_the_test_build().unwrap_or_else(rustdoc_json_from_cargo);
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
