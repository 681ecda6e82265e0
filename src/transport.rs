//! The seam between the generated operations and the network: headers, per-call deadlines,
//! capture of non-2xx answers with their exact body, deprecation notices, and the mapping of
//! progenitor's errors onto [`BookWyrmClientError`].
//!
//! Each call gets a fresh generated `Client` (a `String` and two `Arc`s) whose inner value is the
//! call's [`CallContext`]; the generated code runs our [`ClientHooks`] for every request, and the
//! hand-written multipart operations call the same [`CallContext::prepare`] and
//! [`CallContext::send`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::client::Shared;
use crate::error::{
    BookWyrmApiError, BookWyrmClientError, TimeoutError, TimeoutKind, TransportKind,
};
use crate::generated;

/// The API date this client was built against, sent as `Bookwyrm-Client-Date`.
///
/// ```
/// assert_eq!(bookwyrm::CLIENT_DATE, "2025-10-16");
/// ```
pub const CLIENT_DATE: &str = "2025-10-16";

/// At most this much of an error body is read.
const MAX_ERROR_BODY: usize = 1 << 20;

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
    pub(crate) connect_timeout: Option<Duration>,
    pub(crate) headers: HeaderMap,
    /// The request body, serialized once for all attempts (see `ops::SharedBody`); it
    /// replaces the body the generated operation serialized from its stand-in value.
    pub(crate) body: Option<Bytes>,
    pub(crate) captured: Arc<Mutex<Option<Captured>>>,
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
    /// The direct stream transport ([`crate::h1`]) failed.
    Failed(BookWyrmClientError),
}

impl CallContext {
    /// The HTTP client of this call.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The generated client for this call.
    pub(crate) fn generated(&self) -> generated::Client {
        generated::Client::new_with_client(&self.shared.base_url, self.http.clone(), self.clone())
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
        let response = match self.shared.direct() {
            Some(direct) if self.streaming && direct.handles(&request) => {
                match direct.execute(request, self.connect_timeout).await {
                    Ok(response) => response,
                    Err(failure) => {
                        let error = self.map_direct(failure);
                        *self.captured.lock().expect("capture lock") =
                            Some(Captured::Failed(error));
                        let mut stand_in = http::Response::new(Bytes::new());
                        *stand_in.status_mut() = http::StatusCode::BAD_GATEWAY;
                        return Ok(reqwest::Response::from(stand_in));
                    }
                }
            }
            _ => self.http.execute(request).await?,
        };
        tracing::debug!(
            status = response.status().as_u16(),
            request_id = request_id(response.headers()),
            "response headers received"
        );
        self.shared.note_deprecation(response.headers());
        if response.status().is_success() {
            return Ok(response);
        }
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
        Ok(reqwest::Response::from(rebuilt))
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
    fn map_direct(&self, failure: crate::h1::Failure) -> BookWyrmClientError {
        use crate::h1::Failure as F;
        match failure {
            F::Connect(e) => BookWyrmClientError::transport_of(
                TransportKind::Connect,
                format!("could not connect to {}", self.shared.base_url),
                e,
            ),
            F::ConnectTimeout => BookWyrmClientError::Timeout(TimeoutError {
                kind: TimeoutKind::Connect,
                after: self.connect_timeout,
            }),
            F::Exchange(e) => BookWyrmClientError::transport("the HTTP exchange failed", e),
        }
    }

    /// Maps what the generated operation returned onto our error type.
    pub(crate) fn map_error<E>(&self, err: progenitor_client::Error<E>) -> BookWyrmClientError {
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

    /// Maps a reqwest failure onto a timeout or a transport error.
    pub(crate) fn map_reqwest(&self, e: reqwest::Error) -> BookWyrmClientError {
        if e.is_timeout() {
            let (kind, after) = if e.is_connect() {
                (TimeoutKind::Connect, self.connect_timeout)
            } else {
                (TimeoutKind::Total, self.total_timeout)
            };
            return BookWyrmClientError::Timeout(TimeoutError { kind, after });
        }
        let (kind, context) = if e.is_connect() {
            (
                TransportKind::Connect,
                format!("could not connect to {}", self.shared.base_url),
            )
        } else if e.is_body() || e.is_decode() {
            (
                TransportKind::Other,
                "the connection broke while reading the response".to_string(),
            )
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

/// At most `max` bytes of a body as text, for debug logs.
fn truncated(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max)]).into_owned();
    if body.len() > max {
        format!("{text}… ({} bytes in all)", body.len())
    } else {
        text
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a response; a broken body keeps what arrived.
async fn read_capped(mut response: reqwest::Response) -> Bytes {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= MAX_ERROR_BODY {
            break;
        }
    }
    Bytes::from(body)
}

/// Builds the API error of a non-2xx answer.
pub(crate) fn api_error(status: u16, headers: &HeaderMap, body: &[u8]) -> BookWyrmApiError {
    let text = String::from_utf8_lossy(body).into_owned();
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let message = json
        .as_ref()
        .and_then(|j| {
            ["detail", "message", "error", "error_message"]
                .iter()
                .find_map(|k| j.get(*k).and_then(|v| v.as_str()))
                .map(str::to_string)
                .or_else(|| {
                    // FastAPI's list of issues: join their messages.
                    let issues = j.get("detail")?.as_array()?;
                    let msgs: Vec<String> = issues
                        .iter()
                        .filter_map(|i| {
                            let msg = i.get("msg")?.as_str()?;
                            let loc = i
                                .get("loc")
                                .and_then(|l| l.as_array())
                                .map(|l| {
                                    l.iter()
                                        .map(|p| match p {
                                            serde_json::Value::String(s) => s.clone(),
                                            other => other.to_string(),
                                        })
                                        .collect::<Vec<_>>()
                                        .join(".")
                                })
                                .unwrap_or_default();
                            Some(if loc.is_empty() {
                                msg.to_string()
                            } else {
                                format!("{loc}: {msg}")
                            })
                        })
                        .collect();
                    (!msgs.is_empty()).then(|| msgs.join("; "))
                })
        })
        .or_else(|| {
            let trimmed = text.trim();
            (!trimmed.is_empty() && trimmed.len() <= 500).then(|| trimmed.to_string())
        })
        .unwrap_or_else(|| {
            reqwest::StatusCode::from_u16(status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("no reason given")
                .to_string()
        });
    BookWyrmApiError {
        status,
        message,
        body: text,
        json,
        request_id: request_id(headers),
        retry_after: retry_after(headers),
        attempts: 1,
    }
}

/// The request id header, when present.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok())
        .map(str::to_string)
}

/// `retry-after-ms`, else `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The deprecation notice of a response: `Deprecation` present and not `false`, and a
/// `Warning: 299 bookwyrm "<message>"`.
pub(crate) fn deprecation_notice(headers: &HeaderMap) -> Option<String> {
    let deprecation = headers.get("deprecation")?.to_str().ok()?.trim();
    if deprecation.eq_ignore_ascii_case("false") {
        return None;
    }
    let warning = headers
        .get_all(reqwest::header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|w| w.trim_start().starts_with("299 bookwyrm"))?;
    let message = match (warning.find('"'), warning.rfind('"')) {
        (Some(a), Some(b)) if b > a => warning[a + 1..b].replace("\\\"", "\""),
        _ => "Client version deprecation detected".to_string(),
    };
    Some(message)
}

impl ClientHooks<CallContext> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        self.inner().prepare(request);
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.inner().send(request).await
    }
}
