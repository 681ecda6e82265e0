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

use crate::error::{BookWyrmClientError, TimeoutKind};
use crate::error::{InterruptReason, Interrupted};
use crate::event::{Decoded, StreamEvent};
use crate::reopen::{Body, Reopen, Reopening};
use crate::resume::{Accept, Break, Plan, ResumePolicy, Resumer};
use crate::retry::RetryPolicy;
use crate::sse;

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

/// What a stream needs to resume itself after events were delivered (see [`crate::resume`]).
struct Resume<E> {
    resumer: Box<dyn Resumer<E>>,
    /// Resumes allowed in a row without a new event.
    max_in_a_row: u32,
    in_a_row: u32,
    /// Resumes made.
    total: u32,
    /// Waits between resumes.
    backoff: RetryPolicy,
    /// An `error` event was delivered: what follows is not resumed.
    stopped: bool,
    /// The error that broke the stream, kept while a resume is under way.
    cause: Option<BookWyrmClientError>,
}

/// What a stream needs to retry itself before its first event.
struct Retry {
    reopen: Reopen,
    attempts: u32,
    policy: RetryPolicy,
}

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
    /// Attempts made to open the stream (retries before its first event included).
    attempts: u32,
    /// Cancelled by the client's `close_now`: the stream ends with `Closed`.
    cancel: Option<crate::transport::Halt>,
    /// Waits for `cancel`, armed when the stream waits.
    cancelled: Option<Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>>,
    /// The stream's total deadline and its length.
    deadline: Option<(Pin<Box<tokio::time::Sleep>>, Duration)>,
    /// Its metrics (feature `metrics`), reported when it ends or is dropped.
    meter: Option<crate::telemetry::StreamMeter>,
    /// Resumes after a break (when the client's policy allows them).
    resume: Option<Resume<E>>,
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
            .field("resumes", &self.resume.as_ref().map_or(0, |r| r.total))
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
            attempts,
            cancel: None,
            cancelled: None,
            deadline: None,
            meter: None,
            resume: None,
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
        self.resume.as_ref().map_or(0, |r| r.total)
    }

    /// Resumes this stream with `resumer` after a break, as `policy` allows, waiting
    /// `backoff`'s delays.
    pub(crate) fn resuming(
        mut self,
        resumer: impl Resumer<E> + 'static,
        (policy, backoff): (&ResumePolicy, &RetryPolicy),
    ) -> Self {
        if policy.enabled() {
            self.resume = Some(Resume {
                resumer: Box::new(resumer),
                max_in_a_row: policy.max_resumes,
                in_a_row: 0,
                total: 0,
                backoff: backoff.clone(),
                stopped: false,
                cause: None,
            });
        }
        self
    }

    fn finish(&mut self) {
        self.body = None;
        self.idle = None;
        self.retry = None;
        self.reopening = None;
        self.cancel = None;
        self.cancelled = None;
        self.deadline = None;
        if let Some(r) = &mut self.resume {
            r.stopped = true;
            r.resumer = Box::new(crate::resume::NotResumable("the stream has ended"));
        }
    }

    /// Ends the stream with `Closed` when `cancel` is cancelled, and with a
    /// [`TimeoutKind::StreamDeadline`] error at `deadline` (an instant and the configured
    /// length).
    pub(crate) fn ending_with(
        mut self,
        cancel: crate::transport::Halt,
        deadline: Option<(tokio::time::Instant, Duration)>,
    ) -> Self {
        self.cancel = Some(cancel);
        self.deadline = deadline.map(|(at, d)| (Box::pin(tokio::time::sleep_until(at)), d));
        self
    }

    /// Reports this stream's metrics to `meter` (feature `metrics`).
    pub(crate) fn measured(mut self, meter: crate::telemetry::StreamMeter) -> Self {
        self.meter = Some(meter);
        self
    }

    /// The error that ends the stream now (and the stream ended), if its client was closed
    /// with `close_now` or its deadline passed; polling registers for both.
    fn ended(&mut self, cx: &mut Context<'_>) -> Option<BookWyrmClientError> {
        let error = self.ending(cx)?;
        self.finish();
        Some(error)
    }

    fn ending(&mut self, cx: &mut Context<'_>) -> Option<BookWyrmClientError> {
        if let Some(cancel) = &self.cancel {
            let waiting = self
                .cancelled
                .get_or_insert_with(|| Box::pin(cancel.token().clone().cancelled_owned()));
            if cancel.is_set() || waiting.as_mut().poll(cx).is_ready() {
                return Some(BookWyrmClientError::Closed);
            }
        }
        if let Some((sleep, d)) = &mut self.deadline {
            if sleep.as_mut().poll(cx).is_ready() {
                tracing::warn!(target: "bookwyrm", deadline_ms = d.as_millis() as u64, "the stream's deadline passed");
                return Some(BookWyrmClientError::timeout(
                    TimeoutKind::StreamDeadline,
                    Some(*d),
                ));
            }
        }
        None
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
                if let Some(meter) = &self.meter {
                    crate::telemetry::retried(meter.operation());
                }
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

    /// The stream broke (`how`, with `cause`): a resume under way (`None`: poll on), or the
    /// stream's last item. Only a stream that delivered events resumes.
    #[allow(clippy::type_complexity)]
    fn interrupt(
        &mut self,
        cause: BookWyrmClientError,
        how: Break,
    ) -> Option<Poll<Option<Result<E, BookWyrmClientError>>>> {
        let delivered = self.delivered;
        // Before the first event the retry policy alone decides (`try_reopen`).
        let Some(r) = self.resume.as_mut().filter(|r| !r.stopped && delivered > 0) else {
            self.finish();
            return Some(match how {
                Break::EndedEarly => Poll::Ready(None),
                Break::Failed => Poll::Ready(Some(Err(cause.after_events(delivered)))),
            });
        };
        let reopen = match r.resumer.plan(how) {
            Plan::Finish(last) => {
                tracing::debug!(target: "bookwyrm", "the stream broke after its last result; finished without a new request");
                self.finish();
                return Some(match last {
                    Some(event) => self.deliver(Ok(event)),
                    None => Poll::Ready(None),
                });
            }
            Plan::Cannot(why) => {
                return Some(self.interrupted(cause, InterruptReason::NotResumable(why)))
            }
            Plan::Reopen(_) if r.in_a_row >= r.max_in_a_row => {
                return Some(self.interrupted(cause, InterruptReason::TooManyResumes))
            }
            Plan::Reopen(reopen) => reopen,
        };
        let delay = r.backoff.jittered(r.in_a_row);
        r.in_a_row += 1;
        r.total += 1;
        tracing::warn!(
            target: "bookwyrm",
            resume = r.total,
            from = %r.resumer.point(),
            delivered,
            delay_ms = delay.as_millis() as u64,
            cause = %cause,
            "resuming the stream"
        );
        if let Some(meter) = &self.meter {
            crate::telemetry::resumed(meter.operation());
        }
        r.cause = Some(cause);
        self.body = None;
        self.idle = None;
        self.idle_armed = false;
        self.reopening = Some(Box::pin(async move {
            tokio::time::sleep(delay).await;
            reopen(0).await
        }));
        None
    }

    /// Ends the stream with an [`Interrupted`] error.
    fn interrupted(
        &mut self,
        cause: BookWyrmClientError,
        reason: InterruptReason,
    ) -> Poll<Option<Result<E, BookWyrmClientError>>> {
        let r = self.resume.as_mut().expect("only called when resuming");
        let error = Interrupted {
            cause: cause.after_events(self.delivered),
            reason,
            delivered: self.delivered,
            resumes: r.total,
            point: r.resumer.point(),
        };
        self.finish();
        Poll::Ready(Some(Err(BookWyrmClientError::Interrupted(Box::new(error)))))
    }

    /// Whether a reopening under way is a resume (else a retry before the first event).
    fn resuming_now(&self) -> bool {
        self.resume.as_ref().is_some_and(|r| r.cause.is_some())
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
            // One event's data did not decode: the stream goes on.
            Err(e) => Err(e.item_only()),
            other => other,
        };
        Poll::Ready(Some(item))
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
        if let (Poll::Ready(item), Some(meter)) = (&item, &mut this.meter) {
            match item {
                Some(Ok(_)) => meter.event(),
                Some(Err(e)) if e.ends_stream() => meter.end(Some(e)),
                Some(Err(_)) => {}
                None => meter.end(None),
            }
        }
        item
    }
}

impl<E: StreamEvent> EventStream<E> {
    fn poll_item(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<E, BookWyrmClientError>>> {
        let this = self;
        let ending = this.cancel.as_ref().is_some_and(|c| c.is_set())
            || this.deadline.as_ref().is_some_and(|(s, _)| s.is_elapsed());
        if ending && !this.is_terminated() {
            if let Some(e) = this.ended(cx) {
                return Poll::Ready(Some(Err(e)));
            }
        }
        loop {
            if let Some(reopening) = this.reopening.as_mut() {
                match reopening.as_mut().poll(cx) {
                    Poll::Pending => {
                        if let Some(e) = this.ended(cx) {
                            return Poll::Ready(Some(Err(e)));
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Ok((body, request_id, attempts))) => {
                        this.reopening = None;
                        if let Some(r) = &mut this.resume {
                            r.cause = None;
                        }
                        this.body = Some(body);
                        this.request_id = request_id;
                        this.attempts = attempts + 1;
                        this.decoder = sse::Decoder::with_limits(this.limits.0, this.limits.1);
                        if let Some(r) = &mut this.retry {
                            r.attempts = attempts;
                        }
                    }
                    Poll::Ready(Err(e)) if this.resuming_now() => {
                        this.reopening = None;
                        let r = this.resume.as_mut().expect("resuming");
                        r.cause = None;
                        if e.status_code().is_some() {
                            return this.interrupted(e, InterruptReason::ErrorStatus);
                        }
                        match this.interrupt(e, Break::Failed) {
                            Some(item) => return item,
                            None => continue,
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
                            skipped.push(
                                e.item_only()
                                    .with_call(this.request_id.as_deref(), this.attempts),
                            );
                            // Counted as handed out: a retry would send it again.
                            this.handed_out();
                            continue;
                        }
                        (Ok(event), _) => match this.resume.as_mut() {
                            Some(r) if !r.stopped => {
                                if event.server_error().is_some() {
                                    // Never resumed after an error event.
                                    r.stopped = true;
                                    return this.deliver(Ok(event));
                                }
                                match r.resumer.accept(event) {
                                    Accept::New(event) => {
                                        r.in_a_row = 0;
                                        return this.deliver(Ok(event));
                                    }
                                    Accept::Pass(event) => return this.deliver(Ok(event)),
                                    Accept::Hold => continue,
                                    Accept::Diverged(how) => {
                                        let cause = r.cause.take().unwrap_or_else(|| {
                                            BookWyrmClientError::decode(
                                                "the resumed stream",
                                                Bytes::new(),
                                                None,
                                            )
                                        });
                                        return this
                                            .interrupted(cause, InterruptReason::Diverged(how));
                                    }
                                }
                            }
                            _ => return this.deliver(Ok(event)),
                        },
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
                    match this.interrupt(e, Break::Failed) {
                        Some(item) => return item,
                        None => continue,
                    }
                }
                Poll::Ready(None) => {
                    // An event not ended by a blank line is not dispatched (WHATWG), but it is
                    // not dropped silently either: the stream's last item says it was cut.
                    let cut = this.decoder.unfinished().map(|raw| {
                        BookWyrmClientError::decode(
                            "the event stream: it ended in the middle of an event",
                            Bytes::from(raw),
                            None,
                        )
                    });
                    let early = this
                        .resume
                        .as_ref()
                        .is_some_and(|r| !r.stopped && !r.resumer.complete());
                    let step = match cut {
                        Some(e) => this.interrupt(e, Break::Failed),
                        None if early => this.interrupt(
                            BookWyrmClientError::transport(
                                "the stream ended before its operation's final event",
                                std::io::Error::from(std::io::ErrorKind::UnexpectedEof),
                            ),
                            Break::EndedEarly,
                        ),
                        None => {
                            this.finish();
                            Some(Poll::Ready(None))
                        }
                    };
                    match step {
                        Some(item) => return item,
                        None => continue,
                    }
                }
                Poll::Pending => {
                    if let Some(e) = this.ended(cx) {
                        return Poll::Ready(Some(Err(e)));
                    }
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
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    let silent = BookWyrmClientError::timeout(TimeoutKind::Idle, Some(limit));
                    match this.interrupt(silent, Break::Failed) {
                        Some(item) => return item,
                        None => continue,
                    }
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
