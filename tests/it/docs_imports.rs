//! The examples use only what the README promises: `bookwyrm::StreamExt` for stream methods,
//! never another crate's `StreamExt` (a reader who copies an example must not need a
//! dependency the README says they do not need).

use std::path::Path;

/// Every Rust file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn examples_import_stream_ext_from_bookwyrm() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("examples"), &mut files);
    files.push(root.join("README.md"));
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let is_example = file.starts_with(root.join("examples"));
        let in_readme = file.ends_with("README.md");
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_start();
            // Doc comments in src/, every line of an example or of the README.
            let doc = line.starts_with("///") || line.starts_with("//!");
            if !(doc || is_example || in_readme) {
                continue;
            }
            for other in [
                "futures_util::StreamExt",
                "futures::StreamExt",
                "futures::stream::StreamExt",
                "futures_util::stream::StreamExt",
            ] {
                if line.contains(other) {
                    offenders.push(format!("{}:{}: {line}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use bookwyrm::StreamExt instead:\n{}",
        offenders.join("\n")
    );
    assert!(files.len() > 20, "the scan found the sources");
}
