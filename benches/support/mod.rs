//! What the plain bench binaries share: the release binaries, and an emulator in a process of
//! its own.
#![allow(dead_code)] // each bench uses part of it

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `target/release`, the folder above this bench's `deps/`.
pub fn release_dir() -> PathBuf {
    let me = std::env::current_exe().expect("own path");
    me.parent()
        .and_then(Path::parent)
        .expect("target/release/deps")
        .to_path_buf()
}

pub fn build_binaries() {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "bookwyrm-emulator",
            "-p",
            "bookwyrm-cli",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo build");
    assert!(status.success(), "building the emulator and CLI failed");
}

/// An emulator in another process.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    pub fn start(release: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(release.join("bookwyrm-emulator"))
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the emulator");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("emulator URL");
        Self {
            child,
            url: line.trim().to_string(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
