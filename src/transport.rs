//! The seam between the generated operations and the network: headers, per-call deadlines,
//! capture of non-2xx answers with their exact body, deprecation notices, and the mapping of
//! progenitor's errors onto [`BookWyrmClientError`].
//!
//! Each call gets a fresh generated `Client` (a `String` and two `Arc`s) whose inner value is the
//! call's [`CallContext`]; the generated code runs the hooks (in `generated.rs`) for every
//! request, which call [`CallContext::prepare`] and [`CallContext::send`], as the hand-written
//! multipart operations do.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{BookWyrmClientError, TimeoutKind, TransportKind};

mod conn;
pub(crate) mod direct;
mod pool;
mod response;
mod shared;
#[cfg(unix)]
mod socket;
mod stats;
pub(crate) mod tls;

pub(crate) use response::request_id;
use response::{api_error, read_capped, truncated};
pub(crate) use shared::{Halt, Shared};
pub use stats::TransportStats;

/// The API date this client was built against, sent as `Bookwyrm-Client-Date`.
///
/// ```
/// // Worth logging with a bug report: the API version this SDK speaks.
/// eprintln!("bookwyrm SDK {} (API date {})", env!("CARGO_PKG_VERSION"), bookwyrm::CLIENT_DATE);
/// ```
pub const CLIENT_DATE: &str = "2025-10-16";

/// What one attempt of a call needs on its way through the hooks.
#[derive(Clone, Debug)]
pub(crate) struct CallContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) http: reqwest::Client,
    pub(crate) streaming: bool,
    /// Total deadline of a non-streaming call.
    pub(crate) total_timeout: Option<Duration>,
    /// Longest wait for a stream's headers (and, in the stream, between bytes).
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) headers: HeaderMap,
    /// The request body, serialized once for all attempts (see `ops::call::SharedBody`); it
    /// replaces the body the generated operation serialized from its stand-in value.
    pub(crate) body: Option<Bytes>,
    /// The cap on a non-streaming answer's body (`None` for streams).
    pub(crate) max_body: Option<usize>,
    pub(crate) captured: Arc<Mutex<Option<Captured>>>,
    /// The body of a stream's 2xx answer on the direct transport, for `ops::call::open_body`
    /// to read as it is: the generated code is given the head only (see [`Self::send`]).
    pub(crate) stream_body: Arc<Mutex<Option<direct::DrivenBody>>>,
    /// The request id of this attempt's response, once its head arrived (errors carry it).
    pub(crate) response_id: Arc<std::sync::OnceLock<String>>,
    /// The OpenTelemetry context current when the attempt began (feature `otel`): its trace
    /// context goes out as `traceparent` / `tracestate`.
    #[cfg(feature = "otel")]
    pub(crate) otel: opentelemetry::Context,
    /// The slot under the client's concurrency cap, held as long as any clone of this context
    /// (a stream's body keeps one).
    pub(crate) _permit: Option<Arc<tokio::sync::OwnedSemaphorePermit>>,
}

/// What a failed attempt leaves for [`CallContext::take_failure`]: the generated code only
/// sees a stand-in response, and would lose the body of a non-2xx answer or the cause of a
/// failure of the direct stream transport.
#[derive(Debug)]
pub(crate) enum Captured {
    /// A non-2xx answer, read in full.
    Api {
        status: u16,
        headers: HeaderMap,
        body: Bytes,
    },
    /// The direct transport ([`direct`]) failed.
    Failed(BookWyrmClientError),
}

impl CallContext {
    /// The HTTP client of this call.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sets the headers every request carries and the call's deadline.
    pub(crate) fn prepare(&self, request: &mut reqwest::Request) {
        if let Some(body) = &self.body {
            *request.body_mut() = Some(reqwest::Body::from(body.clone()));
        }
        let headers = request.headers_mut();
        for (name, value) in &self.headers {
            headers.insert(name, value.clone());
        }
        // progenitor adds `api-version: <info.version>`; the API identifies the client's API date
        // through `Bookwyrm-Client-Date` instead, as the reference client does.
        headers.remove("api-version");
        headers.insert(reqwest::header::USER_AGENT, self.shared.user_agent.clone());
        headers.insert(
            HeaderName::from_static("bookwyrm-client-date"),
            HeaderValue::from_static(CLIENT_DATE),
        );
        if let Some(auth) = &self.shared.authorization {
            headers.insert(reqwest::header::AUTHORIZATION, auth.clone());
        }
        #[cfg(feature = "otel")]
        inject_trace_context(&self.otel, headers);
        if self.streaming {
            headers.insert(
                reqwest::header::ACCEPT,
                HeaderValue::from_static("text/event-stream"),
            );
            headers.insert(
                reqwest::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
        } else if let Some(total) = self.total_timeout {
            *request.timeout_mut() = Some(total);
        }
    }

    /// Sends the request. A non-2xx answer is read in full and kept, so that the error the
    /// generated code makes of it can be replaced by a [`BookWyrmApiError`] with the exact body.
    pub(crate) async fn send(
        &self,
        request: reqwest::Request,
    ) -> reqwest::Result<reqwest::Response> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            let body = request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .map(|b| truncated(b, 1024))
                .unwrap_or_else(|| "<streamed body>".into());
            // Never headers: the Authorization header holds the key.
            tracing::debug!(method = %request.method(), url = %request.url(), %body, "sending");
        }
        // The direct transport applies the body cap itself; reqwest's answers get it below.
        let (response, capped_already) = match self.shared.direct() {
            Some(direct) if direct.handles(&request) => {
                match self.send_direct(direct, request).await {
                    Ok(response) => (response, true),
                    Err(failure) => return Ok(self.fail(self.map_direct(failure))),
                }
            }
            _ => {
                self.shared.counters.sent_via_reqwest();
                (self.http.execute(request).await?, false)
            }
        };
        let id = request_id(response.headers());
        tracing::debug!(
            status = response.status().as_u16(),
            request_id = id,
            "response headers received"
        );
        if let Some(id) = id {
            let _ = self.response_id.set(id.to_string());
        }
        self.shared.note_deprecation(response.headers());
        if response.status().is_success() {
            return Ok(match self.max_body.filter(|_| !capped_already) {
                Some(cap) => match capped(response, cap) {
                    Ok(response) => response,
                    Err(error) => self.fail(error),
                },
                None => response,
            });
        }
        Ok(self.capture_error(response).await)
    }

    /// Sends `request` over the direct transport: the answer as reqwest's type.
    async fn send_direct(
        &self,
        direct: &direct::Direct,
        request: reqwest::Request,
    ) -> Result<reqwest::Response, direct::Failure> {
        self.shared.counters.sent_direct();
        let deadline = request.timeout().map(|t| tokio::time::Instant::now() + *t);
        let limits = direct::Limits {
            connect_timeout: self.shared.connect_timeout,
            deadline,
            max_body: self.max_body,
        };
        let url = request.url().clone();
        let (mut head, body) = direct
            .execute(request, self.body.clone(), limits, &self.shared.counters)
            .await?;
        // A stream's body skips reqwest's layers, each a poll per event: the generated code
        // gets the head, `open_body` the body.
        let body = if self.streaming && head.status.is_success() {
            *self.stream_body.lock().expect("stream body lock") = Some(body);
            reqwest::Body::from(Bytes::new())
        } else {
            reqwest::Body::wrap_stream(body)
        };
        // The response knows its URL (else reqwest parses a placeholder URL for it).
        use reqwest::ResponseBuilderExt as _;
        let (marked, ()) = http::Response::builder()
            .url(url)
            .body(())
            .unwrap_or_default()
            .into_parts();
        head.extensions.extend(marked.extensions);
        Ok(reqwest::Response::from(http::Response::from_parts(
            head, body,
        )))
    }

    /// A non-2xx answer, read in full and kept for the error that replaces the generated
    /// code's, and given back to the generated code whole.
    async fn capture_error(&self, response: reqwest::Response) -> reqwest::Response {
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let body = read_capped(response).await;
        let mut rebuilt = http::Response::new(body.clone());
        *rebuilt.status_mut() = status;
        *rebuilt.version_mut() = version;
        *rebuilt.headers_mut() = headers.clone();
        *self.captured.lock().expect("capture lock") = Some(Captured::Api {
            status: status.as_u16(),
            headers,
            body,
        });
        reqwest::Response::from(rebuilt)
    }

    /// Keeps `error` for [`take_failure`](Self::take_failure) and gives the generated code a
    /// stand-in answer, whose own error `map_error` then replaces with `error`.
    fn fail(&self, error: BookWyrmClientError) -> reqwest::Response {
        *self.captured.lock().expect("capture lock") = Some(Captured::Failed(error));
        let mut stand_in = http::Response::new(Bytes::new());
        *stand_in.status_mut() = http::StatusCode::BAD_GATEWAY;
        reqwest::Response::from(stand_in)
    }

    /// The error of a non-2xx answer this call received (a [`BookWyrmApiError`]), or the
    /// failure of the direct stream transport, if any.
    pub(crate) fn take_failure(&self) -> Option<BookWyrmClientError> {
        Some(match self.captured.lock().expect("capture lock").take()? {
            Captured::Api {
                status,
                headers,
                body,
            } => BookWyrmClientError::Api(Box::new(api_error(status, &headers, &body))),
            Captured::Failed(error) => error,
        })
    }

    /// Maps a failure of the direct stream transport onto our error type.
    fn map_direct(&self, failure: direct::Failure) -> BookWyrmClientError {
        use direct::Failure as F;
        match failure {
            F::Connect(e) => BookWyrmClientError::transport_of(
                TransportKind::Connect,
                format!("could not connect to {}", self.shared.base_url),
                e,
            ),
            F::ConnectTimeout => {
                BookWyrmClientError::timeout(TimeoutKind::Connect, self.shared.connect_timeout)
            }
            F::Exchange(e) => BookWyrmClientError::transport("the HTTP exchange failed", e),
            F::Timeout => BookWyrmClientError::timeout(TimeoutKind::Total, self.total_timeout),
            F::TooLarge { cap, announced } => too_large_announced(cap, announced),
        }
    }

    /// The request id of this attempt's response, once its head arrived.
    pub(crate) fn response_id(&self) -> Option<&str> {
        self.response_id.get().map(String::as_str)
    }

    /// Maps what the generated operation returned onto our error type, with the response's
    /// request id when its head had arrived.
    pub(crate) fn map_error<E>(&self, err: progenitor_client::Error<E>) -> BookWyrmClientError {
        self.map_error_inner(err).with_call(self.response_id(), 0)
    }

    fn map_error_inner<E>(&self, err: progenitor_client::Error<E>) -> BookWyrmClientError {
        if let Some(failure) = self.take_failure() {
            return failure;
        }
        use progenitor_client::Error as P;
        match err {
            P::CommunicationError(e) | P::ResponseBodyError(e) | P::InvalidUpgrade(e) => {
                self.map_reqwest(e)
            }
            P::InvalidResponsePayload(raw, e) => {
                BookWyrmClientError::decode("the response body", raw, Some(Box::new(e)))
            }
            P::InvalidRequest(msg) => BookWyrmClientError::validation("body", msg),
            P::Custom(msg) => BookWyrmClientError::transport(msg.clone(), msg),
            P::UnexpectedResponse(response) => BookWyrmClientError::decode(
                format!("an unexpected {} response", response.status()),
                Bytes::new(),
                None,
            ),
            P::ErrorResponse(rv) => BookWyrmClientError::decode(
                format!("an error response with status {}", rv.status()),
                Bytes::new(),
                None,
            ),
        }
    }

    /// Maps a failure of a direct stream's body (read without reqwest) onto the transport
    /// error a body failure through reqwest gets, with the response's request id.
    pub(crate) fn map_body(&self, e: std::io::Error) -> BookWyrmClientError {
        BookWyrmClientError::transport(BODY_BROKE, e).with_call(self.response_id(), 0)
    }

    /// Maps a reqwest failure onto a timeout or a transport error, with the response's request
    /// id when its head had arrived.
    pub(crate) fn map_reqwest(&self, e: reqwest::Error) -> BookWyrmClientError {
        self.map_reqwest_inner(e).with_call(self.response_id(), 0)
    }

    fn map_reqwest_inner(&self, e: reqwest::Error) -> BookWyrmClientError {
        if let Some(&TooLarge(cap)) = crate::error::find_in_chain::<TooLarge>(&e) {
            return too_large(cap, e);
        }
        if e.is_timeout() {
            let (kind, after) = if e.is_connect() {
                (TimeoutKind::Connect, self.shared.connect_timeout)
            } else {
                (TimeoutKind::Total, self.total_timeout)
            };
            return BookWyrmClientError::timeout(kind, after);
        }
        let (kind, context) = if e.is_connect() {
            (
                TransportKind::Connect,
                format!("could not connect to {}", self.shared.base_url),
            )
        } else if e.is_body() || e.is_decode() {
            (TransportKind::Other, BODY_BROKE.to_string())
        } else if e.is_request() {
            (
                TransportKind::Other,
                "the request could not be sent".to_string(),
            )
        } else {
            (TransportKind::Other, "the HTTP exchange failed".to_string())
        };
        BookWyrmClientError::transport_of(kind, context, e)
    }
}

/// What a transport error says when a response's body broke off.
const BODY_BROKE: &str = "the connection broke while reading the response";

/// The error a capped body yields past its cap; found again in the error's chain by
/// [`CallContext::map_reqwest`] (`error::find_in_chain`).
#[derive(Debug)]
pub(crate) struct TooLarge(pub(crate) usize);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "more than {} bytes", self.0)
    }
}

impl std::error::Error for TooLarge {}

fn too_large(cap: usize, source: impl Into<crate::error::Source>) -> BookWyrmClientError {
    BookWyrmClientError::transport_of(
        TransportKind::TooLarge,
        format!(
            "the answer is larger than the client's cap of {cap} bytes (ClientBuilder::max_response_body)"
        ),
        source,
    )
}

/// An answer whose `Content-Length` announces `len` bytes, over `cap`.
fn too_large_announced(cap: usize, len: u64) -> BookWyrmClientError {
    too_large(cap, format!("Content-Length announces {len} bytes"))
}

/// `response` with its body cut off at `cap` bytes: past it, reading fails with
/// [`TooLarge`]. An answer whose `Content-Length` announces more is refused before its body is
/// read.
fn capped(
    response: reqwest::Response,
    cap: usize,
) -> Result<reqwest::Response, BookWyrmClientError> {
    use futures_util::StreamExt;
    if let Some(len) = response::announced_over(response.headers(), cap) {
        return Err(too_large_announced(cap, len));
    }
    let status = response.status();
    let version = response.version();
    let headers = response.headers().clone();
    let mut left = cap;
    let body = response.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        left = left
            .checked_sub(chunk.len())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, TooLarge(cap)))?;
        Ok::<_, std::io::Error>(chunk)
    });
    let mut rebuilt = http::Response::new(reqwest::Body::wrap_stream(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Ok(reqwest::Response::from(rebuilt))
}

/// Writes `cx`'s trace context into `headers` through the global propagator (W3C
/// `traceparent` / `tracestate` with the usual `TraceContextPropagator`; nothing when no
/// propagator was set or the context has no span).
#[cfg(feature = "otel")]
fn inject_trace_context(cx: &opentelemetry::Context, headers: &mut HeaderMap) {
    struct Injector<'a>(&'a mut HeaderMap);
    impl opentelemetry::propagation::Injector for Injector<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(key.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                self.0.insert(name, value);
            }
        }
    }
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(cx, &mut Injector(headers));
    });
}
