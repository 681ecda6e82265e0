//! [`EventStream`]: response bytes -> typed events, pull-based, in layers that each hold one
//! concern and know nothing of the others:
//!
//! - [`decode`]: the body's bytes -> SSE events -> typed events ([`decode::Step`]);
//! - [`watchdog`]: the idle timeout, the stream's deadline, the client's `close_now`, the
//!   stream's [`StreamCanceller`];
//! - [`recovery`]: a retry before the first event, a resume after it, one budget for both;
//! - [`telemetry`]: an observer of the items handed out and of the recoveries.
//!
//! `EventStream` composes them in one direction: it imports each, and none imports another
//! (`tests/it/module_graph.rs` checks the library's imports). No task is spawned and nothing is buffered
//! beyond the decoder's bounded line and event (and, on the direct transport, one socket
//! read). Dropping the stream drops the response body, which closes the connection.

mod cancel;
mod decode;
mod malformed;
mod recovery;
mod telemetry;
mod watchdog;

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_core::stream::{FusedStream, Stream};

use crate::error::BookWyrmClientError;
use crate::event::StreamEvent;
use crate::reopen::{Body, Reopen};
use crate::resume::{Break, ResumePolicy, Resumer};
use crate::retry::RetryPolicy;
use crate::sse;

pub use cancel::StreamCanceller;
use decode::{Decoding, Step};
pub use malformed::MalformedEvents;
use recovery::{Next, Recovering, Recovery, Reopened, Verdict};
use telemetry::Telemetry;
use watchdog::Watchdog;

/// One item of a stream, as `Stream::poll_next` returns it.
type Polled<E> = Poll<Option<Result<E, BookWyrmClientError>>>;

/// A stream of typed events from one streaming call.
///
/// `Stream<Item = Result<E, BookWyrmClientError>>`, `Send`, `Unpin` and fused. An item that
/// is an `Err` is not necessarily the end: a malformed event is a [`BookWyrmClientError::Decode`]
/// item after which the stream goes on. Transport failures, idle timeouts and decoder limits
/// end it. [`BookWyrmClientError::ends_stream`] says which; every error carries the
/// response's [`request_id`](BookWyrmClientError::request_id) and the
/// [`attempts`](BookWyrmClientError::attempts) made.
///
/// ```no_run
/// use bookwyrm::{AsyncBookWyrmClient, PhrasalRequest, PhrasalStreamEvent};
///
/// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
/// let client = AsyncBookWyrmClient::new()?;
/// let mut stream = client.stream_process_text(PhrasalRequest::from_text("One. Two.")).await?;
/// while let Some(item) = stream.next().await {
///     match item {
///         Ok(PhrasalStreamEvent::TextSpan(span)) => {
///             println!("{}..{}: {}", span.start_char, span.end_char, span.text)
///         }
///         Ok(_) => {}
///         // A malformed event: keep reading, the next ones are good.
///         Err(e) if !e.ends_stream() => eprintln!("skipped ({:?}): {e}", e.request_id()),
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a stream does nothing unless polled; dropping it closes its connection"]
pub struct EventStream<E> {
    decoding: Decoding,
    watchdog: Watchdog,
    recovery: Recovery<E>,
    telemetry: Telemetry,
    errors_as_err: bool,
    /// Where malformed events go instead of the caller, when set.
    skipped: Option<MalformedEvents>,
    request_id: Option<String>,
    /// Attempts made to open the current request (retries before its first event included).
    attempts: u32,
    delivered: u64,
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("event", &std::any::type_name::<E>())
            .field(
                "finished",
                &(!self.decoding.is_open() && !self.recovery.is_reopening()),
            )
            .field("last_event_id", &self.decoding.last_event_id())
            .field("request_id", &self.request_id)
            .field("delivered", &self.delivered)
            .field("resumes", &self.recovery.resumes())
            .finish_non_exhaustive()
    }
}

impl<E: StreamEvent> EventStream<E> {
    pub(crate) fn new(
        body: Body,
        idle_timeout: Option<Duration>,
        limits: (usize, usize),
        request_id: Option<String>,
        retry: Option<(Reopen, u32, RetryPolicy)>,
    ) -> Self {
        let attempts = retry.as_ref().map_or(1, |(_, n, _)| n + 1);
        Self {
            decoding: Decoding::new(body, limits),
            watchdog: Watchdog::new(idle_timeout),
            recovery: Recovery::new(retry),
            telemetry: Telemetry::default(),
            errors_as_err: false,
            skipped: None,
            request_id,
            attempts,
            delivered: 0,
        }
    }

    /// A stream over any byte stream, for decoding recorded or custom transports (tests,
    /// replays). No idle timeout applies.
    ///
    /// ```
    /// use bookwyrm::StreamExt;
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
    /// # use bookwyrm::StreamExt;
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
        self.errors_as_err_in_place();
        self
    }

    /// [`errors_as_err`](Self::errors_as_err) on a borrowed stream (for the `collect_*`
    /// methods, which leave the stream to its caller).
    pub(crate) fn errors_as_err_in_place(&mut self) -> &mut Self {
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
        self.decoding.last_event_id()
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

    /// How many times the stream resumed after a break (see
    /// [`ResumePolicy`](crate::ResumePolicy)).
    ///
    /// ```
    /// let s = bookwyrm::EventStream::<bookwyrm::PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::empty::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// assert_eq!(s.resumes(), 0);
    /// ```
    pub fn resumes(&self) -> u32 {
        self.recovery.resumes()
    }

    /// A handle that ends this stream (and closes its connection) with a reason of the
    /// caller's: the next item is [`BookWyrmClientError::Cancelled`], the metrics record the
    /// outcome `cancelled`, and the client's other streams go on. Clones cancel the same
    /// stream; cancelling a stream that already ended changes nothing.
    ///
    /// ```
    /// use bookwyrm::{BookWyrmClientError, EventStream, PhrasalStreamEvent};
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// // A stream whose server never answers.
    /// let mut stream = EventStream::<PhrasalStreamEvent>::from_byte_stream(
    ///     futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>(),
    /// );
    /// let canceller = stream.canceller();
    /// tokio::spawn(async move { canceller.cancel("the caller went away") });
    /// match stream.next().await {
    ///     Some(Err(BookWyrmClientError::Cancelled(c))) => assert_eq!(c.reason(), "the caller went away"),
    ///     other => panic!("{other:?}"),
    /// }
    /// assert!(stream.next().await.is_none());
    /// # });
    /// ```
    pub fn canceller(&mut self) -> StreamCanceller {
        self.watchdog.canceller()
    }

    /// Resumes this stream with `resumer` after a break, as `policy` allows, waiting
    /// `backoff`'s delays; `policy` also sets the stream's budget of retries and resumes.
    pub(crate) fn resuming(
        mut self,
        resumer: impl Resumer<E> + 'static,
        (policy, backoff): (&ResumePolicy, &RetryPolicy),
    ) -> Self {
        self.recovery.resuming(Box::new(resumer), policy, backoff);
        self
    }

    /// Ends the stream with `Closed` when `cancel` is set, and with a
    /// [`TimeoutKind::StreamDeadline`](crate::TimeoutKind::StreamDeadline) error at
    /// `deadline` (an instant and the configured length).
    pub(crate) fn ending_with(
        mut self,
        cancel: crate::transport::Halt,
        deadline: Option<(tokio::time::Instant, Duration)>,
    ) -> Self {
        self.watchdog.ending_with(cancel, deadline);
        self
    }

    /// Logs this stream's retries and resumes in `span` (its call's), under which its resume
    /// requests open too.
    pub(crate) fn in_call(mut self, span: tracing::Span) -> Self {
        self.recovery.in_call(span);
        self
    }

    /// Reports this stream's metrics to `meter` (feature `metrics`).
    pub(crate) fn measured(mut self, meter: crate::telemetry::StreamMeter) -> Self {
        self.telemetry = Telemetry::measured(meter);
        self
    }

    fn finish(&mut self) {
        self.decoding.close();
        self.watchdog.stop();
        self.recovery.stop();
    }

    /// The error that ends the stream now (and the stream ended), if its client was closed
    /// with `close_now` or its deadline passed; polling registers for both.
    fn ended(&mut self, cx: &mut Context<'_>) -> Option<BookWyrmClientError> {
        let error = self.watchdog.ending(cx, self.delivered)?;
        self.finish();
        Some(error)
    }

    /// Nothing to hand out yet: `Pending`, unless the stream must end now.
    fn wait(&mut self, cx: &mut Context<'_>) -> Polled<E> {
        match self.ended(cx) {
            Some(e) => Poll::Ready(Some(Err(e))),
            None => Poll::Pending,
        }
    }

    /// Counts an item as handed out (from then on the stream is never retried).
    fn handed_out(&mut self) {
        self.delivered += 1;
        self.recovery.delivered_one();
    }

    /// Hands out an item (a server error event as an `Err` when asked).
    fn deliver(&mut self, item: Result<E, BookWyrmClientError>) -> Polled<E> {
        self.handed_out();
        let item = match item {
            Ok(event) if self.errors_as_err => match event.server_error() {
                Some(err) => Err(BookWyrmClientError::ServerEvent(Box::new(err))),
                None => Ok(event),
            },
            // One event's data did not decode: the stream goes on.
            Err(e) => Err(e.item_only()),
            other => other,
        };
        Poll::Ready(Some(item))
    }

    /// What the decoding layer gave: the item to hand out, or `None` to poll on.
    fn step(&mut self, step: Step<E>) -> Option<Polled<E>> {
        match step {
            Step::Item(Ok(event)) => match self.recovery.accept(event, self.delivered) {
                Verdict::Deliver(event) => Some(self.deliver(Ok(event))),
                Verdict::Hold => None,
                Verdict::End(error) => self.follow(Next::End(Some(Err(error)))),
            },
            Step::Item(Err(e)) => match &self.skipped {
                Some(skipped) => {
                    skipped.push(
                        e.item_only()
                            .with_call(self.request_id.as_deref(), self.attempts),
                    );
                    // Counted as handed out: a retry would send it again.
                    self.handed_out();
                    None
                }
                None => Some(self.deliver(Err(e))),
            },
            Step::Broke { error, retry } => self.broke(error, Break::Failed, retry),
            Step::Ended if self.recovery.expects_more() => {
                let early = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                let e = BookWyrmClientError::transport(
                    "the stream ended before its operation's final event",
                    early,
                );
                self.broke(e, Break::EndedEarly, false)
            }
            Step::Ended => self.follow(Next::End(None)),
            Step::Refused(e) => self.follow(Next::End(Some(Err(e)))),
        }
    }

    /// The current body broke: the recovery layer decides what follows.
    fn broke(&mut self, error: BookWyrmClientError, how: Break, retry: bool) -> Option<Polled<E>> {
        self.decoding.close();
        self.watchdog.restart_idle();
        let error = error.with_call(self.request_id.as_deref(), self.attempts);
        let next = self.recovery.on_break(error, how, retry, self.delivered);
        self.follow(next)
    }

    /// Follows the recovery layer's answer: poll on (a new request), or the last item.
    fn follow(&mut self, next: Next<E>) -> Option<Polled<E>> {
        match next {
            Next::Reopening(Recovering::Retry) => {
                self.telemetry.retried();
                None
            }
            Next::Reopening(Recovering::Resume) => {
                self.telemetry.resumed();
                None
            }
            Next::End(item) => {
                self.finish();
                Some(match item {
                    Some(Ok(event)) => self.deliver(Ok(event)),
                    other => Poll::Ready(other),
                })
            }
        }
    }

    /// A new request gave a body: decoding starts again from it.
    fn reopened(&mut self, body: Body, request_id: Option<String>, attempts: u32) {
        self.decoding.replace(body);
        self.watchdog.restart_idle();
        self.request_id = request_id;
        self.attempts = attempts;
    }

    /// The next item: a new request's outcome first, then the body's next step; the
    /// watchdog while the body waits.
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Polled<E> {
        if self.watchdog.due()
            && !self.is_terminated()
            && let Some(e) = self.ended(cx)
        {
            return Poll::Ready(Some(Err(e)));
        }
        loop {
            if self.recovery.is_reopening() {
                match self.recovery.poll_reopened(cx, self.delivered) {
                    Poll::Pending => return self.wait(cx),
                    Poll::Ready(Reopened::Opened {
                        body,
                        request_id,
                        attempts,
                    }) => self.reopened(body, request_id, attempts),
                    Poll::Ready(Reopened::Then(next)) => match self.follow(next) {
                        Some(item) => return item,
                        None => continue,
                    },
                }
            }
            if !self.decoding.is_open() {
                return Poll::Ready(None);
            }
            let step = match self.decoding.poll_step(cx) {
                Poll::Ready(step) => step,
                Poll::Pending => {
                    if let Some(e) = self.ended(cx) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    let fresh = self.decoding.take_fresh();
                    match self.watchdog.poll_idle(cx, fresh) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(silent) => Step::Broke {
                            error: silent,
                            retry: false,
                        },
                    }
                }
            };
            if let Some(item) = self.step(step) {
                return item;
            }
        }
    }
}

impl<E: StreamEvent> Stream for EventStream<E> {
    type Item = Result<E, BookWyrmClientError>;

    /// The next item; every error carries the stream's request id and attempts.
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = match this.poll_item(cx) {
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(
                e.with_call(this.request_id.as_deref(), this.attempts)
            ))),
            other => other,
        };
        this.telemetry.item(&item);
        item
    }
}

impl<E: StreamEvent> FusedStream for EventStream<E> {
    fn is_terminated(&self) -> bool {
        !self.decoding.is_open() && !self.recovery.is_reopening()
    }
}
