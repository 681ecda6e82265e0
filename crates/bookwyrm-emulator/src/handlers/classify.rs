//! `POST /classify` (multipart) and `POST /classify/sse`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use bookwyrm::types;

use super::multipart::{file_part, read_parts};
use super::reply::{invalid, json_reply, parse, stream_of, Fx, Reply, St};
use crate::algo;
use crate::sse::{self, SseEvent};
use axum::extract::Multipart;
use base64::Engine as _;

fn classification(bytes: &[u8], filename: Option<&str>) -> types::ClassifyResponse {
    let c = algo::classify::classify(bytes, filename);
    types::ClassifyResponse {
        classification: types::FileClassification {
            format_type: c.format_type,
            content_type: c.content_type,
            mime_type: c.mime_type,
            confidence: c.confidence,
            details: c.details,
            classification_methods: c.methods,
        },
        file_size: bytes.len() as u64,
        sample_preview: c.preview,
    }
}

pub(super) async fn classify_upload(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let parts = tri!(read_parts(multipart).await);
    let file = tri!(file_part(&parts));
    json_reply(
        StatusCode::OK,
        &classification(&file.data, file.file_name.as_deref()),
    )
}

pub(super) async fn classify_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let req: types::ClassifyStreamRequest = tri!(parse(&body));
    let bytes = match base64::engine::general_purpose::STANDARD.decode(req.content_base64.trim()) {
        Ok(b) => b,
        Err(e) => return invalid(&["body", "content_base64"], format!("invalid base64: {e}")),
    };
    let mut events = Vec::new();
    let chunk = 64 * 1024;
    let chunks = bytes.len().div_ceil(chunk).max(1);
    for i in 1..=chunks {
        events.push(SseEvent::from(types::ClassifyProgressEvent {
            bytes_processed: (i * chunk).min(bytes.len()) as u64,
            chunks_processed: i as u64,
            message: Some(format!("Analysed chunk {i} of {chunks}")),
        }));
    }
    events.push(SseEvent::from(classification(
        &bytes,
        req.filename.as_deref(),
    )));
    sse::response(state, fault, stream_of(events))
}
