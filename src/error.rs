//! The one error type of the crate, [`BookWyrmClientError`], and the contexts it carries.
//!
//! `BookWyrmClientError` is the base of the hierarchy (Python's `BookWyrmClientError`); its
//! [`Api`](BookWyrmClientError::Api) variant carries a [`BookWyrmApiError`] (Python's
//! `BookWyrmAPIError`): the server answered with a non-2xx status.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

mod ended;
mod interrupted;
mod report;
mod server;
pub use ended::{CancelledError, ClosedError};
pub use interrupted::{InterruptReason, Interrupted, ResumePoint};
pub use report::ErrorReport;
pub use server::ServerError;

/// "event" or "events", for a count of `n` events in a message.
fn events(n: u64) -> &'static str {
    if n == 1 {
        "event"
    } else {
        "events"
    }
}

/// A boxed error source.
pub(crate) type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where a call had got to when an error happened: the request id of the response whose head
/// had arrived, and how many attempts were made.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallInfo {
    pub(crate) request_id: Option<String>,
    pub(crate) attempts: u32,
}

impl CallInfo {
    /// Fills what is not known yet.
    fn fill(&mut self, request_id: Option<&str>, attempts: u32) {
        if self.request_id.is_none() {
            self.request_id = request_id.map(str::to_string);
        }
        if self.attempts == 0 {
            self.attempts = attempts;
        }
    }
}

/// Every way a call to the BookWyrm API can fail.
///
/// `Display` is one readable sentence without the underlying cause; the cause is chained through
/// [`std::error::Error::source`].
///
/// ```
/// use bookwyrm::BookWyrmClientError;
///
/// fn explain(err: &BookWyrmClientError) -> String {
///     match err {
///         BookWyrmClientError::Api(api) => format!("server said {}: {}", api.status_code(), api.message()),
///         BookWyrmClientError::Validation(v) => format!("bad input in `{}`", v.field()),
///         other if other.is_retryable() => format!("transient: {other}"),
///         other => other.to_string(),
///     }
/// }
/// # let _ = explain;
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum BookWyrmClientError {
    /// The request was rejected before any I/O because an input is invalid.
    Validation(ValidationError),
    /// The server answered with a non-2xx status.
    Api(Box<BookWyrmApiError>),
    /// The connection could not be made or broke (DNS, connect, TLS, reset).
    Transport(TransportError),
    /// A deadline passed (connect, idle between bytes of a stream, or total).
    Timeout(TimeoutError),
    /// The server's answer could not be decoded; the raw payload is kept.
    Decode(DecodeError),
    /// The stream carried a server error event (only from [`crate::EventStream::errors_as_err`]).
    ServerEvent(Box<ServerError>),
    /// A stream broke after some of its events and did not go on by itself (see
    /// [`ResumePolicy`](crate::ResumePolicy)): what was delivered, where it stopped, and the
    /// error that broke it as its [`cause`](crate::Interrupted::cause).
    Interrupted(Box<Interrupted>),
    /// The client was closed: before the call ([`crate::AsyncBookWyrmClient::close`]), or
    /// while it was in flight ([`crate::AsyncBookWyrmClient::close_now`]; then with the
    /// call's request id and attempts).
    Closed(ClosedError),
    /// One stream was ended by its caller through its [`crate::StreamCanceller`], with the
    /// caller's reason.
    Cancelled(Box<CancelledError>),
    /// The blocking client was called inside an async runtime, where blocking would stall the
    /// runtime's thread: use [`crate::AsyncBookWyrmClient`] there (feature `blocking`).
    #[cfg(feature = "blocking")]
    BlockingInAsyncContext,
}

impl BookWyrmClientError {
    /// The HTTP status code, when the server answered with one.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert_eq!(BookWyrmClientError::Closed(Default::default()).status_code(), None);
    /// ```
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.status_code()),
            Self::Interrupted(e) => e.cause.status_code(),
            _ => None,
        }
    }

    /// Whether trying the same call again may succeed: transport failures other than TLS,
    /// timeouts, statuses 408, 409, 429 and 5xx, and server error events marked recoverable.
    ///
    /// This is advice to the caller. The client itself already retries a subset of these,
    /// within its [`RetryPolicy`](crate::RetryPolicy) and, for a stream, only before its first
    /// event: connection failures, connect timeouts and statuses 408, 429, 500, 502, 503, 504.
    /// It leaves to the caller what a repeat could make worse or what the caller's own deadline
    /// decided: 409 (the server's state conflicts), other 5xx, total and idle timeouts, and
    /// recoverable server events (the stream goes on after them). Both come from one
    /// classification, so an error the client retried is always one this method calls
    /// retryable.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert!(!BookWyrmClientError::Closed(Default::default()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.retry_class() != RetryClass::Never
    }

    /// The one classification behind [`is_retryable`](Self::is_retryable) and the client's
    /// automatic retries (`retry::decide`).
    pub(crate) fn retry_class(&self) -> RetryClass {
        match self {
            Self::Api(e) => RetryClass::of_status(e.status_code()),
            // A certificate or handshake failure does not heal by trying again.
            Self::Transport(t) if t.is_tls() || t.kind() == TransportKind::TooLarge => {
                RetryClass::Never
            }
            Self::Transport(_) => RetryClass::Automatic,
            Self::Timeout(t) if t.kind() == TimeoutKind::Connect => RetryClass::Automatic,
            Self::Timeout(_) => RetryClass::ByCaller,
            Self::ServerEvent(e) if e.recoverable() => RetryClass::ByCaller,
            // The caller can resume it from its resume point.
            Self::Interrupted(_) => RetryClass::ByCaller,
            Self::ServerEvent(_)
            | Self::Validation(_)
            | Self::Decode(_)
            | Self::Closed(_)
            | Self::Cancelled(_) => RetryClass::Never,
            #[cfg(feature = "blocking")]
            Self::BlockingInAsyncContext => RetryClass::Never,
        }
    }

    /// Whether this is a timeout.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert!(!BookWyrmClientError::Closed(Default::default()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether TLS failed: the server's certificate was not trusted (unknown issuer, expired,
    /// issued for another name) or the handshake failed. Never retried; see
    /// [`ClientBuilder::add_root_certificate`](crate::ClientBuilder::add_root_certificate) to
    /// trust a private CA.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert!(!BookWyrmClientError::Closed(Default::default()).is_tls());
    /// ```
    pub fn is_tls(&self) -> bool {
        matches!(self, Self::Transport(t) if t.is_tls())
    }

    /// The request id the server gave, when known.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert_eq!(BookWyrmClientError::Closed(Default::default()).request_id(), None);
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.request_id(),
            Self::Transport(e) => e.info.request_id.as_deref(),
            Self::Timeout(e) => e.info.request_id.as_deref(),
            Self::Decode(e) => e.info.request_id.as_deref(),
            Self::ServerEvent(e) => e.info.request_id.as_deref(),
            Self::Interrupted(e) => e.cause.request_id(),
            Self::Closed(e) => e.info.request_id.as_deref(),
            Self::Cancelled(e) => e.info.request_id.as_deref(),
            Self::Validation(_) => None,
            #[cfg(feature = "blocking")]
            Self::BlockingInAsyncContext => None,
        }
    }

    /// How many attempts the call made before this error (retries included): 0 when it
    /// failed before any request was sent (validation, a closed client).
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// # fn f(e: &BookWyrmClientError) {
    /// eprintln!("{e} (request {:?}, {} attempts)", e.request_id(), e.attempts());
    /// # }
    /// assert_eq!(BookWyrmClientError::Closed(Default::default()).attempts(), 0);
    /// ```
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Api(e) => e.attempts(),
            Self::Transport(e) => e.info.attempts,
            Self::Timeout(e) => e.info.attempts,
            Self::Decode(e) => e.info.attempts,
            Self::ServerEvent(e) => e.info.attempts,
            Self::Interrupted(e) => e.cause.attempts(),
            Self::Closed(e) => e.info.attempts,
            Self::Cancelled(e) => e.info.attempts,
            Self::Validation(_) => 0,
            #[cfg(feature = "blocking")]
            Self::BlockingInAsyncContext => 0,
        }
    }

    /// Whether a stream ends after this error item. `false` only for an item the stream goes
    /// on after: a malformed event (a [`Decode`](Self::Decode) error of one event's data) and
    /// a server error event turned into an error by
    /// [`errors_as_err`](crate::EventStream::errors_as_err) (the server decides whether more
    /// comes). Everything else (a broken connection, a timeout, a decoder limit, a body cut
    /// in the middle of an event) ends the stream. Outside streams it is always `true`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, StreamExt};
    /// let client = AsyncBookWyrmClient::new()?;
    /// let mut stream = client.stream_process_text(PhrasalRequest::from_text("One. Two.")).await?;
    /// while let Some(item) = stream.next().await {
    ///     match item {
    ///         Ok(event) => println!("{event:?}"),
    ///         Err(e) if !e.ends_stream() => eprintln!("skipped: {e}"), // more may follow
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn ends_stream(&self) -> bool {
        match self {
            Self::Decode(e) => !e.item_only,
            Self::ServerEvent(_) => false,
            _ => true,
        }
    }

    /// Records the response's request id and the attempts made, where not known yet.
    pub(crate) fn with_call(mut self, request_id: Option<&str>, attempts: u32) -> Self {
        match &mut self {
            Self::Api(e) => {
                if attempts > 0 {
                    e.attempts = attempts;
                }
            }
            Self::Transport(e) => e.info.fill(request_id, attempts),
            Self::Timeout(e) => e.info.fill(request_id, attempts),
            Self::Decode(e) => e.info.fill(request_id, attempts),
            Self::ServerEvent(e) => e.info.fill(request_id, attempts),
            Self::Interrupted(e) => {
                let cause = std::mem::replace(&mut e.cause, Self::closed());
                e.cause = cause.with_call(request_id, attempts);
            }
            Self::Closed(e) => e.info.fill(request_id, attempts),
            Self::Cancelled(e) => e.info.fill(request_id, attempts),
            Self::Validation(_) => {}
            #[cfg(feature = "blocking")]
            Self::BlockingInAsyncContext => {}
        }
        self
    }

    /// Marks a decode error as one event's: the stream goes on after it.
    pub(crate) fn item_only(mut self) -> Self {
        if let Self::Decode(e) = &mut self {
            e.item_only = true;
        }
        self
    }

    /// How long the server asked to wait before trying again (`Retry-After` or
    /// `retry-after-ms` of an error answer, also of the resume request that ended an
    /// interrupted stream), when it said: [`BookWyrmApiError::retry_after`] without matching
    /// on the variant first.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// # fn f(e: BookWyrmClientError) {
    /// if let Some(wait) = e.retry_after() {
    ///     eprintln!("the server asks for {wait:?} before the next try");
    /// }
    /// # }
    /// assert_eq!(BookWyrmClientError::Closed(Default::default()).retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after(),
            Self::Interrupted(i) => i.cause().retry_after(),
            _ => None,
        }
    }

    /// The error and its whole cause chain on one line, with the request id and the attempts
    /// when known: what a service writes to its log (`Display` alone leaves the causes out).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) {
    /// let request = bookwyrm::PhrasalRequest::from_text("One. Two.");
    /// if let Err(e) = client.stream_process_text(request).await {
    ///     // e.g. "the connection could not be made: ...: Connection refused (os error 111) (3 attempts)"
    ///     tracing::error!("phrasal failed: {}", e.report());
    /// }
    /// # }
    /// ```
    pub fn report(&self) -> ErrorReport<'_> {
        ErrorReport::new(self)
    }

    /// The API error, when the server answered with a non-2xx status.
    ///
    /// ```
    /// # use bookwyrm::BookWyrmClientError;
    /// assert!(BookWyrmClientError::Closed(Default::default()).as_api_error().is_none());
    /// ```
    pub fn as_api_error(&self) -> Option<&BookWyrmApiError> {
        match self {
            Self::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The client is closed: the call was refused before any request.
    pub(crate) fn closed() -> Self {
        Self::Closed(ClosedError::default())
    }

    /// The client was closed with `close_now` while the call was in flight.
    pub(crate) fn closed_in_flight() -> Self {
        Self::Closed(ClosedError::in_flight())
    }

    pub(crate) fn validation(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(ValidationError {
            field,
            message: message.into(),
        })
    }

    /// A transport failure; one caused by TLS (a `rustls` error anywhere in `source`'s chain)
    /// becomes [`TransportKind::Tls`] with the verifier's reason in its message.
    pub(crate) fn transport(context: impl Into<String>, source: impl Into<Source>) -> Self {
        Self::transport_of(TransportKind::Other, context, source)
    }

    /// A transport failure of a known kind (TLS still wins when the source says so).
    pub(crate) fn transport_of(
        kind: TransportKind,
        context: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        let source = source.into();
        let mut context = context.into();
        let kind = match tls_reason(source.as_ref()) {
            Some(reason) => {
                context = format!("{context}: TLS failed: {reason}");
                TransportKind::Tls
            }
            None => kind,
        };
        Self::Transport(TransportError {
            context,
            kind,
            source,
            info: CallInfo::default(),
        })
    }

    /// A transport failure met after `delivered` events of a stream: the message says so, and
    /// whether the connection was reset, instead of a generic "broke while reading".
    pub(crate) fn after_events(self, delivered: u64) -> Self {
        match self {
            Self::Transport(mut t) if delivered > 0 && t.kind == TransportKind::Other => {
                let how =
                    if io_kind_in(t.source.as_ref()) == Some(std::io::ErrorKind::ConnectionReset) {
                        "the connection was reset"
                    } else {
                        "the connection broke"
                    };
                let events = events(delivered);
                t.context = format!("{how} after {delivered} {events} of the stream had arrived");
                Self::Transport(t)
            }
            other => other,
        }
    }

    /// A deadline of `kind` passed; `after` is the configured limit, when known.
    pub(crate) fn timeout(kind: TimeoutKind, after: Option<Duration>) -> Self {
        Self::Timeout(TimeoutError {
            kind,
            after,
            info: CallInfo::default(),
        })
    }

    pub(crate) fn decode(
        what: impl Into<String>,
        raw: impl Into<Bytes>,
        source: Option<Source>,
    ) -> Self {
        Self::Decode(DecodeError {
            what: what.into(),
            raw: raw.into(),
            source,
            info: CallInfo::default(),
            item_only: false,
        })
    }
}

impl fmt::Display for BookWyrmClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Validation(e) => e.fmt(f),
            Self::Api(e) => e.fmt(f),
            Self::Transport(e) => e.fmt(f),
            Self::Timeout(e) => e.fmt(f),
            Self::Decode(e) => e.fmt(f),
            Self::ServerEvent(e) => e.fmt(f),
            Self::Interrupted(e) => e.fmt(f),
            Self::Closed(e) => e.fmt(f),
            Self::Cancelled(e) => e.fmt(f),
            #[cfg(feature = "blocking")]
            Self::BlockingInAsyncContext => f.write_str(
                "the blocking client was called inside an async runtime; use AsyncBookWyrmClient there",
            ),
        }
    }
}

impl std::error::Error for BookWyrmClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Transport(e) => Some(e),
            Self::Decode(e) => Some(e),
            Self::Api(e) => Some(e),
            Self::Interrupted(e) => Some(&e.cause),
            _ => None,
        }
    }
}

/// An input rejected before any I/O: names the field and the rule.
///
/// ```
/// use bookwyrm::{AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, TextSpan};
/// # async fn run() {
/// let client = AsyncBookWyrmClient::builder().base_url("http://127.0.0.1:9").build().unwrap();
/// let request = CitationRequest::from_chunks(vec![TextSpan::new(0, "x")], "   ");
/// match client.get_citations(request).await {
///     Err(BookWyrmClientError::Validation(v)) => assert_eq!(v.field(), "question"),
///     other => panic!("{other:?}"),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    field: &'static str,
    message: String,
}

impl ValidationError {
    /// The request field at fault, as named on the wire (e.g. `question`, `max_tokens`).
    ///
    /// ```
    /// let err = bookwyrm::AsyncBookWyrmClient::builder().base_url("ftp://x").build().unwrap_err();
    /// let bookwyrm::BookWyrmClientError::Validation(v) = &err else { unreachable!() };
    /// assert_eq!(v.field(), "base_url");
    /// ```
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// What is wrong, e.g. `limit must be > 0`.
    ///
    /// ```
    /// let err = bookwyrm::AsyncBookWyrmClient::builder().base_url("ftp://x").build().unwrap_err();
    /// let bookwyrm::BookWyrmClientError::Validation(v) = &err else { unreachable!() };
    /// assert_eq!(v.message(), "not an http(s) URL: ftp://x");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: {}", self.field, self.message)
    }
}

/// The server answered with a non-2xx status (Python's `BookWyrmAPIError`).
///
/// ```
/// # use bookwyrm::BookWyrmClientError;
/// # fn handle(err: BookWyrmClientError) {
/// if let BookWyrmClientError::Api(api) = &err {
///     eprintln!("{} (request {:?})", api.status_code(), api.request_id());
///     if let Some(detail) = api.json().and_then(|j| j.get("detail")) {
///         eprintln!("detail: {detail}");
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BookWyrmApiError {
    pub(crate) status: u16,
    pub(crate) message: String,
    pub(crate) body: String,
    pub(crate) json: Option<serde_json::Value>,
    pub(crate) request_id: Option<String>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) attempts: u32,
}

impl BookWyrmApiError {
    /// The HTTP status code.
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// if api.status_code() == 402 {
    ///     eprintln!("out of credits");
    /// }
    /// # }
    /// ```
    pub fn status_code(&self) -> u16 {
        self.status
    }

    /// The server's message: `detail` (or `message`, `error`) of a JSON body when it is a string,
    /// else the body text, else the reason phrase of the status.
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// eprintln!("the API said: {}", api.message());
    /// # }
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The response body as text (lossy UTF-8; at most 1 MiB is read).
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// tracing::debug!(body = api.body(), "error body");
    /// # }
    /// ```
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The response body as JSON, when it parses (e.g. FastAPI's `{"detail": [...]}` on 422).
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// // FastAPI's validation issues: where and what.
    /// for issue in api.json().and_then(|j| j["detail"].as_array()).into_iter().flatten() {
    ///     eprintln!("{}: {}", issue["loc"], issue["msg"]);
    /// }
    /// # }
    /// ```
    pub fn json(&self) -> Option<&serde_json::Value> {
        self.json.as_ref()
    }

    /// The request id header (`x-request-id` or `request-id`), when the server sent one.
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// eprintln!("quote this to support: {}", api.request_id().unwrap_or("(none)"));
    /// # }
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The wait the server asked for (`retry-after-ms` or `Retry-After`, seconds or HTTP date).
    ///
    /// ```
    /// # async fn f(api: &bookwyrm::BookWyrmApiError) {
    /// if let Some(wait) = api.retry_after() {
    ///     tokio::time::sleep(wait).await; // then try again
    /// }
    /// # }
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// How many attempts were made before this answer (1 when no retry happened).
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) {
    /// if api.attempts() > 1 {
    ///     eprintln!("failed after {} attempts", api.attempts());
    /// }
    /// # }
    /// ```
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the status is worth retrying: 408, 409, 429 and 5xx (see
    /// [`BookWyrmClientError::is_retryable`] for which of them the client retries itself).
    ///
    /// ```
    /// # fn f(api: &bookwyrm::BookWyrmApiError) -> bool {
    /// // Worth queueing for later?
    /// api.is_retryable()
    /// # }
    /// ```
    pub fn is_retryable(&self) -> bool {
        RetryClass::of_status(self.status) != RetryClass::Never
    }
}

impl fmt::Display for BookWyrmApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "API request failed with status {}: {}",
            self.status, self.message
        )
    }
}

impl std::error::Error for BookWyrmApiError {}

/// Whether and by whom a failure may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryClass {
    /// The client retries it itself, within its retry policy (and a stream only before its
    /// first event).
    Automatic,
    /// Trying again may succeed; the client leaves that to the caller.
    ByCaller,
    /// Trying again fails the same way.
    Never,
}

impl RetryClass {
    /// The class of an HTTP status.
    pub(crate) fn of_status(status: u16) -> Self {
        match status {
            408 | 429 | 500 | 502 | 503 | 504 => Self::Automatic,
            409 => Self::ByCaller,
            s if s >= 500 => Self::ByCaller,
            _ => Self::Never,
        }
    }
}

/// The connection could not be made or broke.
///
/// ```
/// # use bookwyrm::BookWyrmClientError;
/// # fn f(e: BookWyrmClientError) {
/// if let BookWyrmClientError::Transport(t) = &e {
///     eprintln!("{t}: {:?}", std::error::Error::source(t));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct TransportError {
    context: String,
    kind: TransportKind,
    source: Source,
    info: CallInfo,
}

impl TransportError {
    /// What kind of failure this is.
    ///
    /// ```
    /// # use bookwyrm::{BookWyrmClientError, TransportKind};
    /// # fn f(e: BookWyrmClientError) {
    /// if let BookWyrmClientError::Transport(t) = &e {
    ///     if t.kind() == TransportKind::Tls {
    ///         eprintln!("certificate problem: {t}");
    ///     }
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> TransportKind {
        self.kind
    }

    /// Whether TLS failed (see [`TransportKind::Tls`]).
    ///
    /// ```
    /// # fn f(t: &bookwyrm::TransportError) -> bool {
    /// t.is_tls()
    /// # }
    /// ```
    pub fn is_tls(&self) -> bool {
        self.kind == TransportKind::Tls
    }
}

/// The kinds of [`TransportError`].
///
/// ```
/// assert_ne!(bookwyrm::TransportKind::Tls, bookwyrm::TransportKind::Connect);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// No connection could be made (refused, unreachable, name not resolved). Retried.
    Connect,
    /// TLS failed: the server's certificate is not trusted (unknown issuer, expired, issued
    /// for another name) or the handshake failed. The message carries the verifier's reason.
    /// Never retried: waiting does not change a certificate.
    Tls,
    /// The connection broke or the exchange failed after it was made. Retried only before any
    /// response byte reached the caller.
    Other,
    /// A non-streaming answer's body is larger than the client's cap
    /// ([`Config::max_response_body`](crate::Config::max_response_body)); the message names
    /// the cap. Never retried: the same answer would come again.
    TooLarge,
}

/// The kind of the first `io::Error` in `error`'s chain.
fn io_kind_in(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return match io.get_ref() {
                Some(inner) if io.kind() == std::io::ErrorKind::Other => {
                    io_kind_in(inner).or(Some(io.kind()))
                }
                _ => Some(io.kind()),
            };
        }
        next = e.source();
    }
    None
}

/// The reason a TLS library gave, when a `rustls` error is anywhere in `error`'s chain.
fn tls_reason(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    find_in_chain::<rustls::Error>(error).map(ToString::to_string)
}

/// The first error of type `T` in `error`'s chain; an `io::Error` hides its inner error from
/// `source()`, so it is opened too.
pub(crate) fn find_in_chain<'e, T: std::error::Error + 'static>(
    error: &'e (dyn std::error::Error + 'static),
) -> Option<&'e T> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        if let Some(inner) = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && let Some(found) = find_in_chain::<T>(inner)
        {
            return Some(found);
        }
        next = e.source();
    }
    None
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Which deadline passed, and so which setting to look at.
///
/// ```
/// use bookwyrm::TimeoutKind;
/// fn setting(kind: TimeoutKind) -> &'static str {
///     match kind {
///         TimeoutKind::Connect => "connect_timeout",
///         TimeoutKind::Idle => "stream_idle_timeout",
///         TimeoutKind::Total => "timeout",
///         TimeoutKind::StreamDeadline => "stream_deadline",
///         TimeoutKind::Slot => "slot_timeout (or max_concurrent_requests)",
///         _ => "a kind newer than this code",
///     }
/// }
/// assert_eq!(setting(TimeoutKind::Idle), "stream_idle_timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// Connecting took longer than the connect timeout.
    Connect,
    /// No byte arrived for longer than the idle timeout (streams, and waiting for headers).
    Idle,
    /// A non-streaming call took longer than its total timeout.
    Total,
    /// A stream ran past its total deadline
    /// ([`ClientBuilder::stream_deadline`](crate::ClientBuilder::stream_deadline)).
    StreamDeadline,
    /// The call waited longer than
    /// [`ClientBuilder::slot_timeout`](crate::ClientBuilder::slot_timeout) for a slot under
    /// [`max_concurrent_requests`](crate::ClientBuilder::max_concurrent_requests): the
    /// client's own queue, not the server, was the hold-up. No request was sent.
    Slot,
}

/// A deadline passed.
///
/// ```
/// # use bookwyrm::{BookWyrmClientError, TimeoutKind};
/// # fn f(e: BookWyrmClientError) {
/// if let BookWyrmClientError::Timeout(t) = &e {
///     match t.kind() {
///         TimeoutKind::Connect | TimeoutKind::Slot => eprintln!("no request was answered"),
///         TimeoutKind::Idle | TimeoutKind::StreamDeadline => eprintln!("a stream went on too long"),
///         TimeoutKind::Total => eprintln!("a call took too long"),
///         _ => eprintln!("{t}"),
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TimeoutError {
    pub(crate) kind: TimeoutKind,
    pub(crate) after: Option<Duration>,
    info: CallInfo,
}

impl TimeoutError {
    /// Which deadline passed.
    ///
    /// ```
    /// # fn f(t: &bookwyrm::TimeoutError) {
    /// if t.kind() == bookwyrm::TimeoutKind::Idle {
    ///     eprintln!("the stream went silent; raise `stream_idle_timeout` for slow documents");
    /// }
    /// # }
    /// ```
    pub fn kind(&self) -> TimeoutKind {
        self.kind
    }

    /// The configured deadline, when known.
    ///
    /// ```
    /// # fn f(t: &bookwyrm::TimeoutError) {
    /// if let Some(after) = t.after() {
    ///     eprintln!("gave up after {after:?}");
    /// }
    /// # }
    /// ```
    pub fn after(&self) -> Option<Duration> {
        self.after
    }
}

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            TimeoutKind::Connect => "connecting to the server timed out",
            TimeoutKind::Idle => "the server sent nothing for too long",
            TimeoutKind::Total => "the request timed out",
            TimeoutKind::StreamDeadline => "the stream ran past its total deadline",
            TimeoutKind::Slot => {
                "no concurrency slot came free in time (max_concurrent_requests); nothing was sent"
            }
        };
        match self.after {
            Some(d) => write!(f, "{what} (after {d:?})"),
            None => f.write_str(what),
        }
    }
}

/// The server's answer could not be decoded; the raw payload is kept.
///
/// ```
/// # use bookwyrm::BookWyrmClientError;
/// # fn f(e: BookWyrmClientError) {
/// if let BookWyrmClientError::Decode(d) = &e {
///     eprintln!("{d}; raw: {}", String::from_utf8_lossy(d.raw()));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct DecodeError {
    what: String,
    raw: Bytes,
    source: Option<Source>,
    info: CallInfo,
    /// One event's data failed to decode: the stream goes on.
    item_only: bool,
}

impl DecodeError {
    /// The raw payload that failed to decode (an SSE `data` field, a body).
    ///
    /// ```
    /// use bookwyrm::{BookWyrmClientError, EventStream, PhrasalStreamEvent};
    /// use futures_util::FutureExt;
    /// let sse = bytes::Bytes::from_static(b"event: text\ndata: {oops\n\n");
    /// let mut stream = EventStream::<PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::iter([Ok::<_, std::io::Error>(sse)]),
    /// );
    /// let item = stream.next().now_or_never().unwrap().unwrap();
    /// let Err(BookWyrmClientError::Decode(d)) = item else { unreachable!() };
    /// assert_eq!(d.raw(), b"{oops");
    /// ```
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The raw payload as text (lossy).
    ///
    /// ```
    /// use bookwyrm::{BookWyrmClientError, EventStream, PhrasalStreamEvent};
    /// use futures_util::FutureExt;
    /// let sse = bytes::Bytes::from_static(b"event: text\ndata: {oops\n\n");
    /// let mut stream = EventStream::<PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::iter([Ok::<_, std::io::Error>(sse)]),
    /// );
    /// let item = stream.next().now_or_never().unwrap().unwrap();
    /// let Err(BookWyrmClientError::Decode(d)) = item else { unreachable!() };
    /// assert_eq!(d.raw_text(), "{oops");
    /// ```
    pub fn raw_text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "could not decode {}", self.what)
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|s| s as _)
    }
}
