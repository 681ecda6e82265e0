//! [`ErrorReport`]: an error and every cause under it, on one line, for a service's logs.

use std::error::Error as _;
use std::fmt;

use super::BookWyrmClientError;

/// An error on one line: its message, then each cause in its
/// [`source`](std::error::Error::source) chain after `": "` (a cause whose text the line
/// already says is not repeated), then the request id and the attempts when known. From
/// [`BookWyrmClientError::report`]; `Display` of the error itself leaves the causes out, as
/// Rust's guidelines ask.
///
/// ```
/// # use bookwyrm::BookWyrmClientError;
/// let err = bookwyrm::AsyncBookWyrmClient::builder().base_url("ftp://x").build().unwrap_err();
/// assert_eq!(err.report().to_string(), "invalid `base_url`: not an http(s) URL: ftp://x");
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a report does nothing unless formatted"]
pub struct ErrorReport<'e> {
    error: &'e BookWyrmClientError,
    /// Whether the request id and the attempts follow the causes.
    call: bool,
}

impl<'e> ErrorReport<'e> {
    pub(super) fn new(error: &'e BookWyrmClientError) -> Self {
        Self { error, call: true }
    }

    /// The message and its causes alone, for a caller that says the request id and the
    /// attempts its own way (the CLI does).
    ///
    /// ```
    /// let err = bookwyrm::AsyncBookWyrmClient::builder().base_url("ftp://x").build().unwrap_err();
    /// assert_eq!(err.report().without_call().to_string(), "invalid `base_url`: not an http(s) URL: ftp://x");
    /// ```
    pub fn without_call(self) -> Self {
        Self {
            call: false,
            ..self
        }
    }
}

impl fmt::Display for ErrorReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.error.to_string();
        let mut cause = self.error.source();
        while let Some(c) = cause {
            let text = c.to_string();
            if !text.is_empty() && !line.contains(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = c.source();
        }
        f.write_str(&line)?;
        if !self.call {
            return Ok(());
        }
        match (self.error.request_id(), self.error.attempts()) {
            (Some(id), n) if n > 1 => write!(f, " (request {id}, {n} attempts)"),
            (Some(id), _) => write!(f, " (request {id})"),
            (None, n) if n > 1 => write!(f, " ({n} attempts)"),
            _ => Ok(()),
        }
    }
}
