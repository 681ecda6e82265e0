//! `POST /phrasal/sse`.

use axum::body::Bytes;
use axum::extract::State;
use axum::Extension;
use bookwyrm::types;

use super::fetch::fetch_text;
use super::reply::{invalid, parse, stream_of, Fx, Reply, St};
use crate::algo::{self};
use crate::sse::{self, SseEvent};
use futures_util::StreamExt;

pub(super) async fn phrasal_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let req: types::ProcessTextRequest = tri!(parse(&body));
    let given_text = req.text.as_deref().is_some_and(|t| !t.is_empty());
    let given_url = req.text_url.as_deref().is_some_and(|t| !t.is_empty());
    if given_text == given_url {
        return invalid(
            &["body"],
            "Exactly one of 'text' or 'text_url' must be provided",
        );
    }
    let text = match (req.text, req.text_url) {
        (Some(t), _) if given_text => t,
        (_, Some(u)) => tri!(fetch_text(&state, "text_url", &u).await),
        _ => unreachable!("checked above"),
    };
    if let Some(n) = fault.synthetic_events {
        return sse::response(state, fault, synthetic_spans(n));
    }
    let spans = algo::phrasal::phrases(&text, req.chunk_size.map(|n| n.get() as usize));
    let with_offsets = req.response_format == types::ResponseFormat::WithOffsets;
    let chunked = req.chunk_size.is_some();
    let mut events = Vec::with_capacity(spans.len() + spans.len() / 50 + 2);
    for (i, s) in spans.iter().enumerate() {
        let t = s.text(&text).to_string();
        events.push(if with_offsets {
            SseEvent::from(types::TextSpanEvent {
                start_char: s.start_char as u64,
                end_char: s.end_char as u64,
                text: t,
            })
        } else {
            SseEvent::from(types::TextEvent { text: t })
        });
        if (i + 1) % 50 == 0 || i + 1 == spans.len() {
            events.push(SseEvent::from(types::PhraseProgressEvent {
                phrases_processed: (i + 1) as u64,
                chunks_created: if chunked { (i + 1) as u64 } else { 0 },
                bytes_processed: s.end_byte as u64,
                message: Some(format!("Processed {} of {} bytes", s.end_byte, text.len())),
            }));
        }
    }
    sse::response(state, fault, stream_of(events))
}

/// `n` cheap `text_span` events made as they are sent (fault `synthetic-events`).
fn synthetic_spans(n: u64) -> sse::EventSource {
    let mut start = 0u64;
    Box::pin(futures_util::stream::iter(0..n).map(move |i| {
        let text = format!("Synthetic phrase number {i}, for a load test.");
        let end = start + text.chars().count() as u64;
        let event = SseEvent::from(types::TextSpanEvent {
            start_char: start,
            end_char: end,
            text,
        });
        start = end + 1;
        event
    }))
}
