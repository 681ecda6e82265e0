//! CI's changelog rule: a contract change needs a CHANGELOG.md entry naming it.

/// The newest CHANGELOG.md entry names the contract this SDK is built from (its fingerprint):
/// a change to `openapi/bookwyrm.yaml` without a new entry fails here.
#[test]
fn the_newest_changelog_entry_names_this_contract() {
    let changelog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../CHANGELOG.md"))
            .expect("CHANGELOG.md");
    let fingerprint = bookwyrm_contract::Provenance::of_sdk().fingerprint;
    if let Err(e) = xtask::changelog::check(&changelog, &fingerprint) {
        panic!("{e}");
    }
}

/// An entry for another contract fails the check, naming both fingerprints.
#[test]
fn an_entry_for_another_contract_fails() {
    let err = xtask::changelog::check(
        "# Changelog\n\n## 0.2.0 (contract x, fingerprint 0000000000000000)\n\n## 0.1.0 (contract y, fingerprint 45b794a5953cf19c)\n",
        "45b794a5953cf19c",
    )
    .unwrap_err();
    assert!(
        err.contains("names contract fingerprint 0000000000000000"),
        "{err}"
    );
    assert!(xtask::changelog::check("# Changelog\n", "45b794a5953cf19c").is_err());
}
