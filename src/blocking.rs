//! [`BookWyrmClient`], the synchronous client (feature `blocking`): the same operations as
//! [`AsyncBookWyrmClient`], streams as iterators, on a runtime of its own.
//!
//! The client owns a current-thread Tokio runtime, driven by the thread that calls (no thread
//! of its own, no hand-off between threads per event or call), so it works in programs with no
//! runtime at all. Threads sharing a client take turns driving it; between calls nothing runs,
//! and a dropped stream lets the runtime run once so that its connection closes at once.
//! Called from inside an async runtime, where blocking would stall that runtime's thread,
//! every method returns [`BookWyrmClientError::BlockingInAsyncContext`] instead of panicking
//! or deadlocking.
//!
//! ```no_run
//! use bookwyrm::blocking::BookWyrmClient;
//! use bookwyrm::{PhrasalRequest, PhrasalStreamEvent};
//!
//! let client = BookWyrmClient::new()?;
//! for event in client.stream_process_text(PhrasalRequest::from_text("One. Two."))? {
//!     if let PhrasalStreamEvent::TextSpan(span) = event? {
//!         println!("{}", span.text);
//!     }
//! }
//! # Ok::<(), bookwyrm::BookWyrmClientError>(())
//! ```

use std::future::Future;
use std::sync::Arc;

use crate::client::{AsyncBookWyrmClient, ClientBuilder, Config};
use crate::collect::{Accumulator, Observer};
use crate::error::BookWyrmClientError;
use crate::event::StreamEvent;
use crate::ops::cite::{CitationRequest, CitationResult};
use crate::ops::classify::ClassifyRequest;
use crate::ops::pdf::{PdfExtractRequest, PdfExtractResult};
use crate::ops::phrasal::PhrasalRequest;
use crate::ops::summarize::{StructuredSummary, SummarizeRequest};
use crate::stream::{EventStream, MalformedEvents, StreamCanceller};
use crate::types::{
    self, CitationStreamEvent, ClassifyStreamEvent, PdfStreamEvent, PhrasalStreamEvent,
    SummarizeStreamEvent,
};

/// The runtime, shut down in the background when the last clone goes (dropping a runtime
/// inside another one would panic).
struct Runtime(Option<tokio::runtime::Runtime>);

impl Drop for Runtime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Runtime {
    fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, BookWyrmClientError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(BookWyrmClientError::BlockingInAsyncContext);
        }
        Ok(self
            .0
            .as_ref()
            .expect("the runtime lives until drop")
            .block_on(fut))
    }

    /// Lets the runtime run what is ready (a connection task woken by a dropped body closes its
    /// connection) and returns; nothing if called inside a runtime.
    fn settle(&self) {
        if let Some(rt) = &self.0
            && tokio::runtime::Handle::try_current().is_err()
        {
            rt.block_on(tokio::task::yield_now());
        }
    }

    /// The next item of `stream` if it is there without waiting: one poll with no waker, in
    /// this runtime's context. `None` when it would wait (or when called inside a runtime, for
    /// `block_on` to refuse), so that `block_on` polls again with its waker. Most events of a
    /// busy stream are ready already, and this costs far less than a `block_on` each.
    fn ready_now<S: futures_core::Stream + Unpin>(
        &self,
        stream: &mut S,
    ) -> Option<Option<S::Item>> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return None;
        }
        let _entered = self.0.as_ref()?.enter();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match std::pin::Pin::new(stream).poll_next(&mut cx) {
            std::task::Poll::Ready(item) => Some(item),
            std::task::Poll::Pending => None,
        }
    }
}

/// The synchronous BookWyrm client (Python's `BookWyrmClient`). Cheap to clone.
///
/// ```no_run
/// use bookwyrm::blocking::BookWyrmClient;
/// use bookwyrm::{CitationRequest, TextSpan};
///
/// let client = BookWyrmClient::new()?;
/// let answer = client.get_citations(CitationRequest::from_chunks(
///     vec![TextSpan::new(0, "Nunez fell.")],
///     "Who fell?",
/// ))?;
/// println!("{} citations", answer.total_citations);
/// # Ok::<(), bookwyrm::BookWyrmClientError>(())
/// ```
#[derive(Clone)]
pub struct BookWyrmClient {
    inner: AsyncBookWyrmClient,
    rt: Arc<Runtime>,
}

impl std::fmt::Debug for BookWyrmClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BookWyrmClient")
            .field("inner", &self.inner)
            .finish()
    }
}

impl ClientBuilder {
    /// Builds a [`BookWyrmClient`] (feature `blocking`).
    ///
    /// ```
    /// let client = bookwyrm::AsyncBookWyrmClient::builder()
    ///     .base_url("http://127.0.0.1:8765")
    ///     .build_blocking()
    ///     .unwrap();
    /// # drop(client);
    /// ```
    pub fn build_blocking(self) -> Result<BookWyrmClient, BookWyrmClientError> {
        BookWyrmClient::from_async(self.build()?)
    }
}

impl BookWyrmClient {
    /// A client configured from the environment, like [`AsyncBookWyrmClient::new`].
    ///
    /// ```no_run
    /// let client = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// # drop(client);
    /// ```
    pub fn new() -> Result<Self, BookWyrmClientError> {
        Self::from_async(AsyncBookWyrmClient::new()?)
    }

    /// Wraps an async client (sharing its connections and settings) with a runtime of its own.
    ///
    /// ```
    /// let async_client = bookwyrm::AsyncBookWyrmClient::builder().build().unwrap();
    /// let client = bookwyrm::blocking::BookWyrmClient::from_async(async_client).unwrap();
    /// # drop(client);
    /// ```
    pub fn from_async(inner: AsyncBookWyrmClient) -> Result<Self, BookWyrmClientError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .thread_name("bookwyrm-blocking")
            .enable_all()
            .build()
            .map_err(|e| {
                BookWyrmClientError::transport("could not start the client's runtime", e)
            })?;
        Ok(Self {
            inner,
            rt: Arc::new(Runtime(Some(rt))),
        })
    }

    /// The async client inside (same connections and settings).
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// assert_eq!(c.as_async().base_url(), bookwyrm::DEFAULT_BASE_URL);
    /// ```
    pub fn as_async(&self) -> &AsyncBookWyrmClient {
        &self.inner
    }

    /// A handle on the same connections and runtime with `inner`'s settings.
    fn sharing(&self, inner: AsyncBookWyrmClient) -> Self {
        Self {
            inner,
            rt: self.rt.clone(),
        }
    }

    /// [`AsyncBookWyrmClient::base_url`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// assert_eq!(c.base_url(), bookwyrm::DEFAULT_BASE_URL);
    /// ```
    pub fn base_url(&self) -> &str {
        self.inner.base_url()
    }

    /// [`AsyncBookWyrmClient::config`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// assert!(c.config().timeout.is_some());
    /// ```
    pub fn config(&self) -> &Config {
        self.inner.config()
    }

    /// [`AsyncBookWyrmClient::with_config`]: a handle with changed settings, sharing the
    /// connections and the runtime.
    ///
    /// ```
    /// use std::time::Duration;
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// let patient = c.with_config(|c| c.timeout = Some(Duration::from_secs(1800)));
    /// assert_eq!(patient.config().timeout, Some(Duration::from_secs(1800)));
    /// ```
    pub fn with_config(&self, change: impl FnOnce(&mut Config)) -> Self {
        self.sharing(self.inner.with_config(change))
    }

    /// [`AsyncBookWyrmClient::with_header`]: a handle that sends this header too.
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// let tagged = c.with_header("x-team", "search").unwrap();
    /// assert_eq!(tagged.config().headers["x-team"], "search");
    /// assert!(c.with_header("bad name", "v").is_err());
    /// ```
    pub fn with_header(
        &self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
    ) -> Result<Self, BookWyrmClientError> {
        Ok(self.sharing(self.inner.with_header(name, value)?))
    }

    /// [`AsyncBookWyrmClient::deprecation_notice`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// assert_eq!(c.deprecation_notice(), None);
    /// ```
    pub fn deprecation_notice(&self) -> Option<String> {
        self.inner.deprecation_notice()
    }

    /// [`AsyncBookWyrmClient::is_closed`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// c.close();
    /// assert!(c.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    fn run<T>(
        &self,
        fut: impl Future<Output = Result<T, BookWyrmClientError>>,
    ) -> Result<T, BookWyrmClientError> {
        self.rt.block_on(fut)?
    }

    fn stream<E: StreamEvent>(
        &self,
        fut: impl Future<Output = Result<EventStream<E>, BookWyrmClientError>>,
    ) -> Result<BlockingStream<E>, BookWyrmClientError> {
        Ok(BlockingStream {
            inner: self.run(fut)?,
            rt: Settling(self.rt.clone()),
        })
    }

    /// [`AsyncBookWyrmClient::get_citations`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let r = c.get_citations(bookwyrm::CitationRequest::from_jsonl_url("https://example.com/b.jsonl", "Who?"))?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn get_citations(
        &self,
        request: CitationRequest,
    ) -> Result<types::CitationResponse, BookWyrmClientError> {
        self.run(self.inner.get_citations(request))
    }

    /// [`AsyncBookWyrmClient::stream_citations`], as an iterator.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let all = c.stream_citations(bookwyrm::CitationRequest::from_jsonl_url("https://example.com/b.jsonl", "Who?"))?
    ///     .collect_citations()?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn stream_citations(
        &self,
        request: CitationRequest,
    ) -> Result<BlockingStream<CitationStreamEvent>, BookWyrmClientError> {
        self.stream(self.inner.stream_citations(request))
    }

    /// [`AsyncBookWyrmClient::summarize`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let s = c.summarize(bookwyrm::SummarizeRequest::from_content("Text."))?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn summarize(
        &self,
        request: SummarizeRequest,
    ) -> Result<types::SummaryResponse, BookWyrmClientError> {
        self.run(self.inner.summarize(request))
    }

    /// [`AsyncBookWyrmClient::summarize_structured`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Book { title: Option<String> }
    /// let b = c.summarize_structured::<Book>(bookwyrm::SummarizeRequest::from_content("Text."))?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn summarize_structured<T>(
        &self,
        request: SummarizeRequest,
    ) -> Result<StructuredSummary<T>, BookWyrmClientError>
    where
        T: schemars::JsonSchema + serde::de::DeserializeOwned,
    {
        self.run(self.inner.summarize_structured::<T>(request))
    }

    /// [`AsyncBookWyrmClient::stream_summarize`], as an iterator.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let s = c.stream_summarize(bookwyrm::SummarizeRequest::from_content("Text."))?.final_summary()?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn stream_summarize(
        &self,
        request: SummarizeRequest,
    ) -> Result<BlockingStream<SummarizeStreamEvent>, BookWyrmClientError> {
        self.stream(self.inner.stream_summarize(request))
    }

    /// [`AsyncBookWyrmClient::stream_process_text`], as an iterator.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let phrases = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?.collect_phrases()?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn stream_process_text(
        &self,
        request: PhrasalRequest,
    ) -> Result<BlockingStream<PhrasalStreamEvent>, BookWyrmClientError> {
        self.stream(self.inner.stream_process_text(request))
    }

    /// [`AsyncBookWyrmClient::classify`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let r = c.classify(bookwyrm::ClassifyRequest::from_text("{}"))?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn classify(
        &self,
        request: ClassifyRequest,
    ) -> Result<types::ClassifyResponse, BookWyrmClientError> {
        self.run(self.inner.classify(request))
    }

    /// [`AsyncBookWyrmClient::stream_classify`], as an iterator.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let r = c.stream_classify(bookwyrm::ClassifyRequest::from_text("{}"))?.classification()?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn stream_classify(
        &self,
        request: ClassifyRequest,
    ) -> Result<BlockingStream<ClassifyStreamEvent>, BookWyrmClientError> {
        self.stream(self.inner.stream_classify(request))
    }

    /// [`AsyncBookWyrmClient::stream_extract_pdf`], as an iterator.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// for e in c.stream_extract_pdf(bookwyrm::PdfExtractRequest::from_url("https://example.com/r.pdf"))? {
    ///     println!("{:?}", e?);
    /// }
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn stream_extract_pdf(
        &self,
        request: PdfExtractRequest,
    ) -> Result<BlockingStream<PdfStreamEvent>, BookWyrmClientError> {
        self.stream(self.inner.stream_extract_pdf(request))
    }

    /// [`AsyncBookWyrmClient::extract_pdf`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let r = c.extract_pdf(bookwyrm::PdfExtractRequest::from_url("https://example.com/r.pdf"))?;
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn extract_pdf(
        &self,
        request: PdfExtractRequest,
    ) -> Result<PdfExtractResult, BookWyrmClientError> {
        self.run(self.inner.extract_pdf(request))
    }

    /// Closes the client (and every clone, and the async client it wraps).
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// c.close();
    /// assert!(c.as_async().is_closed());
    /// ```
    pub fn close(&self) {
        self.inner.close();
    }

    /// Closes the client and ends its work in flight now (every call and stream under way, on
    /// any thread, ends with [`BookWyrmClientError::Closed`]); see
    /// [`AsyncBookWyrmClient::close_now`].
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// c.close_now();
    /// assert!(c.as_async().is_closed());
    /// ```
    pub fn close_now(&self) {
        self.inner.close_now();
    }

    /// What the client's requests went through: requests per path, connections, TLS
    /// handshakes, reuses (see [`AsyncBookWyrmClient::transport_stats`]).
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// let stats = c.transport_stats();
    /// assert_eq!((stats.direct, stats.general), (0, 0));
    /// ```
    pub fn transport_stats(&self) -> crate::transport::TransportStats {
        self.inner.transport_stats()
    }

    /// Runs `body` with the client and closes it afterwards, also on error or panic.
    ///
    /// ```
    /// let c = bookwyrm::AsyncBookWyrmClient::builder().build_blocking().unwrap();
    /// let kept = c.clone();
    /// let n = c.scoped(|_client| 42);
    /// assert_eq!(n, 42);
    /// assert!(kept.as_async().is_closed());
    /// ```
    pub fn scoped<T>(self, body: impl FnOnce(&BookWyrmClient) -> T) -> T {
        struct CloseOnDrop<'a>(&'a BookWyrmClient);
        impl Drop for CloseOnDrop<'_> {
            fn drop(&mut self) {
                self.0.close();
            }
        }
        let guard = CloseOnDrop(&self);
        body(guard.0)
    }
}

/// A stream of typed events as a blocking iterator. Dropping it closes the connection.
///
/// ```no_run
/// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
/// let mut s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A."))?;
/// while let Some(event) = s.next() {
///     println!("{:?}", event?);
/// }
/// # Ok::<(), bookwyrm::BookWyrmClientError>(())
/// ```
#[must_use = "a stream does nothing unless iterated; dropping it closes its connection"]
pub struct BlockingStream<E> {
    inner: EventStream<E>,
    /// Declared after `inner`, so dropped after it: the runtime settles once the stream is gone.
    rt: Settling,
}

/// The stream's runtime, which settles when the stream is dropped: with no thread of its own,
/// the runtime would otherwise leave a dropped body's connection open until the next call.
struct Settling(Arc<Runtime>);

impl std::ops::Deref for Settling {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        &self.0
    }
}

impl Drop for Settling {
    fn drop(&mut self) {
        self.0.settle();
    }
}

impl<E> std::fmt::Debug for BlockingStream<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockingStream")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<E: StreamEvent> Iterator for BlockingStream<E> {
    type Item = Result<E, BookWyrmClientError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(item) = self.rt.ready_now(&mut self.inner) {
            return item;
        }
        match self.rt.block_on(self.inner.next()) {
            Ok(item) => item,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<E: StreamEvent> BlockingStream<E> {
    /// The async stream inside.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A."))?;
    /// println!("last event id: {:?}", s.as_async().last_event_id());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn as_async(&self) -> &EventStream<E> {
        &self.inner
    }

    /// [`EventStream::request_id`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A."))?;
    /// println!("request {:?}", s.request_id());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id()
    }

    /// [`EventStream::last_event_id`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A."))?;
    /// println!("last event id {:?}", s.last_event_id());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn last_event_id(&self) -> &str {
        self.inner.last_event_id()
    }

    /// [`EventStream::delivered`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let mut s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?;
    /// let phrases = s.collect_phrases()?;
    /// println!("{} phrases of {} items", phrases.len(), s.delivered());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn delivered(&self) -> u64 {
        self.inner.delivered()
    }

    /// [`EventStream::resumes`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let mut s = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?;
    /// s.collect_phrases()?;
    /// println!("resumed {} times", s.resumes());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn resumes(&self) -> u32 {
        self.inner.resumes()
    }

    /// Server error events become `Err` items (see [`EventStream::errors_as_err`]).
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// for e in c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A."))?.errors_as_err() {
    ///     e?;
    /// }
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn errors_as_err(self) -> Self {
        Self {
            inner: self.inner.errors_as_err(),
            rt: self.rt,
        }
    }

    /// Malformed events go to `into` instead of the caller (see
    /// [`EventStream::skip_malformed`]).
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let skipped = bookwyrm::MalformedEvents::default();
    /// let phrases = c
    ///     .stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?
    ///     .skip_malformed(&skipped)
    ///     .collect_phrases()?;
    /// println!("{} phrases, {} malformed events skipped", phrases.len(), skipped.len());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn skip_malformed(self, into: &MalformedEvents) -> Self {
        Self {
            inner: self.inner.skip_malformed(into),
            rt: self.rt,
        }
    }

    /// A handle that ends this stream from another thread, with a reason (see
    /// [`EventStream::canceller`]): the iterator's next item is
    /// [`BookWyrmClientError::Cancelled`].
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let mut stream = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?;
    /// let canceller = stream.canceller();
    /// std::thread::spawn(move || {
    ///     std::thread::sleep(std::time::Duration::from_secs(10));
    ///     canceller.cancel("took longer than 10 s");
    /// });
    /// for event in stream {
    ///     println!("{:?}", event?);
    /// }
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn canceller(&mut self) -> StreamCanceller {
        self.inner.canceller()
    }

    /// [`EventStream::collect_with`], blocking: reads the stream into `accumulator`, showing
    /// every event to `observer` first.
    ///
    /// ```no_run
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let mut stream = c.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B."))?;
    /// let phrases: Vec<bookwyrm::TextSpan> = stream.collect_with(Vec::new(), &mut ())?;
    /// println!("{} phrases (request {:?})", phrases.len(), stream.as_async().request_id());
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn collect_with<A, O>(
        &mut self,
        accumulator: A,
        observer: &mut O,
    ) -> Result<A::Output, O::Error>
    where
        A: Accumulator<E>,
        O: Observer<E>,
    {
        self.rt
            .block_on(self.inner.collect_with(accumulator, observer))
            .map_err(O::Error::from)?
    }
}

macro_rules! accumulator {
    ($event:ty, $method:ident, $out:ty, $example:literal) => {
        impl BlockingStream<$event> {
            #[doc = concat!("[`EventStream::", stringify!($method), "`], blocking.")]
            ///
            /// ```no_run
            /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
            #[doc = $example]
            /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
            /// ```
            pub fn $method(&mut self) -> Result<$out, BookWyrmClientError> {
                self.rt.block_on(self.inner.$method())?
            }
        }
    };
}

accumulator!(
    CitationStreamEvent,
    collect_citations,
    CitationResult,
    "let r = c.stream_citations(bookwyrm::CitationRequest::from_jsonl_url(\"https://example.com/b.jsonl\", \"Who?\"))?.collect_citations()?;"
);
accumulator!(
    SummarizeStreamEvent,
    final_summary,
    types::SummaryResponse,
    "let s = c.stream_summarize(bookwyrm::SummarizeRequest::from_content(\"Text.\"))?.final_summary()?;"
);
accumulator!(
    PhrasalStreamEvent,
    collect_phrases,
    Vec<types::TextSpan>,
    "let p = c.stream_process_text(bookwyrm::PhrasalRequest::from_text(\"A. B.\"))?.collect_phrases()?;"
);
accumulator!(
    ClassifyStreamEvent,
    classification,
    types::ClassifyResponse,
    "let r = c.stream_classify(bookwyrm::ClassifyRequest::from_text(\"{}\"))?.classification()?;"
);
impl BlockingStream<SummarizeStreamEvent> {
    /// [`EventStream::final_structured`], blocking: the final summary parsed into `T`.
    ///
    /// ```no_run
    /// #[derive(bookwyrm::schemars::JsonSchema, serde::Deserialize, Debug)]
    /// # #[schemars(crate = "bookwyrm::schemars")]
    /// struct Brief { title: Option<String> }
    /// # let c = bookwyrm::blocking::BookWyrmClient::new().unwrap();
    /// let request = bookwyrm::SummarizeRequest::from_content("...").structured_as::<Brief>();
    /// let brief = c.stream_summarize(request)?.final_structured::<Brief>()?;
    /// println!("{:?}", brief.value);
    /// # Ok::<(), bookwyrm::BookWyrmClientError>(())
    /// ```
    pub fn final_structured<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<StructuredSummary<T>, BookWyrmClientError> {
        self.rt.block_on(self.inner.final_structured::<T>())?
    }
}

accumulator!(
    PdfStreamEvent,
    collect_pages,
    PdfExtractResult,
    "let r = c.stream_extract_pdf(bookwyrm::PdfExtractRequest::from_url(\"https://example.com/r.pdf\"))?.collect_pages()?;"
);
