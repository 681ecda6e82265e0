//! PDF structure extraction: `stream_extract_pdf` (`POST /extract-structure/sse` for bytes,
//! multipart; `POST /extract-structure-json/sse` for a URL) and `extract_pdf`, which collects
//! the stream.

use std::sync::Arc;
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;

use crate::client::AsyncBookWyrmClient;
use crate::collect::Accumulator;
use crate::error::BookWyrmClientError;
use crate::ops::call::{generated_open, not_blank, open_body, send_handwritten, Open, SharedBody};
use crate::resume::pdf::PdfResumer;
use crate::stream::EventStream;
use crate::types::{self, PdfStreamEvent};

/// Which PDF: bytes (uploaded) or a URL (fetched by the server).
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let s = bookwyrm::PdfSource::Url("https://example.com/report.pdf".into());
/// let answer = client.stream_extract_pdf(bookwyrm::PdfExtractRequest::new(s)).await?.collect_pages().await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PdfSource {
    /// The PDF's bytes.
    Bytes(Bytes),
    /// A URL the server fetches the PDF from.
    Url(String),
}

/// A PDF extraction request.
///
/// ```no_run
/// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
/// let r = bookwyrm::PdfExtractRequest::from_url("https://example.com/r.pdf")
///     .start_page(1)
///     .num_pages(4)
///     .layout_detection(true);
/// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
/// # let _ = answer; Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a request does nothing until a client sends it"]
pub struct PdfExtractRequest {
    source: PdfSource,
    filename: Option<String>,
    start_page: Option<u64>,
    num_pages: Option<u64>,
    lang: String,
    enable_layout_detection: bool,
    force_ocr: bool,
}

impl PdfExtractRequest {
    /// A request for `source` (all pages, `lang` `en`, no layout detection, no forced OCR).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::new(bookwyrm::PdfSource::Bytes(bytes::Bytes::from_static(b"%PDF-")));
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn new(source: PdfSource) -> Self {
        Self {
            source,
            filename: None,
            start_page: None,
            num_pages: None,
            lang: "en".into(),
            enable_layout_detection: false,
            force_ocr: false,
        }
    }

    /// Extract from these bytes.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_bytes(b"%PDF-1.7".to_vec());
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Self::new(PdfSource::Bytes(bytes.into()))
    }

    /// Extract from base64 of the bytes; invalid base64 is a validation error.
    ///
    /// ```
    /// assert!(bookwyrm::PdfExtractRequest::from_base64("JVBERi0=").is_ok());
    /// assert!(bookwyrm::PdfExtractRequest::from_base64("%%%").is_err());
    /// ```
    pub fn from_base64(content: &str) -> Result<Self, BookWyrmClientError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|e| {
                BookWyrmClientError::validation(
                    "pdf_content",
                    format!("pdf_content is not valid base64: {e}"),
                )
            })?;
        Ok(Self::from_bytes(bytes))
    }

    /// Extract from the PDF at this URL.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("https://example.com/r.pdf");
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn from_url(url: impl Into<String>) -> Self {
        Self::new(PdfSource::Url(url.into()))
    }

    /// The uploaded file's name (default `document.pdf`; not sent for URLs).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_bytes(vec![]).filename("r.pdf");
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn filename(mut self, filename: impl Into<String>) -> Self {
        self.filename = Some(filename.into());
        self
    }

    /// First page to extract, 1-based (must be >= 1).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("u").start_page(3);
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn start_page(mut self, page: u64) -> Self {
        self.start_page = Some(page);
        self
    }

    /// Number of pages to extract (must be >= 1).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("u").num_pages(2);
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn num_pages(mut self, pages: u64) -> Self {
        self.num_pages = Some(pages);
        self
    }

    /// OCR language (default `en`; empty to let the server choose).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("u").lang("de");
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn lang(mut self, lang: impl Into<String>) -> Self {
        self.lang = lang.into();
        self
    }

    /// Detect layout regions (implies forced OCR, as the API requires).
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("u").layout_detection(true);
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn layout_detection(mut self, on: bool) -> Self {
        self.enable_layout_detection = on;
        self
    }

    /// OCR every page even when it has a text layer.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> bookwyrm::Result<()> {
    /// let r = bookwyrm::PdfExtractRequest::from_url("u").force_ocr(true);
    /// let answer = client.stream_extract_pdf(r).await?.collect_pages().await?;
    /// # let _ = answer; Ok(()) }
    /// ```
    pub fn force_ocr(mut self, on: bool) -> Self {
        self.force_ocr = on;
        self
    }

    fn validate(&self) -> Result<(), BookWyrmClientError> {
        if self.start_page == Some(0) {
            return Err(BookWyrmClientError::validation(
                "start_page",
                "start_page must be >= 1",
            ));
        }
        if self.num_pages == Some(0) {
            return Err(BookWyrmClientError::validation(
                "num_pages",
                "num_pages must be >= 1",
            ));
        }
        match &self.source {
            PdfSource::Bytes(b) if b.is_empty() => Err(BookWyrmClientError::validation(
                "pdf_bytes",
                "pdf_bytes cannot be empty",
            )),
            PdfSource::Url(u) => not_blank("pdf_url", u, "pdf_url cannot be empty"),
            _ => Ok(()),
        }
    }

    /// The multipart upload: the optional fields first, as text parts, then `file`.
    fn multipart(
        &self,
        bytes: &Bytes,
        http: &reqwest::Client,
        base: &str,
    ) -> reqwest::RequestBuilder {
        let mut form = reqwest::multipart::Form::new();
        if let Some(p) = self.start_page {
            form = form.text("start_page", p.to_string());
        }
        if let Some(n) = self.num_pages {
            form = form.text("num_pages", n.to_string());
        }
        if !self.lang.is_empty() {
            form = form.text("lang", self.lang.clone());
        }
        form = form
            .text(
                "enable_layout_detection",
                self.enable_layout_detection.to_string(),
            )
            .text("force_ocr", self.force_ocr_effective().to_string());
        let filename = self
            .filename
            .clone()
            .unwrap_or_else(|| "document.pdf".into());
        let part = reqwest::multipart::Part::stream_with_length(bytes.clone(), bytes.len() as u64)
            .file_name(filename)
            .mime_str("application/pdf")
            .expect("a valid MIME type");
        http.post(format!("{base}/extract-structure/sse"))
            .multipart(form.part("file", part))
    }

    fn force_ocr_effective(&self) -> bool {
        self.force_ocr || self.enable_layout_detection
    }
}

/// One attempt of `request`: the operation, its JSON body (for a URL) and how to open it
/// (bytes go as multipart, the form built anew for every attempt).
fn attempt(
    request: Arc<PdfExtractRequest>,
) -> Result<(&'static str, Option<SharedBody>, Open), BookWyrmClientError> {
    match &request.source {
        PdfSource::Url(url) => {
            // Made from its required field, then set field by field: optional fields a
            // regenerated contract adds keep their defaults instead of breaking the build.
            let mut wire: types::PdfExtractUrlRequest =
                serde_json::from_value(serde_json::json!({ "pdf_url": url }))
                    .map_err(|e| BookWyrmClientError::validation("pdf_url", e.to_string()))?;
            wire.enable_layout_detection = request.enable_layout_detection;
            wire.force_ocr = request.force_ocr_effective();
            wire.lang = (!request.lang.is_empty()).then(|| request.lang.clone());
            wire.num_pages = request.num_pages.and_then(std::num::NonZeroU64::new);
            wire.start_page = request.start_page.and_then(std::num::NonZeroU64::new);
            let body = SharedBody::of(&wire)?;
            let open = generated_open(wire, |c, body| async move {
                c.stream_extract_pdf_url(&body).await
            });
            Ok(("stream_extract_pdf_url", Some(body), Arc::new(open)))
        }
        PdfSource::Bytes(bytes) => {
            let bytes = bytes.clone();
            let open = move |ctx: crate::transport::CallContext| {
                let (request, bytes) = (request.clone(), bytes.clone());
                Box::pin(async move {
                    let response =
                        send_handwritten(&ctx, |http, base| request.multipart(&bytes, http, base))
                            .await?;
                    let headers = response.headers().clone();
                    open_body(&ctx, &headers, response.bytes_stream())
                }) as crate::ops::call::OpenFuture
            };
            Ok(("stream_extract_pdf_upload", None, Arc::new(open)))
        }
    }
}

/// A whole extraction: every page, with what the stream said about it (Python's documented but
/// missing `PDFExtractResponse`).
///
/// ```
/// let r = bookwyrm::PdfExtractResult::default();
/// assert_eq!(r.total_pages, 0);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PdfExtractResult {
    /// The extracted pages, in order received.
    pub pages: Vec<types::PdfPage>,
    /// Number of pages extracted.
    pub total_pages: u64,
    /// Seconds the extraction took (the server's figure when it gives one, else measured).
    pub processing_time: f64,
    /// The stream's `metadata` event, if any.
    pub metadata: Option<types::PdfMetadataEvent>,
    /// Pages that failed (`page_error` events); the others are still in `pages`.
    pub page_errors: Vec<types::PdfPageErrorEvent>,
}

impl PdfExtractResult {
    /// The raw text of the extracted pages with one box per character (see
    /// [`PdfTextMapping`](crate::pdf_text::PdfTextMapping)), to find text and its place on
    /// the page.
    ///
    /// ```
    /// let result = bookwyrm::PdfExtractResult::default();
    /// let mapping = result.text_mapping();
    /// assert_eq!(mapping.find("anything"), None);
    /// ```
    pub fn text_mapping(&self) -> crate::pdf_text::PdfTextMapping {
        crate::pdf_text::PdfTextMapping::from_pages(&self.pages, None)
    }
}

/// Gathers a PDF stream into a [`PdfExtractResult`]: metadata, pages, page errors, and the
/// server's processing time (else the time since this accumulator was made).
///
/// ```
/// use bookwyrm::{Accumulator, PdfPages, PdfStreamEvent};
/// let pages = PdfPages::default();
/// assert_eq!(Accumulator::<PdfStreamEvent>::finish(pages).unwrap().total_pages, 0);
/// ```
#[derive(Debug)]
pub struct PdfPages {
    result: PdfExtractResult,
    started: Instant,
    server_time: Option<f64>,
}

impl Default for PdfPages {
    fn default() -> Self {
        Self {
            result: PdfExtractResult::default(),
            started: Instant::now(),
            server_time: None,
        }
    }
}

impl Accumulator<PdfStreamEvent> for PdfPages {
    type Output = PdfExtractResult;

    fn add(&mut self, event: PdfStreamEvent) {
        let out = &mut self.result;
        match event {
            PdfStreamEvent::Metadata(m) => out.metadata = Some(m),
            PdfStreamEvent::Page(p) => out.pages.push(p.page_data),
            PdfStreamEvent::PageError(e) => out.page_errors.push(e),
            PdfStreamEvent::Complete(c) => self.server_time = c.processing_time,
            _ => {}
        }
    }

    fn finish(self) -> Result<PdfExtractResult, BookWyrmClientError> {
        let mut out = self.result;
        out.total_pages = out.pages.len() as u64;
        out.processing_time = self
            .server_time
            .unwrap_or_else(|| self.started.elapsed().as_secs_f64());
        Ok(out)
    }
}

impl EventStream<PdfStreamEvent> {
    /// Reads the stream to its end: pages, metadata, page errors. An `error` event or a
    /// failure is an error.
    ///
    /// ```no_run
    /// # async fn run(client: bookwyrm::AsyncBookWyrmClient) -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let pdf = std::fs::read("report.pdf").unwrap();
    /// let result = client
    ///     .stream_extract_pdf(bookwyrm::PdfExtractRequest::from_bytes(pdf))
    ///     .await?
    ///     .collect_pages()
    ///     .await?;
    /// println!("{} pages", result.pages.len());
    /// # Ok(()) }
    /// ```
    pub async fn collect_pages(&mut self) -> Result<PdfExtractResult, BookWyrmClientError> {
        // Error events end the collection as `Err(ServerEvent)`.
        self.errors_as_err_in_place()
            .collect_with(PdfPages::default(), &mut ())
            .await
    }
}

impl AsyncBookWyrmClient {
    /// Extracts a PDF's structure as a stream of [`PdfStreamEvent`]s: `metadata`, one `page`
    /// per page, `page_error` for a page that fails, `progress`, `complete`. Bytes are uploaded
    /// as multipart to `/extract-structure/sse`; a URL goes as JSON to
    /// `/extract-structure-json/sse`.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// use bookwyrm::StreamExt;
    /// use bookwyrm::{PdfExtractRequest, PdfStreamEvent};
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let request = PdfExtractRequest::from_bytes(std::fs::read("r.pdf").unwrap()).start_page(1).num_pages(2);
    /// let mut s = client.stream_extract_pdf(request).await?;
    /// while let Some(e) = s.next().await {
    ///     if let PdfStreamEvent::Page(p) = e? {
    ///         println!("page {}: {} regions", p.document_page, p.page_data.layout_regions.len());
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn stream_extract_pdf(
        &self,
        request: PdfExtractRequest,
    ) -> Result<EventStream<PdfStreamEvent>, BookWyrmClientError> {
        request.validate()?;
        let request = Arc::new(request);
        let (operation, body, open) = attempt(request.clone())?;
        let stream = self
            .run_stream(operation, body, move |ctx| open(ctx))
            .await?;
        let client = self.clone();
        let (start, asked) = (request.start_page, request.num_pages);
        // The pages from `start` on, `count` of them (0: all): the request's own bytes (shared,
        // not copied) with another page range.
        let rest = move |start: u64, count: u64| {
            let mut rest = (*request).clone();
            rest.start_page = Some(start);
            rest.num_pages = (count > 0).then_some(count);
            match attempt(Arc::new(rest)) {
                Ok((operation, body, open)) => {
                    client.resume_request(operation, body, move |ctx| open(ctx))
                }
                Err(e) => crate::reopen::refused("start_page", e.to_string()),
            }
        };
        Ok(stream.resuming(
            PdfResumer::new(start, asked, Box::new(rest)),
            self.resume_policies(),
        ))
    }

    /// Extracts a PDF and returns every page at once: [`stream_extract_pdf`](Self::stream_extract_pdf)
    /// collected with [`EventStream::collect_pages`].
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), bookwyrm::BookWyrmClientError> {
    /// let client = bookwyrm::AsyncBookWyrmClient::new()?;
    /// let r = client.extract_pdf(bookwyrm::PdfExtractRequest::from_url("https://example.com/r.pdf")).await?;
    /// println!("{} pages in {:.1} s", r.total_pages, r.processing_time);
    /// # Ok(()) }
    /// ```
    pub async fn extract_pdf(
        &self,
        request: PdfExtractRequest,
    ) -> Result<PdfExtractResult, BookWyrmClientError> {
        self.stream_extract_pdf(request)
            .await?
            .collect_pages()
            .await
    }
}
