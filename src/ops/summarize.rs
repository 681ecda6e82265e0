//! Summaries: `summarize` (`POST /summarize`), `stream_summarize` (`POST /summarize/sse`), and
//! structured summaries into a Rust type.

use crate::client::AsyncBookWyrmClient;
use crate::collect::Accumulator;
use crate::error::BookWyrmClientError;
use crate::ops::call::not_blank;
use crate::resume::NotResumable;
use crate::stream::EventStream;
use crate::types::{self, ModelStrength, SummarizeStreamEvent, TextSpan};

/// The largest `max_tokens` the API accepts.
///
/// ```
/// let wanted: u64 = 200_000;
/// let request = bookwyrm::SummarizeRequest::from_content("A long text.")
///     .max_tokens(wanted.min(bookwyrm::MAX_SUMMARY_TOKENS));
/// # drop(request);
/// ```
pub const MAX_SUMMARY_TOKENS: u64 = 131_072;

/// What to summarize: exactly one source, by construction.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let s = bookwyrm::SummarizeSource::Content("A text.".into());
/// let answer = client.summarize(bookwyrm::SummarizeRequest::new(s)).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SummarizeSource {
    /// The text itself (or JSONL of phrases, which the server also accepts here).
    Content(String),
    /// A URL the server fetches the text from.
    Url(String),
    /// Phrases with offsets (an empty list is sent as such).
    Phrases(Vec<TextSpan>),
}

/// How the summary is written: plain text, structured output, or custom prompts. The two
/// options the API holds exclusive are exclusive here by construction.
///
/// ```
/// use bookwyrm::SummaryStyle;
/// fn describe(style: &SummaryStyle) -> &'static str {
///     match style {
///         SummaryStyle::Plain => "plain text",
///         SummaryStyle::Structured { .. } => "JSON following a schema",
///         SummaryStyle::CustomPrompts { .. } => "custom prompts",
///         _ => "a style of a later API version",
///     }
/// }
/// assert_eq!(describe(&SummaryStyle::default()), "plain text");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum SummaryStyle {
    /// A plain-text summary.
    #[default]
    Plain,
    /// A JSON document following a schema.
    Structured {
        /// The model's name.
        model_name: String,
        /// Its JSON Schema, as a JSON string.
        model_schema_json: String,
    },
    /// Plain text written with custom prompts.
    CustomPrompts {
        /// Prompt for each chunk.
        chunk_prompt: String,
        /// Prompt for summarizing summaries.
        summary_of_summaries_prompt: String,
    },
}

/// A summarize request.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// use bookwyrm::{ModelStrength, SummarizeRequest};
/// let r = SummarizeRequest::from_content("A long story.")
///     .max_tokens(2000)
///     .debug(true)
///     .model_strength(ModelStrength::Clever);
/// let answer = client.summarize(r).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a request does nothing until a client sends it"]
pub struct SummarizeRequest {
    source: SummarizeSource,
    max_tokens: u64,
    debug: bool,
    model_strength: ModelStrength,
    style: SummaryStyle,
}

impl SummarizeRequest {
    /// A request for `source` with the defaults (10000 tokens, no debug, swift, plain).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::new(bookwyrm::SummarizeSource::Url("https://example.com/t.txt".into()));
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn new(source: SummarizeSource) -> Self {
        Self {
            source,
            max_tokens: 10_000,
            debug: false,
            model_strength: ModelStrength::Swift,
            style: SummaryStyle::Plain,
        }
    }

    /// Summarize this text.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("Text.");
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_content(content: impl Into<String>) -> Self {
        Self::new(SummarizeSource::Content(content.into()))
    }

    /// Summarize the text at this URL.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_url("https://example.com/t.txt");
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_url(url: impl Into<String>) -> Self {
        Self::new(SummarizeSource::Url(url.into()))
    }

    /// Summarize these phrases.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_phrases(vec![bookwyrm::TextSpan::new(0, "One.")]);
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_phrases(phrases: Vec<TextSpan>) -> Self {
        Self::new(SummarizeSource::Phrases(phrases))
    }

    /// Maximum tokens per chunk summarized at once (1 to 131072; default 10000).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("t").max_tokens(512);
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn max_tokens(mut self, max_tokens: u64) -> Self {
        self.max_tokens = max_tokens;
        self
    }

    /// Include the intermediate summaries of every level.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("t").debug(true);
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn debug(mut self, debug: bool) -> Self {
        self.debug = debug;
        self
    }

    /// Model strength (default swift).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("t").model_strength(bookwyrm::ModelStrength::Smart);
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn model_strength(mut self, strength: ModelStrength) -> Self {
        self.model_strength = strength;
        self
    }

    /// Structured output: a JSON document following `model_schema_json`.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("t")
    ///     .structured("Summary", r#"{"type":"object","properties":{"title":{"type":"string"}}}"#);
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn structured(
        mut self,
        model_name: impl Into<String>,
        model_schema_json: impl Into<String>,
    ) -> Self {
        self.style = SummaryStyle::Structured {
            model_name: model_name.into(),
            model_schema_json: model_schema_json.into(),
        };
        self
    }

    /// Structured output following a Rust type: its name and JSON Schema (in the shape of
    /// pydantic's `model_json_schema()`, as the Python client sends) become `model_name` and
    /// `model_schema_json`. Read the answer with
    /// [`summarize_structured`](crate::AsyncBookWyrmClient::summarize_structured) or, on a
    /// stream, [`final_structured`](crate::EventStream::final_structured).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// use bookwyrm::schemars::{self, JsonSchema};
    /// #[derive(JsonSchema, serde::Deserialize)]
    /// struct Brief { title: String, author: Option<String> }
    ///
    /// let r = bookwyrm::SummarizeRequest::from_content("t").structured_as::<Brief>();
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn structured_as<T: schemars::JsonSchema>(self) -> Self {
        let (name, schema) = schema_of::<T>();
        self.structured(name, schema)
    }

    /// Custom prompts for chunks and for summaries of summaries.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::SummarizeRequest::from_content("t").custom_prompts("Chunk prompt", "Merge prompt");
    /// let answer = client.summarize(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn custom_prompts(
        mut self,
        chunk_prompt: impl Into<String>,
        summary_of_summaries_prompt: impl Into<String>,
    ) -> Self {
        self.style = SummaryStyle::CustomPrompts {
            chunk_prompt: chunk_prompt.into(),
            summary_of_summaries_prompt: summary_of_summaries_prompt.into(),
        };
        self
    }

    /// Checks every rule and builds the wire body.
    pub(crate) fn into_wire(self) -> Result<types::SummarizeRequest, BookWyrmClientError> {
        let max_tokens = checked_max_tokens(self.max_tokens)?;
        #[allow(clippy::needless_update)]
        let mut wire = types::SummarizeRequest {
            chunk_prompt: None,
            content: None,
            debug: self.debug,
            max_tokens,
            model_name: None,
            model_schema_json: None,
            model_strength: self.model_strength,
            phrases: None,
            summary_of_summaries_prompt: None,
            url: None,
            // Optional fields a regenerated contract adds keep their defaults.
            ..Default::default()
        };
        match self.source {
            SummarizeSource::Content(c) => wire.content = Some(c),
            SummarizeSource::Url(u) => {
                not_blank("url", &u, "url cannot be empty")?;
                wire.url = Some(u);
            }
            SummarizeSource::Phrases(p) => wire.phrases = Some(p),
        }
        self.style.apply_to(&mut wire)?;
        Ok(wire)
    }
}

/// `max_tokens` within 1..=131,072, as the wire type holds it.
fn checked_max_tokens(max_tokens: u64) -> Result<std::num::NonZeroU64, BookWyrmClientError> {
    if max_tokens > MAX_SUMMARY_TOKENS {
        return Err(BookWyrmClientError::validation(
            "max_tokens",
            format!("max_tokens cannot exceed 131,072 (got {max_tokens})"),
        ));
    }
    std::num::NonZeroU64::new(max_tokens).ok_or_else(|| {
        BookWyrmClientError::validation("max_tokens", "max_tokens must be at least 1 (got 0)")
    })
}

impl SummaryStyle {
    /// Checks the style's fields and sets them on the wire body.
    fn apply_to(&self, wire: &mut types::SummarizeRequest) -> Result<(), BookWyrmClientError> {
        match self {
            SummaryStyle::Plain => {}
            SummaryStyle::Structured {
                model_name,
                model_schema_json,
            } => {
                not_blank(
                    "model_name",
                    model_name,
                    "model_name is required when model_schema_json is provided",
                )?;
                not_blank(
                    "model_schema_json",
                    model_schema_json,
                    "model_schema_json is required when model_name is provided",
                )?;
                match serde_json::from_str::<serde_json::Value>(model_schema_json) {
                    Ok(serde_json::Value::Object(_)) => {}
                    _ => {
                        return Err(BookWyrmClientError::validation(
                            "model_schema_json",
                            "model_schema_json must be a JSON Schema object",
                        ))
                    }
                }
                wire.model_name = Some(model_name.clone());
                wire.model_schema_json = Some(model_schema_json.clone());
            }
            SummaryStyle::CustomPrompts {
                chunk_prompt,
                summary_of_summaries_prompt,
            } => {
                not_blank(
                    "chunk_prompt",
                    chunk_prompt,
                    "chunk_prompt is required when summary_of_summaries_prompt is provided",
                )?;
                not_blank(
                    "summary_of_summaries_prompt",
                    summary_of_summaries_prompt,
                    "summary_of_summaries_prompt is required when chunk_prompt is provided",
                )?;
                wire.chunk_prompt = Some(chunk_prompt.clone());
                wire.summary_of_summaries_prompt = Some(summary_of_summaries_prompt.clone());
            }
        }
        Ok(())
    }
}

/// A structured summary parsed into `T`, with the response it came from.
///
/// ```
/// # #[derive(Debug)] struct Book;
/// fn show(s: &bookwyrm::StructuredSummary<Book>) { println!("{:?} in {} levels", s.value, s.response.levels_used); }
/// # let _ = show;
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StructuredSummary<T> {
    /// The summary, parsed.
    pub value: T,
    /// The response (its `summary` is the JSON text `value` was parsed from).
    pub response: types::SummaryResponse,
}

/// The schema name and JSON Schema of `T`, as sent in `model_name` / `model_schema_json`:
/// in pydantic's shape, as the Python client sends it (see `ops::pydantic_schema`).
pub(crate) fn schema_of<T: schemars::JsonSchema>() -> (String, String) {
    let name = T::schema_name().into_owned();
    let schema = super::pydantic_schema::pydantic_shape(schemars::schema_for!(T).to_value(), &name);
    (name, schema.to_string())
}

/// Parses a structured summary.
pub(crate) fn parse_structured<T: serde::de::DeserializeOwned>(
    response: types::SummaryResponse,
) -> Result<StructuredSummary<T>, BookWyrmClientError> {
    match serde_json::from_str(&response.summary) {
        Ok(value) => Ok(StructuredSummary { value, response }),
        Err(e) => Err(BookWyrmClientError::decode(
            "the structured summary",
            bytes::Bytes::from(response.summary.into_bytes()),
            Some(Box::new(e)),
        )),
    }
}

/// The final summary (event `data`; the last one if several); a stream without one is an
/// error.
///
/// ```
/// use bookwyrm::{types::SummaryResponse, Accumulator, SummarizeStreamEvent};
/// let none: Option<SummaryResponse> = None;
/// assert!(Accumulator::<SummarizeStreamEvent>::finish(none).is_err());
/// ```
impl Accumulator<SummarizeStreamEvent> for Option<types::SummaryResponse> {
    type Output = types::SummaryResponse;

    fn add(&mut self, event: SummarizeStreamEvent) {
        if let SummarizeStreamEvent::Summary(s) = event {
            *self = Some(s);
        }
    }

    fn finish(self) -> Result<types::SummaryResponse, BookWyrmClientError> {
        crate::collect::required(self, "summarize", "a summary")
    }
}

impl EventStream<SummarizeStreamEvent> {
    /// Reads the stream to its end and returns the final summary (event `data`). An error
    /// event, a failure, or a stream without a summary is an error.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let request = bookwyrm::SummarizeRequest::from_content("A text.");
    /// let summary = client.stream_summarize(request).await?.final_summary().await?;
    /// println!("{}", summary.summary);
    /// # Ok(()) }
    /// ```
    pub async fn final_summary(&mut self) -> Result<types::SummaryResponse, BookWyrmClientError> {
        // Error events end the collection as `Err(ServerEvent)`.
        self.errors_as_err_in_place()
            .collect_with(None, &mut ())
            .await
    }
}

impl EventStream<SummarizeStreamEvent> {
    /// Reads the stream to its end and parses the final summary into `T`: the streaming
    /// counterpart of [`summarize_structured`](AsyncBookWyrmClient::summarize_structured)
    /// (Python's `stream_summarize(summary_class=...)`), with the same parser. Make the request
    /// with [`SummarizeRequest::structured_as::<T>()`](SummarizeRequest::structured_as).
    ///
    /// ```no_run
    /// use bookwyrm::schemars::{self, JsonSchema};
    /// #[derive(JsonSchema, serde::Deserialize, Debug)]
    /// struct Brief { title: Option<String>, author: Option<String> }
    ///
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let request = bookwyrm::SummarizeRequest::from_content("...").structured_as::<Brief>();
    /// let brief = client.stream_summarize(request).await?.final_structured::<Brief>().await?;
    /// println!("{:?}", brief.value);
    /// # Ok(()) }
    /// ```
    pub async fn final_structured<T: serde::de::DeserializeOwned>(
        &mut self,
    ) -> Result<StructuredSummary<T>, BookWyrmClientError> {
        parse_structured(self.final_summary().await?)
    }
}

impl AsyncBookWyrmClient {
    /// Summarizes a text and returns the final summary (`POST /summarize`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let summary = client.summarize(bookwyrm::SummarizeRequest::from_content("A long text.")).await?;
    /// println!("{} ({} levels)", summary.summary, summary.levels_used);
    /// # Ok(()) }
    /// ```
    pub async fn summarize(
        &self,
        request: SummarizeRequest,
    ) -> Result<types::SummaryResponse, BookWyrmClientError> {
        let body = &request.into_wire()?;
        self.run_json("summarize", |c| async move { c.summarize(body).await })
            .await
    }

    /// Summarizes into a Rust type: sends `T`'s name and JSON Schema as `model_name` and
    /// `model_schema_json` and parses the summary into `T` (a decode error with the raw text if
    /// it does not parse). Any style set on `request` is replaced.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// #[derive(serde::Deserialize, schemars::JsonSchema, Debug)]
    /// struct Book { title: Option<String>, author: Option<String> }
    ///
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let book = client
    ///     .summarize_structured::<Book>(bookwyrm::SummarizeRequest::from_content("..."))
    ///     .await?;
    /// println!("{:?}", book.value.title);
    /// # Ok(()) }
    /// ```
    pub async fn summarize_structured<T>(
        &self,
        request: SummarizeRequest,
    ) -> Result<StructuredSummary<T>, BookWyrmClientError>
    where
        T: schemars::JsonSchema + serde::de::DeserializeOwned,
    {
        let response = self.summarize(request.structured_as::<T>()).await?;
        parse_structured(response)
    }

    /// Summarizes a text as a stream of [`SummarizeStreamEvent`]s (`POST /summarize/sse`):
    /// progress per level, rate-limit and structural-error notices, the final summary.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::StreamExt;
    /// use bookwyrm::{SummarizeRequest, SummarizeStreamEvent};
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let mut stream = client.stream_summarize(SummarizeRequest::from_content("Text.")).await?;
    /// while let Some(event) = stream.next().await {
    ///     match event? {
    ///         SummarizeStreamEvent::Progress(p) => eprintln!("level {}/{}", p.current_level, p.total_levels),
    ///         SummarizeStreamEvent::Summary(s) => println!("{}", s.summary),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_summarize(
        &self,
        request: SummarizeRequest,
    ) -> Result<EventStream<SummarizeStreamEvent>, BookWyrmClientError> {
        let wire = request.into_wire()?;
        let strip = |w: &mut types::SummarizeRequest| {
            (w.content, w.phrases, w.model_schema_json) = (None, None, None)
        };
        let call = |c: crate::generated::Client, body: std::sync::Arc<types::SummarizeRequest>| async move {
            c.stream_summarize(&body).await
        };
        if self.config.resume.summarize_restart {
            return self
                .run_restartable_stream("stream_summarize", wire, strip, call)
                .await;
        }
        let stream = self
            .run_generated_stream("stream_summarize", wire, strip, call)
            .await?;
        Ok(stream.resuming(
            NotResumable::because("a summary has no point to resume from; ResumePolicy::summarize_restart starts it again"),
            self.resume_policies(),
        ))
    }
}
