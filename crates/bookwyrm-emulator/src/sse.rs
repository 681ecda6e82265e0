//! Writing Server-Sent Events, with keepalive comments and the stream-level faults.

use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderValue, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::faults::Fault;
use crate::{bump, AppState};

/// One event to send: a name and a JSON payload.
#[derive(Debug, Clone)]
pub(crate) struct SseEvent {
    pub(crate) name: String,
    pub(crate) data: String,
}

impl SseEvent {
    /// An event of one of the SDK's typed streams: the name and data the SDK decodes it from
    /// (names come from the generated event enums, never from literals here).
    fn typed<E: bookwyrm::StreamEvent>(event: &E, data: serde_json::Result<String>) -> Self {
        Self {
            name: event.event_name().to_string(),
            data: data.expect("wire types serialize"),
        }
    }

    fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + self.name.len() + 16);
        out.push_str("event: ");
        out.push_str(&self.name);
        out.push('\n');
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// `SseEvent::from(payload)` for every event payload of the contract: the payload type names
/// its event (the variant of the generated enum that holds it).
macro_rules! payloads {
    ($($payload:ident => $stream:ident::$variant:ident),* $(,)?) => {$(
        impl From<bookwyrm::types::$payload> for SseEvent {
            fn from(payload: bookwyrm::types::$payload) -> Self {
                let event = bookwyrm::$stream::$variant(payload);
                Self::typed(&event, event.sse_data())
            }
        }
    )*};
}

payloads!(
    CitationEvent => CitationStreamEvent::Citation,
    CitationProgressEvent => CitationStreamEvent::Progress,
    CitationSummaryEvent => CitationStreamEvent::Summary,
    SummaryResponse => SummarizeStreamEvent::Summary,
    SummarizeProgressEvent => SummarizeStreamEvent::Progress,
    TextEvent => PhrasalStreamEvent::Text,
    TextSpanEvent => PhrasalStreamEvent::TextSpan,
    PhraseProgressEvent => PhrasalStreamEvent::Progress,
    ClassifyResponse => ClassifyStreamEvent::Classification,
    ClassifyProgressEvent => ClassifyStreamEvent::Progress,
    ClassifyErrorEvent => ClassifyStreamEvent::Error,
    PdfMetadataEvent => PdfStreamEvent::Metadata,
    PdfPageEvent => PdfStreamEvent::Page,
    PdfPageErrorEvent => PdfStreamEvent::PageError,
    PdfProgressEvent => PdfStreamEvent::Progress,
    PdfCompleteEvent => PdfStreamEvent::Complete,
    PdfErrorEvent => PdfStreamEvent::Error,
);

pub(crate) type EventSource = Pin<Box<dyn Stream<Item = SseEvent> + Send>>;

/// Waits for `fut`, sending a keepalive comment at each tick meanwhile; `None` when the client
/// went away first.
async fn keepalive_until<F: std::future::Future>(
    fut: F,
    keepalive: &mut tokio::time::Interval,
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = keepalive.tick() => {
                if tx.send(Ok(Bytes::from_static(b": keepalive\n\n"))).await.is_err() {
                    return None;
                }
            }
            _ = tx.closed() => return None,
        }
    }
}

/// A `text/event-stream` response sending `events`, with the request's stream faults applied.
pub(crate) fn response(state: Arc<AppState>, fault: Fault, events: EventSource) -> Response<Body> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    bump(&state.stats.streams_started);
    tokio::spawn(async move {
        let mut events = events;
        let mut prefix = Vec::new();
        if fault.unknown_event {
            prefix.push(SseEvent {
                name: "mystery_event".into(),
                data: r#"{"note":"an event this client does not know"}"#.into(),
            });
        }
        if fault.malformed_json {
            // Named like the stream's first real event (a name the client knows), with data
            // that is not JSON; then that event itself.
            if let Some(first) = events.next().await {
                prefix.push(SseEvent {
                    name: first.name.clone(),
                    data: r#"{"this is": not json"#.into(),
                });
                prefix.push(first);
            }
        }
        let mut prefix = futures_util::stream::iter(prefix);
        let mut sent: u64 = 0;
        let mut keepalive = tokio::time::interval(state.keepalive);
        keepalive.tick().await;
        loop {
            if fault.reset_after == Some(sent) {
                let _ = tx
                    .send(Err(std::io::Error::other("fault: reset mid-stream")))
                    .await;
                return;
            }
            if fault.stall_after == Some(sent) {
                tx.closed().await;
                bump(&state.stats.streams_cancelled);
                return;
            }
            if let Some(pause) = fault.pause
                && keepalive_until(tokio::time::sleep(pause), &mut keepalive, &tx)
                    .await
                    .is_none()
            {
                bump(&state.stats.streams_cancelled);
                return;
            }
            let next = match prefix.next().await {
                Some(e) => Some(e),
                None => match keepalive_until(events.next(), &mut keepalive, &tx).await {
                    Some(e) => e,
                    None => {
                        bump(&state.stats.streams_cancelled);
                        return;
                    }
                },
            };
            let Some(event) = next else {
                bump(&state.stats.streams_completed);
                return;
            };
            let mut bytes = event.encode();
            let truncate = fault.truncate_after == Some(sent);
            if truncate {
                bytes = bytes.slice(..bytes.len() / 2);
            }
            let ok = match fault.drip {
                Some(every) => {
                    let mut ok = true;
                    for i in 0..bytes.len() {
                        if tx.send(Ok(bytes.slice(i..i + 1))).await.is_err() {
                            ok = false;
                            break;
                        }
                        tokio::time::sleep(every).await;
                    }
                    ok
                }
                None => tx.send(Ok(bytes)).await.is_ok(),
            };
            if !ok {
                bump(&state.stats.streams_cancelled);
                return;
            }
            if truncate {
                return; // the body ends cleanly, mid-event
            }
            keepalive.reset();
            sent += 1;
        }
    });
    let body = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut r = Response::new(Body::from_stream(body));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}
