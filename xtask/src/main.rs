//! `cargo xtask`: see the crate documentation (`xtask/src/lib.rs`).

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask api-diff [--base REV] [--changelog] [--version V]

  Compares the working tree's openapi/bookwyrm.yaml with the one at REV (default HEAD):
  wire changes, public Rust API changes of the regenerated code, cargo semver-checks when
  installed, and the version bump they call for. --changelog writes the entry at the top of
  CHANGELOG.md (for version V, default the proposed one).

       cargo xtask changelog-check
  Fails when the newest CHANGELOG.md entry does not name the contract's fingerprint.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("api-diff") => api_diff(&args[1..]),
        Some("changelog-check") => changelog_check(),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default()
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(root().join(path)).map_err(|e| format!("cannot read {path}: {e}"))
}

fn api_diff(args: &[String]) -> Result<(), String> {
    let mut base = "HEAD".to_string();
    let mut write_changelog = false;
    let mut version = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--base" => base = it.next().ok_or(USAGE)?.clone(),
            "--changelog" => write_changelog = true,
            "--version" => version = Some(it.next().ok_or(USAGE)?.clone()),
            _ => return Err(USAGE.into()),
        }
    }
    let spec = "openapi/bookwyrm.yaml";
    let shown = Command::new("git")
        .args(["show", &format!("{base}:{spec}")])
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !shown.status.success() {
        return Err(format!(
            "git show {base}:{spec}: {}",
            String::from_utf8_lossy(&shown.stderr).trim()
        ));
    }
    let base_text = String::from_utf8_lossy(&shown.stdout).into_owned();
    let new_text = read(spec)?;
    let report = xtask::Report::new(&base_text, &new_text)?;
    // The workspace's version: this crate shares it (`version.workspace = true`).
    let current = env!("CARGO_PKG_VERSION");
    print!("{}", report.render(current));
    semver_checks(&base);
    if write_changelog {
        let version = match version {
            Some(v) => v,
            None => report.next_version(current)?,
        };
        let path = root().join("CHANGELOG.md");
        let before = std::fs::read_to_string(&path).unwrap_or_default();
        let after = xtask::changelog::prepend(&before, &xtask::changelog::entry(&report, &version));
        std::fs::write(&path, after).map_err(|e| format!("cannot write CHANGELOG.md: {e}"))?;
        println!("CHANGELOG.md: entry {version} written; set the workspace version to {version} in Cargo.toml");
    }
    Ok(())
}

/// `cargo semver-checks` against the base revision, when it is installed.
fn semver_checks(base: &str) {
    let installed = Command::new("cargo")
        .args(["semver-checks", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        println!(
            "cargo semver-checks: not installed (cargo install cargo-semver-checks --locked); \
             note that it does not see field type changes, which the Rust report above does"
        );
        return;
    }
    println!("cargo semver-checks --baseline-rev {base} -p bookwyrm:");
    let status = Command::new("cargo")
        .args(["semver-checks", "-p", "bookwyrm", "--baseline-rev", base])
        .current_dir(root())
        .status();
    if !status.is_ok_and(|s| s.success()) {
        println!("cargo semver-checks: reported breaking changes (above)");
    }
}

fn changelog_check() -> Result<(), String> {
    let fingerprint = bookwyrm_contract::Provenance::of_sdk().fingerprint;
    xtask::changelog::check(&read("CHANGELOG.md")?, &fingerprint)?;
    println!("CHANGELOG.md names contract fingerprint {fingerprint}");
    Ok(())
}
