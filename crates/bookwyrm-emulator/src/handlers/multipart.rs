//! Multipart uploads (`/classify`, `/extract-structure/sse`): the parts, read whole.

use axum::body::Bytes;
use axum::extract::Multipart;

use serde_json::json;

use super::reply::{error, invalid, Reply};

/// One part of a multipart body.
pub(super) struct Part {
    pub(super) name: String,
    pub(super) file_name: Option<String>,
    pub(super) data: Bytes,
}

/// Reads every part of a multipart body (the body limit applies: 413 beyond it).
pub(super) async fn read_parts(
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
pub(super) fn file_part(parts: &[Part]) -> Result<&Part, Reply> {
    parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or_else(|| invalid(&["body", "file"], "Field required"))
}
