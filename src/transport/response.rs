//! Reading a response for the caller: the exact body of a non-2xx answer (capped), the API
//! error built from it, and the headers that matter (request id, retry delay, deprecation).

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;

use crate::error::BookWyrmApiError;

/// At most this much of an error body is read.
const MAX_ERROR_BODY: usize = 1 << 20;

/// At most `max` bytes of a body as text, for debug logs.
pub(super) fn truncated(body: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(max)]).into_owned();
    if body.len() > max {
        format!("{text}… ({} bytes in all)", body.len())
    } else {
        text
    }
}

/// Reads at most [`MAX_ERROR_BODY`] bytes of a response; a broken body keeps what arrived.
pub(super) async fn read_capped(mut response: reqwest::Response) -> Bytes {
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
pub(super) fn api_error(status: u16, headers: &HeaderMap, body: &[u8]) -> BookWyrmApiError {
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

/// The body length a `Content-Length` header announces above `cap`, if it does.
pub(crate) fn announced_over(headers: &HeaderMap, cap: usize) -> Option<u64> {
    headers
        .get(reqwest::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|&len| len > cap as u64)
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
