//! Where results go: stdout (a closed pipe ends the program quietly), the `-o` file, and
//! simple aligned tables for people.

use std::fmt;
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

/// Text cut to `max` characters, with `…` when cut; runs of whitespace (line breaks
/// included) become one space.
pub fn clip(text: &str, max: usize) -> String {
    Clip(text, max).to_string()
}

/// [`clip`] as a [`Display`](fmt::Display): writes the clipped text without building the
/// flattened whole (a table cell of a long text costs what the cell shows).
#[derive(Debug, Clone, Copy)]
pub struct Clip<'a>(pub &'a str, pub usize);

impl fmt::Display for Clip<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Clip(text, max) = *self;
        // Already flat and short enough (ASCII, single spaces between words, no space at either
        // end): as it is, in one write. Most cells of a long table are.
        let bytes = text.as_bytes();
        if bytes.len() <= max
            && text.is_ascii()
            && !bytes.iter().any(|b| matches!(b, b'\t'..=b'\r')) // tab, line breaks, VT, FF
            && bytes.first() != Some(&b' ')
            && bytes.last() != Some(&b' ')
            && !bytes.windows(2).any(|w| w == b"  ")
        {
            return f.write_str(text);
        }
        // The flattened length, counted only as far as needed to know if it exceeds `max`.
        let mut len = 0usize;
        for (i, word) in text.split_whitespace().enumerate() {
            len += usize::from(i > 0) + word.chars().count();
            if len > max {
                break;
            }
        }
        let keep = if len > max {
            max.saturating_sub(1)
        } else {
            max
        };
        let mut left = keep;
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                if left == 0 {
                    break;
                }
                f.write_str(" ")?;
                left -= 1;
            }
            match word.char_indices().nth(left) {
                None => {
                    f.write_str(word)?;
                    left -= word.chars().count();
                }
                Some((cut, _)) => {
                    f.write_str(&word[..cut])?;
                    break;
                }
            }
        }
        if len > max {
            f.write_str("…")?;
        }
        Ok(())
    }
}

/// A table with a header row, columns padded to their widest cell, for people.
///
/// Rows are kept as their rendered cells in one buffer (no allocation per cell) and the
/// column widths are updated as rows arrive, so a table of many rows costs little more than
/// its text.
pub struct Table {
    widths: Vec<usize>,
    /// Every cell's text, header first, one after the other.
    text: String,
    /// Where each cell ends in `text`; `widths.len()` cells per row.
    ends: Vec<usize>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        let mut table = Self {
            widths: vec![0; header.len()],
            text: String::new(),
            ends: Vec::new(),
        };
        let cells: Vec<&dyn fmt::Display> = header.iter().map(|h| h as &dyn fmt::Display).collect();
        table.row(&cells);
        table
    }

    /// Adds a row; missing cells are empty, extra cells are ignored.
    pub fn row(&mut self, cells: &[&dyn fmt::Display]) {
        use fmt::Write as _;
        for (i, width) in self.widths.iter_mut().enumerate() {
            let start = self.text.len();
            if let Some(cell) = cells.get(i) {
                // Writing to a String cannot fail.
                let _ = write!(self.text, "{cell}");
            }
            *width = (*width).max(self.text[start..].chars().count());
            self.ends.push(self.text.len());
        }
    }

    /// Writes the header, a rule under it and every row to stdout.
    pub fn print(&self, out: &mut Stdout) -> Result<(), CliError> {
        self.lines(|line| out.line(line))
    }

    /// Renders the table line by line into one reused buffer.
    fn lines<E>(&self, mut emit: impl FnMut(&str) -> Result<(), E>) -> Result<(), E> {
        let columns = self.widths.len();
        if columns == 0 {
            return Ok(());
        }
        let mut line = String::new();
        let mut start = 0;
        for (n, row) in self.ends.chunks(columns).enumerate() {
            line.clear();
            for (i, &end) in row.iter().enumerate() {
                let cell = &self.text[start..end];
                start = end;
                line.push_str(cell);
                if i + 1 < columns {
                    let pad = self.widths[i].saturating_sub(cell.chars().count());
                    line.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            emit(&line)?;
            if n == 0 {
                let rule: Vec<String> = self.widths.iter().map(|w| "-".repeat(*w)).collect();
                emit(&rule.join("  "))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_flattens_whitespace_and_cuts_at_characters() {
        assert_eq!(clip("a  b\n\tc", 10), "a b c");
        assert_eq!(clip("  lead and trail  ", 20), "lead and trail");
        assert_eq!(clip("exactly", 7), "exactly");
        assert_eq!(clip("exactly8", 7), "exactl…");
        assert_eq!(clip("ab cd", 5), "ab cd");
        assert_eq!(clip("ab cde", 5), "ab c…");
        assert_eq!(clip("ab cd ef", 3), "ab…");
        assert_eq!(clip("ab cd", 4), "ab …");
        assert_eq!(clip("éèê àâ", 4), "éèê…");
        assert_eq!(clip("x", 0), "…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("   ", 3), "");
        assert_eq!(clip("a\x0bb\x0c c\r", 9), "a b c");
        assert_eq!(clip(" a", 9), "a");
        // ASCII text, which may be written as it is, against the plain definition.
        for text in ["ab cd", "ab  cd", "ab cd ", "ab\tcd", "abcd"] {
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for max in flat.len()..flat.len() + 3 {
                assert_eq!(clip(text, max), flat, "{text:?} in {max}");
            }
        }
        // Against the plain definition, on every length.
        let text = "Nuñez  walked\n into the valley, where — it is said — no one sees.";
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for max in 0..flat.chars().count() + 3 {
            let want = if flat.chars().count() <= max {
                flat.clone()
            } else {
                let mut s: String = flat.chars().take(max.saturating_sub(1)).collect();
                s.push('…');
                s
            };
            assert_eq!(clip(text, max), want, "max {max}");
        }
    }

    #[test]
    fn a_table_pads_every_column_but_the_last_to_its_widest_cell() {
        let mut t = Table::new(&["#", "Chars", "Text"]);
        t.row(&[&1, &"0-12", &"Nuñez walked"]);
        t.row(&[
            &10,
            &format_args!("{}-{}", 13, 2),
            &Clip("into  the valley", 8),
        ]);
        t.row(&[&"only one"]);
        let mut lines = Vec::new();
        t.lines(|l| {
            lines.push(l.to_string());
            Ok::<_, ()>(())
        })
        .unwrap();
        assert_eq!(
            lines,
            [
                "#         Chars  Text",
                "--------  -----  ------------",
                "1         0-12   Nuñez walked",
                "10        13-2   into th…",
                "only one         ",
            ]
        );
    }
}
