//! Phrasal chunking: `stream_process_text` (`POST /phrasal/sse`).

use std::sync::Arc;

use crate::client::AsyncBookWyrmClient;
use crate::collect::Accumulator;
use crate::error::BookWyrmClientError;
use crate::ops::call::{generated_open, json, not_blank, SharedBody};
use crate::resume::phrasal::{PhrasalResumer, SharedText};
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
    /// The text, shared with the caller: neither the request nor a resume copies it (see
    /// [`PhrasalRequest::from_shared_text`]).
    Shared(Arc<str>),
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
#[must_use = "a request does nothing until a client sends it"]
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

    /// Split this text, shared with the caller: many requests of one text hold it once, and a
    /// stream keeps it for a resume (see [`ResumePolicy`](crate::ResumePolicy)) without a copy.
    /// Prefer it when the caller keeps the text anyway.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let book: std::sync::Arc<str> = std::fs::read_to_string("book.txt").unwrap().into();
    /// let r = bookwyrm::PhrasalRequest::from_shared_text(book.clone());
    /// let answer = client.stream_process_text(r).await?.collect_phrases().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_shared_text(text: impl Into<Arc<str>>) -> Self {
        Self::new(PhrasalSource::Shared(text.into()))
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

    /// Checks the request; the text (shared) and the stand-in value the generated operation
    /// is given (the body sent is [`PhrasalBody`]'s).
    fn into_parts(
        self,
    ) -> Result<(Option<SharedText>, types::ProcessTextRequest), BookWyrmClientError> {
        let chunk_size = match self.chunk_size {
            Some(n) => Some(std::num::NonZeroU64::new(n).ok_or_else(|| {
                BookWyrmClientError::validation("chunk_size", "chunk_size must be > 0")
            })?),
            None => None,
        };
        let (text, text_url) = match self.source {
            // Moved into the `Arc`, not copied.
            PhrasalSource::Text(t) => (Some(Arc::new(t) as SharedText), None),
            PhrasalSource::Shared(t) => (Some(Arc::new(t) as SharedText), None),
            PhrasalSource::Url(u) => {
                not_blank("text_url", &u, "text_url cannot be empty")?;
                (None, Some(u))
            }
        };
        if text.as_ref().is_some_and(|t| (**t).as_ref().is_empty()) {
            return Err(BookWyrmClientError::validation(
                "text",
                "text cannot be empty",
            ));
        }
        let wire = types::ProcessTextRequest {
            chunk_size,
            response_format: self.response_format,
            text: None,
            text_url,
        };
        Ok((text, wire))
    }
}

/// The JSON body of a phrasal request, serialized from the shared text without copying it
/// first: the fields, order and omissions of the generated `ProcessTextRequest`.
#[derive(serde::Serialize)]
struct PhrasalBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk_size: Option<std::num::NonZeroU64>,
    response_format: ResponseFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text_url: Option<&'a str>,
}

impl PhrasalBody<'_> {
    /// The body of a request like `template` for the shared text from byte `from` on,
    /// serialized for each attempt: between attempts only the shared text is kept.
    fn from(
        template: Arc<types::ProcessTextRequest>,
        text: Option<SharedText>,
        from: usize,
    ) -> SharedBody {
        SharedBody::per_attempt(move || {
            let rest = text
                .as_ref()
                .map(|t| (**t).as_ref().get(from..).unwrap_or(""));
            json(&PhrasalBody::of(&template, rest))
        })
    }
}

impl<'a> PhrasalBody<'a> {
    fn of(wire: &'a types::ProcessTextRequest, text: Option<&'a str>) -> Self {
        Self {
            chunk_size: wire.chunk_size,
            response_format: wire.response_format,
            text,
            text_url: wire.text_url.as_deref(),
        }
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
    pub async fn collect_phrases(&mut self) -> Result<Vec<types::TextSpan>, BookWyrmClientError> {
        // Error events end the collection as `Err(ServerEvent)`.
        self.errors_as_err_in_place()
            .collect_with(Vec::new(), &mut ())
            .await
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
        const OPERATION: &str = "stream_process_text";
        let (text, wire) = request.into_parts()?;
        let with_offsets = wire.response_format == ResponseFormat::WithOffsets;
        let chunked = wire.chunk_size.is_some();
        let template = Arc::new(wire.clone());
        let open = Arc::new(generated_open(wire, |c, body| async move {
            c.stream_process_text(&body).await
        }));
        let first = open.clone();
        let body = PhrasalBody::from(template.clone(), text.clone(), 0);
        let stream = self
            .run_stream(OPERATION, Some(body), move |ctx| first(ctx))
            .await?;
        // The rest of the text, from a byte offset on.
        let rest = text.clone().map(|shared| {
            let client = self.clone();
            Box::new(move |from: usize| {
                let open = open.clone();
                let body = PhrasalBody::from(template.clone(), Some(shared.clone()), from);
                client.resume_request(OPERATION, Some(body), move |ctx| open(ctx))
            }) as crate::resume::phrasal::RestRequest
        });
        Ok(stream.resuming(
            PhrasalResumer::new(text, with_offsets, chunked, rest),
            self.resume_policies(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body serialized from the shared text is byte for byte the generated type's.
    #[test]
    fn the_shared_body_is_the_generated_body() {
        for (chunk_size, format, text, url) in [
            (
                None,
                ResponseFormat::WithOffsets,
                Some("Café. “Two”."),
                None,
            ),
            (Some(80), ResponseFormat::TextOnly, Some("x"), None),
            (
                Some(5),
                ResponseFormat::WithOffsets,
                None,
                Some("https://e.com/t"),
            ),
        ] {
            let wire = types::ProcessTextRequest {
                chunk_size: chunk_size.and_then(std::num::NonZeroU64::new),
                response_format: format,
                text: text.map(str::to_string),
                text_url: url.map(str::to_string),
            };
            let stand_in = types::ProcessTextRequest {
                text: None,
                ..wire.clone()
            };
            assert_eq!(
                serde_json::to_string(&PhrasalBody::of(&stand_in, text)).unwrap(),
                serde_json::to_string(&wire).unwrap()
            );
        }
    }
}
