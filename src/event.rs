//! The event model: what a streaming operation's typed events are ([`StreamEvent`], implemented
//! by the enums `build.rs` generates), the result of decoding one SSE event ([`Decoded`]), events
//! the SDK does not know ([`UnknownEvent`]), and how each stream's error payload becomes a
//! [`ServerError`].

mod tagged;

pub(crate) use tagged::serialize_tagged;

use bytes::Bytes;

use crate::error::{BookWyrmClientError, ServerError};
use crate::generated::types;

/// The typed events of one streaming operation (implemented by the generated event enums).
///
/// ```
/// use bookwyrm::{Decoded, PhrasalStreamEvent, StreamEvent};
/// match PhrasalStreamEvent::decode("text", r#"{"text":"Hi."}"#) {
///     Decoded::Event(Ok(e)) => assert_eq!(e.event_name(), "text"),
///     other => panic!("{other:?}"),
/// }
/// ```
pub trait StreamEvent: Sized + Send + 'static {
    /// Decodes one SSE event.
    fn decode(event: &str, data: &str) -> Decoded<Self>;
    /// The server error this event reports, if it is an `error` event.
    fn server_error(&self) -> Option<ServerError>;
    /// The SSE event name this value came from (the first name, for variants with aliases).
    fn event_name(&self) -> &str;
    /// Whether this is an event the SDK does not know (kept as `Unknown`).
    fn is_unknown(&self) -> bool;
}

/// The result of decoding one SSE event.
///
/// ```
/// use bookwyrm::{Decoded, PhrasalStreamEvent, StreamEvent};
/// assert!(matches!(PhrasalStreamEvent::decode("keepalive", "{}"), Decoded::Ignored));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Decoded<E> {
    /// A typed event, or a decode error carrying the raw data (the stream goes on).
    Event(Result<E, BookWyrmClientError>),
    /// An event the contract says to ignore (`keepalive`).
    Ignored,
}

impl<E> From<Result<E, BookWyrmClientError>> for Decoded<E> {
    fn from(r: Result<E, BookWyrmClientError>) -> Self {
        Self::Event(r)
    }
}

/// Parses the JSON payload of a known event.
pub(crate) fn decode_payload<T: serde::de::DeserializeOwned>(
    event: &str,
    data: &str,
) -> Result<T, BookWyrmClientError> {
    serde_json::from_str(data).map_err(|e| {
        BookWyrmClientError::decode(
            format!("the data of event `{event}`"),
            Bytes::copy_from_slice(data.as_bytes()),
            Some(Box::new(e)),
        )
    })
}

/// An event the SDK does not know, kept with its name and raw data.
///
/// ```
/// let u = bookwyrm::UnknownEvent::new("shiny_new_event", "{\"x\":1}");
/// assert_eq!(u.event(), "shiny_new_event");
/// assert_eq!(u.json().unwrap()["x"], 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEvent {
    event: String,
    data: String,
}

impl UnknownEvent {
    /// An unknown event.
    ///
    /// ```
    /// let u = bookwyrm::UnknownEvent::new("x", "");
    /// assert_eq!(u.data(), "");
    /// ```
    pub fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
        }
    }

    /// The SSE event name.
    ///
    /// ```
    /// assert_eq!(bookwyrm::UnknownEvent::new("x", "").event(), "x");
    /// ```
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The raw data.
    ///
    /// ```
    /// assert_eq!(bookwyrm::UnknownEvent::new("x", "d").data(), "d");
    /// ```
    pub fn data(&self) -> &str {
        &self.data
    }

    /// The data parsed as JSON, when it is JSON.
    ///
    /// ```
    /// assert!(bookwyrm::UnknownEvent::new("x", "not json").json().is_none());
    /// ```
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.data).ok()
    }
}

/// Error payloads of the streams, normalised into a [`ServerError`].
pub(crate) trait ErrorPayload {
    fn to_server_error(&self) -> ServerError;
}

impl ErrorPayload for types::CitationErrorEvent {
    fn to_server_error(&self) -> ServerError {
        ServerError::new("error", &self.error_message, None, self.recoverable)
    }
}

impl ErrorPayload for types::SummarizeErrorEvent {
    fn to_server_error(&self) -> ServerError {
        let msg = self.error.clone().unwrap_or_else(|| "unknown error".into());
        ServerError::new("error", msg, None, self.recoverable)
    }
}

impl ErrorPayload for types::PhrasalErrorEvent {
    fn to_server_error(&self) -> ServerError {
        let msg = self
            .error
            .clone()
            .or_else(|| self.message.clone())
            .unwrap_or_else(|| "unknown error".into());
        ServerError::new("error", msg, self.error_type.clone(), false)
    }
}

/// Error payloads with `message`, `error_type` and `recoverable`.
macro_rules! typed_error_payload {
    ($($payload:ty),*) => {$(
        impl ErrorPayload for $payload {
            fn to_server_error(&self) -> ServerError {
                ServerError::new("error", &self.message, self.error_type.clone(), self.recoverable)
            }
        }
    )*};
}

typed_error_payload!(types::ClassifyErrorEvent, types::PdfErrorEvent);
