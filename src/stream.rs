//! [`EventStream`]: response bytes -> [`crate::sse`] events -> typed events, pull-based.
//!
//! No task is spawned and nothing is buffered beyond the decoder's bounded line and event (and,
//! on the direct transport, one socket read). Dropping the stream drops the response body,
//! which closes the connection.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::stream::{FusedStream, Stream};

use crate::error::{BookWyrmClientError, TimeoutError, TimeoutKind};
use crate::sse;

/// The typed events of one streaming operation (implemented by the generated event enums).
///
/// ```
/// use bookwyrm::{Decoded, PhrasalStreamEvent, StreamEvent};
/// match PhrasalStreamEvent::decode("text", r#"{"text":"Hi."}"#) {
///     Decoded::Event(Ok(e)) => assert_eq!(e.event_name(), "text"),
///     other => panic!("{other:?}"),
/// }
/// ```
pub trait StreamEvent: Sized + Send + 'static {
    /// Decodes one SSE event.
    fn decode(event: &str, data: &str) -> Decoded<Self>;
    /// The server error this event reports, if it is an `error` event.
    fn server_error(&self) -> Option<ServerError>;
    /// The SSE event name this value came from (the first name, for variants with aliases).
    fn event_name(&self) -> &str;
    /// Whether this is an event the SDK does not know (kept as `Unknown`).
    fn is_unknown(&self) -> bool;
}

/// The result of decoding one SSE event.
///
/// ```
/// use bookwyrm::{Decoded, PhrasalStreamEvent, StreamEvent};
/// assert!(matches!(PhrasalStreamEvent::decode("keepalive", "{}"), Decoded::Ignored));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Decoded<E> {
    /// A typed event, or a decode error carrying the raw data (the stream goes on).
    Event(Result<E, BookWyrmClientError>),
    /// An event the contract says to ignore (`keepalive`).
    Ignored,
}

impl<E> From<Result<E, BookWyrmClientError>> for Decoded<E> {
    fn from(r: Result<E, BookWyrmClientError>) -> Self {
        Self::Event(r)
    }
}

/// Parses the JSON payload of a known event.
pub(crate) fn decode_payload<T: serde::de::DeserializeOwned>(
    event: &str,
    data: &str,
) -> Result<T, BookWyrmClientError> {
    serde_json::from_str(data).map_err(|e| {
        BookWyrmClientError::decode(
            format!("the data of event `{event}`"),
            Bytes::copy_from_slice(data.as_bytes()),
            Some(Box::new(e)),
        )
    })
}

/// An event the SDK does not know, kept with its name and raw data.
///
/// ```
/// let u = bookwyrm::UnknownEvent::new("shiny_new_event", "{\"x\":1}");
/// assert_eq!(u.event(), "shiny_new_event");
/// assert_eq!(u.json().unwrap()["x"], 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    event: String,
    data: String,
}

impl UnknownEvent {
    /// An unknown event.
    ///
    /// ```
    /// let u = bookwyrm::UnknownEvent::new("x", "");
    /// assert_eq!(u.data(), "");
    /// ```
    pub fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
        }
    }

    /// The SSE event name.
    ///
    /// ```
    /// assert_eq!(bookwyrm::UnknownEvent::new("x", "").event(), "x");
    /// ```
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The raw data.
    ///
    /// ```
    /// assert_eq!(bookwyrm::UnknownEvent::new("x", "d").data(), "d");
    /// ```
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The data parsed as JSON, when it is JSON.
    ///
    /// ```
    /// assert!(bookwyrm::UnknownEvent::new("x", "not json").json().is_none());
    /// ```
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.data).ok()
    }
}

/// A server error event, normalised across operations (their payloads name the message
/// differently: `error_message`, `error`, `message`).
///
/// ```
/// # use bookwyrm::ServerError;
/// let e = ServerError::new("error", "model overloaded", Some("overload".into()), true);
/// assert_eq!(e.message(), "model overloaded");
/// assert!(e.recoverable());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    event: String,
    message: String,
    error_type: Option<String>,
    recoverable: bool,
}

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

/// Error payloads of the streams, normalised into a [`ServerError`].
pub(crate) trait ErrorPayload {
    fn to_server_error(&self) -> ServerError;
}

impl ErrorPayload for crate::types::CitationErrorEvent {
    fn to_server_error(&self) -> ServerError {
        ServerError::new("error", &self.error_message, None, self.recoverable)
    }
}

impl ErrorPayload for crate::types::SummarizeErrorEvent {
    fn to_server_error(&self) -> ServerError {
        let msg = self.error.clone().unwrap_or_else(|| "unknown error".into());
        ServerError::new("error", msg, None, self.recoverable)
    }
}

impl ErrorPayload for crate::types::PhrasalErrorEvent {
    fn to_server_error(&self) -> ServerError {
        let msg = self
            .error
            .clone()
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "unknown error".into());
        ServerError::new("error", msg, self.error_type.clone(), false)
    }
}

/// Error payloads with `message`, `error_type` and `recoverable`.
macro_rules! typed_error_payload {
    ($($payload:ty),*) => {$(
        impl ErrorPayload for $payload {
            fn to_server_error(&self) -> ServerError {
                ServerError::new("error", &self.message, self.error_type.clone(), self.recoverable)
            }
        }
    )*};
}

typed_error_payload!(
    crate::types::ClassifyErrorEvent,
    crate::types::PdfErrorEvent
);

/// Where a stream put the malformed events it skipped (see [`EventStream::skip_malformed`]):
/// a cheap handle to share with the stream and read afterwards.
///
/// ```
/// let skipped = bookwyrm::MalformedEvents::default();
/// assert!(skipped.is_empty());
/// assert!(skipped.take().is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MalformedEvents(std::sync::Arc<std::sync::Mutex<Vec<BookWyrmClientError>>>);

impl MalformedEvents {
    /// The problems recorded so far (each a `Decode` error with the raw data), emptied.
    ///
    /// ```
    /// let skipped = bookwyrm::MalformedEvents::default();
    /// for problem in skipped.take() {
    ///     eprintln!("skipped: {problem}");
    /// }
    /// ```
    pub fn take(&self) -> Vec<BookWyrmClientError> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// How many are recorded.
    ///
    /// ```
    /// assert_eq!(bookwyrm::MalformedEvents::default().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether none is recorded.
    ///
    /// ```
    /// assert!(bookwyrm::MalformedEvents::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, error: BookWyrmClientError) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(error);
    }
}

/// The response body, with transport failures already mapped.
pub(crate) type Body = Pin<Box<dyn Stream<Item = Result<Bytes, BookWyrmClientError>> + Send>>;

/// A new attempt at opening the same stream, numbered from its argument (with the call's
/// retries); returns the body and the last attempt number used.
pub(crate) type Reopen = std::sync::Arc<
    dyn Fn(
            u32,
        ) -> Pin<
            Box<dyn std::future::Future<Output = Result<(Body, u32), BookWyrmClientError>> + Send>,
        > + Send
        + Sync,
>;

type Reopening =
    Pin<Box<dyn std::future::Future<Output = Result<(Body, u32), BookWyrmClientError>> + Send>>;

/// What a stream needs to retry itself before its first event.
struct Retry {
    reopen: Reopen,
    attempts: u32,
    policy: crate::RetryPolicy,
}

/// A stream of typed events from one streaming call.
///
/// `Stream<Item = Result<E, BookWyrmClientError>>`, `Send`, `Unpin` and fused. An item that
/// is an `Err` is not necessarily the end: a malformed event is a [`BookWyrmClientError::Decode`]
/// item after which the stream goes on. Transport failures, idle timeouts and decoder limits
/// end it.
///
/// ```no_run
/// use futures_util::StreamExt;
/// use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, PhrasalStreamEvent};
///
/// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
/// let client = AsyncBookWyrmClient::new()?;
/// let mut stream = client.stream_process_text(PhrasalRequest::from_text("One. Two.")).await?;
/// while let Some(event) = stream.next().await {
///     if let PhrasalStreamEvent::TextSpan(span) = event? {
///         println!("{}..{}: {}", span.start_char, span.end_char, span.text);
///     }
/// }
/// # Ok(()) }
/// ```
pub struct EventStream<E> {
    body: Option<Body>,
    retry: Option<Retry>,
    reopening: Option<Reopening>,
    limits: (usize, usize),
    decoder: sse::Decoder,
    idle_timeout: Option<Duration>,
    idle: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether `idle` counts from the last byte received (re-armed lazily, so a busy stream
    /// does not touch the timer for every chunk).
    idle_armed: bool,
    errors_as_err: bool,
    /// Where malformed events go instead of the caller, when set.
    skipped: Option<MalformedEvents>,
    request_id: Option<String>,
    delivered: u64,
    _event: PhantomData<fn() -> E>,
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("event", &std::any::type_name::<E>())
            .field(
                "finished",
                &(self.body.is_none() && self.reopening.is_none()),
            )
            .field("last_event_id", &self.decoder.last_event_id())
            .field("request_id", &self.request_id)
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl<E: StreamEvent> EventStream<E> {
    pub(crate) fn new(
        body: Body,
        idle_timeout: Option<Duration>,
        limits: (usize, usize),
        request_id: Option<String>,
        retry: Option<(Reopen, u32, crate::RetryPolicy)>,
    ) -> Self {
        Self {
            body: Some(body),
            retry: retry.map(|(reopen, attempts, policy)| Retry {
                reopen,
                attempts,
                policy,
            }),
            reopening: None,
            limits,
            decoder: sse::Decoder::with_limits(limits.0, limits.1),
            idle_timeout,
            idle: None,
            idle_armed: false,
            errors_as_err: false,
            skipped: None,
            request_id,
            delivered: 0,
            _event: PhantomData,
        }
    }

    /// A stream over any byte stream, for decoding recorded or custom transports (tests,
    /// replays). No idle timeout applies.
    ///
    /// ```
    /// use futures_util::StreamExt;
    /// use bookwyrm::{EventStream, PhrasalStreamEvent};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let bytes = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(bytes::Bytes::from_static(
    ///     b"event: text\ndata: {\"text\":\"Hi.\"}\n\n",
    /// ))]);
    /// let mut s = EventStream::<PhrasalStreamEvent>::from_byte_stream(bytes);
    /// assert!(matches!(s.next().await, Some(Ok(PhrasalStreamEvent::Text(_)))));
    /// assert!(s.next().await.is_none());
    /// # });
    /// ```
    pub fn from_byte_stream<S, Err>(bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, Err>> + Send + 'static,
        Err: std::error::Error + Send + Sync + 'static,
    {
        use futures_util::StreamExt;
        let body = bytes
            .map(|r| r.map_err(|e| BookWyrmClientError::transport("the byte stream failed", e)));
        Self::new(
            Box::pin(body),
            None,
            (sse::DEFAULT_MAX_LINE, sse::DEFAULT_MAX_EVENT),
            None,
            None,
        )
    }

    /// The next item, `None` at the end: the same as `StreamExt::next`, without an import.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let mut stream = client
    ///     .stream_process_text(bookwyrm::PhrasalRequest::from_text("One. Two."))
    ///     .await?;
    /// while let Some(event) = stream.next().await {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next(&mut self) -> Option<Result<E, BookWyrmClientError>> {
        futures_util::StreamExt::next(self).await
    }

    /// Server error events become `Err(BookWyrmClientError::ServerEvent(_))` items instead of
    /// values (the stream still goes on after a recoverable one).
    ///
    /// ```no_run
    /// # use futures_util::StreamExt;
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let mut stream = client
    ///     .stream_process_text(bookwyrm::PhrasalRequest::from_text("Hi."))
    ///     .await?
    ///     .errors_as_err();
    /// while let Some(event) = stream.next().await {
    ///     let _event = event?; // an `error` event stops here
    /// }
    /// # Ok(()) }
    /// ```
    pub fn errors_as_err(mut self) -> Self {
        self.errors_as_err = true;
        self
    }

    /// Malformed events (a known event whose data does not decode; the stream goes on after
    /// them) are recorded in `into` instead of being handed out as `Err` items. With it, an
    /// accumulator such as [`collect_citations`](Self::collect_citations) keeps every good
    /// event instead of stopping at the first bad one, and the caller still sees what was
    /// skipped. Failures that end the stream are still errors.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient, request: bookwyrm::CitationRequest) -> bookwyrm::Result<()> {
    /// let skipped = bookwyrm::MalformedEvents::default();
    /// let result = client
    ///     .stream_citations(request)
    ///     .await?
    ///     .skip_malformed(&skipped)
    ///     .collect_citations()
    ///     .await?;
    /// println!("{} citations, {} malformed events skipped", result.citations.len(), skipped.len());
    /// # Ok(()) }
    /// ```
    pub fn skip_malformed(mut self, into: &MalformedEvents) -> Self {
        self.skipped = Some(into.clone());
        self
    }

    /// The last event id the server sent (`id:` field), empty if none.
    ///
    /// ```
    /// let s = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// assert_eq!(s.last_event_id(), "");
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.decoder.last_event_id()
    }

    /// The request id header of the response, when the server sent one.
    ///
    /// ```
    /// let s = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// assert_eq!(s.request_id(), None);
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many items (events and per-event decode errors) were handed out so far.
    ///
    /// ```
    /// let s = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// assert_eq!(s.delivered(), 0);
    /// ```
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    fn finish(&mut self) {
        self.body = None;
        self.idle = None;
        self.retry = None;
        self.reopening = None;
    }

    /// After a failure of the connection: a new attempt when nothing was delivered yet and
    /// the retry policy allows one.
    fn try_reopen(&mut self, error: &BookWyrmClientError) -> bool {
        if self.delivered > 0 {
            return false;
        }
        let Some(retry) = &self.retry else {
            return false;
        };
        match crate::retry::decide(&retry.policy, error, retry.attempts) {
            crate::retry::Decision::Retry { delay, reason } => {
                tracing::warn!(
                    target: "bookwyrm",
                    attempt = retry.attempts + 1,
                    reason = %reason,
                    delay_ms = delay.as_millis() as u64,
                    "retrying the stream (no event was delivered yet)"
                );
                let reopen = retry.reopen.clone();
                let next = retry.attempts + 1;
                self.body = None;
                self.idle = None;
                self.idle_armed = false;
                self.reopening = Some(Box::pin(async move {
                    tokio::time::sleep(delay).await;
                    reopen(next).await
                }));
                true
            }
            crate::retry::Decision::Stop => false,
        }
    }

    /// Counts an item as handed out. From then on the stream is never retried: what a retry
    /// needed (the request body, held by `reopen`) is let go.
    fn handed_out(&mut self) {
        self.delivered += 1;
        self.retry = None;
    }

    fn deliver(
        &mut self,
        item: Result<E, BookWyrmClientError>,
    ) -> Poll<Option<Result<E, BookWyrmClientError>>> {
        self.handed_out();
        let item = match item {
            Ok(event) if self.errors_as_err => match event.server_error() {
                Some(err) => Err(BookWyrmClientError::ServerEvent(Box::new(err))),
                None => Ok(event),
            },
            other => other,
        };
        Poll::Ready(Some(item))
    }
}

impl<E: StreamEvent> Stream for EventStream<E> {
    type Item = Result<E, BookWyrmClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(reopening) = this.reopening.as_mut() {
                match reopening.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok((body, attempts))) => {
                        this.reopening = None;
                        this.body = Some(body);
                        this.decoder = sse::Decoder::with_limits(this.limits.0, this.limits.1);
                        if let Some(r) = &mut this.retry {
                            r.attempts = attempts;
                        }
                    }
                    Poll::Ready(Err(e)) => {
                        this.finish();
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
            if this.body.is_none() {
                return Poll::Ready(None);
            }
            match this.decoder.next_event_ref() {
                Ok(Some(event)) => match E::decode(event.event, event.data) {
                    Decoded::Event(item) => match (item, &this.skipped) {
                        (Err(e), Some(skipped)) => {
                            skipped.push(e);
                            // Counted as handed out: a retry would send it again.
                            this.handed_out();
                            continue;
                        }
                        (item, _) => return this.deliver(item),
                    },
                    Decoded::Ignored => continue,
                },
                Ok(None) => {}
                Err(e) => {
                    this.finish();
                    let raw = Bytes::new();
                    return Poll::Ready(Some(Err(BookWyrmClientError::decode(
                        "the event stream",
                        raw,
                        Some(Box::new(e)),
                    ))));
                }
            }
            let body = this.body.as_mut().expect("checked above");
            match body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    this.idle_armed = false;
                    this.decoder.feed(chunk);
                }
                Poll::Ready(Some(Err(e))) => {
                    if this.try_reopen(&e) {
                        continue;
                    }
                    this.finish();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(None) => {
                    // An event not ended by a blank line is not dispatched (WHATWG), but it is
                    // not dropped silently either: the stream's last item says it was cut.
                    let unfinished = this.decoder.unfinished();
                    this.finish();
                    return Poll::Ready(unfinished.map(|raw| {
                        Err(BookWyrmClientError::decode(
                            "the event stream: it ended in the middle of an event",
                            Bytes::from(raw),
                            None,
                        ))
                    }));
                }
                Poll::Pending => {
                    let Some(limit) = this.idle_timeout else {
                        return Poll::Pending;
                    };
                    let sleep = this
                        .idle
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
                    if !this.idle_armed {
                        sleep.as_mut().reset(tokio::time::Instant::now() + limit);
                        this.idle_armed = true;
                    }
                    return match sleep.as_mut().poll(cx) {
                        Poll::Ready(()) => {
                            this.finish();
                            Poll::Ready(Some(Err(BookWyrmClientError::Timeout(TimeoutError {
                                kind: TimeoutKind::Idle,
                                after: Some(limit),
                            }))))
                        }
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

impl<E: StreamEvent> FusedStream for EventStream<E> {
    fn is_terminated(&self) -> bool {
        self.body.is_none() && self.reopening.is_none()
    }
}

use std::future::Future as _;
