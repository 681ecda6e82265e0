//! Reading a stream to its end: [`Accumulator`]s build an operation's result one event at a
//! time, [`Observer`]s see every event on the way (progress bars, logs, output as it
//! arrives), and [`EventStream::collect_with`] is the one loop that drives both. The
//! `collect_*` methods of each operation are this loop with the operation's accumulator and no
//! observer.

use futures_util::FutureExt as _;

use crate::error::BookWyrmClientError;
use crate::event::StreamEvent;
use crate::stream::EventStream;

/// What a stream's events are gathered into: the result of one operation, built one event at
/// a time. Implemented by [`CitationResult`](crate::CitationResult),
/// `Vec<`[`TextSpan`](crate::TextSpan)`>` (phrases), `Option<SummaryResponse>` (the final
/// summary), `Option<ClassifyResponse>` (the classification),
/// [`PdfPages`](crate::PdfPages), and `()` (nothing kept: for an observer alone).
///
/// ```
/// use bookwyrm::{types::TextSpanEvent, Accumulator, PhrasalStreamEvent, TextSpan};
/// let mut phrases: Vec<TextSpan> = Vec::new();
/// let span = TextSpanEvent { start_char: 0, end_char: 3, text: "Hi.".into() };
/// phrases.add(PhrasalStreamEvent::TextSpan(span));
/// assert_eq!(phrases.finish().unwrap()[0].end_char, 3);
/// ```
pub trait Accumulator<E> {
    /// What the stream reads into.
    type Output;
    /// Takes one event (error events reach it only when recoverable).
    fn add(&mut self, event: E);
    /// The result once the stream has ended: an error when the stream lacked what the result
    /// needs (e.g. it ended without a summary).
    fn finish(self) -> Result<Self::Output, BookWyrmClientError>;
}

/// `value`, or the decode error of a `stream` that ended without `what`: the `finish` of the
/// accumulators that keep one final event.
pub(crate) fn required<T>(
    value: Option<T>,
    stream: &str,
    what: &str,
) -> Result<T, BookWyrmClientError> {
    value.ok_or_else(|| {
        BookWyrmClientError::decode(
            format!("the {stream} stream: it ended without {what}"),
            bytes::Bytes::new(),
            None,
        )
    })
}

/// Nothing kept: for a stream read only for its [`Observer`].
///
/// ```
/// use bookwyrm::Accumulator;
/// let mut nothing = ();
/// Accumulator::<bookwyrm::PhrasalStreamEvent>::finish(nothing).unwrap();
/// ```
impl<E> Accumulator<E> for () {
    type Output = ();
    fn add(&mut self, _: E) {}
    fn finish(self) -> Result<(), BookWyrmClientError> {
        Ok(())
    }
}

/// Sees a stream's events while an [`Accumulator`] gathers them: for progress, logs, or output
/// written as events arrive. Every method may stop the stream with an error of the observer's
/// own type.
///
/// ```
/// use bookwyrm::{BookWyrmClientError, Observer, PhrasalStreamEvent};
///
/// /// Counts the events (`malformed` and `waiting` keep their defaults).
/// struct Count(usize);
/// impl Observer<PhrasalStreamEvent> for Count {
///     type Error = BookWyrmClientError;
///     fn event(&mut self, _: &PhrasalStreamEvent) -> Result<(), Self::Error> {
///         self.0 += 1;
///         Ok(())
///     }
/// }
/// # let _ = Count(0);
/// ```
pub trait Observer<E> {
    /// The observer's error; stream failures convert into it.
    type Error: From<BookWyrmClientError>;

    /// One event, before the accumulator takes it (every event, error events included).
    fn event(&mut self, event: &E) -> Result<(), Self::Error> {
        let _ = event;
        Ok(())
    }

    /// An event that could not be decoded (a `Decode` error with its raw data). By default it
    /// ends the stream with that error; an observer may note it and go on.
    fn malformed(&mut self, error: BookWyrmClientError) -> Result<(), Self::Error> {
        Err(error.into())
    }

    /// The stream has no event ready and is about to wait on the network: the moment to flush
    /// buffered output.
    fn waiting(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// No observer.
///
/// ```
/// use bookwyrm::Observer;
/// let mut none = ();
/// assert!(Observer::<bookwyrm::PhrasalStreamEvent>::waiting(&mut none).is_ok());
/// ```
impl<E> Observer<E> for () {
    type Error = BookWyrmClientError;
}

impl<E: StreamEvent> EventStream<E> {
    /// Reads the stream to its end into `accumulator`, showing every event to `observer` first.
    /// The stream is borrowed, not consumed: its [`request_id`](Self::request_id),
    /// [`resumes`](Self::resumes) and [`delivered`](Self::delivered) stay readable after it
    /// (the same holds for every `collect_*` method built on this one).
    /// A non-recoverable error event ends it with
    /// [`ServerEvent`](BookWyrmClientError::ServerEvent) (after the observer saw it);
    /// recoverable ones go on to the accumulator; undecodable events go to
    /// [`Observer::malformed`]; a failure of the stream ends it.
    ///
    /// ```no_run
    /// use bookwyrm::{BookWyrmClientError, CitationResult, CitationStreamEvent, Observer};
    ///
    /// struct Progress;
    /// impl Observer<CitationStreamEvent> for Progress {
    ///     type Error = BookWyrmClientError;
    ///     fn event(&mut self, e: &CitationStreamEvent) -> Result<(), Self::Error> {
    ///         if let CitationStreamEvent::Progress(p) = e {
    ///             eprintln!("{}/{} chunks", p.chunks_processed, p.total_chunks);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient, r: bookwyrm::CitationRequest) -> bookwyrm::Result<()> {
    /// let mut stream = client.stream_citations(r).await?;
    /// let result = stream.collect_with(CitationResult::default(), &mut Progress).await?;
    /// // The stream stays readable: who answered, and how often it resumed.
    /// println!("{} citations (request {:?}, {} resumes)", result.citations.len(),
    ///     stream.request_id(), stream.resumes());
    /// # Ok(()) }
    /// ```
    pub async fn collect_with<A, O>(
        &mut self,
        mut accumulator: A,
        observer: &mut O,
    ) -> Result<A::Output, O::Error>
    where
        A: Accumulator<E>,
        O: Observer<E>,
    {
        loop {
            let item = match self.next().now_or_never() {
                Some(item) => item,
                None => {
                    observer.waiting()?;
                    self.next().await
                }
            };
            let Some(item) = item else { break };
            match item {
                Ok(event) => {
                    observer.event(&event)?;
                    if let Some(err) = event.server_error().filter(|e| !e.recoverable()) {
                        return Err(BookWyrmClientError::ServerEvent(Box::new(err)).into());
                    }
                    accumulator.add(event);
                }
                Err(e @ BookWyrmClientError::Decode(_)) => observer.malformed(e)?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(accumulator.finish()?)
    }
}
