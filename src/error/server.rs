//! The server's error events, normalised across operations.

use std::fmt;

/// A server error event, normalised across operations (their payloads name the message
/// differently: `error_message`, `error`, `message`).
///
/// ```
/// # use bookwyrm::ServerError;
/// let e = ServerError::new("error", "model overloaded", Some("overload".into()), true);
/// assert_eq!(e.message(), "model overloaded");
/// assert!(e.recoverable());
/// ```
#[derive(Debug, Clone)]
pub struct ServerError {
    event: String,
    message: String,
    error_type: Option<String>,
    recoverable: bool,
    /// The stream's request id and attempts (not part of equality).
    pub(crate) info: super::CallInfo,
}

impl PartialEq for ServerError {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.event,
            &self.message,
            &self.error_type,
            self.recoverable,
        ) == (
            &other.event,
            &other.message,
            &other.error_type,
            other.recoverable,
        )
    }
}

impl Eq for ServerError {}

impl ServerError {
    /// A server error.
    ///
    /// ```
    /// let e = bookwyrm::ServerError::new("error", "m", None, false);
    /// assert_eq!(e.event(), "error");
    /// ```
    pub fn new(
        event: impl Into<String>,
        message: impl Into<String>,
        error_type: Option<String>,
        recoverable: bool,
    ) -> Self {
        Self {
            event: event.into(),
            message: message.into(),
            error_type,
            recoverable,
            info: super::CallInfo::default(),
        }
    }

    /// The SSE event name (`error`).
    ///
    /// ```
    /// assert_eq!(bookwyrm::ServerError::new("error", "m", None, false).event(), "error");
    /// ```
    pub fn event(&self) -> &str {
        &self.event
    }

    /// What went wrong.
    ///
    /// ```
    /// assert_eq!(bookwyrm::ServerError::new("error", "m", None, false).message(), "m");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The server's kind of failure, when given.
    ///
    /// ```
    /// assert_eq!(bookwyrm::ServerError::new("error", "m", Some("t".into()), false).error_type(), Some("t"));
    /// ```
    pub fn error_type(&self) -> Option<&str> {
        self.error_type.as_deref()
    }

    /// Whether the server says the stream goes on after it.
    ///
    /// ```
    /// assert!(!bookwyrm::ServerError::new("error", "m", None, false).recoverable());
    /// ```
    pub fn recoverable(&self) -> bool {
        self.recoverable
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.error_type {
            Some(t) => write!(f, "the server reported an error ({t}): {}", self.message),
            None => write!(f, "the server reported an error: {}", self.message),
        }
    }
}
