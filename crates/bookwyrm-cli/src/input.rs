//! Reading inputs: a file, `-` for stdin, or a URL.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::error::CliError;

/// Largest input read from stdin or downloaded.
const MAX_INPUT: u64 = 256 << 20;

/// A command's input arguments: the positional argument, `--file` or `--url` (standard input
/// when none is named). Flattened into every command that reads one input; each command words
/// the help of `input` and `url` for what it reads (`mut_arg`).
#[derive(Debug, clap::Args)]
#[group(id = "source", multiple = true)]
pub struct SourceArgs {
    /// The input file, or `-` for standard input (the default when nothing is named).
    pub input: Option<String>,
    /// A URL the server fetches the input from.
    #[arg(long)]
    pub url: Option<String>,
    /// The input file (same as the positional argument).
    #[arg(short, long)]
    pub file: Option<String>,
}

impl SourceArgs {
    /// The one input given (see [`one_source`]), the positional argument named `what`.
    pub fn one(&self, what: &str) -> Result<Source<'_>, CliError> {
        one_source(
            what,
            self.input.as_deref(),
            self.file.as_deref(),
            self.url.as_deref(),
        )
    }

    /// The one input of a command whose positional argument is a file (see [`path_or_url`]).
    pub fn path_or_url(&self) -> Result<Input<'_>, CliError> {
        path_or_url(
            self.input.as_deref(),
            self.file.as_deref(),
            self.url.as_deref(),
        )
    }

    /// The input as named in an output document: the path or the URL.
    pub fn named(&self) -> Option<&str> {
        self.input
            .as_deref()
            .or(self.file.as_deref())
            .or(self.url.as_deref())
    }
}

/// Where a command's one input comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// The positional argument (a path, text or `-`, depending on the command).
    Positional(&'a str),
    /// `--file`.
    File(&'a str),
    /// `--url`.
    Url(&'a str),
    /// Nothing named, and standard input is not a terminal: read it.
    Stdin,
}

/// The one input given, of `positional` (named `what` in messages), `--file` and `--url`.
/// With none, standard input when it is not a terminal (as the reference CLI does); more than
/// one is a usage error naming them.
fn one_source<'a>(
    what: &str,
    positional: Option<&'a str>,
    file: Option<&'a str>,
    url: Option<&'a str>,
) -> Result<Source<'a>, CliError> {
    use std::io::IsTerminal;
    let given: Vec<(String, Source<'a>)> = [
        positional.map(|p| (format!("{what} `{p}`"), Source::Positional(p))),
        file.map(|f| (format!("--file `{f}`"), Source::File(f))),
        url.map(|u| (format!("--url `{u}`"), Source::Url(u))),
    ]
    .into_iter()
    .flatten()
    .collect();
    match given.as_slice() {
        [(_, one)] => Ok(*one),
        [] if !std::io::stdin().is_terminal() => Ok(Source::Stdin),
        [] => Err(CliError::usage(format!(
            "no input: give {what}, --file or --url, or pipe it on standard input"
        ))),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            Err(CliError::usage(format!(
                "only one input may be given, but {} were: {}",
                names.len(),
                names.join(" and ")
            )))
        }
    }
}

/// The one input of a command whose positional argument is a file: a path (`-` for standard
/// input, also when nothing is named) or a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A file, or `-` for standard input.
    Path(&'a str),
    /// A URL.
    Url(&'a str),
}

/// [`one_source`] for commands whose positional argument is a file.
fn path_or_url<'a>(
    positional: Option<&'a str>,
    file: Option<&'a str>,
    url: Option<&'a str>,
) -> Result<Input<'a>, CliError> {
    Ok(match one_source("a file", positional, file, url)? {
        Source::Positional(path) | Source::File(path) => Input::Path(path),
        Source::Stdin => Input::Path("-"),
        Source::Url(url) => Input::Url(url),
    })
}

/// The file name of a path, for the server's hint (none for standard input).
pub fn file_name(path: &str) -> Option<String> {
    (path != "-")
        .then(|| Path::new(path).file_name())
        .flatten()
        .map(|n| n.to_string_lossy().into_owned())
}

/// Reads a file, or stdin for `-`, as bytes; empty stdin is an error ("no content").
pub fn read_bytes(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_end(&mut buf)
            .map_err(|e| CliError::failed(format!("cannot read stdin: {e}")))?;
        if buf.is_empty() {
            return Err(CliError::failed("no content on standard input"));
        }
        return Ok(buf);
    }
    std::fs::read(Path::new(path)).map_err(|e| CliError::failed(format!("cannot read {path}: {e}")))
}

/// Reads a file, or stdin for `-`, as UTF-8 text.
pub fn read_text(path: &str) -> Result<String, CliError> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|e| {
        CliError::failed(format!(
            "{} is not UTF-8 text (invalid byte at {})",
            if path == "-" { "stdin" } else { path },
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Downloads a URL (for commands the API takes as bytes), with a timeout and a size cap.
pub async fn download(url: &str, timeout: Option<Duration>) -> Result<Vec<u8>, CliError> {
    let fail = |e: String| CliError::failed(format!("cannot download {url}: {e}"));
    let client = reqwest::Client::builder()
        .timeout(timeout.unwrap_or(Duration::from_secs(120)))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("status {}", response.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        if body.len() as u64 + chunk.len() as u64 > MAX_INPUT {
            return Err(fail(format!("larger than {MAX_INPUT} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The last path segment of a URL, when it looks like a file name.
pub fn url_file_name(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let last = path.rsplit('/').next()?;
    (last.contains('.') && !last.is_empty()).then(|| last.to_string())
}

/// Reads JSON Lines of spans from a file (or stdin); a bad line names the file and the line.
pub fn read_spans(path: &str) -> Result<Vec<bookwyrm::types::TextSpan>, CliError> {
    parse_spans_of(path, &read_text(path)?)
}

/// Parses JSON Lines of spans read from `path`.
pub fn parse_spans_of(path: &str, text: &str) -> Result<Vec<bookwyrm::types::TextSpan>, CliError> {
    bookwyrm::jsonl::parse_spans(text)
        .map_err(|e| CliError::failed(format!("{path}: {}", crate::error::validation_message(&e))))
}
