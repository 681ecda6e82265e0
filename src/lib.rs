#![deny(missing_docs)]
#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`types`]: the wire types, generated from `openapi/bookwyrm.yaml`, and the event enums.
//! - [`sse`]: the Server-Sent Events decoder.
//! - [`contract`]: the contract this SDK was built from, as JSON (reading and comparing
//!   contracts is the `bookwyrm-contract` crate's).
//! - [`jsonl`]: JSON Lines of text spans; [`pdf_text`]: PDF text with one box per character.
//! - [`AsyncBookWyrmClient`]: the client; its operations live in `ops/`.
//! - `blocking` (feature `blocking`): `blocking::BookWyrmClient`, the same operations, blocking.
//!
//! # Features
//!
//! - `blocking`: the blocking client.
//! - `metrics`: call and stream metrics through the [`metrics`](https://docs.rs/metrics)
//!   facade; install any recorder (Prometheus, OpenTelemetry, ...) in your program. Names
//!   (OpenTelemetry HTTP-client style): `bookwyrm.client.request.duration` (s; labels
//!   `operation`, `streaming`, `outcome`), `bookwyrm.client.stream.time_to_first_event` (s),
//!   `bookwyrm.client.stream.events`, `bookwyrm.client.retries` (labels `operation`),
//!   `bookwyrm.client.slot.wait.duration` (s).
//! - `otel`: W3C trace context on every request, from the OpenTelemetry context current when
//!   the call is made, through the global propagator (no exporter chosen for you).

#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod collect;
pub mod contract;
mod error;
mod event;
mod events;
mod generated;
pub mod jsonl;
mod ops;
pub mod pdf_text;
mod reopen;
mod resume;
mod retry;
pub mod sse;
mod stream;
mod telemetry;
mod transport;
pub mod types;

pub use client::{
    AsyncBookWyrmClient, ClientBuilder, Config, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BODY, DEFAULT_STREAM_IDLE_TIMEOUT, DEFAULT_TIMEOUT, ENV_API_KEY,
    ENV_API_URL, ENV_CA_CERT,
};
pub use collect::{Accumulator, Observer};
pub use error::{
    BookWyrmApiError, BookWyrmClientError, CancelledError, ClosedError, DecodeError, ErrorReport,
    InterruptReason, Interrupted, ResumePoint, ServerError, TimeoutError, TimeoutKind,
    TransportError, TransportKind, ValidationError,
};
pub use event::{Decoded, StreamEvent, UnknownEvent};
pub use events::{OperationInfo, OPERATIONS};
pub use ops::cite::{CitationRequest, CitationResult, CitationSource, MAX_QUESTIONS};
pub use ops::classify::{ClassifyInput, ClassifyRequest, ContentEncoding};
pub use ops::pdf::{PdfExtractRequest, PdfExtractResult, PdfPages, PdfSource};
pub use ops::phrasal::{PhrasalRequest, PhrasalSource};
pub use ops::summarize::{
    StructuredSummary, SummarizeRequest, SummarizeSource, SummaryStyle, MAX_SUMMARY_TOKENS,
};
pub use resume::ResumePolicy;
pub use retry::RetryPolicy;
pub use stream::{EventStream, MalformedEvents, StreamCanceller};
pub use transport::{TransportStats, CLIENT_DATE};
pub use types::{
    CitationStreamEvent, ClassifyStreamEvent, ModelStrength, PdfStreamEvent, PhrasalStreamEvent,
    ResponseFormat, SummarizeStreamEvent, TextSpan,
};

/// `Result` with this crate's error.
///
/// ```
/// fn phrase_count(text: &str) -> bookwyrm::Result<usize> {
///     Ok(text.split(". ").count())
/// }
/// assert_eq!(phrase_count("A. B.").unwrap(), 2);
/// ```
pub type Result<T, E = BookWyrmClientError> = std::result::Result<T, E>;

/// The `schemars` this crate derives summary schemas with: derive `JsonSchema` through it so
/// that the versions always match.
///
/// ```
/// use bookwyrm::schemars::{self, JsonSchema};
/// #[derive(JsonSchema, serde::Deserialize)]
/// struct Brief { title: String }
/// # let _ = schemars::schema_for!(Brief);
/// ```
pub use schemars;

/// `StreamExt` from `futures-util`, for stream combinators (`map`, `filter`, `take`, …) on an
/// [`EventStream`]; plain `next()` needs no import (it is an inherent method too).
///
/// ```
/// use bookwyrm::StreamExt;
/// # async fn run(s: bookwyrm::EventStream<bookwyrm::PhrasalStreamEvent>) {
/// let firsts: Vec<_> = s.take(3).collect().await;
/// # drop(firsts); }
/// ```
pub use futures_util::StreamExt;
