//! What every operation's call shares: attempts with retries for JSON calls, opening a stream
//! (generated or hand-written) with retries before its first event, the request body
//! serialized once for all attempts, and the common checks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use tracing::Instrument;

use crate::client::AsyncBookWyrmClient;
use crate::error::{BookWyrmClientError, TimeoutKind};
use crate::event::StreamEvent;
use crate::generated;
use crate::reopen::{Body, Reopen};
use crate::resume::restart::{Restart, Restartable};
use crate::retry::{decide, with_attempts, Decision};
use crate::stream::EventStream;
use crate::telemetry;
use crate::transport::{request_id, CallContext};

/// A stream's response, up to its headers: the body and what the stream keeps of the rest.
pub(crate) struct Opened {
    pub(crate) body: Body,
    pub(crate) request_id: Option<String>,
}

/// Opens a stream once (one attempt).
pub(crate) type OpenFuture =
    Pin<Box<dyn Future<Output = Result<Opened, BookWyrmClientError>> + Send>>;

impl AsyncBookWyrmClient {
    /// Runs `attempt` until it succeeds, fails for good, or the retry policy is spent. Each
    /// attempt gets a fresh [`CallContext`] holding a concurrency permit (when the client has a
    /// limit) and runs in its own span; each retry is logged with its reason and delay.
    pub(crate) async fn with_retries<T, F, Fut>(
        &self,
        operation: &'static str,
        streaming: bool,
        first_attempt: u32,
        attempt: F,
    ) -> Result<(T, u32), BookWyrmClientError>
    where
        F: Fn(CallContext) -> Fut,
        Fut: Future<Output = Result<T, BookWyrmClientError>>,
    {
        let policy = &self.config.retry;
        let mut n = first_attempt;
        loop {
            let ctx = self.call(streaming).await?;
            let span = tracing::debug_span!("bookwyrm.attempt", operation, attempt = n + 1);
            let started = Instant::now();
            let cancel = self.shared.cancelled().token();
            let result = tokio::select! {
                biased;
                _ = cancel.cancelled() => Err(BookWyrmClientError::closed_in_flight()),
                r = attempt(ctx).instrument(span.clone()) => r,
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(value) => {
                    span.in_scope(|| tracing::debug!(elapsed_ms, "attempt succeeded"));
                    return Ok((value, n));
                }
                Err(error) => {
                    let status = error.status_code();
                    let request_id = error.request_id().map(str::to_string);
                    match decide(policy, &error, n) {
                        Decision::Retry { delay, reason } => {
                            tracing::warn!(
                                target: "bookwyrm",
                                operation,
                                attempt = n + 1,
                                status,
                                request_id,
                                reason = %reason,
                                delay_ms = delay.as_millis() as u64,
                                "retrying"
                            );
                            telemetry::retried(operation);
                            tokio::select! {
                                biased;
                                _ = cancel.cancelled() => return Err(BookWyrmClientError::closed_in_flight().with_call(None, n + 1)),
                                _ = tokio::time::sleep(delay) => {}
                            }
                            n += 1;
                        }
                        Decision::Stop => {
                            span.in_scope(|| {
                                tracing::debug!(elapsed_ms, status, request_id, error = %error, "attempt failed")
                            });
                            return Err(with_attempts(error, n + 1));
                        }
                    }
                }
            }
        }
    }

    /// Runs a generated JSON operation, with retries.
    pub(crate) async fn run_json<T, E, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, BookWyrmClientError>
    where
        F: Fn(generated::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    {
        self.run_call(operation, |ctx| {
            let fut = call(ctx.generated());
            async move {
                fut.await
                    .map(ResponseValue::into_inner)
                    .map_err(|e| ctx.map_error(e))
            }
        })
        .await
    }

    /// Runs one non-streaming call (generated or handwritten): its span, its attempts with
    /// retries, and its metrics (`bookwyrm.client.request.duration`).
    pub(crate) async fn run_call<T, F, Fut>(
        &self,
        operation: &'static str,
        attempt: F,
    ) -> Result<T, BookWyrmClientError>
    where
        F: Fn(CallContext) -> Fut,
        Fut: Future<Output = Result<T, BookWyrmClientError>>,
    {
        let span = tracing::info_span!("bookwyrm.call", operation, streaming = false);
        let started = Instant::now();
        let result = self
            .with_retries(operation, false, 0, attempt)
            .instrument(span)
            .await
            .map(|(value, _)| value);
        telemetry::call_done(operation, false, started.elapsed(), result.as_ref().err());
        result
    }

    /// Opens a stream with retries before its first event: `open` makes one attempt; the
    /// returned stream can call it again (after a failure before any event was delivered).
    /// With a [`SharedBody`], every attempt sends its bytes.
    pub(crate) async fn run_stream<Ev, F>(
        &self,
        operation: &'static str,
        body: Option<SharedBody>,
        open: F,
    ) -> Result<EventStream<Ev>, BookWyrmClientError>
    where
        Ev: StreamEvent,
        F: Fn(CallContext) -> OpenFuture + Send + Sync + 'static,
    {
        let span = tracing::info_span!("bookwyrm.call", operation, streaming = true);
        let open = with_body(body, open);
        let started = tokio::time::Instant::now();
        let mut meter = telemetry::StreamMeter::new(operation, started.into_std());
        let opening = self
            .with_retries(operation, true, 0, |ctx| open(ctx))
            .instrument(span.clone());
        let (opened, attempts) = match self.config.stream_deadline {
            Some(d) => tokio::time::timeout_at(started + d, opening)
                .await
                .map_err(|_| {
                    tracing::warn!(target: "bookwyrm", operation, "the stream's deadline passed while it opened");
                    BookWyrmClientError::timeout(TimeoutKind::StreamDeadline, Some(d))
                })
                .and_then(|r| r),
            None => opening.await,
        }
        .inspect_err(|e| meter.end(Some(e)))?;
        let reopen = self.reopener(operation, span.clone(), open);
        Ok(EventStream::new(
            opened.body,
            self.config.stream_idle_timeout,
            (self.config.max_sse_line, self.config.max_sse_event),
            opened.request_id,
            Some((reopen, attempts, self.config.retry.clone())),
        )
        .ending_with(
            self.shared.cancelled().clone(),
            self.config.stream_deadline.map(|d| (started + d, d)),
        )
        .in_call(span)
        .measured(meter))
    }
}

impl AsyncBookWyrmClient {
    /// Opens the same stream again with `open` (with the call's retries, numbered from the
    /// argument), in `span`.
    fn reopener(&self, operation: &'static str, span: tracing::Span, open: Open) -> Reopen {
        let client = self.clone();
        Arc::new(move |first_attempt| {
            let client = client.clone();
            let open = open.clone();
            Box::pin(
                async move {
                    client
                        .with_retries(operation, true, first_attempt, |ctx| open(ctx))
                        .await
                        .map(|(opened, n)| (opened.body, opened.request_id, n))
                }
                .instrument(span.clone()),
            )
        })
    }

    /// A new request of a stream being resumed (the rest of its work): one attempt is `open`,
    /// with `body` as its JSON body when given.
    pub(crate) fn resume_request<F>(
        &self,
        operation: &'static str,
        body: Option<SharedBody>,
        open: F,
    ) -> Reopen
    where
        F: Fn(CallContext) -> OpenFuture + Send + Sync + 'static,
    {
        let span = tracing::info_span!("bookwyrm.call", operation, streaming = true, resume = true);
        self.reopener(operation, span, with_body(body, open))
    }

    /// Opens a generated streaming operation whose JSON body `wire` is serialized once for
    /// all attempts ([`SharedBody`]): `strip` empties the large fields of the stand-in value
    /// the generated operation `call` is then given (its own serialization is replaced by the
    /// shared bytes), so the caller's text is held once, and only until the first event.
    pub(crate) async fn run_generated_stream<Ev, W, E, F, Fut>(
        &self,
        operation: &'static str,
        mut wire: W,
        strip: impl FnOnce(&mut W),
        call: F,
    ) -> Result<EventStream<Ev>, BookWyrmClientError>
    where
        Ev: StreamEvent,
        W: serde::Serialize + Send + Sync + 'static,
        F: Fn(generated::Client, Arc<W>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<E>>>
            + Send
            + 'static,
    {
        let shared = SharedBody::of(&wire)?;
        strip(&mut wire); // assignment drops the large fields now
        self.run_stream(operation, Some(shared), generated_open(wire, call))
            .await
    }
}

impl AsyncBookWyrmClient {
    /// How this handle's streams resume, and the backoff they wait.
    pub(crate) fn resume_policies(
        &self,
    ) -> (&crate::resume::ResumePolicy, &crate::retry::RetryPolicy) {
        (&self.config.resume, &self.config.retry)
    }

    /// [`run_generated_stream`](Self::run_generated_stream) for an operation that starts
    /// again when its stream breaks ([`Restart`]): the serialized body is kept for the
    /// stream's life.
    pub(crate) async fn run_restartable_stream<Ev, W, E, F, Fut>(
        &self,
        operation: &'static str,
        mut wire: W,
        strip: impl FnOnce(&mut W),
        call: F,
    ) -> Result<EventStream<Ev>, BookWyrmClientError>
    where
        Ev: StreamEvent + Restartable,
        W: serde::Serialize + Send + Sync + 'static,
        F: Fn(generated::Client, Arc<W>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<E>>>
            + Send
            + 'static,
    {
        let shared = SharedBody::of(&wire)?;
        strip(&mut wire);
        let open = Arc::new(generated_open(wire, call));
        let first = open.clone();
        let stream = self
            .run_stream(operation, Some(shared.clone()), move |ctx| first(ctx))
            .await?;
        let client = self.clone();
        let again = move || {
            let open = open.clone();
            client.resume_request(operation, Some(shared.clone()), move |ctx| open(ctx))
        };
        Ok(stream.resuming(Restart::with(Box::new(again)), self.resume_policies()))
    }
}

/// One attempt at opening a stream, given the attempt's context.
pub(crate) type Open = Arc<dyn Fn(CallContext) -> OpenFuture + Send + Sync>;

/// `open`, sending `body` (when given) as every attempt's JSON body.
fn with_body<F>(body: Option<SharedBody>, open: F) -> Open
where
    F: Fn(CallContext) -> OpenFuture + Send + Sync + 'static,
{
    Arc::new(
        move |mut ctx: CallContext| match body.as_ref().map(SharedBody::bytes).transpose() {
            Ok(bytes) => {
                ctx.body = bytes;
                open(ctx)
            }
            Err(e) => Box::pin(async move { Err(e) }),
        },
    )
}

/// One attempt of the generated operation `call` with the stand-in value `wire` (its body is
/// replaced by the [`SharedBody`] the attempt's context carries).
pub(crate) fn generated_open<W, E, F, Fut>(
    wire: W,
    call: F,
) -> impl Fn(CallContext) -> OpenFuture + Send + Sync + 'static
where
    W: Send + Sync + 'static,
    F: Fn(generated::Client, Arc<W>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<E>>>
        + Send
        + 'static,
{
    let wire = Arc::new(wire);
    move |ctx| {
        let c = ctx.generated();
        open_generated(ctx, call(c, wire.clone()))
    }
}

/// A JSON request body for all the attempts of a call. The generated operation is called with
/// a stand-in value without the large fields; the hooks send these bytes instead of the
/// stand-in's (`CallContext::prepare`).
#[derive(Clone)]
pub(crate) enum SharedBody {
    /// Serialized once, before the first attempt: the typed value (holding the caller's text)
    /// is let go at once, and these bytes go too when the stream can no longer be retried.
    Bytes(Bytes),
    /// Serialized for each attempt from what the closure holds (text the caller shares, a
    /// request kept for a resume): between attempts nothing more is kept, and each attempt's
    /// bytes go once they are sent.
    PerAttempt(Arc<dyn Fn() -> Result<Bytes, BookWyrmClientError> + Send + Sync>),
}

impl SharedBody {
    /// Serializes `wire` the way the generated operation would (`serde_json`).
    pub(crate) fn of<T: serde::Serialize>(wire: &T) -> Result<Self, BookWyrmClientError> {
        json(wire).map(Self::Bytes)
    }

    /// Makes the bytes for each attempt (with [`json`]).
    pub(crate) fn per_attempt(
        make: impl Fn() -> Result<Bytes, BookWyrmClientError> + Send + Sync + 'static,
    ) -> Self {
        Self::PerAttempt(Arc::new(make))
    }

    fn bytes(&self) -> Result<Bytes, BookWyrmClientError> {
        match self {
            Self::Bytes(b) => Ok(b.clone()),
            Self::PerAttempt(make) => make(),
        }
    }
}

/// `wire` as JSON (`serde_json`, as the generated operations write it).
pub(crate) fn json<T: serde::Serialize>(wire: &T) -> Result<Bytes, BookWyrmClientError> {
    serde_json::to_vec(wire)
        .map(|mut v| {
            v.shrink_to_fit();
            Bytes::from(v)
        })
        .map_err(|e| BookWyrmClientError::validation("body", e.to_string()))
}

/// The one attempt of a generated streaming operation, up to its headers.
fn open_generated<E, Fut>(ctx: CallContext, call: Fut) -> OpenFuture
where
    Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<E>>>
        + Send
        + 'static,
{
    Box::pin(async move {
        let response = with_idle_timeout(ctx.idle_timeout, call)
            .await?
            .map_err(|e| ctx.map_error(e))?;
        let headers = response.headers().clone();
        open_body(&ctx, &headers, response.into_inner().into_inner())
    })
}

/// Sends one attempt of a hand-written request (multipart) through the same hooks, and
/// returns the response when its status is 2xx. Streams wait for headers at most their idle
/// timeout.
pub(crate) async fn send_handwritten(
    ctx: &CallContext,
    build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
) -> Result<reqwest::Response, BookWyrmClientError> {
    let mut request = build(ctx.http(), &ctx.shared.base_url)
        .build()
        .map_err(|e| ctx.map_reqwest(e))?;
    ctx.prepare(&mut request);
    let send = ctx.send(request);
    let response = if ctx.streaming {
        with_idle_timeout(ctx.idle_timeout, send).await?
    } else {
        send.await
    }
    .map_err(|e| ctx.map_reqwest(e))?;
    match ctx.take_failure() {
        Some(failure) => Err(failure),
        None => Ok(response),
    }
}

/// Checks the content type of a stream's response and wraps its body; the body keeps the
/// call's context (and so its concurrency permit) until it is dropped.
pub(crate) fn open_body(
    ctx: &CallContext,
    headers: &reqwest::header::HeaderMap,
    body: impl futures_core::Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
) -> Result<Opened, BookWyrmClientError> {
    let content_type = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/event-stream") {
        return Err(BookWyrmClientError::decode(
            format!(
                "the response: expected Content-Type `text/event-stream`, got `{content_type}`"
            ),
            Bytes::new(),
            None,
        )
        .with_call(request_id(headers).as_deref(), 0));
    }
    let mut mapper = ctx.clone();
    mapper.body = None; // sent: the stream does not keep the request's bytes
    let direct = ctx.stream_body.lock().expect("stream body lock").take();
    let body: crate::reopen::Body = match direct {
        // The direct transport's body, read as it is (the one given is a stand-in).
        Some(direct) => Box::pin(direct.map(move |r| r.map_err(|e| mapper.map_body(e)))),
        None => Box::pin(body.map(move |r| r.map_err(|e| mapper.map_reqwest(e)))),
    };
    Ok(Opened {
        body,
        request_id: request_id(headers),
    })
}

/// Bounds the wait for response headers by the stream idle timeout.
async fn with_idle_timeout<T>(
    idle: Option<std::time::Duration>,
    fut: impl Future<Output = T>,
) -> Result<T, BookWyrmClientError> {
    match idle {
        Some(limit) => tokio::time::timeout(limit, fut)
            .await
            .map_err(|_| BookWyrmClientError::timeout(TimeoutKind::Idle, Some(limit))),
        None => Ok(fut.await),
    }
}

/// Rejects a blank string field.
pub(crate) fn not_blank(
    field: &'static str,
    value: &str,
    message: &str,
) -> Result<(), BookWyrmClientError> {
    if value.trim().is_empty() {
        return Err(BookWyrmClientError::validation(field, message));
    }
    Ok(())
}

/// Parses a JSON body of a hand-written call.
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(
    ctx: &CallContext,
    response: reqwest::Response,
) -> Result<T, BookWyrmClientError> {
    let raw = response.bytes().await.map_err(|e| ctx.map_reqwest(e))?;
    serde_json::from_slice(&raw)
        .map_err(|e| BookWyrmClientError::decode("the response body", raw, Some(Box::new(e))))
}
