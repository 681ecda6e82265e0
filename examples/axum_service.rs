//! A small web service over the SDK: the reference a service author copies.
//!
//! - one shared client (cheap to clone; its connections are kept between requests);
//! - `POST /chunk` (a text body): the phrasal spans, collected, as JSON;
//! - `POST /ask?q=...` (a text body): citations forwarded as NDJSON while they arrive, each
//!   answer ended by the service's own deadline if it runs too long (one stream cancelled
//!   with a reason, the others untouched);
//! - SDK errors mapped to HTTP statuses, with the API's request id in a header and
//!   `Retry-After` passed on; each failure logged on one line with its whole cause chain;
//! - graceful shutdown on Ctrl-C: stop accepting, let streams finish for a few seconds, then
//!   end what is still running (`close_now`; their errors still name their request).
//!
//! ```sh
//! cargo run -p bookwyrm-examples --example axum_service   # against the emulator, in-process
//! curl -d 'One. Two. Three.' localhost:3000/chunk
//! curl -d @data/country-of-the-blind.txt 'localhost:3000/ask?q=Who+is+Nunez'
//! ```
//! With `BOOKWYRM_API_URL` and `BOOKWYRM_API_KEY` set, it talks to that server instead.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bookwyrm::{
    AsyncBookWyrmClient, BookWyrmClientError, CitationRequest, CitationStreamEvent, PhrasalRequest,
    StreamExt, TextSpan,
};

/// How long streams in flight may run on after a shutdown signal.
const GRACE: Duration = Duration::from_secs(5);

/// The longest an `/ask` answer may stream: the service's own deadline.
const ASK_DEADLINE: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Without a configured server, the emulator on loopback stands in for the API.
    let _emulator;
    let client = if std::env::var_os("BOOKWYRM_API_URL").is_some() {
        AsyncBookWyrmClient::new()?
    } else {
        let emulator = bookwyrm_emulator::Emulator::builder().start().await?;
        let client = AsyncBookWyrmClient::builder()
            .base_url(emulator.base_url())
            .build()?;
        _emulator = emulator;
        client
    };
    let app = Router::new()
        .route("/chunk", post(chunk))
        .route("/ask", post(ask))
        .with_state(client.clone());
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on http://{addr}");
    let shutdown = {
        let client = client.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("shutting down: {GRACE:?} for streams in flight");
            client.close(); // new calls fail with Closed (mapped to 503)
            let client = client.clone();
            tokio::spawn(async move {
                tokio::time::sleep(GRACE).await;
                client.close_now(); // whatever still runs ends now
            });
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// `POST /chunk`: the text's phrases with their offsets, as one JSON array, with the API's
/// request id in a header.
async fn chunk(State(client): State<AsyncBookWyrmClient>, text: String) -> Response {
    let mut stream = match client
        .stream_process_text(PhrasalRequest::from_text(text))
        .await
    {
        Ok(stream) => stream,
        Err(e) => return error_response("/chunk", &e),
    };
    // `collect_phrases` borrows the stream: its request id and resumes stay readable.
    match stream.collect_phrases().await {
        Ok(spans) => {
            if stream.resumes() > 0 {
                eprintln!(
                    "/chunk: request {:?} resumed {} times",
                    stream.request_id(),
                    stream.resumes()
                );
            }
            let mut response = axum::Json(spans).into_response();
            if let Some(id) = stream
                .request_id()
                .and_then(|id| HeaderValue::from_str(id).ok())
            {
                response.headers_mut().insert("x-upstream-request-id", id);
            }
            response
        }
        Err(e) => error_response("/chunk", &e),
    }
}

/// The question of `POST /ask`.
#[derive(serde::Deserialize)]
struct Ask {
    q: String,
}

/// `POST /ask?q=...`: the text split into paragraphs, and citations answering `q` forwarded
/// as NDJSON lines as they arrive. An error before the first citation is an HTTP status; one
/// after it is a last `{"error": ...}` line (the status is sent by then).
async fn ask(
    State(client): State<AsyncBookWyrmClient>,
    Query(Ask { q }): Query<Ask>,
    text: String,
) -> Response {
    // Paragraphs of the text with its line ends made `\n` (offsets count in that text).
    let text = text.replace("\r\n", "\n");
    let mut offset = 0;
    let chunks: Vec<TextSpan> = text
        .split("\n\n")
        .filter_map(|p| {
            let start = offset;
            offset += p.chars().count() + 2;
            (!p.trim().is_empty()).then(|| TextSpan::new(start as u64, p))
        })
        .collect();
    let mut stream = match client
        .stream_citations(CitationRequest::from_chunks(chunks, q))
        .await
    {
        Ok(s) => s,
        Err(e) => return error_response("/ask", &e),
    };
    // The service's own deadline for this answer: it ends this stream only, with a reason
    // that its error (and the metric outcome `cancelled`) carries.
    let canceller = stream.canceller();
    let deadline = AbortOnDrop(tokio::spawn(async move {
        tokio::time::sleep(ASK_DEADLINE).await;
        canceller.cancel(format!("/ask ran past its {ASK_DEADLINE:?}"));
    }));
    let lines = stream.filter_map(move |item| {
        // The timer lives as long as the answer (axum drops it when its caller goes away).
        let _deadline = &deadline;
        async move {
            match item {
                Ok(CitationStreamEvent::Citation(c)) => Some(Ok::<_, std::io::Error>(line(&c))),
                Ok(_) => None,
                // A malformed event: the stream goes on; skip it.
                Err(e) if !e.ends_stream() => None,
                Err(e) => {
                    eprintln!("/ask: {}", e.report());
                    Some(Ok(line(&serde_json::json!({
                        "error": e.to_string(),
                        "request_id": e.request_id(),
                    }))))
                }
            }
        }
    });
    let mut response = Response::new(Body::from_stream(lines));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-ndjson"),
    );
    response
}

/// Stops a timer task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn line(value: &impl serde::Serialize) -> String {
    let mut s = serde_json::to_string(value).unwrap_or_default();
    s.push('\n');
    s
}

/// An SDK error as this service's answer: the caller's mistakes are 4xx, the API's trouble is
/// 502/503/504, the API's request id goes along for support, and its `Retry-After` is passed
/// on. The service's log gets the whole cause chain on one line.
fn error_response(route: &str, e: &BookWyrmClientError) -> Response {
    eprintln!("{route}: {}", e.report());
    let status = match e {
        BookWyrmClientError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        BookWyrmClientError::Api(api) if api.status_code() == 429 => StatusCode::TOO_MANY_REQUESTS,
        BookWyrmClientError::Api(api) if api.status_code() == 422 => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        BookWyrmClientError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
        // Shutting down: before the call, or ended in flight by `close_now`.
        BookWyrmClientError::Closed(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_GATEWAY,
    };
    let body = serde_json::json!({
        "error": e.to_string(),
        "retryable": e.is_retryable(),
        "attempts": e.attempts(),
    });
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Some(id) = e.request_id().and_then(|id| HeaderValue::from_str(id).ok()) {
        headers.insert("x-upstream-request-id", id);
    }
    if let Some(wait) = e.retry_after() {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        headers.insert("retry-after", HeaderValue::from(secs));
    }
    response
}
