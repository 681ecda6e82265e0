//! README, "When the API changes", walked end to end on a fixture change: a server that
//! publishes our contract (OpenAPI 3.1, as the emulator does) with one breaking change (a
//! citation's `quality` now a string) and one additive change (a new optional `model` in the
//! citations answer). Each step's output is snapshotted: the check's report, the 3.0.3 file
//! the update writes (as a diff of ours), the Rust API diff of the regenerated code, and the
//! changelog entry.

use std::path::Path;
use std::process::Command;

/// `contract update` from the server's document, over our contract's copy.
const UPDATE: &[&str] = &[
    "contract",
    "update",
    "server.json",
    "--write",
    "bookwyrm.yaml",
];

fn bookwyrm(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bookwyrm"))
        .args(args)
        .current_dir(dir)
        .env_remove("BOOKWYRM_API_KEY")
        .env_remove("BOOKWYRM_BASE_URL")
        .output()
        .unwrap()
}

#[test]
fn check_update_regenerate_diff_and_changelog() {
    let dir = tempfile::tempdir().unwrap();
    let ours = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/bookwyrm.yaml"),
    )
    .unwrap();
    std::fs::write(dir.path().join("bookwyrm.yaml"), &ours).unwrap();
    let mut server = bookwyrm_contract::as_published();
    let schemas = &mut server["components"]["schemas"];
    schemas["Citation"]["properties"]["quality"] =
        serde_json::json!({"type": "string", "description": "Quality of the answer, as a word."});
    schemas["CitationResponse"]["properties"]["model"] = serde_json::json!({
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": "The model that answered.",
        "title": "Model"
    });
    std::fs::write(dir.path().join("server.json"), server.to_string()).unwrap();

    // 1. Check: one breaking change fails it (exit 1).
    let out = bookwyrm(dir.path(), &["--json", "contract", "check", "server.json"]);
    assert_eq!(out.status.code(), Some(1));
    let mut report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let root = report.as_object_mut().unwrap();
    // What names this SDK's contract changes with every contract: not part of this snapshot.
    root.remove("fingerprint");
    root.remove("sdk_contract");
    insta::assert_json_snapshot!("api_change_1_check", report);

    // 2. Update: the 3.0.3 file, written over ours.
    let out = bookwyrm(dir.path(), UPDATE);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let updated = std::fs::read_to_string(dir.path().join("bookwyrm.yaml")).unwrap();
    assert!(updated.starts_with("openapi: \"3.0.3\"\n"));
    let diff = similar::TextDiff::from_lines(&ours, &updated)
        .unified_diff()
        .context_radius(2)
        .header("openapi/bookwyrm.yaml", "openapi/bookwyrm.yaml (updated)")
        .to_string();
    insta::assert_snapshot!("api_change_2_update", diff);
    // Updating again from the same server changes nothing.
    let out = bookwyrm(dir.path(), UPDATE);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("bookwyrm.yaml")).unwrap(),
        updated
    );

    // 3. Build: the generator build.rs runs takes the new contract.
    let (client, _events) = xtask::generate(&updated).unwrap();
    assert!(
        client.contains("pub quality: ::std::string::String"),
        "regenerated"
    );

    // 4. The Rust API diff, and 5. the changelog entry.
    let report = xtask::Report::new(&ours, &updated).unwrap();
    assert!(report.breaking());
    insta::assert_snapshot!("api_change_3_rust_diff", report.render("0.1.0"));
    let version = report.next_version("0.1.0").unwrap();
    assert_eq!(version, "0.2.0");
    let entry = xtask::changelog::entry(&report, &version)
        .replace(&report.fingerprint, "<fingerprint>")
        .replace(&report.contract_version, "<version>");
    insta::assert_snapshot!("api_change_4_changelog", entry);
    // The check CI runs: the new contract needs this entry.
    let log = xtask::changelog::prepend(
        "# Changelog\n\n## 0.1.0 (contract x, fingerprint 0)\n",
        &xtask::changelog::entry(&report, &version),
    );
    assert!(xtask::changelog::check(&log, &report.fingerprint).is_ok());
    assert!(xtask::changelog::check(
        "# Changelog\n\n## 0.1.0 (contract x, fingerprint 0)\n",
        &report.fingerprint
    )
    .is_err());
}
