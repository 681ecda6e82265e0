//! Inputs given as URLs: fetched with a timeout and a size cap.

use futures_util::StreamExt;

use super::reply::{invalid, Reply};
use crate::AppState;

/// Largest document fetched from a URL input.
const MAX_FETCH: usize = 32 << 20;

/// Fetches a URL input with a timeout and a size cap; a failure is a 422 naming the field.
pub(super) async fn fetch(state: &AppState, field: &str, url: &str) -> Result<Vec<u8>, Reply> {
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

pub(super) async fn fetch_text(state: &AppState, field: &str, url: &str) -> Result<String, Reply> {
    let bytes = fetch(state, field, url).await?;
    String::from_utf8(bytes)
        .map_err(|_| invalid(&["body", field], format!("{url} is not UTF-8 text")))
}
