//! Where results go: stdout (a closed pipe ends the program quietly), the `-o` file, and
//! simple aligned tables for people.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::CliError;

/// The program's standard output, buffered; a closed pipe becomes [`CliError::BrokenPipe`].
///
/// Lines are buffered, not flushed one by one: whoever waits for more input (the network)
/// calls [`flush`](Self::flush) first, so a line reaches a pipe or a terminal as soon as the
/// program has nothing more to write at once, without a system call per line.
pub struct Stdout {
    out: BufWriter<io::Stdout>,
}

impl Stdout {
    pub fn new() -> Self {
        Self {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
        }
    }

    /// Writes one line.
    pub fn line(&mut self, text: impl AsRef<str>) -> Result<(), CliError> {
        writeln!(self.out, "{}", text.as_ref()).map_err(CliError::stdout)
    }

    /// Writes one JSON value on one line.
    pub fn json_line(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| {
            if e.is_io() {
                CliError::stdout(io::Error::from(e))
            } else {
                CliError::failed(format!("could not write JSON: {e}"))
            }
        })?;
        self.out.write_all(b"\n").map_err(CliError::stdout)
    }

    /// Writes a JSON document, pretty-printed.
    pub fn json_document(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::failed(format!("could not write JSON: {e}")))?;
        self.line(text)
    }

    pub fn flush(&mut self) -> Result<(), CliError> {
        self.out.flush().map_err(CliError::stdout)
    }
}

/// The `-o` file: truncated when opened, unless `--append`.
pub struct OutputFile {
    path: PathBuf,
    file: BufWriter<File>,
}

impl OutputFile {
    pub fn create(path: &Path, append: bool) -> Result<Self, CliError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
        Ok(Self {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn fail(&self, e: impl std::fmt::Display) -> CliError {
        CliError::failed(format!("cannot write {}: {e}", self.path.display()))
    }

    /// Writes one JSON value on one line and flushes (a stream's results are on disk as they
    /// arrive).
    pub fn json_line(&mut self, value: &impl serde::Serialize) -> Result<(), CliError> {
        serde_json::to_writer(&mut self.file, value).map_err(|e| self.fail(e))?;
        self.file.write_all(b"\n").map_err(|e| self.fail(e))?;
        self.file.flush().map_err(|e| self.fail(e))
    }

    /// Writes a JSON document.
    pub fn json_document(mut self, value: &impl serde::Serialize) -> Result<PathBuf, CliError> {
        serde_json::to_writer_pretty(&mut self.file, value).map_err(|e| self.fail(e))?;
        self.file.write_all(b"\n").map_err(|e| self.fail(e))?;
        self.file.flush().map_err(|e| self.fail(e))?;
        Ok(self.path)
    }

    /// Writes text as is.
    pub fn text(mut self, text: &str) -> Result<PathBuf, CliError> {
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| self.fail(e))?;
        self.file.flush().map_err(|e| self.fail(e))?;
        Ok(self.path)
    }
}

/// Text cut to `max` characters, with `…` when cut; line breaks become spaces.
pub fn clip(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

/// A table with a header row, columns padded to their widest cell; lines are rendered as they
/// are taken (a long table is not built twice in memory).
pub fn table<'a>(
    header: &'a [&'a str],
    rows: &'a [Vec<String>],
) -> impl Iterator<Item = String> + 'a {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
    }
    let rule = widths
        .iter()
        .map(|w| "-".repeat(*w))
        .collect::<Vec<_>>()
        .join("  ");
    let render = move |cells: &[String]| {
        let line: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = widths[i].saturating_sub(c.chars().count());
                if i + 1 == cells.len() {
                    c.clone()
                } else {
                    format!("{c}{}", " ".repeat(pad))
                }
            })
            .collect();
        line.join("  ")
    };
    let head = render(&header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    [head, rule]
        .into_iter()
        .chain(rows.iter().map(move |r| render(r)))
}
