//! `POST /summarize` and `POST /summarize/sse`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use bookwyrm::{types, MAX_SUMMARY_TOKENS};
use serde_json::Value;

use super::fetch::fetch_text;
use super::reply::{exactly_one, invalid, json_reply, parse, stream_of, Fx, Reply, St};
use crate::algo::{self};
use crate::sse::{self, SseEvent};
use crate::AppState;

async fn run_summarize(
    state: &AppState,
    body: &Bytes,
) -> Result<(Vec<SseEvent>, types::SummaryResponse), Reply> {
    let req: types::SummarizeRequest = parse(body)?;
    exactly_one(&[
        ("content", req.content.is_some()),
        ("url", req.url.is_some()),
        ("phrases", req.phrases.is_some()),
    ])?;
    if req.max_tokens.get() > MAX_SUMMARY_TOKENS {
        let (thousands, units) = (MAX_SUMMARY_TOKENS / 1000, MAX_SUMMARY_TOKENS % 1000);
        return Err(invalid(
            &["body", "max_tokens"],
            format!(
                "max_tokens cannot exceed {thousands},{units:03} (got {})",
                req.max_tokens
            ),
        ));
    }
    let given = |field: &Option<String>| field.as_deref().is_some_and(|s| !s.is_empty());
    let named = given(&req.model_name);
    let schema_given = given(&req.model_schema_json);
    let prompts = (
        given(&req.chunk_prompt),
        given(&req.summary_of_summaries_prompt),
    );
    if named != schema_given {
        return Err(invalid(
            &["body"],
            "model_name and model_schema_json go together",
        ));
    }
    if prompts.0 != prompts.1 {
        return Err(invalid(
            &["body"],
            "chunk_prompt and summary_of_summaries_prompt go together",
        ));
    }
    if named && prompts.0 {
        return Err(invalid(
            &["body"],
            "structured output and custom prompts are mutually exclusive",
        ));
    }
    let schema: Option<Value> = match &req.model_schema_json {
        Some(s) if schema_given => Some(
            serde_json::from_str(s)
                .map_err(|e| invalid(&["body", "model_schema_json"], format!("not JSON: {e}")))?,
        ),
        _ => None,
    };

    let text = match (&req.content, &req.url, &req.phrases) {
        (Some(c), _, _) => c.clone(),
        (_, Some(u), _) => fetch_text(state, "url", u).await?,
        (_, _, Some(p)) => p
            .iter()
            .map(|s| s.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => unreachable!("exactly one source was checked"),
    };
    // JSONL of phrases (what the CLI sends as content): read the texts.
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let jsonl_texts: Option<Vec<String>> = (!lines.is_empty())
        .then(|| {
            lines
                .iter()
                .map(|l| {
                    serde_json::from_str::<Value>(l)
                        .ok()
                        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_string))
                })
                .collect::<Option<Vec<String>>>()
        })
        .flatten();
    let plain = match &jsonl_texts {
        Some(t) => t.join(" "),
        None => text.clone(),
    };
    let sents: Vec<String> = algo::text::sentences(&plain)
        .iter()
        .map(|s| s.text(&plain).to_string())
        .collect();

    let mut events = Vec::new();
    let summary = algo::summarize::summarize(
        &sents,
        req.max_tokens.get() as usize,
        &mut |level, i, n, made| {
            events.push(SseEvent::from(types::SummarizeProgressEvent {
                current_level: level as u64,
                total_levels: level as u64 + u64::from(n > 1),
                chunks_processed: i as u64,
                total_chunks: n as u64,
                summaries_created: made as u64,
                message: Some(format!("Level {level}: summarized chunk {i} of {n}")),
            }));
        },
    );
    let text_out = match &schema {
        Some(schema) => {
            let facts = algo::summarize::facts(&text);
            algo::summarize::structured(schema, &facts, &summary, &plain).to_string()
        }
        None => summary.text.clone(),
    };
    let response = types::SummaryResponse {
        summary: text_out,
        subsummary_count: summary.subsummary_count() as u64,
        levels_used: summary.levels.len() as u64,
        total_tokens: summary.total_tokens as u64,
        intermediate_summaries: if req.debug {
            summary.levels.iter().map(|l| l.summaries.clone()).collect()
        } else {
            Vec::new()
        },
    };
    events.push(SseEvent::from(response.clone()));
    Ok((events, response))
}

pub(super) async fn summarize_json(State(state): St, body: Bytes) -> Reply {
    let (_, response) = tri!(run_summarize(&state, &body).await);
    json_reply(StatusCode::OK, &response)
}

pub(super) async fn summarize_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let (events, _) = tri!(run_summarize(&state, &body).await);
    sse::response(state, fault, stream_of(events))
}
