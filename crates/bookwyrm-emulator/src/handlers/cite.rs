//! `POST /cite` and `POST /cite/sse`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use bookwyrm::{types, MAX_QUESTIONS};
use serde_json::Value;

use super::fetch::fetch_text;
use super::reply::{exactly_one, invalid, json_reply, parse, stream_of, Fx, Reply, St};
use crate::algo::{self, text::tokens};
use crate::sse::{self, SseEvent};
use crate::AppState;

struct CiteRun {
    events: Vec<SseEvent>,
    response: types::CitationResponse,
}

async fn run_cite(state: &AppState, body: &Bytes) -> Result<CiteRun, Reply> {
    let req: types::CitationRequest = parse(body)?;
    exactly_one(&[
        ("chunks", req.chunks.is_some()),
        ("jsonl_content", req.jsonl_content.is_some()),
        ("jsonl_url", req.jsonl_url.is_some()),
    ])?;
    let questions: Vec<String> = match &req.question {
        types::Question::String(q) => vec![q.clone()],
        types::Question::Array(qs) => qs.clone(),
    };
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(invalid(
            &["body", "question"],
            format!("between 1 and {MAX_QUESTIONS} questions are required"),
        ));
    }
    if let Some(i) = questions.iter().position(|q| q.trim().is_empty()) {
        return Err(invalid(
            &["body", "question"],
            format!("question at index {i} cannot be empty"),
        ));
    }
    let chunks: Vec<String> = if let Some(chunks) = req.chunks {
        chunks.into_iter().map(|c| c.text).collect()
    } else {
        let jsonl = match (req.jsonl_content, req.jsonl_url) {
            (Some(c), _) => c,
            (_, Some(url)) => fetch_text(state, "jsonl_url", &url).await?,
            _ => unreachable!("exactly one source was checked"),
        };
        let field = "jsonl";
        let mut out = Vec::new();
        for (n, line) in jsonl.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line)
                .map_err(|e| invalid(&["body", field], format!("line {}: {e}", n + 1)))?;
            match v.get("text").and_then(Value::as_str) {
                Some(t) => out.push(t.to_string()),
                None => {
                    return Err(invalid(
                        &["body", field],
                        format!("line {}: no \"text\"", n + 1),
                    ))
                }
            }
        }
        out
    };
    let start = (req.start as usize).min(chunks.len());
    let end = match req.limit {
        Some(l) => start.saturating_add(l.get() as usize).min(chunks.len()),
        None => chunks.len(),
    };
    let window = &chunks[start..end];
    let citations = algo::cite::citations(window, start, &questions);
    let groups = algo::cite::token_groups(window, req.max_tokens_per_chunk.get() as usize);
    let total_tokens: usize = window.iter().map(|c| tokens(c)).sum();
    let usage = types::UsageInfo {
        tokens_processed: total_tokens as u64,
        chunks_processed: window.len() as u64,
        estimated_cost: Some(total_tokens as f64 * 0.000_000_1),
        remaining_credits: None,
    };

    let mut events = Vec::new();
    let step = 10usize;
    let mut emitted = 0usize;
    let mut at = 0usize;
    while at < window.len() || (at == 0 && window.is_empty()) {
        let next = (at + step).min(window.len());
        for c in citations.iter().filter(|c| {
            let i = c.start_chunk as usize - start;
            i >= at && i < next
        }) {
            events.push(SseEvent::from(types::CitationEvent {
                citation: c.clone(),
            }));
            emitted += 1;
        }
        events.push(SseEvent::from(types::CitationProgressEvent {
            chunks_processed: next as u64,
            total_chunks: window.len() as u64,
            citations_found: emitted as u64,
            current_chunk_range: Some(format!("{}-{}", start + at, start + next)),
            message: Some(format!(
                "Processed chunks {}-{} of {}",
                start + at,
                start + next,
                start + window.len()
            )),
        }));
        if window.is_empty() {
            break;
        }
        at = next;
    }
    events.push(SseEvent::from(types::CitationSummaryEvent {
        total_citations: citations.len() as u64,
        chunks_processed: window.len() as u64,
        token_chunks_processed: groups as u64,
        start_offset: start as u64,
        usage: Some(usage.clone()),
    }));
    Ok(CiteRun {
        events,
        response: types::CitationResponse {
            total_citations: citations.len() as u64,
            citations,
            usage: Some(usage),
        },
    })
}

pub(super) async fn cite_json(State(state): St, body: Bytes) -> Reply {
    let run = tri!(run_cite(&state, &body).await);
    json_reply(StatusCode::OK, &run.response)
}

pub(super) async fn cite_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let run = tri!(run_cite(&state, &body).await);
    sse::response(state, fault, stream_of(run.events))
}
