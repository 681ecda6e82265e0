//! Reading inputs: a file, `-` for stdin, or a URL.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::error::CliError;

/// Largest input read from stdin or downloaded.
const MAX_INPUT: u64 = 256 << 20;

/// Reads a file, or stdin for `-`, as bytes.
pub fn read_bytes(path: &str) -> Result<Vec<u8>, CliError> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .take(MAX_INPUT)
            .read_to_end(&mut buf)
            .map_err(|e| CliError::failed(format!("cannot read stdin: {e}")))?;
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
