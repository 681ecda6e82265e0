//! Classification: `classify` (`POST /classify`, multipart) and `stream_classify`
//! (`POST /classify/sse`).

use base64::Engine as _;
use bytes::Bytes;

use crate::client::AsyncBookWyrmClient;
use crate::error::BookWyrmClientError;

use crate::collect::Accumulator;
use crate::ops::call::{json_body, send_handwritten};
use crate::stream::EventStream;
use crate::types::{self, ClassifyStreamEvent};

/// How text content given to [`ClassifyRequest::from_text`] turns into bytes.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let e = bookwyrm::ContentEncoding::Base64;
/// let answer = client.classify(bookwyrm::ClassifyRequest::from_encoded("aGVsbG8=", e)).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentEncoding {
    /// The text's UTF-8 bytes (the async reference client's `raw`).
    #[default]
    Raw,
    /// The text's UTF-8 bytes.
    Utf8,
    /// The text is base64 of the bytes (standard alphabet, padded).
    Base64,
}

/// What to classify: bytes, or text with an encoding.
///
/// ```
/// use bookwyrm::{ClassifyInput, ContentEncoding};
/// fn describe(input: &ClassifyInput) -> String {
///     match input {
///         ClassifyInput::Bytes(b) => format!("{} bytes", b.len()),
///         ClassifyInput::Text { encoding: ContentEncoding::Base64, .. } => "base64 text".into(),
///         ClassifyInput::Text { .. } => "text".into(),
///         _ => "another input".into(),
///     }
/// }
/// assert_eq!(describe(&ClassifyInput::Bytes(b"%PDF-1.7".to_vec().into())), "8 bytes");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ClassifyInput {
    /// The file's bytes.
    Bytes(Bytes),
    /// Text content and how it encodes the bytes.
    Text {
        /// The content.
        content: String,
        /// Its encoding.
        encoding: ContentEncoding,
    },
}

/// A classify request.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let r = bookwyrm::ClassifyRequest::from_bytes(b"fn main() {}".to_vec()).filename("main.rs");
/// let answer = client.classify(r).await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a request does nothing until a client sends it"]
pub struct ClassifyRequest {
    input: ClassifyInput,
    filename: Option<String>,
}

impl ClassifyRequest {
    /// Classify these bytes.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::ClassifyRequest::from_bytes(vec![0x89, b'P', b'N', b'G']);
    /// let answer = client.classify(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self {
            input: ClassifyInput::Bytes(bytes.into()),
            filename: None,
        }
    }

    /// Classify this text (its UTF-8 bytes).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::ClassifyRequest::from_text("{\"a\": 1}");
    /// let answer = client.classify(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_text(content: impl Into<String>) -> Self {
        Self::from_encoded(content, ContentEncoding::Utf8)
    }

    /// Classify the bytes that `content` encodes with `encoding`.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::ClassifyRequest::from_encoded("aGVsbG8=", bookwyrm::ContentEncoding::Base64);
    /// let answer = client.classify(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_encoded(content: impl Into<String>, encoding: ContentEncoding) -> Self {
        Self {
            input: ClassifyInput::Text {
                content: content.into(),
                encoding,
            },
            filename: None,
        }
    }

    /// A filename hint (the server uses its extension).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::ClassifyRequest::from_text("x").filename("notes.md");
    /// let answer = client.classify(r).await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// The bytes to classify; invalid base64 is a validation error.
    pub(crate) fn bytes(&self) -> Result<Bytes, BookWyrmClientError> {
        match &self.input {
            ClassifyInput::Bytes(b) => Ok(b.clone()),
            ClassifyInput::Text { content, encoding } => match encoding {
                ContentEncoding::Base64 => base64::engine::general_purpose::STANDARD
                    .decode(content.trim())
                    .map(Bytes::from)
                    .map_err(|e| {
                        BookWyrmClientError::validation(
                            "content",
                            format!("content is not valid base64: {e}"),
                        )
                    }),
                _ => Ok(Bytes::from(content.clone().into_bytes())),
            },
        }
    }
}

/// The classification (the last one if several); a stream without one is an error.
///
/// ```
/// use bookwyrm::{types::ClassifyResponse, Accumulator, ClassifyStreamEvent};
/// let none: Option<ClassifyResponse> = None;
/// assert!(Accumulator::<ClassifyStreamEvent>::finish(none).is_err());
/// ```
impl Accumulator<ClassifyStreamEvent> for Option<types::ClassifyResponse> {
    type Output = types::ClassifyResponse;

    fn add(&mut self, event: ClassifyStreamEvent) {
        if let ClassifyStreamEvent::Classification(c) = event {
            *self = Some(c);
        }
    }

    fn finish(self) -> Result<types::ClassifyResponse, BookWyrmClientError> {
        crate::collect::required(self, "classify", "a classification")
    }
}

impl EventStream<ClassifyStreamEvent> {
    /// Reads the stream to its end and returns the classification. An error event, a failure,
    /// or a stream without a classification is an error.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let c = client
    ///     .stream_classify(bookwyrm::ClassifyRequest::from_text("# Title"))
    ///     .await?
    ///     .classification()
    ///     .await?;
    /// println!("{}", c.classification.mime_type);
    /// # Ok(()) }
    /// ```
    pub async fn classification(&mut self) -> Result<types::ClassifyResponse, BookWyrmClientError> {
        // Error events end the collection as `Err(ServerEvent)`.
        self.errors_as_err_in_place()
            .collect_with(None, &mut ())
            .await
    }
}

impl AsyncBookWyrmClient {
    /// Classifies a file (`POST /classify`, one multipart part `file` named by the hint or
    /// `document`).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let answer = client
    ///     .classify(bookwyrm::ClassifyRequest::from_bytes(std::fs::read("report.pdf").unwrap()).filename("report.pdf"))
    ///     .await?;
    /// println!("{} ({:.0}%)", answer.classification.mime_type, answer.classification.confidence * 100.0);
    /// # Ok(()) }
    /// ```
    pub async fn classify(
        &self,
        request: ClassifyRequest,
    ) -> Result<types::ClassifyResponse, BookWyrmClientError> {
        let bytes = request.bytes()?;
        let filename = request
            .filename
            .clone()
            .unwrap_or_else(|| "document".to_string());
        self.run_call("classify", |ctx| {
            // The multipart body is built anew for every attempt.
            let (bytes, filename) = (bytes.clone(), filename.clone());
            async move {
                let response = send_handwritten(&ctx, |http, base| {
                    let len = bytes.len() as u64;
                    // The part's type is guessed from the file name, as the Python client's
                    // HTTP library does (`application/octet-stream` when unknown).
                    let mime = mime_guess::from_path(&filename)
                        .first_raw()
                        .unwrap_or("application/octet-stream");
                    let part = || {
                        reqwest::multipart::Part::stream_with_length(bytes.clone(), len)
                            .file_name(filename.clone())
                    };
                    let part = part().mime_str(mime).unwrap_or_else(|_| part());
                    http.post(format!("{base}/classify"))
                        .multipart(reqwest::multipart::Form::new().part("file", part))
                })
                .await?;
                json_body(&ctx, response).await
            }
        })
        .await
    }

    /// Classifies content as a stream of [`ClassifyStreamEvent`]s (`POST /classify/sse`; the
    /// bytes travel as base64, the filename hint as `null` when absent).
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::StreamExt;
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let mut s = client.stream_classify(bookwyrm::ClassifyRequest::from_text("a,b\n1,2\n")).await?;
    /// while let Some(e) = s.next().await {
    ///     println!("{:?}", e?);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_classify(
        &self,
        request: ClassifyRequest,
    ) -> Result<EventStream<ClassifyStreamEvent>, BookWyrmClientError> {
        let content_base64 = match &request.input {
            ClassifyInput::Text {
                content,
                encoding: ContentEncoding::Base64,
            } => {
                request.bytes()?; // validate
                content.trim().to_string()
            }
            _ => base64::engine::general_purpose::STANDARD.encode(request.bytes()?),
        };
        let wire = types::ClassifyStreamRequest {
            content_base64,
            filename: request.filename.clone(),
        };
        // Short: a break starts it again (transparently).
        self.run_restartable_stream(
            "stream_classify",
            wire,
            |w| w.content_base64 = String::new(),
            |c, body| async move { c.stream_classify(&body).await },
        )
        .await
    }
}
