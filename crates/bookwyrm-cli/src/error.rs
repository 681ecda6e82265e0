//! Exit codes and the one line printed for an error.

use bookwyrm::{BookWyrmClientError, TransportKind};

/// Success.
pub const EXIT_OK: u8 = 0;
/// The operation failed: API error, error event, invalid input file.
pub const EXIT_FAILED: u8 = 1;
/// Usage error (also what clap exits with).
pub const EXIT_USAGE: u8 = 2;
/// Authentication missing or rejected.
pub const EXIT_AUTH: u8 = 4;
/// Interrupted (Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Shown at the end of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success (also when stdout is closed early, e.g. by `| head`)
  1    the operation failed: API error, error event, invalid input file
  2    usage error
  4    authentication missing or rejected
  130  interrupted

Environment:
  BOOKWYRM_API_URL   base URL of the API (default https://api.bookwyrm.ai:443)
  BOOKWYRM_API_KEY   API key (never printed)
  BOOKWYRM_LOG       log filter for -v output, e.g. `bookwyrm=debug`";

/// Why the command stops.
#[derive(Debug)]
pub enum CliError {
    /// Print this line (and an optional hint), exit with this code.
    Message {
        code: u8,
        message: String,
        hint: Option<String>,
    },
    /// stdout was closed: exit 0 without a word.
    BrokenPipe,
}

impl CliError {
    pub fn failed(message: impl Into<String>) -> Self {
        Self::Message {
            code: EXIT_FAILED,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::Message {
            code: EXIT_USAGE,
            message: message.into(),
            hint: None,
        }
    }

    pub fn no_key() -> Self {
        Self::Message {
            code: EXIT_AUTH,
            message: "no API key: set BOOKWYRM_API_KEY or pass --api-key".into(),
            hint: None,
        }
    }

    pub fn stdout(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Self::BrokenPipe
        } else {
            Self::failed(format!("cannot write to stdout: {e}"))
        }
    }

    pub fn code(&self) -> u8 {
        match self {
            Self::Message { code, .. } => *code,
            Self::BrokenPipe => EXIT_OK,
        }
    }
}

impl From<BookWyrmClientError> for CliError {
    fn from(e: BookWyrmClientError) -> Self {
        let (code, hint) = match &e {
            BookWyrmClientError::Api(api) if matches!(api.status_code(), 401 | 403) => (
                EXIT_AUTH,
                Some("check the key in BOOKWYRM_API_KEY or --api-key".to_string()),
            ),
            BookWyrmClientError::Validation(_) => (EXIT_USAGE, None),
            BookWyrmClientError::Transport(t) if t.is_tls() => (
                EXIT_FAILED,
                Some(
                    "the server's certificate is not trusted here: if it is yours, trust its CA \
                     with --ca-cert FILE (or BOOKWYRM_CA_CERT, or SSL_CERT_FILE for all roots)"
                        .to_string(),
                ),
            ),
            BookWyrmClientError::Transport(t) if t.kind() == TransportKind::Connect => (
                EXIT_FAILED,
                Some("is the server reachable? (--base-url / BOOKWYRM_API_URL)".to_string()),
            ),
            _ => (EXIT_FAILED, None),
        };
        // The message and its causes (the SDK's report), then the request id as the CLI says it.
        let mut message = e.report().without_call().to_string();
        if let Some(id) = e.request_id() {
            message.push_str(&format!(" (request {id})"));
        }
        if let BookWyrmClientError::Api(api) = &e
            && api.attempts() > 1
        {
            message.push_str(&format!(" after {} attempts", api.attempts()));
        }
        Self::Message {
            code,
            message,
            hint,
        }
    }
}

/// The message of a validation error, without its field prefix.
pub fn validation_message(e: &BookWyrmClientError) -> String {
    match e {
        BookWyrmClientError::Validation(v) => v.message().to_string(),
        other => other.to_string(),
    }
}
