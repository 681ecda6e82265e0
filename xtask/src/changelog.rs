//! `CHANGELOG.md`: one entry per release, newest first, each naming the contract it was
//! generated from (`contract <info.version>, fingerprint <hex>`), so that a contract changed
//! without an entry is caught ([`check`]).

use bookwyrm_contract::ChangeKind;

use crate::{Level, Report};

/// The title line of the changelog.
pub const TITLE: &str = "# Changelog";

/// The entry for `version`: Breaking, Changed and Added, each line naming a JSON pointer (wire)
/// or a Rust path.
///
/// ```
/// let report = xtask::Report { wire: vec![], rust: vec![], fingerprint: "00ff".into(), contract_version: "v1".into() };
/// let entry = xtask::changelog::entry(&report, "0.1.1");
/// assert!(entry.starts_with("## 0.1.1 (contract v1, fingerprint 00ff)"));
/// ```
pub fn entry(report: &Report, version: &str) -> String {
    let mut breaking = Vec::new();
    let mut changed = Vec::new();
    let mut added = Vec::new();
    for c in &report.wire {
        let line = format!("- wire `{}`: {}", c.pointer, c.description);
        match c.kind {
            ChangeKind::Breaking => breaking.push(line),
            ChangeKind::Additive => added.push(line),
            _ => changed.push(line),
        }
    }
    for c in &report.rust {
        let line = format!("- Rust `{}`: {}", c.path, c.description);
        match c.level {
            Level::Breaking => breaking.push(line),
            Level::Added => added.push(line),
        }
    }
    let mut out = format!(
        "## {version} (contract {}, fingerprint {})\n",
        report.contract_version, report.fingerprint
    );
    for (title, lines) in [
        ("Breaking", breaking),
        ("Changed", changed),
        ("Added", added),
    ] {
        if !lines.is_empty() {
            out.push_str(&format!("\n### {title}\n\n{}\n", lines.join("\n")));
        }
    }
    out
}

/// `changelog` with `entry` as its newest entry.
pub fn prepend(changelog: &str, entry: &str) -> String {
    let body = changelog
        .strip_prefix(TITLE)
        .unwrap_or(changelog)
        .trim_start_matches('\n');
    format!("{TITLE}\n\n{}\n{body}", entry.trim_end())
        .trim_end()
        .to_string()
        + "\n"
}

/// Whether the newest entry of `changelog` names the contract with `fingerprint`; the error
/// says what to do.
///
/// ```
/// let log = "# Changelog\n\n## 0.1.0 (contract v1, fingerprint 00ff)\n";
/// assert!(xtask::changelog::check(log, "00ff").is_ok());
/// assert!(xtask::changelog::check(log, "abcd").is_err());
/// ```
pub fn check(changelog: &str, fingerprint: &str) -> Result<(), String> {
    let newest = changelog
        .lines()
        .find(|l| l.starts_with("## "))
        .ok_or("CHANGELOG.md has no entry")?;
    let named = newest
        .split("fingerprint ")
        .nth(1)
        .map(|rest| rest.trim_end_matches(')').trim());
    if named == Some(fingerprint) {
        return Ok(());
    }
    Err(format!(
        "openapi/bookwyrm.yaml changed since the last CHANGELOG.md entry (it names contract \
         fingerprint {}, the contract's is {fingerprint}): run `cargo xtask api-diff --base <the \
         last release> --changelog` and review the entry",
        named.unwrap_or("none")
    ))
}
