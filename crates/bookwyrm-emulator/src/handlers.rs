//! The nine operations of the contract, over the algorithms of [`crate::algo`].
//!
//! Helpers return the error answer itself as `Err`, as axum handlers do.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{header, HeaderValue, Response, StatusCode};
use axum::routing::post;
use axum::{Extension, Router};
use base64::Engine as _;
use bookwyrm::types;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::algo::{self, text::tokens};
use crate::faults::Fault;
use crate::sse::{self, SseEvent};
use crate::AppState;

type Reply = Response<Body>;
type St = State<Arc<AppState>>;
type Fx = Extension<Fault>;

/// Largest document fetched from a URL input.
const MAX_FETCH: usize = 32 << 20;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/cite", post(cite_json))
        .route("/cite/sse", post(cite_sse))
        .route("/summarize", post(summarize_json))
        .route("/summarize/sse", post(summarize_sse))
        .route("/phrasal/sse", post(phrasal_sse))
        .route("/classify", post(classify_upload))
        .route("/classify/sse", post(classify_sse))
        .route("/extract-structure/sse", post(pdf_upload))
        .route("/extract-structure-json/sse", post(pdf_url))
        .fallback(|| async { error(StatusCode::NOT_FOUND, json!("Not Found")) })
        .layer(DefaultBodyLimit::max(state.max_upload))
        .with_state(state)
}

// ---------------------------------------------------------------------------------------------
// Answers

fn json_reply(status: StatusCode, body: &impl serde::Serialize) -> Reply {
    let mut r = Response::new(Body::from(serde_json::to_vec(body).expect("serializable")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error(status: StatusCode, detail: Value) -> Reply {
    json_reply(status, &json!({ "detail": detail }))
}

/// A 422 in FastAPI's shape.
fn invalid(loc: &[&str], msg: impl Into<String>) -> Reply {
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!([{ "loc": loc, "msg": msg.into(), "type": "value_error" }]),
    )
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Reply> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "loc": ["body"], "msg": format!("JSON decode error: {e}"), "type": "json_invalid" }]),
        )
    })?;
    serde_json::from_value(value).map_err(|e| invalid(&["body"], e.to_string()))
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

/// Fetches a URL input with a timeout and a size cap; a failure is a 422 naming the field.
async fn fetch(state: &AppState, field: &str, url: &str) -> Result<Vec<u8>, Reply> {
    let fail = |msg: String| invalid(&["body", field], msg);
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(format!("invalid URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(fail("only http and https URLs can be fetched".into()));
    }
    let response = state
        .fetch
        .get(parsed)
        .send()
        .await
        .map_err(|e| fail(format!("could not fetch {url}: {e}")))?;
    if !response.status().is_success() {
        return Err(fail(format!(
            "fetching {url} answered {}",
            response.status()
        )));
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| fail(format!("could not fetch {url}: {e}")))?;
        if body.len() + chunk.len() > MAX_FETCH {
            return Err(fail(format!("{url} is larger than {MAX_FETCH} bytes")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn fetch_text(state: &AppState, field: &str, url: &str) -> Result<String, Reply> {
    let bytes = fetch(state, field, url).await?;
    String::from_utf8(bytes)
        .map_err(|_| invalid(&["body", field], format!("{url} is not UTF-8 text")))
}

fn exactly_one(fields: &[(&str, bool)]) -> Result<(), Reply> {
    if fields.iter().filter(|(_, present)| *present).count() != 1 {
        let names: Vec<String> = fields.iter().map(|(n, _)| format!("'{n}'")).collect();
        return Err(invalid(
            &["body"],
            format!("Exactly one of {} must be provided", names.join(", ")),
        ));
    }
    Ok(())
}

fn stream_of(events: Vec<SseEvent>) -> sse::EventSource {
    Box::pin(futures_util::stream::iter(events))
}

// ---------------------------------------------------------------------------------------------
// Citations

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
    if questions.is_empty() || questions.len() > 20 {
        return Err(invalid(
            &["body", "question"],
            "between 1 and 20 questions are required",
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
    let found = algo::cite::cite(window, &questions);
    let multi = questions.len() > 1;
    let citations: Vec<types::Citation> = found
        .iter()
        .map(|f| types::Citation {
            start_chunk: (start + f.chunk) as u64,
            end_chunk: (start + f.chunk) as u64,
            text: window[f.chunk].clone(),
            reasoning: format!(
                "The passage mentions {} from the question (BM25 score {:.2}).",
                f.matched
                    .iter()
                    .map(|t| format!("\"{t}\""))
                    .collect::<Vec<_>>()
                    .join(", "),
                f.score
            ),
            quality: f.quality,
            question_index: multi.then_some(f.question as u64 + 1),
        })
        .collect();

    let max_tokens = req.max_tokens_per_chunk.get() as usize;
    let mut groups = 0usize;
    let mut size = 0usize;
    let total_tokens: usize = window.iter().map(|c| tokens(c)).sum();
    for c in window {
        let t = tokens(c);
        if groups == 0 || size + t > max_tokens {
            groups += 1;
            size = 0;
        }
        size += t;
    }
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
            events.push(SseEvent::json(
                "citation",
                &types::CitationEvent {
                    citation: c.clone(),
                },
            ));
            emitted += 1;
        }
        events.push(SseEvent::json(
            "progress",
            &types::CitationProgressEvent {
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
            },
        ));
        if window.is_empty() {
            break;
        }
        at = next;
    }
    events.push(SseEvent::json(
        "summary",
        &types::CitationSummaryEvent {
            total_citations: citations.len() as u64,
            chunks_processed: window.len() as u64,
            token_chunks_processed: groups as u64,
            start_offset: start as u64,
            usage: Some(usage.clone()),
        },
    ));
    Ok(CiteRun {
        events,
        response: types::CitationResponse {
            total_citations: citations.len() as u64,
            citations,
            usage: Some(usage),
        },
    })
}

async fn cite_json(State(state): St, body: Bytes) -> Reply {
    let run = tri!(run_cite(&state, &body).await);
    json_reply(StatusCode::OK, &run.response)
}

async fn cite_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let run = tri!(run_cite(&state, &body).await);
    sse::response(state, fault, "citation", stream_of(run.events))
}

// ---------------------------------------------------------------------------------------------
// Summaries

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
    if req.max_tokens.get() > 131_072 {
        return Err(invalid(
            &["body", "max_tokens"],
            format!("max_tokens cannot exceed 131,072 (got {})", req.max_tokens),
        ));
    }
    let named = req.model_name.as_deref().is_some_and(|s| !s.is_empty());
    let schema_given = req
        .model_schema_json
        .as_deref()
        .is_some_and(|s| !s.is_empty());
    let prompts = (
        req.chunk_prompt.as_deref().is_some_and(|s| !s.is_empty()),
        req.summary_of_summaries_prompt
            .as_deref()
            .is_some_and(|s| !s.is_empty()),
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
            events.push(SseEvent::json(
                "progress",
                &types::SummarizeProgressEvent {
                    current_level: level as u64,
                    total_levels: level as u64 + u64::from(n > 1),
                    chunks_processed: i as u64,
                    total_chunks: n as u64,
                    summaries_created: made as u64,
                    message: Some(format!("Level {level}: summarized chunk {i} of {n}")),
                },
            ));
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
    events.push(SseEvent::json("data", &response));
    Ok((events, response))
}

async fn summarize_json(State(state): St, body: Bytes) -> Reply {
    let (_, response) = tri!(run_summarize(&state, &body).await);
    json_reply(StatusCode::OK, &response)
}

async fn summarize_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let (events, _) = tri!(run_summarize(&state, &body).await);
    sse::response(state, fault, "data", stream_of(events))
}

// ---------------------------------------------------------------------------------------------
// Phrasal

async fn phrasal_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
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
        return sse::response(state, fault, "text_span", synthetic_spans(n));
    }
    let spans = algo::phrasal::phrases(&text, req.chunk_size.map(|n| n.get() as usize));
    let with_offsets = req.response_format == types::ResponseFormat::WithOffsets;
    let chunked = req.chunk_size.is_some();
    let mut events = Vec::with_capacity(spans.len() + spans.len() / 50 + 2);
    for (i, s) in spans.iter().enumerate() {
        let t = s.text(&text).to_string();
        events.push(if with_offsets {
            SseEvent::json(
                "text_span",
                &types::TextSpanEvent {
                    start_char: s.start_char as u64,
                    end_char: s.end_char as u64,
                    text: t,
                },
            )
        } else {
            SseEvent::json("text", &types::TextEvent { text: t })
        });
        if (i + 1) % 50 == 0 || i + 1 == spans.len() {
            events.push(SseEvent::json(
                "progress",
                &types::PhraseProgressEvent {
                    phrases_processed: (i + 1) as u64,
                    chunks_created: if chunked { (i + 1) as u64 } else { 0 },
                    bytes_processed: s.end_byte as u64,
                    message: Some(format!("Processed {} of {} bytes", s.end_byte, text.len())),
                },
            ));
        }
    }
    sse::response(state, fault, "text_span", stream_of(events))
}

/// `n` cheap `text_span` events made as they are sent (fault `synthetic-events`).
fn synthetic_spans(n: u64) -> sse::EventSource {
    let mut start = 0u64;
    Box::pin(futures_util::stream::iter(0..n).map(move |i| {
        let text = format!("Synthetic phrase number {i}, for a load test.");
        let end = start + text.chars().count() as u64;
        let event = SseEvent::json(
            "text_span",
            &types::TextSpanEvent {
                start_char: start,
                end_char: end,
                text,
            },
        );
        start = end + 1;
        event
    }))
}

// ---------------------------------------------------------------------------------------------
// Classification

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

/// One part of a multipart body.
struct Part {
    name: String,
    file_name: Option<String>,
    data: Bytes,
}

/// Reads every part of a multipart body (the body limit applies: 413 beyond it).
async fn read_parts(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Vec<Part>, Reply> {
    let mut multipart = multipart.map_err(|e| invalid(&["body"], e.body_text()))?;
    let mut parts = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Ok(parts),
            Err(e) => return Err(error(e.status(), json!(e.body_text()))),
        };
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field
            .bytes()
            .await
            .map_err(|e| error(e.status(), json!(e.body_text())))?;
        parts.push(Part {
            name,
            file_name,
            data,
        });
    }
}

/// The `file` part, or a 422 naming it.
fn file_part(parts: &[Part]) -> Result<&Part, Reply> {
    parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| invalid(&["body", "file"], "Field required"))
}

async fn classify_upload(
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let parts = tri!(read_parts(multipart).await);
    let file = tri!(file_part(&parts));
    json_reply(
        StatusCode::OK,
        &classification(&file.data, file.file_name.as_deref()),
    )
}

async fn classify_sse(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let req: types::ClassifyStreamRequest = tri!(parse(&body));
    let bytes = match base64::engine::general_purpose::STANDARD.decode(req.content_base64.trim()) {
        Ok(b) => b,
        Err(e) => return invalid(&["body", "content_base64"], format!("invalid base64: {e}")),
    };
    let mut events = Vec::new();
    let chunk = 64 * 1024;
    let chunks = bytes.len().div_ceil(chunk).max(1);
    for i in 1..=chunks {
        events.push(SseEvent::json(
            "progress",
            &types::ClassifyProgressEvent {
                bytes_processed: (i * chunk).min(bytes.len()) as u64,
                chunks_processed: i as u64,
                message: Some(format!("Analysed chunk {i} of {chunks}")),
            },
        ));
    }
    events.push(SseEvent::json(
        "classification",
        &classification(&bytes, req.filename.as_deref()),
    ));
    sse::response(state, fault, "classification", stream_of(events))
}

// ---------------------------------------------------------------------------------------------
// PDF

struct PdfOptions {
    start_page: Option<u64>,
    num_pages: Option<u64>,
}

async fn pdf_upload(
    State(state): St,
    Extension(fault): Fx,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Reply {
    let parts = tri!(read_parts(multipart).await);
    let mut opts = PdfOptions {
        start_page: None,
        num_pages: None,
    };
    for part in &parts {
        let name = part.name.as_str();
        let text = String::from_utf8_lossy(&part.data).trim().to_string();
        match name {
            "start_page" | "num_pages" => {
                let Some(v) = text.parse::<u64>().ok().filter(|v| *v >= 1) else {
                    return invalid(&["body", name], format!("{name} must be an integer >= 1"));
                };
                if name == "start_page" {
                    opts.start_page = Some(v);
                } else {
                    opts.num_pages = Some(v);
                }
            }
            "enable_layout_detection" | "force_ocr"
                if !matches!(text.as_str(), "true" | "false") =>
            {
                return invalid(&["body", name], format!("{name} must be true or false"));
            }
            _ => {}
        }
    }
    let file = tri!(file_part(&parts));
    pdf_stream(state, fault, file.data.to_vec(), opts)
}

async fn pdf_url(State(state): St, Extension(fault): Fx, body: Bytes) -> Reply {
    let req: types::PdfExtractUrlRequest = tri!(parse(&body));
    let bytes = tri!(fetch(&state, "pdf_url", &req.pdf_url).await);
    let opts = PdfOptions {
        start_page: req.start_page.map(|n| n.get()),
        num_pages: req.num_pages.map(|n| n.get()),
    };
    pdf_stream(state, fault, bytes, opts)
}

fn pdf_stream(state: Arc<AppState>, fault: Fault, bytes: Vec<u8>, opts: PdfOptions) -> Reply {
    if !bytes.windows(5).take(1024).any(|w| w == b"%PDF-") {
        return invalid(&["body", "file"], "the file is not a PDF (no %PDF- header)");
    }
    let (tx, mut rx) = tokio::sync::mpsc::channel::<SseEvent>(1);
    tokio::spawn(async move {
        let started = Instant::now();
        let fail = |error_type: &str, message: String| {
            SseEvent::json(
                "error",
                &types::PdfErrorEvent {
                    error_type: Some(error_type.into()),
                    message,
                    recoverable: false,
                },
            )
        };
        let pdf = match tokio::task::spawn_blocking(move || algo::pdf::Pdf::load(&bytes)).await {
            Ok(Ok(pdf)) => pdf,
            Ok(Err(msg)) => {
                let _ = tx.send(fail("invalid_pdf", msg)).await;
                return;
            }
            Err(_) => {
                let _ = tx
                    .send(fail("internal_error", "the PDF reader failed".into()))
                    .await;
                return;
            }
        };
        let in_doc = pdf.page_count();
        let start = opts.start_page.unwrap_or(1) as usize;
        if start > in_doc {
            let msg = format!("start_page {start} is beyond the document's {in_doc} pages");
            let _ = tx.send(fail("invalid_page_range", msg)).await;
            return;
        }
        let count = opts
            .num_pages
            .map_or(usize::MAX, |n| n as usize)
            .min(in_doc - start + 1);
        let metadata = types::PdfMetadataEvent {
            total_pages: count as u64,
            total_pages_in_document: in_doc as u64,
            start_page: start as u64,
            current_page: 0,
        };
        if tx
            .send(SseEvent::json("metadata", &metadata))
            .await
            .is_err()
        {
            return;
        }
        for i in 0..count {
            let number = start + i;
            let reader = pdf.clone();
            let lines = tokio::task::spawn_blocking(move || reader.lines(number))
                .await
                .unwrap_or_else(|_| Err(format!("page {number}: the PDF reader failed")));
            let event = match lines {
                Ok(text) => SseEvent::json(
                    "page",
                    &types::PdfPageEvent {
                        total_pages: count as u64,
                        total_pages_in_document: in_doc as u64,
                        current_page: (i + 1) as u64,
                        document_page: number as u64,
                        page_data: page(number, &text.lines),
                    },
                ),
                Err(error) => SseEvent::json(
                    "page_error",
                    &types::PdfPageErrorEvent {
                        total_pages: count as u64,
                        total_pages_in_document: in_doc as u64,
                        current_page: (i + 1) as u64,
                        document_page: number as u64,
                        error,
                    },
                ),
            };
            let progress = SseEvent::json(
                "progress",
                &types::PdfProgressEvent {
                    pages_processed: (i + 1) as u64,
                    total_pages: count as u64,
                    message: Some(format!("Processed page {number} ({} of {count})", i + 1)),
                },
            );
            if tx.send(event).await.is_err() || tx.send(progress).await.is_err() {
                return;
            }
        }
        let _ = tx
            .send(SseEvent::json(
                "complete",
                &types::PdfCompleteEvent {
                    total_pages: count as u64,
                    total_pages_in_document: in_doc as u64,
                    current_page: count as u64,
                    processing_time: Some(started.elapsed().as_secs_f64()),
                },
            ))
            .await;
    });
    let source: sse::EventSource =
        Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    sse::response(state, fault, "page", source)
}

/// A page of lines as layout regions: one text region per line, larger type labelled `title`.
fn page(number: usize, lines: &[algo::pdf::Line]) -> types::PdfPage {
    let mut sizes: Vec<f64> = lines.iter().map(|l| l.font_size).collect();
    sizes.sort_by(f64::total_cmp);
    let median = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0);
    let regions = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let label = if l.font_size > median * 1.3 {
                "title"
            } else {
                "text"
            };
            let content: types::RegionContent = serde_json::from_value(json!({
                "content_type": "text",
                "label": label,
                "text": l.text,
                "confidence": 1.0,
                "reading_order": i,
                "block_id": i,
            }))
            .expect("a text region matches the contract");
            types::LayoutRegion {
                bbox: vec![
                    vec![l.x1, l.y1],
                    vec![l.x2, l.y1],
                    vec![l.x2, l.y2],
                    vec![l.x1, l.y2],
                ],
                confidence: Some(1.0),
                content,
                coordinates: types::BoundingBox {
                    x1: l.x1,
                    y1: l.y1,
                    x2: l.x2,
                    y2: l.y2,
                },
            }
        })
        .collect();
    types::PdfPage {
        page_number: number as u64,
        layout_regions: regions,
        reading_order: (0..lines.len() as u64).collect(),
        text_blocks: Vec::new(),
    }
}
