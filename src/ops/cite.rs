//! Citations: `get_citations` (`POST /cite`) and `stream_citations` (`POST /cite/sse`).

use bytes::Bytes;

use crate::client::AsyncBookWyrmClient;
use crate::collect::Accumulator;
use crate::error::BookWyrmClientError;
use crate::ops::call::not_blank;
use crate::ops::call::{generated_open, SharedBody};
use crate::resume::cite::CiteResumer;
use crate::stream::EventStream;
use crate::types::{self, CitationStreamEvent, ModelStrength, Question, TextSpan};

/// The most questions one request may ask.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient, chunks: Vec<bookwyrm::TextSpan>) -> bookwyrm::Result<()> {
/// let questions: Vec<String> = (1..=45).map(|i| format!("Question {i}?")).collect();
/// // More questions than one request takes: one request per batch.
/// for batch in questions.chunks(bookwyrm::MAX_QUESTIONS) {
///     let request = bookwyrm::CitationRequest::from_chunks(chunks.clone(), batch.to_vec());
///     let answer = client.get_citations(request).await?;
///     println!("{} citations", answer.total_citations);
/// }
/// # Ok(()) }
/// ```
pub const MAX_QUESTIONS: usize = 20;

/// Where the text to cite from comes from: exactly one source, by construction.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// use bookwyrm::{CitationSource, TextSpan};
/// let source = CitationSource::Chunks(vec![TextSpan::new(0, "It rained.")]);
/// let answer = client.get_citations(bookwyrm::CitationRequest::new(source, "Did it rain?")).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CitationSource {
    /// Chunks with offsets.
    Chunks(Vec<TextSpan>),
    /// JSONL text, one `{"text", "start_char", "end_char"}` object per line (the server parses it).
    JsonlContent(String),
    /// A URL the server fetches JSONL from.
    JsonlUrl(String),
}

/// A citation request: a source, one or more questions, and options.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// use bookwyrm::{CitationRequest, ModelStrength, TextSpan};
/// let request = CitationRequest::from_chunks(vec![TextSpan::new(0, "It rained.")], ["Did it rain?", "When?"])
///     .start(0)
///     .limit(50)
///     .max_tokens_per_chunk(2000)
///     .model_strength(ModelStrength::Smart);
/// let answer = client.get_citations(request).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a request does nothing until a client sends it"]
pub struct CitationRequest {
    source: CitationSource,
    question: Question,
    start: u64,
    limit: Option<u64>,
    max_tokens_per_chunk: u64,
    model_strength: ModelStrength,
}

impl CitationRequest {
    /// A request for `source` answering `question` (a `&str`/`String`, or a list of them).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// use bookwyrm::{CitationRequest, CitationSource};
    /// let r = CitationRequest::new(CitationSource::JsonlUrl("https://example.com/a.jsonl".into()), "Who?");
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn new(source: CitationSource, question: impl Into<Question>) -> Self {
        Self {
            source,
            question: question.into(),
            start: 0,
            limit: None,
            max_tokens_per_chunk: 1000,
            model_strength: ModelStrength::Swift,
        }
    }

    /// A request over chunks with offsets.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_chunks(vec![bookwyrm::TextSpan::new(0, "x")], "q");
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_chunks(chunks: Vec<TextSpan>, question: impl Into<Question>) -> Self {
        Self::new(CitationSource::Chunks(chunks), question)
    }

    /// A request over JSONL text.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_content("{\"text\":\"x\"}\n", "q");
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_jsonl_content(jsonl: impl Into<String>, question: impl Into<Question>) -> Self {
        Self::new(CitationSource::JsonlContent(jsonl.into()), question)
    }

    /// A request over JSONL the server fetches from a URL.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_url("https://example.com/x.jsonl", "q");
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_jsonl_url(url: impl Into<String>, question: impl Into<Question>) -> Self {
        Self::new(CitationSource::JsonlUrl(url.into()), question)
    }

    /// Index of the first chunk to process (default 0).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_url("u", "q").start(10);
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn start(mut self, start: u64) -> Self {
        self.start = start;
        self
    }

    /// Maximum number of chunks to process (must be > 0).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_url("u", "q").limit(5);
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Maximum tokens per chunk group (default 1000, must be > 0).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_url("u", "q").max_tokens_per_chunk(500);
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn max_tokens_per_chunk(mut self, tokens: u64) -> Self {
        self.max_tokens_per_chunk = tokens;
        self
    }

    /// Model strength (default [`ModelStrength::Swift`]).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::CitationRequest::from_jsonl_url("u", "q").model_strength(bookwyrm::ModelStrength::Wise);
    /// let answer = client.get_citations(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn model_strength(mut self, strength: ModelStrength) -> Self {
        self.model_strength = strength;
        self
    }

    /// Whether the source is an empty chunk list (answered locally, without a request).
    fn has_no_chunks(&self) -> bool {
        matches!(&self.source, CitationSource::Chunks(c) if c.is_empty())
    }

    /// Checks every rule and builds the wire body.
    pub(crate) fn into_wire(self) -> Result<types::CitationRequest, BookWyrmClientError> {
        validate_question(&self.question)?;
        let mut wire = types::CitationRequest {
            chunks: None,
            jsonl_content: None,
            jsonl_url: None,
            limit: None,
            max_tokens_per_chunk: std::num::NonZeroU64::new(self.max_tokens_per_chunk).ok_or_else(
                || {
                    BookWyrmClientError::validation(
                        "max_tokens_per_chunk",
                        "max_tokens_per_chunk must be > 0",
                    )
                },
            )?,
            model_strength: self.model_strength,
            question: self.question,
            start: self.start,
        };
        if let Some(limit) = self.limit {
            wire.limit =
                Some(std::num::NonZeroU64::new(limit).ok_or_else(|| {
                    BookWyrmClientError::validation("limit", "limit must be > 0")
                })?);
        }
        match self.source {
            CitationSource::Chunks(chunks) => {
                for (i, c) in chunks.iter().enumerate() {
                    if c.end_char < c.start_char {
                        return Err(BookWyrmClientError::validation(
                            "chunks",
                            format!(
                                "chunk {i}: end_char {} is before start_char {}",
                                c.end_char, c.start_char
                            ),
                        ));
                    }
                }
                wire.chunks = Some(chunks);
            }
            CitationSource::JsonlContent(s) => {
                not_blank("jsonl_content", &s, "jsonl_content cannot be empty")?;
                wire.jsonl_content = Some(s);
            }
            CitationSource::JsonlUrl(s) => {
                not_blank("jsonl_url", &s, "jsonl_url cannot be empty")?;
                wire.jsonl_url = Some(s);
            }
        }
        Ok(wire)
    }
}

/// The question rules of the API: not blank, 1 to 20 questions, none blank.
fn validate_question(question: &Question) -> Result<(), BookWyrmClientError> {
    match question {
        Question::String(q) => not_blank("question", q, "question cannot be empty"),
        Question::Array(qs) => {
            if qs.is_empty() {
                return Err(BookWyrmClientError::validation(
                    "question",
                    "question list cannot be empty",
                ));
            }
            if qs.len() > MAX_QUESTIONS {
                return Err(BookWyrmClientError::validation(
                    "question",
                    format!("question list cannot contain more than {MAX_QUESTIONS} questions"),
                ));
            }
            for (i, q) in qs.iter().enumerate() {
                not_blank(
                    "question",
                    q,
                    &format!("question at index {i} cannot be empty"),
                )?;
            }
            Ok(())
        }
    }
}

impl From<&str> for Question {
    fn from(q: &str) -> Self {
        Self::String(q.to_string())
    }
}

impl From<String> for Question {
    fn from(q: String) -> Self {
        Self::String(q)
    }
}

impl From<Vec<&str>> for Question {
    fn from(qs: Vec<&str>) -> Self {
        Self::Array(qs.into_iter().map(str::to_string).collect())
    }
}

impl<const N: usize> From<[&str; N]> for Question {
    fn from(qs: [&str; N]) -> Self {
        Self::Array(qs.iter().map(|q| q.to_string()).collect())
    }
}

impl From<&[String]> for Question {
    fn from(qs: &[String]) -> Self {
        Self::Array(qs.to_vec())
    }
}

impl TextSpan {
    /// A span of `text` starting at code point `start_char`; `end_char` is computed in Unicode
    /// code points (not bytes).
    ///
    /// ```
    /// let s = bookwyrm::TextSpan::new(10, "café");
    /// assert_eq!((s.start_char, s.end_char), (10, 14));
    /// ```
    pub fn new(start_char: u64, text: impl Into<String>) -> Self {
        let text = text.into();
        let end_char = start_char + text.chars().count() as u64;
        Self {
            start_char,
            end_char,
            text,
        }
    }
}

/// What a citation stream amounts to (see [`EventStream::collect_citations`]).
///
/// ```
/// let r = bookwyrm::CitationResult::default();
/// assert!(r.citations.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CitationResult {
    /// Every citation, in the order received.
    pub citations: Vec<types::Citation>,
    /// The final `summary` event, if the stream sent one.
    pub summary: Option<types::CitationSummaryEvent>,
    /// Recoverable error events the stream carried.
    pub errors: Vec<types::CitationErrorEvent>,
}

impl CitationResult {
    /// Chunks processed whose usage no answer reported: after a resume, those of the
    /// requests that were cut before their `summary` (the server reports `usage` only
    /// there). 0 for a stream that was not resumed, or one without a summary.
    ///
    /// A resumed stream's summary counts the whole run in `total_citations` and
    /// `chunks_processed` (and its progress events in `chunks_processed` and
    /// `citations_found`); its `usage` and `token_chunks_processed` are the last request's,
    /// the only ones the server reported. A service that bills by usage sees the gap here.
    ///
    /// ```
    /// let r = bookwyrm::CitationResult::default();
    /// assert_eq!(r.chunks_without_usage(), 0);
    /// ```
    pub fn chunks_without_usage(&self) -> u64 {
        self.summary.as_ref().map_or(0, |s| {
            let reported = s.usage.as_ref().map_or(0, |u| u.chunks_processed);
            s.chunks_processed.saturating_sub(reported)
        })
    }
}

/// Citations, the summary and recoverable error events, in the order received.
///
/// ```
/// use bookwyrm::{Accumulator, CitationResult, CitationStreamEvent};
/// let mut result = CitationResult::default();
/// result.add(CitationStreamEvent::Unknown(bookwyrm::UnknownEvent::new("x", "")));
/// assert!(result.finish().unwrap().citations.is_empty());
/// ```
impl Accumulator<CitationStreamEvent> for CitationResult {
    type Output = Self;

    fn add(&mut self, event: CitationStreamEvent) {
        match event {
            CitationStreamEvent::Citation(c) => self.citations.push(c.citation),
            CitationStreamEvent::Summary(s) => self.summary = Some(s),
            CitationStreamEvent::Error(e) => self.errors.push(e),
            _ => {}
        }
    }

    fn finish(self) -> Result<Self, BookWyrmClientError> {
        Ok(self)
    }
}

impl EventStream<CitationStreamEvent> {
    /// Reads the stream to its end: the citations and the final summary. A non-recoverable
    /// error event or any failure is an error; recoverable error events are collected.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient, r: bookwyrm::CitationRequest) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let result = client.stream_citations(r).await?.collect_citations().await?;
    /// println!("{} citations", result.citations.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_citations(&mut self) -> Result<CitationResult, BookWyrmClientError> {
        self.collect_with(CitationResult::default(), &mut ()).await
    }
}

/// The `summary` of a request over no chunks, answered without a request.
fn empty_summary() -> types::CitationSummaryEvent {
    types::CitationSummaryEvent {
        total_citations: 0,
        chunks_processed: 0,
        token_chunks_processed: 0,
        start_offset: 0,
        usage: Some(types::UsageInfo {
            tokens_processed: 0,
            chunks_processed: 0,
            estimated_cost: None,
            remaining_credits: None,
        }),
    }
}

impl AsyncBookWyrmClient {
    /// Finds citations answering the question(s) and returns them all at once
    /// (`POST /cite`). Every input rule is checked before any I/O; an empty chunk list is
    /// answered locally with no citations.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::{AsyncBookWyrmClient, CitationRequest, TextSpan};
    /// let client = AsyncBookWyrmClient::new()?;
    /// let chunks = vec![TextSpan::new(0, "Nunez fell into the valley.")];
    /// let answer = client.get_citations(CitationRequest::from_chunks(chunks, "Who fell?")).await?;
    /// for c in &answer.citations {
    ///     println!("[{}] {} ({})", c.quality, c.text, c.reasoning);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_citations(
        &self,
        request: CitationRequest,
    ) -> Result<types::CitationResponse, BookWyrmClientError> {
        let empty = request.has_no_chunks();
        let body = &request.into_wire()?;
        if empty {
            self.call(false).await?; // a closed client still fails
            return Ok(types::CitationResponse {
                citations: Vec::new(),
                total_citations: 0,
                usage: empty_summary().usage,
            });
        }
        self.run_json(
            "get_citations",
            |c| async move { c.get_citations(body).await },
        )
        .await
    }

    /// Finds citations as a stream of [`CitationStreamEvent`]s (`POST /cite/sse`): progress,
    /// each citation as found, a final summary. An empty chunk list yields one summary event
    /// without a request.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::StreamExt;
    /// use bookwyrm::{AsyncBookWyrmClient, CitationRequest, CitationStreamEvent};
    /// let client = AsyncBookWyrmClient::new()?;
    /// let request = CitationRequest::from_jsonl_url("https://example.com/book.jsonl", "Who is blind?");
    /// let mut stream = client.stream_citations(request).await?;
    /// while let Some(event) = stream.next().await {
    ///     match event? {
    ///         CitationStreamEvent::Citation(c) => println!("{}", c.citation.text),
    ///         CitationStreamEvent::Summary(s) => println!("{} in all", s.total_citations),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_citations(
        &self,
        request: CitationRequest,
    ) -> Result<EventStream<CitationStreamEvent>, BookWyrmClientError> {
        let empty = request.has_no_chunks();
        let wire = request.into_wire()?;
        if empty {
            self.call(true).await?;
            let data = serde_json::to_string(&empty_summary()).expect("serializable");
            let sse = Bytes::from(format!("event: summary\ndata: {data}\n\n"));
            return Ok(EventStream::from_byte_stream(futures_util::stream::iter([
                Ok::<_, std::io::Error>(sse),
            ])));
        }
        let open = |wire: types::CitationRequest| {
            generated_open(
                wire,
                |c, body| async move { c.stream_citations(&body).await },
            )
        };
        let (start, limit) = (wire.start, wire.limit.map(|l| l.get()));
        if !self.config.resume.cite {
            let stream = self
                .run_generated_stream(
                    "stream_citations",
                    wire,
                    |w| (w.chunks, w.jsonl_content) = (None, None),
                    |c, body| async move { c.stream_citations(&body).await },
                )
                .await?;
            // Not resumed, but tracked: an interruption says the next chunk to ask for.
            let why = "citations are scored against the range asked for; ResumePolicy::cite asks for the remaining chunks";
            return Ok(stream.resuming(
                CiteResumer::tracking_only(start, limit, why),
                self.resume_policies(),
            ));
        }
        // Resumable: the whole body is kept (shared) for the rest's requests.
        let body = SharedBody::of(&wire)?;
        let whole = std::sync::Arc::new(wire.clone());
        let mut stand_in = wire;
        (stand_in.chunks, stand_in.jsonl_content) = (None, None);
        let first = open(stand_in.clone());
        let stream = self
            .run_stream("stream_citations", Some(body), first)
            .await?;
        let client = self.clone();
        let rest = move |from: u64, limit: Option<u64>| {
            let mut rest = (*whole).clone();
            rest.start = from;
            rest.limit = limit.and_then(std::num::NonZeroU64::new);
            let mut stand_in = stand_in.clone();
            (stand_in.start, stand_in.limit) = (rest.start, rest.limit);
            match SharedBody::of(&rest) {
                Ok(body) => client.resume_request("stream_citations", Some(body), open(stand_in)),
                Err(e) => crate::reopen::refused("start", e.to_string()),
            }
        };
        Ok(stream.resuming(
            CiteResumer::new(start, limit, Box::new(rest)),
            self.resume_policies(),
        ))
    }
}
