//! The operations of [`AsyncBookWyrmClient`], one file per API area, and the two runners they
//! share: one for JSON answers, one for event streams.

use std::future::Future;

use bytes::Bytes;
use futures_util::StreamExt;
use progenitor_client::{ByteStream, ResponseValue};
use tracing::Instrument;

use crate::client::AsyncBookWyrmClient;
use crate::error::{BookWyrmClientError, TimeoutError, TimeoutKind};
use crate::generated;
use crate::stream::{EventStream, StreamEvent};
use crate::transport::{request_id, CallContext};

pub mod cite;
pub mod classify;
pub mod pdf;
pub mod phrasal;
pub mod summarize;

impl AsyncBookWyrmClient {
    /// Runs a generated JSON operation.
    pub(crate) async fn run_json<T, E, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, BookWyrmClientError>
    where
        F: FnOnce(generated::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
    {
        let ctx = self.call(false)?;
        let span = tracing::debug_span!("bookwyrm.call", operation, streaming = false);
        async move {
            let started = std::time::Instant::now();
            let result = call(ctx.generated()).await;
            let result = result
                .map(ResponseValue::into_inner)
                .map_err(|e| ctx.map_error(e));
            tracing::debug!(
                ok = result.is_ok(),
                status = result
                    .as_ref()
                    .err()
                    .and_then(BookWyrmClientError::status_code),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "call finished"
            );
            result
        }
        .instrument(span)
        .await
    }

    /// Runs a generated streaming operation up to its response headers.
    pub(crate) async fn run_stream<Ev, E, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<EventStream<Ev>, BookWyrmClientError>
    where
        Ev: StreamEvent,
        F: FnOnce(generated::Client) -> Fut,
        Fut: Future<Output = Result<ResponseValue<ByteStream>, progenitor_client::Error<E>>>,
    {
        let ctx = self.call(true)?;
        let span = tracing::debug_span!("bookwyrm.call", operation, streaming = true);
        let idle = self.config.stream_idle_timeout;
        async move {
            let response = with_idle_timeout(idle, call(ctx.generated()))
                .await?
                .map_err(|e| ctx.map_error(e))?;
            let headers = response.headers().clone();
            let body = response.into_inner().into_inner();
            self.open_stream(&ctx, &headers, body)
        }
        .instrument(span)
        .await
    }

    /// Sends a hand-written request (multipart) through the same hooks and returns the response
    /// when its status is 2xx.
    pub(crate) async fn send_handwritten(
        &self,
        ctx: &CallContext,
        build: impl FnOnce(&reqwest::Client, &str) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BookWyrmClientError> {
        let mut request = build(ctx.http(), &ctx.shared.base_url)
            .build()
            .map_err(|e| ctx.map_reqwest(e))?;
        ctx.prepare(&mut request);
        let send = ctx.send(request);
        let response = if ctx.streaming {
            with_idle_timeout(self.config.stream_idle_timeout, send).await?
        } else {
            send.await
        }
        .map_err(|e| ctx.map_reqwest(e))?;
        match ctx.take_api_error() {
            Some(api) => Err(BookWyrmClientError::Api(Box::new(api))),
            None => Ok(response),
        }
    }

    /// Checks the content type of a stream's response and wraps its body.
    pub(crate) fn open_stream<Ev: StreamEvent>(
        &self,
        ctx: &CallContext,
        headers: &reqwest::header::HeaderMap,
        body: impl futures_core::Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    ) -> Result<EventStream<Ev>, BookWyrmClientError> {
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
            ));
        }
        let mapper = ctx.clone();
        let body = body.map(move |r| r.map_err(|e| mapper.map_reqwest(e)));
        Ok(EventStream::new(
            Box::pin(body),
            self.config.stream_idle_timeout,
            (self.config.max_sse_line, self.config.max_sse_event),
            request_id(headers),
            None,
        ))
    }
}

/// Bounds the wait for response headers by the stream idle timeout.
async fn with_idle_timeout<T>(
    idle: Option<std::time::Duration>,
    fut: impl Future<Output = T>,
) -> Result<T, BookWyrmClientError> {
    match idle {
        Some(limit) => tokio::time::timeout(limit, fut).await.map_err(|_| {
            BookWyrmClientError::Timeout(TimeoutError {
                kind: TimeoutKind::Idle,
                after: Some(limit),
            })
        }),
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
    serde_json::from_slice(&raw).map_err(|e| {
        BookWyrmClientError::decode("the response body", raw.clone(), Some(Box::new(e)))
    })
}
