//! JSON Lines of text spans: what `phrasal` writes and `cite` / `summarize` read.
//!
//! Each non-blank line is an object with `text` (required), and `start_char` / `end_char` in
//! code points (optional: a missing `start_char` continues from the previous line's end, a
//! missing `end_char` is `start_char` plus the text's length). Other keys (such as `type`) are
//! ignored.

use crate::error::BookWyrmClientError;
use crate::types::TextSpan;

/// Parses JSON Lines of spans; a bad line is a validation error naming its number (1-based).
///
/// ```
/// let spans = bookwyrm::jsonl::parse_spans(
///     "{\"text\":\"Café.\",\"start_char\":0,\"end_char\":5}\n\n{\"text\":\"Next.\"}\n",
/// ).unwrap();
/// assert_eq!(spans.len(), 2);
/// assert_eq!((spans[1].start_char, spans[1].end_char), (5, 10));
///
/// let err = bookwyrm::jsonl::parse_spans("{\"text\": 1}").unwrap_err();
/// assert!(err.to_string().contains("line 1"));
/// ```
pub fn parse_spans(jsonl: &str) -> Result<Vec<TextSpan>, BookWyrmClientError> {
    let mut out: Vec<TextSpan> = Vec::new();
    for (n, line) in jsonl.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let fail = |msg: String| {
            BookWyrmClientError::validation("jsonl", format!("line {}: {msg}", n + 1))
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| fail(e.to_string()))?;
        let text = value
            .get("text")
            .and_then(|t| t.as_str())
            .ok_or_else(|| fail("no \"text\" string".into()))?
            .to_string();
        let offset = |key: &str| -> Result<Option<u64>, BookWyrmClientError> {
            match value.get(key) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(v) => v
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| fail(format!("\"{key}\" is not a non-negative integer"))),
            }
        };
        let start = offset("start_char")?.unwrap_or_else(|| out.last().map_or(0, |s| s.end_char));
        let end = offset("end_char")?.unwrap_or(start + text.chars().count() as u64);
        if end < start {
            return Err(fail(format!("end_char {end} is before start_char {start}")));
        }
        out.push(TextSpan {
            start_char: start,
            end_char: end,
            text,
        });
    }
    Ok(out)
}

/// Whether a text looks like JSON Lines of spans (every non-blank line an object with a
/// `text` string), as opposed to plain text.
///
/// ```
/// assert!(bookwyrm::jsonl::looks_like_spans("{\"text\":\"a\"}\n{\"text\":\"b\"}"));
/// assert!(!bookwyrm::jsonl::looks_like_spans("Just a story.\n"));
/// ```
pub fn looks_like_spans(text: &str) -> bool {
    let mut any = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        any = true;
        let ok = line.starts_with('{')
            && serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .is_some_and(|v| v.get("text").is_some_and(|t| t.is_string()));
        if !ok {
            return false;
        }
    }
    any
}
