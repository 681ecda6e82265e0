//! Phrasal chunking: `stream_process_text` (`POST /phrasal/sse`).

use crate::client::AsyncBookWyrmClient;
use crate::collect::Accumulator;
use crate::error::BookWyrmClientError;
use crate::ops::call::not_blank;
use crate::stream::EventStream;
use crate::types::{self, PhrasalStreamEvent, ResponseFormat};

/// What to split: exactly one source, by construction.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let s = bookwyrm::PhrasalSource::Text("One. Two.".into());
/// let answer = client.stream_process_text(bookwyrm::PhrasalRequest::new(s)).await?.collect_phrases().await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PhrasalSource {
    /// The text itself.
    Text(String),
    /// A URL the server fetches the text from.
    Url(String),
}

/// A phrasal request.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let r = bookwyrm::PhrasalRequest::from_text("One. Two. Three.").chunk_size(1000).text_only();
/// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PhrasalRequest {
    source: PhrasalSource,
    chunk_size: Option<u64>,
    response_format: ResponseFormat,
}

impl PhrasalRequest {
    /// A request for `source`, with offsets, one result per phrase.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::new(bookwyrm::PhrasalSource::Url("https://example.com/t.txt".into()));
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn new(source: PhrasalSource) -> Self {
        Self {
            source,
            chunk_size: None,
            response_format: ResponseFormat::WithOffsets,
        }
    }

    /// Split this text.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::from_text("Hi. Bye.");
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_text(text: impl Into<String>) -> Self {
        Self::new(PhrasalSource::Text(text.into()))
    }

    /// Split the text at this URL.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::from_url("https://example.com/t.txt");
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_url(url: impl Into<String>) -> Self {
        Self::new(PhrasalSource::Url(url.into()))
    }

    /// Pack phrases into chunks of at most this many characters (must be > 0).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::from_text("t").chunk_size(500);
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn chunk_size(mut self, chunk_size: u64) -> Self {
        self.chunk_size = Some(chunk_size);
        self
    }

    /// Results without offsets (`text` events).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::from_text("t").text_only();
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn text_only(self) -> Self {
        self.response_format(ResponseFormat::TextOnly)
    }

    /// The response format (default with offsets).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PhrasalRequest::from_text("t").response_format(bookwyrm::ResponseFormat::WithOffsets);
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = format;
        self
    }

    pub(crate) fn into_wire(self) -> Result<types::ProcessTextRequest, BookWyrmClientError> {
        let chunk_size = match self.chunk_size {
            Some(n) => Some(std::num::NonZeroU64::new(n).ok_or_else(|| {
                BookWyrmClientError::validation("chunk_size", "chunk_size must be > 0")
            })?),
            None => None,
        };
        let (text, text_url) = match self.source {
            PhrasalSource::Text(t) => {
                if t.is_empty() {
                    return Err(BookWyrmClientError::validation(
                        "text",
                        "text cannot be empty",
                    ));
                }
                (Some(t), None)
            }
            PhrasalSource::Url(u) => {
                not_blank("text_url", &u, "text_url cannot be empty")?;
                (None, Some(u))
            }
        };
        Ok(types::ProcessTextRequest {
            chunk_size,
            response_format: self.response_format,
            text,
            text_url,
        })
    }
}

/// A phrase with offsets, as a request's chunk takes it (e.g. to cite what was split).
///
/// ```
/// let event = bookwyrm::types::TextSpanEvent { text: "Hi.".into(), start_char: 4, end_char: 7 };
/// let span = bookwyrm::TextSpan::from(event);
/// assert_eq!((span.start_char, span.end_char, span.text.as_str()), (4, 7, "Hi."));
/// ```
impl From<types::TextSpanEvent> for types::TextSpan {
    fn from(e: types::TextSpanEvent) -> Self {
        Self {
            start_char: e.start_char,
            end_char: e.end_char,
            text: e.text,
        }
    }
}

/// The phrases (or chunks) as spans; `text` results (text-only format) get offsets counted
/// from the previous result's end.
///
/// ```
/// use bookwyrm::{types::TextEvent, Accumulator, PhrasalStreamEvent, TextSpan};
/// let mut spans: Vec<TextSpan> = Vec::new();
/// spans.add(PhrasalStreamEvent::Text(TextEvent { text: "One.".into() }));
/// spans.add(PhrasalStreamEvent::Text(TextEvent { text: "Two.".into() }));
/// assert_eq!(spans.finish().unwrap()[1].start_char, 4);
/// ```
impl Accumulator<PhrasalStreamEvent> for Vec<types::TextSpan> {
    type Output = Self;

    fn add(&mut self, event: PhrasalStreamEvent) {
        match event {
            PhrasalStreamEvent::TextSpan(s) => self.push(s.into()),
            PhrasalStreamEvent::Text(t) => {
                let start = self.last().map_or(0, |s| s.end_char);
                self.push(types::TextSpan::new(start, t.text));
            }
            _ => {}
        }
    }

    fn finish(self) -> Result<Self, BookWyrmClientError> {
        Ok(self)
    }
}

impl EventStream<PhrasalStreamEvent> {
    /// Reads the stream to its end and returns the phrases (or chunks) as spans; `text`
    /// results (text-only format) get offsets counted from the previous result's end. An error
    /// event or failure is an error.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let phrases = client
    ///     .stream_process_text(bookwyrm::PhrasalRequest::from_text("One. Two."))
    ///     .await?
    ///     .collect_phrases()
    ///     .await?;
    /// assert!(phrases.len() >= 1);
    /// # Ok(()) }
    /// ```
    pub async fn collect_phrases(self) -> Result<Vec<types::TextSpan>, BookWyrmClientError> {
        // Error events end the collection as `Err(ServerEvent)`.
        self.errors_as_err().collect_with(Vec::new(), &mut ()).await
    }
}

impl AsyncBookWyrmClient {
    /// Splits a text into phrases or size-bounded chunks, streamed as
    /// [`PhrasalStreamEvent`]s (`POST /phrasal/sse`). Offsets are Unicode code points.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::StreamExt;
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let mut s = client.stream_process_text(bookwyrm::PhrasalRequest::from_text("A. B.")).await?;
    /// while let Some(e) = s.next().await {
    ///     println!("{:?}", e?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_process_text(
        &self,
        request: PhrasalRequest,
    ) -> Result<EventStream<PhrasalStreamEvent>, BookWyrmClientError> {
        self.run_generated_stream(
            "stream_process_text",
            request.into_wire()?,
            |w| (w.text, w.text_url) = (None, None),
            |c, body| async move { c.stream_process_text(&body).await },
        )
        .await
    }
}
